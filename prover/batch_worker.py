"""A warm batch worker: the circuit's wasm, keys and snapshot loaded once, then statement after statement.

:class:`BatchWorker` runs in a process of the local pool (built once per process by
:func:`init_process`) or as a Ray actor (the same class, wrapped by ``ray.remote``). It never
raises for one account: every account ends as an :class:`Outcome` (proven with its bundle, below
the claimed health with a shortfall report, invalid input, or failed), so one bad account cannot
stop a batch.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass
from typing import Any, Literal, get_args

from prover.circuits import MarginCircuit
from prover.lifetime import die_with_parent
from prover.margin import MarginProver
from prover.setup import KeySet
from zkmargin import fixedpoint as fp
from zkmargin.bundle import Backend, ProofBundle
from zkmargin.errors import BelowMarginError, InputError
from zkmargin.io import parse_model
from zkmargin.models import RiskSnapshot, Statement
from zkmargin.report import health_line
from zkmargin.terms import Health

Status = Literal["proven", "skipped", "below_margin", "invalid", "failed"]
"""proven: a new bundle; skipped: a valid bundle from an earlier run; below_margin: a shortfall
report, no proof; invalid: the statement cannot be read, does not belong to the epoch or cannot be
resolved under the snapshot; failed: proving failed (or its worker died too often)."""
STATUSES: tuple[Status, ...] = get_args(Status)


@dataclass(frozen=True)
class ProveSpec:
    """What every worker of one batch loads once: circuit, keys, snapshot, threshold, backend."""

    circuit: MarginCircuit
    keys: KeySet
    snapshot_json: str
    threshold_bps: int
    backend: Backend


@dataclass(frozen=True)
class Job:
    """One account to prove: its account id and the venue's statement as JSON text (cheap to send
    to a process or a cluster)."""

    name: str
    statement_json: str


@dataclass(frozen=True)
class Outcome:
    """How one account of a batch ended, where and how long it took."""

    name: str
    status: Status
    seconds: float = 0.0
    message: str = ""
    bundle: ProofBundle | None = None
    shortfall: dict[str, Any] | None = None
    worker: str = ""
    attempts: int = 0


def worker_name() -> str:
    """``host:pid`` of the current process (the pid lets a test or an operator kill it)."""
    return f"{socket.gethostname()}:{os.getpid()}"


class BatchWorker:
    """One warm prover for one batch (a process of the pool, or a Ray actor)."""

    def __init__(self, spec: ProveSpec) -> None:
        self.prover = MarginProver(spec.circuit, spec.keys, spec.backend)
        self.snapshot = parse_model(RiskSnapshot, spec.snapshot_json, source="snapshot")
        self.threshold_bps = spec.threshold_bps
        self.prover.commitment(self.snapshot).tree  # noqa: B018 - build the snapshot tree now, not in the first proof

    def ready(self) -> str:
        """This worker's ``host:pid`` once it is loaded (Ray waits on it to surface load errors)."""
        return worker_name()

    def prove(self, job: Job) -> Outcome:
        """Prove one statement's account; any failure becomes the outcome, never an exception."""
        started = time.monotonic()

        def outcome(status: Status, message: str = "", **extra: Any) -> Outcome:
            return Outcome(job.name, status, time.monotonic() - started, message, worker=worker_name(), **extra)

        try:
            statement = parse_model(Statement, job.statement_json, source=job.name)
            bundle = self.prover.prove(statement, self.snapshot, self.threshold_bps)
        except BelowMarginError as e:
            result = self.prover.margin(statement.account, self.snapshot, self.threshold_bps)
            return outcome("below_margin", str(e), shortfall=shortfall_report(job.name, result))
        except InputError as e:
            return outcome("invalid", str(e))
        except Exception as e:  # noqa: BLE001 - the batch boundary: one account never stops the others
            return outcome("failed", f"{type(e).__name__}: {e}")
        return outcome("proven", bundle=bundle)


def shortfall_report(name: str, result: Health) -> dict[str, Any]:
    """Why an account is below the claimed health: the failing check ``equity >= MM x threshold``,
    its two sides, the shortfall, and IM behind MM (USD as exact decimal strings; under the
    isolated model, the weakest position's)."""
    threshold = result.threshold_bps
    scale = fp.EQUITY_SCALE * fp.BPS  # of MM x threshold_bps and of the health difference
    return {
        "account": name,
        "status": "below_margin",
        "summary": health_line(result),
        "failing_check": f"equity (after MM haircuts) >= MM x {threshold / fp.BPS:.2f}",
        "threshold_bps": threshold,
        "equity_usd": fp.format_decimal(result.equity, fp.EQUITY_SCALE),
        "required_usd": fp.format_decimal(result.mm * threshold, scale),
        "shortfall_usd": fp.format_decimal(-result.health, scale),
        "maintenance_margin_usd": fp.format_decimal(result.mm, fp.EQUITY_SCALE),
        "initial_margin_usd": fp.format_decimal(result.im, fp.VALUE_SCALE),
    }


_worker: BatchWorker | str = "not initialized"
"""This pool process's warm worker, or why it could not be built (see :func:`init_process`)."""


def init_process(spec: ProveSpec, parent_pid: int) -> None:
    """Process pool initializer: die with the batch's main process ``parent_pid`` (a pool worker
    would otherwise wait forever for work from a killed parent), then build this process's warm
    worker. It never raises (a pool whose initializer fails dies and would be recreated in vain):
    a failure fails each account instead, with the reason."""
    global _worker
    die_with_parent(parent_pid)
    try:
        _worker = BatchWorker(spec)
    except Exception as e:  # noqa: BLE001 - reported per account by prove_in_process
        _worker = f"the worker could not load the prover: {type(e).__name__}: {e}"


def prove_in_process(job: Job) -> Outcome:
    """Process pool task: prove ``job`` with this process's warm worker."""
    if isinstance(_worker, str):
        return Outcome(job.name, "failed", message=_worker, worker=worker_name())
    return _worker.prove(job)
