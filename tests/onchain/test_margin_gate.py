"""The exported verifier and MarginGate in a real EVM (py-evm): accept, reject, gas."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from eth.vm.forks.istanbul.constants import (
    GAS_ECADD,
    GAS_ECMUL,
    GAS_ECPAIRING_BASE,
    GAS_ECPAIRING_PER_POINT,
)
from hexbytes import HexBytes
from web3 import Web3
from web3.types import TxReceipt

from prover.margin import MarginProver
from tests.onchain.conftest import BACKENDS, MIN_THRESHOLD_BPS, PROVEN_BPS, SMALL
from tests.onchain.evm import DEPLOY_GAS_LIMIT, GAS_LIMIT, VERIFY_FAILED, VERIFY_OK, Chain, Revert, cli, readme_table, revert
from verifier import Proof, parse_proof
from verifier.bn254 import FIELD_MODULUS as Q
from zkmargin import calldata
from zkmargin import fixedpoint as fp
from zkmargin.bundle import Backend, ProofBundle
from zkmargin.commitment import SnapshotCommitment
from zkmargin.models import RiskSnapshot, Statement
from zkmargin.profiles import PUBLIC_SIGNALS
from zkmargin.venue import EpochTree


TX_BASE_GAS = 21_000
NEW_SLOT_GAS = 20_000
"""SSTORE of a zero slot to non-zero (EIP-2200), the least the recording of a proof costs."""
PAIRS = 4
"""Pairings of a Groth16 check: e(-A, B) e(alpha, beta) e(vk_x, gamma) e(C, delta)."""
PRECOMPILE_GAS = GAS_ECPAIRING_BASE + PAIRS * GAS_ECPAIRING_PER_POINT + len(PUBLIC_SIGNALS) * (GAS_ECMUL + GAS_ECADD)
"""What the verifier pays the precompiles: one 4-pair pairing, one ecMul and ecAdd per public signal."""


@pytest.fixture(scope="module")
def proof(bundle: ProofBundle) -> Proof:
    return parse_proof(bundle.proof.model_dump())


def check_margin(bundle: ProofBundle, words: list[int], *, epoch: int | None = None,
                 holder: int | None = None, threshold: int | None = None) -> bytes:
    """checkMargin calldata for ``bundle``'s arguments with any of them replaced."""
    signals = bundle.public_signals
    return calldata.CHECK_MARGIN_SELECTOR + calldata.abi_words([
        bundle.epoch if epoch is None else epoch,
        int(signals.holder) if holder is None else holder,
        int(signals.threshold_bps) if threshold is None else threshold,
        *words,
    ])


def test_eip1108_prices_are_what_the_evm_charges() -> None:
    assert (GAS_ECADD, GAS_ECMUL, GAS_ECPAIRING_BASE, GAS_ECPAIRING_PER_POINT) == (150, 6000, 45_000, 34_000)


def test_selectors_are_those_of_the_compiled_contracts(artifacts: dict[str, dict[str, Any]]) -> None:
    verifier_ids = artifacts["Groth16Verifier"]["methodIdentifiers"]
    gate_ids = artifacts["MarginGate"]["methodIdentifiers"]
    assert verifier_ids[calldata.VERIFY_PROOF_SIGNATURE] == calldata.VERIFY_PROOF_SELECTOR.hex()
    assert gate_ids[calldata.CHECK_MARGIN_SIGNATURE] == calldata.CHECK_MARGIN_SELECTOR.hex()
    assert artifacts["MarginGate"]["compiler"]["evmVersion"] == "cancun"


@pytest.mark.parametrize("backend", BACKENDS)
def test_venue_publishes_trader_proves_gate_accepts(chain: Chain, accepted: TxReceipt, backend: Backend,
                                                    provers: dict[Backend, MarginProver],
                                                    statements: dict[str, Statement], snapshot: RiskSnapshot,
                                                    tmp_path: Path, epoch_file: Path) -> None:
    """The venue's epoch (published in ``chain``), a trader's statement, a real proof, the gate."""
    statement = statements["naked_short_calls"]
    bundle = provers[backend].prove(statement, snapshot, 12_000)
    assert bundle.prover_backend == backend and int(bundle.public_signals.holder) == statement.holder
    path = tmp_path / "proof.json"
    path.write_text(bundle.model_dump_json())
    receipt = chain.send(chain.gate.address, cli(["calldata", str(path), "--function", "checkMargin",
                                                  "--epoch-file", str(epoch_file)]).strip())
    assert receipt["status"] == 1
    (event,) = chain.gate.events.MarginChecked().process_receipt(receipt)
    assert dict(event["args"]) == {"epoch": statement.epoch, "holder": statement.holder,
                                   "thresholdBps": 12_000, "submitter": chain.owner}
    assert chain.gate.functions.provenThresholdBps(statement.epoch, statement.holder).call() >= 12_000


def test_valid_proof_is_accepted_recorded_and_announced(chain: Chain, accepted: TxReceipt, bundle: ProofBundle,
                                                        bundle_file: Path) -> None:
    assert accepted["status"] == 1
    holder = int(bundle.public_signals.holder)
    (event,) = chain.gate.events.MarginChecked().process_receipt(accepted)
    assert dict(event["args"]) == {"epoch": bundle.epoch, "holder": holder,
                                   "thresholdBps": PROVEN_BPS, "submitter": chain.owner}
    assert chain.gate.functions.provenThresholdBps(bundle.epoch, holder).call() == PROVEN_BPS
    data = cli(["calldata", str(bundle_file), "--function", "verifyProof"]).strip()
    assert chain.call(chain.verifier.address, data) == VERIFY_OK


def _swap_a_c(w: list[int]) -> list[int]:
    return [*w[6:], *w[2:6], *w[:2]]


def _negate_a(w: list[int]) -> list[int]:
    return [w[0], Q - w[1], *w[2:]]


def _a_off_curve(w: list[int]) -> list[int]:
    return [w[0], (w[1] + 1) % Q, *w[2:]]


def _b_unswapped(w: list[int]) -> list[int]:
    return [*w[:2], w[3], w[2], w[5], w[4], *w[6:]]


TAMPERINGS = {
    "A and C swapped": _swap_a_c,
    "A negated": _negate_a,
    "A off the curve": _a_off_curve,
    "B in proof.json order [c0, c1]": _b_unswapped,
}
"""Edits of the proof words (pA, pB, pC in calldata order)."""


@pytest.mark.parametrize("case", TAMPERINGS)
def test_tampered_proof_is_rejected(chain: Chain, bundle: ProofBundle, proof: Proof, case: str) -> None:
    words = TAMPERINGS[case](calldata.proof_words(proof))
    public = bundle.public_signals.as_list()
    verify = calldata.VERIFY_PROOF_SELECTOR + calldata.abi_words([*words, *public])
    assert chain.call(chain.verifier.address, verify) == VERIFY_FAILED
    assert chain.revert(chain.gate.address, check_margin(bundle, words)).name == "InvalidProof"


def test_proof_is_rejected_for_another_epoch_and_an_unknown_epoch(chain: Chain, bundle: ProofBundle, proof: Proof,
                                                                  snapshot: RiskSnapshot,
                                                                  epoch_tree: EpochTree) -> None:
    later = snapshot.model_copy(update={"epoch": snapshot.epoch + 1})
    later_root = SnapshotCommitment(later, SMALL.profile).root
    publish = chain.gate.encode_abi("publishEpoch", [later.epoch, later_root, epoch_tree.epoch.account_root])
    assert chain.send(chain.gate.address, publish)["status"] == 1
    words = calldata.proof_words(proof)
    rejected = chain.revert(chain.gate.address, check_margin(bundle, words, epoch=later.epoch))
    assert rejected.name == "InvalidProof" and rejected.args[0] == later.epoch
    unknown = chain.revert(chain.gate.address, check_margin(bundle, words, epoch=later.epoch + 1))
    assert unknown == Revert("UnknownEpoch", (later.epoch + 1,))


def test_proof_replayed_for_another_holder_is_rejected(chain: Chain, bundle: ProofBundle, proof: Proof,
                                                       statements: dict[str, Statement]) -> None:
    other = statements["futures_basis_trade"].holder
    data = check_margin(bundle, calldata.proof_words(proof), holder=other)
    assert chain.revert(chain.gate.address, data).name == "InvalidProof"
    assert chain.send(chain.gate.address, data)["status"] == 0
    assert chain.gate.functions.provenThresholdBps(bundle.epoch, other).call() == 0


@pytest.mark.parametrize("threshold", [MIN_THRESHOLD_BPS, PROVEN_BPS + 1])
def test_proof_is_rejected_for_another_threshold(chain: Chain, bundle: ProofBundle, proof: Proof,
                                                 threshold: int) -> None:
    data = check_margin(bundle, calldata.proof_words(proof), threshold=threshold)
    assert chain.revert(chain.gate.address, data).name == "InvalidProof"


def test_threshold_below_the_minimum_is_refused_before_the_pairing(chain: Chain, bundle: ProofBundle,
                                                                   proof: Proof) -> None:
    gate = chain.gate
    data = check_margin(bundle, calldata.proof_words(proof))
    raised = gate.encode_abi("setMinThresholdBps", [PROVEN_BPS + 1])
    receipt = chain.send(gate.address, raised)
    assert receipt["status"] == 1
    (event,) = gate.events.MinThresholdSet().process_receipt(receipt)
    assert event["args"]["minThresholdBps"] == PROVEN_BPS + 1
    try:
        assert chain.revert(gate.address, data) == Revert("ThresholdBelowMinimum", (PROVEN_BPS, PROVEN_BPS + 1))
        zero = check_margin(bundle, calldata.proof_words(proof), threshold=0)
        assert chain.revert(gate.address, zero).name == "ThresholdBelowMinimum"
    finally:
        assert chain.send(gate.address, gate.encode_abi("setMinThresholdBps", [MIN_THRESHOLD_BPS]))["status"] == 1
    assert gate.functions.minThresholdBps().call() == MIN_THRESHOLD_BPS


@pytest.mark.parametrize("minimum", [0, fp.R])
def test_minimum_threshold_zero_or_not_a_field_element_is_refused(chain: Chain, artifacts: dict[str, dict[str, Any]],
                                                                   minimum: int) -> None:
    setter = chain.revert(chain.gate.address, chain.gate.encode_abi("setMinThresholdBps", [minimum]))
    assert setter == Revert("InvalidMinThreshold", (minimum,))
    factory = chain.w3.eth.contract(abi=artifacts["MarginGate"]["abi"], bytecode=artifacts["MarginGate"]["bytecode"])
    deploy = factory.constructor(chain.verifier.address, chain.owner, minimum).build_transaction(
        {"from": chain.owner, "gas": DEPLOY_GAS_LIMIT})
    assert revert(chain.w3, deploy, [chain.gate.abi]) == Revert("InvalidMinThreshold", (minimum,))


def test_sender_must_be_the_holder_when_required(chain: Chain, bundle: ProofBundle, proof: Proof) -> None:
    gate, holder = chain.gate, int(bundle.public_signals.holder)
    data = check_margin(bundle, calldata.proof_words(proof))
    receipt = chain.send(gate.address, gate.encode_abi("setRequireSenderIsHolder", [True]))
    (event,) = gate.events.RequireSenderIsHolderSet().process_receipt(receipt)
    assert event["args"]["required"] is True
    try:
        assert chain.revert(gate.address, data) == Revert("SenderNotHolder", (chain.owner.lower(), holder))
        # the holder's own address may submit (an eth_call from it, funded: the chain holds no key for it)
        address = chain.w3.to_checksum_address(f"0x{holder:040x}")
        chain.w3.eth.wait_for_transaction_receipt(
            chain.w3.eth.send_transaction({"from": chain.owner, "to": address, "value": Web3.to_wei(1, "ether")}))
        assert chain.w3.eth.call({"from": address, "to": gate.address, "data": HexBytes(data), "gas": GAS_LIMIT}) == b""
    finally:
        assert chain.send(gate.address, gate.encode_abi("setRequireSenderIsHolder", [False]))["status"] == 1
    assert chain.send(gate.address, data, sender=chain.other)["status"] == 1


@pytest.mark.parametrize("index", range(len(PUBLIC_SIGNALS)))
def test_verifier_rejects_public_input_at_or_above_r(chain: Chain, bundle: ProofBundle, proof: Proof,
                                                    index: int) -> None:
    """x + r is x to the ecMul precompile: without the verifier's range check it would verify."""
    public = bundle.public_signals.as_list()
    public[index] += fp.R
    assert chain.call(chain.verifier.address, calldata.verify_proof_call(proof, public)) == VERIFY_FAILED


@pytest.mark.parametrize("field,signal", [("holder", "holder"), ("threshold", "threshold_bps")])
def test_gate_rejects_public_input_at_or_above_r(chain: Chain, bundle: ProofBundle, proof: Proof, field: str,
                                                 signal: str) -> None:
    value = int(getattr(bundle.public_signals, signal))
    data = check_margin(bundle, calldata.proof_words(proof), **{field: value + fp.R})
    assert chain.revert(chain.gate.address, data) == Revert("NotAFieldElement", (value + fp.R,))


def test_only_the_owner_publishes_epochs_and_epochs_are_final(chain: Chain, bundle: ProofBundle) -> None:
    gate, epoch = chain.gate, bundle.epoch + 100
    publish = gate.encode_abi("publishEpoch", [epoch, 12345, 678])
    assert chain.revert(gate.address, publish, sender=chain.other) == Revert("NotOwner", (chain.other.lower(),))
    for owner_only in (gate.encode_abi("setMinThresholdBps", [20_000]),
                       gate.encode_abi("setRequireSenderIsHolder", [True]),
                       gate.encode_abi("transferOwnership", [chain.other])):
        assert chain.revert(gate.address, owner_only, sender=chain.other).name == "NotOwner"
    for snapshot_root, account_root, bad in ((0, 1, 0), (fp.R, 1, fp.R), (1, 0, 0), (1, fp.R, fp.R)):
        refused = chain.revert(gate.address, gate.encode_abi("publishEpoch", [epoch, snapshot_root, account_root]))
        assert refused == Revert("InvalidRoot", (bad,))
    again = gate.encode_abi("publishEpoch", [bundle.epoch, 12345, 678])
    assert chain.revert(gate.address, again) == Revert("EpochAlreadyPublished", (bundle.epoch,))
    zero = "0x" + "00" * 20
    assert chain.revert(gate.address, gate.encode_abi("transferOwnership", [zero])).name == "ZeroAddress"
    assert chain.send(gate.address, gate.encode_abi("transferOwnership", [chain.other]))["status"] == 1
    assert chain.revert(gate.address, publish).name == "NotOwner"
    receipt = chain.send(gate.address, publish, sender=chain.other)
    (event,) = gate.events.EpochPublished().process_receipt(receipt)
    assert dict(event["args"]) == {"epoch": epoch, "snapshotRoot": 12345, "accountRoot": 678}
    assert chain.send(gate.address, gate.encode_abi("transferOwnership", [chain.owner]), sender=chain.other)["status"] == 1
    assert gate.functions.owner().call() == chain.owner and gate.functions.epochRoots(epoch).call() == [12345, 678]


def test_verifier_short_of_gas_answers_false_instead_of_reverting(chain: Chain, bundle: ProofBundle,
                                                                  proof: Proof) -> None:
    """Why eth_estimateGas on verifyProof is wrong (README): too little gas looks like a bad proof."""
    data = calldata.verify_proof_call(proof, bundle.public_signals.as_list())
    assert chain.call(chain.verifier.address, data, gas=TX_BASE_GAS + PRECOMPILE_GAS // 4) == VERIFY_FAILED
    assert chain.call(chain.verifier.address, data) == VERIFY_OK


def measured_gas(chain: Chain, accepted: TxReceipt, bundle: ProofBundle, proof: Proof) -> dict[str, int]:
    """Gas used by transactions (receipts), per README row."""
    verify = chain.send(chain.verifier.address, calldata.verify_proof_call(proof, bundle.public_signals.as_list()))
    again = chain.send(chain.gate.address, check_margin(bundle, calldata.proof_words(proof)))
    assert verify["status"] == again["status"] == 1
    return {
        **chain.gas,
        "verifyProof": verify["gasUsed"],
        "checkMargin (new record)": accepted["gasUsed"],
        "checkMargin (already recorded)": again["gasUsed"],
    }


def test_gas_covers_the_precompiles_and_matches_the_readme(chain: Chain, accepted: TxReceipt, bundle: ProofBundle,
                                                           proof: Proof) -> None:
    gas = measured_gas(chain, accepted, bundle, proof)
    assert TX_BASE_GAS + PRECOMPILE_GAS < gas["verifyProof"] < TX_BASE_GAS + PRECOMPILE_GAS + 15_000
    assert gas["checkMargin (new record)"] > gas["verifyProof"] + NEW_SLOT_GAS
    assert gas["verifyProof"] < gas["checkMargin (already recorded)"] < gas["verifyProof"] + NEW_SLOT_GAS
    documented = readme_table()
    for row, used in gas.items():
        assert documented.get(row) == pytest.approx(used, rel=0.02), (row, used)
