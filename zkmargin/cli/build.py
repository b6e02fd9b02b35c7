"""``zkmargin build``: compile a margin circuit (cached by source hash)."""

from __future__ import annotations

import click

from zkmargin.cli.options import model_option, profile_option


@click.command("build", short_help="Compile a margin circuit with circom (cached).")
@model_option
@profile_option
def command(model: str, profile: str) -> None:
    """Compile circuits/main/<model>_<profile>.circom to r1cs + wasm (O2)."""
    from prover.circuits import MarginCircuit

    b = MarginCircuit.named(model, profile).build()
    state = "cached" if b.cached else f"compiled in {b.seconds:.1f} s"
    click.echo(f"{b.name}: {b.n_constraints} constraints, {b.header.n_wires} wires ({state}) -> {b.out_dir}")
