"""Distance to a margin call: repricing is the engine's own margin at move 0, and every reported
move is checked by re-running the engine from the public pieces (shift the market, rebuild the
snapshot, resolve, margin, add the settled variation margin): health >= 100 % one bp closer to
0, < 100 % at the move."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from tests.examples import ACCOUNTS, example_account, example_market, example_snapshot
from zkmargin import fixedpoint as fp
from zkmargin.book import resolve
from zkmargin.margincall import (MOVE_CEIL_BPS, MOVE_FLOOR_BPS, CallDistance, Repricer, distances, first_call,
                                 freeze_vols, shift_market)
from zkmargin.methodology import PriceScan, load_methodology
from zkmargin.models import Account, Kind
from zkmargin.portfolio import portfolio_margin
from zkmargin.snapshot_builder import build_snapshot

SPAN16 = load_methodology("span16")

def health_after(acc: Account, moves: dict[int, int]) -> int:
    """``10000 * equity - 10000 * MM`` after ``moves``, recomputed from the public pieces."""
    moved = shift_market(freeze_vols(example_market()), moves)
    result = portfolio_margin(resolve(acc, build_snapshot(moved, SPAN16)))
    by_id = {i.id: i for i in example_market().instruments}
    spot = {u.id: u for u in example_market().underlyings}
    variation = 0
    for p in acc.positions:
        ins = by_id[p.instrument]
        move = moves.get(ins.group, 0)
        if ins.kind in (Kind.FUTURE, Kind.PERP) and move:
            terms = spot[ins.group].terms(ins.expiry) if ins.expiry else None
            assert ins.kind is Kind.PERP or (terms is not None and terms.forward is not None), "quoted forwards only"
            ref = Fraction(terms.forward if terms and terms.forward else ins.mark_price or spot[ins.group].spot)
            per_contract = ref * Fraction(ins.multiplier) * Fraction(move, fp.BPS) * fp.PRICE_SCALE
            variation += p.quantity * (per_contract.numerator // per_contract.denominator)
    return fp.BPS * (result.equity + fp.BPS * variation) - result.mm * fp.BPS


@pytest.mark.parametrize("preset", ["span16", "deribit"])
@pytest.mark.parametrize("name", ACCOUNTS)
def test_at_no_move_the_repriced_margin_is_the_snapshots_integer_for_integer(name: str, preset: str) -> None:
    acc = example_account(name)
    repriced = Repricer(acc, example_market(), load_methodology(preset)).at({})
    assert repriced.result == portfolio_margin(resolve(acc, example_snapshot(preset)))
    assert repriced.variation == 0


def test_a_move_scales_spot_forwards_and_collateral_in_that_underlying_only() -> None:
    moved = shift_market(example_market(), {1: -2_500})
    btc, eth = moved.underlyings
    assert btc.spot == 71_250 and btc.expiries[0].forward == 71_310
    assert eth.spot == example_market().underlyings[1].spot
    assert [c.price for c in moved.collateral] == [1, 71_250, 3_400, example_market().collateral[3].price]
    perp = next(i for i in example_market().instruments if i.kind is Kind.PERP and i.group == 1)
    marked = example_market().model_copy(update={"instruments": [
        i.model_copy(update={"mark_price": 95_100}) if i.id == perp.id else i for i in example_market().instruments]})
    assert next(i for i in shift_market(marked, {1: -2_500}).instruments if i.id == perp.id).mark_price == 71_325


def test_scenarios_are_resolved_on_the_moved_market_a_span_amount_scan_stays_an_amount() -> None:
    acc = example_account("naked_short_calls")
    span = load_methodology("span").model_copy(update={"underlyings": {"BTC": PriceScan(amount=Decimal(9_500))}})
    repricer = Repricer(acc, example_market(), span)
    at_spot, doubled = repricer.at({}), repricer.at({1: 10_000})
    assert at_spot.result == portfolio_margin(resolve(acc, build_snapshot(freeze_vols(example_market()), span)))
    moved = build_snapshot(shift_market(freeze_vols(example_market()), {1: 10_000}), span)
    assert doubled.result == portfolio_margin(resolve(acc, moved))
    extreme = next(s for s in moved.scenarios if s.label == "+2x range extreme")
    assert extreme.price_shock_bps == 1_000  # 2 x 9,500 USD of a 190,000 USD spot, not 2 x 10 %


@pytest.mark.parametrize("name", ACCOUNTS)
def test_every_reported_move_is_the_first_bp_below_100_percent(name: str) -> None:
    acc = example_account(name)
    report = distances(Repricer(acc, example_market(), SPAN16))
    found = [d for d in (*report.down.values(), *report.up.values(), report.joint) if d.move_bps is not None]
    for d in found:
        assert health_after(acc, d.moves(d.move_bps)) < 0
        if d.move_bps > 0:
            assert health_after(acc, d.moves(d.move_bps - 1)) >= 0
    expected_calls = {"hedged_market_maker": 0, "futures_basis_trade": 0, "naked_short_calls": 2,
                      "delta_neutral_straddle": 3, "insolvent": 3}
    assert len(found) == expected_calls[name]


def test_the_straddle_is_called_on_a_fall_of_17_24_percent_or_a_rise_of_20_29() -> None:
    report = distances(Repricer(example_account("delta_neutral_straddle"), example_market(), SPAN16))
    assert (report.down[2].move_bps, report.up[2].move_bps) == (1_724, 2_029)
    assert report.joint == CallDistance({2: -1}, 1_724, -MOVE_FLOOR_BPS)


def test_an_account_already_below_mm_is_called_at_zero() -> None:
    report = distances(Repricer(example_account("insolvent"), example_market(), SPAN16))
    assert report.joint.move_bps == 0 and all(d.move_bps == 0 for d in report.down.values())


def test_without_a_call_the_whole_range_stays_healthy_at_its_steps() -> None:
    acc = example_account("hedged_market_maker")
    repricer = Repricer(acc, example_market(), SPAN16)
    assert first_call(repricer, {1: 1}) == CallDistance({1: 1}, None, MOVE_CEIL_BPS)
    for move in (MOVE_FLOOR_BPS, -3_000, 3_000, MOVE_CEIL_BPS):
        assert health_after(acc, {1: move}) >= 0
