"""Batch proving and verification throughput on the small profile: the figures behind docs/batch.md.

Run from the repository root after ``zkmargin setup --profile small``:

* ``python benchmarks/batch.py [--accounts 12] [--workers 1 2]``: a venue publishes an epoch of
  healthy random accounts (``zkmargin.venue.random_ledger``, some with debts); proves its
  statements with each backend (snarkjs; native when groth16py is installed) on a local pool of 1
  and of 2 workers, then batch-verifies every bundle made (py_ecc, chunks across 1 and 2
  processes). Prints a table and appends it, with the machine and its load, to
  ``benchmarks/RESULTS.md``.
* ``python benchmarks/batch.py --epoch 200``: an epoch end to end through the real commands,
  ``zkmargin batch prove`` then ``zkmargin batch verify --any-holder``, on a published epoch of 200
  random accounts (healthy or not, as they come), and records the figures.

Wall times include starting the workers (spawned processes loading wasm, keys and snapshot).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # benchmarks.engine and tests.factories, also when run as a script

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from benchmarks.results import RESULTS, machine, record
from prover.batch import BatchOptions, plan_batch, run_batch
from prover.batch_files import EPOCH_NAME, bundle_files
from prover.batch_verify import BatchPolicy, check_bundles
from prover.circuits import MarginCircuit
from prover.margin import load_keys
from zkmargin.book import resolve
from zkmargin.bundle import Backend, Verifier
from zkmargin.io import load_model
from zkmargin.models import Epoch, LedgerEntry, RiskSnapshot
from zkmargin.portfolio import portfolio_margin
from zkmargin.venue import build_epoch, generate_key, public_key_hex, publish, random_ledger

SNAPSHOT = REPO / "examples" / "snapshot_span16.json"
PROFILE = "small"


def publish_epoch(folder: Path, n: int, seed: int, *, healthy_only: bool) -> tuple[Ed25519PrivateKey, int]:
    """A venue (a fresh key) publishes an epoch of ``n`` seeded random accounts of the small profile
    in ``folder``; the key and how many accounts are healthy."""
    snapshot = load_model(RiskSnapshot, SNAPSHOT)
    profile = MarginCircuit.named("portfolio", PROFILE).profile
    entries: list[LedgerEntry] = []
    healthy = 0
    for line in random_ledger(snapshot, 4 * n if healthy_only else n, seed=seed, positions=profile.positions,
                              assets=profile.assets):
        entry = LedgerEntry.model_validate(line)
        ok = portfolio_margin(resolve(entry, snapshot, profile)).healthy
        if healthy_only and not ok:
            continue
        entries.append(entry)
        healthy += ok
        if len(entries) == n:
            break
    key = generate_key()
    publish(build_epoch(entries, snapshot, key), folder)
    return key, healthy


def backends() -> list[Backend]:
    """snarkjs, and native when groth16py is importable."""
    try:
        import groth16py  # noqa: F401
    except ImportError:
        return ["snarkjs"]
    return ["snarkjs", "native"]


def prove_rows(epoch_dir: Path, key: Ed25519PrivateKey, work: Path,
               workers: list[int]) -> tuple[list[str], dict[str, Path]]:
    """Prove the epoch with every backend and worker count: table rows and the bundles made."""
    rows: list[str] = []
    bundles: dict[str, Path] = {}
    for backend in backends():
        for count in workers:
            out = work / f"{backend}-{count}"
            summary = run_batch(plan_batch(epoch_dir, SNAPSHOT, key.public_key(), out,
                                           BatchOptions(backend=backend, workers=count)))
            proven = [o for o in summary.outcomes if o.status == "proven"]
            per_proof = sum(o.seconds for o in proven) / max(len(proven), 1)
            rows.append(f"| prove, {backend} | {count} | {len(proven)} | {summary.seconds:.1f} | "
                        f"{summary.proofs_per_second:.3f} | {per_proof:.2f} |")
            print(rows[-1], flush=True)
            bundles |= {f"{out.name}/{name}": path for name, path in bundle_files(out).items()}
    return rows, bundles


def verify_rows(bundles: dict[str, Path], epoch_dir: Path, key: Ed25519PrivateKey, workers: list[int]) -> list[str]:
    """Verify every bundle with each verifier (py_ecc batched; native one by one) and worker count,
    under the verifier's policy for the epoch (any holder: the bundles of every run are mixed)."""
    policy = BatchPolicy(load_model(RiskSnapshot, SNAPSHOT), load_model(Epoch, epoch_dir / EPOCH_NAME),
                         key.public_key(), "portfolio", 10_000, None)
    vk = load_keys(MarginCircuit.named("portfolio", PROFILE)).vk
    rows = []
    verifiers: list[Verifier] = ["py_ecc", "native"] if "native" in backends() else ["py_ecc"]
    for verifier in verifiers:
        for count in workers:
            started = time.monotonic()
            checks = check_bundles(bundles, vk, policy, workers=count, verifier=verifier)
            seconds = time.monotonic() - started
            if not all(check.ok for check in checks.values()):
                raise SystemExit("a bundle made by the benchmark does not verify")
            how = "batched" if verifier == "py_ecc" else "one by one"
            rows.append(f"| verify, {verifier} {how} | {count} | {len(checks)} | {seconds:.1f} | "
                        f"{len(checks) / seconds:.3f} | {seconds * count / len(checks):.3f} |")
            print(rows[-1], flush=True)
    return rows


def throughput(args: argparse.Namespace, work: Path) -> str:
    epoch_dir = work / "epoch"
    key, _ = publish_epoch(epoch_dir, args.accounts, args.seed, healthy_only=True)
    prove, bundles = prove_rows(epoch_dir, key, work, args.workers)
    verify = verify_rows(bundles, epoch_dir, key, args.workers)
    header = ["| step | workers | proofs | wall s | proofs/s | s per proof per worker |", "|---|---:|---:|---:|---:|---:|"]
    return (f"profile {PROFILE}, a published epoch of {args.accounts} healthy random accounts (seed {args.seed}) on "
            f"{SNAPSHOT.relative_to(REPO)}; local process pool; wall time includes starting the workers\n\n"
            f"machine: {machine()}\n\n" + "\n".join(header + prove + verify) + "\n")


def epoch(args: argparse.Namespace, work: Path) -> str:
    """``batch prove`` then ``batch verify`` through the command line on ``args.epoch`` accounts."""
    epoch_dir, out = work / "epoch", work / "out"
    key, healthy = publish_epoch(epoch_dir, args.epoch, args.seed, healthy_only=False)
    venue_key = public_key_hex(key.public_key())
    workers = str(max(args.workers))
    command = [sys.executable, "-m", "zkmargin", "batch"]
    started = time.monotonic()
    prove = subprocess.run([*command, "prove", str(epoch_dir), str(SNAPSHOT), "--venue-key", venue_key, "-o", str(out),
                            "--workers", workers], cwd=REPO, capture_output=True, text=True, check=False)
    prove_seconds = time.monotonic() - started
    started = time.monotonic()
    verify = subprocess.run([*command, "verify", str(out), "--epoch-file", str(epoch_dir / EPOCH_NAME), "--venue-key",
                             venue_key, "--snapshot", str(SNAPSHOT), "--model", "portfolio", "--any-holder",
                             "--workers", workers], cwd=REPO, capture_output=True, text=True, check=False)
    verify_seconds = time.monotonic() - started
    if verify.returncode != 0:
        raise SystemExit(f"batch verify failed:\n{verify.stdout}{verify.stderr}")
    totals = json.loads((out / "batch-summary.json").read_text())["totals"]
    print(prove.stdout + verify.stdout)
    return (f"epoch of {args.epoch} random accounts (seed {args.seed}, {healthy} healthy at 1.00 x MM), profile "
            f"{PROFILE}, snarkjs, `zkmargin batch prove --workers {workers}` then `zkmargin batch verify "
            f"--any-holder --workers {workers}` (processes timed from outside)\n\nmachine: {machine()}\n\n"
            "| step | accounts | proofs | wall s | per second |\n|---|---:|---:|---:|---:|\n"
            f"| batch prove | {totals['accounts']} | {totals['proven']} (+{totals['below_margin']} below MM, "
            f"{totals['invalid']} invalid, {totals['failed']} failed) | {prove_seconds:.1f} | "
            f"{totals['proven'] / prove_seconds:.3f} proofs/s |\n"
            f"| batch verify | {totals['proven']} | {totals['proven']} | {verify_seconds:.1f} | "
            f"{totals['proven'] / verify_seconds:.2f} bundles/s |\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=12, help="healthy accounts per proving run (default 12)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts (default 1 2)")
    parser.add_argument("--epoch", type=int, help="instead: prove and verify this many accounts via the CLI")
    parser.add_argument("--seed", type=int, default=1, help="seed of the random accounts (default 1)")
    parser.add_argument("--no-record", action="store_true", help=f"do not append to {RESULTS.name}")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="zkmargin-batch-bench-") as scratch:
        report = epoch(args, Path(scratch)) if args.epoch else throughput(args, Path(scratch))
    print(report)
    if not args.no_record:
        record(f"batch{' epoch' if args.epoch else ''}", report)


if __name__ == "__main__":
    main()
