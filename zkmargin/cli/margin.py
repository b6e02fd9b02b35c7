"""``zkmargin margin``: the margin breakdown of an account (exit 0 healthy, 1 below)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from zkmargin.cli.options import threshold_option


@click.command("margin", short_help="Compute portfolio margin of ACCOUNT under SNAPSHOT.")
@click.argument("account", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("snapshot", type=click.Path(dir_okay=False, path_type=Path))
@threshold_option
@click.option("--json", "as_json", is_flag=True, help="Print every intermediate as JSON (integers, fixed point).")
def command(account: Path, snapshot: Path, threshold_bps: int, as_json: bool) -> None:
    """Print the breakdown; exit 0 if equity covers MM x threshold, 1 if not."""
    from dataclasses import asdict

    from zkmargin.book import resolve
    from zkmargin.io import load_model
    from zkmargin.models import Account, RiskSnapshot
    from zkmargin.portfolio import portfolio_margin
    from zkmargin.report import breakdown

    acc = load_model(Account, account)
    snap = load_model(RiskSnapshot, snapshot)
    book = resolve(acc, snap)
    result = portfolio_margin(book, threshold_bps)
    if as_json:
        click.echo(json.dumps({**asdict(result), "healthy": result.healthy}, indent=2))
    else:
        click.echo(breakdown(result, book, snap, acc.name or account.stem))
    click.get_current_context().exit(0 if result.healthy else 1)
