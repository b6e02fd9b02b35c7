"""``zkmargin report``: the trader's risk report (HTML, PNG or JSON) of an account under a snapshot.

Health, what sets the margin, Greeks, scenario heat maps, distance to a margin call, what-if
trades and the hedge suggestion; every figure from the engine (:mod:`zkmargin.riskreport`).
Exit 0 once the report is written, whatever the account's health.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from zkmargin.cli.options import methodology_option, threshold_option

FORMATS = ("html", "png", "json")


@click.command("report", short_help="Write the risk report of ACCOUNT under SNAPSHOT.")
@click.argument("account", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("snapshot", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Report file to write.")
@click.option("--format", "fmt", type=click.Choice(FORMATS),
              help="html (self-contained), png (every chart in one image) or json (engine integers); "
                   "default: from the output's suffix.")
@click.option("--market", type=click.Path(dir_okay=False, path_type=Path), envvar="ZKMARGIN_MARKET",
              help="The snapshot's MARKET.json (spot, forwards, vols): adds Greeks and the distance to a margin "
                   "call; refused unless it reproduces the snapshot under --methodology. [env var: ZKMARGIN_MARKET]")
@methodology_option
@click.option("--add", "adds", multiple=True, metavar="SYMBOL:QTY",
              help="What-if trade in contracts, e.g. BTC-PERP:-2 (repeatable): new MM and health side by side.")
@threshold_option
def command(account: Path, snapshot: Path, output: Path, fmt: str | None, market: Path | None, methodology: str,
            adds: tuple[str, ...], threshold_bps: int) -> None:
    """Write the report and print why the margin is what it is."""
    from zkmargin.errors import InputError
    from zkmargin.files import check_output_file
    from zkmargin.io import load_account, load_model, write_atomic
    from zkmargin.market import load_market
    from zkmargin.methodology import load_methodology
    from zkmargin.models import RiskSnapshot
    from zkmargin.riskreport import build_report, explain, report_json
    from zkmargin.whatif import parse_trade

    fmt = fmt or output.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise InputError(f"{output}: cannot tell the format from the suffix; pass --format {'|'.join(FORMATS)}")
    check_output_file(output)
    acc = load_account(account)
    snap = load_model(RiskSnapshot, snapshot)
    report = build_report(acc, snap, title=acc.name or account.stem, threshold_bps=threshold_bps,
                          market=None if market is None else load_market(market),
                          methodology=load_methodology(methodology),
                          trades=[parse_trade(a, snap) for a in adds])
    if fmt == "json":
        write_atomic(output, json.dumps(report_json(report), indent=2) + "\n")
    elif fmt == "png":
        from zkmargin.riskcharts import report_figure

        report_figure(report, output)
    else:
        from zkmargin.reporthtml import render_html

        write_atomic(output, render_html(report))
    click.echo("\n".join(explain(report)))
    click.echo(f"wrote {output}")
