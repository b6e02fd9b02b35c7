"""The files of a solvency chain (``zkmargin venue prove-solvency -o DIR``): all public.

``DIR/batch-<k>.json`` (:class:`SolvencyBatchProof`, one per batch, k from 0) and
``DIR/solvency.json`` (:class:`SolvencyManifest`: circuit, epoch, batch size, number of batches,
the published totals, the insurance fund claimed against them). Everything is a claim a verifier
checks (:mod:`verifier.solvency`): the totals against the last batch's commitment, the roots
against the venue's signed epoch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from zkmargin.bundle import Backend, Groth16Proof
from zkmargin.models.types import StrictModel

MANIFEST_NAME = "solvency.json"


class SolvencyBatchProof(StrictModel):
    """One batch proof of the chain; public signals in circuit order (snapshot_root, account_root,
    chain_in, chain_out), decimal strings."""

    schema_version: Literal[1] = 1
    circuit_id: str
    index: int = Field(ge=0, lt=4**10)
    vk_fingerprint: str = Field(pattern=r"^[0-9a-f]{64}$")
    public_signals: list[str] = Field(min_length=4, max_length=4)
    proof: Groth16Proof
    venue: str = Field(max_length=200)
    epoch: int = Field(ge=0, lt=2**64)
    created_at: str
    prover_backend: Backend

    @field_validator("public_signals")
    @classmethod
    def _decimal(cls, v: list[str]) -> list[str]:
        if not all(x.isascii() and x.isdigit() and len(x) <= 78 for x in v):
            raise ValueError("public signals are decimal strings of field elements (at most 78 digits)")
        return v


class SolvencyManifest(StrictModel):
    """What the chain claims: the epoch, the circuit and the totals (EQUITY_SCALE integers and USD)."""

    schema_version: Literal[1] = 1
    venue: str = Field(max_length=200)
    epoch: int = Field(ge=0, lt=2**64)
    circuit_id: str
    model: str
    profile: str
    batch_size: int = Field(ge=1)
    batches: int = Field(ge=1)
    accounts: int = Field(ge=0)
    account_root: str
    snapshot_root: str
    totals: dict[str, int | str]
    insurance_fund: int | None = Field(default=None, ge=0, description="EQUITY_SCALE USD, claimed >= shortfall")


def batch_path(out_dir: Path, index: int) -> Path:
    return out_dir / f"batch-{index:06d}.json"


def manifest_path(out_dir: Path) -> Path:
    return out_dir / MANIFEST_NAME
