"""``zkmargin schema``: print or write the JSON Schemas of the edge models."""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.command("schema", short_help="Print the JSON Schemas of the edge models (account, ledger, statement, epoch, ...).")
@click.argument("name", required=False, type=click.Choice(["account", "snapshot", "bundle", "market", "methodology",
                                                                 "ledger-entry", "statement", "epoch"]))
@click.option("-o", "--out-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write one <name>.schema.json per model into this folder instead of printing.")
def command(name: str | None, out_dir: Path | None) -> None:
    """Print the JSON Schema of one model (or all of them)."""
    from zkmargin.bundle import ProofBundle
    from zkmargin.files import check_output_dir
    from zkmargin.io import dump_json
    from zkmargin.market import Market
    from zkmargin.methodology import Methodology
    from zkmargin.models import Account, Epoch, LedgerEntry, RiskSnapshot, Statement

    models = {"account": Account, "snapshot": RiskSnapshot, "bundle": ProofBundle, "market": Market,
              "methodology": Methodology, "ledger-entry": LedgerEntry, "statement": Statement, "epoch": Epoch}
    chosen = {name: models[name]} if name else models
    schemas = {k: m.model_json_schema() for k, m in chosen.items()}
    if out_dir is None:
        click.echo(json.dumps(schemas[name] if name else schemas, indent=2))
        return
    check_output_dir(out_dir)
    for k, s in schemas.items():
        dump_json(s, out_dir / f"{k}.schema.json")
        click.echo(f"wrote {out_dir / f'{k}.schema.json'}")
