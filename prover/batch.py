"""Epoch batch proving: every statement of a venue's published epoch, on a local process pool or on Ray.

:func:`plan_batch` checks the epoch (the venue's signature, the snapshot it names) and reads its
statements (:mod:`prover.batch_files`) and what the output folder already holds: an account whose
bundle is there and meets the verifier's policy (the signed epoch, this snapshot, this key and
model, the holder of the account's own statement, the threshold; one batched pairing check for
all of them) is skipped, a statement that does not belong to the epoch is reported, the others
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

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from prover.batch_files import SUMMARY_NAME, bundle_path, read_epoch, shortfall_path
from prover.batch_pool import DEFAULT_MAX_ATTEMPTS, run_pool
from prover.batch_ray import import_ray, run_on_ray
from prover.batch_verify import BatchPolicy, check_bundles
from prover.batch_worker import (
    STATUSES,
    BatchWorker,
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
from zkmargin.commitment import SnapshotCommitment
from zkmargin.errors import InputError, OutputError
from zkmargin.files import check_output_dir
from zkmargin.io import dump_json, load_model, save_model
from zkmargin.models import Epoch, RiskSnapshot
from zkmargin.venue import check_epoch_signature


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
    epoch: Epoch
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
            "account_root": str(self.plan.epoch.account_root),
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


def plan_batch(epoch_dir: Path, snapshot_path: Path, venue_key: Ed25519PublicKey, out_dir: Path,
               options: BatchOptions) -> BatchPlan:
    """Check the published epoch in ``epoch_dir``, read its statements, check the bundles already in
    ``out_dir``, and list what is left to prove.

    Raises a ZkMarginError (one line) for what stops the whole batch: an epoch file that is
    missing, malformed or not signed by ``venue_key``; a snapshot that is not the one the epoch
    signs for the profile; no keys for the circuit; no statements; groth16py or Ray missing when
    asked for.
    """
    published = read_epoch(epoch_dir)
    epoch = published.epoch
    check_epoch_signature(epoch, venue_key)
    snapshot = load_model(RiskSnapshot, snapshot_path)
    circuit = MarginCircuit.named(options.model, options.profile)
    _check_snapshot(epoch, snapshot, SnapshotCommitment(snapshot, circuit.profile).root, options.profile)
    check_output_dir(out_dir)  # after the cheap input checks, before any work
    if options.backend == "native":
        load_groth16py()  # before any work: without groth16py, say how to install it
    if options.ray_address is not None:
        import_ray()  # before any work: without Ray, say how to install it
    circuit.build()  # compiled (or found cached) once here, not by every worker at once
    keys = load_keys(circuit)
    entries = published.entries
    settled = [Outcome(entry.name, "invalid", message=entry.error) for entry in entries if entry.statement is None]
    usable = {entry.name: entry.statement for entry in entries if entry.statement is not None}
    existing = {name: bundle_path(out_dir, name) for name in usable if bundle_path(out_dir, name).is_file()}
    valid: set[str] = set()
    if existing:
        policy = BatchPolicy(snapshot, epoch, venue_key, options.model, options.threshold_bps,
                             {name: statement.holder for name, statement in usable.items()})
        checks = check_bundles(existing, keys.vk, policy, workers=options.local_workers)
        valid = {name for name, check in checks.items() if check.ok}
    settled += [Outcome(name, "skipped", message="valid bundle from an earlier run") for name in sorted(valid)]
    spec = ProveSpec(circuit, keys, snapshot.model_dump_json(), options.threshold_bps, options.backend)
    jobs = [Job(name, statement.model_dump_json()) for name, statement in usable.items() if name not in valid]
    return BatchPlan(out_dir, options, spec, snapshot, epoch, jobs, settled)


def _check_snapshot(epoch: Epoch, snapshot: RiskSnapshot, root: int, profile: str) -> None:
    """InputError unless ``snapshot`` (whose root under ``profile`` is ``root``) is the one the
    venue signed in ``epoch``."""
    signed = epoch.snapshot_roots.get(profile)
    if snapshot.epoch != epoch.epoch or signed is None or signed != root:
        raise InputError(f"snapshot {snapshot.venue} epoch {snapshot.epoch} is not the snapshot the venue signed "
                         f"for profile {profile} in epoch {epoch.epoch}")


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
        restarts = run_on_ray(options.ray_address, BatchWorker, plan.spec, plan.jobs, workers=options.workers,
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
