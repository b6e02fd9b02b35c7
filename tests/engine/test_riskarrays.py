"""Market data -> risk arrays -> quantized snapshot: pricing, quantization, presets, determinism."""

from __future__ import annotations

import copy
import json
import math
from decimal import Decimal
from fractions import Fraction
from statistics import NormalDist
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zkmargin import fixedpoint as fp
from zkmargin.book import resolve
from zkmargin.errors import BoundError, InputError
from zkmargin.io import parse_model
from zkmargin.market import Market
from zkmargin.models import Account, RiskSnapshot
from zkmargin.portfolio import portfolio_margin
from zkmargin.methodology import load_methodology, preset_names
from zkmargin.riskarrays import account_greeks, black76, greeks, instrument_terms, marks, quantize, scenario_pnl
from zkmargin.scenarios import scenario_set
from zkmargin.snapshot_builder import build_snapshot

SPOT = 100_000
EXPIRY = "2025-04-01"  # 90 days after the valuation date
BASE: dict[str, Any] = {
    "venue": "test", "epoch": 3, "valuation_date": "2025-01-01",
    "underlyings": [{"id": 1, "name": "BTC", "spot": str(SPOT), "rate": "0.05", "expiries": [
        {"expiry": EXPIRY, "smile": {"atm_vol": "0.5", "skew": "-0.1", "curvature": "0.4"}}]}],
    "instruments": [
        {"id": 1, "symbol": "BTC-USD", "kind": "spot", "group": 1, "multiplier": "0.1"},
        {"id": 2, "symbol": "BTC-PERP", "kind": "perp", "group": 1},
        {"id": 3, "symbol": "BTC-1APR25", "kind": "future", "group": 1, "expiry": EXPIRY},
        {"id": 4, "symbol": "BTC-1APR25-105000-C", "kind": "call", "group": 1, "strike": "105000", "expiry": EXPIRY},
        {"id": 5, "symbol": "BTC-1APR25-105000-C-TWIN", "kind": "call", "group": 1, "strike": "105000",
         "expiry": EXPIRY},
        {"id": 6, "symbol": "BTC-1APR25-105000-P", "kind": "put", "group": 1, "strike": "105000", "expiry": EXPIRY,
         "vol": "0.6"},
    ],
    "collateral": [
        {"index": 0, "symbol": "USDC", "price": "1", "tiers": [{"from_amount": "0", "mm": "0", "im": "0"}]},
        {"index": 1, "symbol": "XYZ", "price": "0.9998555", "tiers": [
            {"from_amount": "0", "mm": "0.05005", "im": "0.1"},
            {"from_amount": "10.0000005", "mm": "0.1", "im": "0.2"}]},
    ],
    "params": {"mm_factor": "0.8", "contingency_rate": "0.0025", "short_option_min_rate": "0.01"},
}


def make_market(edit: dict[str, Any] | None = None) -> Market:
    """The test market, with top-level keys replaced by ``edit``; validated from JSON like a file."""
    data = copy.deepcopy(BASE)
    data.update(edit or {})
    return parse_model(Market, json.dumps(data), source="test market")


@pytest.fixture(scope="module")
def market() -> Market:
    return make_market()


@pytest.fixture(scope="module")
def span16(market: Market) -> RiskSnapshot:
    return build_snapshot(market, "span16")


def scenario_index(snapshot: RiskSnapshot, price_bps: int, weight_bps: int = fp.BPS) -> int:
    return next(k for k, s in enumerate(snapshot.scenarios)
                if s.price_shock_bps == price_bps and s.weight_bps == weight_bps)


def account(*positions: tuple[int, str]) -> Account:
    return Account.model_validate({"positions": [{"instrument": i, "quantity": q} for i, q in positions]})


# ---- Black-76 ----

def reference_black76(f: float, k: float, t: float, vol: float, r: float, call: bool) -> float:
    """Textbook Black-76 with the stdlib normal distribution (independent of the engine)."""
    n = NormalDist()
    sd = vol * math.sqrt(t)
    d1 = (math.log(f / k) + sd * sd / 2) / sd
    d2 = d1 - sd
    if call:
        return math.exp(-r * t) * (f * n.cdf(d1) - k * n.cdf(d2))
    return math.exp(-r * t) * (k * n.cdf(-d2) - f * n.cdf(-d1))


def test_black76_matches_hulls_crude_oil_futures_put() -> None:
    # Hull, Options, Futures and Other Derivatives: F = K = 20, r = 9 %, T = 4 months, vol = 25 %
    # gives a European futures put worth 1.12.
    put = float(black76(20.0, 20.0, 4 / 12, 0.25, 0.09, False))
    assert round(put, 2) == 1.12
    assert put == pytest.approx(reference_black76(20.0, 20.0, 4 / 12, 0.25, 0.09, False), rel=1e-12)


@settings(deadline=None)
@given(f=st.floats(10, 200_000), moneyness=st.floats(0.3, 3.0), t=st.floats(1 / 365, 2.0),
       vol=st.floats(0.05, 2.0), r=st.floats(-0.02, 0.2))
def test_black76_satisfies_put_call_parity_and_matches_the_reference(f: float, moneyness: float, t: float,
                                                                     vol: float, r: float) -> None:
    k = f * moneyness
    call, put = black76(f, k, t, vol, r, [True, False])
    assert call - put == pytest.approx(math.exp(-r * t) * (f - k), abs=1e-9 * f)
    assert call == pytest.approx(reference_black76(f, k, t, vol, r, True), abs=1e-9 * f)
    assert math.exp(-r * t) * max(f - k, 0.0) - 1e-9 * f <= call <= math.exp(-r * t) * f


def test_option_risk_arrays_are_black76_differences(market: Market, span16: RiskSnapshot) -> None:
    terms = instrument_terms(market)
    call = market.instruments.index(next(i for i in market.instruments if i.id == 4))
    f, t = terms.ref[call], 90 / 365
    x = math.log(105_000 / f)
    vol = 0.5 - 0.1 * x + 0.4 * x * x  # the expiry's smile
    assert terms.vol[call] == pytest.approx(vol, rel=1e-15)
    now = reference_black76(f, 105_000, t, vol, 0.05, True)
    ins = span16.instruments_by_id[4]
    for k, s in enumerate(span16.scenarios):
        shocked = reference_black76(f * (1 + s.price_shock_bps / 1e4), 105_000, t,
                                    vol * (1 + s.vol_shock_bps / 1e4), 0.05, True)
        assert ins.risk[k] == pytest.approx((shocked - now) * s.weight_bps / 1e4 * fp.PRICE_SCALE, abs=2)
    assert ins.mark == round(now * fp.PRICE_SCALE)


# ---- linear instruments ----

def test_linear_risk_arrays_move_with_their_reference_price(market: Market, span16: RiskSnapshot) -> None:
    by_id = span16.instruments_by_id
    up = scenario_index(span16, 500)
    crash = scenario_index(span16, -3000, weight_bps=3500)
    # spot, multiplier 0.1: 100000 * 0.1 * 5 % = 500 USD; the extreme move counts 35 % of -30 %
    assert by_id[1].risk[up] == 500 * fp.PRICE_SCALE
    assert by_id[1].risk[crash] == -1050 * fp.PRICE_SCALE
    # the perp tracks the spot
    assert by_id[2].risk[up] == 5000 * fp.PRICE_SCALE
    # the dated future tracks the forward spot * exp(r T) (to within the float error)
    forward = Decimal(SPOT) * (Decimal("0.05") * Decimal(90) / Decimal(365)).exp()
    exact = forward * Decimal("0.05") * fp.PRICE_SCALE
    crash_exact = -exact * 6 * Decimal("0.35")
    assert abs(by_id[3].risk[up] - exact) < 1 and abs(by_id[3].risk[crash] - crash_exact) < 1


def test_marks_are_premium_or_spot_value_and_zero_for_futures_and_perps(span16: RiskSnapshot) -> None:
    by_id = span16.instruments_by_id
    assert by_id[1].mark == 10_000 * fp.PRICE_SCALE  # 0.1 BTC at 100000
    assert by_id[2].mark == by_id[3].mark == 0  # variation margin settles into collateral
    assert by_id[4].mark > 0 and by_id[6].mark > 0


def test_quoted_forward_replaces_spot_times_exp_rt() -> None:
    underlying = dict(BASE["underlyings"][0], expiries=[
        {"expiry": EXPIRY, "forward": "101234.5", "smile": {"atm_vol": "0.5"}}])
    snap = build_snapshot(make_market({"underlyings": [underlying]}), "span16")
    assert snap.instruments_by_id[3].risk[scenario_index(snap, 500)] == 5061725000  # 101234.5 * 5 %


# ---- add-ons, collateral, params: exact and rounded against the trader ----

def test_addons_and_short_option_minimum_are_rounded_up(span16: RiskSnapshot) -> None:
    by_id = span16.instruments_by_id
    assert span16.params.contingency_bps == 25 and span16.params.short_option_min_bps == 100
    assert by_id[1].addon == 25 * fp.PRICE_SCALE  # 0.25 % of 100000 * 0.1
    assert by_id[1].short_option_min == by_id[2].short_option_min == 0
    assert by_id[4].short_option_min == 1000 * fp.PRICE_SCALE
    odd = dict(BASE["underlyings"][0], spot="3412.37")
    snap = build_snapshot(make_market({"underlyings": [odd]}), "span16")
    assert snap.instruments_by_id[1].addon == 853093  # 0.25 % * 3412.37 * 0.1 = 0.8530925 -> up


def test_collateral_price_rounds_down_and_haircuts_round_up(span16: RiskSnapshot) -> None:
    xyz = span16.collateral[1]
    assert xyz.price == 999855  # 0.9998555 -> down
    assert [(t.from_amount, t.mm_bps, t.im_bps) for t in xyz.tiers] == [(0, 501, 1000), (10_000_000, 1000, 2000)]
    assert span16.params.mm_factor_bps == 8000


# ---- quantization ----

@given(st.lists(st.floats(-1e8, 1e8, allow_nan=False), min_size=1, max_size=20))
def test_quantize_rounds_in_the_stated_direction(values: list[float]) -> None:
    scaled = [Fraction(v) * fp.PRICE_SCALE for v in values]
    for x, q in zip(scaled, quantize(values, "floor")):
        assert q <= x < q + 1
    for x, q in zip(scaled, quantize(values, "ceil")):
        assert q - 1 < x <= q
    for x, q in zip(scaled, quantize(values, "half_even")):
        assert abs(x - q) <= Fraction(1, 2)


def test_quantize_refuses_non_finite_values() -> None:
    with pytest.raises(ValueError, match="non-finite"):
        quantize([1.0, math.inf], "floor")


def test_every_loss_in_the_snapshot_is_rounded_up(market: Market) -> None:
    for preset in preset_names():
        snap = build_snapshot(market, preset)
        pnl = scenario_pnl(instrument_terms(market), scenario_set(load_methodology(preset), market))
        for row, ins in zip(pnl, market.instruments):
            risk = snap.instruments_by_id[ins.id].risk
            assert all(r <= Fraction(float(p)) * fp.PRICE_SCALE < r + 1 for r, p in zip(risk, row))
        value = marks(instrument_terms(market))
        assert ([snap.instruments_by_id[i.id].mark for i in market.instruments]
                == [round(Fraction(float(v)) * fp.PRICE_SCALE) for v in value])


# ---- hedges net exactly ----

def test_a_position_and_its_exact_hedge_net_to_zero_scanning_loss(span16: RiskSnapshot) -> None:
    # instrument 5 repeats the terms of instrument 4 under another id
    assert span16.instruments_by_id[4].risk == span16.instruments_by_id[5].risk
    result = portfolio_margin(resolve(account((4, "7.5"), (5, "-7.5")), span16))
    assert result.group_pnl == ((0,) * 16,) and result.scan_loss == (0,)


def test_perp_against_future_leaves_only_the_basis_at_risk(market: Market, span16: RiskSnapshot) -> None:
    basis = instrument_terms(market).ref[2] - SPOT  # the future's forward minus the spot
    result = portfolio_margin(resolve(account((2, "7.5"), (3, "-7.5")), span16))
    assert result.worst_scenario == (scenario_index(span16, 1500),)  # +3/3 range, first of the tied pair
    # each leg's risk value is off by less than 1e-6 USD per contract
    assert result.scan_loss[0] == pytest.approx(7.5 * basis * 0.15 * fp.VALUE_SCALE, abs=2 * 7.5 * fp.QTY_SCALE)


# ---- presets ----

def test_span16_is_cme_spans_sixteen_scenarios(market: Market) -> None:
    scen = build_snapshot(market, "span16").scenarios
    assert len(scen) == 16
    extremes = [s for s in scen if s.weight_bps == 3500]
    assert [(s.price_shock_bps, s.vol_shock_bps) for s in extremes] == [(3000, 0), (-3000, 0)]
    assert scen[14:] == extremes
    core = scen[:14]
    assert all(s.weight_bps == fp.BPS and abs(s.vol_shock_bps) == 2500 for s in core)
    assert sorted({s.price_shock_bps for s in core}) == [-1500, -1000, -500, 0, 500, 1000, 1500]
    assert all(a.price_shock_bps == b.price_shock_bps and a.vol_shock_bps == -b.vol_shock_bps
               for a, b in zip(core[::2], core[1::2]))


def test_deribit_has_27_core_and_5_capped_tail_scenarios(market: Market) -> None:
    scen = build_snapshot(market, "deribit").scenarios
    assert len(scen) == 32
    core, tail = scen[:27], scen[27:]
    assert sorted({s.price_shock_bps for s in core}) == list(range(-1600, 1601, 400))
    assert {s.vol_shock_bps for s in core} == {5000, 0, -2500}
    assert all(s.weight_bps == fp.BPS for s in core)
    assert [s.price_shock_bps for s in tail] == [-6600, -3300, 5000, 10000, 20000]
    assert all(s.vol_shock_bps == 5000 and abs(s.price_shock_bps) * s.weight_bps <= 1600 * fp.BPS for s in tail)


def test_unknown_presets_and_files_are_refused_with_the_preset_list() -> None:
    with pytest.raises(InputError, match="presets: deribit, derive-pmrm2, span, span16"):
        load_methodology("cme")


# ---- determinism, bounds, input errors ----

def test_building_twice_gives_byte_identical_json(market: Market) -> None:
    for preset in preset_names():
        first = build_snapshot(market, preset).model_dump_json(indent=2)
        again = build_snapshot(make_market(json.loads(market.model_dump_json())), preset).model_dump_json(indent=2)
        assert first == again


def test_a_value_out_of_bounds_names_instrument_and_field() -> None:
    huge = [dict(BASE["instruments"][0], multiplier="100000")]
    with pytest.raises(BoundError, match=r"instrument BTC-USD \(id 1\) risk\[2\] \(\+1/3 range, vol up\)"):
        build_snapshot(make_market({"instruments": huge}), "span16")


@pytest.mark.parametrize("edit, message", [
    ({"underlyings": [dict(BASE["underlyings"][0], spot=95000.5)]}, "floats are not exact"),
    ({"instruments": [dict(BASE["instruments"][3], vol=None, expiry="2025-05-01")]}, "no vol and no smile"),
    ({"instruments": [dict(BASE["instruments"][2], expiry="2024-12-31")]}, "expired"),
    ({"instruments": [dict(BASE["instruments"][1], strike="1")]}, "only options have a strike"),
    ({"instruments": [BASE["instruments"][0], dict(BASE["instruments"][1], id=1)]}, "duplicate instrument id"),
    ({"instruments": [dict(BASE["instruments"][0], group=9)]}, "unknown group 9"),
])
def test_market_validation_refuses_bad_data(edit: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match=message):
        make_market(edit)


def test_a_smile_giving_a_negative_vol_is_refused() -> None:
    underlying = dict(BASE["underlyings"][0], expiries=[
        {"expiry": EXPIRY, "smile": {"atm_vol": "0.1", "skew": "-5"}}])
    with pytest.raises(InputError, match="non-positive vol"):
        build_snapshot(make_market({"underlyings": [underlying]}), "span16")


# ---- Greeks (explanation only) ----

def test_greeks_match_finite_differences_and_parity(market: Market) -> None:
    g = greeks(market)
    assert g[1].delta == pytest.approx(0.1) and g[2].delta == 1.0
    assert g[3].delta == pytest.approx(math.exp(0.05 * 90 / 365))
    terms = instrument_terms(market)
    call = next(k for k, i in enumerate(market.instruments) if i.id == 4)
    f, vol = terms.ref[call], terms.vol[call]

    def price(spot_move: float, vol_move: float = 0.0) -> float:
        return float(black76(f * (1 + spot_move), 105_000, 90 / 365, vol + vol_move, 0.05, True))

    h = 1e-4
    assert g[4].delta == pytest.approx((price(h) - price(-h)) / (2 * h * SPOT), rel=1e-6)
    assert g[4].gamma == pytest.approx((price(h) - 2 * price(0) + price(-h)) / (h * SPOT) ** 2, rel=1e-4)
    assert g[4].vega == pytest.approx((price(0, 1e-4) - price(0, -1e-4)) / 2e-4 * 0.01, rel=1e-6)
    assert g[4].gamma == g[5].gamma > 0


def test_account_greeks_sum_positions_per_group(market: Market) -> None:
    g = greeks(market)
    total = account_greeks(account((1, "20"), (2, "-2"), (4, "3")), market)
    assert list(total) == [1]
    assert total[1].delta == pytest.approx(2.0 - 2.0 + 3 * g[4].delta)
    assert total[1].vega == pytest.approx(3 * g[4].vega)
    with pytest.raises(InputError, match="instrument 99"):
        account_greeks(account((99, "1")), market)


def test_vectorized_pnl_has_one_row_per_instrument_and_one_column_per_scenario(market: Market) -> None:
    pnl = scenario_pnl(instrument_terms(market), scenario_set(load_methodology("deribit"), market))
    assert pnl.shape == (len(market.instruments), 32) and pnl.dtype == np.float64
