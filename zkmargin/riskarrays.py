"""Risk arrays, marks and Greeks from market data (numpy float64), and the float quantizer.

Pricing, per contract (the multiplier included), in USD:

* options: Black-76 on the forward ``F`` of their expiry (quoted, else ``spot * exp(rate * T)``),
  discounted at ``exp(-rate * T)``, ``T`` in years ACT/365 from the valuation date, vol quoted or
  from the expiry's smile (:class:`zkmargin.market.Smile`, sticky strike);
* linear instruments track a reference price: the spot for spot and perps, the forward of the
  expiry for dated futures; a move of the underlying by ``p`` moves it by ``ref * p``.

Risk array entry ``(i, s)``: ``(value_i(shocked by s) - value_i(now)) * weight_s``, the shocks as
in :mod:`zkmargin.scenarios`. Linear P&L is computed directly as ``ref * mult * p * w`` (no
cancellation); option P&L as a difference of Black-76 values.

Everything here is float and machine-dependent in the last bit; only :func:`quantize` turns it
into the integers of the canonical snapshot. The Greeks are for explanation only and never enter
a snapshot or a proof.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Literal

import numpy as np
import numpy.typing as npt

from zkmargin import fixedpoint as fp
from zkmargin.errors import InputError
from zkmargin.market import OPTION_KINDS, Market, MarketInstrument
from zkmargin.models import Account, Kind, Scenario

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: Day count: ACT/365.
YEAR_DAYS = 365
#: Vega is reported per vol point (0.01 of annualised vol).
VOL_POINT = 0.01

def _floats(x: npt.ArrayLike) -> FloatArray:
    return np.asarray(x, dtype=np.float64)


# math.erfc is libm's erfc, accurate deep into the tails; numpy has none.
_erfc = np.vectorize(math.erfc, otypes=[np.float64])


def norm_cdf(x: npt.ArrayLike) -> FloatArray:
    """Standard normal CDF, elementwise."""
    return 0.5 * _floats(_erfc(-_floats(x) / math.sqrt(2.0)))


def norm_pdf(x: npt.ArrayLike) -> FloatArray:
    """Standard normal density, elementwise."""
    x = _floats(x)
    return np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


def _d1_d2(forward: FloatArray, strike: FloatArray, years: FloatArray,
           vol: FloatArray) -> tuple[FloatArray, FloatArray]:
    sd = vol * np.sqrt(years)
    d1 = (np.log(forward / strike) + 0.5 * sd * sd) / sd
    return d1, d1 - sd


def black76(forward: npt.ArrayLike, strike: npt.ArrayLike, years: npt.ArrayLike, vol: npt.ArrayLike,
            rate: npt.ArrayLike, is_call: npt.ArrayLike) -> FloatArray:
    """Black-76 premium in USD per underlying unit; all arguments broadcast.

    ``call = exp(-rT) (F N(d1) - K N(d2))``, ``put = exp(-rT) (K N(-d2) - F N(-d1))`` with
    ``d1 = (ln(F/K) + vol^2 T / 2) / (vol sqrt(T))``, ``d2 = d1 - vol sqrt(T)``; requires
    ``F, K, T, vol > 0``.
    """
    f, k, t = _floats(forward), _floats(strike), _floats(years)
    d1, d2 = _d1_d2(f, k, t, _floats(vol))
    df = np.exp(-_floats(rate) * t)
    call = df * (f * norm_cdf(d1) - k * norm_cdf(d2))
    put = df * (k * norm_cdf(-d2) - f * norm_cdf(-d1))
    return np.where(is_call, call, put)


@dataclass(frozen=True)
class Terms:
    """Pricing inputs, one entry per market instrument in market order (floats, USD and years)."""

    ids: tuple[int, ...]
    kinds: tuple[Kind, ...]
    spot: FloatArray        # USD per underlying unit
    ref: FloatArray         # USD: spot (spot, perp) or forward of the expiry (future, option)
    multiplier: FloatArray  # underlying units per contract
    strike: FloatArray      # USD, options only (1 elsewhere, unused)
    years: FloatArray       # time to expiry, options only (1 elsewhere, unused)
    vol: FloatArray         # annualised, options only (1 elsewhere, unused)
    rate: FloatArray        # continuously compounded
    is_option: BoolArray
    is_call: BoolArray

    @property
    def options(self) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, BoolArray]:
        """``(forward, strike, years, vol, rate, is_call)`` of the options only."""
        m = self.is_option
        return self.ref[m], self.strike[m], self.years[m], self.vol[m], self.rate[m], self.is_call[m]


def years_between(start: date, end: date) -> float:
    """ACT/365 year fraction from ``start`` to ``end``."""
    return (end - start).days / YEAR_DAYS


def _forward(market: Market, ins: MarketInstrument) -> float:
    u = market.underlying(ins.group)
    if ins.expiry is None:
        return float(u.spot)
    terms = u.terms(ins.expiry)
    if terms is not None and terms.forward is not None:
        return float(terms.forward)
    return float(u.spot) * math.exp(float(u.rate) * years_between(market.valuation_date, ins.expiry))


def _option_terms(market: Market, ins: MarketInstrument, forward: float) -> tuple[float, float, float]:
    """``(strike, years, vol)`` of an option; ``(1, 1, 1)`` placeholders for a linear instrument."""
    if ins.strike is None or ins.expiry is None:
        return 1.0, 1.0, 1.0
    years = years_between(market.valuation_date, ins.expiry)
    if ins.vol is not None:
        return float(ins.strike), years, float(ins.vol)
    terms = market.underlying(ins.group).terms(ins.expiry)
    smile = terms.smile if terms is not None else None
    if smile is None:
        raise InputError(f"instrument {ins.symbol}: no vol and no smile for its expiry {ins.expiry}")
    x = math.log(float(ins.strike) / forward)
    vol = float(smile.atm_vol) + float(smile.skew) * x + float(smile.curvature) * x * x
    if vol <= 0:
        raise InputError(f"instrument {ins.symbol}: the smile gives a non-positive vol {vol:.6g}")
    return float(ins.strike), years, vol


def instrument_terms(market: Market) -> Terms:
    """Collect every instrument's pricing inputs into arrays (market order)."""
    rows = []
    for ins in market.instruments:
        u = market.underlying(ins.group)
        ref = _forward(market, ins)
        rows.append((float(u.spot), ref, float(ins.multiplier), *_option_terms(market, ins, ref), float(u.rate)))
    cols = np.array(rows, dtype=np.float64).reshape(len(rows), 7).T
    kinds = tuple(i.kind for i in market.instruments)
    return Terms(
        ids=tuple(i.id for i in market.instruments), kinds=kinds,
        spot=cols[0], ref=cols[1], multiplier=cols[2], strike=cols[3], years=cols[4], vol=cols[5],
        rate=cols[6], is_option=np.array([k in OPTION_KINDS for k in kinds], dtype=bool),
        is_call=np.array([k is Kind.CALL for k in kinds], dtype=bool))


def scenario_pnl(terms: Terms, scenarios: Sequence[Scenario]) -> FloatArray:
    """Weighted P&L per long contract, USD, shape ``(instruments, scenarios)``."""
    price_bps = np.array([s.price_shock_bps for s in scenarios], dtype=np.float64)
    vol_bps = np.array([s.vol_shock_bps for s in scenarios], dtype=np.float64)
    weight_bps = np.array([s.weight_bps for s in scenarios], dtype=np.float64)
    # price_bps * weight_bps is an exact integer in float64: the linear P&L rounds only twice
    pnl = (terms.ref * terms.multiplier)[:, None] * (price_bps * weight_bps)[None, :] / (fp.BPS * fp.BPS)
    m = terms.is_option
    if m.any():
        fwd, strike, years, vol, rate, call = terms.options
        now = black76(fwd, strike, years, vol, rate, call)
        shocked = black76(fwd[:, None] * (1 + price_bps / fp.BPS), strike[:, None], years[:, None],
                          vol[:, None] * (1 + vol_bps / fp.BPS), rate[:, None], call[:, None])
        pnl[m] = (shocked - now[:, None]) * terms.multiplier[m][:, None] * (weight_bps / fp.BPS)
    return pnl


def marks(terms: Terms) -> FloatArray:
    """Mark value per contract, USD.

    Options: Black-76 premium x multiplier. Spot: spot x multiplier. Futures and perps: 0, because
    their variation margin is settled into the collateral balances every epoch, so the open
    position itself is worth nothing at the mark (a non-zero mark would count that P&L twice).
    """
    out = np.where(np.array([k is Kind.SPOT for k in terms.kinds], dtype=bool),
                   terms.spot * terms.multiplier, 0.0)
    if terms.is_option.any():
        out[terms.is_option] = black76(*terms.options) * terms.multiplier[terms.is_option]
    return out


Rounding = Literal["floor", "ceil", "half_even"]
_ROUND: dict[Rounding, Callable[[Fraction], int]] = {"floor": math.floor, "ceil": math.ceil, "half_even": round}


def quantize(values: npt.ArrayLike, rounding: Rounding) -> npt.NDArray[np.object_]:
    """USD floats to Python ints at PRICE_SCALE (1e-6 USD), same shape, rounded exactly.

    Each float is scaled as an exact rational (a float product ``x * 1e6`` could itself round
    across an integer and flip the direction). ``floor`` for risk arrays (a loss is rounded up,
    against the trader), ``ceil`` for amounts the trader owes, ``half_even`` for marks: a mark
    enters equity with the sign of the position, so any directed rounding would favour one side;
    round-half-even is unbiased and deterministic.
    """
    x = np.asarray(values, dtype=np.float64)
    if not np.isfinite(x).all():
        raise ValueError("cannot quantize a non-finite value")
    to_int = _ROUND[rounding]
    out: npt.NDArray[np.object_] = np.vectorize(lambda v: to_int(Fraction(v) * fp.PRICE_SCALE), otypes=[object])(x)
    return out


@dataclass(frozen=True)
class Greeks:
    """Sensitivities to the spot of the underlying (explanation only, never proven).

    ``delta``: underlying units (d value / d spot); ``gamma``: underlying units per USD of spot
    move; ``vega``: USD per vol point (0.01 of annualised vol); ``theta``: USD per calendar day
    (d value / d t, forward and vol held, so the decay of time value and of the discount
    factor). Per contract or per position.
    """

    delta: float
    gamma: float
    vega: float
    theta: float

    def __add__(self, other: Greeks) -> Greeks:
        return Greeks(self.delta + other.delta, self.gamma + other.gamma, self.vega + other.vega,
                      self.theta + other.theta)

    def __mul__(self, k: float) -> Greeks:
        return Greeks(self.delta * k, self.gamma * k, self.vega * k, self.theta * k)


def greeks(market: Market) -> dict[int, Greeks]:
    """Spot Greeks per contract (multiplier included), by instrument id.

    Forwards move with the spot (``dF/dS = F/S``), so an option's spot delta is its Black-76
    forward delta times ``F/S`` and a future's delta is ``F/S`` per underlying unit. Theta is
    Black-76's at a fixed forward, ``r V - exp(-rT) F n(d1) vol / (2 sqrt(T))`` per year, over
    :data:`YEAR_DAYS`; linear instruments have none (their mark is not a premium).
    """
    t = instrument_terms(market)
    dfds = t.ref / t.spot
    delta = dfds.copy()
    gamma = np.zeros_like(delta)
    vega = np.zeros_like(delta)
    theta = np.zeros_like(delta)
    if t.is_option.any():
        fwd, strike, years, vol, rate, call = t.options
        d1, _ = _d1_d2(fwd, strike, years, vol)
        df = np.exp(-rate * years)
        pdf = norm_pdf(d1)
        m = t.is_option
        delta[m] = df * np.where(call, norm_cdf(d1), norm_cdf(d1) - 1.0) * dfds[m]
        gamma[m] = df * pdf / (fwd * vol * np.sqrt(years)) * dfds[m] ** 2
        vega[m] = df * fwd * pdf * np.sqrt(years) * VOL_POINT
        premium = black76(fwd, strike, years, vol, rate, call)
        theta[m] = (rate * premium - df * fwd * pdf * vol / (2 * np.sqrt(years))) / YEAR_DAYS
    mult = t.multiplier
    return {i: Greeks(float(d), float(g), float(v), float(th))
            for i, d, g, v, th in zip(t.ids, delta * mult, gamma * mult, vega * mult, theta * mult)}


def account_greeks(account: Account, market: Market) -> dict[int, Greeks]:
    """Position-weighted Greeks summed per risk group (group id -> totals) over the account."""
    per_contract = greeks(market)
    group_of = {i.id: i.group for i in market.instruments}
    out: dict[int, Greeks] = {}
    for p in account.positions:
        if p.instrument not in per_contract:
            raise InputError(f"position in instrument {p.instrument}: no such instrument in the market")
        g = group_of[p.instrument]
        out[g] = out.get(g, Greeks(0.0, 0.0, 0.0, 0.0)) + per_contract[p.instrument] * (p.quantity / fp.QTY_SCALE)
    return dict(sorted(out.items()))
