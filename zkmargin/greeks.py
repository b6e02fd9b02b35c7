"""A trader's Greeks in USD, per position and per risk group, from the engine's Black-76.

The snapshot holds integers only (marks, risk arrays); sensitivities need the market data the
snapshot was built from (spot, forwards, vols, rates: :class:`~zkmargin.market.Market`), priced
by :func:`zkmargin.riskarrays.greeks`. :func:`check_market` first makes sure that market data is
the snapshot's own: same venue and epoch, the same scenarios under the methodology the snapshot
was built with (:mod:`zkmargin.methodology`), and for every held instrument, once priced under
that methodology and quantized, the same contract terms, mark, add-on, short-option minimum and
risk array (within one unit of PRICE_SCALE, since floats may differ in the last bit across
machines).

USD conventions, per position (``q`` contracts, ``S`` the underlying's spot in USD):

* ``delta_usd = q * delta * S``: dollar delta; a 1 % move of the underlying earns ``delta_usd / 100``;
* ``gamma_usd = q * gamma * S**2 / 100``: change of ``delta_usd`` for a 1 % move;
* ``vega_usd = q * vega``: USD per vol point (0.01 of annualised vol);
* ``theta_usd = q * theta``: USD per calendar day (forward and vol held).

They explain the risk; they never enter a snapshot, a margin figure or a proof.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from zkmargin import fixedpoint as fp
from zkmargin.errors import InputError
from zkmargin.market import Market
from zkmargin.methodology import Methodology
from zkmargin.models import Account, RiskSnapshot
from zkmargin.riskarrays import Greeks, greeks
from zkmargin.snapshot_builder import build_snapshot

#: A 1 % move of the underlying, as a fraction.
PERCENT = 0.01
#: Largest difference (PRICE_SCALE units) tolerated between a re-priced and a published integer.
REPRICE_TOLERANCE = 1


@dataclass(frozen=True)
class UsdGreeks:
    """Greeks of a position or a group in USD (see the module docstring for each convention)."""

    delta_usd: float
    gamma_usd: float
    vega_usd: float
    theta_usd: float

    def __add__(self, other: UsdGreeks) -> UsdGreeks:
        return UsdGreeks(self.delta_usd + other.delta_usd, self.gamma_usd + other.gamma_usd,
                         self.vega_usd + other.vega_usd, self.theta_usd + other.theta_usd)


ZERO = UsdGreeks(0.0, 0.0, 0.0, 0.0)


def usd_greeks(g: Greeks, spot: float) -> UsdGreeks:
    """Convert spot Greeks (units of the underlying, see :class:`Greeks`) to USD at ``spot``."""
    return UsdGreeks(g.delta * spot, g.gamma * spot * spot * PERCENT, g.vega, g.theta)


def restrict_market(market: Market, instrument_ids: Sequence[int]) -> Market:
    """The market reduced to the listed instruments (pricing a book needs no others)."""
    keep = set(instrument_ids)
    return market.model_copy(update={"instruments": [i for i in market.instruments if i.id in keep]})


def check_market(market: Market, methodology: Methodology, snapshot: RiskSnapshot,
                 instrument_ids: Sequence[int]) -> None:
    """Raise :class:`InputError` unless ``market`` under ``methodology`` prices ``snapshot`` for the
    listed instruments."""
    where = f"market {market.venue} epoch {market.epoch}"
    if (market.venue, market.epoch) != (snapshot.venue, snapshot.epoch):
        raise InputError(f"{where} is not the market of snapshot {snapshot.venue} epoch {snapshot.epoch}")
    listed = {i.id for i in market.instruments}
    missing = [i for i in instrument_ids if i not in listed]
    if missing:
        raise InputError(f"{where} does not list instrument {missing[0]}")
    rebuilt_snapshot = build_snapshot(restrict_market(market, instrument_ids), methodology)
    labels = [s.label for s in rebuilt_snapshot.scenarios]
    if labels != [s.label for s in snapshot.scenarios]:
        raise InputError(f"the {len(labels)} scenarios of methodology {methodology.name} are not the "
                         f"{len(snapshot.scenarios)} of snapshot {snapshot.venue} epoch {snapshot.epoch}: "
                         "give the methodology the snapshot was built with")
    rebuilt = rebuilt_snapshot.instruments_by_id
    published = snapshot.instruments_by_id
    for i in instrument_ids:
        a, b = rebuilt[i], published[i]
        terms_differ = (a.symbol, a.kind, a.group, a.strike, a.expiry) != (b.symbol, b.kind, b.group, b.strike,
                                                                           b.expiry)
        off = max(abs(x - y) for x, y in zip([a.mark, a.addon, a.short_option_min, *a.risk],
                                             [b.mark, b.addon, b.short_option_min, *b.risk]))
        if terms_differ or off > REPRICE_TOLERANCE:
            raise InputError(f"{where} under methodology {methodology.name} does not reproduce snapshot instrument "
                             f"{b.symbol} ({'contract terms' if terms_differ else f'mark, add-ons or risk off by {off} units'})")


@dataclass(frozen=True)
class PositionGreeks:
    """One position's Greeks in USD, with the spot they were taken at."""

    instrument: int
    group: int
    quantity: int    # QTY_SCALE
    spot: float      # USD per underlying unit
    greeks: UsdGreeks


def position_greeks(account: Account, market: Market) -> list[PositionGreeks]:
    """USD Greeks of every position of ``account`` (account order), priced from ``market``."""
    held = [p.instrument for p in account.positions]
    by_id = {i.id: i for i in market.instruments}
    missing = [i for i in held if i not in by_id]
    if missing:
        raise InputError(f"market {market.venue} epoch {market.epoch} does not list instrument {missing[0]}")
    per_contract = greeks(restrict_market(market, held))
    out = []
    for p in account.positions:
        group = by_id[p.instrument].group
        spot = float(market.underlying(group).spot)
        g = usd_greeks(per_contract[p.instrument] * (p.quantity / fp.QTY_SCALE), spot)
        out.append(PositionGreeks(p.instrument, group, p.quantity, spot, g))
    return out


def group_totals(positions: Sequence[PositionGreeks]) -> dict[int, UsdGreeks]:
    """USD Greeks summed per risk group (group id -> totals), groups in id order."""
    out: dict[int, UsdGreeks] = {}
    for p in positions:
        out[p.group] = out.get(p.group, ZERO) + p.greeks
    return dict(sorted(out.items()))
