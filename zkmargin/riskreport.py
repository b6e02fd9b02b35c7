"""The trader's risk report as data: health, what sets the margin, Greeks, distance to a margin
call, what-if trades and the hedge suggestion, all from the engine.

:func:`build_report` takes models, not files (an :class:`Account`, a :class:`RiskSnapshot`, an
optional :class:`Market`), so any source of an account can feed it. Margin figures are the
engine's integers (:mod:`zkmargin.portfolio`, :mod:`zkmargin.cross`, :mod:`zkmargin.isolated`,
the circuit's values bit for bit); :func:`report_json` writes them exactly as ``zkmargin margin
--model all --json`` does. Greeks and the distance to a margin call need the market data the
snapshot was built from and the methodology it was built under; without the market data those
sections are absent.

Requirement attribution (:attr:`PositionRow.requirement`): IM = sum over groups of the binding
term + add-ons, and each position gets its exact integer part of it: its add-on, plus its part of
its group's binding term, ``short_qty * som`` when the short-option minimum binds, or its loss in
the group's worst scenario, ``-q * risk[worst]``, when the scanning loss binds (a hedge's part is
negative). The parts add up to IM exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from zkmargin import fixedpoint as fp
from zkmargin.book import Book, resolve
from zkmargin.greeks import PositionGreeks, UsdGreeks, check_market, group_totals, position_greeks
from zkmargin.margin import Comparison, compare
from zkmargin.margincall import MOVE_FLOOR_BPS, CallDistance, CallReport, Repriced, Repricer, curve, distances
from zkmargin.market import Market
from zkmargin.methodology import DEFAULT_METHODOLOGY, Methodology, as_methodology
from zkmargin.models import Account, RiskSnapshot, Scenario
from zkmargin.portfolio import MarginResult
from zkmargin.report import result_json, usd
from zkmargin.scenarios import scenario_set
from zkmargin.terms import Health, health
from zkmargin.whatif import Hedge, Trade, apply_trades, hedge

#: Points of each P&L-versus-move curve.
CURVE_POINTS = 61
#: The curve spans +-1.5 x the nearest call, at least +-20 % and at most the largest fall searched.
CURVE_MIN_SPAN_BPS = 2_000

#: Names of the terms that can set a group's requirement.
SCAN = "scanning loss"
SOM = "short-option minimum"
NONE = "no requirement"


def claimable_threshold_bps(result: Health) -> int:
    """The highest threshold (bps) a proof could claim today: ``floor(10000 * equity / MM)``,
    capped at the circuit's largest threshold (also when MM is 0)."""
    if result.mm == 0:
        return fp.THRESHOLD.hi
    return max(0, min(fp.THRESHOLD.hi, fp.BPS * result.equity // result.mm))


@dataclass(frozen=True)
class GroupRow:
    """One risk group: its scan, its short-option minimum, which of them binds, its Greeks."""

    index: int                # index into the book's groups (MarginResult arrays)
    group: int                # group id
    name: str                 # underlying
    binding: str              # SCAN, SOM or NONE
    greeks: UsdGreeks | None  # None without market data


@dataclass(frozen=True)
class PositionRow:
    """One position: the engine's per-slot figures and its exact part of IM."""

    slot: int                 # index into the book's slots
    symbol: str
    group: int                # index into the book's groups
    requirement: int          # VALUE_SCALE: add-on + part of the group's binding term
    greeks: UsdGreeks | None


@dataclass(frozen=True)
class WhatIf:
    """The account after hypothetical trades, margined under every model.

    ``comparison`` margins the traded account as its file would be margined (what ``zkmargin
    margin`` prints for it). A trade also pays its premium: ``premium`` is what the trades cost
    at the snapshot's marks (VALUE_SCALE, ``sum q * mark``; 0 for futures and perps), and
    :attr:`portfolio` charges it to equity (as cash at no haircut), so that only the margin
    changes, not the wealth.
    """

    trades: tuple[Trade, ...]
    account: Account
    comparison: Comparison
    premium: int

    @property
    def portfolio(self) -> Health:
        """Portfolio equity (premium paid), IM, MM and health after the trades."""
        r = self.comparison.results["portfolio"]
        equity = r.equity - fp.BPS * self.premium
        return Health(equity, r.im, r.mm, r.threshold_bps, health(equity, r.mm, r.threshold_bps))


@dataclass(frozen=True)
class Curve:
    """Health along one direction of moves: the signed magnitudes (bps) and the repriced account."""

    directions: dict[int, int]
    magnitudes: tuple[int, ...]
    points: tuple[Repriced, ...]


@dataclass(frozen=True)
class RiskReport:
    """Everything the report shows (see the module docstring)."""

    title: str
    account: Account
    snapshot: RiskSnapshot
    book: Book
    comparison: Comparison
    groups: tuple[GroupRow, ...]
    positions: tuple[PositionRow, ...]
    hedges: tuple[Hedge, ...]
    whatif: WhatIf | None = None
    calls: CallReport | None = None
    curves: dict[int, Curve] = field(default_factory=dict)
    group_scenarios: dict[int, tuple[Scenario, ...]] = field(default_factory=dict)

    def scenarios_of(self, group: int) -> Sequence[Scenario]:
        """Group id ``group``'s scenarios: its own price shocks and weights (the methodology resolved
        on the market) when the report has market data, else the snapshot's list, whose shocks are
        those of its lowest group id (:mod:`zkmargin.scenarios`)."""
        return self.group_scenarios.get(group, self.snapshot.scenarios)

    @property
    def portfolio(self) -> MarginResult:
        """The portfolio-margin result (the model the report explains)."""
        result = self.comparison.results["portfolio"]
        assert isinstance(result, MarginResult)
        return result


def binding_term(result: MarginResult, g: int) -> str:
    """Which term sets group ``g``'s requirement: the scanning loss, the short-option minimum or none."""
    if result.group_req[g] == 0:
        return NONE
    return SCAN if result.scan_loss[g] >= result.group_som[g] else SOM


def requirement_parts(result: MarginResult, book: Book) -> list[int]:
    """Each slot's exact part of IM (VALUE_SCALE, see the module docstring); they sum to IM."""
    parts = []
    for k, s in enumerate(book.slots):
        g = book.slot_group[k]
        if g < 0:
            parts.append(0)
            continue
        term = binding_term(result, g)
        part = (result.short_qty[k] * s.som if term == SOM
                else -s.qty * s.risk[result.worst_scenario[g]] if term == SCAN else 0)
        parts.append(part + result.addon[k])
    return parts


def _curve(repricer: Repricer, report: CallReport, group: int) -> Curve:
    nearest = [d.move_bps for d in (report.down[group], report.up[group]) if d.move_bps is not None]
    span = min(max(CURVE_MIN_SPAN_BPS, 3 * min(nearest, default=0) // 2), -MOVE_FLOOR_BPS)
    half = CURVE_POINTS // 2
    magnitudes = tuple(round(span * k / half) for k in range(-half, half + 1))
    return Curve({group: 1}, magnitudes, tuple(curve(repricer, {group: 1}, magnitudes)))


def build_report(account: Account, snapshot: RiskSnapshot, *, title: str, threshold_bps: int,
                 market: Market | None = None, methodology: Methodology | str = DEFAULT_METHODOLOGY,
                 trades: Sequence[Trade] = ()) -> RiskReport:
    """Compute every section of the report for ``account`` under ``snapshot``.

    ``market``: the snapshot's market data, needed for Greeks and the distance to a margin call;
    ``methodology`` (a :class:`Methodology`, a preset name or a file): the one the snapshot was
    built with, under which each move rebuilds it. The two are checked to reproduce the snapshot
    (:func:`zkmargin.greeks.check_market`). ``trades``: the what-if trades.
    """
    book = resolve(account, snapshot)
    comparison = compare(book, threshold_bps)
    result = comparison.results["portfolio"]
    assert isinstance(result, MarginResult)
    held = [p.instrument for p in account.positions]
    by_id = snapshot.instruments_by_id
    names = {g.id: g.underlying for g in snapshot.groups}

    per_position: dict[int, PositionGreeks] = {}
    per_group: dict[int, UsdGreeks] = {}
    calls: CallReport | None = None
    curves: dict[int, Curve] = {}
    group_scenarios: dict[int, tuple[Scenario, ...]] = {}
    if market is not None:
        method = as_methodology(methodology)
        check_market(market, method, snapshot, held)
        grid = scenario_set(method, market)
        group_scenarios = {g: tuple(grid.group_scenarios(g)) for g in grid.moves}
        pg = position_greeks(account, market)
        per_position = {p.instrument: p for p in pg}
        per_group = group_totals(pg)
        repricer = Repricer(account, market, method)
        calls = distances(repricer)
        curves = {g: _curve(repricer, calls, g) for g in repricer.groups}

    live = [g for g, gid in enumerate(book.group_ids) if gid]
    groups = tuple(GroupRow(g, book.group_ids[g], names[book.group_ids[g]], binding_term(result, g),
                            per_group.get(book.group_ids[g])) for g in live)
    parts = requirement_parts(result, book)
    positions = tuple(
        PositionRow(k, by_id[s.instrument].symbol, book.slot_group[k], parts[k],
                    per_position[s.instrument].greeks if s.instrument in per_position else None)
        for k, s in enumerate(book.slots) if s.instrument)
    whatif = None
    if trades:
        after = apply_trades(account, trades)
        premium = sum(t.quantity * by_id[t.instrument].mark for t in trades)
        whatif = WhatIf(tuple(trades), after, compare(resolve(after, snapshot), threshold_bps), premium)
    return RiskReport(title, account, snapshot, book, comparison, groups, positions,
                      tuple(hedge(account, snapshot)), whatif, calls, curves, group_scenarios)


def _distance_json(d: CallDistance) -> dict[str, Any]:
    return {"directions": {str(g): s for g, s in d.directions.items()}, "move_bps": d.move_bps,
            "bound_bps": d.bound_bps}


def report_json(report: RiskReport) -> dict[str, Any]:
    """The report as JSON data: margin figures as the engine's integers (the scales of
    :mod:`zkmargin.fixedpoint`), Greeks as floats in USD, moves in bps."""
    by_id = report.snapshot.instruments_by_id
    out: dict[str, Any] = {
        "title": report.title, "venue": report.snapshot.venue, "epoch": report.snapshot.epoch,
        "margin": {name: result_json(r) for name, r in report.comparison.results.items()},
        "claimable_threshold_bps": claimable_threshold_bps(report.portfolio),
        "groups": [{"group": g.group, "name": g.name, "binding": g.binding,
                    "greeks_usd": None if g.greeks is None else asdict(g.greeks)} for g in report.groups],
        "positions": [{"instrument": report.book.slots[p.slot].instrument, "symbol": p.symbol,
                       "quantity": report.book.slots[p.slot].qty, "requirement": p.requirement,
                       "greeks_usd": None if p.greeks is None else asdict(p.greeks)} for p in report.positions],
        "hedges": [{**asdict(h), "symbol": by_id[h.instrument].symbol} for h in report.hedges],
    }
    if report.calls is not None:
        out["margin_call"] = {
            "down": {str(g): _distance_json(d) for g, d in report.calls.down.items()},
            "up": {str(g): _distance_json(d) for g, d in report.calls.up.items()},
            "joint": _distance_json(report.calls.joint)}
    if report.whatif is not None:
        out["whatif"] = {
            "trades": [{"instrument": t.instrument, "symbol": by_id[t.instrument].symbol, "quantity": t.quantity}
                       for t in report.whatif.trades],
            "margin": {name: result_json(r) for name, r in report.whatif.comparison.results.items()},
            "premium": report.whatif.premium,
            "portfolio_premium_paid": result_json(report.whatif.portfolio),
            "claimable_threshold_bps": claimable_threshold_bps(report.whatif.portfolio)}
    return out


def _pct(bps: int) -> str:
    return f"{bps / 100:+.2f}%"


def explain(report: RiskReport) -> list[str]:
    """Plain sentences: what sets IM and MM, how far equity covers them, the nearest margin
    call and the hedge (USD figures are the engine's integers, rounded to cents for display)."""
    r = report.portfolio
    by_slot = report.book.slots
    labels = [s.label for s in report.snapshot.scenarios]
    lines = []
    for g in report.groups:
        scan, som = r.scan_loss[g.index], r.group_som[g.index]
        worst = r.worst_scenario[g.index]
        where = f"worst scenario '{labels[worst]}'" if worst >= 0 else "no scenario loses"
        if g.binding == SOM:
            shorts = [f"{fp.format_decimal(-by_slot[p.slot].qty, fp.QTY_SCALE)} x {p.symbol}" for p in report.positions
                      if p.group == g.index and by_slot[p.slot].qty < 0 and by_slot[p.slot].som]
            lines.append(f"{g.name}: the short-option minimum {usd(som, fp.VALUE_SCALE)} USD (short {', '.join(shorts)}) "
                         f"sets the requirement; it exceeds the scanning loss {usd(scan, fp.VALUE_SCALE)} USD "
                         f"({where}), so hedging the scenarios cannot lower it.")
        elif g.binding == SCAN:
            lines.append(f"{g.name}: the scanning loss {usd(scan, fp.VALUE_SCALE)} USD in the {where} sets the "
                         f"requirement (short-option minimum {usd(som, fp.VALUE_SCALE)} USD).")
        else:
            lines.append(f"{g.name}: no scenario loses and no option is short: no requirement.")
    lines.append(f"IM {usd(r.im, fp.VALUE_SCALE)} USD = group requirements {usd(sum(r.group_req), fp.VALUE_SCALE)} "
                 f"+ add-ons {usd(sum(r.addon), fp.VALUE_SCALE)}; MM = {report.book.mm_factor_bps / 100:g}% of IM = "
                 f"{usd(r.mm, fp.EQUITY_SCALE)} USD.")
    claim = claimable_threshold_bps(r)
    lines.append(f"Equity {usd(r.equity, fp.EQUITY_SCALE)} USD is "
                 + ("more than enough: no requirement" if r.health_bps is None else f"{r.health_bps / fp.BPS:,.4f}x MM")
                 + f"; a proof can claim up to {claim:,} bps today.")
    if report.calls is not None and report.calls.joint.move_bps == 0:
        lines.append("Health is already below 100% of MM: the account is in a margin call now.")
    elif report.calls is not None:
        c = report.calls
        for g in report.groups:
            down, up = c.down[g.group], c.up[g.group]
            parts = [f"at {_pct(-d.move_bps)}" if d is down else f"at {_pct(d.move_bps)}"
                     for d in (down, up) if d.move_bps is not None]
            lines.append(f"{g.name}: margin call " + (" or ".join(parts) if parts else
                         f"nowhere between {_pct(-down.bound_bps)} and {_pct(up.bound_bps)}") + ".")
        if len(report.groups) > 1:
            j = c.joint
            names = ", ".join(f"{g.name} {'down' if j.directions[g.group] < 0 else 'up'}" for g in report.groups)
            lines.append(f"All together ({names}): margin call "
                         + (f"at a move of {j.move_bps / 100:.2f}%." if j.move_bps is not None
                            else f"nowhere within {j.bound_bps / 100:.2f}%."))
    if report.whatif is not None:
        w = report.whatif.portfolio
        trades = ", ".join(f"{fp.format_decimal(t.quantity, fp.QTY_SCALE)} "
                           f"{report.snapshot.instruments_by_id[t.instrument].symbol}" for t in report.whatif.trades)
        lines.append(f"What if {trades} (premium {usd(report.whatif.premium, fp.VALUE_SCALE)} USD paid at mark): MM "
                     f"{usd(r.mm, fp.EQUITY_SCALE)} -> {usd(w.mm, fp.EQUITY_SCALE)} USD, a proof could claim "
                     f"{claim:,} -> {claimable_threshold_bps(w):,} bps.")
    for h in report.hedges:
        symbol = report.snapshot.instruments_by_id[h.instrument].symbol
        if h.quantity == 0:
            lines.append(f"Hedge: no quantity of {symbol} lowers MM (searched |q| <= "
                         f"{fp.format_decimal(h.bound, fp.QTY_SCALE)} contracts).")
        else:
            lines.append(f"Hedge: {fp.format_decimal(h.quantity, fp.QTY_SCALE)} {symbol} lowers MM from "
                         f"{usd(h.mm_before, fp.EQUITY_SCALE)} to {usd(h.mm_after, fp.EQUITY_SCALE)} USD.")
    return lines
