"""What-if trades and the hedge suggestion: parsing, applying, and a hedge never worse than none
and no worse than any quantity of a brute-force grid over the same bounds."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.examples import ACCOUNTS, example_account, example_snapshot
from tests.factories import random_account, synthetic_snapshot
from zkmargin import fixedpoint as fp
from zkmargin.book import resolve
from zkmargin.errors import InputError
from zkmargin.models import Account, RiskSnapshot
from zkmargin.portfolio import portfolio_margin
from zkmargin.whatif import (HEDGE_STEP, Trade, apply_trades, argmin_convex, hedge, hedge_instrument,
                             parse_trade)

#: Points of the brute-force grid each hedge is compared with.
GRID = 60


def mm(acc: Account, snap: RiskSnapshot, trades: list[Trade]) -> int:
    return portfolio_margin(resolve(apply_trades(acc, trades), snap)).mm


def test_a_trade_is_a_symbol_and_a_signed_decimal_quantity() -> None:
    assert parse_trade("BTC-PERP:-2", example_snapshot()) == Trade(102, -2 * fp.QTY_SCALE)
    assert parse_trade("ETH-9JUN25-3000-C:0.5", example_snapshot()) == Trade(210, fp.QTY_SCALE // 2)
    for text, message in (("BTC-PERP", "expected SYMBOL:QUANTITY"), ("NOPE:1", "no instrument NOPE"),
                          ("BTC-PERP:1.0000001", "more than 6 decimals"), ("BTC-PERP:x", "not a decimal"),
                          ("BTC-PERP:1e3", "not a decimal")):
        with pytest.raises(InputError, match=message):
            parse_trade(text, example_snapshot())


def test_trades_add_to_positions_close_at_zero_and_keep_allocations() -> None:
    acc = example_account("hedged_market_maker")
    after = apply_trades(acc, [Trade(102, -2 * fp.QTY_SCALE), Trade(136, 20 * fp.QTY_SCALE),
                               Trade(103, fp.QTY_SCALE)])
    qty = {p.instrument: p.quantity for p in after.positions}
    assert qty == {140: 20 * fp.QTY_SCALE, 133: 20 * fp.QTY_SCALE, 103: 10 * fp.QTY_SCALE, 102: -2 * fp.QTY_SCALE}
    assert next(p for p in after.positions if p.instrument == 103).allocation == acc.positions[3].allocation
    assert after.balances == acc.balances


def test_a_trade_beyond_the_quantity_bound_is_refused() -> None:
    big = Trade(102, fp.QTY.hi)
    with pytest.raises(InputError, match="position in instrument 102 after the trades"):
        apply_trades(apply_trades(example_account("futures_basis_trade"), [big]), [big])


def test_the_hedge_instrument_is_the_perp_else_the_nearest_future() -> None:
    assert hedge_instrument(example_snapshot(), 1).symbol == "BTC-PERP"
    no_perp = example_snapshot().model_copy(update={"instruments": [i for i in example_snapshot().instruments
                                                            if i.symbol != "BTC-PERP"]})
    assert hedge_instrument(no_perp, 1).symbol == "BTC-2JUL25"


@pytest.mark.parametrize("name", ACCOUNTS)
def test_the_hedge_is_never_worse_than_none_nor_than_any_grid_quantity(name: str) -> None:
    acc = example_account(name)
    for h in hedge(acc, example_snapshot()):
        base = mm(acc, example_snapshot(), [])
        assert h.mm_before == base and h.mm_after <= base
        assert h.mm_after == mm(acc, example_snapshot(), [Trade(h.instrument, h.quantity)])
        assert h.quantity % HEDGE_STEP == 0 and abs(h.quantity) <= h.bound
        step = 2 * h.bound // GRID // HEDGE_STEP * HEDGE_STEP
        for q in range(-h.bound, h.bound + 1, step):
            assert h.mm_after <= mm(acc, example_snapshot(), [Trade(h.instrument, q)])


def test_the_hedged_market_maker_gains_nothing_from_futures_as_its_short_option_minimum_binds() -> None:
    (h,) = hedge(example_account("hedged_market_maker"), example_snapshot())
    assert (h.quantity, h.mm_after) == (0, h.mm_before)


def test_a_naked_short_call_is_hedged_by_buying_perps() -> None:
    (h,) = hedge(example_account("naked_short_calls"), example_snapshot())
    assert h.quantity > 0 and h.mm_after < h.mm_before // 2


@settings(max_examples=25)
@given(st.integers(0, 2**32))
def test_hedges_of_random_books_beat_no_hedge(seed: int) -> None:
    snap = synthetic_snapshot(seed=seed % 7, instruments=15, groups=2, scenarios=8, magnitude=10**9)
    acc = random_account(snap, random.Random(seed), positions=4, max_groups=2, assets=1, qty_max=10**7)
    for h in hedge(acc, snap):
        assert h.mm_after <= h.mm_before
        assert h.mm_after <= min(mm(acc, snap, [Trade(h.instrument, q)]) for q in (-h.bound, -HEDGE_STEP, HEDGE_STEP,
                                                                                     h.bound))


@given(st.integers(-500, 500), st.integers(0, 30), st.integers(0, 5), st.integers(-400, 0), st.integers(0, 400))
def test_the_convex_search_finds_the_minimum_and_prefers_the_smallest_quantity(
        centre: int, slope: int, flat: int, lo: int, hi: int) -> None:
    def f(x: int) -> int:
        return slope * max(abs(x - centre) - flat, 0)

    best = argmin_convex(f, lo, hi)
    values = {x: f(x) for x in range(lo, hi + 1)}
    assert values[best] == min(values.values())
    assert abs(best) == min(abs(x) for x, v in values.items() if v == values[best])
