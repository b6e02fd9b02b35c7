"""``zkmargin snapshot build``: market data -> integer risk snapshot (+ its roots)."""

from __future__ import annotations

from pathlib import Path

import click

from zkmargin.cli.options import methodology_option, profile_option


@click.group("snapshot", short_help="Build and inspect risk snapshots.")
def command() -> None:
    """Build and inspect risk snapshots."""


@command.command("build", short_help="Compute risk arrays from MARKET.json into a snapshot.")
@click.argument("market", type=click.Path(dir_okay=False, path_type=Path))
@methodology_option
@click.option("-o", "--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Snapshot JSON to write.")
def build(market: Path, methodology: str, out: Path) -> None:
    """Quantize Black-76 / linear risk arrays into the canonical integer snapshot."""
    from zkmargin.files import check_output_file
    from zkmargin.io import save_model
    from zkmargin.methodology import load_methodology
    from zkmargin.snapshot_builder import build_snapshot, load_market

    check_output_file(out)
    method = load_methodology(methodology)
    snap = build_snapshot(load_market(market), method)
    save_model(snap, out)
    click.echo(f"wrote {out}: epoch {snap.epoch}, {len(snap.instruments)} instruments, "
               f"{len(snap.scenarios)} scenarios, {len(snap.collateral)} collateral assets ({method.name})")
    pending = method.pending_rules()
    if pending:
        click.echo(f"note: portfolio-level rules not applied (no circuit support yet, docs/methodologies.md): "
                   f"{', '.join(pending)}")


@command.command("root", short_help="Print the snapshot root a proof must use.")
@click.argument("snapshot", type=click.Path(dir_okay=False, path_type=Path))
@profile_option
def root(snapshot: Path, profile: str) -> None:
    """Print the snapshot root under a profile (the venue publishes this per epoch)."""
    from zkmargin.commitment import SnapshotCommitment
    from zkmargin.io import load_model
    from zkmargin.models import RiskSnapshot
    from zkmargin.profiles import get_profile

    click.echo(SnapshotCommitment(load_model(RiskSnapshot, snapshot), get_profile(profile)).root)
