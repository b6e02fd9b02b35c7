"""The circuit under audit: a margin circuit (model + profile) compiled from a source tree.

The source tree is the project's ``circuits/`` unless the auditor points at another copy (an
edited one, or a checkout of the published sources); builds of another tree never touch the
project's build cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from prover.build import CircuitBuild, Optimization, compile_circuit
from prover.circuits import CIRCUITS_DIR, MarginCircuit
from prover.toolchain import PROJECT_ROOT
from zkmargin.errors import InputError
from zkmargin.paths import build_root

CIRCOMLIB_DIR = PROJECT_ROOT / "node_modules" / "circomlib" / "circuits"


@dataclass(frozen=True)
class AuditTarget:
    """A margin circuit and the source tree it is compiled from."""

    circuit: MarginCircuit
    circuits_dir: Path = CIRCUITS_DIR

    @property
    def circuit_id(self) -> str:
        return self.circuit.circuit_id

    @property
    def main(self) -> Path:
        return self.circuits_dir / "main" / f"{self.circuit_id}.circom"

    @property
    def lib(self) -> Path:
        return self.circuits_dir / "lib"

    @property
    def is_project_tree(self) -> bool:
        return self.circuits_dir.resolve() == CIRCUITS_DIR.resolve()

    def compile(self, optimization: Optimization, root: Path) -> CircuitBuild:
        """Compile (or reuse, by content key) the main into ``root``."""
        if not self.main.is_file():
            raise InputError(f"{self.main} does not exist: no {self.circuit_id} in {self.circuits_dir}")
        return compile_circuit(self.main, include_dirs=[self.lib, CIRCOMLIB_DIR], build_root=root,
                               optimization=optimization)

    def inspect_build(self, scratch: Path) -> CircuitBuild:
        """The O1 build (every named signal kept): the project's cached one for the project tree,
        else a build in ``scratch``."""
        return self.compile(1, build_root() / "inspect" if self.is_project_tree else scratch / "inspect")
