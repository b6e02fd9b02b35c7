"""Margin proofs end to end: keys for a margin circuit, and a warm prover that makes bundles.

:class:`MarginProver` loads a circuit's witness wasm and keys once and proves any number of
accounts: engine -> health gate (below the claimed health: :class:`BelowMarginError`, no proof)
-> circuit inputs (the venue's statement: leaf and path in the epoch's account tree) -> in-process witness -> Groth16 proof by its backend (``snarkjs``, the
default, or ``native``: see :mod:`prover.backends`) -> self-check with the pure Python verifier
-> :class:`~zkmargin.bundle.ProofBundle`, which records the backend.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from prover.backends import ProvingBackend, proving_backend
from prover.circuits import MarginCircuit, WarmWitness
from prover.ptau import required_power, resolve_ptau
from prover.setup import KeySet, read_keys, setup_keys
from verifier import load_verifying_key, parse_proof, verify
from zkmargin.book import resolve
from zkmargin.bundle import Backend, Groth16Proof, ProofBundle, PublicSignals
from zkmargin.circuit_input import Signal, circuit_inputs
from zkmargin.commitment import SnapshotCommitment
from zkmargin.errors import BelowMarginError, ProverError
from zkmargin.models import Account, RiskSnapshot, Statement
from zkmargin.margin import margin_model
from zkmargin.terms import Health
from zkmargin.report import health_line


def setup_circuit(
    circuit: MarginCircuit, ptau: Path | None = None, *, contribution_entropy: str | None = None
) -> KeySet:
    """Build the circuit (O2) and make or reuse its keys from a prepared ptau."""
    build = circuit.build()
    ptau_path = resolve_ptau(required_power(build.header), ptau)
    return setup_keys(
        build,
        ptau_path,
        circuit.keys_dir(),
        circuit_id=circuit.circuit_id,
        contribution_entropy=contribution_entropy,
    )


def load_keys(circuit: MarginCircuit) -> KeySet:
    """The keys a previous setup left in ``circuit.keys_dir()``, checked against their manifest
    (ProverError if absent, corrupt or not matching: :func:`prover.setup.read_keys`), and made
    for the current circuit sources (ProverError for keys of another version of the circuit,
    which snarkjs would refuse with a bare "Invalid witness length")."""
    hint = f"run `zkmargin setup --model {circuit.model} --profile {circuit.profile.name}`"
    keys = read_keys(circuit.keys_dir(), circuit.circuit_id, hint=hint)
    if keys.manifest.get("source_hash") != circuit.source_hash():
        raise ProverError(f"the keys in {circuit.keys_dir()} were made for another version of the "
                          f"{circuit.circuit_id} circuit (source hash in {keys.manifest_path.name} differs): {hint}")
    return keys


@dataclass
class ProveTimings:
    """Seconds spent per step of the last proof."""

    engine: float = 0.0
    witness: float = 0.0
    prove: float = 0.0
    self_check: float = 0.0


@dataclass
class MarginProver:
    """A warm prover for one margin circuit: wasm, keys and snapshot commitments loaded once.

    ``backend`` names the Groth16 prover; its key is loaded here, once.
    """

    circuit: MarginCircuit
    keys: KeySet
    backend: Backend = "snarkjs"
    witness: WarmWitness = field(init=False)
    proving: ProvingBackend = field(init=False)
    timings: ProveTimings = field(default_factory=ProveTimings)
    _commitments: dict[int, tuple[RiskSnapshot, SnapshotCommitment]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.witness = WarmWitness(self.circuit.build())
        self.vk = load_verifying_key(self.keys.vk)
        self.proving = proving_backend(self.backend, self.keys.zkey)

    def commitment(self, snapshot: RiskSnapshot) -> SnapshotCommitment:
        """The snapshot committed under this circuit's profile (cached per snapshot object)."""
        held = self._commitments.get(id(snapshot))
        if held is None or held[0] is not snapshot:  # an id is only unique while its object lives
            held = (snapshot, SnapshotCommitment(snapshot, self.circuit.profile))
            self._commitments[id(snapshot)] = held
        return held[1]

    def margin(self, account: Account, snapshot: RiskSnapshot, threshold_bps: int) -> Health:
        """The account under this circuit's model and profile (every intermediate)."""
        book = resolve(account, snapshot, self.circuit.profile)
        return margin_model(self.circuit.model)(book, threshold_bps)

    def inputs(
        self, statement: Statement, snapshot: RiskSnapshot, threshold_bps: int = 10_000
    ) -> dict[str, Signal]:
        """The circuit inputs of a proof that the statement's account meets ``threshold_bps`` of
        MM (BelowMarginError, with the shortfall, if it does not; InputError if the statement does
        not open to its account root or is of another epoch than the snapshot)."""
        book = resolve(statement.account, snapshot, self.circuit.profile)
        result = margin_model(self.circuit.model)(book, threshold_bps)
        if not result.healthy:
            raise BelowMarginError(health_line(result))
        return circuit_inputs(book, statement, self.commitment(snapshot), result)

    def prove(
        self, statement: Statement, snapshot: RiskSnapshot, threshold_bps: int = 10_000
    ) -> ProofBundle:
        """Prove the venue-attested account of ``statement`` meets ``threshold_bps`` of MM under
        ``snapshot``; BelowMarginError if it does not."""
        t0 = time.monotonic()
        inputs = self.inputs(statement, snapshot, threshold_bps)
        t1 = time.monotonic()
        values = self.witness.calculator.calculate(inputs)
        t2 = time.monotonic()
        proof, signals = self.proving.prove(values)
        t3 = time.monotonic()
        if not verify(self.vk, parse_proof(proof), signals):
            raise ProverError(
                f"{self.circuit.circuit_id}: the new proof does not verify under its own key"
            )
        self.timings = ProveTimings(t1 - t0, t2 - t1, t3 - t2, time.monotonic() - t3)
        return ProofBundle(
            circuit_id=self.circuit.circuit_id,
            model=self.circuit.model,
            profile=self.circuit.profile.name,
            vk_fingerprint=self.vk.fingerprint(),
            public_signals=PublicSignals.from_list(signals),
            proof=Groth16Proof(pi_a=proof["pi_a"], pi_b=proof["pi_b"], pi_c=proof["pi_c"]),
            venue=statement.venue,
            epoch=snapshot.epoch,
            created_at=ProofBundle.now(),
            prover_backend=self.proving.name,
        )
