"""``zkmargin prove``: a margin proof bundle for one account."""

from __future__ import annotations

from pathlib import Path

import click

from zkmargin.bundle import Backend
from zkmargin.cli.options import (
    backend_option,
    model_option,
    profile_option,
    threshold_option,
)


@click.command("prove", short_help="Prove ACCOUNT meets margin under SNAPSHOT.")
@click.argument("account", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("snapshot", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Proof bundle JSON to write.")
@model_option
@profile_option
@threshold_option
@backend_option
def command(account: Path, snapshot: Path, out: Path, model: str, profile: str, threshold_bps: int,
            backend: Backend) -> None:
    """Fail (exit 1) with the shortfall if the account is below the threshold; else write a bundle."""
    from prover.circuits import MarginCircuit
    from prover.margin import MarginProver, load_keys
    from zkmargin.errors import BelowMarginError
    from zkmargin.files import check_output_file
    from zkmargin.io import load_model, save_model
    from zkmargin.models import Account, RiskSnapshot

    check_output_file(out)
    acc = load_model(Account, account)
    snap = load_model(RiskSnapshot, snapshot)
    circuit = MarginCircuit.named(model, profile)
    prover = MarginProver(circuit, load_keys(circuit), backend)
    click.echo(f"prove {circuit.circuit_id}: keys checked; engine, witness, then the Groth16 proof ({backend}, "
               "a few seconds)", err=True)
    try:
        bundle = prover.prove(acc, snap, threshold_bps)
    except BelowMarginError as e:
        click.echo(f"not proven: {e}", err=True)
        click.get_current_context().exit(1)
    save_model(bundle, out)
    t = prover.timings
    click.echo(f"wrote {out}: {bundle.circuit_id}, commitment {bundle.public_signals.account_commitment} "
               f"(engine {t.engine:.2f} s, witness {t.witness:.2f} s, prove ({backend}) {t.prove:.2f} s)")
