"""Coin-settled (inverse) options, as Deribit lists its BTC and ETH options: one contract on one coin
of the underlying, the premium in coins = Black-76 premium / forward of the expiry, valued at the
settlement coin's (unshocked) USD price.

Checked against an independent Black-76 (the stdlib normal distribution), put-call parity in coins,
finite differences of the engine's own pricer (Greeks), and two published Deribit quotes
(``TICKERS``): the mark at the published ``mark_iv`` and the published Greeks, within the rounding
of ``mark_iv`` (2 decimals of a percent).
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np
import pytest

from tests.engine.test_riskarrays import reference_black76
from zkmargin.io import parse_model
from zkmargin.market import Market, format_utc_time
from zkmargin.methodology import Methodology, PriceScan, ScenarioShape, SpanGrid, VolShock, \
    load_methodology, shocked_vol
from zkmargin.riskarrays import YEAR_DAYS, greeks, instrument_terms, marks, scenario_pnl
from zkmargin.scenarios import ScenarioSet, scenario_set
from zkmargin.snapshot_builder import build_snapshot

SPOT = 100_000
FORWARD = 101_000    # quoted, distinct from the spot: the coin premium divides by the forward
COIN = 99_000        # the BTC collateral's USD price, distinct from both: P&L in coins is valued at it
RATE = 0.03
EXPIRY = "2025-03-02"  # 60 days after the valuation date
YEARS = 60 / 365
STRIKES = {"ITM": 80_000, "ATM": 101_000, "OTM": 125_000}


def _option(k: int, strike: int, kind: str, inverse: bool) -> dict[str, Any]:
    coin = {"inverse": True, "settlement": "BTC"} if inverse else {}
    return {"id": k, "symbol": f"BTC-{strike}-{kind[0].upper()}{'-INV' if inverse else ''}", "kind": kind,
            "group": 1, "strike": str(strike), "expiry": EXPIRY, "multiplier": "0.5", **coin}


OPTIONS = [_option(1 + 4 * n + j, strike, kind, inverse) for n, strike in enumerate(STRIKES.values())
           for j, (kind, inverse) in enumerate([("call", True), ("put", True), ("call", False), ("put", False)])]
BASE: dict[str, Any] = {
    "venue": "test", "epoch": 1, "valuation_date": "2025-01-01",
    "underlyings": [{"id": 1, "name": "BTC", "spot": str(SPOT), "rate": str(RATE), "expiries": [
        {"expiry": EXPIRY, "forward": str(FORWARD),
         "smile": {"atm_vol": "0.55", "skew": "-0.2", "curvature": "0.3"}}]}],
    "instruments": [*OPTIONS,
                    {"id": 50, "symbol": "BTC-2MAR25-INV", "kind": "future", "group": 1, "expiry": EXPIRY,
                     "multiplier": "10", "inverse": True, "settlement": "BTC"}],
    "collateral": [
        {"index": 0, "symbol": "USDC", "price": "1", "tiers": [{"from_amount": "0", "mm": "0", "im": "0"}]},
        {"index": 1, "symbol": "BTC", "price": str(COIN), "tiers": [{"from_amount": "0", "mm": "0.05", "im": "0.1"}]},
    ],
    "params": {"mm_factor": "0.8", "contingency_rate": "0.0025", "short_option_min_rate": "0.01"},
}


def make_market(data: dict[str, Any]) -> Market:
    return parse_model(Market, json.dumps(data), source="test market")


@pytest.fixture(scope="module")
def market() -> Market:
    return make_market(BASE)


def inverse_options(market: Market) -> list[int]:
    """Row indices (market order) of the coin-settled options."""
    return [k for k, i in enumerate(market.instruments) if i.inverse and i.strike is not None]


def coins(market: Market) -> np.ndarray:
    """The marks of every instrument in coins per underlying unit (USD mark / coin price / multiplier)."""
    t = instrument_terms(market)
    return marks(t) / COIN / t.multiplier


# ---- value in coins ----

@pytest.mark.parametrize("strike", STRIKES.values())
def test_put_call_parity_holds_in_coins(market: Market, strike: int) -> None:
    value = coins(market)
    call = next(k for k, i in enumerate(market.instruments) if i.strike == strike and i.inverse and i.kind == "call")
    # C - P = (F - K) exp(-rT) / F coins per underlying unit
    assert value[call] - value[call + 1] == pytest.approx((FORWARD - strike) * math.exp(-RATE * YEARS) / FORWARD,
                                                           rel=1e-12, abs=1e-15)


def test_a_coin_settled_option_is_its_usd_twin_divided_by_the_forward(market: Market) -> None:
    t = instrument_terms(market)
    usd = marks(t)
    for k in inverse_options(market):
        twin = k + 2  # the same option, USD-settled
        assert usd[k] == pytest.approx(usd[twin] / FORWARD * COIN, rel=1e-14)
        vol, strike = t.vol[k], t.strike[k]
        call = market.instruments[k].kind == "call"
        expected = reference_black76(FORWARD, strike, YEARS, vol, RATE, call) / FORWARD * COIN * 0.5
        assert usd[k] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("strike", ["1", "1000", "50000", "101000", "400000"])
@pytest.mark.parametrize("vol", ["0.2", "1.5", "4"])
def test_a_coin_settled_call_is_worth_less_than_one_coin_per_underlying_unit(strike: str, vol: str) -> None:
    call = dict(OPTIONS[0], strike=strike, vol=vol)
    value = coins(make_market(dict(BASE, instruments=[call])))[0]
    # the call pays (S - K)+ / S < 1 coin at expiry; today exp(-rT) (N(d1) - K/F N(d2)) < exp(-rT)
    assert 0 <= value < math.exp(-RATE * YEARS)
    if strike == "1":
        assert value == pytest.approx(math.exp(-RATE * YEARS) * (1 - 1 / FORWARD), rel=1e-12)


# ---- scenario P&L ----

def test_scenario_pnl_is_the_change_of_the_coin_value_at_the_coin_price_in_every_deribit_scenario(
        market: Market) -> None:
    method = load_methodology("deribit")
    grid = scenario_set(method, market)
    t = instrument_terms(market)
    pnl = scenario_pnl(t, grid)
    rows = inverse_options(market)
    assert len(rows) == 6  # calls and puts, in, at and out of the money
    for k in rows:
        strike, vol, call = float(t.strike[k]), float(t.vol[k]), market.instruments[k].kind == "call"
        now = reference_black76(FORWARD, strike, YEARS, vol, RATE, call) / FORWARD
        for s, (move, weight, vol_shock) in enumerate(zip(grid.moves[1], grid.weights[1], grid.vol)):
            fwd = FORWARD * (1 + float(move))
            shocked = shocked_vol(method.vol, vol, float(t.seconds[k]), vol_shock)
            value = reference_black76(fwd, strike, YEARS, shocked, RATE, call) / fwd
            expected = (value - now) * COIN * 0.5 * float(weight)
            assert pnl[k, s] == pytest.approx(expected, rel=1e-9, abs=1e-7), (market.instruments[k].symbol, s)


def test_the_snapshot_carries_coin_settled_options_with_usd_addons() -> None:
    market = make_market(BASE)
    snap = build_snapshot(market, "deribit")
    by_id = {i.id: i for i in snap.instruments}
    for ins in market.instruments:
        if ins.strike is None:
            continue
        leaf = by_id[ins.id]
        # rate x spot x multiplier, as for a USD option (the multiplier is underlying units)
        assert leaf.addon == math.ceil(Fraction("0.0025") * SPOT * Fraction(1, 2) * 10**6)
        assert leaf.short_option_min == math.ceil(Fraction("0.01") * SPOT * Fraction(1, 2) * 10**6)
    assert by_id[50].addon == math.ceil(Fraction("0.0025") * 10 * 10**6)  # an inverse future: rate x face


# ---- Greeks ----

def _bumped(market: Market, move: Fraction, vol_shock: Fraction = Fraction(0)) -> np.ndarray:
    """The engine's unweighted P&L per contract under one price move and one relative vol shock."""
    size = Decimal(abs(vol_shock.numerator)) / vol_shock.denominator
    method = Methodology(name="bump", price_scan=PriceScan(fraction=Decimal("0.5")), vol=VolShock(up=size, down=size),
                         span=SpanGrid())
    shape = ScenarioShape(label="bump", scan_multiple=None, fixed_move=move,
                          vol="up" if vol_shock > 0 else "down" if vol_shock < 0 else "none", weight=Fraction(1))
    grid = ScenarioSet(method, (shape,), {1: (move,)}, {1: (Fraction(1),)})
    return scenario_pnl(instrument_terms(market), grid)[:, 0]


def test_coin_settled_greeks_match_finite_differences_of_the_engines_pricer(market: Market) -> None:
    t = instrument_terms(market)
    g = greeks(market)
    h = Fraction(1, 10_000)
    up, down = _bumped(market, h), _bumped(market, -h)
    vol_up, vol_down = _bumped(market, Fraction(0), h), _bumped(market, Fraction(0), -h)
    later = marks(dataclasses.replace(t, years=t.years - 1e-5))
    earlier = marks(dataclasses.replace(t, years=t.years + 1e-5))
    ds = float(h) * SPOT
    for k in [*inverse_options(market), len(market.instruments) - 1]:
        i = t.ids[k]
        assert g[i].delta == pytest.approx((up[k] - down[k]) / (2 * ds), rel=1e-6)
        assert g[i].gamma == pytest.approx((up[k] + down[k]) / ds**2, rel=2e-3, abs=1e-11)
        if t.is_option[k]:
            dv = float(h) * t.vol[k]
            assert g[i].vega == pytest.approx((vol_up[k] - vol_down[k]) / (2 * dv) * 0.01, rel=1e-6)
            assert g[i].theta == pytest.approx((later[k] - earlier[k]) / 2e-5 / YEAR_DAYS, rel=1e-4)


def test_a_synthetic_long_against_a_short_inverse_future_is_delta_neutral_and_riskless(market: Market) -> None:
    # long call, short put: exp(-rT) (1 - K/F) coins per underlying unit; a short inverse future of
    # face N loses N (1/F0 - 1/F) coins: the F-dependence cancels at N = exp(-rT) K per unit
    t = instrument_terms(market)
    g = greeks(market)
    call = next(k for k, i in enumerate(market.instruments) if i.strike == STRIKES["ITM"] and i.inverse)
    future = len(market.instruments) - 1
    size = -math.exp(-RATE * YEARS) * STRIKES["ITM"] * 0.5 / 10  # futures of face 10 USD per 0.5 BTC option
    book = {call: 1.0, call + 1: -1.0, future: size}
    delta = sum(g[t.ids[k]].delta * q for k, q in book.items())
    assert abs(g[t.ids[call]].delta) > 0.1 and abs(delta) < 1e-12
    grid = scenario_set(load_methodology("deribit"), market)
    pnl = scenario_pnl(t, grid)
    core = [s for s in range(len(grid.shapes)) if grid.edges.get(1, (None,) * len(grid.shapes))[s] is None
            and grid.weights[1][s] == 1]
    assert len(core) == 27
    for s in core:
        legs = [pnl[k, s] * q for k, q in book.items()]
        assert abs(sum(legs)) <= 1e-9 * max(map(abs, legs)), s


# ---- published Deribit quotes ----

@dataclasses.dataclass(frozen=True)
class Ticker:
    """A published Deribit option quote: BTC per contract of 1 BTC, mark_iv in percent, 0 rate."""

    source: str
    name: str
    kind: str
    strike: int
    expiry: str             # Deribit expiries are at 08:00 UTC
    timestamp_ms: int
    underlying_price: float  # the forward of the expiry (underlying_index BTC-<expiry>)
    index_price: float
    mark_iv: float
    mark_price: float
    mark_decimals: int
    greeks: dict[str, tuple[float, int]]  # USD Black-76 Greeks as published: (value, decimals)


TICKERS = [
    Ticker(source="public/ticker response of www.deribit.com recorded in a public GitHub file (Java class "
                  "cc.kostic.gec.endpoints.Ticker, comment; the search index stores it as file id 47203564605)",
           name="BTC-26JUN26-100000-C", kind="call", strike=100_000, expiry="2026-06-26T08:00:00Z",
           timestamp_ms=1752057345721, underlying_price=116086.34, index_price=108827.5, mark_iv=45.43,
           mark_price=0.2425, mark_decimals=4,
           greeks={"delta": (0.71138, 5), "gamma": (0.00001, 5), "vega": (389.29255, 5),
                   "theta": (-25.13021, 5)}),
    Ticker(source="public/get_book_summary_by_currency reply captured from Deribit's production API on "
                  "2026-09-18 (LIVE_REPLY of a public GitHub test file, search index file id 70370764844)",
           name="BTC-27NOV26-73000-P", kind="put", strike=73_000, expiry="2026-11-27T08:00:00Z",
           timestamp_ms=1789725494890, underlying_price=78877.53, index_price=78877.53, mark_iv=36.63,
           mark_price=0.03127502, mark_decimals=8, greeks={}),
]


def _ticker_market(q: Ticker, iv: float) -> Market:
    now = datetime.fromtimestamp(q.timestamp_ms // 1000, UTC)
    data = copy.deepcopy(BASE)
    data.update({
        "valuation_date": now.date().isoformat(), "valuation_time": format_utc_time(now),
        "underlyings": [{"id": 1, "name": "BTC", "spot": str(q.index_price), "rate": "0",
                         "expiries": [{"expiry": q.expiry, "forward": str(q.underlying_price)}]}],
        "instruments": [{"id": 1, "symbol": q.name, "kind": q.kind, "group": 1, "strike": str(q.strike),
                         "expiry": q.expiry, "vol": repr(iv), "inverse": True, "settlement": "BTC"}],
    })
    data["collateral"][1]["price"] = str(q.index_price)
    return make_market(data)


def _deribit_figures(q: Ticker, iv: float) -> dict[str, float]:
    """The engine's mark in BTC and, from its coin Greeks, the USD Black-76 Greeks Deribit publishes
    (against the underlying price F): the engine's spot delta ``P/F (dV/dF - V/F) F/S`` gives
    ``dV/dF`` back with the mark ``V/F``; vega and theta are ``P/F`` times the USD ones; gamma
    ``P/F (d2V/dF2 - 2 (dV/dF - V/F) / F) (F/S)^2``."""
    market = _ticker_market(q, iv)
    t = instrument_terms(market)
    g = greeks(market)[1]
    f, s, p = q.underlying_price, q.index_price, q.index_price
    mark = float(marks(t)[0]) / p
    coin_delta = g.delta * s / p
    return {"mark_price": mark, "delta": coin_delta + mark,
            "gamma": (g.gamma * (s / f) ** 2 * f / p) + 2 * coin_delta / f,
            "vega": g.vega * f / p, "theta": g.theta * f / p}


@pytest.mark.parametrize("q", TICKERS, ids=[q.name for q in TICKERS])
def test_deribits_published_mark_and_greeks_are_reproduced_within_the_published_rounding(q: Ticker) -> None:
    # mark_iv is published to 0.01 %: the engine's figures at mark_iv -/+ 0.005 % bracket the truth;
    # each published figure, +- half a unit of its last decimal, must meet that bracket
    lo, hi = (_deribit_figures(q, (q.mark_iv + d) / 100) for d in (-0.005, 0.005))
    published = {"mark_price": (q.mark_price, q.mark_decimals), **q.greeks}
    for name, (value, decimals) in published.items():
        half = 0.5 * 10.0**-decimals
        low, high = sorted((lo[name], hi[name]))
        assert low - half <= value <= high + half, (q.name, name, value, low, high)


def test_the_coin_premium_divides_by_the_underlying_price_not_the_index() -> None:
    q = TICKERS[0]
    at_mark_iv = _deribit_figures(q, q.mark_iv / 100)["mark_price"]
    assert round(at_mark_iv, 4) == q.mark_price
    # divided by the index instead, the same USD premium would be 0.2587 BTC
    assert round(at_mark_iv * q.underlying_price / q.index_price, 4) == 0.2587

