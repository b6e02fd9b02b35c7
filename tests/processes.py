"""Watching process trees through /proc (Linux): descendants, liveness, command lines, waiting."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path


def children(pid: int) -> set[int]:
    """Every live descendant of ``pid`` (from /proc/<pid>/task/*/children)."""
    found: set[int] = set()
    stack = [pid]
    while stack:
        for listing in Path(f"/proc/{stack.pop()}/task").glob("*/children"):
            try:
                pids = [int(c) for c in listing.read_text().split()]
            except OSError:
                continue
            found.update(pids)
            stack.extend(pids)
    return found


def alive(pid: int) -> bool:
    """Running (not gone, not a zombie waiting to be reaped)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return False


def cmdline(pid: int) -> str:
    """The process's command line, arguments joined by spaces ("" once it is gone)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def wait_for(condition: Callable[[], object], seconds: float, what: str) -> object:
    """The first true value of ``condition()``, polled every 20 ms; AssertionError naming ``what``
    after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}")
