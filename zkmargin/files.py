"""Input files read safely, output paths checked before work starts.

Every file a command reads goes through :func:`read_input`: it is opened without blocking and
refused unless it is a regular file, so a FIFO, a device or a directory given where a file is
expected is one error line instead of a hang or a traceback. Every output is checked by
:func:`check_output_file` / :func:`check_output_dir` before any expensive work, so a read-only or
missing folder is reported before a proof is computed rather than after.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
from pathlib import Path

from zkmargin.errors import InputError, OutputError, ZkMarginError

PROBE_BYTES = 4096
"""Bytes written (then removed) to check an output folder: one page, as much as a small output."""
FIELD_DECIMAL = re.compile(r"[0-9]{1,78}")
"""A field element as decimal text: ASCII digits only, at most 78 (r and q have 77), so that
``int()`` never meets Python's int-digit limit or a Unicode digit it cannot convert."""


def read_input(path: str | os.PathLike[str], what: str = "", error: type[ZkMarginError] = InputError) -> bytes:
    """The bytes of the regular file at ``path``; ``error`` (one line naming ``what``) otherwise.

    The file is opened with ``O_NONBLOCK`` and checked with ``fstat`` on the open descriptor, so
    a FIFO never blocks and the check and the read concern the same file.
    """
    name = f"{what}: {os.fspath(path)}" if what else os.fspath(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise error(f"{name}: no such file") from None
    except OSError as exc:
        raise error(f"{name}: cannot read: {exc.strerror}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise error(f"{name}: not a regular file")
    with os.fdopen(fd, "rb") as handle:
        try:
            return handle.read()
        except OSError as exc:
            raise error(f"{name}: cannot read: {exc.strerror}") from None


def require_regular_file(path: str | os.PathLike[str], what: str, error: type[ZkMarginError] = InputError) -> Path:
    """``path`` if it names an existing regular file (for files read in pieces, like a ptau)."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise error(f"{what}: {os.fspath(path)}: no such file") from None
    except OSError as exc:
        raise error(f"{what}: {os.fspath(path)}: cannot read: {exc.strerror}") from None
    if not stat.S_ISREG(mode):
        raise error(f"{what}: {os.fspath(path)}: not a regular file")
    return Path(path)


def check_output_dir(path: str | os.PathLike[str], what: str = "output folder") -> Path:
    """Create the folder ``path`` if needed and check that a file can be written in it.

    The check writes and removes a probe file, which also catches a read-only mount and a full
    disk (``ENOSPC`` on a non-empty write) that permission bits alone would not show.
    """
    folder = Path(path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".zkmargin-probe-")
        try:
            os.write(fd, b"\0" * PROBE_BYTES)
            os.fsync(fd)
        finally:
            os.close(fd)
            os.unlink(probe)
    except FileExistsError:
        raise OutputError(f"{what} {folder}: exists and is not a folder") from None
    except OSError as exc:
        raise OutputError(f"{what} {folder}: cannot write there: {exc.strerror}") from None
    return folder


def check_output_file(path: str | os.PathLike[str], what: str = "output") -> Path:
    """Check that ``path`` can be written (its folder writable, itself not a folder)."""
    target = Path(path)
    if target.is_dir():
        raise OutputError(f"{what} {target}: is a folder, expected a file name")
    check_output_dir(target.parent if target.parent != Path() else Path.cwd(), f"{what} {target}: folder")
    return target
