"""``zkmargin export-solidity``: the Solidity verifier of a circuit's keys, and the project's contracts."""

from __future__ import annotations

from pathlib import Path

import click

from zkmargin.cli.options import model_option, profile_option


@click.command("export-solidity", short_help="Write the Solidity verifier of a circuit and the gate contracts.")
@model_option
@profile_option
@click.option("-o", "--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Directory to write Groth16Verifier.sol and contracts/*.sol to.")
@click.option("--compile", "compile_", is_flag=True,
              help="Also compile them with the pinned solc-js: <Contract>.json with ABI and bytecode.")
def command(model: str, profile: str, out_dir: Path, compile_: bool) -> None:
    """snarkjs verifier of the circuit's final zkey (from `zkmargin setup`) + MarginGate, MarginRegistry,
    CollateralAuction."""
    from prover.circuits import MarginCircuit
    from prover.margin import load_keys
    from prover.solidity import export_contracts

    keys = load_keys(MarginCircuit.named(model, profile))
    exported = export_contracts(keys, out_dir, compile_=compile_)
    click.echo(f"{exported.circuit_id}: wrote {exported.verifier} (zkey sha256 "
               f"{keys.manifest['zkey_sha256']}) and {', '.join(p.name for p in exported.contracts)}")
    for artifact in exported.artifacts:
        click.echo(f"  compiled {artifact}")
