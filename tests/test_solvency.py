"""Venue-wide solvency on the small profile: one setup of the B = 2 batch circuit, one chain.

A ledger of 25 random accounts (every fourth one with a debt that puts it below MM) is published
as an epoch by the example venue, then proven as a chain of 13 batch proofs (the last one holds
one empty leaf): a first run loses a worker (killed) and is interrupted, a rerun through the CLI
resumes it; Ray actors (a local Ray head) prove two batches removed from it into the same chain.
The chain verifies with the engine's totals; cheating chains are refused, each either
by the chain check (:func:`verifier.solvency.check_solvency`, which names the link) or at the
R1CS (no witness, or an edited witness that breaks a constraint).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import signal
import subprocess
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from prover.margin import setup_circuit
from prover.r1cs import check_witness, read_r1cs
from prover.setup import KeySet
from prover.solvency import BatchJob, SolvencyPlan, SolvencyWorker, batch_inputs, plan_solvency, run_solvency
from prover.solvency_circuit import SolvencyCircuit
from prover.witness import WitnessError
from tests.conftest import ROOT, dev_ptau
from tests.processes import alive, children, cmdline, wait_for
from verifier import load_verifying_key
from verifier.solvency import check_solvency, load_chain
from zkmargin.cli import main
from zkmargin.errors import VerificationError
from zkmargin.io import load_model, parse_model, save_model
from zkmargin.models import Epoch, RiskSnapshot, Statement
from zkmargin.solvency import Totals, account_figures, engine_totals
from zkmargin.solvency_files import SolvencyBatchProof, SolvencyManifest, batch_path, manifest_path
from zkmargin.venue import build_epoch, public_key_hex, publish, random_ledger, read_ledger

ACCOUNTS = 25
SNAPSHOT = Path(__file__).resolve().parent.parent / "examples" / "snapshot_span16.json"


def write_ledger(snapshot: RiskSnapshot, path: Path, seed: int) -> Path:
    """Random accounts; every fourth one owes 3,000,000 USDC (below MM whatever its positions)."""
    lines = list(random_ledger(snapshot, ACCOUNTS, seed=seed))
    for line in lines[::4]:
        line["balances"] = [{"asset": 0, "amount": "-3000000"}]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


@dataclass(frozen=True)
class Venue:
    epoch_dir: Path
    ledger: Path
    key: Path


def publish_epoch(snapshot: RiskSnapshot, venue_key: Ed25519PrivateKey, out: Path, seed: int) -> Venue:
    out.mkdir()
    ledger = write_ledger(snapshot, out / "ledger.jsonl", seed)
    publish(build_epoch(read_ledger(ledger), snapshot, venue_key), out / "epoch")
    (out / "venue.pub").write_text(public_key_hex(venue_key.public_key()) + "\n")
    return Venue(out / "epoch", ledger, out / "venue.pub")


@pytest.fixture(scope="module")
def solvency_keys() -> KeySet:
    return setup_circuit(SolvencyCircuit.sized("portfolio", "small", 2), dev_ptau())


@pytest.fixture(scope="module")
def venue(snapshot: RiskSnapshot, venue_key: Ed25519PrivateKey, tmp_path_factory: pytest.TempPathFactory) -> Venue:
    return publish_epoch(snapshot, venue_key, tmp_path_factory.mktemp("solvency") / "venue", seed=5)


class Interrupted(Exception):
    """Stands for Ctrl-C after a few batches."""


@dataclass(frozen=True)
class Chain:
    out: Path
    plan: SolvencyPlan
    first_files: dict[str, bytes]
    killed: list[int]
    resumed_output: str


@pytest.fixture(scope="module")
def chain(venue: Venue, solvency_keys: KeySet, tmp_path_factory: pytest.TempPathFactory) -> Chain:
    """The chain: a first run whose busy worker is killed after the first batch and which is
    interrupted after the third, then the CLI's rerun."""
    out = tmp_path_factory.mktemp("chain") / "solvency"
    plan = plan_solvency(venue.epoch_dir, venue.ledger, SNAPSHOT, out)
    seen: list[int] = []
    killed: list[int] = []

    def kill_then_interrupt(index: int, status: str) -> None:
        assert status == "proven", status
        seen.append(index)
        if len(seen) == 1:
            pid = multiprocessing.active_children()[0].pid
            assert pid is not None
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
        if len(seen) == 3:
            raise Interrupted

    with pytest.raises(Interrupted):
        run_solvency(plan, workers=2, on_batch=kill_then_interrupt)
    first = {p.name: p.read_bytes() for p in out.glob("batch-*.json")}
    assert len(first) >= 3 and not manifest_path(out).exists()
    result = CliRunner().invoke(main, ["venue", "prove-solvency", str(venue.epoch_dir), str(venue.ledger),
                                       str(SNAPSHOT), "-o", str(out), "--workers", "2"])
    assert result.exit_code == 0, result.output
    return Chain(out, plan, first, killed, result.output)


def test_the_batch_circuit_s_constraint_count_is_pinned(solvency_keys: KeySet) -> None:
    # docs/solvency.md: 3,060 per batch + 19,290 per account; B = 4 (80,220) fits 2**17
    build = SolvencyCircuit.sized("portfolio", "small", 2).build()
    assert (build.n_constraints, build.n_public) == (41_640, 4)


def verify_cli(folder: Path, venue: Venue, *extra: str) -> tuple[int, str]:
    r = CliRunner().invoke(main, ["venue", "verify-solvency", str(folder), "--epoch-file",
                                  str(venue.epoch_dir / "epoch.json"), "--venue-key", str(venue.key), *extra])
    return r.exit_code, r.output


def test_the_chain_verifies_with_the_engine_s_totals(chain: Chain, venue: Venue, snapshot: RiskSnapshot) -> None:
    code, output = verify_cli(chain.out, venue)
    assert code == 0, output
    manifest, batches = load_chain(chain.out)
    totals = Totals.from_json(manifest.totals)
    statements = [load_model(Statement, p) for p in (venue.epoch_dir / "statements").glob("*.json")]
    accounts = [s.account for s in sorted(statements, key=lambda s: s.index)]
    assert totals == engine_totals(accounts, snapshot, chain.plan.spec.circuit.profile, "portfolio")
    assert totals.accounts == ACCOUNTS and 7 <= totals.below < ACCOUNTS and totals.shortfall > 0
    assert len(batches) == 13
    assert f"accounts: {ACCOUNTS}, below maintenance margin: {totals.below}" in output


def test_an_interrupted_run_with_a_killed_worker_resumes_to_the_same_chain(chain: Chain) -> None:
    assert chain.killed
    assert all((chain.out / name).read_bytes() == data for name, data in chain.first_files.items())
    assert f"'skipped': {len(chain.first_files)}" in chain.resumed_output
    _, batches = load_chain(chain.out)
    # the salts are derived, so every link is the state the plan computed before any proof
    assert [[int(x) for x in b.public_signals[2:]] for b in batches] == [
        [job.state_in.commitment(), job.state_out.commitment()] for job in chain.plan.jobs]


def test_ray_proves_the_missing_batches_into_the_pool_s_chain(chain: Chain, venue: Venue, ray_head: str,
                                                               tmp_path: Path) -> None:
    # the pool's chain less two batches and its manifest: Ray actors prove the two, the chain links
    out = tmp_path / "ray"
    out.mkdir()
    missing = {batch_path(out, 3).name, batch_path(out, 8).name}
    for p in chain.out.glob("batch-*.json"):
        if p.name not in missing:
            (out / p.name).write_bytes(p.read_bytes())
    result = CliRunner().invoke(main, ["venue", "prove-solvency", str(venue.epoch_dir), str(venue.ledger),
                                       str(SNAPSHOT), "-o", str(out), "--ray", ray_head])
    assert result.exit_code == 0, result.output
    assert "'proven': 2, 'skipped': 11, 'failed': 0" in result.output
    assert f"'executor': 'Ray cluster {ray_head}'" in result.output
    assert verify_cli(out, venue)[0] == 0
    for name in missing:
        ray_signals = load_model(SolvencyBatchProof, out / name).public_signals
        assert ray_signals == load_model(SolvencyBatchProof, chain.out / name).public_signals


def _actors_of(address: str) -> list[int]:
    """Live solvency actors of the Ray cluster at ``address`` (descendants of the raylet whose GCS
    is at its port; Ray may name the node by another of its addresses)."""
    gcs = re.compile(rf"--gcs-address=\S+:{address.rsplit(':', 1)[1]} ")
    raylets = [pid for pid in map(int, filter(str.isdigit, os.listdir("/proc")))
               if "/raylet/raylet " in (line := cmdline(pid)) and gcs.search(line)]
    return [pid for raylet in raylets for pid in children(raylet) if cmdline(pid).startswith("ray::SolvencyWorker")]


@pytest.mark.slow
def test_a_killed_prove_solvency_takes_its_ray_actors_and_their_snarkjs_along(venue: Venue, solvency_keys: KeySet,
                                                                              ray_head: str, tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "zkmargin", "venue", "prove-solvency", str(venue.epoch_dir),
                             str(venue.ledger), str(SNAPSHOT), "-o", str(tmp_path / "out"), "--ray", ray_head],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    busy = wait_for(lambda: [pid for pid in _actors_of(ray_head)
                             if any("groth16 prove" in cmdline(c) for c in children(pid))], 240, "an actor proving")
    assert isinstance(busy, list)
    doomed = {*_actors_of(ray_head), *(c for pid in busy for c in children(pid))}
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    wait_for(lambda: not any(alive(pid) for pid in doomed), 60, f"the actors and their snarkjs {doomed} to die")


def test_ray_missing_says_how_to_install(venue: Venue, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)
    result = CliRunner().invoke(main, ["venue", "prove-solvency", str(venue.epoch_dir), str(venue.ledger),
                                       str(SNAPSHOT), "-o", str(tmp_path / "out"), "--ray", "auto"])
    assert result.exit_code == 2 and "pip install 'zkmargin[cluster]'" in result.output
    assert len(result.output.strip().splitlines()) == 1 and not (tmp_path / "out").exists()


@pytest.fixture(scope="module")
def parts(chain: Chain, venue: Venue, solvency_keys: KeySet) -> tuple[SolvencyManifest, list[SolvencyBatchProof], Epoch]:
    manifest, batches = load_chain(chain.out)
    return manifest, batches, load_model(Epoch, venue.epoch_dir / "epoch.json")


def refusal(parts: tuple[SolvencyManifest, list[SolvencyBatchProof], Epoch], venue: Venue, keys: KeySet, *,
            manifest: SolvencyManifest | None = None, batches: list[SolvencyBatchProof] | None = None,
            epoch: Epoch | None = None) -> str:
    from zkmargin.venue import load_public_key

    with pytest.raises(VerificationError) as e:
        check_solvency(manifest or parts[0], parts[1] if batches is None else batches, epoch or parts[2],
                       load_public_key(str(venue.key)), load_verifying_key(keys.vk))
    return str(e.value)


def test_a_batch_counted_twice_is_refused_by_the_chain_check(parts, venue: Venue, solvency_keys: KeySet) -> None:  # type: ignore[no-untyped-def]
    batches = list(parts[1])
    batches[2] = batches[1].model_copy(update={"index": 2})
    assert "batch 2: chain_in is not the previous chain_out" in refusal(parts, venue, solvency_keys, batches=batches)


def test_reordered_batches_are_refused_by_the_chain_check(parts, venue: Venue, solvency_keys: KeySet) -> None:  # type: ignore[no-untyped-def]
    batches = list(parts[1])
    batches[1], batches[2] = batches[2].model_copy(update={"index": 1}), batches[1].model_copy(update={"index": 2})
    assert "batch 1: chain_in" in refusal(parts, venue, solvency_keys, batches=batches)
    swapped = list(parts[1])
    swapped[1], swapped[2] = swapped[2], swapped[1]
    assert "reordered or foreign" in refusal(parts, venue, solvency_keys, batches=swapped)


def test_a_missing_last_batch_is_refused(parts, venue: Venue, solvency_keys: KeySet) -> None:  # type: ignore[no-untyped-def]
    manifest = parts[0].model_copy(update={"batches": 12})
    assert "take 13 batches; the chain has 12" in refusal(parts, venue, solvency_keys, manifest=manifest,
                                                          batches=parts[1][:12])


def test_an_understated_shortfall_or_an_uncovered_fund_is_refused(parts, venue: Venue, solvency_keys: KeySet) -> None:  # type: ignore[no-untyped-def]
    totals = Totals.from_json(parts[0].totals)
    understated = parts[0].model_copy(update={"totals": replace(totals, shortfall=totals.shortfall - 1).to_json()})
    assert "does not open to the published totals" in refusal(parts, venue, solvency_keys, manifest=understated)
    short_fund = parts[0].model_copy(update={"insurance_fund": totals.shortfall - 1})
    assert "does not cover" in refusal(parts, venue, solvency_keys, manifest=short_fund)


def test_another_epoch_s_root_is_refused(parts, venue: Venue, solvency_keys: KeySet, snapshot: RiskSnapshot,  # type: ignore[no-untyped-def]
                                          venue_key: Ed25519PrivateKey, tmp_path: Path) -> None:
    other = publish_epoch(snapshot, venue_key, tmp_path / "other", seed=6)
    epoch = load_model(Epoch, other.epoch_dir / "epoch.json")
    assert "account root is not the signed epoch's" in refusal(parts, venue, solvency_keys, epoch=epoch)


def test_the_cli_says_invalid_with_the_reason(chain: Chain, venue: Venue, tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    for p in chain.out.iterdir():
        (bad / p.name).write_bytes(p.read_bytes())
    manifest = load_model(SolvencyManifest, manifest_path(bad))
    save_model(manifest.model_copy(update={"insurance_fund": 0}), manifest_path(bad))
    code, output = verify_cli(bad, venue)
    assert (code, output) == (1, "invalid: the insurance fund does not cover the total shortfall\n")


# ---- at the R1CS: no witness, or an edited one that breaks a constraint -----------------------------
@pytest.fixture(scope="module")
def worker(chain: Chain) -> SolvencyWorker:
    return SolvencyWorker(chain.plan.spec)


@pytest.mark.parametrize("start", [3, 1], ids=["skips-leaf-2", "counts-leaf-1-twice"])
def test_a_batch_that_skips_or_recounts_a_leaf_links_to_nothing(start: int, chain: Chain, worker: SolvencyWorker,  # type: ignore[no-untyped-def]
                                                                parts, venue: Venue, solvency_keys: KeySet,
                                                                snapshot: RiskSnapshot) -> None:
    # a real proof of leaves start and start + 1 after the first batch's totals (leaves 0 and 1):
    # the circuit starts it at `start`, so its chain_in commits to next = start, not to the first
    # batch's next = 2
    jobs = chain.plan.jobs
    leaves = tuple(text for job in jobs for text in job.statements_json)[start:start + 2]
    state_in = replace(jobs[1].state_in, next=start)
    totals = state_in.totals
    for text in leaves:
        totals = totals.add(account_figures(parse_model(Statement, text, source="leaf").account, snapshot,
                                            chain.plan.spec.circuit.profile, "portfolio"))
    cheat = BatchJob(1, jobs[1].account_root, leaves, (), state_in,
                     replace(jobs[1].state_out, next=start + 2, totals=totals))
    batches = list(parts[1])
    batches[1] = worker.batch_proof(cheat)
    assert "batch 1: chain_in is not the previous chain_out" in refusal(parts, venue, solvency_keys, batches=batches)


def test_a_batch_cannot_open_leaves_other_than_its_range(chain: Chain, worker: SolvencyWorker) -> None:
    inputs = batch_inputs(chain.plan.jobs[1], worker.commitment, "portfolio", 2)
    with pytest.raises(WitnessError):
        worker.witness.calculator.calculate({**inputs, "start": 3})


def test_a_batch_cannot_use_another_epoch_s_account_root(chain: Chain, worker: SolvencyWorker) -> None:
    inputs = batch_inputs(chain.plan.jobs[1], worker.commitment, "portfolio", 2)
    with pytest.raises(WitnessError):
        worker.witness.calculator.calculate({**inputs, "account_root": int(inputs["account_root"]) + 1})  # type: ignore[arg-type]


def test_an_account_past_n_is_not_counted(chain: Chain, worker: SolvencyWorker) -> None:
    # the last batch holds leaf 24 and the empty leaf 25; claiming N = 26 would count a leaf the
    # tree does not hold: its membership (leaf 0 is not an account leaf) fails
    last = chain.plan.jobs[-1]
    inputs = batch_inputs(last, worker.commitment, "portfolio", 2)
    state_in = replace(last.state_in, tree_accounts=ACCOUNTS + 1)
    with pytest.raises(WitnessError):
        worker.witness.calculator.calculate({**inputs, "tree_accounts": ACCOUNTS + 1,
                                             "chain_in": state_in.commitment()})


def test_an_understated_shortfall_breaks_a_constraint(chain: Chain, worker: SolvencyWorker) -> None:
    job = chain.plan.jobs[0]   # leaf 0 owes 3,000,000 USDC: below MM
    values = worker.witness.calculator.calculate(batch_inputs(job, worker.commitment, "portfolio", 2))
    signals = worker.witness.signals
    assert values[signals["main.account[0].below"]] == 1 and values[signals["main.account[0].shortfall"]] > 0
    r1cs = read_r1cs(worker.witness.build.r1cs)
    assert check_witness(r1cs, values) == []
    edited = list(values)
    edited[signals["main.account[0].below"]] = 0
    assert check_witness(r1cs, edited)
    edited = list(values)
    edited[signals["main.account[0].shortfall"]] -= 1
    assert check_witness(r1cs, edited)
