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
addon               ceil         exact: ``contingency_bps / 10000 * spot * multiplier``
short_option_min    ceil         exact: ``short_option_min_bps / 10000 * spot * multiplier``
                                 (calls and puts; 0 otherwise)
strike              exact        decimal, refused beyond 6 decimals
collateral price    floor        exact decimal
haircut tiers       ceil (bps)   exact decimal fractions; tier starts floor (AMOUNT_SCALE)
mm_factor, rates    ceil (bps)   exact decimal fractions; add-ons use the rounded rates
==================  ===========  ================================================================

Only float results pass through the quantizer, the rest is exact rational arithmetic, and the
output is a pure function of the market and the preset: the same input gives byte-identical
snapshot JSON. A value outside its fixed-point bound raises :class:`BoundError` naming the
instrument (or asset) and the field.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction

from pydantic import ValidationError

from zkmargin import fixedpoint as fp
from zkmargin.errors import InputError
from zkmargin.io import describe_validation_error
from zkmargin.market import OPTION_KINDS, CollateralQuote, Market, MarketInstrument, MarketParams, load_market
from zkmargin.models import CollateralAsset, Group, HaircutTier, Instrument, MarginParams, RiskSnapshot, Scenario
from zkmargin.riskarrays import instrument_terms, marks, quantize, scenario_pnl
from zkmargin.scenarios import check_scenario, preset_scenarios

__all__ = ["build_snapshot", "build_snapshot_for", "load_market"]


def _bps_up(field: str, fraction: Decimal) -> int:
    return fp.parse_decimal(field, str(fraction), fp.BPS, "ceil")


def _params(p: MarketParams) -> MarginParams:
    return MarginParams(mm_factor_bps=_bps_up("params.mm_factor", p.mm_factor),
                        contingency_bps=_bps_up("params.contingency_rate", p.contingency_rate),
                        short_option_min_bps=_bps_up("params.short_option_min_rate", p.short_option_min_rate))


def _rate_of_notional(rate_bps: int, spot: Decimal, multiplier: Decimal) -> int:
    """``rate_bps / 10000 * spot * multiplier`` at PRICE_SCALE, rounded up (exact)."""
    return math.ceil(Fraction(rate_bps, fp.BPS) * Fraction(spot) * Fraction(multiplier) * fp.PRICE_SCALE)


def _instrument(ins: MarketInstrument, spot: Decimal, risk: Sequence[int], mark: int,
                scenarios: Sequence[Scenario], params: MarginParams) -> Instrument:
    name = f"instrument {ins.symbol} (id {ins.id})"
    for k, (r, s) in enumerate(zip(risk, scenarios)):
        fp.RISK.check(f"{name} risk[{k}] ({s.label})", r)
    addon = _rate_of_notional(params.contingency_bps, spot, ins.multiplier)
    som = _rate_of_notional(params.short_option_min_bps, spot, ins.multiplier) if ins.kind in OPTION_KINDS else 0
    return Instrument(
        id=ins.id, symbol=ins.symbol, kind=ins.kind, group=ins.group,
        multiplier=format(ins.multiplier.normalize(), "f"),
        strike=None if ins.strike is None else fp.parse_decimal(f"{name} strike", str(ins.strike), fp.PRICE_SCALE),
        expiry=None if ins.expiry is None else ins.expiry.isoformat(),
        mark=fp.MARK.check(f"{name} mark", mark),
        addon=fp.ADDON.check(f"{name} addon", addon),
        short_option_min=fp.SOM.check(f"{name} short_option_min", som),
        risk=list(risk))


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


def build_snapshot(market: Market, preset: str) -> RiskSnapshot:
    """Compute, quantize and assemble the risk snapshot of ``market`` under a scenario preset.

    ``preset`` names a grid of :data:`zkmargin.scenarios.PRESETS` (``span16``, ``deribit``).
    Raises :class:`~zkmargin.errors.BoundError` for a value outside its bound and
    :class:`~zkmargin.errors.InputError` for an unusable market or preset.
    """
    return build_snapshot_for(market, preset_scenarios(preset))


def build_snapshot_for(market: Market, scenarios: Sequence[Scenario]) -> RiskSnapshot:
    """:func:`build_snapshot` under an explicit scenario list (e.g. an existing snapshot's)."""
    for s in scenarios:
        check_scenario(s)
    terms = instrument_terms(market)
    risk = quantize(scenario_pnl(terms, scenarios), "floor").tolist()
    mark = quantize(marks(terms), "half_even").tolist()
    spot = {u.id: u.spot for u in market.underlyings}
    try:
        params = _params(market.params)
        instruments = [_instrument(ins, spot[ins.group], risk[k], mark[k], scenarios, params)
                       for k, ins in enumerate(market.instruments)]
        return RiskSnapshot(
            venue=market.venue, epoch=market.epoch, scenarios=list(scenarios),
            groups=[Group(id=u.id, underlying=u.name) for u in sorted(market.underlyings, key=lambda u: u.id)],
            instruments=sorted(instruments, key=lambda i: i.id),
            collateral=[_collateral(c) for c in market.collateral], params=params)
    except ValidationError as e:
        raise InputError(f"market {market.venue} epoch {market.epoch}: {describe_validation_error(e)}") from None
