"""Caching helpers: the per-user cache dir, file hashing with a memo, and a cross-process lock
that keeps two processes from building the same cached artefact at once."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HASH_MEMO = "sha256.json"


def cache_dir() -> Path:
    """``~/.cache/zkmargin``, resolved from the current home directory at each call."""
    return Path.home() / ".cache" / "zkmargin"


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def cached_sha256(path: Path) -> str:
    """Hex sha256 of a large file, memoised in ``<cache>/sha256.json`` by resolved path, size and
    modification time, so a 150 MB ptau is hashed once per change rather than once per use."""
    resolved = path.resolve()
    status = resolved.stat()
    stamp = {"size": status.st_size, "mtime_ns": status.st_mtime_ns}
    memo_path = cache_dir() / HASH_MEMO
    try:
        memo = json.loads(memo_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        memo = {}
    entry = memo.get(str(resolved))
    if isinstance(entry, dict) and {key: entry.get(key) for key in stamp} == stamp:
        return str(entry["sha256"])
    digest = sha256_file(resolved)
    memo[str(resolved)] = {**stamp, "sha256": digest}
    memo_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        "w", dir=memo_path.parent, delete=False, encoding="utf-8"
    ) as tmp:
        json.dump(memo, tmp, indent=1)
    os.replace(tmp.name, memo_path)
    return digest


def sweep_scratch(folder: Path, prefix: str) -> None:
    """Remove the ``<prefix>*`` scratch folders a killed run left in ``folder``.

    Call it only while holding the lock that guards the work making them: then no live run can
    own one.
    """
    for stale in folder.glob(f"{prefix}*"):
        if stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)


@contextmanager
def exclusive_lock(path: Path, *, waiting: str | None = None) -> Iterator[None]:
    """Hold an exclusive advisory lock on ``path`` (created if absent) for the ``with`` body;
    another process asking for the same lock waits until it is released, first printing
    ``waiting`` (what it waits for) on stderr when given."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if waiting is not None:
                print(f"zkmargin: {waiting} (lock {path})", file=sys.stderr, flush=True)
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
