"""The exported verifier and MarginGate in a real EVM (py-evm): accept, reject, gas."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from eth.vm.forks.istanbul.constants import (
    GAS_ECADD,
    GAS_ECMUL,
    GAS_ECPAIRING_BASE,
    GAS_ECPAIRING_PER_POINT,
)
from web3.types import TxReceipt

from prover.circuits import MarginCircuit
from tests.onchain.evm import VERIFY_FAILED, VERIFY_OK, Chain, cli
from verifier import Proof, parse_proof
from verifier.bn254 import FIELD_MODULUS as Q
from zkmargin import calldata
from zkmargin import fixedpoint as fp
from zkmargin.bundle import ProofBundle
from zkmargin.commitment import SnapshotCommitment, commit_account
from zkmargin.io import load_model
from zkmargin.models import Account, RiskSnapshot
from zkmargin.profiles import PUBLIC_SIGNALS

README = Path(__file__).resolve().parents[2] / "README.md"
EXAMPLES = README.parent / "examples"
SMALL = MarginCircuit.named("portfolio", "small")

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
                 commitment: int | None = None, threshold: int | None = None) -> bytes:
    """checkMargin calldata for ``bundle``'s arguments with any of them replaced."""
    signals = bundle.public_signals
    return calldata.CHECK_MARGIN_SELECTOR + calldata.abi_words([
        bundle.epoch if epoch is None else epoch,
        int(signals.account_commitment) if commitment is None else commitment,
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


def test_valid_proof_is_accepted_recorded_and_announced(chain: Chain, accepted: TxReceipt, bundle: ProofBundle,
                                                        bundle_file: Path) -> None:
    assert accepted["status"] == 1
    commitment = int(bundle.public_signals.account_commitment)
    (event,) = chain.gate.events.MarginChecked().process_receipt(accepted)
    assert dict(event["args"]) == {"epoch": bundle.epoch, "accountCommitment": commitment,
                                   "thresholdBps": 15_000, "submitter": chain.owner}
    assert chain.gate.functions.provenThresholdBps(bundle.epoch, commitment).call() == 15_000
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


def test_proof_is_rejected_under_another_epochs_root(chain: Chain, bundle: ProofBundle, proof: Proof,
                                                     snapshot: RiskSnapshot) -> None:
    later = snapshot.model_copy(update={"epoch": snapshot.epoch + 1})
    later_root = SnapshotCommitment(later, SMALL.profile).root
    receipt = chain.send(chain.gate.address, chain.gate.encode_abi("setSnapshotRoot", [later.epoch, later_root]))
    assert receipt["status"] == 1
    words = calldata.proof_words(proof)
    rejected = chain.revert(chain.gate.address, check_margin(bundle, words, epoch=later.epoch))
    assert rejected.name == "InvalidProof" and rejected.args[0] == later.epoch
    unknown = chain.revert(chain.gate.address, check_margin(bundle, words, epoch=later.epoch + 1))
    assert unknown.name == "UnknownEpoch"


def test_proof_is_rejected_for_another_accounts_commitment(chain: Chain, bundle: ProofBundle, proof: Proof) -> None:
    other = commit_account(load_model(Account, EXAMPLES / "futures_basis_trade.json"), SMALL.profile)
    data = check_margin(bundle, calldata.proof_words(proof), commitment=other)
    assert chain.revert(chain.gate.address, data).name == "InvalidProof"
    assert chain.send(chain.gate.address, data)["status"] == 0
    assert chain.gate.functions.provenThresholdBps(bundle.epoch, other).call() == 0


@pytest.mark.parametrize("threshold", [10_000, 15_001])
def test_proof_is_rejected_for_another_threshold(chain: Chain, bundle: ProofBundle, proof: Proof,
                                                 threshold: int) -> None:
    data = check_margin(bundle, calldata.proof_words(proof), threshold=threshold)
    assert chain.revert(chain.gate.address, data).name == "InvalidProof"


@pytest.mark.parametrize("index", range(len(PUBLIC_SIGNALS)))
def test_verifier_rejects_public_input_at_or_above_r(chain: Chain, bundle: ProofBundle, proof: Proof,
                                                    index: int) -> None:
    """x + r is x to the ecMul precompile: without the verifier's range check it would verify."""
    public = bundle.public_signals.as_list()
    public[index] += fp.R
    assert chain.call(chain.verifier.address, calldata.verify_proof_call(proof, public)) == VERIFY_FAILED


@pytest.mark.parametrize("field,signal", [("commitment", "account_commitment"), ("threshold", "threshold_bps")])
def test_gate_rejects_public_input_at_or_above_r(chain: Chain, bundle: ProofBundle, proof: Proof, field: str,
                                                 signal: str) -> None:
    value = int(getattr(bundle.public_signals, signal))
    data = check_margin(bundle, calldata.proof_words(proof), **{field: value + fp.R})
    rejected = chain.revert(chain.gate.address, data)
    assert rejected.name == "NotAFieldElement" and rejected.args == (value + fp.R,)


def test_only_the_owner_publishes_roots_and_roots_are_final(chain: Chain, bundle: ProofBundle) -> None:
    gate, epoch = chain.gate, bundle.epoch + 100
    set_root = gate.encode_abi("setSnapshotRoot", [epoch, 12345])
    assert chain.revert(gate.address, set_root, sender=chain.other).name == "NotOwner"
    assert chain.revert(gate.address, gate.encode_abi("setSnapshotRoot", [epoch, 0])).name == "InvalidRoot"
    assert chain.revert(gate.address, gate.encode_abi("setSnapshotRoot", [epoch, fp.R])).name == "InvalidRoot"
    taken = chain.revert(gate.address, gate.encode_abi("setSnapshotRoot", [bundle.epoch, 12345]))
    assert taken.name == "RootAlreadySet" and taken.args == (bundle.epoch, int(bundle.public_signals.snapshot_root))
    zero = "0x" + "00" * 20
    assert chain.revert(gate.address, gate.encode_abi("transferOwnership", [zero])).name == "ZeroAddress"
    assert chain.send(gate.address, gate.encode_abi("transferOwnership", [chain.other]))["status"] == 1
    assert chain.revert(gate.address, set_root).name == "NotOwner"
    assert chain.send(gate.address, set_root, sender=chain.other)["status"] == 1
    assert chain.send(gate.address, gate.encode_abi("transferOwnership", [chain.owner]), sender=chain.other)["status"] == 1
    assert gate.functions.owner().call() == chain.owner and gate.functions.snapshotRoot(epoch).call() == 12345


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
        "deploy Groth16Verifier": chain.deploy_gas["Groth16Verifier"],
        "deploy MarginGate": chain.deploy_gas["MarginGate"],
        "setSnapshotRoot": chain.set_root_gas,
        "verifyProof": verify["gasUsed"],
        "checkMargin (new record)": accepted["gasUsed"],
        "checkMargin (already recorded)": again["gasUsed"],
    }


def readme_gas_table() -> dict[str, int]:
    """The gas table of the README's On-chain section: row label (backticks dropped) -> figure."""
    section = README.read_text().split("\n## On-chain\n", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| ([^|]+?) \| ([\d,]+) \|", section, re.MULTILINE)
    return {label.replace("`", ""): int(figure.replace(",", "")) for label, figure in rows}


def test_gas_covers_the_precompiles_and_matches_the_readme(chain: Chain, accepted: TxReceipt, bundle: ProofBundle,
                                                           proof: Proof) -> None:
    gas = measured_gas(chain, accepted, bundle, proof)
    assert TX_BASE_GAS + PRECOMPILE_GAS < gas["verifyProof"] < TX_BASE_GAS + PRECOMPILE_GAS + 15_000
    assert gas["checkMargin (new record)"] > gas["verifyProof"] + NEW_SLOT_GAS
    assert gas["verifyProof"] < gas["checkMargin (already recorded)"] < gas["verifyProof"] + NEW_SLOT_GAS
    documented = readme_gas_table()
    for row, used in gas.items():
        assert documented.get(row) == pytest.approx(used, rel=0.02), (row, used)
