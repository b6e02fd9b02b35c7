"""USD Greeks of the risk report: against finite differences of the engine's own pricer (the
scenario P&L that builds the risk arrays, and the marks) and against textbook closed forms."""

from __future__ import annotations

import dataclasses
import math
from decimal import Decimal
from fractions import Fraction
from statistics import NormalDist

import numpy as np
import pytest

from tests.examples import example_account, example_market, example_snapshot
from zkmargin.errors import InputError
from zkmargin.greeks import check_market, group_totals, position_greeks, usd_greeks
from zkmargin.methodology import Methodology, PriceScan, ScenarioShape, SpanGrid, VolShock, load_methodology
from zkmargin.riskarrays import YEAR_DAYS, greeks, instrument_terms, marks, scenario_pnl
from zkmargin.scenarios import ScenarioSet

N = NormalDist()
#: Relative bump of the finite differences (spot and vol), and of time in years.
H_BPS = 1
H_YEARS = 1e-5


def bumped(price_bps: int, vol_bps: int = 0) -> np.ndarray:
    """The engine's P&L per contract of every instrument under one unweighted shock (a relative
    vol shock of ``vol_bps``, no look-ahead)."""
    vol = Decimal(abs(vol_bps)) / 10_000
    method = Methodology(name="bump", price_scan=PriceScan(fraction=Decimal("0.5")), vol=VolShock(up=vol, down=vol),
                         span=SpanGrid())
    move = Fraction(price_bps, 10_000)
    shape = ScenarioShape(label="bump", scan_multiple=None, fixed_move=move,
                          vol="up" if vol_bps > 0 else "down" if vol_bps < 0 else "none", weight=Fraction(1))
    groups = [u.id for u in example_market().underlyings]
    bump = ScenarioSet(method, (shape,), {g: (move,) for g in groups}, {g: (Fraction(1),) for g in groups})
    return scenario_pnl(instrument_terms(example_market()), bump)[:, 0]


def test_option_greeks_match_finite_differences_of_the_engines_pricer() -> None:
    terms = instrument_terms(example_market())
    g = greeks(example_market())
    h = H_BPS / 10_000
    up, down = bumped(H_BPS), bumped(-H_BPS)
    vol_up, vol_down = bumped(0, H_BPS), bumped(0, -H_BPS)
    later = marks(dataclasses.replace(terms, years=terms.years - H_YEARS))
    earlier = marks(dataclasses.replace(terms, years=terms.years + H_YEARS))
    checked = 0
    for k, i in enumerate(terms.ids):
        if not terms.is_option[k]:
            continue
        s, vol = terms.spot[k], terms.vol[k]
        assert g[i].delta == pytest.approx((up[k] - down[k]) / (2 * h * s), rel=1e-5, abs=1e-9)
        assert g[i].gamma == pytest.approx((up[k] + down[k]) / (h * s) ** 2, rel=2e-3, abs=1e-10)
        assert g[i].vega == pytest.approx((vol_up[k] - vol_down[k]) / (2 * h * vol) * 0.01, rel=1e-5, abs=1e-9)
        assert g[i].theta == pytest.approx((later[k] - earlier[k]) / (2 * H_YEARS) / YEAR_DAYS, rel=1e-4, abs=1e-6)
        checked += 1
    assert checked == sum(i.strike is not None for i in example_market().instruments) == 136


def closed_form(f: float, k: float, t: float, vol: float, r: float, call: bool) -> tuple[float, float, float, float]:
    """Black-76 forward delta, gamma, vega (per unit vol) and theta (per year), textbook forms."""
    sd = vol * math.sqrt(t)
    d1 = (math.log(f / k) + sd * sd / 2) / sd
    d2 = d1 - sd
    df = math.exp(-r * t)
    delta = df * (N.cdf(d1) if call else N.cdf(d1) - 1)
    gamma = df * N.pdf(d1) / (f * sd)
    vega = df * f * N.pdf(d1) * math.sqrt(t)
    decay = -df * f * N.pdf(d1) * vol / (2 * math.sqrt(t))
    theta = (decay + r * df * (f * N.cdf(d1) - k * N.cdf(d2)) if call
             else decay + r * df * (k * N.cdf(-d2) - f * N.cdf(-d1)))
    return delta, gamma, vega, theta


def test_option_greeks_match_the_closed_forms() -> None:
    terms = instrument_terms(example_market())
    g = greeks(example_market())
    for k, i in enumerate(terms.ids):
        if not terms.is_option[k]:
            continue
        f, s, mult = terms.ref[k], terms.spot[k], terms.multiplier[k]
        delta, gamma, vega, theta = closed_form(f, terms.strike[k], terms.years[k], terms.vol[k], terms.rate[k],
                                                bool(terms.is_call[k]))
        assert g[i].delta == pytest.approx(delta * f / s * mult, rel=1e-9, abs=1e-12)
        assert g[i].gamma == pytest.approx(gamma * (f / s) ** 2 * mult, rel=1e-9, abs=1e-15)
        assert g[i].vega == pytest.approx(vega * 0.01 * mult, rel=1e-9, abs=1e-12)
        assert g[i].theta == pytest.approx(theta / YEAR_DAYS * mult, rel=1e-9, abs=1e-12)


def test_usd_greeks_are_dollar_delta_one_percent_gamma_vega_and_theta_per_position() -> None:
    acc = example_account("hedged_market_maker")
    per_contract = greeks(example_market())
    rows = position_greeks(acc, example_market())
    assert [r.instrument for r in rows] == [p.instrument for p in acc.positions]
    for r in rows:
        g, q, s = per_contract[r.instrument], r.quantity / 1e6, r.spot
        assert r.spot == 95_000
        assert r.greeks.delta_usd == pytest.approx(q * g.delta * s)
        assert r.greeks.gamma_usd == pytest.approx(q * g.gamma * s * s / 100)
        assert (r.greeks.vega_usd, r.greeks.theta_usd) == pytest.approx((q * g.vega, q * g.theta))
    total = group_totals(rows)[1]
    assert total.delta_usd == pytest.approx(sum(r.greeks.delta_usd for r in rows))
    # the book's P&L for a 1 % move is (dollar delta + gamma / 2) / 100, to second order
    row = {i: k for k, i in enumerate(instrument_terms(example_market()).ids)}
    one_percent = bumped(100)
    pnl = sum(p.quantity / 1e6 * one_percent[row[p.instrument]] for p in acc.positions)
    assert pnl == pytest.approx((total.delta_usd + total.gamma_usd / 2) / 100, rel=2e-2)


def test_usd_greeks_of_a_future_are_its_notional_in_delta_only() -> None:
    g = greeks(example_market())[103]
    usd = usd_greeks(g, 95_000.0)
    assert usd.delta_usd == pytest.approx(95_620.0)   # the quoted forward of 2 July, one BTC
    assert (usd.gamma_usd, usd.vega_usd, usd.theta_usd) == (0.0, 0.0, 0.0)


def test_the_market_and_methodology_must_reproduce_the_example_snapshot() -> None:
    held = [136, 140, 133, 103]
    span16, deribit = load_methodology("span16"), load_methodology("deribit")
    check_market(example_market(), span16, example_snapshot(), held)
    check_market(example_market(), deribit, example_snapshot("deribit"), held)
    with pytest.raises(InputError, match="is not the market of snapshot"):
        check_market(example_market().model_copy(update={"epoch": 2}), span16, example_snapshot(), held)
    moved = example_market().model_copy(update={"underlyings": [
        u.model_copy(update={"spot": u.spot + 1}) for u in example_market().underlyings]})
    with pytest.raises(InputError, match="under methodology span16 does not reproduce snapshot instrument "
                                         "BTC-2JUL25-105000-C"):
        check_market(moved, span16, example_snapshot(), [140])
    with pytest.raises(InputError, match="does not list instrument 999"):
        check_market(example_market(), span16, example_snapshot(), [999])
    with pytest.raises(InputError, match="the 32 scenarios of methodology deribit are not the 16 of snapshot "
                                         "zkmargin-demo epoch 1: give the methodology the snapshot was built with"):
        check_market(example_market(), deribit, example_snapshot(), held)
    # same scenario labels, other vol shocks: the risk arrays tell them apart
    with pytest.raises(InputError, match="under methodology span does not reproduce"):
        check_market(example_market(), load_methodology("span"), example_snapshot(), held)
