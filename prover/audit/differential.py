"""Check 4, consistency: the circuit's witness equals the engine on every named intermediate.

For each account (random ones, then the boundary set of :mod:`prover.audit.accounts`), attested
together by a one-off venue epoch (:func:`zkmargin.venue.attest`: leaf, index and path in the
account tree), the engine margins the resolved book; a healthy account must have a witness (inspect build, every named
signal kept) carrying exactly ``zkmargin.circuit_input.expected_signals``, an unhealthy one must
have none. A mismatching account is shrunk (positions, balances and allocations dropped while it
still mismatches) and reported with its threshold. The same harness runs the hint probes of
:mod:`prover.audit.cheats`.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from prover.audit.accounts import THRESHOLDS, boundary_accounts, random_account
from prover.audit.result import CheckResult, Finding
from prover.circuits import WarmWitness
from prover.witness import WitnessError
from zkmargin.book import Book, resolve
from zkmargin.circuit_input import Signal, circuit_inputs, expected_signals
from zkmargin.commitment import SnapshotCommitment
from zkmargin.errors import InputError
from zkmargin.margin import margin_model
from zkmargin.models import Account, RiskSnapshot, Statement
from zkmargin.profiles import Profile
from zkmargin.terms import Health
from zkmargin.venue import attest, generate_key

TITLE = "Consistency: engine vs circuit"
MAX_REPORTED = 5
"""Mismatching accounts reported in full (each shrunk); the rest are counted."""


@dataclass(frozen=True)
class Case:
    """One venue-attested account margined by the engine and turned into circuit inputs."""

    label: str
    account: Account
    statement: Statement
    threshold_bps: int
    book: Book
    result: Health
    inputs: dict[str, Signal]


def leaves(name: str, value: Signal) -> Iterator[tuple[str, int]]:
    """``(name[i][j], value)`` for every element of a nested signal value, as the .sym names it."""
    if isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaves(f"{name}[{index}]", item)
    else:
        yield name, value


Labelled = tuple[str, Account, int]
"""(label, account, threshold_bps): an account to check."""


class Harness:
    """The engine and the inspect witness of one model, profile and snapshot, and the venue key
    that attests the accounts (a fresh one unless given)."""

    def __init__(self, model: str, profile: Profile, snapshot: RiskSnapshot,
                 witness: WarmWitness, venue_key: Ed25519PrivateKey | None = None) -> None:
        self.model = model
        self.profile = profile
        self.commitment = SnapshotCommitment(snapshot, profile)
        self.witness = witness
        self.margin = margin_model(model)
        self.venue_key = venue_key or generate_key()

    def cases(self, accounts: Sequence[Labelled]) -> list[Case]:
        """The cases of those ``accounts`` that fit the profile and snapshot, attested together in
        one epoch (so each opens its own leaf of a shared account tree)."""
        snapshot = self.commitment.snapshot
        fit = []
        for label, account, threshold in accounts:
            try:
                fit.append((label, account, threshold, resolve(account, snapshot, self.profile)))
            except InputError:
                continue
        if not fit:
            return []
        epoch = attest([account for _, account, _, _ in fit], snapshot, self.venue_key)
        built = []
        for index, (label, account, threshold, book) in enumerate(fit):
            statement = epoch.statement(index)
            result = self.margin(book, threshold)
            inputs = circuit_inputs(book, statement, self.commitment, result)
            built.append(Case(label, account, statement, threshold, book, result, inputs))
        return built

    def case(self, label: str, account: Account, threshold_bps: int) -> Case | None:
        """The case of ``account`` alone in an epoch, or None if it does not fit."""
        found = self.cases([(label, account, threshold_bps)])
        return found[0] if found else None

    def expected(self, case: Case) -> list[tuple[str, int]]:
        """(signal name, engine value) of every named intermediate (signed values field-encoded)."""
        return [pair for name, value in expected_signals(case.result, case.statement, case.book).items()
                for pair in leaves(f"main.{name}", value)]

    def mismatch(self, case: Case) -> str | None:
        """Why the circuit disagrees with the engine on ``case``, or None if it agrees."""
        try:
            witness = self.witness.calculator.calculate(case.inputs)
        except WitnessError as exc:
            if case.result.healthy:
                return f"healthy account (health {case.result.health}) has no witness: {exc}"
            return None
        if not case.result.healthy:
            return f"account below the threshold (health {case.result.health}) has a witness"
        for name, want in self.expected(case):
            index = self.witness.signals.get(name)
            if index is None:
                return f"{name} is not a signal of the inspect build"
            if witness[index] != want:
                return f"{name}: circuit {witness[index]}, engine {want}"
        return None

    def shrink(self, case: Case) -> Case:
        """A smallest account (greedy) derived from ``case`` that still mismatches."""
        current, shrinking = case, True
        while shrinking:
            shrinking = False
            for account in _smaller(current.account):
                smaller = self.case(current.label, account, current.threshold_bps)
                if smaller is not None and self.mismatch(smaller):
                    current, shrinking = smaller, True
                    break
        return current


def cases(harness: Harness, accounts: int, seed: int) -> list[Case]:
    """``accounts`` random cases (those that fit the profile) and the boundary set, in one epoch."""
    rng = random.Random(seed)
    snapshot = harness.commitment.snapshot
    drawn = [(f"random #{n}", random_account(snapshot, harness.profile, rng), rng.choice(THRESHOLDS))
             for n in range(accounts)]
    return harness.cases([*drawn, *boundary_accounts(snapshot, harness.profile)])


def differential(harness: Harness, checked: list[Case]) -> CheckResult:
    """Compare engine and circuit on every case; report up to MAX_REPORTED shrunk mismatches."""
    started = time.monotonic()
    bad = [(case, reason) for case in checked if (reason := harness.mismatch(case))]
    findings = []
    for case, _ in bad[:MAX_REPORTED]:
        small = harness.shrink(case)
        findings.append(Finding(
            f"differential/{case.label}",
            f"{harness.mismatch(small)}; minimal account (threshold {small.threshold_bps} bps): "
            f"{small.account.model_dump_json()}"))
    healthy = sum(case.result.healthy for case in checked)
    compared = sum(len(harness.expected(case)) for case in checked if case.result.healthy)
    facts = [("accounts", (f"{len(checked)} ({healthy} healthy, {len(checked) - healthy} below "
                          "the threshold)")),
             ("intermediates compared", f"{compared:,}"),
             ("mismatching accounts", str(len(bad)))]
    data = {"accounts": len(checked), "healthy": healthy, "compared": compared,
            "mismatches": [{"label": case.label, "reason": reason} for case, reason in bad]}
    return CheckResult("differential", TITLE, facts, findings, data, time.monotonic() - started)


def _smaller(account: Account) -> Iterator[Account]:
    """Accounts with one position, balance or allocation fewer (invalid ones skipped)."""
    data = account.model_dump()
    variants = [("positions", i) for i in range(len(data["positions"]))]
    variants += [("balances", k) for k in range(len(data["balances"]))]
    for field, index in variants:
        items = data[field][:index] + data[field][index + 1:]
        yield from _valid({**data, field: items})
    for index, position in enumerate(data["positions"]):
        if position.get("allocation") is not None:
            positions = [dict(p) for p in data["positions"]]
            positions[index]["allocation"] = None
            yield from _valid({**data, "positions": positions})


def _valid(data: dict[str, object]) -> Iterator[Account]:
    try:
        yield Account.model_validate(data)
    except ValueError:
        return
