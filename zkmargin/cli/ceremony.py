"""``zkmargin ceremony``: a multi-party Groth16 phase 2 on a public powers-of-tau file.

``init`` -> ``contribute`` (once per participant, each on the previous zkey) -> ``beacon`` ->
``verify`` -> ``export`` (keys + manifest where ``zkmargin prove`` finds them). docs/ceremony.md.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import click

from zkmargin.cli.options import model_option, profile_option

directory_option = click.option(
    "-d", "--dir", "directory", required=True, type=click.Path(file_okay=False, path_type=Path),
    help="Ceremony directory: ceremony.json, the circuit's r1cs and wasm, one zkey per step.")


@click.group("ceremony", short_help="Production trusted setup: contributions, beacon, export.")
def command() -> None:
    """Phase-2 ceremony around snarkjs: init, contribute, beacon, verify, export."""


@command.command("init", short_help="Start a ceremony on a public ptau.")
@directory_option
@model_option
@profile_option
@click.option("--ptau", required=True, type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Prepared powers-of-tau file, e.g. powersOfTau28_hez_final_17.ptau (its blake2b "
                   "is checked against the published hashes). The dev ptau is refused.")
@click.option("--circuit", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Any circom main to set up instead of <model>_<profile> (compiled --O2 with "
                   "circuits/lib and circomlib as include dirs).")
def init(directory: Path, model: str, profile: str, ptau: Path, circuit: Path | None) -> None:
    """groth16 setup of the circuit on PTAU: the ceremony's zkey 0000."""
    from prover.build import compile_circuit
    from prover.ceremony import Ceremony
    from prover.circuits import MarginCircuit, include_dirs

    if circuit is None:
        margin = MarginCircuit.named(model, profile)
        build, circuit_id = margin.build(), margin.circuit_id
    else:
        build = compile_circuit(circuit, include_dirs=include_dirs(),
                                build_root=directory / "build", optimization=2)
        circuit_id = circuit.stem
    ceremony = Ceremony.init(directory, build, ptau, circuit_id)
    known = ceremony.state["ptau"]["known_as"] or "NOT a known public ceremony file"
    click.echo(f"{circuit_id}: ceremony started in {directory} on {ptau.name} ({known})")
    click.echo(f"next: zkmargin ceremony contribute -d {directory} --name <your name>")


@command.command("contribute", short_help="Add a secret contribution.")
@directory_option
@click.option("--name", required=True, help="Contributor's public name, recorded in the zkey.")
@click.option("--prompt", "ask", is_flag=True,
              help="Type the entropy (hidden) instead of drawing it from the OS.")
@click.option("--entropy", help="Entropy text (visible in the process list and shell history: "
                                "prefer the OS default or --prompt).")
def contribute(directory: Path, name: str, ask: bool, entropy: str | None) -> None:
    """Contribute with entropy from the OS (default), a hidden prompt or --entropy; snarkjs mixes
    in its own OS randomness. The entropy is never printed or stored: forget it afterwards."""
    from prover.ceremony import Ceremony

    ceremony = Ceremony(directory)
    if ask:
        entropy = click.prompt("Entropy (random text, not echoed)", hide_input=True)
    step = ceremony.contribute(name, entropy or secrets.token_hex(64))
    click.echo(f"contribution {name!r} -> {directory / step.zkey} (sha256 {step.sha256})")


@command.command("beacon", short_help="Close the ceremony with a public random beacon.")
@directory_option
@click.option("--hash", "beacon_hash", required=True,
              help="Hex beacon value nobody could know before the last contribution (e.g. a "
                   "future block hash announced in advance).")
@click.option("--iterations-exp", default=10, show_default=True, type=int,
              help="The beacon is hashed 2^N times (10..63).")
@click.option("--name", default="final beacon", show_default=True, help="Name recorded in the zkey.")
def beacon(directory: Path, beacon_hash: str, iterations_exp: int, name: str) -> None:
    """Apply the beacon; no contribution can follow."""
    from prover.ceremony import Ceremony

    step = Ceremony(directory).beacon(name, beacon_hash, iterations_exp)
    click.echo(f"beacon -> {directory / step.zkey}; next: zkmargin ceremony verify -d {directory}")


@command.command("verify", short_help="Verify the newest zkey and list its contributions.")
@directory_option
def verify(directory: Path) -> None:
    """snarkjs zkey verify against the ceremony's r1cs and ptau (exit 2 if it fails)."""
    from prover.ceremony import Ceremony

    for contribution in Ceremony(directory).verify():
        kind = (f"beacon {contribution.beacon_hash} (2^{contribution.beacon_iterations_exp})"
                if contribution.is_beacon else "contribution")
        click.echo(f"#{contribution.index} {contribution.name}: {kind} {contribution.hash}")
    click.echo("ZKey Ok")


@command.command("export", short_help="Write the final keys and manifest.")
@directory_option
@click.option("-o", "--out", type=click.Path(file_okay=False, path_type=Path),
              help="Keys directory. [default: build/keys/<circuit>, where `zkmargin prove` looks]")
def export(directory: Path, out: Path | None) -> None:
    """Verify, then write <circuit>.zkey, verification_key.json and manifest.json."""
    from prover.ceremony import Ceremony
    from zkmargin.files import check_output_dir
    from zkmargin.paths import keys_dir

    ceremony = Ceremony(directory)
    keys = ceremony.export(check_output_dir(out or keys_dir(ceremony.circuit_id)))
    click.echo(f"{keys.circuit_id}: {keys.zkey}, {keys.vk}, {keys.manifest_path}")
