"""Shared fixtures of the prover toolchain tests: one compiled toy circuit, its witness
calculator, the shared dev ptau and keys, compiled and set up once per session."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from prover.build import CircuitBuild, compile_circuit
from prover.ptau import PTAU_ENV, required_power, resolve_ptau
from prover.setup import KeySet, setup_keys
from prover.toolchain import PROJECT_ROOT
from prover.witness import InputValue, WitnessCalculator

CIRCUITS = Path(__file__).parent / "circuits"
TOY_MAIN = CIRCUITS / "toy_hash_product.circom"
CIRCOMLIB = PROJECT_ROOT / "node_modules" / "circomlib" / "circuits"
SHARED_PTAU = PROJECT_ROOT.parent / "shared" / "ptau" / "dev_bn128_17.ptau"
"""The prepared dev ptau that the workplace (and CI, beside the clone) provides."""

TIMINGS: dict[str, float] = {}
"""Step name -> seconds, reported after the run (measurements only, never asserted)."""

TimingRecorder = Callable[[str, float], None]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the recorded prover timings."""
    if TIMINGS:
        terminalreporter.section("prover toolchain timings")
        for step, seconds in TIMINGS.items():
            terminalreporter.write_line(f"{step:<48} {seconds * 1000:10.1f} ms")


@pytest.fixture(scope="session")
def record_timing() -> TimingRecorder:
    """Remember how long a step took, for the timing table printed at the end of the run."""
    return TIMINGS.__setitem__


@pytest.fixture(scope="session")
def circomlib_dir() -> Path:
    """circomlib's circuits folder, the include dir of every test circuit."""
    return CIRCOMLIB


@pytest.fixture(scope="session")
def toy_main() -> Path:
    """The toy circuit's main file."""
    return TOY_MAIN


@pytest.fixture
def toy_inputs() -> dict[str, InputValue]:
    """Valid inputs of the toy circuit (a negative among them)."""
    return {"a": 3, "b": [4, -5], "salt": 7}


@pytest.fixture(scope="session")
def toy_build(
    tmp_path_factory: pytest.TempPathFactory, record_timing: TimingRecorder
) -> CircuitBuild:
    """The toy circuit compiled (-O1) into a fresh build dir."""
    build = compile_circuit(
        TOY_MAIN, include_dirs=[CIRCOMLIB], build_root=tmp_path_factory.mktemp("build")
    )
    record_timing("compile toy circuit (cache miss)", build.seconds)
    return build


@pytest.fixture(scope="session")
def calculator(toy_build: CircuitBuild, record_timing: TimingRecorder) -> WitnessCalculator:
    """The toy circuit's witness wasm, loaded once for the whole session."""
    started = time.monotonic()
    loaded = WitnessCalculator(toy_build.wasm)
    record_timing("load witness wasm (wasmtime compile)", time.monotonic() - started)
    return loaded


@pytest.fixture(scope="session")
def ptau(toy_build: CircuitBuild) -> Iterator[Path]:
    """A prepared ptau for the toy circuit: $ZKMARGIN_PTAU if set, else the shared dev file
    (through $ZKMARGIN_PTAU), else whatever resolve_ptau finds or generates."""
    with pytest.MonkeyPatch.context() as patch:
        if not os.environ.get(PTAU_ENV) and SHARED_PTAU.is_file():
            patch.setenv(PTAU_ENV, str(SHARED_PTAU))
        yield resolve_ptau(required_power(toy_build.header))


@pytest.fixture(scope="session")
def toy_keys(
    toy_build: CircuitBuild,
    ptau: Path,
    tmp_path_factory: pytest.TempPathFactory,
    record_timing: TimingRecorder,
) -> KeySet:
    """Groth16 keys of the toy circuit, set up once."""
    keys = setup_keys(toy_build, ptau, tmp_path_factory.mktemp("keys"), circuit_id="toy")
    record_timing("setup_keys (groth16 setup..vk export)", keys.seconds)
    return keys
