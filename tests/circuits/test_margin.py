"""Differential tests: each model's circuit witness equals the engine on every intermediate."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prover.circuits import WarmWitness
from prover.witness import WitnessError
from tests.circuits.conftest import Case, flatten
from tests.factories import random_account
from zkmargin import fixedpoint as fp
from zkmargin.circuit_input import expected_signals
from zkmargin.circuitgen import generated_files
from zkmargin.models import Account, Allocation, Balance, Position, RiskSnapshot

MakeCase = Callable[..., Case]


def assert_witness_matches_engine(w: WarmWitness, case: Case) -> None:
    witness = w.calculator.calculate(case.inputs)
    compared = 0
    for name, want in (pair for k, v in expected_signals(case.result, case.statement, case.book).items() for pair in flatten(f"main.{k}", v)):
        assert witness[w.signals[name]] == want, name
        compared += 1
    assert compared > 0


def check(w: WarmWitness, case: Case) -> None:
    """Healthy: witness == engine. Below the claimed health: no witness exists."""
    if case.result.healthy:
        assert_witness_matches_engine(w, case)
    else:
        with pytest.raises(WitnessError):
            w.calculator.calculate(case.inputs)


random_books = given(seed=st.integers(0, 2**32), positions=st.integers(0, 4), groups=st.integers(1, 2),
                     threshold=st.sampled_from([0, 5_000, 10_000, 12_500, 2**20 - 1]),
                     debt_max=st.sampled_from([0, 10**9, 10**12]))


def random_case(snapshot: RiskSnapshot, make_case: MakeCase, seed: int, positions: int, groups: int,
                threshold: int, debt_max: int) -> Case:
    """A random account, with debts down to ``-debt_max`` (AMOUNT_SCALE) in some assets."""
    account = random_account(snapshot, random.Random(seed), positions=positions, max_groups=groups, assets=3,
                             debt_max=debt_max, allocate=True)
    return make_case(account, threshold)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@random_books
def test_witness_equals_engine_on_random_accounts(inspect: WarmWitness, snapshot: RiskSnapshot,
                                                  make_case: MakeCase, seed: int, positions: int,
                                                  groups: int, threshold: int, debt_max: int) -> None:
    check(inspect, random_case(snapshot, make_case, seed, positions, groups, threshold, debt_max))


@pytest.mark.fuzz
@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@random_books
def test_witness_equals_engine_on_thousands_of_accounts(inspect: WarmWitness, snapshot: RiskSnapshot,
                                                        make_case: MakeCase, seed: int, positions: int,
                                                        groups: int, threshold: int, debt_max: int) -> None:
    check(inspect, random_case(snapshot, make_case, seed, positions, groups, threshold, debt_max))


def usdc_account(positions: list[Position], usdc: int) -> Account:
    """Positions plus a USDC balance, all of it allocated to the first position (isolated model)."""
    amount = fp.format_decimal(usdc, fp.AMOUNT_SCALE)
    if positions:
        positions = [positions[0].model_copy(update={"allocation": Allocation(asset=0, amount=amount)}), *positions[1:]]
    return Account(positions=positions, balances=[Balance(asset=0, amount=amount)])


def exact_usdc_for_health(make_case: MakeCase, positions: list[Position], threshold: int) -> int:
    """The USDC amount (AMOUNT_SCALE) that makes 10000 * equity == MM * threshold exactly."""
    case = make_case(usdc_account(positions, 0), threshold)
    # USDC: price 1e6, haircut 0 -> one amount unit adds 1e6 * 1e4 to equity, 1e14 to 10000 * equity
    need, rest = divmod(-case.result.health, fp.PRICE_SCALE * fp.BPS * fp.BPS)
    assert rest == 0 and need >= 0
    return need


def test_equity_exactly_at_mm_passes_and_one_unit_less_fails(inspect: WarmWitness, snapshot: RiskSnapshot,
                                                             make_case: MakeCase) -> None:
    future = next(i for i in snapshot.instruments if i.kind.value == "future")
    positions = [Position(instrument=future.id, quantity="-3")]  # one position: the same under every model
    # mm_factor 80% and whole contracts: at 1.25 x MM the exact balance is a whole number of units
    amount = exact_usdc_for_health(make_case, positions, 12_500)
    at = make_case(usdc_account(positions, amount), 12_500)
    assert at.result.health == 0 and at.result.healthy
    assert_witness_matches_engine(inspect, at)
    below = make_case(usdc_account(positions, amount - 1), 12_500)
    assert below.result.health < 0
    with pytest.raises(WitnessError):
        inspect.calculator.calculate(below.inputs)


def test_empty_account_has_zero_requirement(inspect: WarmWitness, make_case: MakeCase) -> None:
    case = make_case(Account())
    assert case.result.im == 0 and case.result.equity == 0
    assert_witness_matches_engine(inspect, case)


def test_all_slots_full_at_maximum_magnitudes(inspect: WarmWitness, make_case: MakeCase) -> None:
    from tests.factories import synthetic_snapshot
    from zkmargin.commitment import SnapshotCommitment
    from zkmargin.profiles import get_profile

    extreme = synthetic_snapshot(instruments=8, groups=2, scenarios=16, assets=4, magnitude=fp.RISK.hi, seed=9)
    under = SnapshotCommitment(extreme, get_profile("small"))
    qmax = fp.format_decimal(fp.QTY.hi, fp.QTY_SCALE)
    qmin = fp.format_decimal(fp.QTY.lo, fp.QTY_SCALE)
    ids = [i.id for i in extreme.instruments[:4]]
    full = fp.format_decimal(fp.AMOUNT.hi, fp.AMOUNT_SCALE)
    account = Account(
        positions=[Position(instrument=i, quantity=q, allocation=Allocation(asset=a, amount=full))
                   for a, (i, q) in enumerate(zip(ids, [qmax, qmin, qmax, qmin]))],
        balances=[Balance(asset=a, amount=fp.format_decimal(fp.AMOUNT.hi, fp.AMOUNT_SCALE)) for a in range(4)])
    case = make_case(account, 0, under)
    check(inspect, case)
    for value in (case.result.im, max(map(abs, case.result.position_value))):  # type: ignore[attr-defined]
        assert value < 1 << fp.LOSS_BITS


def test_negative_equity_cannot_be_proven_even_at_threshold_zero_mm(inspect: WarmWitness,
                                                                     snapshot: RiskSnapshot,
                                                                     make_case: MakeCase) -> None:
    call = next(i for i in snapshot.instruments if i.kind.value == "call" and i.mark > 0)
    case = make_case(usdc_account([Position(instrument=call.id, quantity="-100")], 0), 0)
    assert case.result.equity < 0 and not case.result.healthy
    with pytest.raises(WitnessError):
        inspect.calculator.calculate(case.inputs)


def test_generated_circuit_files_are_current() -> None:
    for path, text in generated_files().items():
        assert path.read_text() == text, f"{path} is stale: run python -m zkmargin.circuitgen"


def test_debts_at_the_bound_and_a_debt_exactly_covered(inspect: WarmWitness, snapshot: RiskSnapshot,
                                                       make_case: MakeCase, model: str) -> None:
    """A debt of -2**64 units in every listed asset (the signed bound) has no witness in any model;
    under portfolio and cross, USDC that exactly covers a debt leaves health at exactly 0."""
    lowest = fp.format_decimal(fp.BALANCE.lo, fp.AMOUNT_SCALE)
    deep = make_case(Account(balances=[Balance(asset=k, amount=lowest) for k in range(3)]), 0)
    assert not deep.result.healthy
    with pytest.raises(WitnessError):
        inspect.calculator.calculate(deep.inputs)
    a1 = snapshot.collateral[1]
    debt = 3 * fp.AMOUNT_SCALE                                  # 3 units of A1 borrowed
    usdc = debt * a1.price // fp.PRICE_SCALE                    # its full value in USDC (price 1, no haircut)
    assert usdc * fp.PRICE_SCALE == debt * a1.price, "the synthetic A1 price must make the cover exact"
    covered = make_case(Account(balances=[Balance(asset=0, amount=fp.format_decimal(usdc, fp.AMOUNT_SCALE)),
                                          Balance(asset=1, amount=fp.format_decimal(-debt, fp.AMOUNT_SCALE))]), 10_000)
    if model == "isolated":
        assert not covered.result.healthy                       # any debt fails the isolated model
        with pytest.raises(WitnessError):
            inspect.calculator.calculate(covered.inputs)
        return
    assert covered.result.equity == 0 and covered.result.health == 0
    assert_witness_matches_engine(inspect, covered)
