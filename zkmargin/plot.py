"""Margin figures as pictures (matplotlib, optional extra ``plot``), and the style they share.

Every chart follows the same rules: a legend entry for every colour, USD axes with thousands
separators and no offset or scientific notation, scenario labels horizontal and readable, the
requirement drawn as a line where it applies, and the snapshot's venue and epoch in the title.

:func:`plot_comparison` is ``zkmargin margin --model all --plot``: per risk group the portfolio
scenario P&L with the group's requirement, then IM and MM per model against equity. The risk
report's panels (:mod:`zkmargin.riskcharts`) reuse :func:`scenario_panel`.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from zkmargin import fixedpoint as fp
from zkmargin.book import Book
from zkmargin.errors import InputError, OutputError
from zkmargin.isolated import IsolatedResult
from zkmargin.margin import Comparison
from zkmargin.models import RiskSnapshot
from zkmargin.portfolio import MarginResult
from zkmargin.terms import Health

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.axis import Axis
    from matplotlib.figure import Figure

#: One colour per meaning, shared by every chart (and named in every legend).
COLORS = {
    "gain": "#4c9a5b", "loss": "#e39b3d", "worst": "#c0392b", "worst_not_binding": "#f0b7ae",
    "scan": "#3b6ea8", "som": "#8e44ad", "addon": "#7f8c8d", "im": "#5d6d7e", "mm": "#2c3e50",
    "equity": "#27ae60", "call": "#c0392b",
}


def pyplot() -> ModuleType:
    """matplotlib's pyplot on the Agg backend; :class:`InputError` if matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise InputError("charts need matplotlib: pip install 'zkmargin[plot]'") from None
    return plt


def usd_text(x: float) -> str:
    """USD with thousands separators and no decimals, for chart labels."""
    return f"{x:,.0f}"


def usd_axis(axis: Axis) -> None:
    """Label an axis in USD: thousands separators, never an offset or 1e6 notation."""
    from matplotlib.ticker import FuncFormatter

    axis.set_major_formatter(FuncFormatter(lambda x, _pos: usd_text(x)))


def snapshot_title(snapshot: RiskSnapshot, title: str) -> str:
    """``title``, venue, epoch and scenario count: every figure's suptitle."""
    return f"{title} - {snapshot.venue} epoch {snapshot.epoch} ({len(snapshot.scenarios)} scenarios)"


def scenario_panel(ax: Axes, result: MarginResult, g: int, snapshot: RiskSnapshot, group_name: str) -> None:
    """Group ``g``'s scenario P&L as horizontal bars (one labelled row per scenario), the worst
    scenario marked, and the group's requirement drawn as a loss line named after its binding term."""
    from matplotlib.patches import Patch

    labels = [s.label for s in snapshot.scenarios]
    pnl = [x / fp.VALUE_SCALE for x in result.group_pnl[g][: len(labels)]]
    worst = result.worst_scenario[g]
    scan, som, req = (x[g] / fp.VALUE_SCALE for x in (result.scan_loss, result.group_som, result.group_req))
    som_binds = result.group_som[g] > result.scan_loss[g]
    worst_color = COLORS["worst_not_binding"] if som_binds else COLORS["worst"]
    colors = [worst_color if k == worst else COLORS["gain"] if v >= 0 else COLORS["loss"] for k, v in enumerate(pnl)]
    rows = range(len(pnl))
    ax.barh(rows, pnl, color=colors)
    ax.set_yticks(list(rows), labels, fontsize=8)
    ax.invert_yaxis()
    ax.axvline(0, color="black", linewidth=0.8)
    handles = [Patch(color=COLORS["gain"], label="scenario gain"), Patch(color=COLORS["loss"], label="scenario loss")]
    if worst >= 0:
        handles.append(Patch(color=worst_color, label=f"worst scenario: loss {usd_text(scan)}"
                             + (" (not binding)" if som_binds else " (binding)")))
    if req:
        term = "short-option minimum" if som_binds else "scanning loss"
        ax.axvline(-req, color=COLORS["som"] if som_binds else COLORS["scan"], linestyle="--", linewidth=1.5)
        handles.append(Patch(color=COLORS["som"] if som_binds else COLORS["scan"],
                             label=f"requirement -{usd_text(req)} = {term}"))
    if som and not som_binds:
        handles.append(Patch(color="white", label=f"short-option minimum {usd_text(som)} (not binding)"))
    usd_axis(ax.xaxis)
    ax.set_xlabel("P&L, USD (weighted as in the risk arrays)")
    ax.set_title(f"{group_name}: scenario P&L")
    ax.legend(handles=handles, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncols=2)


def health_text(result: Health) -> str:
    """Health in a few words: the ratio to MM, or for isolated margin the positions below their own MM."""
    if isinstance(result, IsolatedResult):
        below = sum(h < 0 for h in result.slot_health)
        return f"{below} of {len(result.slot_health)} positions below own MM" if below else "every position meets its MM"
    return "no requirement" if result.health_bps is None else f"{result.health_bps / fp.BPS:,.2f}x MM"


def models_panel(ax: Axes, comparison: Comparison) -> None:
    """IM and MM per model beside equity, with each model's health and the equity line."""
    models = list(comparison.results)
    im = [comparison.results[m].im / fp.VALUE_SCALE for m in models]
    mm = [comparison.results[m].mm / fp.EQUITY_SCALE for m in models]
    equity = comparison.results[models[0]].equity / fp.EQUITY_SCALE
    x = list(range(len(models)))
    ax.bar([i - 0.2 for i in x], im, width=0.4, color=COLORS["im"], label="initial margin (IM)")
    ax.bar([i + 0.2 for i in x], mm, width=0.4, color=COLORS["mm"], label="maintenance margin (MM)")
    ax.axhline(equity, color=COLORS["equity"], linewidth=2, label=f"pooled equity {usd_text(equity)}")
    for i, m in enumerate(models):
        ax.annotate(f"MM {usd_text(mm[i])}\n{health_text(comparison.results[m])}", (i, max(im[i], mm[i])),
                    ha="center", va="bottom", fontsize=8)
    ax.set_xticks(x, models)
    ax.margins(y=0.2)
    usd_axis(ax.yaxis)
    ax.set_ylabel("USD")
    ax.set_title("requirement per model (isolated: equity per position)")
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.08), ncols=3)


def save(fig: Figure, path: Path) -> None:
    """Write ``fig`` to ``path`` (format by suffix) and release it."""
    plt = pyplot()
    try:
        fig.savefig(path, dpi=110)
    except OSError as e:
        raise OutputError(f"cannot write {path}: {e.strerror or e}") from None
    finally:
        plt.close(fig)


def plot_comparison(path: Path, comparison: Comparison, book: Book, snapshot: RiskSnapshot, title: str) -> None:
    """Write the comparison figure to ``path`` (PNG, SVG or PDF by suffix)."""
    plt = pyplot()
    portfolio = comparison.results["portfolio"]
    assert isinstance(portfolio, MarginResult)
    live = [g for g, gid in enumerate(book.group_ids) if gid]
    names = {g.id: g.underlying for g in snapshot.groups}
    height = max(5.0, 0.28 * len(snapshot.scenarios) + 1.5)
    fig, axes = plt.subplots(1, len(live) + 1, figsize=(7 * (len(live) + 1), height), squeeze=False,
                             layout="constrained")
    for ax, g in zip(axes[0], live):
        scenario_panel(ax, portfolio, g, snapshot, names[book.group_ids[g]])
    models_panel(axes[0][-1], comparison)
    fig.suptitle(snapshot_title(snapshot, title))
    save(fig, path)
