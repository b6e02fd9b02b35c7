"""Proving an epoch's solvency: the chain of ``SolvencyBatch`` proofs over the whole account tree.

:func:`plan_solvency` reads the venue's epoch folder (``epoch.json``, the private statements), checks
every statement against the ledger and the signed account root, margins every account with the
engine and derives every chain state (:func:`zkmargin.solvency.chain_states`; the salts from the
venue's chain secret, ``EPOCH_DIR/solvency-chain.key``), so the batches are independent jobs.
:func:`run_solvency` proves the batches not yet in the output folder on warm workers, a local
process pool (:func:`prover.batch_pool.run_pool`) or Ray actors (:func:`prover.batch_ray.run_on_ray`,
the runner of ``zkmargin batch prove --ray``); a worker that dies has its batch retried. It writes
each batch file atomically as it arrives, and ends with ``solvency.json`` (the totals). A rerun skips every
batch whose file is there and verifies with the expected chain commitments: resumable.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prover.backends import ProvingBackend, proving_backend
from prover.batch_pool import run_pool
from prover.batch_ray import run_on_ray
from prover.batch_worker import worker_name
from prover.circuits import WarmWitness
from prover.lifetime import die_with_parent
from prover.margin import load_keys
from prover.setup import MANIFEST_NAME, KeySet
from prover.solvency_circuit import SolvencyCircuit
from verifier import load_verifying_key, parse_proof, verify
from verifier.batch import verify_batch
from zkmargin.account_tree import ACCOUNT_TREE_DEPTH, LeafBook, statement_leaf, statement_proof
from zkmargin.book import resolve
from zkmargin.bundle import Backend, Groth16Proof, ProofBundle
from zkmargin.circuit_input import Signal, book_inputs, hint_inputs
from zkmargin.commitment import SnapshotCommitment
from zkmargin.errors import InputError, ProverError
from zkmargin.io import load_model, parse_model, save_model, write_atomic
from zkmargin.isolated import IsolatedResult
from zkmargin.margin import margin_model
from zkmargin.merkle import MerkleTree
from zkmargin.models import Account, Epoch, RiskSnapshot, Statement
from zkmargin.profiles import Profile
from zkmargin.solvency import FULL_MM_BPS, SOLVENCY_MODELS, ChainState, account_figures, batch_count, chain_states
from zkmargin.solvency_files import SolvencyBatchProof, SolvencyManifest, batch_path, manifest_path

CHAIN_SECRET_NAME = "solvency-chain.key"
#: Inputs of the batch circuit opened once per batch (the snapshot terms), from ``book_inputs``.
SNAPSHOT_INPUTS = ("snapshot_root", "instrument_root", "asset_price", "tier_from", "hc_mm", "hc_im",
                   "mm_factor_bps", "contingency_bps", "short_option_min_bps", "epoch")


def chain_secret(epoch_dir: Path) -> bytes:
    """The venue's secret behind the chain's salts (created once, 0600, next to the statements)."""
    path = epoch_dir / CHAIN_SECRET_NAME
    if not path.exists():
        write_atomic(path, secrets.token_hex(32) + "\n", mode=0o600)
    return bytes.fromhex(path.read_text().strip())


def account_inputs(account: Account, commitment: SnapshotCommitment, model: str) -> dict[str, Signal]:
    """One account's book, instrument leaves, model hints and (except under isolated margin, whose
    circuit hashes the allocations itself) allocation hash (``Margin``'s names), resolved and
    padded to the commitment's profile."""
    book = resolve(account, commitment.snapshot, commitment.profile)
    result = margin_model(model)(book, FULL_MM_BPS)
    hints = hint_inputs(book, result)
    del hints["threshold_bps"]
    if not isinstance(result, IsolatedResult):
        hints["allocation_hash"] = LeafBook.of(account).allocation_hash()
    return {**{k: v for k, v in book_inputs(book, commitment).items() if k not in SNAPSHOT_INPUTS}, **hints}


@dataclass(frozen=True)
class BatchJob:
    """One batch: its index, its statements (JSON; fewer than B in the last batch), the paths of
    its empty leaves, and the chain states around it."""

    index: int
    account_root: int
    statements_json: tuple[str, ...]
    empty_paths: tuple[tuple[tuple[int, int, int], ...], ...]
    state_in: ChainState
    state_out: ChainState


def batch_inputs(job: BatchJob, commitment: SnapshotCommitment, model: str, batch: int) -> dict[str, Signal]:
    """The inputs of ``SolvencyBatch`` for ``job`` (InputError if a statement does not open to its
    account root or is not at its leaf)."""
    start = job.state_in.next
    rows: list[dict[str, Signal]] = []
    for j, text in enumerate(job.statements_json):
        statement = parse_model(Statement, text, source=f"batch {job.index} statement {j}")
        proof = statement_proof(statement)
        if proof.index != start + j:
            raise InputError(f"statement {statement.account_id} is leaf {proof.index}, not {start + j}")
        rows.append({"holder": statement.holder, "salt": statement.salt,
                     "account_path": [list(level) for level in proof.siblings],
                     **account_inputs(statement.account, commitment, model)})
    for path in job.empty_paths:  # the empty book is the prover's choice; it is not counted
        rows.append({"holder": 0, "salt": 0, "account_path": [list(s) for s in path],
                     **account_inputs(Account(), commitment, model)})
    if len(rows) != batch:
        raise InputError(f"batch {job.index} has {len(rows)} leaves; the circuit takes {batch}")
    snapshot = book_inputs(resolve(Account(), commitment.snapshot, commitment.profile), commitment)
    return {
        **{k: snapshot[k] for k in SNAPSHOT_INPUTS},
        "account_root": job.account_root,
        "chain_in": job.state_in.commitment(),
        "chain_out": job.state_out.commitment(),
        "tree_accounts": job.state_in.tree_accounts,
        "start": start,
        "totals_in": list[Signal](job.state_in.totals.fields()),
        "salt_in": job.state_in.salt,
        "salt_out": job.state_out.salt,
        **{k: [row[k] for row in rows] for k in rows[0]},
    }


@dataclass(frozen=True)
class SolvencySpec:
    """What every worker loads once: circuit, keys, snapshot, backend, the epoch's venue."""

    circuit: SolvencyCircuit
    keys: KeySet
    snapshot_json: str
    backend: Backend
    venue: str


class SolvencyWorker:
    """A warm prover of batch proofs (wasm, keys and the snapshot's commitment loaded once): a
    process of the local pool, or a Ray actor (a :class:`prover.batch_ray.RayWorker`)."""

    def __init__(self, spec: SolvencySpec) -> None:
        self.spec = spec
        self.witness = WarmWitness(spec.circuit.build())
        self.vk = load_verifying_key(spec.keys.vk)
        self.proving: ProvingBackend = proving_backend(spec.backend, spec.keys.zkey)
        snapshot = parse_model(RiskSnapshot, spec.snapshot_json, source="snapshot")
        self.commitment = SnapshotCommitment(snapshot, spec.circuit.profile)

    def ready(self) -> str:
        """This worker's ``host:pid`` once it is loaded (Ray waits on it to surface load errors)."""
        return worker_name()

    def prove(self, job: BatchJob) -> SolvencyBatchProof | str:
        """The batch's proof, or why it failed (one line): never raises."""
        try:
            return self.batch_proof(job)
        except Exception as e:  # noqa: BLE001 - the worker boundary: the run reports it
            return f"{type(e).__name__}: {e}"

    def batch_proof(self, job: BatchJob) -> SolvencyBatchProof:
        """Prove one batch and check it under its own key (ProverError otherwise)."""
        circuit = self.spec.circuit
        values = self.witness.calculator.calculate(batch_inputs(job, self.commitment, circuit.model, circuit.batch))
        proof, signals = self.proving.prove(values)
        if not verify(self.vk, parse_proof(proof), signals):
            raise ProverError(f"{circuit.circuit_id}: batch {job.index} does not verify under its own key")
        return SolvencyBatchProof(
            circuit_id=circuit.circuit_id, index=job.index, vk_fingerprint=self.vk.fingerprint(),
            public_signals=[str(s) for s in signals],
            proof=Groth16Proof(pi_a=proof["pi_a"], pi_b=proof["pi_b"], pi_c=proof["pi_c"]),
            venue=self.spec.venue, epoch=self.commitment.snapshot.epoch, created_at=ProofBundle.now(),
            prover_backend=self.proving.name)


_worker: SolvencyWorker | str = "not initialized"


def init_process(spec: SolvencySpec, parent_pid: int) -> None:
    """Pool initializer: die with the run's main process ``parent_pid``, then build this process's
    warm worker, or say why it could not be built (never raises)."""
    global _worker
    die_with_parent(parent_pid)
    try:
        _worker = SolvencyWorker(spec)
    except Exception as e:  # noqa: BLE001 - reported per batch by prove_in_process
        _worker = f"the worker could not load the prover: {type(e).__name__}: {e}"


def prove_in_process(job: BatchJob) -> SolvencyBatchProof | str:
    """Pool task: the batch's proof, or why it failed (one line)."""
    return _worker if isinstance(_worker, str) else _worker.prove(job)


@dataclass(frozen=True)
class SolvencyPlan:
    """A chain ready to prove: every batch's job, which are already proven, the manifest to write."""

    out_dir: Path
    spec: SolvencySpec
    jobs: list[BatchJob]
    done: set[int]
    manifest: SolvencyManifest


def read_statements(epoch_dir: Path, ledger: Path, epoch: Epoch) -> list[Statement]:
    """The epoch's statements in tree order, each checked against its ledger entry (holder and
    book) and the signed account root; the leaves must be exactly 0 .. N - 1 (InputError)."""
    from zkmargin.venue import read_ledger

    statements = []
    for entry in read_ledger(ledger):
        path = epoch_dir / "statements" / f"{entry.account_id}.json"
        if not path.is_file():
            raise InputError(f"{entry.source}: account {entry.account_id} has no statement {path}")
        statement = load_model(Statement, path)
        if statement.holder != entry.holder or LeafBook.of(statement.account) != LeafBook.of(entry):
            raise InputError(f"{path}: its holder or book is not the ledger's ({entry.source})")
        if statement.account_root != epoch.account_root or statement.epoch != epoch.epoch:
            raise InputError(f"{path}: of another epoch or account root than {epoch.venue} epoch {epoch.epoch}")
        statements.append(statement)
    statements.sort(key=lambda s: s.index)
    if [s.index for s in statements] != list(range(epoch.accounts)):
        raise InputError(f"the ledger's statements are not leaves 0..{epoch.accounts - 1} of the epoch's tree")
    return statements


def chain_jobs(epoch_dir: Path, epoch: Epoch, ledger: Path, snapshot: RiskSnapshot, model: str, profile: Profile,
               batch: int) -> list[BatchJob]:
    """Every batch's job: the statements of ``epoch`` (``epoch_dir/epoch.json``, checked by
    :func:`read_statements`) in tree order, B to a batch, with the chain states around each batch
    (InputError for a snapshot or statements of another epoch, or leaves that do not hash to its
    account root)."""
    if snapshot.epoch != epoch.epoch:
        raise InputError(f"the snapshot is epoch {snapshot.epoch}; the epoch folder is epoch {epoch.epoch}")
    statements = read_statements(epoch_dir, ledger, epoch)
    tree = MerkleTree([statement_leaf(s) for s in statements], ACCOUNT_TREE_DEPTH)
    if tree.root != epoch.account_root:
        raise InputError("the statements' leaves do not hash to the epoch's account root")
    figures = [account_figures(s.account, snapshot, profile, model) for s in statements]
    states = chain_states(figures, batch, chain_secret(epoch_dir), epoch.epoch)
    jobs = []
    for k in range(batch_count(epoch.accounts, batch)):
        chunk = statements[k * batch:(k + 1) * batch]
        empty = range(k * batch + len(chunk), (k + 1) * batch)
        jobs.append(BatchJob(k, tree.root, tuple(s.model_dump_json() for s in chunk),
                             tuple(tree.proof(i).siblings for i in empty), states[k], states[k + 1]))
    return jobs


def plan_solvency(epoch_dir: Path, ledger: Path, snapshot_path: Path, out_dir: Path, *, model: str = "portfolio",
                  profile: str = "small", batch: int = 2, backend: Backend = "snarkjs",
                  insurance_fund: int | None = None) -> SolvencyPlan:
    """Everything a chain needs before proving (ZkMarginError, one line, for what stops it)."""
    if model not in SOLVENCY_MODELS:
        raise InputError(f"solvency is proven under {', '.join(SOLVENCY_MODELS)}, not {model!r}")
    circuit = SolvencyCircuit.sized(model, profile, batch)
    epoch = load_model(Epoch, epoch_dir / "epoch.json")
    snapshot = load_model(RiskSnapshot, snapshot_path)
    jobs = chain_jobs(epoch_dir, epoch, ledger, snapshot, model, circuit.profile, batch)
    if not (circuit.keys_dir() / MANIFEST_NAME).is_file():
        raise ProverError(f"no keys for {circuit.circuit_id}: run `zkmargin venue setup-solvency --model {model} "
                          f"--profile {profile} --batch {batch}` first")
    circuit.build()
    keys = load_keys(circuit)
    spec = SolvencySpec(circuit, keys, snapshot.model_dump_json(), backend, epoch.venue)
    manifest = SolvencyManifest(
        venue=epoch.venue, epoch=epoch.epoch, circuit_id=circuit.circuit_id, model=model, profile=profile,
        batch_size=batch, batches=len(jobs), accounts=epoch.accounts, account_root=str(epoch.account_root),
        snapshot_root=str(epoch.snapshot_roots[profile]), totals=jobs[-1].state_out.totals.to_json(),
        insurance_fund=insurance_fund)
    return SolvencyPlan(out_dir, spec, jobs, _proven(out_dir, jobs, keys), manifest)


def _proven(out_dir: Path, jobs: Sequence[BatchJob], keys: KeySet) -> set[int]:
    """Batches whose file is there and verifies with the expected chain commitments."""
    found: list[tuple[int, SolvencyBatchProof]] = []
    for job in jobs:
        path = batch_path(out_dir, job.index)
        if path.is_file():
            try:
                found.append((job.index, load_model(SolvencyBatchProof, path)))
            except InputError:
                continue
    if not found:
        return set()
    vk = load_verifying_key(keys.vk)
    expected = {job.index: [job.state_in.commitment(), job.state_out.commitment()] for job in jobs}
    fits = [(k, b) for k, b in found if [int(x) for x in b.public_signals[2:]] == expected[k]]
    ok = verify_batch(vk, [(parse_proof(b.proof.model_dump()), [int(x) for x in b.public_signals]) for _, b in fits])
    return {k for (k, _), good in zip(fits, ok) if good}


@dataclass(frozen=True)
class SolvencyRun:
    """How a run ended: batches proven now, skipped (proven before), failed (with reasons), and
    where the proofs were made."""

    proven: int
    skipped: int
    failed: dict[int, str]
    seconds: float
    restarts: int
    executor: str


def run_solvency(plan: SolvencyPlan, *, workers: int | None = None, ray_address: str | None = None,
                 on_batch: Callable[[int, str], None] = lambda k, status: None) -> SolvencyRun:
    """Prove the batches not yet proven; write ``solvency.json`` once every batch is there.

    ``workers``: processes of the local pool (default: one per CPU), or Ray actors (default: one
    per CPU of the cluster) when ``ray_address`` (``auto`` or a cluster address) is given."""
    plan.out_dir.mkdir(parents=True, exist_ok=True)
    todo = [job for job in plan.jobs if job.index not in plan.done]
    failed: dict[int, str] = {}
    proven = 0

    def on_result(job: BatchJob, result: SolvencyBatchProof | str, runs: int) -> None:
        nonlocal proven
        if isinstance(result, str):
            failed[job.index] = result
            on_batch(job.index, f"failed: {result}")
            return
        save_model(result, batch_path(plan.out_dir, job.index))
        proven += 1
        on_batch(job.index, "proven")

    def on_give_up(job: BatchJob, deaths: int) -> None:
        failed[job.index] = f"its worker died {deaths} times"
        on_batch(job.index, failed[job.index])

    started = time.monotonic()
    restarts = 0
    executor = "none (nothing to prove)"
    if todo and ray_address is not None:
        executor = f"Ray cluster {ray_address}"
        restarts = run_on_ray(ray_address, SolvencyWorker, plan.spec, todo, workers=workers, on_result=on_result,
                              on_give_up=on_give_up)
    elif todo:
        executor = "local process pool"
        restarts = run_pool(todo, prove_in_process, workers=min(workers or os.cpu_count() or 1, len(todo)),
                            initializer=init_process, initargs=(plan.spec, os.getpid()), on_result=on_result,
                            on_give_up=on_give_up)
    if not failed:
        save_model(plan.manifest, manifest_path(plan.out_dir))
    return SolvencyRun(proven, len(plan.done), failed, time.monotonic() - started, restarts, executor)


def describe(run: SolvencyRun) -> dict[str, Any]:
    """The run in numbers (for the CLI's last line and the benchmark)."""
    rate = run.proven / run.seconds if run.seconds > 0 else 0.0
    return {"proven": run.proven, "skipped": run.skipped, "failed": len(run.failed), "seconds": round(run.seconds, 2),
            "batches_per_second": round(rate, 4), "worker_restarts": run.restarts, "executor": run.executor}
