"""The numpy batch path equals the scalar specification, integer for integer, up to the bounds."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.factories import (accounts, extreme_account, extreme_snapshot, random_account, snapshots,
                             synthetic_snapshot)
from zkmargin import fixedpoint as fp
from zkmargin import vectorized
from zkmargin.book import Book, resolve
from zkmargin.errors import BoundError
from zkmargin.io import load_model
from zkmargin.models import RiskSnapshot
from zkmargin.portfolio import portfolio_margin
from zkmargin.profiles import PROFILES, Profile
from zkmargin.vectorized import portfolio_margin_batch

KEY_FIELDS = ("equity", "equity_im", "scan_loss", "worst_scenario", "group_som", "group_req", "im", "mm", "health")
SPAN16 = Path(__file__).resolve().parents[2] / "examples" / "snapshot_span16.json"

#: The key outputs of every book, one tuple (in KEY_FIELDS order) per book.
Outputs = list[tuple[object, ...]]


def scalar(books: Sequence[Book], threshold_bps: int) -> Outputs:
    results = [portfolio_margin(b, threshold_bps) for b in books]
    return [tuple(getattr(r, f) for f in KEY_FIELDS) for r in results]


def batch(books: Sequence[Book], threshold_bps: int) -> Outputs:
    result = portfolio_margin_batch(books, threshold_bps)
    assert len(result) == len(books) and result.threshold_bps == threshold_bps
    return list(zip(*(getattr(result, f) for f in KEY_FIELDS)))


@pytest.fixture(params=[scalar, batch])
def margin(request: pytest.FixtureRequest) -> Callable[[Sequence[Book], int], Outputs]:
    """Each implementation of the key outputs."""
    return request.param  # type: ignore[no-any-return]


def _assert_same(books: Sequence[Book], threshold_bps: int = 10_000) -> None:
    assert batch(books, threshold_bps) == scalar(books, threshold_bps)


def _fitting(snapshot: RiskSnapshot, extra_scenarios: int) -> Profile:
    """A profile that holds ``snapshot`` (8 positions, 4 groups, one spare asset)."""
    return Profile("fit", positions=8, scenarios=len(snapshot.scenarios) + extra_scenarios, depth=5,
                   assets=len(snapshot.collateral) + 1, groups=4, tiers=4)


# ---- equality with the scalar path ----
@given(snapshots(), st.data())
def test_batch_equals_scalar_on_random_books_up_to_the_bounds(snapshot: RiskSnapshot, data: st.DataObject) -> None:
    books = []
    for _ in range(data.draw(st.integers(1, 6))):
        account = data.draw(accounts(snapshot, max_groups=4))
        padding = data.draw(st.none() | st.integers(0, 3))
        books.append(resolve(account, snapshot, None if padding is None else _fitting(snapshot, padding)))
    _assert_same(books, data.draw(st.integers(0, fp.THRESHOLD.hi)))


@pytest.mark.parametrize("groups", [1, fp.MAX_GROUPS])
@pytest.mark.parametrize("qty", [fp.QTY.lo, fp.QTY.hi, -1, 1])
@pytest.mark.parametrize("amount", [0, fp.BALANCE.hi, fp.BALANCE.lo, -1])
def test_batch_equals_scalar_on_full_books_at_every_bound(groups: int, qty: int, amount: int) -> None:
    snapshot = extreme_snapshot(groups=groups)
    _assert_same([resolve(extreme_account(snapshot, qty, amount), snapshot)], fp.THRESHOLD.hi)


def test_batch_equals_scalar_on_books_of_different_shapes_and_snapshots() -> None:
    rng = random.Random(5)
    books = []
    for snapshot, profile in [(synthetic_snapshot(seed=1), None), (synthetic_snapshot(seed=2, scenarios=20), None),
                              (synthetic_snapshot(seed=3), PROFILES["small"]),
                              (synthetic_snapshot(seed=4, assets=4), PROFILES["standard"])]:
        books += [resolve(random_account(snapshot, rng, positions=rng.randint(0, 4), max_groups=2, assets=k),
                          snapshot, profile) for k in range(4)]
    extreme = extreme_snapshot(groups=3)
    books.append(resolve(extreme_account(extreme, fp.QTY.lo), extreme))
    _assert_same(books)


def test_full_short_book_has_the_closed_form_requirement(margin: Callable[[Sequence[Book], int], Outputs]) -> None:
    """64 shorts of 2**47 on risk [-2**47, 2**47 - 1, 0, 1], every mark, add-on and minimum at 2**47 - 1,
    16 assets of 2**64 - 1 units at 2**48 - 1 without haircut."""
    snapshot = extreme_snapshot()
    (out,) = margin([resolve(extreme_account(snapshot, fp.QTY.lo), snapshot)], fp.THRESHOLD.hi)
    per_leg = 64 * (1 << 47) * ((1 << 47) - 1)  # 2**100 - 2**53: scan loss, minimum, add-ons, -position value
    equity = 16 * fp.AMOUNT.hi * fp.ASSET_PRICE.hi * fp.BPS - fp.BPS * per_leg
    im = 2 * per_leg
    assert dict(zip(KEY_FIELDS, out)) == {
        "equity": equity, "equity_im": equity, "scan_loss": (per_leg,), "worst_scenario": (1,),
        "group_som": (per_leg,), "group_req": (per_leg,), "im": im, "mm": im * fp.BPS,
        "health": fp.BPS * equity - im * fp.BPS * fp.THRESHOLD.hi}


def test_books_without_positions_or_balances_owe_nothing(margin: Callable[[Sequence[Book], int], Outputs]) -> None:
    snapshot = synthetic_snapshot()
    books = [resolve(random_account(snapshot, random.Random(0), positions=0, max_groups=1, assets=0), snapshot, p)
             for p in (None, PROFILES["small"])]
    assert margin(books, 10_000) == [(0, 0, (), (), (), (), 0, 0, 0), (0, 0, (0, 0), (-1, -1), (0, 0), (0, 0), 0, 0, 0)]


def test_an_empty_batch_has_no_results() -> None:
    result = portfolio_margin_batch([])
    assert len(result) == 0 and result.healthy == () and result.equity == ()


def test_healthy_flags_follow_the_sign_of_health() -> None:
    snapshot = synthetic_snapshot()
    rng = random.Random(9)
    books = [resolve(random_account(snapshot, rng, positions=4, max_groups=2, assets=1,
                                    amount_max=rng.choice([10**9, 10**16])), snapshot) for _ in range(40)]
    result = portfolio_margin_batch(books)
    assert result.healthy == tuple(portfolio_margin(b).healthy for b in books)
    assert set(result.healthy) == {True, False}


# ---- refusals ----
def _book() -> Book:
    snapshot = synthetic_snapshot()
    return resolve(random_account(snapshot, random.Random(1), positions=3, max_groups=2, assets=2), snapshot)


@pytest.mark.parametrize(("field", "value"), [("qty", fp.QTY.hi + 1), ("qty", fp.QTY.lo - 1), ("mark", -1),
                                              ("addon", 1 << 47), ("som", -1), ("risk", (1 << 47,) * 16)])
def test_a_book_value_outside_its_bound_is_a_bound_error(field: str, value: Any) -> None:
    book = _book()
    bad = replace(book, slots=(replace(book.slots[0], **{field: value}), *book.slots[1:]))
    with pytest.raises(BoundError, match="must lie in"):
        portfolio_margin_batch([book, bad])


@pytest.mark.parametrize("balance", [fp.BALANCE.hi + 1, fp.BALANCE.lo - 1])
def test_a_balance_outside_its_65_signed_bits_is_a_bound_error(balance: int) -> None:
    book = _book()
    bad = replace(book, balances=(balance, *book.balances[1:]))
    with pytest.raises(BoundError, match=rf"^balance = {balance}: must lie in"):
        portfolio_margin_batch([book, bad])


def test_a_book_with_more_slots_than_the_largest_profile_is_a_bound_error() -> None:
    book = _book()
    wide = replace(book, slots=book.slots * 22, slot_group=book.slot_group * 22)
    with pytest.raises(BoundError, match=r"^position slots = 66: at most 64 per book"):
        portfolio_margin_batch([wide])


@pytest.mark.parametrize("threshold", [-1, 1 << 20])
def test_a_threshold_outside_its_20_bits_is_a_bound_error(threshold: int) -> None:
    with pytest.raises(BoundError, match="threshold_bps"):
        portfolio_margin_batch([_book()], threshold)


def test_limb_overflow_self_check_rejects_limbs_too_wide_for_int64(monkeypatch: pytest.MonkeyPatch) -> None:
    vectorized.check_limb_overflow()
    monkeypatch.setattr(vectorized, "LIMB_BITS", 28)
    with pytest.raises(ValueError, match="limb sums reach 2\\*\\*64"):
        vectorized.check_limb_overflow()


# ---- differential fuzzing ----
@pytest.mark.fuzz
def test_batch_equals_scalar_on_thousands_of_random_accounts_on_the_example_market() -> None:
    snapshot = load_model(RiskSnapshot, SPAN16) if SPAN16.exists() else synthetic_snapshot(instruments=150, groups=2)
    rng = random.Random(2024)
    books = [resolve(random_account(snapshot, rng, positions=rng.randint(0, 16), max_groups=rng.randint(1, 2),
                                    assets=rng.randint(0, len(snapshot.collateral)),
                                    qty_max=rng.choice([10**6, 10**9, fp.QTY.hi]), debt_max=rng.choice([0, 10**9])),
                     snapshot, PROFILES["standard"]) for _ in range(5000)]
    _assert_same(books, rng.randint(0, fp.THRESHOLD.hi))
