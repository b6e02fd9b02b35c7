"""``zkmargin setup``: Groth16 keys for a margin circuit (phase 2 on a prepared ptau)."""

from __future__ import annotations

from pathlib import Path

import click

from zkmargin.cli.options import model_option, profile_option, ptau_option


@click.command("setup", short_help="Make proving and verification keys for a circuit.")
@model_option
@profile_option
@ptau_option
def command(model: str, profile: str, ptau: Path | None) -> None:
    """groth16 setup + one contribution + beacon + zkey verify; writes a key manifest."""
    from prover.circuits import MarginCircuit
    from prover.margin import setup_circuit

    keys = setup_circuit(MarginCircuit.named(model, profile), ptau)
    state = "cached" if keys.cached else f"made in {keys.seconds:.1f} s"
    click.echo(f"{keys.circuit_id}: keys {state} -> {keys.zkey.parent}")
    click.echo(f"  verification key {keys.vk}, manifest {keys.manifest_path}")
