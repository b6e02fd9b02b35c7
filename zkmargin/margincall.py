"""Distance to a margin call: how far each underlying (or all together) can move before the
account's portfolio-margin health falls below 100 %, by repricing with the engine.

A move of ``p`` bps of an underlying is a new market (:func:`shift_market`): its spot, its quoted
forwards, its perps' own marks and every collateral asset named after it (``BTC`` collateral for
the ``BTC`` underlying) scale by ``1 + p / 10000``; option vols stay where they are (sticky
strike, as in the scenarios); time does not pass. The venue's snapshot of that market is rebuilt
under the methodology the snapshot was built with (:func:`zkmargin.snapshot_builder.build_snapshot`:
marks, risk arrays, add-ons, short-option minima, collateral prices, all quantized as the venue
would). Its scenarios are the methodology's resolved on the moved market, as the venue would
resolve them: a price scan given as a fraction of the price moves with the price, one given as an
amount per underlying unit (SPAN) stays that amount, a smaller fraction of a higher price. The
account is margined on it (:func:`zkmargin.portfolio.portfolio_margin`), and the futures' and
perps' variation margin, which the venue settles, is added to equity as cash: per long contract
the engine's own linear P&L of the move (:func:`zkmargin.riskarrays.scenario_pnl`; a coin-settled
contract's coins converted at the coin's moved price), quantized like a risk array (floor,
PRICE_SCALE).

At move 0 the repriced figures are the snapshot's own, integer for integer.

Search (:func:`first_call`): outward from 0 in steps of :data:`SCAN_STEP_BPS` within
[:data:`MOVE_FLOOR_BPS`, :data:`MOVE_CEIL_BPS`], then bisection to 1 bp between the last healthy
step and the first unhealthy one: the reported move is the smallest whole-bp move of that
bracket at which health is below 100 % (health is 100 % or more one bp closer to 0). A dip that
starts and ends between two steps is not seen.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from zkmargin import fixedpoint as fp
from zkmargin.book import resolve
from zkmargin.greeks import restrict_market
from zkmargin.market import Market
from zkmargin.methodology import Methodology, ScenarioShape
from zkmargin.models import Account, Kind
from zkmargin.portfolio import FULL_HEALTH_BPS, MarginResult, portfolio_margin
from zkmargin.riskarrays import instrument_terms, quantize, scenario_pnl
from zkmargin.scenarios import ScenarioSet
from zkmargin.snapshot_builder import build_snapshot
from zkmargin.terms import health

#: Largest fall searched: -90 % (prices must stay positive).
MOVE_FLOOR_BPS = -9_000
#: Largest rise searched: +200 %.
MOVE_CEIL_BPS = 20_000
#: Step of the outward scan before bisection, bps.
SCAN_STEP_BPS = 100
#: Kinds whose P&L is settled into cash (their mark is 0).
SETTLED_KINDS = frozenset({Kind.FUTURE, Kind.PERP})

#: Relative moves per group id, bps.
Moves = Mapping[int, int]
#: The one scenario of a move: the price moves, vols do not, all of the P&L counts.
MOVE = ScenarioShape(label="move", scan_multiple=None, fixed_move=Fraction(0), vol="none", weight=Fraction(1))


def shift_market(market: Market, moves: Moves) -> Market:
    """``market`` after each group's underlying moved by ``moves[group]`` bps (module docstring)."""
    factor = {g: 1 + Decimal(p) / fp.BPS for g, p in moves.items()}
    underlyings = []
    for u in market.underlyings:
        f = factor.get(u.id)
        if f is None:
            underlyings.append(u)
            continue
        expiries = [e.model_copy(update={"forward": e.forward * f}) if e.forward is not None else e
                    for e in u.expiries]
        underlyings.append(u.model_copy(update={"spot": u.spot * f, "expiries": expiries}))
    instruments = [i.model_copy(update={"mark_price": i.mark_price * factor[i.group]})
                   if i.mark_price is not None and i.group in factor else i for i in market.instruments]
    group_of_name = {u.name: u.id for u in market.underlyings}
    collateral = [c.model_copy(update={"price": c.price * factor[group_of_name[c.symbol]]})
                  if group_of_name.get(c.symbol) in factor else c for c in market.collateral]
    return market.model_copy(update={"underlyings": underlyings, "instruments": instruments,
                                     "collateral": collateral})


def freeze_vols(market: Market) -> Market:
    """Every option's vol written on the option itself, so that price moves leave it alone."""
    terms = instrument_terms(market)
    vols = dict(zip(terms.ids, terms.vol.tolist()))
    return market.model_copy(update={"instruments": [
        i.model_copy(update={"vol": Decimal(vols[i.id])}) if i.strike is not None and i.vol is None else i
        for i in market.instruments]})


@dataclass(frozen=True)
class Repriced:
    """The account margined after a move: the engine's result plus the settled variation margin."""

    moves: dict[int, int]   # bps per group id
    result: MarginResult    # portfolio margin on the rebuilt snapshot
    variation: int          # VALUE_SCALE: futures and perps P&L settled into cash

    @property
    def equity(self) -> int:
        """Equity after the move, EQUITY_SCALE (MM haircuts, variation margin included)."""
        return self.result.equity + fp.BPS * self.variation

    @property
    def health(self) -> int:
        """``10000 * equity - MM * 10000`` (EQUITY_SCALE * BPS): >= 0 iff health >= 100 %."""
        return health(self.equity, self.result.mm, FULL_HEALTH_BPS)

    @property
    def healthy(self) -> bool:
        """Is health still at least 100 % of MM?"""
        return self.health >= 0


class Repricer:
    """Reprices one account under moves of its underlyings (see the module docstring).

    ``methodology``: the one the account's snapshot was built with (the market and the
    methodology must reproduce the snapshot: :func:`zkmargin.greeks.check_market`).
    """

    def __init__(self, account: Account, market: Market, methodology: Methodology) -> None:
        held = [p.instrument for p in account.positions]
        self.account = account
        self.methodology = methodology
        self.market = freeze_vols(restrict_market(market, held))
        self.groups = sorted({i.group for i in self.market.instruments})
        self._settled = restrict_market(self.market, [i.id for i in self.market.instruments
                                                      if i.kind in SETTLED_KINDS])
        self._terms = instrument_terms(self._settled)
        self._row = {i: k for k, i in enumerate(self._terms.ids)}

    def variation(self, moves: Moves) -> int:
        """Variation margin of the settled positions after ``moves``, VALUE_SCALE (module docstring)."""
        move = ScenarioSet(self.methodology, (MOVE,), {g: (Fraction(moves.get(g, 0), fp.BPS),) for g in self.groups},
                           {g: (Fraction(1),) for g in self.groups})
        coin_factor = instrument_terms(shift_market(self._settled, moves)).coin / self._terms.coin
        pnl = quantize(scenario_pnl(self._terms, move)[:, 0] * coin_factor, "floor")
        return sum(p.quantity * int(pnl[self._row[p.instrument]]) for p in self.account.positions
                   if p.instrument in self._row)

    def at(self, moves: Moves) -> Repriced:
        """The account margined after ``moves`` (bps per group id)."""
        snapshot = build_snapshot(shift_market(self.market, moves), self.methodology)
        result = portfolio_margin(resolve(self.account, snapshot))
        return Repriced(dict(moves), result, self.variation(moves))


@dataclass(frozen=True)
class CallDistance:
    """The smallest move that takes health below 100 %; ``move_bps`` None: none within bounds.

    ``directions`` maps each moved group id to +1 or -1; the move of group ``g`` is
    ``directions[g] * move_bps``.
    """

    directions: dict[int, int]
    move_bps: int | None
    bound_bps: int   # the largest magnitude searched in these directions

    def moves(self, magnitude: int) -> dict[int, int]:
        """The moves per group at ``magnitude`` bps in these directions."""
        return {g: s * magnitude for g, s in self.directions.items()}


def search_bound(directions: Mapping[int, int]) -> int:
    """Largest magnitude searched: the fall floor if any group falls, else the rise ceiling."""
    return -MOVE_FLOOR_BPS if any(s < 0 for s in directions.values()) else MOVE_CEIL_BPS


def first_call(repricer: Repricer, directions: Mapping[int, int]) -> CallDistance:
    """Smallest whole-bp magnitude at which health < 100 % moving ``directions`` (module docstring)."""
    bound = search_bound(directions)
    found = CallDistance(dict(directions), None, bound)

    def called(m: int) -> bool:
        return not repricer.at(found.moves(m)).healthy

    if called(0):
        return CallDistance(dict(directions), 0, bound)
    healthy_at = 0
    for m in [*range(SCAN_STEP_BPS, bound, SCAN_STEP_BPS), bound]:
        if called(m):
            lo, hi = healthy_at, m   # healthy at lo, called at hi
            while hi - lo > 1:
                mid = (lo + hi) // 2
                lo, hi = (lo, mid) if called(mid) else (mid, hi)
            return CallDistance(dict(directions), hi, bound)
        healthy_at = m
    return found


@dataclass(frozen=True)
class CallReport:
    """Distances to a margin call: per group down and up, and all groups in the worst direction."""

    down: dict[int, CallDistance]
    up: dict[int, CallDistance]
    joint: CallDistance


def worst_direction(repricer: Repricer, down: CallDistance, up: CallDistance) -> int:
    """-1 or +1: the direction of the nearer call; without one, the one with less health at its bound."""
    if down.move_bps is not None or up.move_bps is not None:
        d = down.move_bps if down.move_bps is not None else down.bound_bps + 1
        u = up.move_bps if up.move_bps is not None else up.bound_bps + 1
        return -1 if d <= u else 1
    at_floor = repricer.at(down.moves(down.bound_bps)).health
    at_ceil = repricer.at(up.moves(up.bound_bps)).health
    return -1 if at_floor <= at_ceil else 1


def distances(repricer: Repricer) -> CallReport:
    """Search every group down and up, then all groups together in their worst directions."""
    down = {g: first_call(repricer, {g: -1}) for g in repricer.groups}
    up = {g: first_call(repricer, {g: 1}) for g in repricer.groups}
    joint = first_call(repricer, {g: worst_direction(repricer, down[g], up[g]) for g in repricer.groups})
    return CallReport(down, up, joint)


def curve(repricer: Repricer, directions: Mapping[int, int], magnitudes: Sequence[int]) -> list[Repriced]:
    """The account repriced at each signed magnitude (bps) along ``directions``."""
    return [repricer.at({g: s * m for g, s in directions.items()}) for m in magnitudes]
