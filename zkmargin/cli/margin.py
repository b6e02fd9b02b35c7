"""``zkmargin margin``: the margin of an account under one model or all three.

Exit 0 if the account meets the threshold under the chosen model (with ``all``: under portfolio
margin), 1 if not.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from zkmargin.cli.options import MODELS, threshold_option


@click.command("margin", short_help="Compute margin of ACCOUNT under SNAPSHOT.")
@click.argument("account", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("snapshot", type=click.Path(dir_okay=False, path_type=Path))
@threshold_option
@click.option("--model", default="portfolio", show_default=True,
              type=click.Choice([*MODELS, "all"]),
              help="Margin model; 'all' compares the three side by side.")
@click.option("--json", "as_json", is_flag=True, help="Print every intermediate as JSON (integers, fixed point).")
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path),
              help="With --model all: write a PNG of the scenario P&L and the requirement per model.")
def command(account: Path, snapshot: Path, threshold_bps: int, model: str, as_json: bool, plot: Path | None) -> None:
    """Print the breakdown (or the comparison) and exit 0 if healthy, 1 if not."""
    from zkmargin.book import resolve
    from zkmargin.errors import InputError
    from zkmargin.files import check_output_file
    from zkmargin.io import load_account, load_model
    from zkmargin.margin import compare, margin_model
    from zkmargin.models import RiskSnapshot
    from zkmargin.isolated import IsolatedResult
    from zkmargin.portfolio import MarginResult
    from zkmargin.report import breakdown, comparison_table, health_line, isolated_breakdown, result_json

    if plot is not None:
        check_output_file(plot, "--plot")
    acc = load_account(account)
    snap = load_model(RiskSnapshot, snapshot)
    book = resolve(acc, snap)
    title = acc.name or account.stem
    if plot is not None and model != "all":
        raise InputError("--plot needs --model all")
    if model == "all":
        comparison = compare(book, threshold_bps)
        if as_json:
            click.echo(json.dumps({k: result_json(v) for k, v in comparison.results.items()}, indent=2))
        else:
            click.echo(comparison_table(comparison, title))
        if plot is not None:
            from zkmargin.plot import plot_comparison

            plot_comparison(plot, comparison, book, snap, title)
            click.echo(f"wrote {plot}")
        result = comparison.results["portfolio"]
    else:
        result = margin_model(model)(book, threshold_bps)
        if as_json:
            click.echo(json.dumps(result_json(result), indent=2))
        elif isinstance(result, MarginResult):
            click.echo(breakdown(result, book, snap, title))
        elif isinstance(result, IsolatedResult):
            click.echo(isolated_breakdown(result, book, snap, title))
        else:
            click.echo(f"{title} under the {model} model\n{health_line(result)}")
    click.get_current_context().exit(0 if result.healthy else 1)
