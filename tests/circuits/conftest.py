"""Shared circuit fixtures: the small portfolio circuit built once per session (O1 to read every
signal, O2 as proven), a synthetic snapshot committed under the profile, and input builders."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from prover.circuits import MarginCircuit, WarmWitness
from prover.r1cs import R1cs, read_r1cs
from tests.factories import synthetic_snapshot
from zkmargin.book import Book, resolve
from zkmargin.circuit_input import Signal, portfolio_inputs
from zkmargin.commitment import SnapshotCommitment
from zkmargin.models import Account, RiskSnapshot
from zkmargin.portfolio import MarginResult, portfolio_margin


@dataclass(frozen=True)
class Case:
    """An account resolved, margined and turned into circuit inputs."""

    account: Account
    book: Book
    result: MarginResult
    inputs: dict[str, Signal]


@pytest.fixture(scope="session")
def small() -> MarginCircuit:
    return MarginCircuit.named("portfolio", "small")


@pytest.fixture(scope="session")
def inspect_small(small: MarginCircuit) -> WarmWitness:
    """O1 build: every named signal has a witness slot."""
    return WarmWitness(small.build(optimization=1))


@pytest.fixture(scope="session")
def prod_small(small: MarginCircuit) -> WarmWitness:
    """O2 build: the constraint system that is actually proven."""
    return WarmWitness(small.build(optimization=2))


@pytest.fixture(scope="session")
def prod_r1cs(prod_small: WarmWitness) -> R1cs:
    return read_r1cs(prod_small.build.r1cs)


@pytest.fixture(scope="session")
def snapshot() -> RiskSnapshot:
    return synthetic_snapshot(instruments=40, groups=3, scenarios=16, assets=3)


@pytest.fixture(scope="session")
def commitment(snapshot: RiskSnapshot, small: MarginCircuit) -> SnapshotCommitment:
    return SnapshotCommitment(snapshot, small.profile)


@pytest.fixture(scope="session")
def make_case(commitment: SnapshotCommitment) -> Callable[..., Case]:
    """Account (+ threshold, + snapshot commitment) -> Case with the engine's honest inputs."""

    def make(account: Account, threshold_bps: int = 10_000, under: SnapshotCommitment = commitment) -> Case:
        book = resolve(account, under.snapshot, under.profile)
        result = portfolio_margin(book, threshold_bps)
        return Case(account, book, result, portfolio_inputs(book, account.salt, under, result))

    return make


def flatten(name: str, value: Signal) -> list[tuple[str, int]]:
    """``name[i][j]`` style names of a nested signal value, as circom's .sym writes them."""
    if isinstance(value, list):
        return [pair for i, v in enumerate(value) for pair in flatten(f"{name}[{i}]", v)]
    return [(name, value)]
