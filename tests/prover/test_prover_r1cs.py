"""prover.r1cs: parsing .r1cs/.sym and the in-process constraint check on edited witnesses."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from prover.build import CircuitBuild
from prover.r1cs import check_witness, parse_sym, read_r1cs, read_r1cs_header
from prover.snarkjs import wtns_check
from prover.witness import InputValue, WitnessCalculator, write_wtns
from zkmargin.errors import InputError


@pytest.fixture(scope="module")
def toy_witness(calculator: WitnessCalculator) -> list[int]:
    """A valid witness of the toy circuit."""
    return calculator.calculate({"a": 3, "b": [4, -5], "salt": 7})


def test_header_and_constraints_agree(toy_build: CircuitBuild) -> None:
    r1cs = read_r1cs(toy_build.r1cs)
    assert r1cs.header == read_r1cs_header(toy_build.r1cs)
    assert len(r1cs.constraints) == r1cs.header.n_constraints
    assert (
        r1cs.header.prime
        == 21888242871839275222246405745257275088548364400416034343698204186575808495617
    )


def test_sym_maps_names_to_witness_indices(toy_build: CircuitBuild) -> None:
    signals = parse_sym(toy_build.sym)
    # circom's wire order: constant 1, outputs, public inputs, private inputs, internals.
    assert [signals[name] for name in ("main.digest", "main.product", "main.salt", "main.a")] == [
        1,
        2,
        3,
        4,
    ]
    assert signals["main.b[1]"] == 6
    assert all(0 < index < toy_build.header.n_wires for index in signals.values())


def test_sym_leaves_out_optimized_signals(tmp_path: Path) -> None:
    sym = tmp_path / "c.sym"
    sym.write_text("1,1,0,main.out\n2,-1,0,main.gone\n3,2,1,main.sub.x[0]\n", encoding="utf-8")
    assert parse_sym(sym) == {"main.out": 1, "main.sub.x[0]": 2}


def test_valid_witness_satisfies_every_constraint(
    toy_build: CircuitBuild, toy_witness: list[int], record_timing: Callable[[str, float], None]
) -> None:
    r1cs = read_r1cs(toy_build.r1cs)
    started = time.monotonic()
    assert check_witness(r1cs, toy_witness) == []
    record_timing(
        f"check_witness ({r1cs.header.n_constraints} constraints)", time.monotonic() - started
    )


@pytest.mark.parametrize("signal", ["main.product", "main.ab0", "main.digest", "main.b[1]"])
def test_edited_witness_is_rejected_here_and_by_snarkjs(
    toy_build: CircuitBuild, toy_witness: list[int], signal: str, tmp_path: Path
) -> None:
    r1cs = read_r1cs(toy_build.r1cs)
    edited = list(toy_witness)
    edited[parse_sym(toy_build.sym)[signal]] += 1
    assert check_witness(r1cs, edited) != []
    write_wtns(tmp_path / "edited.wtns", edited, r1cs.header.prime)
    assert not wtns_check(toy_build.r1cs, tmp_path / "edited.wtns")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda w: w[:-1], "has 612 values"),
        (lambda w: [2, *w[1:]], "constant 1"),
        (lambda w: [*w[:-1], -1], "not a field element"),
    ],
)
def test_malformed_witness_is_an_input_error(
    toy_build: CircuitBuild,
    toy_witness: list[int],
    edit: Callable[[list[int]], list[int]],
    message: str,
) -> None:
    with pytest.raises(InputError, match=message):
        check_witness(read_r1cs(toy_build.r1cs), edit(toy_witness))


def test_witness_of_other_inputs_is_valid_too(
    toy_build: CircuitBuild, calculator: WitnessCalculator
) -> None:
    inputs: dict[str, InputValue] = {"a": -7, "b": [0, 2**64], "salt": 2**253}
    assert check_witness(read_r1cs(toy_build.r1cs), calculator.calculate(inputs)) == []
