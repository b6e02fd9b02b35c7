"""Checking a solvency chain: every batch, the chain, the totals, against the venue's signed epoch.

:func:`check_solvency` refuses (:class:`~zkmargin.errors.VerificationError`, one line naming the
batch and the check) unless: the epoch file carries the venue's signature; the manifest is for
that epoch and that circuit; there are exactly ``ceil(N / B)`` batches (N from ``epoch.json``);
every batch's snapshot root is the epoch's signed root for the circuit's profile and its account
root the epoch's; batch 0 starts from the genesis state of N accounts; each batch's ``chain_in``
is the previous batch's ``chain_out``; the last ``chain_out`` opens (salt 0) to the published
totals after leaf ``B * batches >= N``, with N accounts counted; the insurance fund, if claimed,
covers the total shortfall; and every proof verifies under the verifying key (one batched pairing
check, failures named). The chain checks come first, so a refusal says which link is wrong.
"""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from verifier.batch import verify_batch
from verifier.proof import parse_proof
from verifier.vkey import VerifyingKey
from zkmargin.errors import InputError, VerificationError
from zkmargin.io import load_model
from zkmargin.models import Epoch
from zkmargin.solvency import ChainState, Totals, batch_count
from zkmargin.solvency_files import SolvencyBatchProof, SolvencyManifest, batch_path, manifest_path


def load_chain(folder: Path) -> tuple[SolvencyManifest, list[SolvencyBatchProof]]:
    """The manifest and its batches 0 .. batches - 1 (InputError if one is missing or malformed)."""
    manifest = load_model(SolvencyManifest, manifest_path(folder))
    batches = []
    for k in range(manifest.batches):
        path = batch_path(folder, k)
        if not path.is_file():
            raise InputError(f"{path}: batch {k} of {manifest.batches} is missing")
        batches.append(load_model(SolvencyBatchProof, path))
    return manifest, batches


def check_solvency(manifest: SolvencyManifest, batches: list[SolvencyBatchProof], epoch: Epoch,
                   venue_key: Ed25519PublicKey, vk: VerifyingKey) -> Totals:
    """The verified totals of the chain (VerificationError with the reason otherwise)."""
    from zkmargin.venue import check_epoch_signature

    check_epoch_signature(epoch, venue_key)
    if (manifest.venue, manifest.epoch) != (epoch.venue, epoch.epoch):
        raise VerificationError(f"the chain is for {manifest.venue} epoch {manifest.epoch}, the epoch file for "
                                f"{epoch.venue} epoch {epoch.epoch}")
    n, size = epoch.accounts, manifest.batch_size
    if manifest.batches != batch_count(n, size) or len(batches) != manifest.batches:
        raise VerificationError(f"{n} accounts in batches of {size} take {batch_count(n, size)} batches; the chain "
                                f"has {len(batches)}")
    roots = [epoch.snapshot_roots.get(manifest.profile), epoch.account_root]
    previous = ChainState.genesis(n).commitment()
    for k, batch in enumerate(batches):
        where = f"batch {k}"
        if batch.index != k or batch.circuit_id != manifest.circuit_id:
            raise VerificationError(f"{where}: it is batch {batch.index} of {batch.circuit_id} (reordered or foreign)")
        if batch.vk_fingerprint != vk.fingerprint():
            raise VerificationError(f"{where}: made for another verifying key")
        signals = [int(x) for x in batch.public_signals]
        if signals[:2] != roots:
            raise VerificationError(f"{where}: its snapshot or account root is not the signed epoch's")
        if signals[2] != previous:
            raise VerificationError(f"{where}: chain_in is not the {'genesis state' if k == 0 else 'previous chain_out'}"
                                    " (a leaf skipped or counted twice, or batches reordered)")
        previous = signals[3]
    try:
        totals = Totals.from_json(manifest.totals)
    except (KeyError, ValueError) as e:
        raise VerificationError(f"the manifest's totals are malformed: {e}") from None
    if ChainState(n, size * len(batches), totals, 0).commitment() != previous or totals.accounts != n:
        raise VerificationError("the last batch's chain_out does not open to the published totals of "
                                f"{n} accounts")
    if manifest.insurance_fund is not None and totals.shortfall > manifest.insurance_fund:
        raise VerificationError("the insurance fund does not cover the total shortfall")
    valid = verify_batch(vk, [(parse_proof(b.proof.model_dump()), [int(x) for x in b.public_signals]) for b in batches])
    bad = [k for k, ok in enumerate(valid) if not ok]
    if bad:
        raise VerificationError(f"batch proofs {bad} do not verify")
    return totals
