"""``zkmargin snapshot build``: market data -> integer risk snapshot (+ its roots)."""

from __future__ import annotations

from pathlib import Path

import click

from zkmargin.cli.options import profile_option


@click.group("snapshot", short_help="Build and inspect risk snapshots.")
def command() -> None:
    """Build and inspect risk snapshots."""


@command.command("build", short_help="Compute risk arrays from MARKET.json into a snapshot.")
@click.argument("market", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--preset", default="span16", show_default=True, help="Scenario grid: span16 or deribit.")
@click.option("-o", "--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Snapshot JSON to write.")
def build(market: Path, preset: str, out: Path) -> None:
    """Quantize Black-76 / linear risk arrays into the canonical integer snapshot."""
    from zkmargin.files import check_output_file
    from zkmargin.io import save_model
    from zkmargin.snapshot_builder import build_snapshot, load_market

    check_output_file(out)
    snap = build_snapshot(load_market(market), preset)
    save_model(snap, out)
    click.echo(f"wrote {out}: epoch {snap.epoch}, {len(snap.instruments)} instruments, "
               f"{len(snap.scenarios)} scenarios, {len(snap.collateral)} collateral assets")


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
