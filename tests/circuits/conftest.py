"""Shared circuit fixtures, parametrized over the margin models: each model's small circuit built
once per session (O1 to read every signal, O2 as proven), a synthetic snapshot committed under
the profile, a venue statement for any account (its leaf in an account tree, as a venue would
attest it) and a builder of honest circuit inputs from the engine."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from prover.circuits import MarginCircuit, WarmWitness
from prover.r1cs import R1cs, read_r1cs
from tests.factories import synthetic_snapshot
from zkmargin.account_tree import ACCOUNT_TREE_DEPTH, LeafBook, account_leaf
from zkmargin.book import Book, resolve
from zkmargin.circuit_input import Signal, circuit_inputs
from zkmargin.circuitgen import MODELS
from zkmargin.commitment import SnapshotCommitment
from zkmargin.margin import margin_model
from zkmargin.merkle import MerkleTree
from zkmargin.models import Account, RiskSnapshot, Statement
from zkmargin.terms import Health

#: The holder and leaf index of the accounts the circuit tests attest (any values would do).
HOLDER = 0xB522D572E97D82DA713788719C24BECA7F5CABC8
INDEX = 5


def attest(account: Account, epoch: int, *, holder: int = HOLDER, salt: int = 123456789,
           book: LeafBook | None = None) -> Statement:
    """The statement a venue would issue for ``account`` (or for the raw ``book``, canonical or
    not, as a faulty venue might hash it) at leaf ``INDEX`` of an otherwise empty account tree."""
    leaf = account_leaf(epoch, holder, salt, book or LeafBook.of(account))
    tree = MerkleTree([0] * INDEX + [leaf], ACCOUNT_TREE_DEPTH)
    proof = tree.proof(INDEX)
    return Statement(venue="test", epoch=epoch, account_id="acct", holder=holder, salt=salt, index=INDEX,
                     path=[list(level) for level in proof.siblings], account_root=tree.root, account=account)


@dataclass(frozen=True)
class Case:
    """An account resolved, margined and turned into circuit inputs."""

    account: Account
    statement: Statement
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
    return synthetic_snapshot(instruments=40, groups=3, scenarios=16, assets=3, naked_keys=True)


@pytest.fixture(scope="session")
def commitment(snapshot: RiskSnapshot) -> SnapshotCommitment:
    return SnapshotCommitment(snapshot, MarginCircuit.named("portfolio", "small").profile)


@pytest.fixture(scope="session")
def make_case(commitment: SnapshotCommitment, model: str) -> Callable[..., Case]:
    """Account (+ threshold, + snapshot commitment) -> Case with the engine's honest inputs."""

    def make(account: Account, threshold_bps: int = 10_000, under: SnapshotCommitment = commitment) -> Case:
        statement = attest(account, under.snapshot.epoch)
        book = resolve(account, under.snapshot, under.profile)
        result = margin_model(model)(book, threshold_bps)
        return Case(account, statement, book, result, circuit_inputs(book, statement, under, result))

    return make


def flatten(name: str, value: Signal) -> list[tuple[str, int]]:
    """``name[i][j]`` style names of a nested signal value, as circom's .sym writes them."""
    if isinstance(value, list):
        return [pair for i, v in enumerate(value) for pair in flatten(f"{name}[{i}]", v)]
    return [(name, value)]
