"""Prover benchmarks: circuit size, witness, proving (snarkjs vs native), verification, scaling.

Run from the repository root: ``python benchmarks/prove.py`` (``--help`` for the options). Prints
the tables and appends them, with the date and the machine, to ``benchmarks/RESULTS.md``.

* Size per profile: constraints of the proving build (O2, all non-linear) and of the inspect build
  (O1, non-linear + linear), wires, public inputs, constraints per position slot.
* Witness: the in-process wasmtime calculator against ``snarkjs wtns calculate`` (one Node
  process per witness, start-up included) on the same inputs; both witnesses must be equal.
* Prove, on the same witness, in the same run, alternating: ``snarkjs groth16 prove`` (one Node
  process per proof) and the native backend (groth16py) in a separate warm Python process that
  imported the zkey once; the ratio; the peak RSS of each proving process. Needs the profile's keys
  (``zkmargin setup --profile NAME``): a profile without keys matching its current build is
  skipped, with a note.
* Verify, on the first profile proven: py_ecc single, py_ecc batched (100 re-randomised proofs,
  per proof), native, and the snarkjs CLI (Node start-up included).
* Scaling (compile only, see ``benchmarks/circuit_size.py``): constraints as position slots grow
  and as the tree depth goes from 10 to 16, and what one slot's templates cost.
* Engine: resolve + vectorized margin of 10,000 random accounts (as ``benchmarks/engine.py``).

Times are medians of ``--rounds`` runs. Targets (issue 5, 2-core machine) are checked on the
largest profile proven.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # benchmarks.*, tests.factories, also when run as a script

from benchmarks.circuit_size import (
    Size,
    marginal_per_slot,
    profile_size,
    scaled_size,
    scaling_profiles,
    template_costs,
)
from benchmarks.engine import best_of, load_snapshot, random_accounts
from benchmarks.results import RESULTS, machine, record
from benchmarks.verifier_bench import rerandomise
from prover import snarkjs
from prover.backends import NativeBackend
from prover.cache import sha256_file
from prover.circuits import MarginCircuit
from prover.margin import MarginProver, load_keys
from prover.toolchain import PROJECT_ROOT, snarkjs_command
from prover.witness import read_wtns, write_wtns
from verifier import load_verifying_key, parse_proof, verify, verify_batch
from verifier.native import NativeVerifier, load_groth16py
from zkmargin.book import resolve
from zkmargin.errors import ProverError, ToolchainError
from zkmargin.io import load_model
from zkmargin.models import Account, RiskSnapshot
from zkmargin.venue import attest
from zkmargin.profiles import PROFILES
from zkmargin.vectorized import portfolio_margin_batch

EXAMPLES = REPO / "examples"
ACCOUNT = EXAMPLES / "hedged_market_maker.json"
SNAPSHOT = EXAMPLES / "snapshot_span16.json"
MODEL = "portfolio"
BATCH = 100
NATIVE_VERIFY_ROUNDS = 200
ENGINE_ACCOUNTS = 10_000
KIB = 1024
GNU_TIME = Path("/usr/bin/time")

TARGETS = {
    "per_slot": 3_000,
    "native_prove": 2.0,
    "ratio": 3.5,
    "py_ecc_single": 0.5,
    "py_ecc_batched": 0.15,
    "native_verify": 0.005,
}


@dataclass(frozen=True)
class NativeRun:
    """Native (groth16py) proving figures of one profile."""

    prove: float
    """Median seconds per proof, one warm process."""
    parallel: float
    """Seconds per proof with one warm process per CPU (groth16py's wheel proves on one core)."""
    key_import: float
    peak_mib: float
    baseline_mib: float
    """Peak RSS of the proving process before it imported the key."""


@dataclass(frozen=True)
class ProveRun:
    """Witness and proving measurements of one profile."""

    profile: str
    witness_wasmtime: float
    witness_node: float
    snarkjs: float
    snarkjs_peak_mib: float | None
    native: NativeRun | None
    vk: Path
    proof: dict[str, Any]
    public: list[int]


@dataclass(frozen=True)
class VerifyRun:
    """Verification per proof, seconds."""

    py_ecc_single: float
    py_ecc_batched: float
    native: float | None
    snarkjs_cli: float


def positive(text: str) -> int:
    """An argparse type: an integer >= 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text}")
    return value


def median_seconds(action: Callable[[], object], rounds: int) -> float:
    """Median wall time of ``rounds`` calls."""
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def run_process(argv: Sequence[str | Path]) -> tuple[float, float | None]:
    """Run ``argv`` from the project root: (wall seconds, its peak RSS in MiB, None without GNU time).

    The peak comes from GNU time, not from getrusage of our own child: a child forked from this
    large process inherits its RSS high-water mark across exec.
    """
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        wrapper = [str(GNU_TIME), "-f", "%M", "-o", rss.name] if GNU_TIME.is_file() else []
        started = time.perf_counter()
        completed = subprocess.run([*wrapper, *map(str, argv)], cwd=PROJECT_ROOT, capture_output=True, text=True,
                                   check=False)
        seconds = time.perf_counter() - started
        if completed.returncode != 0:
            raise SystemExit(f"{' '.join(map(str, argv))} failed:\n{completed.stdout[-2000:]}{completed.stderr[-2000:]}")
        peak = rss.read().strip()
    return seconds, int(peak) / KIB if peak else None


def peak_rss_mib() -> float:
    """This process's peak RSS since its exec (VmHWM, Linux), MiB."""
    status = Path("/proc/self/status").read_text(encoding="utf-8")
    return next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")) / KIB


_native: dict[str, Any] = {}
"""The native proving process's state: its backend, key import time and baseline memory."""


def _native_start(zkey: str) -> None:
    """Initializer of the native proving process: import the zkey once."""
    _native["baseline_mib"] = peak_rss_mib()
    started = time.perf_counter()
    _native["backend"] = NativeBackend(Path(zkey))
    _native["import_seconds"] = time.perf_counter() - started


def _native_prove(witness: list[int]) -> tuple[float, dict[str, Any], list[int]]:
    """One native proof in the proving process: (seconds, proof, public signals)."""
    started = time.perf_counter()
    proof, public = _native["backend"].prove(witness)
    return time.perf_counter() - started, proof, public


def _native_memory() -> tuple[float, float, float]:
    """(key import seconds, RSS before the import, peak RSS), MiB, of the proving process."""
    return _native["import_seconds"], _native["baseline_mib"], peak_rss_mib()


def native_available() -> bool:
    """Whether groth16py is installed."""
    try:
        load_groth16py()
    except ToolchainError:
        return False
    return True


def measure_profile(name: str, rounds: int, account: Account, snapshot: RiskSnapshot) -> ProveRun | str:
    """Witness and proving measurements of profile ``name``, or why they cannot be made."""
    circuit = MarginCircuit.named(MODEL, name)
    try:
        keys = load_keys(circuit)
    except ProverError as exc:
        return str(exc)
    build = circuit.build()
    if keys.manifest.get("r1cs_sha256") != sha256_file(build.r1cs):
        return f"keys in {keys.zkey.parent} are for another build of {circuit.circuit_id}: run `zkmargin setup --profile {name}`"
    prover = MarginProver(circuit, keys)
    calculator = prover.witness.calculator
    inputs = prover.inputs(attest([account], snapshot).statement(0), snapshot)
    witness = calculator.calculate(inputs)
    wasmtime_seconds = median_seconds(lambda: calculator.calculate(inputs), rounds)
    with tempfile.TemporaryDirectory(prefix="zkmargin-bench-") as scratch:
        node_wtns = Path(scratch) / "node.wtns"
        node_seconds = median_seconds(lambda: snarkjs.wtns_calculate(build.wasm, inputs, node_wtns), rounds)
        if read_wtns(node_wtns)[0] != witness:
            raise SystemExit(f"{name}: the wasmtime and Node witnesses differ")
        snark_runs, native, proof, public = measure_proving(prover, witness, rounds, Path(scratch))
    return ProveRun(
        profile=name,
        witness_wasmtime=wasmtime_seconds,
        witness_node=node_seconds,
        snarkjs=statistics.median(seconds for seconds, _ in snark_runs),
        snarkjs_peak_mib=max((peak for _, peak in snark_runs if peak is not None), default=None),
        native=native,
        vk=keys.vk,
        proof=proof,
        public=public,
    )


def measure_proving(prover: MarginProver, witness: list[int], rounds: int, scratch: Path
                    ) -> tuple[list[tuple[float, float | None]], NativeRun | None, dict[str, Any], list[int]]:
    """``rounds`` snarkjs proofs (one Node process each) alternating with native proofs (one warm
    process); then native throughput with one warm process per CPU. Returns the snarkjs runs,
    the native figures and the last snarkjs proof; every last proof is checked."""
    wtns, proof_json, public_json = scratch / "witness.wtns", scratch / "proof.json", scratch / "public.json"
    write_wtns(wtns, witness, prover.witness.calculator.prime)
    argv: list[str | Path] = [*snarkjs_command(), "groth16", "prove", prover.keys.zkey, wtns, proof_json, public_json]
    if not native_available():
        snark_runs = [run_process(argv) for _ in range(rounds)]
        proof, public = snarkjs_files(proof_json, public_json)
        check_proof(prover, proof, public, "snarkjs")
        return snark_runs, None, proof, public
    snark_runs, native_times = [], []
    with native_pool(prover.keys.zkey, 1) as pool:
        for _ in range(rounds):
            snark_runs.append(run_process(argv))
            seconds, native_proof, native_public = pool.submit(_native_prove, witness).result()
            native_times.append(seconds)
        key_import, baseline, peak = pool.submit(_native_memory).result()
    check_proof(prover, native_proof, native_public, "native")
    proof, public = snarkjs_files(proof_json, public_json)
    check_proof(prover, proof, public, "snarkjs")
    parallel = native_per_proof_in_parallel(prover.keys.zkey, witness, os.cpu_count() or 1)
    return snark_runs, NativeRun(statistics.median(native_times), parallel, key_import, peak, baseline), proof, public


def native_pool(zkey: Path, workers: int) -> ProcessPoolExecutor:
    """Native provers in fresh (spawned) processes, each importing ``zkey`` once as it starts."""
    return ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=_native_start,
                               initargs=(str(zkey),))


def native_per_proof_in_parallel(zkey: Path, witness: list[int], workers: int) -> float:
    """Wall seconds per proof with one warm native prover per CPU, two proofs each after a warm-up."""
    with native_pool(zkey, workers) as pool:
        list(pool.map(_native_prove, [witness] * workers))
        started = time.perf_counter()
        list(pool.map(_native_prove, [witness] * (2 * workers)))
        return (time.perf_counter() - started) / (2 * workers)


def snarkjs_files(proof_json: Path, public_json: Path) -> tuple[dict[str, Any], list[int]]:
    """The proof and public signals ``snarkjs groth16 prove`` wrote."""
    proof: dict[str, Any] = json.loads(proof_json.read_text(encoding="utf-8"))
    return proof, [int(value) for value in json.loads(public_json.read_text(encoding="utf-8"))]


def check_proof(prover: MarginProver, proof: dict[str, Any], public: list[int], what: str) -> None:
    """Stop the benchmark if a measured proof does not verify (py_ecc)."""
    if not verify(prover.vk, parse_proof(proof), public):
        raise SystemExit(f"{what} proof does not verify")


def measure_verify(run: ProveRun, rounds: int) -> VerifyRun:
    """Verification of ``run``'s proof by every verifier."""
    vk = load_verifying_key(run.vk)
    proof = parse_proof(run.proof)
    verify(vk, proof, run.public)  # computes and caches e(alpha, beta)
    single = median_seconds(lambda: verify(vk, proof, run.public), rounds)
    items = [(rerandomise(vk, proof), run.public) for _ in range(BATCH)]
    started = time.perf_counter()
    if verify_batch(vk, items) != [True] * BATCH:
        raise SystemExit("batch verification rejected a valid proof")
    batched = (time.perf_counter() - started) / BATCH
    native = None
    if native_available():
        native_verifier = NativeVerifier(run.vk)
        native = median_seconds(lambda: native_verifier.verify(run.proof, run.public), NATIVE_VERIFY_ROUNDS)
    cli = median_seconds(lambda: snarkjs.verify(run.vk, run.proof, run.public), rounds)
    return VerifyRun(single, batched, native, cli)


def engine_seconds(repeat: int = 3) -> float:
    """Fastest resolve + vectorized margin of 10,000 random accounts under ``standard``."""
    snapshot, _ = load_snapshot()
    profile = PROFILES["standard"]
    accounts = random_accounts(snapshot, profile, ENGINE_ACCOUNTS, seed=1)
    seconds, _ = best_of(repeat, lambda: portfolio_margin_batch([resolve(a, snapshot, profile) for a in accounts]))
    return seconds


def duration(seconds: float | None) -> str:
    """Milliseconds below 0.1 s, else seconds; n/a for None."""
    if seconds is None:
        return "n/a"
    return f"{seconds * 1000:.1f} ms" if seconds < 0.1 else f"{seconds:.2f} s"


def mib(value: float | None) -> str:
    """A memory figure, n/a for None."""
    return "n/a" if value is None else f"{value:,.0f} MiB"


def verdict(ok: bool) -> str:
    """How a figure compares with its target."""
    return "meets" if ok else "MISSES"


def profile_table(sizes: list[Size], runs: dict[str, ProveRun], native_note: str) -> str:
    """Size, witness and proving rows, one column per profile, with the targets."""
    names = [size.name for size in sizes]
    last = next((runs[name] for name in reversed(names) if name in runs), None)
    native, last_name = (last.native, last.profile) if last is not None else (None, "")
    largest = sizes[-1]
    rows: list[tuple[str, list[str], str]] = [
        ("constraints, proving build (O2, all non-linear)", [f"{s.o2:,}" for s in sizes], ""),
        ("constraints, inspect build (O1): non-linear + linear", [f"{s.nonlinear:,} + {s.linear:,}" for s in sizes], ""),
        ("wires (O2)", [f"{s.wires:,}" for s in sizes], ""),
        ("public inputs", [str(s.public) for s in sizes], ""),
        ("position slots", [str(s.slots) for s in sizes], ""),
        ("constraints per slot, all-in (O2 / slots)", [f"{s.per_slot:,.0f}" for s in sizes],
         f"{largest.name} <= {TARGETS['per_slot']:,}: {verdict(largest.per_slot <= TARGETS['per_slot'])}"),
    ]

    def per_run(field: Callable[[ProveRun], str]) -> list[str]:
        return [field(runs[name]) if name in runs else "not proven" for name in names]

    rows += [
        ("witness, wasmtime in-process", per_run(lambda r: duration(r.witness_wasmtime)), ""),
        ("witness, snarkjs wtns calculate (Node)", per_run(lambda r: duration(r.witness_node)), ""),
        ("prove, snarkjs (Node process)", per_run(lambda r: duration(r.snarkjs)), ""),
        ("prove, native (warm process, one core)", per_run(lambda r: duration(r.native.prove if r.native else None)),
         "" if native is None else
         f"{last_name} <= {TARGETS['native_prove']:.0f} s: {verdict(native.prove <= TARGETS['native_prove'])}"),
        ("snarkjs / native", per_run(lambda r: f"{r.snarkjs / r.native.prove:.1f}x" if r.native else "n/a"),
         "" if native is None or last is None else
         f"{last_name} >= {TARGETS['ratio']}x: {verdict(last.snarkjs / native.prove >= TARGETS['ratio'])}"),
        (f"prove, native, {os.cpu_count()} warm processes: seconds per proof",
         per_run(lambda r: duration(r.native.parallel if r.native else None)), ""),
        ("native zkey import (once per process)", per_run(lambda r: duration(r.native.key_import if r.native else None)), ""),
        ("peak RSS, snarkjs prove (Node)", per_run(lambda r: mib(r.snarkjs_peak_mib)), ""),
        ("peak RSS, native proving process (of which before the key)",
         per_run(lambda r: f"{mib(r.native.peak_mib)} ({mib(r.native.baseline_mib)})" if r.native else "n/a"), ""),
    ]
    header = f"| measure | {' | '.join(names)} | target |\n|---|{'---:|' * len(names)}---|"
    body = "\n".join(f"| {label} | {' | '.join(values)} | {target} |" for label, values, target in rows)
    return f"{header}\n{body}" + (f"\n\n{native_note}" if native_note else "")


def verify_table(result: VerifyRun, profile: str) -> str:
    """Verification per proof by each verifier, with the targets."""
    rows = [
        ("py_ecc, single", result.py_ecc_single, "py_ecc_single", "<= 0.5 s"),
        (f"py_ecc, batched (batch of {BATCH}), per proof", result.py_ecc_batched, "py_ecc_batched", "<= 0.15 s"),
        ("native (groth16py)", result.native, "native_verify", "<= 5 ms"),
        ("snarkjs CLI (Node start-up included)", result.snarkjs_cli, "", ""),
    ]
    lines = [f"| verify ({profile} proof) | per proof | target |", "|---|---:|---|"]
    for label, seconds, key, target in rows:
        check = "" if not key or seconds is None else f"{target}: {verdict(seconds <= TARGETS[key])}"
        lines.append(f"| {label} | {duration(seconds)} | {check} |")
    return "\n".join(lines)


def scaling_table(sizes: list[Size]) -> str:
    """Constraints of the scaling circuits, per slot and added per slot."""
    marginal = marginal_per_slot(sizes)
    lines = ["| circuit (standard, changed) | slots | depth | non-linear (O1) | linear (O1) | per slot | added per slot |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {s.name} | {s.slots} | {s.depth} | {s.nonlinear:,} | {s.linear:,} | {s.per_slot:,.0f} | "
              f"{f'{marginal[s.name]:,.0f}' if s.name in marginal else ''} |" for s in sizes]
    return "\n".join(lines)


def template_table(costs: dict[str, int]) -> str:
    """What one slot's templates cost."""
    lines = ["| template (standard sizes) | constraints (O2) |", "|---|---:|"]
    lines += [f"| {label} | {count:,} |" for label, count in costs.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Measure, print the report and append it to RESULTS.md."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profiles", nargs="+", default=list(PROFILES), choices=sorted(PROFILES),
                        help="profiles to measure (default: all)")
    parser.add_argument("--rounds", type=positive, default=3, help="runs per timing; the median is reported (default 3)")
    parser.add_argument("--no-scaling", action="store_true", help="skip the compile-only scaling rows")
    parser.add_argument("--no-record", action="store_true", help=f"do not append to {RESULTS.name}")
    args = parser.parse_args(argv)

    account, snapshot = load_model(Account, ACCOUNT), load_model(RiskSnapshot, SNAPSHOT)
    sizes = [profile_size(name) for name in args.profiles]
    runs: dict[str, ProveRun] = {}
    notes = []
    for name in args.profiles:
        print(f"measuring {name} ...", file=sys.stderr)
        run = measure_profile(name, args.rounds, account, snapshot)
        if isinstance(run, str):
            notes.append(f"{name} not proven: {run}")
        else:
            runs[name] = run
    if not native_available():
        notes.append("native rows n/a: groth16py is not installed (pip install '.[native]')")
    sections = [profile_table(sizes, runs, "\n".join(f"* {note}" for note in notes))]
    if runs:
        first = next(iter(runs.values()))
        sections.append(verify_table(measure_verify(first, args.rounds), first.profile))
    if not args.no_scaling:
        print("compiling the scaling circuits ...", file=sys.stderr)
        sections.append(scaling_table([scaled_size(profile) for profile in scaling_profiles()]))
        sections.append(template_table(template_costs(PROFILES["standard"])))
    sections.append(f"engine: resolve + vectorized margin of {ENGINE_ACCOUNTS:,} random accounts (standard): "
                    f"{duration(engine_seconds())}")
    report = (f"account {ACCOUNT.relative_to(REPO)}, snapshot {SNAPSHOT.relative_to(REPO)}; medians of "
              f"{args.rounds} runs; snarkjs rows are one Node process each (start-up included); the native "
              f"backend proves in a separate Python process that imported the zkey once; scaling rows are "
              f"compile only\n\nmachine: {machine()}\n\n" + "\n\n".join(sections) + "\n")
    print(report)
    if not args.no_record:
        record("prove", report)


if __name__ == "__main__":
    main()
