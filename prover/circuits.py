"""The margin circuits as buildable artefacts: paths, builds and warm witness calculators.

``circuit_id`` = ``<model>_<profile>`` names a main under ``circuits/main/`` (generated from
``zkmargin/profiles.py``). Production builds use ``--O2``; the *inspect* build (``--O1``) keeps
every named signal in the witness, for differential tests and the auditor's signal dumps.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from prover.build import CircuitBuild, Optimization, build_key, compile_circuit
from prover.r1cs import parse_sym
from prover.toolchain import PROJECT_ROOT
from prover.witness import WitnessCalculator
from zkmargin.circuitgen import MODELS, main_name
from zkmargin.errors import InputError
from zkmargin.paths import build_root, keys_dir
from zkmargin.profiles import Profile, get_profile

CIRCUITS_DIR = PROJECT_ROOT / "circuits"


def include_dirs() -> list[Path]:
    return [CIRCUITS_DIR / "lib", PROJECT_ROOT / "node_modules" / "circomlib" / "circuits"]


@dataclass(frozen=True)
class MarginCircuit:
    """One margin circuit: a model at a profile."""

    model: str
    profile: Profile

    @classmethod
    def named(cls, model: str, profile: str) -> MarginCircuit:
        if model not in MODELS:
            raise InputError(f"unknown margin model {model!r}; known: {', '.join(MODELS)}")
        return cls(model, get_profile(profile))

    @property
    def circuit_id(self) -> str:
        return main_name(self.model, self.profile)

    @property
    def main(self) -> Path:
        return CIRCUITS_DIR / "main" / f"{self.circuit_id}.circom"

    def build(self, optimization: Optimization = 2) -> CircuitBuild:
        """Compile (or reuse) the circuit; O2 for proving, O1 to inspect every signal."""
        sub = "circuits" if optimization == 2 else "inspect"
        return compile_circuit(
            self.main,
            include_dirs=include_dirs(),
            build_root=build_root() / sub,
            optimization=optimization,
        )

    def keys_dir(self) -> Path:
        return keys_dir(self.circuit_id)

    def source_hash(self) -> str:
        """The build key of the proving (O2) build of the current sources, without compiling: a
        setup records it as its manifest's ``source_hash``."""
        return build_key(self.main, include_dirs(), 2)


class WarmWitness:
    """A circuit's witness calculator and signal map, loaded once and reused per proof."""

    def __init__(self, build: CircuitBuild) -> None:
        self.build = build
        self.calculator = WitnessCalculator(build.wasm)

    @cached_property
    def signals(self) -> dict[str, int]:
        """Signal name -> witness index (optimized-away signals are absent)."""
        return parse_sym(self.build.sym)
