"""The proof bundle: one margin proof with everything a verifier needs to judge it.

A bundle names its circuit (model + profile), the fingerprint of the verifying key it was made
for, the public signals by name, the snarkjs-format proof, the epoch and how it was made. It is a
versioned pydantic model so a verifier can reject a file from another schema with one line.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Literal

from pydantic import Field, field_validator

from zkmargin.files import FIELD_DECIMAL
from zkmargin.models.types import StrictModel
from zkmargin.profiles import PUBLIC_SIGNALS

BUNDLE_SCHEMA_VERSION = 1
Backend = Literal["snarkjs", "native"]
"""The Groth16 prover that made a proof (``prover.backends``)."""
Verifier = Literal["py_ecc", "native", "snarkjs"]
"""The Groth16 verifiers; a proof from either backend verifies under each of them."""


class Groth16Proof(StrictModel):
    """A Groth16 proof in snarkjs JSON layout (projective coordinates as decimal strings)."""

    pi_a: list[str] = Field(min_length=3, max_length=3)
    pi_b: list[list[str]] = Field(min_length=3, max_length=3)
    pi_c: list[str] = Field(min_length=3, max_length=3)
    protocol: Literal["groth16"] = "groth16"
    curve: Literal["bn128"] = "bn128"


class PublicSignals(StrictModel):
    """The margin circuit's public signals, as decimal strings (field elements)."""

    snapshot_root: str
    account_commitment: str
    threshold_bps: str

    @field_validator("snapshot_root", "account_commitment", "threshold_bps")
    @classmethod
    def _decimal(cls, v: str) -> str:
        if not FIELD_DECIMAL.fullmatch(v):
            raise ValueError("public signals are decimal strings of field elements (at most 78 digits)")
        return v

    def as_list(self) -> list[int]:
        """In circuit order (zkmargin.profiles.PUBLIC_SIGNALS)."""
        return [int(getattr(self, name)) for name in PUBLIC_SIGNALS]

    @classmethod
    def from_list(cls, values: list[int] | list[str]) -> PublicSignals:
        return cls(**{name: str(v) for name, v in zip(PUBLIC_SIGNALS, values, strict=True)})


class ProofBundle(StrictModel):
    """A margin proof bundle (JSON file written by ``zkmargin prove``)."""

    schema_version: Literal[1] = BUNDLE_SCHEMA_VERSION
    circuit_id: str = Field(description="<model>_<profile>, e.g. portfolio_small")
    model: str
    profile: str
    vk_fingerprint: str = Field(pattern=r"^[0-9a-f]{64}$", description="sha256 of the canonical verifying key")
    public_signals: PublicSignals
    proof: Groth16Proof
    epoch: int
    created_at: str
    prover_backend: Backend

    @staticmethod
    def now() -> str:
        return datetime.now(timezone.utc).isoformat(timespec="seconds")
