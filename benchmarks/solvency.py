"""Solvency chain throughput: accounts proven per second, and a projection to 1,000,000 accounts.

Publishes an epoch of ``--accounts`` random accounts (``zkmargin.venue.random_ledger``, seed 2,
every fourth one with a debt below MM) over ``examples/snapshot_span16.json``, then proves its
solvency chain with the small-profile batch circuit of ``--batch`` accounts on ``--workers``
processes, or on ``--workers`` Ray actors with ``--ray ADDRESS`` (``auto`` or ``HOST:PORT``: a
running cluster; ``local``: a Ray instance started for the run, which with Ray 2.60 leaves a token
in ``~/.ray/auth_token`` that later drivers send to clusters started without one, which refuse
them: delete it after such a run) (needs its keys:
``tests/test_solvency.py`` or ``prover.margin.setup_circuit`` make them), verifies it, and prints the
planning, proving and verification times. The projection
assumes proving is CPU-bound and embarrassingly parallel (every batch's inputs are known before
any proof), so a cluster of C cores proves C / cores_here times faster. On a shared machine the
wall time overstates the cost: the projection uses the CPU time of the provers (this process and
its children: workers, snarkjs), core-seconds per account. Ray actors are not this process's
children: on Ray the core-seconds are the wall time times the actors (an upper bound).

    python benchmarks/solvency.py [--accounts 40] [--batch 2] [--workers 2] [--ray local] [--cluster-cores 512] [--no-record]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.results import machine, record  # noqa: E402
from prover.margin import load_keys  # noqa: E402
from prover.solvency import plan_solvency, run_solvency  # noqa: E402
from prover.solvency_circuit import SolvencyCircuit  # noqa: E402
from verifier import load_verifying_key  # noqa: E402
from verifier.solvency import check_solvency, load_chain  # noqa: E402
from zkmargin.io import load_model  # noqa: E402
from zkmargin.models import Epoch, RiskSnapshot  # noqa: E402
from zkmargin.venue import build_epoch, generate_key, publish, random_ledger, read_ledger  # noqa: E402

SNAPSHOT = ROOT / "examples" / "snapshot_span16.json"
TARGET_ACCOUNTS = 1_000_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=40)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--ray", metavar="ADDRESS", help="prove on Ray actors: local, auto or HOST:PORT")
    parser.add_argument("--cluster-cores", type=int, default=512, help="cores of the projected Ray cluster")
    parser.add_argument("--no-record", action="store_true", help="print only, do not append to RESULTS.md")
    args = parser.parse_args()
    circuit = SolvencyCircuit.sized("portfolio", "small", args.batch)
    snapshot = load_model(RiskSnapshot, SNAPSHOT)
    (ROOT / "build").mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=ROOT / "build") as tmp:
        lines = list(random_ledger(snapshot, args.accounts, seed=2))
        for line in lines[::4]:
            line["balances"] = [{"asset": 0, "amount": "-3000000"}]
        ledger = Path(tmp) / "ledger.jsonl"
        ledger.write_text("".join(json.dumps(line) + "\n" for line in lines))
        key = generate_key()
        publish(build_epoch(read_ledger(ledger), snapshot, key), Path(tmp) / "epoch")
        t0 = time.perf_counter()
        plan = plan_solvency(Path(tmp) / "epoch", ledger, SNAPSHOT, Path(tmp) / "out", batch=args.batch)
        t1 = time.perf_counter()
        cpu0 = _cpu_seconds()
        run = run_solvency(plan, workers=args.workers, ray_address=args.ray)
        t2 = time.perf_counter()
        if args.ray is None:
            core_seconds = (_cpu_seconds() - cpu0) / args.accounts
        else:
            core_seconds = (t2 - t1) * min(args.workers, len(plan.jobs)) / args.accounts
        manifest, batches = load_chain(Path(tmp) / "out")
        check_solvency(manifest, batches, load_model(Epoch, Path(tmp) / "epoch" / "epoch.json"), key.public_key(),
                       load_verifying_key(load_keys(circuit).vk))
        t3 = time.perf_counter()
    rate = args.accounts / (t2 - t1)
    executor = (f"{args.workers} worker processes" if args.ray is None
                else f"{args.workers} Ray actors (--ray {args.ray})")
    cost = ("CPU time" if args.ray is None
            else "wall time x actors at this load, Ray's start and the actors' loading included: an upper bound")
    pace = "unloaded" if args.ray is None else "at this load"
    cores = os.cpu_count() or 1
    n_batches = len(plan.jobs)
    report = (
        f"{args.accounts} random accounts ({manifest.totals['below_mm']} below MM), circuit {circuit.circuit_id} "
        f"(B = {args.batch}, {n_batches} batches), snarkjs, {executor}\n\n"
        f"machine: {machine()}\n\n"
        "| step | seconds | per account |\n|---|---:|---:|\n"
        f"| plan (read statements, rebuild the tree, engine margins, chain states) | {t1 - t0:.2f} | "
        f"{(t1 - t0) / args.accounts * 1000:.1f} ms |\n"
        f"| prove {n_batches} batches (workers' start included) | {t2 - t1:.2f} | {(t2 - t1) / args.accounts:.2f} s |\n"
        f"| verify the chain (py_ecc, batched pairing) | {t3 - t2:.2f} | {(t3 - t2) / args.accounts * 1000:.0f} ms |\n\n"
        f"throughput: {rate:.3f} accounts/s wall on {cores} cores shared (load above), {core_seconds:.2f} "
        f"core-seconds per account ({cost}; {run.restarts} worker restarts); {pace}, {cores} cores: "
        f"{cores / core_seconds:.2f} accounts/s\n\n"
        f"projection, {TARGET_ACCOUNTS:,} accounts on a Ray cluster of {args.cluster_cores} cores like these "
        f"(proving CPU-bound and independent per batch, one warm worker per core, no other load): "
        f"{TARGET_ACCOUNTS * core_seconds / args.cluster_cores / 3600:.2f} h; on this machine {pace}: "
        f"{TARGET_ACCOUNTS * core_seconds / cores / 86400:.1f} days\n"
    )
    print(report)
    if not args.no_record:
        record("solvency chain", report)


def _cpu_seconds() -> float:
    """User + system CPU time of this process and of its reaped children (workers, snarkjs)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


if __name__ == "__main__":
    main()
