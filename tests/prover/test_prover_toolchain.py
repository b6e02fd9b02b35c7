"""prover.toolchain: finding Node/npm, node_modules freshness, and the one subprocess helper."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from prover.toolchain import (
    PROJECT_ROOT,
    find_node,
    find_npm,
    node_modules_current,
    run_tool,
    snarkjs_command,
)
from zkmargin.errors import ProverError, ToolchainError


def test_missing_node_names_the_fix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolchainError) as raised:
        find_node()
    assert "`node` was not found" in str(raised.value)
    assert f"install Node.js >= 18 and run `npm ci` in {PROJECT_ROOT}" in str(raised.value)


def test_missing_node_stops_every_tool_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolchainError, match="install Node.js"):
        snarkjs_command()


def test_missing_npm_names_the_fix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolchainError, match=r"`npm` was not found .* run `npm ci`"):
        find_npm()


def test_installed_node_modules_match_the_lock_file() -> None:
    assert node_modules_current(PROJECT_ROOT)


def test_node_modules_are_stale_when_the_lock_file_pins_another_version(tmp_path: Path) -> None:
    lock = json.loads((PROJECT_ROOT / "package-lock.json").read_text(encoding="utf-8"))
    (tmp_path / "node_modules").mkdir()
    (tmp_path / "node_modules" / ".package-lock.json").write_text(
        json.dumps(lock), encoding="utf-8"
    )
    lock["packages"]["node_modules/snarkjs"]["version"] = "0.7.5"
    (tmp_path / "package-lock.json").write_text(json.dumps(lock), encoding="utf-8")
    assert not node_modules_current(tmp_path)


def test_optional_packages_npm_skipped_do_not_make_node_modules_stale(tmp_path: Path) -> None:
    lock = json.loads((PROJECT_ROOT / "package-lock.json").read_text(encoding="utf-8"))
    (tmp_path / "node_modules").mkdir()
    (tmp_path / "node_modules" / ".package-lock.json").write_text(
        json.dumps(lock), encoding="utf-8"
    )
    lock["packages"]["node_modules/fsevents"] = {"version": "2.3.3", "optional": True}
    (tmp_path / "package-lock.json").write_text(json.dumps(lock), encoding="utf-8")
    assert node_modules_current(tmp_path)


def test_node_modules_are_stale_when_absent(tmp_path: Path) -> None:
    shutil.copy(PROJECT_ROOT / "package-lock.json", tmp_path / "package-lock.json")
    assert not node_modules_current(tmp_path)


def test_failed_tool_raises_with_its_last_lines(tmp_path: Path) -> None:
    script = "import sys; print('working'); print('\\x1b[31mboom: bad input\\x1b[0m', file=sys.stderr); sys.exit(3)"
    with pytest.raises(ProverError) as raised:
        run_tool([sys.executable, "-c", script], cwd=tmp_path, what="demo tool")
    message = str(raised.value)
    assert message.startswith("demo tool failed (exit code 3):")
    assert "boom: bad input" in message
    assert "\x1b" not in message


def test_accepted_exit_codes_return_the_output(tmp_path: Path) -> None:
    completed = run_tool(
        [sys.executable, "-c", "import sys; print(input()); sys.exit(1)"],
        cwd=tmp_path,
        what="echo",
        stdin="secret\n",
        accept=(0, 1),
    )
    assert (completed.returncode, completed.stdout) == (1, "secret\n")


def test_missing_executable_is_a_toolchain_error(tmp_path: Path) -> None:
    with pytest.raises(ToolchainError, match="not found"):
        run_tool([tmp_path / "no-such-tool"], cwd=tmp_path, what="ghost")


def test_progress_spinner_keeps_stdin_of_a_slow_tool(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    script = "import sys, time; time.sleep(1.5); print(sys.stdin.read().strip()[::-1])"
    completed = run_tool(
        [sys.executable, "-c", script], cwd=tmp_path, what="slow", stdin="abc\n", progress=True
    )
    assert completed.stdout == "cba\n"
    assert capfd.readouterr().err.splitlines()[-1].startswith("slow: finished in")
