"""Risk arrays, marks and Greeks from market data (numpy float64), and the float quantizer.

Pricing, per contract (the multiplier included), in USD:

* options: Black-76 on the forward ``F`` of their expiry (quoted, else ``spot * exp(rate * T)``),
  discounted at ``exp(-rate * T)``, ``T`` in years ACT/365 counted in seconds from the market's
  valuation instant, vol quoted or from the expiry's smile (:class:`zkmargin.market.Smile`,
  sticky strike); a vol or time of 0 prices the option at its discounted intrinsic value;
* linear instruments track a reference price: the spot for spot, the perp's own mark price (else
  the spot) for perps, the forward of the expiry for dated futures; a move of the underlying by
  ``m`` moves it by ``ref * m``;
* coin-settled (inverse) futures and perps of face ``N`` USD are worth ``N / ref`` coins: a long
  gains ``N / ref * m / (1 + m)`` coins, valued at the settlement asset's (unshocked) USD price;
* coin-settled (inverse) options, Deribit's BTC and ETH options: the premium in coins per
  underlying unit is the Black-76 premium divided by the forward of the expiry (Deribit's
  ``underlying_price``), ``V(F) / F``, in a scenario ``V(F (1 + m), ...) / (F (1 + m))``: the
  divisor is shocked with the forward; coins are valued at the settlement asset's (unshocked) USD
  price, in the risk array and in the mark alike.

Risk array entry ``(i, s)``: ``(value_i(shocked by s) - value_i(now)) * weight``, the shocks and
weights of :class:`zkmargin.scenarios.ScenarioSet` (per group), the vol shocks of the methodology
(:func:`zkmargin.methodology.shocked_vol`, per option: term scaling uses its own time to expiry),
and time moved on by the methodology's look-ahead. Linear P&L is computed directly as
``ref * mult * (m * w)`` with ``m * w`` exact (no cancellation), in a capped tail scenario at most
its unweighted P&L at the core grid's edge (:func:`linear_share`); option P&L as a difference of
Black-76 values.

Everything here is float and machine-dependent in the last bit; only :func:`quantize` turns it
into the integers of the canonical snapshot. The Greeks are for explanation only and never enter
a snapshot or a proof.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

import numpy as np
import numpy.typing as npt

from zkmargin import fixedpoint as fp
from zkmargin.errors import InputError
from zkmargin.market import OPTION_KINDS, Market, MarketInstrument
from zkmargin.methodology import YEAR_SECONDS, shocked_vol
from zkmargin.models import Account, Kind
from zkmargin.scenarios import ScenarioSet

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: Calendar days in the ACT/365 year (theta is reported per day).
YEAR_DAYS = YEAR_SECONDS // 86_400
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
    ``F, K > 0`` and ``T, vol >= 0``: where ``vol sqrt(T) = 0`` the premium is the discounted
    intrinsic value ``exp(-rT) max(F - K, 0)`` (call) or ``exp(-rT) max(K - F, 0)`` (put).
    """
    f, k, t, v = np.broadcast_arrays(_floats(forward), _floats(strike), _floats(years), _floats(vol))
    df = np.exp(-_floats(rate) * t)
    flat = v * np.sqrt(t) == 0
    with np.errstate(divide="ignore", invalid="ignore"):
        d1, d2 = _d1_d2(f, k, t, v)
        call = df * (f * norm_cdf(d1) - k * norm_cdf(d2))
        put = df * (k * norm_cdf(-d2) - f * norm_cdf(-d1))
    call = np.where(flat, df * np.maximum(f - k, 0.0), call)
    put = np.where(flat, df * np.maximum(k - f, 0.0), put)
    return np.where(is_call, call, put)


@dataclass(frozen=True)
class Terms:
    """Pricing inputs, one entry per market instrument in market order (floats, USD and years)."""

    ids: tuple[int, ...]
    kinds: tuple[Kind, ...]
    groups: tuple[int, ...]
    spot: FloatArray        # USD per underlying unit
    ref: FloatArray         # USD: spot (spot), perp mark (perp), forward of the expiry (future, option)
    multiplier: FloatArray  # underlying units per contract
    strike: FloatArray      # USD, options only (1 elsewhere, unused)
    seconds: FloatArray     # time to expiry in seconds, options only (1 year elsewhere, unused)
    years: FloatArray       # seconds / 31,536,000
    vol: FloatArray         # annualised, options only (1 elsewhere, unused)
    rate: FloatArray        # continuously compounded
    coin: FloatArray        # USD per settlement coin (inverse contracts; 1 elsewhere, unused)
    is_option: BoolArray
    is_call: BoolArray
    is_inverse: BoolArray

    @property
    def options(self) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, BoolArray]:
        """``(forward, strike, years, vol, rate, is_call)`` of the options only."""
        m = self.is_option
        return self.ref[m], self.strike[m], self.years[m], self.vol[m], self.rate[m], self.is_call[m]


def premium_value(premium: npt.ArrayLike, forward: npt.ArrayLike, coin: npt.ArrayLike,
                  inverse: npt.ArrayLike) -> FloatArray:
    """USD value of a Black-76 premium (USD per underlying unit), broadcast: the premium itself, or
    for a coin-settled option its value in coins ``premium / forward`` at ``coin`` USD per coin."""
    p = _floats(premium)
    return np.where(inverse, p / _floats(forward) * _floats(coin), p)


def seconds_to(market: Market, ins: MarketInstrument) -> int:
    """Whole seconds from the market's valuation instant to the instrument's expiry."""
    assert ins.expiry is not None
    return int((ins.expiry - market.now).total_seconds())


def _reference(market: Market, ins: MarketInstrument) -> float:
    u = market.underlying(ins.group)
    if ins.expiry is None:
        return float(ins.mark_price if ins.mark_price is not None else u.spot)
    terms = u.terms(ins.expiry)
    if terms is not None and terms.forward is not None:
        return float(terms.forward)
    return float(u.spot) * math.exp(float(u.rate) * (seconds_to(market, ins) / YEAR_SECONDS))


def _option_terms(market: Market, ins: MarketInstrument, forward: float) -> tuple[float, float, float]:
    """``(strike, seconds, vol)`` of an option; ``(1, 1 year, 1)`` placeholders for a linear instrument."""
    if ins.strike is None or ins.expiry is None:
        return 1.0, float(YEAR_SECONDS), 1.0
    seconds = float(seconds_to(market, ins))
    if ins.vol is not None:
        return float(ins.strike), seconds, float(ins.vol)
    terms = market.underlying(ins.group).terms(ins.expiry)
    smile = terms.smile if terms is not None else None
    if smile is None:
        raise InputError(f"instrument {ins.symbol}: no vol and no smile for its expiry")
    x = math.log(float(ins.strike) / forward)
    vol = float(smile.atm_vol) + float(smile.skew) * x + float(smile.curvature) * x * x
    if vol <= 0:
        raise InputError(f"instrument {ins.symbol}: the smile gives a non-positive vol {vol:.6g}")
    return float(ins.strike), seconds, vol


def instrument_terms(market: Market) -> Terms:
    """Collect every instrument's pricing inputs into arrays (market order)."""
    rows = []
    for ins in market.instruments:
        u = market.underlying(ins.group)
        ref = _reference(market, ins)
        coin = float(market.collateral_price(ins.settlement)) if ins.settlement is not None else 1.0
        rows.append((float(u.spot), ref, float(ins.multiplier), *_option_terms(market, ins, ref), float(u.rate), coin))
    cols = np.array(rows, dtype=np.float64).reshape(len(rows), 8).T
    kinds = tuple(i.kind for i in market.instruments)
    return Terms(
        ids=tuple(i.id for i in market.instruments), kinds=kinds, groups=tuple(i.group for i in market.instruments),
        spot=cols[0], ref=cols[1], multiplier=cols[2], strike=cols[3], seconds=cols[4],
        years=cols[4] / YEAR_SECONDS, vol=cols[5],
        rate=cols[6], coin=cols[7], is_option=np.array([k in OPTION_KINDS for k in kinds], dtype=bool),
        is_inverse=np.array([i.inverse for i in market.instruments], dtype=bool),
        is_call=np.array([k is Kind.CALL for k in kinds], dtype=bool))


def _exact_ratio(x: Fraction) -> tuple[float, float]:
    """``x`` as ``(numerator, denominator)`` floats, over 10**8 when that is exact (whole bps x bps)."""
    scaled = x * fp.BPS * fp.BPS
    if scaled.denominator == 1:
        return float(scaled.numerator), float(fp.BPS * fp.BPS)
    return float(x.numerator), float(x.denominator)


def linear_share(move: Fraction, weight: Fraction, edge: Fraction | None, inverse: bool) -> Fraction:
    """A linear contract's weighted P&L per unit of its base (``ref * mult``, inverse: coins at the
    collateral price): ``m * w`` (inverse: ``m / (1 + m) * w``), at most in magnitude its unweighted
    P&L under the capped move ``edge`` (:meth:`zkmargin.methodology.ScenarioShape.edge_at`)."""
    def pnl(m: Fraction) -> Fraction:
        return m / (1 + m) if inverse else m
    out = pnl(move) * weight
    return pnl(edge) if edge is not None and abs(out) > abs(pnl(edge)) else out


def scenario_pnl(terms: Terms, scenarios: ScenarioSet) -> FloatArray:
    """Weighted P&L per long contract, USD, shape ``(instruments, scenarios)``."""
    n = len(scenarios.shapes)
    moves = [scenarios.moves[g] for g in terms.groups]
    weights = [scenarios.weights[g] for g in terms.groups]
    edges = [scenarios.edges.get(g, (None,) * n) for g in terms.groups]
    # a capped scenario's linear P&L: the uncapped weight, then the edge cap; the share is exact and,
    # over 10**8 as whole bps x bps, reproduces the integer-bps grids bit for bit
    ratio = np.array([[_exact_ratio(linear_share(m, w if e is None else s.weight, e, inverse))
                       for m, w, e, s in zip(ms, ws, es, scenarios.shapes)]
                      for ms, ws, es, inverse in zip(moves, weights, edges, terms.is_inverse)],
                     dtype=np.float64).reshape(len(moves), n, 2)
    base = np.where(terms.is_inverse, terms.multiplier * terms.coin / terms.ref, terms.ref * terms.multiplier)
    pnl = base[:, None] * ratio[:, :, 0] / ratio[:, :, 1]
    m = terms.is_option
    if m.any():
        method = scenarios.methodology
        fwd, strike, years, vol, rate, call = terms.options
        seconds, coin, inverse = terms.seconds[m], terms.coin[m][:, None], terms.is_inverse[m][:, None]
        move = np.array([[float(x) for x in row] for row, o in zip(moves, m) if o], dtype=np.float64)
        weight = np.array([[float(x) for x in row] for row, o in zip(weights, m) if o], dtype=np.float64)
        shocked_vols = np.array([[shocked_vol(method.vol, v, t, d) for d in scenarios.vol]
                                 for v, t in zip(vol, seconds)], dtype=np.float64).reshape(len(vol), n)
        later = np.maximum(years - float(method.lookahead_days) * 86_400 / YEAR_SECONDS, 0.0)
        shocked_fwd = fwd[:, None] * (1 + move)
        now = premium_value(black76(fwd, strike, years, vol, rate, call)[:, None], fwd[:, None], coin, inverse)
        shocked = premium_value(black76(shocked_fwd, strike[:, None], later[:, None], shocked_vols, rate[:, None],
                                        call[:, None]), shocked_fwd, coin, inverse)
        pnl[m] = (shocked - now) * terms.multiplier[m][:, None] * weight
    return pnl


def marks(terms: Terms) -> FloatArray:
    """Mark value per contract, USD.

    Options: Black-76 premium x multiplier (coin-settled: the premium in coins, ``V / F``, at the
    settlement asset's USD price, :func:`premium_value`). Spot: spot x multiplier. Futures and perps: 0, because
    their variation margin is settled into the collateral balances every epoch, so the open
    position itself is worth nothing at the mark (a non-zero mark would count that P&L twice).
    """
    out = np.where(np.array([k is Kind.SPOT for k in terms.kinds], dtype=bool),
                   terms.spot * terms.multiplier, 0.0)
    if terms.is_option.any():
        m = terms.is_option
        out[m] = (premium_value(black76(*terms.options), terms.ref[m], terms.coin[m], terms.is_inverse[m])
                  * terms.multiplier[m])
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
    forward delta times ``F/S`` and a future's delta is ``F/S`` per underlying unit. An inverse
    contract of face ``N`` (its multiplier) worth ``N / F`` coins at ``P`` USD each has delta
    ``N P / (F S)`` and gamma ``-2 N P / (F S^2)``. A coin-settled option worth ``P V / F`` USD
    (``V`` its Black-76 premium) has forward delta ``P / F (dV/dF - V / F)`` (at ``P = F`` and no
    rate: Deribit's coin delta ``N(d1) - V / F``), forward gamma ``P / F (d2V/dF2 - 2 (dV/dF - V/F) / F)``,
    and vega and theta ``P / F`` times the USD option's; the coin price ``P`` is held, as in the risk
    arrays. Theta is Black-76's at a fixed forward,
    ``r V - exp(-rT) F n(d1) vol / (2 sqrt(T))`` per year, over :data:`YEAR_DAYS`; linear
    instruments have none (their mark is not a premium).
    """
    t = instrument_terms(market)
    dfds = t.ref / t.spot
    delta = np.where(t.is_inverse, t.coin / (t.ref * t.spot), dfds)
    gamma = np.where(t.is_inverse, -2.0 * t.coin / (t.ref * t.spot**2), 0.0)
    vega = np.zeros_like(delta)
    theta = np.zeros_like(delta)
    if t.is_option.any():
        fwd, strike, years, vol, rate, call = t.options
        d1, _ = _d1_d2(fwd, strike, years, vol)
        df = np.exp(-rate * years)
        pdf = norm_pdf(d1)
        m = t.is_option
        premium = black76(fwd, strike, years, vol, rate, call)
        fwd_delta = df * np.where(call, norm_cdf(d1), norm_cdf(d1) - 1.0)
        fwd_gamma = df * pdf / (fwd * vol * np.sqrt(years))
        # coin-settled: value P V(F) / F, so d/dF = P/F (dV/dF - V/F), d2/dF2 = P/F (d2V/dF2 - 2 (dV/dF - V/F) / F)
        inverse = t.is_inverse[m]
        scale = np.where(inverse, t.coin[m] / fwd, 1.0)
        coin_delta = np.where(inverse, fwd_delta - premium / fwd, fwd_delta)
        delta[m] = scale * coin_delta * dfds[m]
        gamma[m] = scale * np.where(inverse, fwd_gamma - 2.0 * coin_delta / fwd, fwd_gamma) * dfds[m] ** 2
        vega[m] = scale * df * fwd * pdf * np.sqrt(years) * VOL_POINT
        theta[m] = scale * (rate * premium - df * fwd * pdf * vol / (2 * np.sqrt(years))) / YEAR_DAYS
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
