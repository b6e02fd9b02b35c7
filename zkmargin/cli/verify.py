"""``zkmargin verify``: check a proof bundle (or plain snarkjs files); pure Python by default.

``--backend native`` pairs with arkworks (groth16py), ``--backend snarkjs`` with the snarkjs CLI; the policy
checks are the same.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from zkmargin.bundle import Verifier
from zkmargin.cli.options import MODELS, verifier_option

if TYPE_CHECKING:
    from verifier.bundle import ProofCheck

File = click.Path(dir_okay=False, path_type=Path)


@click.command("verify", short_help="Verify a proof bundle, or any snarkjs Groth16 proof.")
@click.argument("bundle", required=False, type=File)
@click.option("--snapshot", type=File, help="The snapshot the proof must be about (its root is recomputed).")
@click.option("--vk", type=File, help="Trusted verification_key.json (default: the local keys of the bundle's circuit).")
@click.option("--commitment", type=str, help="Account commitment the proof must be about.")
@click.option("--min-threshold", "min_threshold", default=10_000, show_default=True, type=int,
              help="Least health accepted, bps of MM.")
@click.option("--model", type=click.Choice(MODELS), help="Margin model the policy requires.")
@click.option("--proof", type=File, help="snarkjs proof.json (plain mode, any Groth16 circuit; needs --vk, --public).")
@click.option("--public", type=File, help="snarkjs public.json (plain mode).")
@verifier_option
def command(bundle: Path | None, snapshot: Path | None, vk: Path | None, commitment: str | None,
            min_threshold: int, model: str | None, proof: Path | None, public: Path | None,
            verifier: Verifier) -> None:
    """Exit 0 if valid, 1 if not, with one line saying why."""
    from verifier import load_public_signals, load_verifying_key, verify_files
    from verifier.encoding import expect_object, load_json
    from zkmargin.errors import InputError

    ctx = click.get_current_context()
    if bundle is None:
        if not (vk and proof and public):
            raise InputError("give a proof bundle, or --vk, --proof and --public for a plain snarkjs proof")
        check = _pairing(verifier, vk)
        ok = verify_files(vk, proof, public) if check is None else check(
            expect_object(load_json(proof, "proof"), "proof", ()), load_public_signals(public))
        click.echo("valid" if ok else "invalid: the proof does not verify for these public signals")
        ctx.exit(0 if ok else 1)

    from verifier.bundle import Policy, check_bundle
    from zkmargin.bundle import ProofBundle
    from zkmargin.io import load_model
    from zkmargin.models import RiskSnapshot

    if snapshot is None:
        raise InputError("--snapshot is required to check a bundle (its root is recomputed from it)")
    b = load_model(ProofBundle, bundle)
    if vk is None:
        from zkmargin.paths import keys_dir

        # the key of the model the policy requires, never the one the bundle merely claims
        circuit_id = f"{model}_{b.profile}" if model else b.circuit_id
        vk = keys_dir(circuit_id) / "verification_key.json"
        if not vk.is_file():
            raise InputError(f"no local verification key for {circuit_id}: pass --vk FILE")
    expected = None
    if commitment is not None:
        if not commitment.isdigit():
            raise InputError(f"--commitment must be a decimal field element, got {commitment!r}")
        expected = int(commitment)
    policy = Policy(load_model(RiskSnapshot, snapshot), expected, min_threshold, model)
    verdict = check_bundle(b, load_verifying_key(vk), policy, _pairing(verifier, vk))
    click.echo(verdict.reason if verdict.ok else f"invalid: {verdict.reason}")
    ctx.exit(0 if verdict.ok else 1)


def _pairing(verifier: Verifier, vk: Path) -> ProofCheck | None:
    """The native or snarkjs verifier bound to ``vk``; None for py_ecc, which needs no prover code."""
    if verifier == "py_ecc":
        return None
    from prover.backends import proof_check

    return proof_check(verifier, vk)
