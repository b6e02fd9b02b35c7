"""Judging a margin proof bundle against the verifier's own expectations (its policy).

A valid Groth16 proof is not enough: the verifier must check that it was made for the circuit it
trusts (key fingerprint and model), about the snapshot it published (root recomputed from the
snapshot it holds), about the account it expects (commitment), at a threshold its policy accepts.
:func:`check_bundle` returns a :class:`Verdict` whose ``reason`` is one line either way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from verifier.groth16 import verify
from verifier.proof import parse_proof
from verifier.vkey import VerifyingKey
from zkmargin.bundle import ProofBundle
from zkmargin.commitment import SnapshotCommitment
from zkmargin.errors import VerificationError
from zkmargin.models import RiskSnapshot
from zkmargin.profiles import get_profile

ProofCheck = Callable[[Mapping[str, Any], Sequence[int]], bool]
"""A Groth16 verifier bound to a key: (proof in snarkjs JSON layout, public signals) -> valid?"""


@dataclass(frozen=True)
class Policy:
    """What a verifier demands beyond a valid proof."""

    snapshot: RiskSnapshot
    commitment: int | None = None          # the account commitment it expects, if any
    min_threshold_bps: int = 10_000        # the least health it accepts
    model: str | None = None               # the margin model it requires, if any


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str


def check_bundle(bundle: ProofBundle, vk: VerifyingKey, policy: Policy, check: ProofCheck | None = None) -> Verdict:
    """Check a bundle against ``vk`` and ``policy``; malformed proofs raise VerificationError.

    ``check`` is the Groth16 verifier, bound to the same key as ``vk`` (e.g. native or snarkjs:
    ``prover.backends.proof_check``); None pairs in pure Python with ``vk``.
    """
    verdict = check_policy(bundle, vk, policy)
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
    return Verdict(True, f"valid: {bundle.model} margin proof, threshold {public.threshold_bps} bps, "
                         f"epoch {bundle.epoch}, account {public.account_commitment}")


def check_policy(bundle: ProofBundle, vk: VerifyingKey, policy: Policy, snapshot_root: int | None = None) -> Verdict:
    """Every check of :func:`check_bundle` but the pairing (batch verifiers pair many at once).

    ``snapshot_root`` is the root of ``policy.snapshot`` under the bundle's profile when the caller
    already has it (computing it takes about a second); None computes it.
    """
    if bundle.vk_fingerprint != vk.fingerprint():
        return Verdict(False, f"proof was made for verifying key {bundle.vk_fingerprint[:16]}..., "
                              f"not the trusted key {vk.fingerprint()[:16]}...")
    if policy.model is not None and bundle.model != policy.model:
        return Verdict(False, f"proof is under the {bundle.model} model; policy requires {policy.model}")
    public = bundle.public_signals
    root = snapshot_root if snapshot_root is not None else SnapshotCommitment(
        policy.snapshot, get_profile(bundle.profile)).root
    if int(public.snapshot_root) != root:
        return Verdict(False, f"snapshot root {public.snapshot_root} is not the root of snapshot "
                              f"{policy.snapshot.venue} epoch {policy.snapshot.epoch} ({root})")
    if policy.commitment is not None and int(public.account_commitment) != policy.commitment:
        return Verdict(False, f"account commitment {public.account_commitment} is not the expected "
                              f"{policy.commitment}")
    if int(public.threshold_bps) < policy.min_threshold_bps:
        return Verdict(False, f"proven threshold {public.threshold_bps} bps is below the required "
                              f"{policy.min_threshold_bps} bps")
    return Verdict(True, "meets the policy")
