"""Bundle policy (``verifier.bundle.check_policy``): each check, alone, refuses with its own reason.

Every case changes one thing of the session's valid bundle or of a matching policy, and asserts the
reason names that check (so a skipped check cannot hide behind another one's refusal).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.test_end_to_end import HEDGED, policy
from verifier import VerifyingKey
from verifier.bundle import check_policy
from zkmargin.bundle import ProofBundle
from zkmargin.models import RiskSnapshot
from zkmargin.venue import EpochTree, generate_key, sign_epoch


def _public(bundle: ProofBundle, **change: str) -> dict[str, Any]:
    return {"public_signals": bundle.public_signals.model_copy(update=change)}


Change = Callable[[ProofBundle, RiskSnapshot, EpochTree, Ed25519PrivateKey], dict[str, Any]]
"""Fields to change (of the bundle, or the policy's keyword arguments), from the fixtures."""

CASES: dict[str, tuple[Change, Change, str]] = {
    "signature": (lambda b, s, e, k: {}, lambda b, s, e, k: {"venue_key": generate_key().public_key()},
                  "not the venue key"),
    "fingerprint": (lambda b, s, e, k: {"vk_fingerprint": "0" * 64}, lambda b, s, e, k: {},
                    "not the trusted key"),
    "model": (lambda b, s, e, k: {}, lambda b, s, e, k: {"model": "cross"},
              "proof claims the portfolio model; policy requires cross"),
    "circuit-id": (lambda b, s, e, k: {"circuit_id": "portfolio_other"}, lambda b, s, e, k: {}, "claims circuit"),
    "epoch": (lambda b, s, e, k: {"epoch": b.epoch + 1}, lambda b, s, e, k: {}, "claims epoch"),
    "signed-snapshot": (lambda b, s, e, k: {}, lambda b, s, e, k: {"snapshot": s.model_copy(update={
        "params": s.params.model_copy(update={"mm_factor_bps": s.params.mm_factor_bps + 1})})},
                        "is not the snapshot the venue signed"),
    "public-snapshot-root": (lambda b, s, e, k: _public(b, snapshot_root=str(int(b.public_signals.snapshot_root) + 1)),
                             lambda b, s, e, k: {}, "is not the root of snapshot"),
    "account-root": (lambda b, s, e, k: {}, lambda b, s, e, k: {"epoch": sign_epoch(
        e.epoch.header().model_copy(update={"account_root": 7}), k)}, "is not the venue's account root"),
    "holder": (lambda b, s, e, k: {}, lambda b, s, e, k: {"holders": frozenset({HEDGED + 1})},
               "not an expected holder"),
    "threshold": (lambda b, s, e, k: {}, lambda b, s, e, k: {"min_threshold_bps": 15_001},
                  "below the required 15001 bps"),
}
"""check -> (change of the bundle, change of the policy, words of the expected reason)."""


def test_the_unchanged_bundle_meets_the_policy(bundle: ProofBundle, vk: VerifyingKey, epoch: EpochTree,
                                               venue_key: Ed25519PrivateKey, snapshot: RiskSnapshot) -> None:
    verdict = check_policy(bundle, vk, policy(epoch, venue_key, snapshot))
    assert verdict.ok and verdict.reason == "meets the policy"


@pytest.mark.parametrize("check", sorted(CASES))
def test_each_policy_check_refuses_with_its_own_reason(check: str, bundle: ProofBundle, vk: VerifyingKey,
                                                       epoch: EpochTree, venue_key: Ed25519PrivateKey,
                                                       snapshot: RiskSnapshot) -> None:
    change_bundle, change_policy, reason = CASES[check]
    changed = bundle.model_copy(update=change_bundle(bundle, snapshot, epoch, venue_key))
    verdict = check_policy(changed, vk, policy(epoch, venue_key, snapshot,
                                               **change_policy(bundle, snapshot, epoch, venue_key)))
    assert not verdict.ok and reason in verdict.reason, verdict.reason
