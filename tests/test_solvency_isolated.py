"""Venue-wide solvency under isolated margin: the B = 2 batch circuit against the engine.

The venue publishes the six small-profile example books (``examples/ledger.jsonl`` less the
16-position one): five are below MM under isolated margin, ``borrowed_cash`` through a debt (which
the per-account ``Margin`` circuit has no witness for, and the batch circuit counts), and
``naked_short_calls`` is margined. Default run: every batch's witness (compiled circuit, no keys)
gives each account's equity, MM, below flag and shortfall of :func:`zkmargin.solvency.account_figures`
bit for bit and satisfies the R1CS; an understated shortfall or a hidden debt does not. Slow run
(``-m slow``): the keys, the chain proven and verified with the engine's totals.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from prover.circuits import WarmWitness
from prover.margin import load_keys, setup_circuit
from prover.r1cs import check_witness, read_r1cs
from prover.solvency import BatchJob, batch_inputs, chain_jobs, plan_solvency, run_solvency
from prover.solvency_circuit import SolvencyCircuit
from tests.conftest import EXAMPLES, dev_ptau
from verifier import load_verifying_key
from verifier.solvency import check_solvency, load_chain
from zkmargin import fixedpoint as fp
from zkmargin.commitment import SnapshotCommitment
from zkmargin.io import load_model, parse_model
from zkmargin.models import Epoch, RiskSnapshot, Statement
from zkmargin.solvency import Totals, account_figures, engine_totals
from zkmargin.venue import build_epoch, publish, read_ledger

SNAPSHOT = EXAMPLES / "snapshot_span16.json"
FIGURES = ("equity", "mm", "below", "shortfall")


@pytest.fixture(scope="module")
def epoch_dir(snapshot: RiskSnapshot, venue_key: Ed25519PrivateKey, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("isolated")
    lines = [line for line in (EXAMPLES / "ledger.jsonl").read_text().splitlines()
             if len(json.loads(line)["positions"]) <= 4]
    (out / "ledger.jsonl").write_text("".join(line + "\n" for line in lines))
    publish(build_epoch(read_ledger(out / "ledger.jsonl"), snapshot, venue_key), out / "epoch")
    return out / "epoch"


@pytest.fixture(scope="module")
def circuit() -> SolvencyCircuit:
    return SolvencyCircuit.sized("isolated", "small", 2)


@pytest.fixture(scope="module")
def jobs(epoch_dir: Path, snapshot: RiskSnapshot, circuit: SolvencyCircuit) -> list[BatchJob]:
    epoch = load_model(Epoch, epoch_dir / "epoch.json")
    return chain_jobs(epoch_dir, epoch, epoch_dir.parent / "ledger.jsonl", snapshot, "isolated", circuit.profile, 2)


@pytest.fixture(scope="module")
def witness(circuit: SolvencyCircuit) -> WarmWitness:
    return WarmWitness(circuit.build())


def test_the_isolated_batch_circuit_s_constraint_count_is_pinned(witness: WarmWitness) -> None:
    # docs/solvency.md: 37,280 at B = 2 (portfolio: 41,640): fits 2**16
    assert (witness.build.n_constraints, witness.build.n_public) == (37_280, 4)


def _values(job: BatchJob, witness: WarmWitness, snapshot: RiskSnapshot, circuit: SolvencyCircuit) -> list[int]:
    return witness.calculator.calculate(batch_inputs(job, SnapshotCommitment(snapshot, circuit.profile), "isolated", 2))


def test_every_account_s_figures_are_the_engine_s(jobs: list[BatchJob], witness: WarmWitness, snapshot: RiskSnapshot,
                                                  circuit: SolvencyCircuit) -> None:
    r1cs = read_r1cs(witness.build.r1cs)
    seen = []
    for job in jobs:
        values = _values(job, witness, snapshot, circuit)
        assert check_witness(r1cs, values) == []
        for j, text in enumerate(job.statements_json):
            statement = parse_model(Statement, text, source=f"leaf {job.state_in.next + j}")
            want = account_figures(statement.account, snapshot, circuit.profile, "isolated")
            got = [values[witness.signals[f"main.account[{j}].{name}"]] for name in FIGURES]
            assert got == [fp.to_field(want.equity), want.mm, int(want.below), want.shortfall], statement.account_id
            seen.append((statement.account_id, want.below))
    # the mix this test is about: margined, below through positions, below through a debt
    assert ("naked_short_calls", False) in seen and ("borrowed_cash", True) in seen and len(seen) == 6


def test_an_understated_isolated_shortfall_or_a_hidden_debt_breaks_a_constraint(
        jobs: list[BatchJob], witness: WarmWitness, snapshot: RiskSnapshot, circuit: SolvencyCircuit) -> None:
    job = jobs[0]   # leaf 0 is borrowed_cash: a position with no allocation, and a debt
    assert "borrowed_cash" in job.statements_json[0]
    values = _values(job, witness, snapshot, circuit)
    r1cs = read_r1cs(witness.build.r1cs)
    # the account counted as margined, its shortfall lowered, or its debt left out of the shortfall
    total = values[witness.signals["main.account[0].shortfall"]]
    debt = total - values[witness.signals["main.account[0].gap[0].shortfall"]]
    assert total > debt > 0
    for name, edit in (("below", -1), ("shortfall", -1), ("shortfall", -debt)):
        signal = witness.signals[f"main.account[0].{name}"]
        edited = list(values)
        edited[signal] = (edited[signal] + edit) % fp.R
        assert check_witness(r1cs, edited), name


@pytest.mark.slow
def test_an_isolated_chain_proves_and_verifies_with_the_engine_s_totals(
        epoch_dir: Path, snapshot: RiskSnapshot, venue_key: Ed25519PrivateKey, circuit: SolvencyCircuit,
        tmp_path: Path) -> None:
    setup_circuit(circuit, dev_ptau())
    out = tmp_path / "solvency"
    plan = plan_solvency(epoch_dir, epoch_dir.parent / "ledger.jsonl", SNAPSHOT, out, model="isolated")
    run = run_solvency(plan, workers=2)
    assert (run.proven, run.failed) == (3, {})
    manifest, batches = load_chain(out)
    check_solvency(manifest, batches, load_model(Epoch, epoch_dir / "epoch.json"), venue_key.public_key(),
                   load_verifying_key(load_keys(circuit).vk))
    statements = sorted((load_model(Statement, p) for p in (epoch_dir / "statements").glob("*.json")),
                        key=lambda s: s.index)
    totals = Totals.from_json(manifest.totals)
    assert totals == engine_totals([s.account for s in statements], snapshot, circuit.profile, "isolated")
    assert (totals.accounts, totals.below) == (6, 5)
