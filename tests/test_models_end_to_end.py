"""Cross and isolated margin proofs end to end, and the model binding: a proof under one model
never passes where a verifier requires another (portfolio's end to end is test_end_to_end.py)."""

from __future__ import annotations

import pytest

from prover.circuits import MarginCircuit
from prover.margin import MarginProver, setup_circuit
from verifier import VerifyingKey, load_verifying_key
from verifier.bundle import Policy, check_bundle
from tests.conftest import EXAMPLES, dev_ptau
from zkmargin.bundle import ProofBundle
from zkmargin.commitment import commit_account
from zkmargin.errors import BelowMarginError
from zkmargin.io import load_model
from zkmargin.models import Account, RiskSnapshot


@pytest.fixture(scope="module", params=["cross", "isolated"])
def model_prover(request: pytest.FixtureRequest) -> MarginProver:
    circuit = MarginCircuit.named(request.param, "small")
    return MarginProver(circuit, setup_circuit(circuit, dev_ptau()))


@pytest.fixture(scope="module")
def naked(model_prover: MarginProver, snapshot: RiskSnapshot) -> ProofBundle:
    """One short call: the same requirement under every model, healthy under each."""
    return model_prover.prove(load_model(Account, EXAMPLES / "naked_short_calls.json"), snapshot)


def test_proof_verifies_under_its_own_model_policy(naked: ProofBundle, model_prover: MarginProver,
                                                   snapshot: RiskSnapshot) -> None:
    account = load_model(Account, EXAMPLES / "naked_short_calls.json")
    expected = commit_account(account, model_prover.circuit.profile, model_prover.circuit.model)
    assert naked.model == model_prover.circuit.model and naked.circuit_id == model_prover.circuit.circuit_id
    verdict = check_bundle(naked, model_prover.vk, Policy(snapshot, expected, model=model_prover.circuit.model))
    assert verdict.ok, verdict.reason


def test_proof_is_rejected_where_another_model_is_required(naked: ProofBundle, model_prover: MarginProver,
                                                           vk: VerifyingKey, snapshot: RiskSnapshot) -> None:
    verdict = check_bundle(naked, model_prover.vk, Policy(snapshot, model="portfolio"))
    assert not verdict.ok and "policy requires portfolio" in verdict.reason
    # a verifier requiring portfolio trusts the portfolio key: the fingerprint gives the proof away,
    relabelled = naked.model_copy(update={"model": "portfolio"})
    assert not check_bundle(relabelled, vk, Policy(snapshot, model="portfolio")).ok
    # and with the fingerprint forged too, the pairing check fails under the portfolio key
    forged = relabelled.model_copy(update={"vk_fingerprint": vk.fingerprint()})
    verdict = check_bundle(forged, vk, Policy(snapshot, model="portfolio"))
    assert not verdict.ok and "does not verify" in verdict.reason


def test_portfolio_only_book_is_refused_under_stricter_models(model_prover: MarginProver,
                                                              snapshot: RiskSnapshot) -> None:
    hedged = load_model(Account, EXAMPLES / "hedged_market_maker.json")
    with pytest.raises(BelowMarginError):
        model_prover.prove(hedged, snapshot)


def test_keys_of_each_model_differ(model_prover: MarginProver, vk: VerifyingKey) -> None:
    assert load_verifying_key(model_prover.keys.vk).fingerprint() != vk.fingerprint()
