"""Judging a margin proof bundle against the verifier's own expectations (its policy).

A valid Groth16 proof is not enough: the verifier must check that it was made for the circuit it
trusts (key fingerprint and model), under the epoch the venue signed (its signature, its account
root), about the snapshot that epoch names (root recomputed from the snapshot it holds), about the
holder it expects, at a threshold its policy accepts.
:func:`check_bundle` returns a :class:`Verdict` whose ``reason`` is one line either way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from verifier.groth16 import verify
from verifier.proof import parse_proof
from verifier.vkey import VerifyingKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from zkmargin.bundle import ProofBundle
from zkmargin.commitment import SnapshotCommitment
from zkmargin.errors import InputError, VerificationError
from zkmargin.models import Epoch, RiskSnapshot
from zkmargin.models.types import format_holder
from zkmargin.profiles import get_profile
from zkmargin.venue import check_epoch_signature

ProofCheck = Callable[[Mapping[str, Any], Sequence[int]], bool]
"""A Groth16 verifier bound to a key: (proof in snarkjs JSON layout, public signals) -> valid?"""


@dataclass(frozen=True)
class Policy:
    """What a verifier demands beyond a valid proof. Nothing has a default that trusts the bundle.

    ``epoch`` is the venue's signed ``epoch.json`` and ``venue_key`` the venue's public key: the
    proof's account root must be the epoch's, its snapshot root the epoch's for the proof's
    profile and the root of ``snapshot`` (which the verifier holds and hashes itself).
    """

    snapshot: RiskSnapshot
    epoch: Epoch
    venue_key: Ed25519PublicKey
    model: str                       # the margin model the verifier requires
    holders: frozenset[int]          # the holder(s) it expects proofs about
    min_threshold_bps: int = 10_000  # the least health it accepts

    def __post_init__(self) -> None:
        if not self.holders:
            raise InputError("a verifier policy names the holder(s) it expects")
        if self.min_threshold_bps <= 0:
            raise InputError("the minimum threshold must be at least 1 bps (0 would accept any account)")


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str


def check_bundle(bundle: ProofBundle, vk: VerifyingKey, policy: Policy, check: ProofCheck | None = None,
                 snapshot_root: int | None = None) -> Verdict:
    """Check a bundle against ``vk`` and ``policy``; malformed proofs raise VerificationError.

    ``check`` is the Groth16 verifier, bound to the same key as ``vk`` (e.g. native or snarkjs:
    ``prover.backends.proof_check``); None pairs in pure Python with ``vk``. ``snapshot_root``:
    as in :func:`check_policy` (a service verifying many proofs computes it once per epoch).
    """
    verdict = check_policy(bundle, vk, policy, snapshot_root)
    if not verdict.ok:
        return verdict
    public = bundle.public_signals
    proof = bundle.proof.model_dump()
    try:
        valid = verify(vk, parse_proof(proof), public.as_list()) if check is None else check(proof, public.as_list())
    except VerificationError as e:
        raise VerificationError(f"proof in bundle: {e}") from None
    if not valid:
        return Verdict(False, "the Groth16 proof does not verify for these public signals")
    return Verdict(True, f"valid: {bundle.model} margin proof for holder {format_holder(int(public.holder))}, "
                         f"threshold {public.threshold_bps} bps, {policy.epoch.venue} epoch {policy.epoch.epoch}")


def check_policy(bundle: ProofBundle, vk: VerifyingKey, policy: Policy, snapshot_root: int | None = None) -> Verdict:
    """Every check of :func:`check_bundle` but the pairing (batch verifiers pair many at once).

    ``snapshot_root`` is the root of ``policy.snapshot`` under the bundle's profile when the caller
    already has it (computing it takes about a second); None computes it.
    """
    epoch = policy.epoch
    try:
        check_epoch_signature(epoch, policy.venue_key)
    except InputError as e:
        return Verdict(False, str(e))
    if bundle.vk_fingerprint != vk.fingerprint():
        return Verdict(False, f"proof was made for verifying key {bundle.vk_fingerprint[:16]}..., "
                              f"not the trusted key {vk.fingerprint()[:16]}...")
    if bundle.model != policy.model:
        return Verdict(False, f"proof claims the {bundle.model} model; policy requires {policy.model}")
    if not bundle.circuit_id == f"{policy.model}_{bundle.profile}":
        return Verdict(False, f"proof claims circuit {bundle.circuit_id!r}; policy requires {policy.model}_<profile>")
    if not bundle.epoch == epoch.epoch == policy.snapshot.epoch:
        return Verdict(False, f"proof claims epoch {bundle.epoch}; the venue's epoch file is epoch {epoch.epoch} "
                              f"and the snapshot epoch {policy.snapshot.epoch}")
    public = bundle.public_signals
    signed_root = epoch.snapshot_roots.get(bundle.profile)
    if signed_root is None:
        return Verdict(False, f"the venue's epoch {epoch.epoch} publishes no snapshot root for profile "
                              f"{bundle.profile!r}")
    try:
        profile = get_profile(bundle.profile)
    except InputError as e:
        return Verdict(False, str(e))
    root = snapshot_root if snapshot_root is not None else SnapshotCommitment(policy.snapshot, profile).root
    if root != signed_root:
        return Verdict(False, f"snapshot {policy.snapshot.venue} epoch {policy.snapshot.epoch} (root {root}) is not "
                              f"the snapshot the venue signed for epoch {epoch.epoch} ({signed_root})")
    if int(public.snapshot_root) != root:
        return Verdict(False, f"snapshot root {public.snapshot_root} is not the root of snapshot "
                              f"{policy.snapshot.venue} epoch {policy.snapshot.epoch} ({root})")
    if int(public.account_root) != epoch.account_root:
        return Verdict(False, f"account root {public.account_root} is not the venue's account root of epoch "
                              f"{epoch.epoch} ({epoch.account_root})")
    if int(public.holder) not in policy.holders:
        return Verdict(False, f"proof is about holder {format_holder(int(public.holder))}, not an expected holder")
    if int(public.threshold_bps) < policy.min_threshold_bps:
        return Verdict(False, f"proven threshold {public.threshold_bps} bps is below the required "
                              f"{policy.min_threshold_bps} bps")
    return Verdict(True, "meets the policy")
