"""prover.lifetime: private files that vanish with their process, children that die with theirs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from prover.lifetime import private_file, private_root, sweep_private
from prover.toolchain import run_tool


def test_memfd_witness_has_no_name_on_disk_and_a_child_reads_it(tmp_path: Path) -> None:
    with private_file("witness.wtns") as (path, fds):
        path.write_bytes(b"secret witness")
        assert str(path).startswith("/proc/self/fd/") and fds
        read = run_tool(["cat", path], cwd=tmp_path, what="cat", fds=fds)
        assert read.stdout == "secret witness"
    assert not any(tmp_path.iterdir())


def test_without_memfd_the_file_is_in_a_0700_folder_removed_on_exit(monkeypatch: pytest.MonkeyPatch,
                                                                     tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delattr(os, "memfd_create")
    with private_file("witness.wtns") as (path, fds):
        path.write_bytes(b"secret witness")
        assert fds == () and path.parent.parent == private_root()
        assert path.parent.stat().st_mode & 0o777 == 0o700 and private_root().stat().st_mode & 0o777 == 0o700
    assert not path.exists() and not path.parent.exists()


def test_a_dead_process_s_private_folder_is_swept(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True).stdout.strip()
    stale, live = private_root() / f"{dead}-abc", private_root() / f"{os.getpid()}-def"
    for folder in (stale, live):
        folder.mkdir()
        (folder / "witness.wtns").write_bytes(b"secret")
    sweep_private(private_root())
    assert not stale.exists() and live.exists()
