"""prover.build: compiling, constraint counts, the build cache and compile errors."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from prover.build import CircuitBuild, build_key, compile_circuit
from prover.snarkjs import r1cs_info
from zkmargin.errors import ProverError

SQUARE_LIB = """pragma circom 2.1.9;
template Square() { signal input x; signal output y; y <== x * x; }
"""
SQUARE_MAIN = """pragma circom 2.1.9;
include "square.circom";
component main = Square();
"""


@pytest.fixture
def square_project(tmp_path: Path) -> tuple[Path, Path]:
    """A tiny project: (main file, library dir holding square.circom)."""
    (tmp_path / "lib").mkdir()
    (tmp_path / "main").mkdir()
    (tmp_path / "lib" / "square.circom").write_text(SQUARE_LIB, encoding="utf-8")
    main = tmp_path / "main" / "square_main.circom"
    main.write_text(SQUARE_MAIN, encoding="utf-8")
    return main, tmp_path / "lib"


def test_build_has_every_artefact_and_snarkjs_counts(toy_build: CircuitBuild) -> None:
    assert toy_build.r1cs.is_file() and toy_build.wasm.is_file() and toy_build.sym.is_file()
    info = r1cs_info(toy_build.r1cs)
    header = toy_build.header
    assert info["constraints"] == header.n_constraints == toy_build.n_constraints
    assert info["wires"] == header.n_wires
    assert (info["outputs"], info["public_inputs"], info["private_inputs"]) == (2, 1, 3)
    assert toy_build.n_public == 3
    assert toy_build.compiler_version == "2.2.3"


def test_second_compile_is_a_cache_hit(
    toy_build: CircuitBuild,
    toy_main: Path,
    circomlib_dir: Path,
    record_timing: Callable[[str, float], None],
) -> None:
    again = compile_circuit(
        toy_main, include_dirs=[circomlib_dir], build_root=toy_build.out_dir.parent
    )
    record_timing("compile toy circuit (cache hit)", again.seconds)
    assert again.cached and not toy_build.cached
    assert again.key == toy_build.key
    assert again.header == toy_build.header


def test_editing_a_library_source_recompiles(
    square_project: tuple[Path, Path], tmp_path: Path
) -> None:
    main, lib = square_project
    first = compile_circuit(main, include_dirs=[lib], build_root=tmp_path / "build")
    assert not first.cached
    assert compile_circuit(main, include_dirs=[lib], build_root=tmp_path / "build").cached
    (lib / "square.circom").write_text(SQUARE_LIB.replace("y <== x * x;", "y <== x * x + 1;"))
    edited = compile_circuit(main, include_dirs=[lib], build_root=tmp_path / "build")
    assert not edited.cached
    assert edited.key != first.key


def test_flags_are_part_of_the_key(square_project: tuple[Path, Path]) -> None:
    main, lib = square_project
    assert build_key(main, [lib], 1) != build_key(main, [lib], 2)


def test_key_does_not_depend_on_where_the_project_lies(
    square_project: tuple[Path, Path], tmp_path: Path
) -> None:
    main, lib = square_project
    moved = shutil.copytree(main.parent.parent, tmp_path / "elsewhere")
    assert build_key(main, [lib], 1) == build_key(moved / "main" / main.name, [moved / "lib"], 1)


def test_o2_removes_the_linear_constraints(
    toy_build: CircuitBuild, toy_main: Path, circomlib_dir: Path, tmp_path: Path
) -> None:
    full = compile_circuit(
        toy_main, include_dirs=[circomlib_dir], build_root=tmp_path, optimization=2
    )
    print(f"toy circuit: O1 {toy_build.n_constraints} constraints, O2 {full.n_constraints}")
    assert full.n_constraints < toy_build.n_constraints
    assert full.n_public == toy_build.n_public


def test_syntax_error_quotes_circom(tmp_path: Path) -> None:
    broken = tmp_path / "broken.circom"
    broken.write_text(SQUARE_LIB.replace("x * x;", "x * x") + "component main = Square();\n")
    with pytest.raises(ProverError) as raised:
        compile_circuit(broken, include_dirs=[], build_root=tmp_path / "build")
    message = str(raised.value)
    assert "circom broken.circom failed" in message
    assert "error[P1008]: Missing semicolon" in message
    assert not (tmp_path / "build" / "broken" / "build.json").exists()
