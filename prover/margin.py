"""Margin proofs end to end: keys for a margin circuit, and a warm prover that makes bundles.

:class:`MarginProver` loads a circuit's witness wasm and keys once and proves any number of
accounts: engine -> health gate (below the claimed health: :class:`BelowMarginError`, no proof)
-> circuit inputs -> in-process witness -> snarkjs Groth16 proof -> self-check with the pure
Python verifier -> :class:`~zkmargin.bundle.ProofBundle`.
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from prover import snarkjs
from prover.circuits import MarginCircuit, WarmWitness
from prover.ptau import required_power, resolve_ptau
from prover.setup import MANIFEST_NAME, VK_NAME, KeySet, setup_keys
from prover.witness import write_wtns
from verifier import load_verifying_key, parse_proof, verify
from zkmargin.book import resolve
from zkmargin.bundle import Groth16Proof, ProofBundle, PublicSignals
from zkmargin.circuit_input import portfolio_inputs
from zkmargin.commitment import SnapshotCommitment
from zkmargin.errors import BelowMarginError, ProverError
from zkmargin.models import Account, RiskSnapshot
from zkmargin.portfolio import MarginResult, portfolio_margin
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
    """The keys a previous setup left in ``circuit.keys_dir()`` (ProverError if absent)."""
    d = circuit.keys_dir()
    manifest = d / MANIFEST_NAME
    if not manifest.is_file():
        raise ProverError(
            f"no keys for {circuit.circuit_id} in {d}: run `zkmargin setup --profile "
            f"{circuit.profile.name}` first"
        )
    return KeySet(
        circuit.circuit_id,
        d / f"{circuit.circuit_id}.zkey",
        d / VK_NAME,
        manifest,
        json.loads(manifest.read_text()),
        True,
        0.0,
    )


@dataclass
class ProveTimings:
    """Seconds spent per step of the last proof."""

    engine: float = 0.0
    witness: float = 0.0
    prove: float = 0.0
    self_check: float = 0.0


@dataclass
class MarginProver:
    """A warm prover for one margin circuit: wasm, keys and snapshot commitments loaded once."""

    circuit: MarginCircuit
    keys: KeySet
    witness: WarmWitness = field(init=False)
    timings: ProveTimings = field(default_factory=ProveTimings)
    _commitments: dict[int, SnapshotCommitment] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.witness = WarmWitness(self.circuit.build())
        self.vk = load_verifying_key(self.keys.vk)

    def commitment(self, snapshot: RiskSnapshot) -> SnapshotCommitment:
        """The snapshot committed under this circuit's profile (cached per snapshot object)."""
        key = id(snapshot)
        if key not in self._commitments:
            self._commitments[key] = SnapshotCommitment(snapshot, self.circuit.profile)
        return self._commitments[key]

    def margin(self, account: Account, snapshot: RiskSnapshot, threshold_bps: int) -> MarginResult:
        return portfolio_margin(resolve(account, snapshot, self.circuit.profile), threshold_bps)

    def prove(
        self, account: Account, snapshot: RiskSnapshot, threshold_bps: int = 10_000
    ) -> ProofBundle:
        """Prove ``account`` meets ``threshold_bps`` of MM; BelowMarginError if it does not."""
        t0 = time.monotonic()
        book = resolve(account, snapshot, self.circuit.profile)
        result = portfolio_margin(book, threshold_bps)
        if not result.healthy:
            raise BelowMarginError(health_line(result))
        commitment = self.commitment(snapshot)
        inputs = portfolio_inputs(book, account.salt, commitment, result)
        t1 = time.monotonic()
        values = self.witness.calculator.calculate(inputs)
        t2 = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="zkmargin-prove-") as tmp:
            wtns = Path(tmp) / "witness.wtns"
            write_wtns(wtns, values, self.witness.calculator.prime)
            proof, public = snarkjs.prove(self.keys.zkey, wtns)
        t3 = time.monotonic()
        signals = [int(x) for x in public]
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
            epoch=snapshot.epoch,
            created_at=ProofBundle.now(),
            prover_backend="snarkjs",
        )
