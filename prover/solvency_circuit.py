"""The solvency batch circuits as buildable artefacts (``circuits/main/solvency_*``).

A :class:`SolvencyCircuit` is a :class:`~prover.circuits.MarginCircuit` whose main is the
``SolvencyBatch`` of ``batch`` accounts (``zkmargin.circuitgen.SOLVENCY_MAINS``), so building,
setting up and loading keys go through the same code as the margin circuits.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from prover.circuits import CIRCUITS_DIR, MarginCircuit
from zkmargin.circuitgen import SOLVENCY_MAINS, solvency_main_name
from zkmargin.errors import InputError
from zkmargin.profiles import get_profile


@dataclass(frozen=True)
class SolvencyCircuit(MarginCircuit):
    """The solvency batch circuit of ``batch`` consecutive accounts under a model at a profile."""

    batch: int = 2

    @classmethod
    def sized(cls, model: str, profile: str, batch: int) -> SolvencyCircuit:
        """One of ``SOLVENCY_MAINS`` (InputError naming them otherwise)."""
        if (model, profile, batch) not in SOLVENCY_MAINS:
            known = ", ".join(f"{m}/{p}/B={b}" for m, p, b in SOLVENCY_MAINS)
            raise InputError(f"no solvency circuit for {model}/{profile}/B={batch}; known: {known}")
        return cls(model, get_profile(profile), batch)

    @property
    def circuit_id(self) -> str:
        return solvency_main_name(self.model, self.profile, self.batch)

    @property
    def main(self) -> Path:
        return CIRCUITS_DIR / "main" / f"{self.circuit_id}.circom"
