"""``zkmargin verify``: check a proof bundle (or plain snarkjs files); pure Python by default.

``--backend native`` pairs with arkworks (groth16py), ``--backend snarkjs`` with the snarkjs CLI; the policy
checks are the same.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from zkmargin.bundle import Verifier
from zkmargin.circuitgen import MODELS
from zkmargin.cli.options import verifier_option

if TYPE_CHECKING:
    from verifier.bundle import ProofCheck

File = click.Path(dir_okay=False, path_type=Path)


@click.command("verify", short_help="Verify a proof bundle against a policy, or any snarkjs Groth16 proof.")
@click.argument("bundle", required=False, type=File)
@click.option("--epoch-file", "epoch_file", type=File, help="The venue's signed epoch.json.")
@click.option("--venue-key", "venue_key", type=str, help="The venue's Ed25519 public key: hex, or a file holding it.")
@click.option("--snapshot", type=File, help="The epoch's snapshot (its root is recomputed and compared with the signed one).")
@click.option("--holder", "holders", multiple=True, help="Holder the proof must be about (EVM address or decimal); repeatable.")
@click.option("--model", type=click.Choice(sorted(MODELS)), help="Margin model the policy requires.")
@click.option("--min-threshold", "min_threshold", default=10_000, show_default=True, type=click.IntRange(1, 2**20 - 1),
              help="Least health accepted, bps of MM.")
@click.option("--vk", type=File, help="Trusted verification_key.json (default: the local keys of MODEL and the "
                                       "bundle's profile, a name checked against the known profiles).")
@click.option("--proof", type=File, help="snarkjs proof.json (plain mode, any Groth16 circuit; needs --vk, --public).")
@click.option("--public", type=File, help="snarkjs public.json (plain mode).")
@verifier_option
def command(bundle: Path | None, epoch_file: Path | None, venue_key: str | None, snapshot: Path | None,
            holders: tuple[str, ...], model: str | None, min_threshold: int, vk: Path | None, proof: Path | None,
            public: Path | None, verifier: Verifier) -> None:
    """Exit 0 if valid, 1 if not, with one line saying why; 2 for malformed input."""
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
    from zkmargin.models import Epoch, RiskSnapshot
    from zkmargin.models.types import holder_from_text
    from zkmargin.profiles import get_profile
    from zkmargin.venue import load_public_key

    missing = [flag for flag, value in (("--epoch-file", epoch_file), ("--venue-key", venue_key),
                                        ("--snapshot", snapshot), ("--holder", holders), ("--model", model))
               if not value]
    if missing:
        raise InputError(f"a bundle is checked against a policy: give {', '.join(missing)}")
    assert epoch_file and venue_key and snapshot and model
    b = load_model(ProofBundle, bundle)
    if vk is None:
        from zkmargin.paths import keys_dir

        # the key of the model the policy requires, at a profile checked against the known ones:
        # never a path the bundle chooses
        circuit_id = f"{model}_{get_profile(b.profile).name}"
        vk = keys_dir(circuit_id) / "verification_key.json"
        if not vk.is_file():
            raise InputError(f"no local verification key for {circuit_id}: pass --vk FILE")
    expected = set()
    for h in holders:
        try:
            expected.add(holder_from_text(h))
        except ValueError as e:
            raise InputError(f"--holder {h!r}: {e}") from None
    policy = Policy(load_model(RiskSnapshot, snapshot), load_model(Epoch, epoch_file), load_public_key(venue_key),
                    model, frozenset(expected), min_threshold)
    verdict = check_bundle(b, load_verifying_key(vk), policy, _pairing(verifier, vk))
    click.echo(verdict.reason if verdict.ok else f"invalid: {verdict.reason}")
    ctx.exit(0 if verdict.ok else 1)


def _pairing(verifier: Verifier, vk: Path) -> ProofCheck | None:
    """The native or snarkjs verifier bound to ``vk``; None for py_ecc, which needs no prover code."""
    if verifier == "py_ecc":
        return None
    from prover.backends import proof_check

    return proof_check(verifier, vk)
