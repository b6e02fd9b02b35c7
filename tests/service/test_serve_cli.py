"""``zkmargin serve`` refuses to start without what its policy needs, in one line (exit 2)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from prover.setup import KeySet
from tests.service.conftest import EXAMPLES
from zkmargin.cli import main


def _serve(keys: KeySet, published: Path, *extra: str, env: dict[str, str]) -> tuple[int, str]:
    args = ["serve", "--venue-key", str(published / "venue.pub"), "--vk", str(keys.vk), "--model", "portfolio",
            "--holders", str(EXAMPLES / "holders.json"), *extra]
    r = CliRunner().invoke(main, args, env=env)
    return r.exit_code, r.output


def test_serve_needs_a_write_key_and_a_database_it_can_open(keys: KeySet, published: Path, tmp_path: Path) -> None:
    assert _serve(keys, published, env={"ZKMARGIN_API_KEY": ""}) == (
        2, "error: set ZKMARGIN_API_KEY to the write key (at least 16 characters; e.g. openssl rand -hex 16)\n")
    code, out = _serve(keys, published, "--db", f"sqlite:///{tmp_path}/no/such/dir/x.db",
                       env={"ZKMARGIN_API_KEY": "k" * 16})
    assert code == 2 and out.startswith("error: --db") and "unable to open database file" in out
    assert out.count("\n") == 1
    holders = tmp_path / "holders.json"
    holders.write_text('{"0xb522d572e97d82da713788719c24beca7f5cabc8": 0}')
    code, out = _serve(keys, published, "--holders", str(holders), env={"ZKMARGIN_API_KEY": "k" * 16})
    assert (code, out) == (2, f"error: {holders}: holder 0xb522d572e97d82da713788719c24beca7f5cabc8: the minimum "
                              f"threshold is an integer in [1, 2^20) bps\n")
