"""The margin comparison as a picture (matplotlib, optional extra ``plot``).

Left: per risk group, the portfolio scenario P&L bars with the worst scenario marked. Right: IM
and MM under each model beside the account's equity.
"""

from __future__ import annotations

from pathlib import Path

from zkmargin import fixedpoint as fp
from zkmargin.book import Book
from zkmargin.errors import InputError, OutputError
from zkmargin.margin import Comparison
from zkmargin.models import RiskSnapshot
from zkmargin.portfolio import MarginResult


def plot_comparison(path: Path, comparison: Comparison, book: Book, snapshot: RiskSnapshot, title: str) -> None:
    """Write the comparison figure to ``path`` (PNG, SVG or PDF by suffix)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise InputError("--plot needs matplotlib: pip install 'zkmargin[plot]'") from None
    portfolio = comparison.results["portfolio"]
    assert isinstance(portfolio, MarginResult)
    live = [g for g, gid in enumerate(book.group_ids) if gid]
    names = {g.id: g.underlying for g in snapshot.groups}
    labels = [s.label for s in snapshot.scenarios]
    fig, axes = plt.subplots(1, len(live) + 1, figsize=(6 * (len(live) + 1), 5), squeeze=False)
    for ax, g in zip(axes[0], live):
        pnl = [x / fp.VALUE_SCALE for x in portfolio.group_pnl[g][: len(labels)]]
        worst = portfolio.worst_scenario[g]
        colors = ["tab:red" if k == worst else ("tab:green" if v >= 0 else "tab:orange") for k, v in enumerate(pnl)]
        ax.bar(range(len(pnl)), pnl, color=colors)
        ax.set_xticks(range(len(pnl)), labels, rotation=75, fontsize=7)
        ax.axhline(0, color="black", linewidth=0.8)
        ax.set_title(f"{names[book.group_ids[g]]}: scenario P&L (USD), worst in red")
    ax = axes[0][-1]
    models = list(comparison.results)
    im = [comparison.results[m].im / fp.VALUE_SCALE for m in models]
    mm = [comparison.results[m].mm / fp.EQUITY_SCALE for m in models]
    eq = [comparison.results[m].equity / fp.EQUITY_SCALE for m in models]
    x = range(len(models))
    ax.bar([i - 0.27 for i in x], im, width=0.27, label="IM")
    ax.bar(list(x), mm, width=0.27, label="MM")
    ax.bar([i + 0.27 for i in x], eq, width=0.27, label="equity")
    ax.set_xticks(list(x), models)
    ax.set_title("requirement per model (USD)")
    ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    try:
        fig.savefig(path)
    except OSError as e:
        raise OutputError(f"cannot write {path}: {e.strerror or e}") from None
    finally:
        plt.close(fig)
