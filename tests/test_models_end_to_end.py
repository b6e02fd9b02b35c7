"""Cross and isolated margin proofs end to end, and the model binding: a proof under one model
never passes where a verifier requires another (portfolio's end to end is test_end_to_end.py)."""

from __future__ import annotations

import pytest

from prover.circuits import MarginCircuit
from prover.margin import MarginProver, setup_circuit
from verifier import VerifyingKey, load_verifying_key
from verifier.bundle import Policy, check_bundle
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.conftest import dev_ptau, statement_of
from zkmargin.bundle import ProofBundle
from zkmargin.errors import BelowMarginError
from zkmargin.models import RiskSnapshot
from zkmargin.venue import EpochTree


@pytest.fixture(scope="module", params=["cross", "isolated"])
def model_prover(request: pytest.FixtureRequest) -> MarginProver:
    circuit = MarginCircuit.named(request.param, "small")
    return MarginProver(circuit, setup_circuit(circuit, dev_ptau()))


@pytest.fixture(scope="module")
def naked(model_prover: MarginProver, epoch: EpochTree, snapshot: RiskSnapshot) -> ProofBundle:
    """One short call: the same requirement under every model, healthy under each."""
    return model_prover.prove(statement_of(epoch, "naked_short_calls"), snapshot)


def policy(model: str, epoch: EpochTree, venue_key: Ed25519PrivateKey, snapshot: RiskSnapshot) -> Policy:
    holder = statement_of(epoch, "naked_short_calls").holder
    return Policy(snapshot, epoch.epoch, venue_key.public_key(), model, frozenset({holder}))


def test_proof_verifies_under_its_own_model_policy(naked: ProofBundle, model_prover: MarginProver, epoch: EpochTree,
                                                   venue_key: Ed25519PrivateKey, snapshot: RiskSnapshot) -> None:
    model = model_prover.circuit.model
    assert naked.model == model and naked.circuit_id == model_prover.circuit.circuit_id
    verdict = check_bundle(naked, model_prover.vk, policy(model, epoch, venue_key, snapshot))
    assert verdict.ok, verdict.reason


def test_proof_is_rejected_where_another_model_is_required(naked: ProofBundle, model_prover: MarginProver,
                                                           vk: VerifyingKey, epoch: EpochTree,
                                                           venue_key: Ed25519PrivateKey,
                                                           snapshot: RiskSnapshot) -> None:
    portfolio = policy("portfolio", epoch, venue_key, snapshot)
    verdict = check_bundle(naked, model_prover.vk, portfolio)
    assert not verdict.ok and "policy requires portfolio" in verdict.reason
    # a verifier requiring portfolio trusts the portfolio key: the fingerprint gives the proof away,
    relabelled = naked.model_copy(update={"model": "portfolio", "circuit_id": "portfolio_small"})
    verdict = check_bundle(relabelled, vk, portfolio)
    assert not verdict.ok and "verifying key" in verdict.reason
    # and with the fingerprint forged too, the pairing check fails under the portfolio key
    forged = relabelled.model_copy(update={"vk_fingerprint": vk.fingerprint()})
    verdict = check_bundle(forged, vk, portfolio)
    assert not verdict.ok and "does not verify" in verdict.reason


def test_portfolio_only_book_is_refused_under_stricter_models(model_prover: MarginProver, epoch: EpochTree,
                                                              snapshot: RiskSnapshot) -> None:
    with pytest.raises(BelowMarginError):
        model_prover.prove(statement_of(epoch, "hedged_market_maker"), snapshot)


def test_a_debt_fails_the_isolated_model_and_passes_cross(model_prover: MarginProver, epoch: EpochTree,
                                                         snapshot: RiskSnapshot) -> None:
    borrowed = statement_of(epoch, "borrowed_cash")
    if model_prover.circuit.model == "isolated":
        with pytest.raises(BelowMarginError):
            model_prover.prove(borrowed, snapshot)
    else:
        assert model_prover.prove(borrowed, snapshot).public_signals.holder == str(borrowed.holder)


def test_keys_of_each_model_differ(model_prover: MarginProver, vk: VerifyingKey) -> None:
    assert load_verifying_key(model_prover.keys.vk).fingerprint() != vk.fingerprint()
