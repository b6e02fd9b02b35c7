"""Portfolio margin: a worked example, the margin laws as properties, and the collateral split."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.factories import account_of, accounts, single_tier, synthetic_snapshot
from zkmargin import fixedpoint as fp
from zkmargin.book import PAD_TIER_FROM, AssetTerms, resolve
from zkmargin.errors import BoundError
from zkmargin.models import (Account, CollateralAsset, Group, HaircutTier, Instrument, Kind, MarginParams,
                             RiskSnapshot, Scenario)
from zkmargin.portfolio import FULL_HEALTH_BPS, MarginResult, portfolio_margin
from zkmargin.terms import collateral_split, collateral_value

SNAPSHOT = synthetic_snapshot(instruments=24, groups=3, scenarios=16, assets=3)
FLAT = single_tier(SNAPSHOT)
USD = fp.PRICE_SCALE


def _margin(account: Account, snapshot: RiskSnapshot = SNAPSHOT, threshold_bps: int = FULL_HEALTH_BPS) -> MarginResult:
    return portfolio_margin(resolve(account, snapshot), threshold_bps)


def _snapshot(instruments: list[dict[str, Any]], scenarios: int) -> RiskSnapshot:
    """One group, the given instruments (id, mark, addon, short_option_min, risk), USDC and a tiered BTC."""
    return RiskSnapshot(
        venue="worked", epoch=1, scenarios=[Scenario(label=f"s{k}", price_shock_bps=0) for k in range(scenarios)],
        groups=[Group(id=1, underlying="BTC")],
        instruments=[Instrument(symbol=f"I{x['id']}", kind=Kind.CALL, group=1, **x) for x in instruments],
        collateral=[
            CollateralAsset(index=0, symbol="USDC", price=USD, tiers=[HaircutTier(from_amount=0, mm_bps=0, im_bps=0)]),
            CollateralAsset(index=1, symbol="BTC", price=50_000 * USD, tiers=[
                HaircutTier(from_amount=0, mm_bps=500, im_bps=1000),
                HaircutTier(from_amount=10 * fp.AMOUNT_SCALE, mm_bps=1000, im_bps=2000)])],
        params=MarginParams(mm_factor_bps=8000, contingency_bps=0, short_option_min_bps=0))


# ---- a worked example, every intermediate by hand ----
WORKED = _snapshot([
    {"id": 1, "mark": 2 * USD, "addon": 10_000, "short_option_min": 0, "risk": [-USD, USD // 2]},
    {"id": 2, "mark": 300_000, "addon": 5_000, "short_option_min": 100_000, "risk": [800_000, -200_000]},
], scenarios=2)


def test_worked_example_gives_every_intermediate_as_computed_by_hand() -> None:
    # long 3 of instrument 1, short 2 of instrument 2; 1000 USDC and 12 BTC (10 in tier 0, 2 in tier 1)
    r = _margin(account_of({1: 3_000_000, 2: -2_000_000}, {0: 1000 * 10**6, 1: 12 * 10**6}), WORKED)
    assert r.position_value == (6 * 10**12, -6 * 10**11)
    assert (r.abs_qty, r.short_qty, r.addon) == ((3 * 10**6, 2 * 10**6), (0, 2 * 10**6), (3 * 10**10, 10**10))
    assert r.collateral_split == ((10**9, 0), (10 * 10**6, 2 * 10**6))  # USDC padded to BTC's two tiers
    assert r.collateral_value == (10**19, 5 * 10**10 * (10 * 10**6 * 9500 + 2 * 10**6 * 9000))
    assert r.collateral_value_im == (10**19, 5 * 10**10 * (10 * 10**6 * 9000 + 2 * 10**6 * 8000))
    assert r.equity == 10**19 + 565 * 10**19 + 10_000 * 54 * 10**11
    assert r.group_pnl == ((-46 * 10**11, 19 * 10**11),)
    assert (r.scan_loss, r.worst_scenario) == ((46 * 10**11,), (0,))
    assert (r.group_som, r.group_req) == ((2 * 10**11,), (46 * 10**11,))
    assert (r.im, r.mm) == (464 * 10**10, 464 * 10**10 * 8000)
    assert r.health == 10_000 * r.equity - r.mm * 10_000 and r.healthy
    assert r.health_bps == r.equity * 10_000 // r.mm
    assert r.im_excess == r.equity_im - r.im * 10_000


def test_short_option_minimum_sets_the_requirement_only_when_it_exceeds_the_scanning_loss() -> None:
    option = {"id": 1, "mark": 0, "addon": 0, "short_option_min": 500_000, "risk": [-200_000, 100_000]}
    call = _snapshot([option], scenarios=2)
    short = _margin(account_of({1: -10**6}), call)  # P&L +0.2 / -0.1 USD: loss 0.1, minimum 0.5
    assert (short.scan_loss, short.worst_scenario, short.group_som, short.group_req) == \
        ((10**11,), (1,), (5 * 10**11,), (5 * 10**11,))
    long = _margin(account_of({1: 10**6}), call)  # P&L -0.2 / +0.1 USD: loss 0.2, no minimum
    assert (long.scan_loss, long.worst_scenario, long.group_som, long.group_req) == \
        ((2 * 10**11,), (0,), (0,), (2 * 10**11,))


def test_an_account_without_positions_owes_nothing_and_is_healthy_at_any_threshold() -> None:
    r = _margin(account_of({}, {0: 5}), threshold_bps=fp.THRESHOLD.hi)
    assert (r.im, r.mm, r.health_bps, r.scan_loss) == (0, 0, None, ())
    assert r.healthy and r.equity == 5 * USD * fp.BPS


@pytest.mark.parametrize("threshold", [-1, 1 << 20, True])
def test_threshold_outside_its_20_bits_is_a_bound_error(threshold: int) -> None:
    with pytest.raises(BoundError, match="threshold_bps"):
        _margin(account_of({}), threshold_bps=threshold)


# ---- properties ----
@given(st.data(), st.integers(0, fp.AMOUNT.hi))
def test_adding_collateral_never_lowers_health(data: st.DataObject, extra: int) -> None:
    account = data.draw(accounts(SNAPSHOT))
    asset = data.draw(st.sampled_from(account.balances))
    balances = {b.asset: b.amount for b in account.balances}
    balances[asset.asset] = min(asset.amount + extra, fp.AMOUNT.hi)
    richer = account_of({p.instrument: p.quantity for p in account.positions}, balances)
    before, after = _margin(account), _margin(richer)
    assert after.health >= before.health and after.equity >= before.equity and after.equity_im >= before.equity_im
    assert after.im == before.im


@given(st.data())
def test_doubling_every_position_and_balance_doubles_equity_and_im_under_flat_haircuts(data: st.DataObject) -> None:
    """Exact because every term is linear in quantities and balances when each asset has a single
    haircut tier. Tiered haircuts break it (next test): collateral value is concave in the balance."""
    account = data.draw(accounts(FLAT, qty=st.integers(fp.QTY.lo // 2, fp.QTY.hi // 2),
                                 amount=st.integers(0, fp.AMOUNT.hi // 2)))
    doubled = account_of({p.instrument: 2 * p.quantity for p in account.positions},
                         {b.asset: 2 * b.amount for b in account.balances})
    one, two = _margin(account, FLAT), _margin(doubled, FLAT)
    assert (two.equity, two.equity_im, two.im, two.mm) == (2 * one.equity, 2 * one.equity_im, 2 * one.im, 2 * one.mm)
    assert two.scan_loss == tuple(2 * x for x in one.scan_loss) and two.worst_scenario == one.worst_scenario


def test_tiered_haircuts_make_collateral_less_than_double_when_a_balance_crosses_a_tier() -> None:
    btc = WORKED.collateral[1]  # 500 bps below 10 BTC, 1000 bps above
    one, two = (_margin(account_of({}, {1: n * 10**6}), WORKED).collateral_value[1] for n in (10, 20))
    assert one == btc.price * 10 * 10**6 * 9500
    assert two == btc.price * 10 * 10**6 * (9500 + 9000) < 2 * one


def _twins(risk: list[int]) -> RiskSnapshot:
    """Two instruments of one group with the same risk array (ids 1 and 2)."""
    return _snapshot([{"id": k, "mark": 0, "addon": 0, "short_option_min": 0, "risk": risk} for k in (1, 2)], len(risk))


@given(st.lists(st.integers(fp.RISK.lo, fp.RISK.hi), min_size=1, max_size=20), st.integers(-fp.QTY.hi, fp.QTY.hi))
def test_a_position_and_its_exact_opposite_on_identical_risk_net_to_zero_loss(risk: list[int], q: int) -> None:
    r = _margin(account_of({1: q, 2: -q}), _twins(risk))
    assert r.group_pnl == ((0,) * len(risk),) and r.scan_loss == (0,) and r.worst_scenario == (-1,)


@given(st.lists(st.integers(-fp.RISK.hi, fp.RISK.hi), min_size=1, max_size=20), st.integers(-fp.QTY.hi, fp.QTY.hi))
def test_scanning_loss_of_q_on_risk_r_equals_that_of_minus_q_on_minus_r(risk: list[int], q: int) -> None:
    plain = _margin(account_of({1: q}), _twins(risk))
    mirrored = _margin(account_of({1: -q}), _twins([-x for x in risk]))
    assert plain.group_pnl == mirrored.group_pnl and plain.scan_loss == mirrored.scan_loss


@given(st.data())
def test_portfolio_im_is_at_most_the_sum_of_single_position_ims(data: st.DataObject) -> None:
    account = data.draw(accounts(SNAPSHOT, max_positions=10))
    alone = sum(_margin(account_of({p.instrument: p.quantity})).im for p in account.positions)
    assert _margin(account).im <= alone


@given(st.data())
def test_scanning_loss_is_the_largest_scenario_loss_and_never_negative(data: st.DataObject) -> None:
    r = _margin(data.draw(accounts(SNAPSHOT, max_positions=12)))
    for loss, worst, pnl in zip(r.scan_loss, r.worst_scenario, r.group_pnl):
        assert loss >= 0 and all(loss >= -p for p in pnl)
        assert loss == max(0, *(-p for p in pnl))
        if loss:
            assert worst == pnl.index(-loss)
        else:
            assert worst == -1


@given(st.data(), st.integers(0, fp.THRESHOLD.hi))
def test_health_is_the_cross_multiplied_margin_check(data: st.DataObject, threshold: int) -> None:
    r = _margin(data.draw(accounts(SNAPSHOT)), threshold_bps=threshold)
    assert r.mm == r.im * SNAPSHOT.params.mm_factor_bps
    assert r.health == fp.BPS * r.equity - r.mm * threshold
    assert r.healthy == (r.equity * fp.BPS >= r.mm * threshold)
    assert r.group_req == tuple(max(a, b) for a, b in zip(r.scan_loss, r.group_som))
    assert r.im == sum(r.group_req) + sum(r.addon)


# ---- collateral split ----
@st.composite
def _tiers(draw: st.DrawFn) -> tuple[int, ...]:
    starts = draw(st.lists(st.integers(1, fp.AMOUNT.hi), max_size=3, unique=True))
    padding = draw(st.integers(0, 2))
    return (0, *sorted(starts), *(PAD_TIER_FROM,) * padding)


@given(st.integers(0, fp.AMOUNT.hi), _tiers())
def test_collateral_split_fills_tiers_from_the_bottom_and_sums_to_the_balance(
        balance: int, tier_from: tuple[int, ...]) -> None:
    split = collateral_split(balance, tier_from)
    assert sum(split) == balance
    widths = [b - a for a, b in pairwise(tier_from)]
    assert all(0 <= part <= width for part, width in zip(split, widths))
    for t, part in enumerate(split):  # a tier holds something only when every tier below is full
        assert part == 0 or split[:t] == tuple(widths[:t])


@given(st.integers(0, fp.AMOUNT.hi), st.integers(0, fp.AMOUNT.hi), _tiers())
def test_collateral_value_grows_with_the_balance_by_at_most_its_price_per_unit(
        a: int, b: int, tier_from: tuple[int, ...]) -> None:
    haircuts = tuple(min(4000 * t, fp.BPS) for t in range(len(tier_from)))  # rising with the tier
    asset = AssetTerms(price=7, tier_from=tier_from, hc_mm=haircuts, hc_im=haircuts)
    lo, hi = sorted((a, b))
    value_lo, value_hi = (collateral_value(collateral_split(x, tier_from), asset, haircuts) for x in (lo, hi))
    assert 0 <= value_hi - value_lo <= 7 * fp.BPS * (hi - lo)
