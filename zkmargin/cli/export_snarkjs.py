"""``zkmargin export-snarkjs``: a proof bundle as the plain snarkjs ``proof.json`` + ``public.json``."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("export-snarkjs", short_help="Write a bundle's proof as snarkjs proof.json and public.json.")
@click.argument("bundle", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--out-dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write proof.json and public.json to.")
def command(bundle: Path, out_dir: Path) -> None:
    """For an auditor's own `snarkjs groth16 verify verification_key.json public.json proof.json`.

    The proof is validated (canonical coordinates, on the curve, in G2) and written in affine
    form; the public signals in circuit order. Nothing is verified here: that is the auditor's
    command.
    """
    from verifier import parse_proof, parse_public_signals
    from zkmargin.bundle import ProofBundle
    from zkmargin.files import check_output_dir
    from zkmargin.io import dump_json, load_model

    check_output_dir(out_dir)
    b = load_model(ProofBundle, bundle)
    proof = parse_proof(b.proof.model_dump())
    public = parse_public_signals([str(value) for value in b.public_signals.as_list()], "public_signals")
    dump_json(proof.to_json(), out_dir / "proof.json")
    dump_json([str(value) for value in public], out_dir / "public.json")
    click.echo(f"wrote {out_dir / 'proof.json'} and {out_dir / 'public.json'}; check them with: snarkjs "
               f"groth16 verify verification_key.json {out_dir / 'public.json'} {out_dir / 'proof.json'}")
