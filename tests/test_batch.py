"""Epoch batches on the small profile: local pool and Ray give the same public signals, and the
batch survives corrupt accounts, accounts below margin, killed workers, interruptions and
truncated bundles.

Ten accounts (eight healthy ones derived from the examples with new salts and scaled books, the
insolvent example, one corrupt file) are proven once on the local pool (session fixture) and
once on a Ray head started for the test on 127.0.0.1. The keys are the session fixture of
``tests/conftest.py``.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from prover.batch import BatchOptions, BatchSummary, plan_batch, run_batch
from prover.batch_files import bundle_path, read_accounts, shortfall_path
from prover.batch_pool import run_pool
from prover.batch_worker import Outcome
from prover.setup import KeySet
from zkmargin.bundle import ProofBundle
from zkmargin.cli import main
from zkmargin.commitment import commit_account
from zkmargin.io import load_model
from zkmargin.models import Account
from zkmargin.models.account import SALT_BITS
from zkmargin.profiles import get_profile

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SNAPSHOT = EXAMPLES / "snapshot_span16.json"
HEALTHY = ("hedged_market_maker", "naked_short_calls", "delta_neutral_straddle", "futures_basis_trade")
SCALES = (1, 3)
PROVEN = [f"{name}-x{factor}" for name in HEALTHY for factor in SCALES]


def _scaled(node: Any, factor: int) -> Any:
    """An account's JSON with every quantity and amount multiplied by ``factor``."""
    if isinstance(node, dict):
        return {key: str(Decimal(value) * factor) if key in ("quantity", "amount") else _scaled(value, factor)
                for key, value in node.items()}
    if isinstance(node, list):
        return [_scaled(item, factor) for item in node]
    return node


@pytest.fixture(scope="session")
def accounts_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Eight healthy accounts (examples, new salts, books x1 and x3), the insolvent example and a
    truncated file."""
    folder = tmp_path_factory.mktemp("accounts")
    rng = random.Random(9)
    for name in HEALTHY:
        data = json.loads((EXAMPLES / f"{name}.json").read_text())
        for factor in SCALES:
            account = {**_scaled(data, factor), "name": f"{name}-x{factor}", "salt": str(rng.getrandbits(SALT_BITS))}
            (folder / f"{name}-x{factor}.json").write_text(json.dumps(account))
    (folder / "insolvent.json").write_text((EXAMPLES / "insolvent.json").read_text())
    (folder / "corrupt.json").write_text((EXAMPLES / "naked_short_calls.json").read_text()[:60])
    return folder


def _subset(accounts_dir: Path, target: Path, names: list[str]) -> Path:
    target.mkdir()
    for name in names:
        (target / f"{name}.json").write_text((accounts_dir / f"{name}.json").read_text())
    return target


def _prove(accounts: Path, out: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["batch", "prove", str(accounts), str(SNAPSHOT), "-o", str(out), "--workers", "2",
                                     *args])


def _verify(out: Path, keys: KeySet, *args: str) -> Result:
    return CliRunner().invoke(main, ["batch", "verify", str(out), "--snapshot", str(SNAPSHOT), "--vk", str(keys.vk),
                                     "--workers", "2", *args])


def _signals(out: Path) -> dict[str, list[int]]:
    return {name: load_model(ProofBundle, bundle_path(out, name)).public_signals.as_list() for name in PROVEN}


def _commitments(accounts_dir: Path) -> dict[str, str]:
    small = get_profile("small")
    return {name: str(commit_account(load_model(Account, accounts_dir / f"{name}.json"), small)) for name in PROVEN}


@pytest.fixture(scope="session")
def pool_out(accounts_dir: Path, keys: KeySet, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Result]:
    """The ten accounts proven by ``zkmargin batch prove`` on the local pool (2 workers)."""
    out = tmp_path_factory.mktemp("pool")
    return out, _prove(accounts_dir, out)


def test_pool_proves_the_healthy_and_reports_the_rest(pool_out: tuple[Path, Result]) -> None:
    out, result = pool_out
    assert result.exit_code == 1, result.output  # not every account has a bundle
    assert "corrupt: invalid:" in result.output and "malformed JSON" in result.output
    assert "insolvent: below margin: BELOW MARGIN" in result.output
    assert sorted(path.name for path in out.glob("*.proof.json")) == sorted(f"{n}.proof.json" for n in PROVEN)
    shortfall = json.loads(shortfall_path(out, "insolvent").read_text())
    assert Decimal(shortfall["shortfall_usd"]) == Decimal(shortfall["required_usd"]) - Decimal(shortfall["equity_usd"]) > 0
    summary = json.loads((out / "batch-summary.json").read_text())
    totals = summary["totals"]
    assert (totals["accounts"], totals["proven"], totals["below_margin"], totals["invalid"], totals["failed"]) == (10, 8, 1, 1, 0)
    assert totals["proofs_per_second"] > 0
    by_name = {entry["account"]: entry for entry in summary["accounts"]}
    assert all(by_name[name]["status"] == "proven" and by_name[name]["seconds"] > 0 for name in PROVEN)


def test_batch_verify_accepts_every_bundle_with_the_expected_commitments(
        pool_out: tuple[Path, Result], accounts_dir: Path, keys: KeySet, tmp_path: Path) -> None:
    commitments = tmp_path / "commitments.json"
    commitments.write_text(json.dumps(_commitments(accounts_dir)))
    for verifier in ("py_ecc", "native"):
        result = _verify(pool_out[0], keys, "--commitments", str(commitments), "--backend", verifier)
        assert result.exit_code == 0, result.output
        assert result.output.startswith("8/8 bundles valid")


def test_batch_verify_names_truncated_tampered_and_mismatched_bundles(
        pool_out: tuple[Path, Result], accounts_dir: Path, keys: KeySet, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    for path in pool_out[0].glob("*.proof.json"):
        (out / path.name).write_text(path.read_text())
    truncated, tampered, mismatched, missing = PROVEN[:4]
    text = bundle_path(out, truncated).read_text()
    bundle_path(out, truncated).write_text(text[: len(text) // 2])
    data = json.loads(bundle_path(out, tampered).read_text())
    data["proof"]["pi_a"], data["proof"]["pi_c"] = data["proof"]["pi_c"], data["proof"]["pi_a"]
    bundle_path(out, tampered).write_text(json.dumps(data))
    bundle_path(out, missing).unlink()
    expected = _commitments(accounts_dir)
    expected[mismatched] = "7"
    commitments = tmp_path / "commitments.json"
    commitments.write_text(json.dumps(expected))
    result = _verify(out, keys, "--commitments", str(commitments))
    assert result.exit_code == 1, result.output
    lines = dict(line.split(": ", 1) for line in result.output.splitlines()[:-1])
    assert lines.keys() == {truncated, tampered, mismatched, missing}
    assert "unreadable bundle" in lines[truncated] and "malformed JSON" in lines[truncated]
    assert "does not verify" in lines[tampered]
    assert "is not the expected 7" in lines[mismatched]
    assert lines[missing] == "no bundle"
    assert result.output.splitlines()[-1].startswith("4/8 bundles valid")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def ray_head() -> Iterator[str]:
    """A Ray head on 127.0.0.1 (2 CPUs, no dashboard), stopped by its pid afterwards. Its workers
    import this checkout (PYTHONPATH), whatever else is installed."""
    pytest.importorskip("ray")
    port = _free_port()
    temp = tempfile.mkdtemp(prefix="zkray", dir="/tmp")  # Ray's socket paths must stay short
    log = Path(temp) / "head.log"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
           "RAY_USAGE_STATS_ENABLED": "0"}
    with log.open("w") as sink:
        head = subprocess.Popen(
            [sys.executable, "-m", "ray.scripts.scripts", "start", "--head", "--block", f"--port={port}",
             "--node-ip-address=127.0.0.1", "--include-dashboard=false", "--num-cpus=2",
             "--object-store-memory=100000000", "--disable-usage-stats", f"--temp-dir={temp}"],
            stdout=sink, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 120
        while "Ray runtime started" not in log.read_text():
            assert head.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.5)
        yield f"127.0.0.1:{port}"
    finally:
        head.send_signal(signal.SIGTERM)
        try:
            head.wait(timeout=60)
        except subprocess.TimeoutExpired:
            head.kill()
        shutil.rmtree(temp, ignore_errors=True)


def test_ray_cluster_gives_the_pool_s_public_signals(
        ray_head: str, pool_out: tuple[Path, Result], accounts_dir: Path, keys: KeySet, tmp_path: Path) -> None:
    out = tmp_path / "ray"
    result = _prove(accounts_dir, out, "--ray", ray_head)
    assert result.exit_code == 1 and "insolvent: below margin" in result.output, result.output
    assert _signals(out) == _signals(pool_out[0])
    assert _verify(out, keys).output.startswith("8/8 bundles valid")
    summary = json.loads((out / "batch-summary.json").read_text())
    assert summary["executor"].startswith(f"Ray cluster {ray_head}")


def test_ray_missing_says_how_to_install(accounts_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)
    result = _prove(accounts_dir, tmp_path / "out", "--ray", "auto")
    assert result.exit_code == 2 and "pip install 'zkmargin[cluster]'" in result.output
    assert len(result.output.strip().splitlines()) == 1


def _run(accounts: Path, out: Path, on_outcome: Any = lambda _: None) -> BatchSummary:
    return run_batch(plan_batch(accounts, SNAPSHOT, out, BatchOptions(workers=2)), on_outcome)


def test_a_killed_worker_s_account_is_retried(accounts_dir: Path, keys: KeySet, tmp_path: Path) -> None:
    names = PROVEN[:4]
    seen: list[Outcome] = []
    killed: list[str] = []

    def kill_a_busy_worker(outcome: Outcome) -> None:
        # once two workers have reported, the other one is busy with the next account: kill it
        if not killed and seen and seen[0].worker != outcome.worker:
            killed.append(seen[0].worker)
            os.kill(int(seen[0].worker.rsplit(":", 1)[1]), signal.SIGKILL)
        seen.append(outcome)

    summary = _run(_subset(accounts_dir, tmp_path / "accounts", names), tmp_path / "out", kill_a_busy_worker)
    assert killed and summary.restarts == 1
    assert [(o.name, o.status) for o in summary.outcomes] == [(name, "proven") for name in sorted(names)]
    assert [o.worker for o in seen].count(killed[0]) == 1 and max(o.attempts for o in seen) == 2
    assert sorted(p.name for p in (tmp_path / "out").glob("*.proof.json")) == sorted(f"{n}.proof.json" for n in names)


class Interrupted(Exception):
    """Stands for Ctrl-C after the first result."""


def test_a_rerun_after_an_interrupted_batch_proves_only_the_missing_accounts(
        accounts_dir: Path, keys: KeySet, tmp_path: Path) -> None:
    accounts = _subset(accounts_dir, tmp_path / "accounts", PROVEN[4:7])
    out = tmp_path / "out"
    first: list[Outcome] = []

    def interrupt(outcome: Outcome) -> None:
        first.append(outcome)
        raise Interrupted

    with pytest.raises(Interrupted):
        _run(accounts, out, interrupt)
    kept = bundle_path(out, first[0].name).read_bytes()
    assert [p.name for p in out.glob("*.proof.json")] == [f"{first[0].name}.proof.json"]
    summary = _run(accounts, out)
    assert {o.name: o.status for o in summary.outcomes} == {
        name: "skipped" if name == first[0].name else "proven" for name in PROVEN[4:7]}
    assert bundle_path(out, first[0].name).read_bytes() == kept


def test_accounts_from_jsonl_are_named_and_bad_lines_reported(tmp_path: Path) -> None:
    account = json.loads((EXAMPLES / "naked_short_calls.json").read_text())
    lines = [json.dumps({**account, "name": "alice"}), json.dumps({**account, "name": ""}), "",
             "{not json", json.dumps({**account, "name": "alice"}), json.dumps({**account, "name": "../evil"})]
    source = tmp_path / "accounts.jsonl"
    source.write_text("\n".join(lines) + "\n")
    entries = read_accounts(source)
    assert [(e.name, e.account is not None) for e in entries] == [
        ("alice", True), ("line2", True), ("line4", False), ("alice", False), ("../evil", False)]
    assert "malformed JSON" in entries[2].error and "duplicate" in entries[3].error
    assert "cannot be a file name" in entries[4].error


def _square_or_die(job: int) -> int:
    """Pool task for the retry test: job 13 kills its worker every time."""
    if job == 13:
        os.kill(os.getpid(), signal.SIGKILL)
    return job * job


def _no_setup() -> None:
    """Pool initializer of the retry test."""


def test_the_pool_gives_up_a_job_that_always_kills_its_worker() -> None:
    results: dict[int, int] = {}
    given_up: list[tuple[int, int]] = []
    restarts = run_pool([1, 13, 2, 3], _square_or_die, workers=2, initializer=_no_setup, initargs=(),
                        on_result=lambda job, result, _attempts: results.__setitem__(job, result),
                        on_give_up=lambda job, deaths: given_up.append((job, deaths)), max_attempts=3)
    # 13 breaks pool 1 (with others in flight, or not), then dies alone in pools 2 to 4; a fifth
    # pool runs whatever 13's first pool had not finished
    assert results == {1: 1, 2: 4, 3: 9} and given_up == [(13, 3)] and restarts in (3, 4)
