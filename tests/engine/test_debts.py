"""Debts (negative balances) in every margin model: at full price with no haircut benefit under
portfolio and cross margin, fatal under isolated margin; credits keep their tiered haircuts."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.factories import account_of, accounts, random_account, synthetic_snapshot
from zkmargin import fixedpoint as fp
from zkmargin.book import AssetTerms, Book, resolve
from zkmargin.isolated import isolated_margin
from zkmargin.margin import margin_model
from zkmargin.models import Account
from zkmargin.terms import Pooled, collateral_split, collateral_value

SNAPSHOT = synthetic_snapshot(instruments=15, groups=3, scenarios=8, assets=3)
POOLED = ("portfolio", "cross")


@st.composite
def tiers(draw: st.DrawFn, asset: AssetTerms) -> AssetTerms:
    """``asset`` with random tier bounds and non-decreasing MM / IM haircuts (any in 0..10000 bps)."""
    n = len(asset.tier_from)
    starts = sorted(draw(st.lists(st.integers(1, fp.AMOUNT.hi), min_size=n - 1, max_size=n - 1)))
    mm = sorted(draw(st.lists(st.integers(0, fp.BPS), min_size=n, max_size=n)))
    im = sorted(draw(st.lists(st.integers(0, fp.BPS), min_size=n, max_size=n)))
    price = draw(st.integers(0, fp.ASSET_PRICE.hi))
    return AssetTerms(price, (0, *starts), tuple(mm), tuple(im))


@st.composite
def books(draw: st.DrawFn) -> Book:
    """Random books on SNAPSHOT (debts included) with random prices and haircut tiers."""
    book = resolve(draw(accounts(SNAPSHOT, max_positions=6)), SNAPSHOT)
    return replace(book, assets=tuple(draw(tiers(a)) for a in book.assets))


def _with_balance(book: Book, asset: int, balance: int) -> Book:
    balances = list(book.balances)
    balances[asset] = balance
    return replace(book, balances=tuple(balances))


# ---- portfolio and cross: a debt at full price ----
@pytest.mark.parametrize("model", POOLED)
@given(book=books(), asset=st.integers(0, 2), debt=st.integers(1, -fp.BALANCE.lo))
def test_a_debt_lowers_equity_by_exactly_its_full_price_whatever_the_haircuts(
        model: str, book: Book, asset: int, debt: int) -> None:
    """A debt of X units at price p: equity and IM equity drop by exactly X * p * 10000 (EQUITY_SCALE)
    against the same book without it; the requirement does not move."""
    run = margin_model(model)
    clear = run(_with_balance(book, asset, 0), fp.BPS)
    owing = run(_with_balance(book, asset, -debt), fp.BPS)
    assert isinstance(clear, Pooled) and isinstance(owing, Pooled)
    full_price = debt * book.assets[asset].price * fp.BPS
    assert clear.equity - owing.equity == full_price
    assert clear.equity_im - owing.equity_im == full_price
    assert owing.collateral_value[asset] == owing.collateral_value_im[asset] == -full_price
    assert owing.collateral_split[asset] == (0,) * len(book.assets[asset].tier_from)
    assert (owing.im, owing.mm) == (clear.im, clear.mm)
    assert owing.health == clear.health - full_price * fp.BPS


@pytest.mark.parametrize("model", POOLED)
@given(book=books(), asset=st.integers(0, 2), credit=st.integers(1, fp.BALANCE.hi))
def test_a_credit_keeps_its_tiered_haircuts(model: str, book: Book, asset: int, credit: int) -> None:
    run = margin_model(model)
    terms = book.assets[asset]
    clear = run(_with_balance(book, asset, 0), fp.BPS)
    held = run(_with_balance(book, asset, credit), fp.BPS)
    assert isinstance(clear, Pooled) and isinstance(held, Pooled)
    split = collateral_split(credit, terms.tier_from)
    assert held.collateral_split[asset] == split and sum(split) == credit
    assert held.equity - clear.equity == collateral_value(split, terms, terms.hc_mm)
    assert held.equity_im - clear.equity_im == collateral_value(split, terms, terms.hc_im)


@pytest.mark.parametrize("model", POOLED)
def test_a_debt_is_worth_its_full_price_even_where_a_credit_is_haircut_to_nothing(model: str) -> None:
    """Full haircut (10000 bps): a credit adds 0, a debt of the same size still costs its full price."""
    book = resolve(account_of({}, {1: 0}), SNAPSHOT)
    worthless = AssetTerms(3 * fp.PRICE_SCALE, book.assets[1].tier_from, (fp.BPS,) * 3, (fp.BPS,) * 3)
    book = replace(book, assets=(book.assets[0], worthless, book.assets[2]))
    run = margin_model(model)
    assert run(_with_balance(book, 1, 5 * fp.AMOUNT_SCALE), fp.BPS).equity == 0
    assert run(_with_balance(book, 1, -5 * fp.AMOUNT_SCALE), fp.BPS).equity == -15 * fp.EQUITY_SCALE


# ---- isolated: any debt fails ----
@given(book=books(), asset=st.integers(0, 2), debt=st.integers(1, -fp.BALANCE.lo),
       threshold=st.integers(0, fp.THRESHOLD.hi))
def test_the_isolated_model_fails_any_account_with_a_debt(book: Book, asset: int, debt: int, threshold: int) -> None:
    result = isolated_margin(_with_balance(book, asset, -debt), threshold)
    assert result.health < 0 and not result.healthy


def test_the_isolated_model_fails_a_debt_priced_zero_that_is_healthy_without_it() -> None:
    rng = random.Random(3)
    account = random_account(SNAPSHOT, rng, positions=0, max_groups=1, assets=3, allocate=True)
    book = resolve(account, SNAPSHOT)
    free = replace(book, assets=(book.assets[0], replace(book.assets[1], price=0), book.assets[2]))
    assert isolated_margin(_with_balance(free, 1, 0), 0).healthy
    owing = isolated_margin(_with_balance(free, 1, -1), 0)
    assert owing.health == -1 and owing.equity == isolated_margin(_with_balance(free, 1, 0), 0).equity


def test_isolated_equity_counts_debts_at_full_price_and_slots_keep_their_tiers() -> None:
    allocated = Account.model_validate({
        "positions": [{"instrument": SNAPSHOT.instruments[0].id, "quantity": "1",
                       "allocation": {"asset": 2, "amount": "200"}}],
        "balances": [{"asset": 0, "amount": "500"}, {"asset": 1, "amount": "-7"}, {"asset": 2, "amount": "400"}]})
    book = resolve(allocated, SNAPSHOT)
    result = isolated_margin(book, fp.BPS)
    terms = book.assets[2]
    assert result.alloc_value[0] == collateral_value(collateral_split(200 * fp.AMOUNT_SCALE, terms.tier_from),
                                                     terms, terms.hc_mm)
    assert result.equity == sum(result.slot_equity) - 7 * fp.AMOUNT_SCALE * book.assets[1].price * fp.BPS
    assert result.health < 0
