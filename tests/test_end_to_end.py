"""End to end on the small profile: real setup, real proofs, three verifiers, replay and tampering.

The keys, verifying key, prover, example account and snapshot and the proof bundle are session
fixtures of ``tests/conftest.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from prover import snarkjs
from prover.circuits import MarginCircuit
from prover.margin import MarginProver
from prover.setup import KeySet
from verifier import VerifyingKey, parse_proof, verify, verify_batch
from verifier.bundle import Policy, check_bundle
from zkmargin import fixedpoint as fp
from zkmargin.bundle import ProofBundle
from zkmargin.cli import main
from zkmargin.commitment import commit_account
from zkmargin.errors import BelowMarginError, VerificationError
from zkmargin.io import load_model
from zkmargin.models import Account, RiskSnapshot

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def test_proof_verifies_under_py_ecc_and_snarkjs(bundle: ProofBundle, vk: VerifyingKey, keys: KeySet) -> None:
    public = bundle.public_signals.as_list()
    assert verify(vk, parse_proof(bundle.proof.model_dump()), public)
    assert snarkjs.verify(keys.vk, bundle.proof.model_dump(), public)


def test_bundle_passes_a_matching_policy(bundle: ProofBundle, vk: VerifyingKey, account: Account,
                                        snapshot: RiskSnapshot) -> None:
    expected = commit_account(account, MarginCircuit.named("portfolio", "small").profile)
    verdict = check_bundle(bundle, vk, Policy(snapshot, expected, 15_000, "portfolio"))
    assert verdict.ok, verdict.reason


@pytest.mark.parametrize("index,delta", [(0, 1), (1, 1), (2, -1), (2, 1)])
def test_proof_replayed_with_other_public_inputs_fails(bundle: ProofBundle, vk: VerifyingKey, keys: KeySet,
                                                        index: int, delta: int) -> None:
    public = bundle.public_signals.as_list()
    public[index] += delta
    assert not verify(vk, parse_proof(bundle.proof.model_dump()), public)
    assert not snarkjs.verify(keys.vk, bundle.proof.model_dump(), public)


def test_proof_for_one_epoch_is_rejected_for_the_next(bundle: ProofBundle, vk: VerifyingKey,
                                                      snapshot: RiskSnapshot) -> None:
    later = snapshot.model_copy(update={"epoch": snapshot.epoch + 1})
    verdict = check_bundle(bundle, vk, Policy(later))
    assert not verdict.ok and "snapshot root" in verdict.reason


def test_policy_rejects_other_commitment_and_low_threshold(bundle: ProofBundle, vk: VerifyingKey,
                                                           snapshot: RiskSnapshot) -> None:
    assert not check_bundle(bundle, vk, Policy(snapshot, commitment=12345)).ok
    assert not check_bundle(bundle, vk, Policy(snapshot, min_threshold_bps=15_001)).ok
    assert not check_bundle(bundle, vk, Policy(snapshot, model="cross")).ok


def test_tampered_proof_fails_everywhere(bundle: ProofBundle, vk: VerifyingKey, keys: KeySet) -> None:
    proof = bundle.proof.model_dump()
    proof["pi_a"], proof["pi_c"] = proof["pi_c"], proof["pi_a"]
    public = bundle.public_signals.as_list()
    assert not verify(vk, parse_proof(proof), public)
    assert not snarkjs.verify(keys.vk, proof, public)


def test_public_input_at_or_above_r_is_malformed(bundle: ProofBundle, vk: VerifyingKey) -> None:
    public = bundle.public_signals.as_list()
    public[2] += fp.R
    with pytest.raises(VerificationError):
        verify(vk, parse_proof(bundle.proof.model_dump()), public)


def test_account_below_mm_is_refused_before_proving(prover: MarginProver, snapshot: RiskSnapshot) -> None:
    insolvent = load_model(Account, EXAMPLES / "insolvent.json")
    with pytest.raises(BelowMarginError, match="falls short of MM x 1.00x by"):
        prover.prove(insolvent, snapshot)


def test_batch_verification_identifies_the_invalid_proofs(bundle: ProofBundle, vk: VerifyingKey,
                                                          prover: MarginProver, snapshot: RiskSnapshot) -> None:
    other = prover.prove(load_model(Account, EXAMPLES / "futures_basis_trade.json"), snapshot)
    good = [(parse_proof(b.proof.model_dump()), b.public_signals.as_list()) for b in (bundle, other)]
    swapped = [(good[0][0], good[1][1]), (good[1][0], good[0][1])]
    assert verify_batch(vk, [good[0], swapped[0], good[1], swapped[1]]) == [True, False, True, False]


def test_cli_prove_then_verify(tmp_path: Path, keys: KeySet, account: Account) -> None:
    runner = CliRunner()
    out = tmp_path / "proof.json"
    acc, snap = str(EXAMPLES / "naked_short_calls.json"), str(EXAMPLES / "snapshot_span16.json")
    r = runner.invoke(main, ["prove", acc, snap, "-o", str(out)])
    assert r.exit_code == 0, r.output
    ok = runner.invoke(main, ["verify", str(out), "--snapshot", snap, "--vk", str(keys.vk)])
    assert ok.exit_code == 0 and ok.output.startswith("valid:")
    bad = runner.invoke(main, ["verify", str(out), "--snapshot", snap, "--vk", str(keys.vk), "--commitment", "7"])
    assert bad.exit_code == 1 and bad.output.startswith("invalid: account commitment")
    data = json.loads(out.read_text())
    data["schema_version"] = 2
    out.write_text(json.dumps(data))
    wrong = runner.invoke(main, ["verify", str(out), "--snapshot", snap, "--vk", str(keys.vk)])
    assert wrong.exit_code == 2 and "schema_version" in wrong.output and "Traceback" not in wrong.output
    out.write_text("{not json")
    corrupt = runner.invoke(main, ["verify", str(out), "--snapshot", snap, "--vk", str(keys.vk)])
    assert corrupt.exit_code == 2 and "malformed JSON" in corrupt.output


def test_cli_prove_refuses_an_insolvent_account(tmp_path: Path, keys: KeySet) -> None:
    r = CliRunner().invoke(main, ["prove", str(EXAMPLES / "insolvent.json"), str(EXAMPLES / "snapshot_span16.json"),
                                  "-o", str(tmp_path / "p.json")])
    assert r.exit_code == 1 and "not proven: BELOW MARGIN" in r.output
    assert not (tmp_path / "p.json").exists()


def test_cli_missing_file_is_one_line(tmp_path: Path) -> None:
    r = CliRunner().invoke(main, ["margin", str(tmp_path / "nope.json"), str(EXAMPLES / "snapshot_span16.json")])
    assert r.exit_code == 2 and r.output.strip().endswith("nope.json: no such file")
    assert len(r.output.strip().splitlines()) == 1
