"""``zkmargin calldata``: a proof as Solidity calldata, encoded in Python (no Node)."""

from __future__ import annotations

from pathlib import Path

import click

File = click.Path(dir_okay=False, path_type=Path)


@click.command("calldata", short_help="Print a proof's calldata for the Solidity verifier or MarginGate.")
@click.argument("proof", type=File)
@click.option("--public", type=File, help="snarkjs public.json: PROOF is then a plain snarkjs proof.json.")
@click.option("--function", "function", type=click.Choice(["verifyProof", "checkMargin"]),
              help="Print the whole ABI-encoded call (0x hex, selector + arguments) of the verifier's "
                   "verifyProof or of MarginGate.checkMargin.")
@click.option("--epoch-file", "epoch_file", type=File,
              help="checkMargin: the venue's epoch.json; the call's epoch is taken from it, and the bundle's "
                   "claims (epoch, account root, signed snapshot root) must match it.")
def command(proof: Path, public: Path | None, function: str | None, epoch_file: Path | None) -> None:
    """By default the verifier's arguments as `snarkjs zkey export soliditycalldata` prints them."""
    from verifier import load_proof, load_public_signals, parse_proof, parse_public_signals
    from zkmargin import calldata
    from zkmargin.bundle import ProofBundle
    from zkmargin.errors import InputError
    from zkmargin.io import load_model

    bundle = None
    if public is not None:
        points, signals = load_proof(proof), load_public_signals(public)
    else:
        bundle = load_model(ProofBundle, proof)
        points = parse_proof(bundle.proof.model_dump())
        signals = parse_public_signals([str(s) for s in bundle.public_signals.as_list()], "public_signals")
    if function is None:
        click.echo(calldata.snarkjs_calldata(points, signals))
    elif function == "verifyProof":
        click.echo("0x" + calldata.verify_proof_call(points, signals).hex())
    elif bundle is None:
        raise InputError("--function checkMargin needs a proof bundle (its epoch and holder are arguments), not --public")
    elif epoch_file is None:
        raise InputError("--function checkMargin needs --epoch-file (the call's epoch comes from the venue's file, "
                         "not from the bundle's claim)")
    else:
        from zkmargin.models import Epoch

        epoch = load_model(Epoch, epoch_file)
        named = bundle.public_signals
        signed_root = epoch.snapshot_roots.get(bundle.profile)
        if bundle.epoch != epoch.epoch or int(named.account_root) != epoch.account_root or (
                signed_root is None or int(named.snapshot_root) != signed_root):
            raise InputError(f"{proof}: not a proof of {epoch.venue} epoch {epoch.epoch} (its epoch, account root or "
                             f"snapshot root differs from {epoch_file})")
        call = calldata.check_margin_call(epoch.epoch, int(named.holder), int(named.threshold_bps), points)
        click.echo("0x" + call.hex())
