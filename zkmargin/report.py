"""Human-readable margin breakdown (tables for the terminal) and the shortfall message."""

from __future__ import annotations

from dataclasses import asdict
from decimal import Decimal
from typing import Any

from zkmargin import fixedpoint as fp
from zkmargin.book import Book
from zkmargin.models import RiskSnapshot
from zkmargin.isolated import IsolatedResult
from zkmargin.margin import Comparison
from zkmargin.portfolio import MarginResult
from zkmargin.terms import Health


def usd(x: int, scale: int) -> str:
    """An integer at ``scale`` as USD with cents and thousands separators (display only)."""
    return f"{Decimal(x) / scale:,.2f}"


def result_json(result: Health) -> dict[str, Any]:
    """A model's result as ``zkmargin margin --json`` prints it: every field, plus ``healthy``."""
    return {**asdict(result), "healthy": result.healthy}


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]
    fmt = lambda r: "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths)))  # noqa: E731
    return [fmt(header), fmt(["-" * w for w in widths]), *(fmt(r) for r in rows)]


def health_line(result: Health) -> str:
    """One line: healthy or not, health ratio, and the shortfall in USD when below."""
    ratio = "n/a (no requirement)" if result.health_bps is None else f"{result.health_bps / 10_000:.4f}x MM"
    need = f"{result.threshold_bps / 10_000:.2f}x"
    if result.healthy:
        return f"HEALTHY: equity is {ratio} (claimed {need})"
    shortfall = -result.health // fp.BPS  # EQUITY_SCALE, rounded down
    return (f"BELOW MARGIN: equity is {ratio}, claimed {need}; equity falls short of "
            f"MM x {need} by {usd(shortfall, fp.EQUITY_SCALE)} USD")


def breakdown(result: MarginResult, book: Book, snapshot: RiskSnapshot, title: str = "") -> str:
    """The full breakdown: positions, collateral, per-group scenario scan, summary."""
    by_id = snapshot.instruments_by_id
    group_names = {g.id: g.underlying for g in snapshot.groups}
    out = [f"{title or 'account'} under {snapshot.venue} epoch {snapshot.epoch} "
           f"({len(snapshot.scenarios)} scenarios)", ""]
    rows = [[by_id[s.instrument].symbol, fp.format_decimal(s.qty, fp.QTY_SCALE),
             usd(v, fp.VALUE_SCALE), usd(a, fp.VALUE_SCALE)]
            for s, v, a in zip(book.slots, result.position_value, result.addon) if s.instrument]
    out += _table(["position", "qty", "value USD", "add-on USD"], rows) + [""]
    rows = [[c.symbol, fp.format_decimal(b, fp.AMOUNT_SCALE), usd(v, fp.EQUITY_SCALE)]
            for c, b, v in zip(snapshot.collateral, book.balances, result.collateral_value) if b]
    out += _table(["collateral", "amount", "value after MM haircut USD"], rows) + [""]
    labels = [s.label for s in snapshot.scenarios]
    live = [g for g, gid in enumerate(book.group_ids) if gid]
    if live:
        rows = [[labels[s]] + [usd(result.group_pnl[g][s], fp.VALUE_SCALE) for g in live]
                for s in range(len(labels))]
        out += _table(["scenario P&L USD"] + [group_names[book.group_ids[g]] for g in live], rows) + [""]
        rows = [[group_names[book.group_ids[g]], usd(result.scan_loss[g], fp.VALUE_SCALE),
                 labels[result.worst_scenario[g]] if result.worst_scenario[g] >= 0 else "-",
                 usd(result.group_som[g], fp.VALUE_SCALE), usd(result.group_req[g], fp.VALUE_SCALE)]
                for g in live]
        out += _table(["group", "scanning loss", "worst scenario", "short-opt min", "requirement"], rows) + [""]
    out += _table(["component", "USD"], [
        ["equity (MM haircuts)", usd(result.equity, fp.EQUITY_SCALE)],
        ["equity (IM haircuts)", usd(result.equity_im, fp.EQUITY_SCALE)],
        ["add-ons", usd(sum(result.addon), fp.VALUE_SCALE)],
        ["initial margin (IM)", usd(result.im, fp.VALUE_SCALE)],
        [f"maintenance margin (MM = {book.mm_factor_bps / 100:g}% IM)", usd(result.mm, fp.EQUITY_SCALE)],
    ])
    return "\n".join(out + ["", health_line(result)])


def slot_ratio(result: IsolatedResult, k: int) -> str:
    """Slot ``k``'s equity / MM under isolated margin, rounded down to 1 bp ("-" without requirement)."""
    mm = result.slot_mm[k]
    return "-" if mm == 0 else f"{fp.BPS * result.slot_equity[k] // mm / fp.BPS:,.4f}x"


def isolated_breakdown(result: IsolatedResult, book: Book, snapshot: RiskSnapshot, title: str = "") -> str:
    """Isolated margin per position: allocated collateral, its equity and MM, pass or fail."""
    by_id = snapshot.instruments_by_id
    rows = []
    for k, s in enumerate(book.slots):
        if not s.instrument:
            continue
        asset = snapshot.collateral[s.alloc_asset].symbol
        rows.append([by_id[s.instrument].symbol,
                     f"{fp.format_decimal(s.alloc_amount, fp.AMOUNT_SCALE)} {asset}" if s.alloc_amount else "-",
                     usd(result.slot_equity[k], fp.EQUITY_SCALE), usd(result.slot_mm[k], fp.EQUITY_SCALE),
                     slot_ratio(result, k), "pass" if result.slot_health[k] >= 0 else "FAIL"])
    below = [r[0] for r in rows if r[-1] == "FAIL"]
    need = f"{result.threshold_bps / 10_000:.2f}x"
    verdict = (f"HEALTHY: every position meets its own MM x {need}" if not below else
               f"BELOW MARGIN: {len(below)} of {len(rows)} positions miss their own MM x {need}: {', '.join(below)}")
    header = ["position", "allocated", "equity USD", "MM USD", "equity/MM", f"meets MM x {need}"]
    return "\n".join([f"{title or 'account'} under the isolated model ({snapshot.venue} epoch {snapshot.epoch}): "
                      "each position against its own collateral", "", *_table(header, rows), "", verdict])


def comparison_table(comparison: Comparison, title: str) -> str:
    """IM, MM, equity and health per model, and the margin each saves against isolated."""
    rows = []
    for name, r in comparison.results.items():
        saved, pct = comparison.saved_vs_isolated(name)
        rows.append([name, usd(r.im, fp.VALUE_SCALE), usd(r.mm, fp.EQUITY_SCALE), usd(r.equity, fp.EQUITY_SCALE),
                     "-" if r.health_bps is None else f"{r.health_bps / 10_000:.3f}x",
                     "yes" if r.healthy else "NO", usd(saved, fp.EQUITY_SCALE),
                     "-" if pct is None else f"{pct:.1f}%"])
    header = ["model", "IM USD", "MM USD", "equity USD", "equity/MM", "healthy", "MM saved vs isolated", "%"]
    return "\n".join([f"{title}: margin under each model", "", *_table(header, rows)])
