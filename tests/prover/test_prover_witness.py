"""prover.witness: wasmtime witnesses against snarkjs, the .wtns format and typed failures."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from prover.build import CircuitBuild
from prover.cache import cache_dir
from prover.snarkjs import wtns_calculate, wtns_check
from prover.witness import (
    InputValue,
    WitnessCalculator,
    WitnessError,
    fnv1a_64,
    loaded_module,
    read_wtns,
    write_wtns,
)
from zkmargin.errors import InputError

R = 21888242871839275222246405745257275088548364400416034343698204186575808495617

CROSS_CHECK_INPUTS: list[dict[str, InputValue]] = [
    {"a": 3, "b": [4, 5], "salt": 7},
    {"a": -1, "b": [-2, 3], "salt": -123456789},
    {"a": R - 1, "b": [R + 5, 2**200], "salt": 0},
    {"a": 0, "b": [0, 0], "salt": 1},
    {"a": 12, "b": [-(2**128), 2**128], "salt": R},
]


def test_fnv_hash_matches_circom_reference_values() -> None:
    assert fnv1a_64("") == 0xCBF29CE484222325
    assert fnv1a_64("a") == 0xAF63DC4C8601EC8C


def test_reads_field_and_sizes(calculator: WitnessCalculator, toy_build: CircuitBuild) -> None:
    assert calculator.prime == R
    assert calculator.circom_version == (2, 2, 3)
    assert calculator.witness_size == toy_build.header.n_wires
    assert calculator.input_size == 4


@pytest.mark.parametrize("inputs", CROSS_CHECK_INPUTS)
def test_wasmtime_witness_equals_snarkjs_witness(
    calculator: WitnessCalculator,
    toy_build: CircuitBuild,
    inputs: dict[str, InputValue],
    tmp_path: Path,
    record_timing: Callable[[str, float], None],
) -> None:
    started = time.monotonic()
    ours = calculator.calculate(inputs)
    record_timing("witness: wasmtime calculate", time.monotonic() - started)
    started = time.monotonic()
    wtns_calculate(toy_build.wasm, inputs, tmp_path / "snarkjs.wtns")
    record_timing("witness: snarkjs wtns calculate (node start incl.)", time.monotonic() - started)
    theirs, prime = read_wtns(tmp_path / "snarkjs.wtns")
    assert prime == calculator.prime
    assert ours == theirs


def test_written_wtns_passes_snarkjs_check_and_reads_back(
    calculator: WitnessCalculator,
    toy_build: CircuitBuild,
    toy_inputs: dict[str, InputValue],
    tmp_path: Path,
) -> None:
    witness = calculator.calculate(toy_inputs)
    write_wtns(tmp_path / "ours.wtns", witness, calculator.prime)
    assert wtns_check(toy_build.r1cs, tmp_path / "ours.wtns")
    assert read_wtns(tmp_path / "ours.wtns") == (witness, calculator.prime)
    wtns_calculate(toy_build.wasm, toy_inputs, tmp_path / "snarkjs.wtns")
    assert (tmp_path / "ours.wtns").read_bytes() == (tmp_path / "snarkjs.wtns").read_bytes()


def test_negative_inputs_are_encoded_mod_r(calculator: WitnessCalculator) -> None:
    witness = calculator.calculate({"a": -2, "b": [3, -4], "salt": 0})
    assert witness[2] == 24  # main.product = (-2) * 3 * (-4)
    assert calculator.calculate({"a": -2, "b": [3, R - 4], "salt": 0}) == witness


def test_failed_assert_carries_circoms_message(calculator: WitnessCalculator) -> None:
    with pytest.raises(WitnessError) as raised:
        calculator.calculate({"a": 13, "b": [1, 2], "salt": 0})
    assert raised.value.reason == "Assert Failed"
    assert "Error in template ToyHashProduct" in raised.value.circom_message
    assert "line: 15" in str(raised.value)


def test_calculator_is_reusable_after_a_failure(
    calculator: WitnessCalculator, toy_inputs: dict[str, InputValue]
) -> None:
    first = calculator.calculate(toy_inputs)
    with pytest.raises(WitnessError):
        calculator.calculate({"a": 13, "b": [1, 2], "salt": 0})
    assert calculator.calculate(toy_inputs) == first


def test_circom_log_goes_to_logging(
    calculator: WitnessCalculator,
    toy_inputs: dict[str, InputValue],
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="prover.witness"):
        calculator.calculate(toy_inputs)
    assert "circom log: toy product " + str(3 * 4 * (R - 5) % R) in caplog.text


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"a": 1, "b": [1, 2], "salt": 1, "nope": 5}, "'nope' is not an input signal"),
        ({"a": 1, "b": [1, 2, 3], "salt": 1}, "input 'b' takes 2 values, 3 were given"),
        ({"a": 1, "b": [1, 2]}, "only 3 of the circuit's 4 input values"),
        ({"a": "1", "b": [1, 2], "salt": 1}, "expected an int"),
        ({"a": True, "b": [1, 2], "salt": 1}, "expected an int"),
    ],
)
def test_bad_inputs_are_input_errors(
    calculator: WitnessCalculator, inputs: dict[str, InputValue], message: str
) -> None:
    with pytest.raises(InputError, match=message):
        calculator.calculate(inputs)


def test_wtns_rejects_values_outside_the_field(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a field element"):
        write_wtns(tmp_path / "w.wtns", [1, R], R)


def test_compiled_wasm_is_cached_per_user_and_rebuilt_when_unusable(
    toy_build: CircuitBuild,
    toy_inputs: dict[str, InputValue],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    expected = WitnessCalculator(toy_build.wasm).calculate(toy_inputs)
    (entry,) = (cache_dir() / "wasmtime").glob("*.cwasm")
    assert WitnessCalculator(toy_build.wasm).calculate(toy_inputs) == expected
    entry.write_bytes(b"not compiled code")
    assert WitnessCalculator(toy_build.wasm).calculate(toy_inputs) == expected
    assert entry.read_bytes() != b"not compiled code"


def _mapped_bytes() -> int:
    """This process's virtual memory size (VmSize), in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmSize in /proc/self/status")


def test_each_calculation_frees_its_instance_when_it_returns(
    calculator: WitnessCalculator, toy_inputs: dict[str, InputValue]
) -> None:
    # Every wasm instance reserves gigabytes of address space for its linear memory. The host
    # functions are bound methods of the instance wrapper, a cycle through wasmtime's C side that
    # the garbage collector cannot break: without closing the store, each witness leaked ~4 GiB
    # of reservations and its touched pages, and a long test session grew to 7 GiB resident.
    calculator.calculate(toy_inputs)
    with pytest.raises(InputError):
        calculator.calculate({})
    before = _mapped_bytes()
    for _ in range(20):
        calculator.calculate(toy_inputs)
        with pytest.raises(InputError):
            calculator.calculate({})
    assert _mapped_bytes() - before < 1 << 30


def test_calculators_of_one_wasm_share_its_loaded_code(toy_build: CircuitBuild) -> None:
    module = loaded_module(toy_build.wasm)
    assert loaded_module(toy_build.wasm) is module
    assert WitnessCalculator(toy_build.wasm)._module is module
