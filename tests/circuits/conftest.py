"""Shared circuit fixtures, parametrized over the margin models: each model's small circuit built
once per session (O1 to read every signal, O2 as proven), a synthetic snapshot committed under
the profile, and a builder of honest circuit inputs from the engine."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from prover.circuits import MarginCircuit, WarmWitness
from prover.r1cs import R1cs, read_r1cs
from tests.factories import synthetic_snapshot
from zkmargin.book import Book, resolve
from zkmargin.circuit_input import Signal, circuit_inputs
from zkmargin.circuitgen import MODELS
from zkmargin.commitment import SnapshotCommitment
from zkmargin.margin import margin_model
from zkmargin.models import Account, RiskSnapshot
from zkmargin.terms import Health


@dataclass(frozen=True)
class Case:
    """An account resolved, margined and turned into circuit inputs."""

    account: Account
    book: Book
    result: Health
    inputs: dict[str, Signal]


@pytest.fixture(scope="session", params=sorted(MODELS))
def model(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def circuit(model: str) -> MarginCircuit:
    return MarginCircuit.named(model, "small")


@pytest.fixture(scope="session")
def inspect(circuit: MarginCircuit) -> WarmWitness:
    """O1 build: every named signal has a witness slot."""
    return WarmWitness(circuit.build(optimization=1))


@pytest.fixture(scope="session")
def prod(circuit: MarginCircuit) -> WarmWitness:
    """O2 build: the constraint system that is actually proven."""
    return WarmWitness(circuit.build(optimization=2))


@pytest.fixture(scope="session")
def prod_r1cs(prod: WarmWitness) -> R1cs:
    return read_r1cs(prod.build.r1cs)


@pytest.fixture(scope="session")
def snapshot() -> RiskSnapshot:
    return synthetic_snapshot(instruments=40, groups=3, scenarios=16, assets=3)


@pytest.fixture(scope="session")
def commitment(snapshot: RiskSnapshot) -> SnapshotCommitment:
    return SnapshotCommitment(snapshot, MarginCircuit.named("portfolio", "small").profile)


@pytest.fixture(scope="session")
def make_case(commitment: SnapshotCommitment, model: str) -> Callable[..., Case]:
    """Account (+ threshold, + snapshot commitment) -> Case with the engine's honest inputs."""

    def make(account: Account, threshold_bps: int = 10_000, under: SnapshotCommitment = commitment) -> Case:
        book = resolve(account, under.snapshot, under.profile)
        result = margin_model(model)(book, threshold_bps)
        return Case(account, book, result, circuit_inputs(model, book, account.salt, under, result))

    return make


def flatten(name: str, value: Signal) -> list[tuple[str, int]]:
    """``name[i][j]`` style names of a nested signal value, as circom's .sym writes them."""
    if isinstance(value, list):
        return [pair for i, v in enumerate(value) for pair in flatten(f"{name}[{i}]", v)]
    return [(name, value)]
