"""Lifetimes tied to a process: children that die with their parent, private files that die with
their process.

* :func:`die_with_parent` asks Linux to SIGKILL the calling process when its parent dies
  (``prctl(PR_SET_PDEATHSIG)``): batch workers and every tool started by
  :func:`prover.toolchain.run_tool` (snarkjs, circom) call it, so a ``kill -9`` of zkmargin leaves
  no orphan behind.
* :func:`private_file` gives a path to an in-memory file (``memfd_create``): a witness written
  there is never on disk and is freed when the last process holding it exits, however it exits.
  A child process reads it through the inherited descriptor (pass ``fds`` to ``run_tool``).
  Without memfd (not Linux), the file lives in a 0700 folder named after the process under
  ``~/.cache/zkmargin/private``, and folders of processes that no longer run are swept each time
  a new one is made.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from prover.cache import cache_dir

PR_SET_PDEATHSIG = 1
"""prctl option: the signal the kernel sends this process when its parent exits (linux/prctl.h)."""


def die_with_parent(parent_pid: int | None = None) -> None:
    """Have the kernel SIGKILL this process when its parent exits (Linux; no-op elsewhere).

    ``parent_pid``: the pid the parent had when it started us; if the parent died before this
    call (we were re-parented already), exit at once.
    """
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if parent_pid is not None and os.getppid() != parent_pid:
        os._exit(1)


@contextmanager
def private_file(name: str) -> Iterator[tuple[Path, tuple[int, ...]]]:
    """(path, descriptors a child needs to open it) of a private scratch file, gone on exit.

    With memfd the path is ``/proc/self/fd/<n>``: valid in this process and in a child that
    inherits descriptor n (hand it the returned descriptors), never a name on disk.
    """
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create(name, os.MFD_CLOEXEC)
        try:
            yield Path(f"/proc/self/fd/{fd}"), (fd,)
        finally:
            os.close(fd)
        return
    root = private_root()
    sweep_private(root)
    with tempfile.TemporaryDirectory(prefix=f"{os.getpid()}-", dir=root) as folder:  # mkdtemp: 0700
        yield Path(folder) / name, ()


def private_root() -> Path:
    """The 0700 parent of the fallback private folders."""
    root = cache_dir() / "private"
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    root.chmod(0o700)
    return root


def sweep_private(root: Path) -> None:
    """Remove the private folders of processes that are no longer running (a killed prover's)."""
    for folder in root.iterdir():
        pid = folder.name.split("-", 1)[0]
        if pid.isdigit() and not _running(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
