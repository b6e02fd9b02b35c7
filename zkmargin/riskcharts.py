"""The risk report's charts (matplotlib): what sets the margin, the scenario heat map per group,
and P&L versus the move of each underlying with the margin-call level.

Why matplotlib: it is already the ``plot`` extra, it renders without a browser or a network, and
its SVG output draws text as paths, so the HTML report embeds every chart inline and shows it
offline with no font or script to fetch (plotly or Vega would inline megabytes of JavaScript).
Each panel draws on an :class:`~matplotlib.axes.Axes`; :func:`panel_svg` puts one panel in its
own SVG (HTML report), :func:`report_figure` all of them in one PNG (``--format png``).
"""

from __future__ import annotations

import io
from functools import partial
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from zkmargin import fixedpoint as fp
from zkmargin.plot import COLORS, models_panel, pyplot, save, scenario_panel, snapshot_title, usd_axis, usd_text
from zkmargin.riskreport import SCAN, SOM, GroupRow, RiskReport

if TYPE_CHECKING:
    from matplotlib.axes import Axes

Panel = Callable[["Axes"], None]


def _usd(x: int, scale: int) -> float:
    return x / scale


def margin_panel(ax: Axes, report: RiskReport) -> None:
    """Horizontal bars: each group's scanning loss and short-option minimum (the binding one
    solid, the other hatched), IM stacked from the binding terms and the add-ons, MM, equity."""
    from matplotlib.patches import Patch

    r = report.portfolio
    rows: list[str] = []
    for g in report.groups:
        for term, value, color in ((SCAN, r.scan_loss[g.index], COLORS["scan"]),
                                   (SOM, r.group_som[g.index], COLORS["som"])):
            binds = g.binding == term
            y = len(rows)
            rows.append(f"{g.name} {term}")
            v = _usd(value, fp.VALUE_SCALE)
            ax.barh(y, v, color=color if binds else "white", edgecolor=color, hatch=None if binds else "//")
            ax.annotate(f" {usd_text(v)}" + (" binds" if binds else " not binding"), (v, y), va="center", fontsize=8)
    y = len(rows)
    rows.append("IM")
    left = 0.0
    for g in report.groups:
        v = _usd(r.group_req[g.index], fp.VALUE_SCALE)
        ax.barh(y, v, left=left, color=COLORS["som"] if g.binding == SOM else COLORS["scan"])
        left += v
    addons = _usd(sum(r.addon), fp.VALUE_SCALE)
    ax.barh(y, addons, left=left, color=COLORS["addon"])
    ax.annotate(f" {usd_text(left + addons)}", (left + addons, y), va="center", fontsize=8)
    mm, equity = _usd(r.mm, fp.EQUITY_SCALE), _usd(r.equity, fp.EQUITY_SCALE)
    for label, v, color in ((f"MM = {report.book.mm_factor_bps / 100:g}% IM", mm, COLORS["mm"]),
                            ("equity (MM haircuts)", equity, COLORS["equity"])):
        ax.barh(len(rows), v, color=color)
        ax.annotate(f" {usd_text(v)}", (v, len(rows)), va="center", fontsize=8)
        rows.append(label)
    ax.axvline(mm, color=COLORS["mm"], linestyle="--", linewidth=1)
    ax.set_yticks(range(len(rows)), rows, fontsize=9)
    ax.invert_yaxis()
    usd_axis(ax.xaxis)
    ax.set_xlabel("USD")
    ax.margins(x=0.25)
    ax.set_title("What sets the margin")
    ax.legend(handles=[Patch(color=COLORS["scan"], label="scanning loss (binding)"),
                       Patch(color=COLORS["som"], label="short-option minimum (binding)"),
                       Patch(facecolor="white", edgecolor="black", hatch="//", label="not binding"),
                       Patch(color=COLORS["addon"], label="add-ons"),
                       Patch(color=COLORS["mm"], label="maintenance margin (dashed: MM level)"),
                       Patch(color=COLORS["equity"], label="equity")],
              fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.15), ncols=3)


def heatmap_panel(ax: Axes, report: RiskReport, group: GroupRow) -> None:
    """Group P&L per scenario on a price-shock x vol-shock grid (the group's own shocks and
    weights, :meth:`RiskReport.scenarios_of`); the worst scenario outlined (solid when its loss is
    the requirement, dashed when the short-option minimum binds instead). When two scenarios share
    a cell the worse P&L is shown; empty cells are scenarios not in the grid."""
    import numpy as np
    from matplotlib.colors import TwoSlopeNorm
    from matplotlib.patches import Patch, Rectangle

    scenarios = report.scenarios_of(group.group)
    pnl = report.portfolio.group_pnl[group.index]
    prices = sorted({s.price_shock_bps for s in scenarios})
    vols = sorted({s.vol_shock_bps for s in scenarios}, reverse=True)
    grid = np.full((len(vols), len(prices)), np.nan)
    cell_of: dict[tuple[int, int], int] = {}
    for k, s in enumerate(scenarios):
        at = (vols.index(s.vol_shock_bps), prices.index(s.price_shock_bps))
        if at not in cell_of or pnl[k] < pnl[cell_of[at]]:
            cell_of[at] = k
            grid[at] = pnl[k] / fp.VALUE_SCALE
    span = max(1.0, float(np.nanmax(np.abs(grid))))
    image = ax.imshow(grid, cmap="RdYlGn", norm=TwoSlopeNorm(0.0, -span, span), aspect="auto")
    for (row, col), k in cell_of.items():
        weight = scenarios[k].weight_bps
        note = "" if weight == fp.BPS else f"\nx{weight / fp.BPS:g}"
        ax.text(col, row, f"{usd_text(grid[row, col])}{note}", ha="center", va="center", fontsize=7)
    worst = report.portfolio.worst_scenario[group.index]
    handles = [Patch(facecolor="#dddddd", label="no scenario")]
    if worst >= 0:
        row, col = next(at for at, k in cell_of.items() if k == worst)
        binds = group.binding == SCAN
        ax.add_patch(Rectangle((col - 0.5, row - 0.5), 1, 1, fill=False, edgecolor="black", linewidth=2.5,
                               linestyle="-" if binds else "--"))
        handles.append(Patch(facecolor="white", edgecolor="black", linestyle="-" if binds else "--",
                             label="worst scenario" + (" (sets the requirement)" if binds else " (not binding)")))
    ax.set_facecolor("#dddddd")
    ax.set_xticks(range(len(prices)), [f"{p / 100:+g}%" for p in prices], fontsize=8)
    ax.set_yticks(range(len(vols)), [f"vol {v / 100:+g}%" for v in vols], fontsize=8)
    ax.set_xlabel("price shock of the underlying (xW: counted at weight W)")
    req = report.portfolio.group_req[group.index] / fp.VALUE_SCALE
    ax.set_title(f"{group.name}: scenario P&L (USD); requirement {usd_text(req)} = {group.binding}", fontsize=10)
    bar = ax.figure.colorbar(image, ax=ax, fraction=0.04)
    usd_axis(bar.ax.yaxis)
    bar.set_label("P&L, USD")
    ax.legend(handles=handles, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=2)


def curve_panel(ax: Axes, report: RiskReport, group: GroupRow) -> None:
    """P&L of the account against the move of one underlying, with the margin-call level (the P&L
    at which equity meets the repriced MM) and the reported distances marked."""
    from matplotlib.ticker import FuncFormatter

    curve = report.curves[group.group]
    calls = report.calls
    assert calls is not None
    equity0 = report.portfolio.equity / fp.EQUITY_SCALE
    moves = [m / 100 for m in curve.magnitudes]
    pnl = [p.equity / fp.EQUITY_SCALE - equity0 for p in curve.points]
    call_level = [p.result.mm / fp.EQUITY_SCALE - equity0 for p in curve.points]
    ax.plot(moves, pnl, color=COLORS["equity"], linewidth=2, label="P&L of the account (repriced, VM settled)")
    ax.plot(moves, call_level, color=COLORS["mm"], linestyle="--", label="margin-call level: MM after the move - equity")
    ax.fill_between(moves, pnl, call_level, where=[p < c for p, c in zip(pnl, call_level)], color=COLORS["call"],
                    alpha=0.25, label="margin call (health < 100%)")
    for d in (calls.down[group.group], calls.up[group.group]):
        if d.move_bps is not None:
            x = d.moves(d.move_bps)[group.group] / 100
            ax.axvline(x, color=COLORS["call"], linewidth=1)
            ax.annotate(f"call at {x:+.2f}%", (x, ax.get_ylim()[1]), rotation=90, va="top", ha="right", fontsize=8)
    ax.axhline(0, color="black", linewidth=0.6)
    usd_axis(ax.yaxis)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: f"{x:+g}%"))
    ax.set_xlabel(f"move of {group.name} (sticky-strike vols, no time decay)")
    ax.set_ylabel("USD")
    ax.set_title(f"{group.name}: P&L versus move, and the margin call")
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.18), ncols=2)


def panels(report: RiskReport) -> list[tuple[str, Panel, tuple[float, float]]]:
    """Every chart of the report: (caption, drawing function, size in inches), in report order."""
    scenario_rows = len(report.snapshot.scenarios)
    out: list[tuple[str, Panel, tuple[float, float]]] = [
        ("What sets the margin", partial(margin_panel, report=report), (9.0, 2.2 + 0.45 * (3 + 2 * len(report.groups))))]
    for g in report.groups:
        out.append((f"{g.name} scenario heat map", partial(heatmap_panel, report=report, group=g), (9.0, 3.6)))
        out.append((f"{g.name} scenario P&L", partial(scenario_panel, result=report.portfolio, g=g.index,
                                                       snapshot=report.snapshot, group_name=g.name),
                    (9.0, max(4.5, 0.26 * scenario_rows + 2.0))))
        if g.group in report.curves:
            out.append((f"{g.name} distance to a margin call", partial(curve_panel, report=report, group=g), (9.0, 4.6)))
    out.append(("Requirement per model", partial(models_panel, comparison=report.comparison), (9.0, 4.2)))
    return out


def panel_svg(draw: Panel, size: tuple[float, float]) -> str:
    """One panel as an inline ``<svg>`` element (text drawn as paths: no fonts needed)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=size, layout="constrained")
    draw(ax)
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]


def report_figure(report: RiskReport, path: Path) -> None:
    """Every panel stacked in one PNG (``--format png``), titled with the snapshot's venue and epoch."""
    plt = pyplot()
    items = panels(report)
    heights = [size[1] for _, _, size in items]
    fig, axes = plt.subplots(len(items), 1, figsize=(9.0, sum(heights) + 0.6), height_ratios=heights,
                             layout="constrained", squeeze=False)
    for ax, (_, draw, _) in zip(axes[:, 0], items):
        draw(ax)
    fig.suptitle(snapshot_title(report.snapshot, report.title))
    save(fig, path)
