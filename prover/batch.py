"""Epoch batch proving: every account of a folder or a JSONL file, on a local process pool or on Ray.

:func:`plan_batch` reads the accounts and what the output folder already holds: an account whose
bundle is there and verifies (this snapshot, this key, its own commitment, the threshold; one
batched pairing check for all of them) is skipped, an unreadable account is reported, the others
become jobs. :func:`run_batch` proves the jobs on warm workers (one
:class:`~prover.batch_worker.BatchWorker` per process or Ray actor) and writes each result
atomically the moment it arrives, so an interrupted batch loses only the accounts in flight and a
rerun proves only what is missing; a worker that dies has its account retried. It ends by writing
``batch-summary.json`` (per account: status, seconds, attempts, worker; totals and proofs/s).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from prover.batch_files import SUMMARY_NAME, bundle_path, read_accounts, shortfall_path
from prover.batch_pool import DEFAULT_MAX_ATTEMPTS, run_pool
from prover.batch_ray import import_ray, run_on_ray
from prover.batch_verify import check_bundles
from prover.batch_worker import (
    STATUSES,
    Job,
    Outcome,
    ProveSpec,
    Status,
    init_process,
    prove_in_process,
)
from prover.circuits import MarginCircuit
from prover.margin import load_keys
from verifier.native import load_groth16py
from zkmargin.bundle import Backend, ProofBundle
from zkmargin.commitment import commit_account
from zkmargin.errors import InputError, OutputError
from zkmargin.files import check_output_dir
from zkmargin.io import dump_json, load_model, save_model
from zkmargin.models import Account, RiskSnapshot


UNWRITTEN = f"the proof was computed and is kept in {SUMMARY_NAME} (its 'bundle' field)"
"""Why a proven account is 'failed': its bundle could not be written (a full or read-only folder)."""


@dataclass(frozen=True)
class BatchOptions:
    """How to prove a batch."""

    model: str = "portfolio"
    profile: str = "small"
    threshold_bps: int = 10_000
    backend: Backend = "snarkjs"
    workers: int | None = None
    """Processes of the local pool (default: one per CPU) or Ray actors (default: one per cluster CPU)."""
    ray_address: str | None = None
    """``auto`` or a Ray cluster address; None proves on a local process pool."""
    max_attempts: int = DEFAULT_MAX_ATTEMPTS

    @property
    def local_workers(self) -> int:
        """Processes of this machine's pools (proving without Ray; checking earlier bundles)."""
        return self.workers or os.cpu_count() or 1

    @property
    def executor(self) -> str:
        """Where the proofs are made, in words."""
        if self.ray_address is not None:
            actors = _count(self.workers, "actor") if self.workers else "one actor per CPU"
            return f"Ray cluster {self.ray_address} ({actors})"
        return f"local process pool ({_count(self.local_workers, 'worker')})"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


@dataclass(frozen=True)
class BatchPlan:
    """A batch ready to run: the jobs left to prove and the accounts already settled."""

    out_dir: Path
    options: BatchOptions
    spec: ProveSpec
    snapshot: RiskSnapshot
    jobs: list[Job]
    settled: list[Outcome]
    """Accounts decided before proving: skipped (valid earlier bundle) and invalid ones."""


@dataclass(frozen=True)
class BatchSummary:
    """How a batch ended."""

    plan: BatchPlan
    outcomes: list[Outcome]
    seconds: float
    """Wall time of proving the jobs (workers' start included)."""
    restarts: int
    """Times the pool was recreated (or Ray actors replaced) after a worker died."""

    def count(self, status: Status) -> int:
        return sum(outcome.status == status for outcome in self.outcomes)

    @property
    def proofs_per_second(self) -> float:
        return self.count("proven") / self.seconds if self.seconds > 0 else 0.0

    @property
    def complete(self) -> bool:
        """Does every account have a valid bundle now?"""
        return all(outcome.status in ("proven", "skipped") for outcome in self.outcomes)

    def to_json(self) -> dict[str, Any]:
        spec, snapshot = self.plan.spec, self.plan.snapshot
        return {
            "circuit_id": spec.circuit.circuit_id,
            "backend": spec.backend,
            "threshold_bps": spec.threshold_bps,
            "snapshot": {"venue": snapshot.venue, "epoch": snapshot.epoch},
            "executor": self.plan.options.executor,
            "finished_at": ProofBundle.now(),
            "totals": {
                "accounts": len(self.outcomes),
                **{status: self.count(status) for status in STATUSES},
                "seconds": round(self.seconds, 3),
                "proofs_per_second": round(self.proofs_per_second, 4),
                "worker_restarts": self.restarts,
            },
            "accounts": [
                {"account": o.name, "status": o.status, "seconds": round(o.seconds, 3), "attempts": o.attempts,
                 "worker": o.worker, "message": o.message,
                 **({"bundle": o.bundle.model_dump(mode="json")} if o.status == "failed" and o.bundle else {})}
                for o in self.outcomes
            ],
        }


def plan_batch(accounts: Path, snapshot_path: Path, out_dir: Path, options: BatchOptions) -> BatchPlan:
    """Read the accounts, check the bundles already in ``out_dir``, and list what is left to prove.

    Raises a ZkMarginError (one line) for what stops the whole batch: a missing or malformed
    snapshot, no keys for the circuit, no accounts, groth16py or Ray missing when asked for.
    """
    check_output_dir(out_dir)
    snapshot = load_model(RiskSnapshot, snapshot_path)
    circuit = MarginCircuit.named(options.model, options.profile)
    if options.backend == "native":
        load_groth16py()  # before any work: without groth16py, say how to install it
    if options.ray_address is not None:
        import_ray()  # before any work: without Ray, say how to install it
    circuit.build()  # compiled (or found cached) once here, not by every worker at once
    keys = load_keys(circuit)
    entries = read_accounts(accounts)
    settled = [Outcome(entry.name, "invalid", message=entry.error) for entry in entries if entry.account is None]
    usable = {entry.name: entry.account for entry in entries if entry.account is not None}
    found = {name: _commitment(account, circuit) for name, account in usable.items()
             if bundle_path(out_dir, name).is_file()}
    expected = {name: commitment for name, commitment in found.items() if commitment is not None}
    existing = {name: bundle_path(out_dir, name) for name in expected}
    valid: set[str] = set()
    if existing:
        checks = check_bundles(existing, keys.vk, snapshot, expected=expected, model=options.model,
                               min_threshold_bps=options.threshold_bps, workers=options.local_workers)
        valid = {name for name, check in checks.items() if check.ok}
    settled += [Outcome(name, "skipped", message="valid bundle from an earlier run") for name in sorted(valid)]
    spec = ProveSpec(circuit, keys, snapshot.model_dump_json(), options.threshold_bps, options.backend)
    jobs = [Job(name, account.model_dump_json()) for name, account in usable.items() if name not in valid]
    return BatchPlan(out_dir, options, spec, snapshot, jobs, settled)


def _commitment(account: Account, circuit: MarginCircuit) -> int | None:
    """The account's commitment under the circuit, None if it does not fit (its job says why)."""
    try:
        return commit_account(account, circuit.profile, circuit.model)
    except InputError:
        return None


def run_batch(plan: BatchPlan, on_outcome: Callable[[Outcome], None] = lambda _: None) -> BatchSummary:
    """Prove the plan's jobs, writing each result as it arrives, then the summary.

    ``on_outcome`` sees every job's outcome once written (progress bars; tests kill workers by the
    pid in ``outcome.worker``). An exception it raises stops the batch after the jobs in flight.
    """
    options = plan.options
    proved: list[Outcome] = []

    def record(job: Job, outcome: Outcome, attempts: int) -> None:
        outcome = replace(outcome, attempts=attempts)
        try:
            _write(plan.out_dir, outcome)
        except OutputError as e:  # full or read-only folder: the summary keeps the proof
            outcome = replace(outcome, status="failed", message=f"{e}; {UNWRITTEN}")
        proved.append(outcome)
        on_outcome(outcome)

    def give_up(job: Job, deaths: int) -> None:
        record(job, Outcome(job.name, "failed", message=f"its worker died {deaths} times while proving it"), deaths)

    started = time.monotonic()
    restarts = 0
    if plan.jobs and options.ray_address is not None:
        restarts = run_on_ray(options.ray_address, plan.spec, plan.jobs, workers=options.workers,
                              on_result=record, on_give_up=give_up, max_attempts=options.max_attempts)
    elif plan.jobs:
        restarts = run_pool(plan.jobs, prove_in_process, workers=min(options.local_workers, len(plan.jobs)),
                            initializer=init_process, initargs=(plan.spec, os.getpid()), on_result=record,
                            on_give_up=give_up, max_attempts=options.max_attempts)
    outcomes = sorted([*plan.settled, *proved], key=lambda outcome: outcome.name)
    summary = BatchSummary(plan, outcomes, time.monotonic() - started, restarts)
    _write_summary(summary, plan.out_dir / SUMMARY_NAME)
    return summary


def _write_summary(summary: BatchSummary, path: Path) -> None:
    """Write the summary; if its folder refuses it, write it to the temp folder instead and raise
    OutputError naming that copy, so no proof it holds is lost."""
    try:
        dump_json(summary.to_json(), path)
    except OutputError as e:
        fd, rescue = tempfile.mkstemp(prefix="zkmargin-batch-summary-", suffix=".json")
        os.close(fd)
        dump_json(summary.to_json(), rescue)
        raise OutputError(f"{e}; the summary (with every unwritten proof) is in {rescue}") from None


def _write(out_dir: Path, outcome: Outcome) -> None:
    """Write a bundle or a shortfall report atomically, removing the other, now stale, one."""
    if outcome.bundle is not None:
        save_model(outcome.bundle, bundle_path(out_dir, outcome.name))
        shortfall_path(out_dir, outcome.name).unlink(missing_ok=True)
    elif outcome.shortfall is not None:
        dump_json(outcome.shortfall, shortfall_path(out_dir, outcome.name))
        bundle_path(out_dir, outcome.name).unlink(missing_ok=True)
