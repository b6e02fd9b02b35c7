"""Market data -> the canonical integer :class:`~zkmargin.models.RiskSnapshot` of an epoch.

Every number of the snapshot is quantized once, in the direction that goes against the trader
wherever a direction exists (PRICE_SCALE = 1e-6 USD per contract, bps = 1e-4):

==================  ===========  ================================================================
snapshot field      rounding     source
==================  ===========  ================================================================
risk[s]             floor        float P&L (:func:`zkmargin.riskarrays.scenario_pnl`): a loss
                                 rounds to a larger loss
mark                half-even    float (:func:`zkmargin.riskarrays.marks`): signed exposure, no
                                 direction is against every trader (see ``quantize``)
addon               ceil         exact: ``rate * spot * multiplier`` (inverse future or perp:
                                 ``rate * face``; an inverse option as a USD one), the
                                 exact decimal rate of the instrument's kind (methodology ``addons``,
                                 else the market)
short_option_min    ceil         exact: ``short_option_min_rate * spot * multiplier``
                                 (calls and puts, inverse or not; 0 otherwise)
strike              exact        decimal, refused beyond 6 decimals
collateral price    floor        exact decimal
haircut tiers       ceil (bps)   exact decimal fractions; tier starts floor (AMOUNT_SCALE)
mm_factor, rates    ceil (bps)   exact decimal fractions (the committed params; the add-ons above
                                 use the exact rates)
==================  ===========  ================================================================

Only float results pass through the quantizer, the rest is exact rational arithmetic, and the
output is a pure function of the market and the methodology (:mod:`zkmargin.methodology`: a
shipped preset or a venue's file): the same input gives byte-identical snapshot JSON. The
methodology's ``addons`` override the market's ``params`` (mm_factor, rates); ``contingency_bps``
records the base rate, and a kind with its own rate carries it in its leaves' ``addon``. A value outside its fixed-point bound raises :class:`BoundError` naming the
instrument (or asset) and the field.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from pydantic import ValidationError

from zkmargin import fixedpoint as fp
from zkmargin.errors import InputError
from zkmargin.io import describe_validation_error
from zkmargin.market import (OPTION_KINDS, CollateralQuote, Market, MarketInstrument, MarketParams, format_utc_time,
                             load_market)
from zkmargin.methodology import AddOns, Methodology, as_methodology
from zkmargin.models import (CollateralAsset, Group, HaircutTier, Instrument, Kind, MarginParams, RiskSnapshot,
                             Scenario)
from zkmargin.riskarrays import instrument_terms, marks, quantize, scenario_pnl
from zkmargin.scenarios import scenario_set

__all__ = ["build_snapshot", "load_market"]


def _bps_up(field: str, fraction: Decimal) -> int:
    return fp.parse_decimal(field, str(fraction), fp.BPS, "ceil")


@dataclass(frozen=True)
class _Rates:
    """Exact margin rates (fractions): the methodology's ``addons`` where given, else the market's."""

    mm_factor: Decimal
    contingency: Decimal
    contingency_by_kind: dict[Kind, Decimal]
    short_option_min: Decimal

    @classmethod
    def of(cls, p: MarketParams, a: AddOns) -> _Rates:
        contingency = p.contingency_rate if a.contingency_rate is None else a.contingency_rate
        return cls(mm_factor=p.mm_factor if a.mm_factor is None else a.mm_factor, contingency=contingency,
                   contingency_by_kind={k: a.contingency_by_kind.get(k.value, contingency) for k in Kind},
                   short_option_min=(p.short_option_min_rate if a.short_option_min_rate is None
                                     else a.short_option_min_rate))

    def params(self) -> MarginParams:
        """The committed parameters: mm_factor and the base rates, in bps rounded up."""
        return MarginParams(mm_factor_bps=_bps_up("mm_factor", self.mm_factor),
                            contingency_bps=_bps_up("contingency_rate", self.contingency),
                            short_option_min_bps=_bps_up("short_option_min_rate", self.short_option_min))


def _rate_of_notional(rate: Decimal, spot: Decimal, multiplier: Decimal) -> int:
    """``rate * spot * multiplier`` at PRICE_SCALE, rounded up (exact)."""
    return math.ceil(Fraction(rate) * Fraction(spot) * Fraction(multiplier) * fp.PRICE_SCALE)


def _instrument(ins: MarketInstrument, spot: Decimal, risk: Sequence[int], mark: int,
                scenarios: Sequence[Scenario], rates: _Rates) -> Instrument:
    name = f"instrument {ins.symbol} (id {ins.id})"
    for k, (r, s) in enumerate(zip(risk, scenarios)):
        fp.RISK.check(f"{name} risk[{k}] ({s.label})", r)
    # an inverse future's or perp's multiplier is its face in USD: that is its notional; an inverse
    # option's multiplier is underlying units, as a USD option's, and its notional spot x multiplier
    option = ins.kind in OPTION_KINDS
    notional_spot = Decimal(1) if ins.inverse and not option else spot
    addon = _rate_of_notional(rates.contingency_by_kind[ins.kind], notional_spot, ins.multiplier)
    som = _rate_of_notional(rates.short_option_min, spot, ins.multiplier) if option else 0
    return Instrument(
        id=ins.id, symbol=ins.symbol, kind=ins.kind, group=ins.group,
        multiplier=format(ins.multiplier.normalize(), "f"),
        strike=None if ins.strike is None else fp.parse_decimal(f"{name} strike", str(ins.strike), fp.PRICE_SCALE),
        expiry=None if ins.expiry is None else format_utc_time(ins.expiry),
        mark=fp.MARK.check(f"{name} mark", mark),
        addon=fp.ADDON.check(f"{name} addon", addon),
        short_option_min=fp.SOM.check(f"{name} short_option_min", som),
        risk=list(risk))


def _naked_keys(instruments: list[Instrument]) -> list[Instrument]:
    """The ``net_naked_short_addon`` rule: options of one (group, expiry, strike), calls and puts
    together, share a net-naked-short key, numbered 1, 2, ... in that order; other instruments keep 0.
    Every option of a key must have the same add-on (the snapshot validator refuses others)."""
    strikes = sorted({(i.group, i.expiry or "", i.strike or 0) for i in instruments if i.kind in OPTION_KINDS})
    key = {s: k + 1 for k, s in enumerate(strikes)}
    return [i.model_copy(update={"naked_key": key[(i.group, i.expiry or "", i.strike or 0)]})
            if i.kind in OPTION_KINDS else i for i in instruments]


def _collateral(c: CollateralQuote) -> CollateralAsset:
    name = f"collateral {c.symbol} (index {c.index})"
    price = fp.parse_decimal(f"{name} price", str(c.price), fp.PRICE_SCALE, "floor")
    tiers = [HaircutTier(
        from_amount=fp.AMOUNT.check(f"{name} tier {t} from_amount",
                                    fp.parse_decimal(f"{name} tier {t} from_amount", str(q.from_amount),
                                                     fp.AMOUNT_SCALE, "floor")),
        mm_bps=_bps_up(f"{name} tier {t} mm", q.mm),
        im_bps=_bps_up(f"{name} tier {t} im", q.im)) for t, q in enumerate(c.tiers)]
    return CollateralAsset(index=c.index, symbol=c.symbol, price=fp.ASSET_PRICE.check(f"{name} price", price),
                           tiers=tiers)


def build_snapshot(market: Market, methodology: Methodology | str) -> RiskSnapshot:
    """Compute, quantize and assemble the risk snapshot of ``market`` under a methodology.

    ``methodology``: a :class:`~zkmargin.methodology.Methodology`, or a preset name (``span16``,
    ``span``, ``deribit``, ``derive-pmrm2``) or methodology file for
    :func:`~zkmargin.methodology.load_methodology`. Of its portfolio-level rules, the
    net-naked-short add-on is applied (each option's ``naked_key``); the others are not
    (:meth:`~zkmargin.methodology.Methodology.pending_rules`). Raises
    :class:`~zkmargin.errors.BoundError` for a value outside its bound and
    :class:`~zkmargin.errors.InputError` for an unusable market or methodology.
    """
    method = as_methodology(methodology)
    grid = scenario_set(method, market)
    terms = instrument_terms(market)
    risk = quantize(scenario_pnl(terms, grid), "floor").tolist()
    mark = quantize(marks(terms), "half_even").tolist()
    spot = {u.id: u.spot for u in market.underlyings}
    try:
        scenarios = grid.snapshot_scenarios()
        rates = _Rates.of(market.params, method.addons)
        params = rates.params()
        instruments = [_instrument(ins, spot[ins.group], risk[k], mark[k], scenarios, rates)
                       for k, ins in enumerate(market.instruments)]
        if method.applies("net_naked_short_addon"):
            instruments = _naked_keys(instruments)
        return RiskSnapshot(
            venue=market.venue, epoch=market.epoch, scenarios=scenarios,
            groups=[Group(id=u.id, underlying=u.name) for u in sorted(market.underlyings, key=lambda u: u.id)],
            instruments=sorted(instruments, key=lambda i: i.id),
            collateral=[_collateral(c) for c in market.collateral], params=params)
    except ValidationError as e:
        raise InputError(f"market {market.venue} epoch {market.epoch}: {describe_validation_error(e)}") from None
