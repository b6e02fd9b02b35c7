"""Epoch batches on the small profile: local pool and Ray give the same public signals, and the
batch survives corrupt and foreign statements, accounts below margin, killed workers,
interruptions, truncated and tampered bundles; its verifier reports every bundle's holder.

A venue publishes an epoch of nine accounts (eight healthy ones derived from the examples, books
x1 and x3, and the insolvent example); the published folder then gets a truncated statement and
one whose book was edited after the venue issued it. It is proven once on the local pool (session
fixture) and once on a Ray head started for the test on 127.0.0.1. The keys and the venue's key
are session fixtures of ``tests/conftest.py``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from prover.batch import BatchOptions, BatchSummary, plan_batch, run_batch
from prover.batch_files import EPOCH_NAME, STATEMENTS_DIR, bundle_path, read_epoch, shortfall_path
from prover.batch_pool import run_pool
from prover.batch_verify import load_holders
from prover.batch_worker import Outcome
from prover.setup import KeySet
from zkmargin.bundle import ProofBundle
from zkmargin.cli import main
from zkmargin.errors import InputError
from zkmargin.io import load_model
from zkmargin.models import LedgerEntry, RiskSnapshot
from zkmargin.venue import build_epoch, generate_key, public_key_hex, publish

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SNAPSHOT = EXAMPLES / "snapshot_span16.json"
HEALTHY = ("hedged_market_maker", "naked_short_calls", "delta_neutral_straddle", "futures_basis_trade")
SCALES = (1, 3)
PROVEN = [f"{name}-x{factor}" for name in HEALTHY for factor in SCALES]
HOLDERS = {name: f"0x{number + 1:040x}" for number, name in enumerate([*PROVEN, "insolvent"])}
"""Each account's registered holder (an EVM address)."""


def _scaled(node: Any, factor: int) -> Any:
    """An account's JSON with every quantity and amount multiplied by ``factor``."""
    if isinstance(node, dict):
        return {key: str(Decimal(value) * factor) if key in ("quantity", "amount") else _scaled(value, factor)
                for key, value in node.items()}
    if isinstance(node, list):
        return [_scaled(item, factor) for item in node]
    return node


def _entry(name: str, data: dict[str, Any]) -> LedgerEntry:
    return LedgerEntry.model_validate_json(json.dumps({**data, "account_id": name, "holder": HOLDERS[name]}))


@pytest.fixture(scope="session")
def epoch_dir(tmp_path_factory: pytest.TempPathFactory, venue_key: Ed25519PrivateKey) -> Path:
    """The venue's published epoch of the nine accounts, plus a truncated statement (``corrupt``)
    and one whose book was edited after it was issued (``edited``: a copy of a healthy account
    with a position dropped)."""
    folder = tmp_path_factory.mktemp("epoch")
    entries = [_entry(f"{name}-x{factor}", _scaled(json.loads((EXAMPLES / f"{name}.json").read_text()), factor))
               for name in HEALTHY for factor in SCALES]
    entries.append(_entry("insolvent", json.loads((EXAMPLES / "insolvent.json").read_text())))
    publish(build_epoch(entries, load_model(RiskSnapshot, SNAPSHOT), venue_key, workers=1), folder)
    statements = folder / STATEMENTS_DIR
    (statements / "corrupt.json").write_text((statements / "insolvent.json").read_text()[:80])
    edited = json.loads((statements / "insolvent.json").read_text())
    edited["account_id"] = "edited"
    edited["account"]["positions"] = edited["account"]["positions"][1:]
    (statements / "edited.json").write_text(json.dumps(edited))
    return folder


@pytest.fixture(scope="session")
def venue_pub(venue_key: Ed25519PrivateKey) -> str:
    return public_key_hex(venue_key.public_key())


def _subset(epoch_dir: Path, target: Path, names: list[str]) -> Path:
    """A published epoch holding only the statements of ``names``."""
    (target / STATEMENTS_DIR).mkdir(parents=True)
    shutil.copy(epoch_dir / EPOCH_NAME, target / EPOCH_NAME)
    for name in names:
        shutil.copy(epoch_dir / STATEMENTS_DIR / f"{name}.json", target / STATEMENTS_DIR / f"{name}.json")
    return target


def _prove(epoch_dir: Path, out: Path, venue_pub: str, *args: str) -> Result:
    return CliRunner().invoke(main, ["batch", "prove", str(epoch_dir), str(SNAPSHOT), "--venue-key", venue_pub,
                                     "-o", str(out), "--workers", "2", *args])


def _verify(out: Path, keys: KeySet, epoch_dir: Path, venue_pub: str, *args: str) -> Result:
    return CliRunner().invoke(main, ["batch", "verify", str(out), "--epoch-file", str(epoch_dir / EPOCH_NAME),
                                     "--venue-key", venue_pub, "--snapshot", str(SNAPSHOT), "--model", "portfolio",
                                     "--vk", str(keys.vk), "--workers", "2", *args])


def _holders_file(tmp_path: Path, names: list[str]) -> str:
    path = tmp_path / "holders.json"
    path.write_text(json.dumps([HOLDERS[name] for name in names]))
    return str(path)


def _lines(result: Result) -> dict[str, str]:
    """``<account or holder>: <rest>`` of every line but the last (the count)."""
    return dict(line.split(": ", 1) for line in result.output.splitlines()[:-1])


def _signals(out: Path) -> dict[str, list[int]]:
    return {name: load_model(ProofBundle, bundle_path(out, name)).public_signals.as_list() for name in PROVEN}


@pytest.fixture(scope="session")
def pool_out(epoch_dir: Path, venue_pub: str, keys: KeySet,
             tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Result]:
    """The epoch proven by ``zkmargin batch prove`` on the local pool (2 workers)."""
    out = tmp_path_factory.mktemp("pool")
    return out, _prove(epoch_dir, out, venue_pub)


def test_pool_proves_the_healthy_and_reports_the_rest(pool_out: tuple[Path, Result]) -> None:
    out, result = pool_out
    assert result.exit_code == 1, result.output  # not every account has a bundle
    assert "corrupt: invalid:" in result.output and "malformed JSON" in result.output
    assert "edited: invalid:" in result.output and "do not open" in result.output
    assert "insolvent: below margin: BELOW MARGIN" in result.output
    assert sorted(path.name for path in out.glob("*.proof.json")) == sorted(f"{n}.proof.json" for n in PROVEN)
    shortfall = json.loads(shortfall_path(out, "insolvent").read_text())
    assert Decimal(shortfall["shortfall_usd"]) == Decimal(shortfall["required_usd"]) - Decimal(shortfall["equity_usd"]) > 0
    summary = json.loads((out / "batch-summary.json").read_text())
    totals = summary["totals"]
    assert (totals["accounts"], totals["proven"], totals["below_margin"], totals["invalid"], totals["failed"]) == (11, 8, 1, 2, 0)
    assert totals["proofs_per_second"] > 0
    by_name = {entry["account"]: entry for entry in summary["accounts"]}
    assert all(by_name[name]["status"] == "proven" and by_name[name]["seconds"] > 0 for name in PROVEN)
    assert all(load_model(ProofBundle, bundle_path(out, name)).public_signals.holder == str(int(HOLDERS[name], 16))
               for name in PROVEN)


def test_batch_verify_accepts_every_bundle_of_the_expected_holders_and_names_each_holder(
        pool_out: tuple[Path, Result], epoch_dir: Path, venue_pub: str, keys: KeySet, tmp_path: Path) -> None:
    holders = _holders_file(tmp_path, PROVEN)
    for verifier in ("py_ecc", "native"):
        result = _verify(pool_out[0], keys, epoch_dir, venue_pub, "--holders", holders, "--backend", verifier)
        assert result.exit_code == 0, result.output
        assert _lines(result) == {name: f"holder {HOLDERS[name]}: valid" for name in PROVEN}
        assert result.output.splitlines()[-1].startswith("8/8 checks valid")
    one_per_line = tmp_path / "holders.txt"
    one_per_line.write_text("\n".join(str(int(HOLDERS[name], 16)) for name in PROVEN) + "\n")
    assert _verify(pool_out[0], keys, epoch_dir, venue_pub, "--holders", str(one_per_line)).exit_code == 0
    anyone = _verify(pool_out[0], keys, epoch_dir, venue_pub, "--any-holder")
    assert anyone.exit_code == 0 and _lines(anyone) == _lines(result)


def test_batch_verify_requires_the_expected_holders_or_any_holder_spelled_out(
        pool_out: tuple[Path, Result], epoch_dir: Path, venue_pub: str, keys: KeySet, tmp_path: Path) -> None:
    for args in ((), ("--any-holder", "--holders", _holders_file(tmp_path, PROVEN))):
        result = _verify(pool_out[0], keys, epoch_dir, venue_pub, *args)
        assert result.exit_code == 2 and "--holders FILE, or accept any holder with --any-holder" in result.output
        assert len(result.output.strip().splitlines()) == 1


def test_batch_verify_names_truncated_tampered_foreign_and_missing_bundles(
        pool_out: tuple[Path, Result], epoch_dir: Path, venue_pub: str, keys: KeySet, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    for path in pool_out[0].glob("*.proof.json"):
        (out / path.name).write_text(path.read_text())
    truncated, tampered, foreign, missing = PROVEN[:4]
    text = bundle_path(out, truncated).read_text()
    bundle_path(out, truncated).write_text(text[: len(text) // 2])
    data = json.loads(bundle_path(out, tampered).read_text())
    data["proof"]["pi_a"], data["proof"]["pi_c"] = data["proof"]["pi_c"], data["proof"]["pi_a"]
    bundle_path(out, tampered).write_text(json.dumps(data))
    bundle_path(out, missing).unlink()
    expected = [name for name in PROVEN if name != foreign]
    result = _verify(out, keys, epoch_dir, venue_pub, "--holders", _holders_file(tmp_path, expected))
    assert result.exit_code == 1, result.output
    lines = _lines(result)
    unmet = [f"holder {HOLDERS[name]}" for name in (truncated, tampered, missing)]  # expected, no valid bundle
    assert lines.keys() == {*(name for name in PROVEN if name != missing), *unmet}
    assert lines[truncated].startswith("invalid: unreadable bundle") and "malformed JSON" in lines[truncated]
    assert lines[tampered] == f"holder {HOLDERS[tampered]}: invalid: the Groth16 proof does not verify for its public signals"
    assert lines[foreign] == f"holder {HOLDERS[foreign]}: invalid: proof is about holder {HOLDERS[foreign]}, not an expected holder"
    assert all(lines[holder] == "invalid: no valid bundle for this expected holder" for holder in unmet)
    assert sum(rest.endswith(": valid") for rest in lines.values()) == 4
    assert result.output.splitlines()[-1].startswith("4/10 checks valid")


def test_batch_verify_rejects_an_epoch_file_the_venue_did_not_sign(
        pool_out: tuple[Path, Result], epoch_dir: Path, keys: KeySet, tmp_path: Path) -> None:
    other = public_key_hex(generate_key().public_key())
    result = _verify(pool_out[0], keys, epoch_dir, other, "--any-holder")
    assert result.exit_code == 1 and result.output.splitlines()[-1].startswith("0/8 checks valid")
    assert all("the signature is not the venue key's" in rest for rest in _lines(result).values())


def test_batch_prove_refuses_a_forged_epoch_or_another_snapshot(
        epoch_dir: Path, venue_pub: str, tmp_path: Path) -> None:
    forged = _subset(epoch_dir, tmp_path / "forged", PROVEN[:1])
    data = json.loads((forged / EPOCH_NAME).read_text())
    data["accounts"] += 1
    (forged / EPOCH_NAME).write_text(json.dumps(data))
    result = _prove(forged, tmp_path / "out", venue_pub)
    assert result.exit_code == 2 and "the signature is not the venue key's" in result.output
    snapshot = json.loads(SNAPSHOT.read_text())
    snapshot["params"]["mm_factor_bps"] -= 1
    (tmp_path / "other.json").write_text(json.dumps(snapshot))
    result = CliRunner().invoke(main, ["batch", "prove", str(epoch_dir), str(tmp_path / "other.json"),
                                       "--venue-key", venue_pub, "-o", str(tmp_path / "out")])
    assert result.exit_code == 2 and "is not the snapshot the venue signed" in result.output
    assert len(result.output.strip().splitlines()) == 1 and not (tmp_path / "out").exists()


def test_ray_cluster_gives_the_pool_s_public_signals(ray_head: str, pool_out: tuple[Path, Result], epoch_dir: Path,
                                                    venue_pub: str, keys: KeySet, tmp_path: Path) -> None:
    out = tmp_path / "ray"
    result = _prove(epoch_dir, out, venue_pub, "--ray", ray_head)
    assert result.exit_code == 1 and "insolvent: below margin" in result.output, result.output
    assert _signals(out) == _signals(pool_out[0])
    assert _verify(out, keys, epoch_dir, venue_pub, "--any-holder").output.splitlines()[-1].startswith("8/8 checks valid")
    summary = json.loads((out / "batch-summary.json").read_text())
    assert summary["executor"].startswith(f"Ray cluster {ray_head}")


def test_ray_missing_says_how_to_install(epoch_dir: Path, venue_pub: str, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)
    result = _prove(epoch_dir, tmp_path / "out", venue_pub, "--ray", "auto")
    assert result.exit_code == 2 and "pip install 'zkmargin[cluster]'" in result.output
    assert len(result.output.strip().splitlines()) == 1


def _run(epoch_dir: Path, out: Path, venue_key: Ed25519PrivateKey, on_outcome: Any = lambda _: None) -> BatchSummary:
    return run_batch(plan_batch(epoch_dir, SNAPSHOT, venue_key.public_key(), out, BatchOptions(workers=2)), on_outcome)


def test_a_killed_worker_s_account_is_retried(epoch_dir: Path, venue_key: Ed25519PrivateKey, keys: KeySet,
                                             tmp_path: Path) -> None:
    names = PROVEN[:4]
    seen: list[Outcome] = []
    killed: list[str] = []

    def kill_a_busy_worker(outcome: Outcome) -> None:
        # once two workers have reported, the other one is busy with the next account: kill it
        if not killed and seen and seen[0].worker != outcome.worker:
            killed.append(seen[0].worker)
            os.kill(int(seen[0].worker.rsplit(":", 1)[1]), signal.SIGKILL)
        seen.append(outcome)

    summary = _run(_subset(epoch_dir, tmp_path / "epoch", names), tmp_path / "out", venue_key, kill_a_busy_worker)
    assert killed and summary.restarts == 1
    assert [(o.name, o.status) for o in summary.outcomes] == [(name, "proven") for name in sorted(names)]
    assert [o.worker for o in seen].count(killed[0]) == 1 and max(o.attempts for o in seen) == 2
    assert sorted(p.name for p in (tmp_path / "out").glob("*.proof.json")) == sorted(f"{n}.proof.json" for n in names)


class Interrupted(Exception):
    """Stands for Ctrl-C after the first result."""


def test_a_rerun_after_an_interrupted_batch_proves_only_the_missing_accounts(
        epoch_dir: Path, venue_key: Ed25519PrivateKey, keys: KeySet, tmp_path: Path) -> None:
    epoch = _subset(epoch_dir, tmp_path / "epoch", PROVEN[4:7])
    out = tmp_path / "out"
    first: list[Outcome] = []

    def interrupt(outcome: Outcome) -> None:
        first.append(outcome)
        raise Interrupted

    with pytest.raises(Interrupted):
        _run(epoch, out, venue_key, interrupt)
    kept = bundle_path(out, first[0].name).read_bytes()
    assert [p.name for p in out.glob("*.proof.json")] == [f"{first[0].name}.proof.json"]
    summary = _run(epoch, out, venue_key)
    assert {o.name: o.status for o in summary.outcomes} == {
        name: "skipped" if name == first[0].name else "proven" for name in PROVEN[4:7]}
    assert bundle_path(out, first[0].name).read_bytes() == kept


def test_a_rerun_proves_again_every_tampered_earlier_bundle(
        pool_out: tuple[Path, Result], epoch_dir: Path, venue_key: Ed25519PrivateKey, keys: KeySet,
        tmp_path: Path) -> None:
    """Each earlier bundle below verifies as a proof, or carries a real proof, yet none is this
    account's proof at this threshold: a rerun must prove each again and skip only the intact one."""
    names = [PROVEN[0], PROVEN[1], PROVEN[2], PROVEN[3]]
    intact, swapped, lowered, forged = names
    out = tmp_path / "out"
    out.mkdir()
    for name in names:
        shutil.copy(bundle_path(pool_out[0], name), bundle_path(out, name))
    shutil.copy(bundle_path(pool_out[0], PROVEN[4]), bundle_path(out, swapped))  # another holder's valid proof
    data = json.loads(bundle_path(out, lowered).read_text())
    data["public_signals"]["threshold_bps"] = "9999"  # claims less than the batch's threshold (and no longer pairs)
    bundle_path(out, lowered).write_text(json.dumps(data))
    data = json.loads(bundle_path(out, forged).read_text())
    data["proof"]["pi_c"] = data["proof"]["pi_a"]  # the account's own signals, a forged proof
    bundle_path(out, forged).write_text(json.dumps(data))
    summary = _run(_subset(epoch_dir, tmp_path / "epoch", names), out, venue_key)
    assert {o.name: o.status for o in summary.outcomes} == {
        intact: "skipped", swapped: "proven", lowered: "proven", forged: "proven"}
    signals = {name: load_model(ProofBundle, bundle_path(out, name)).public_signals for name in names}
    assert all(signals[name].holder == str(int(HOLDERS[name], 16)) and signals[name].threshold_bps == "10000"
               for name in names)


def test_statements_are_checked_against_the_published_epoch(epoch_dir: Path, tmp_path: Path) -> None:
    epoch = _subset(epoch_dir, tmp_path / "epoch", [PROVEN[0], "corrupt", "edited"])
    statements = epoch / STATEMENTS_DIR
    (statements / f"{PROVEN[0]}.json").rename(statements / "renamed.json")
    other = json.loads((epoch_dir / STATEMENTS_DIR / f"{PROVEN[1]}.json").read_text())
    other["epoch"] += 1
    (statements / f"{PROVEN[1]}.json").write_text(json.dumps(other))
    errors = {entry.name: entry.error for entry in read_epoch(epoch).entries}
    assert all(errors.values()) and errors.keys() == {"corrupt", "edited", "renamed", PROVEN[1]}
    assert "malformed JSON" in errors["corrupt"] and "do not open" in errors["edited"]
    assert "not the account its file name says" in errors["renamed"]
    assert f"epoch {other['epoch']}, not of the published" in errors[PROVEN[1]]


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


def test_expected_holders_load_from_a_json_list_or_lines_and_bad_ones_are_named(tmp_path: Path) -> None:
    path = tmp_path / "holders"
    path.write_text('["0x00000000000000000000000000000000000000aB", "12", 7]')
    assert load_holders(path) == {0xAB, 12, 7}
    path.write_text("\n0xab\n 12 \n\n")
    assert load_holders(path) == {0xAB, 12}
    for text, error in (("", "no holders"), ("[]", "no holders"), ('["0xzz"]', "holder '0xzz'"),
                        ("[true]", "expected a JSON list of holders"), ("[1,", "malformed JSON"),
                        (str(2**256), "holder")):
        path.write_text(text)
        with pytest.raises(InputError, match=re.escape(error)):
            load_holders(path)
