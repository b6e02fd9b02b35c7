"""``zkmargin prove``: a margin proof bundle for the account a venue attested in an epoch."""

from __future__ import annotations

from pathlib import Path

import click

from zkmargin.bundle import Backend
from zkmargin.cli.options import backend_option, model_option, profile_option, threshold_option

File = click.Path(dir_okay=False, path_type=Path)


@click.command("prove", short_help="Prove the account of a venue STATEMENT meets margin under SNAPSHOT.")
@click.argument("statement", type=File)
@click.argument("snapshot", type=File)
@click.option("--epoch-file", "epoch_file", required=True, type=File,
              help="The venue's signed epoch.json: its account root and snapshot root must match.")
@click.option("-o", "--out", required=True, type=File, help="Proof bundle JSON to write.")
@model_option
@profile_option
@threshold_option
@backend_option
def command(statement: Path, snapshot: Path, epoch_file: Path, out: Path, model: str, profile: str,
            threshold_bps: int, backend: Backend) -> None:
    """Fail (exit 1) with the shortfall if the account is below the threshold; else write a bundle."""
    from prover.circuits import MarginCircuit
    from prover.margin import MarginProver, load_keys
    from zkmargin.errors import BelowMarginError, InputError
    from zkmargin.files import check_output_file
    from zkmargin.io import load_model, save_model
    from zkmargin.models import Epoch, RiskSnapshot, Statement

    check_output_file(out)
    st = load_model(Statement, statement)
    snap = load_model(RiskSnapshot, snapshot)
    epoch = load_model(Epoch, epoch_file)
    if not st.epoch == epoch.epoch == snap.epoch:
        raise InputError(f"epochs differ: statement {st.epoch}, epoch file {epoch.epoch}, snapshot {snap.epoch}")
    if st.account_root != epoch.account_root:
        raise InputError(f"{statement}: account root {st.account_root} is not the epoch's ({epoch.account_root})")
    signed = epoch.snapshot_roots.get(profile)
    if signed is None:
        raise InputError(f"{epoch_file}: the venue publishes no snapshot root for profile {profile}")
    circuit = MarginCircuit.named(model, profile)
    prover = MarginProver(circuit, load_keys(circuit), backend)
    # the prover's own (cached) commitment: the root is computed once, here, and reused to prove
    if prover.commitment(snap).root != signed:
        raise InputError(f"{snapshot}: not the snapshot the venue signed for epoch {epoch.epoch} (profile {profile})")
    click.echo(f"prove {circuit.circuit_id}: keys checked; engine, witness, then the Groth16 proof ({backend}, "
               "a few seconds)", err=True)
    try:
        bundle = prover.prove(st, snap, threshold_bps)
    except BelowMarginError as e:
        click.echo(f"not proven: {e}", err=True)
        click.get_current_context().exit(1)
    save_model(bundle, out)
    t = prover.timings
    click.echo(f"wrote {out}: {bundle.circuit_id}, holder {st.model_dump(mode='json')['holder']}, epoch {bundle.epoch}, "
               f"threshold {threshold_bps} bps (engine {t.engine:.2f} s, witness {t.witness:.2f} s, "
               f"prove ({backend}) {t.prove:.2f} s)")
