"""End to end on the small profile: a venue publishes an epoch, a trader proves, verifiers check.

Real setup, real proofs, three verifiers, the venue's signature, replay and tampering. The keys,
verifying key, prover, example snapshot, the example venue's epoch and the hedged market maker's
statement and proof bundle are session fixtures of ``tests/conftest.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from prover import snarkjs
from prover.margin import MarginProver
from prover.setup import KeySet
from tests.conftest import EXAMPLES, statement_of
from verifier import VerifyingKey, parse_proof, verify, verify_batch
from verifier.bundle import Policy, check_bundle
from zkmargin import fixedpoint as fp
from zkmargin.bundle import ProofBundle
from zkmargin.cli import main
from zkmargin.errors import BelowMarginError, InputError, VerificationError
from zkmargin.models import RiskSnapshot, Statement
from zkmargin.models.types import holder_from_text
from zkmargin.venue import EpochTree, generate_key, public_key_hex, publish, sign_epoch

HEDGED = holder_from_text("0xb522d572e97d82da713788719c24beca7f5cabc8")


def policy(published: EpochTree, key: Ed25519PrivateKey, snap: RiskSnapshot, **change: object) -> Policy:
    """The policy of a lender expecting the hedged market maker at 1.5 x MM, with ``change``s."""
    fields: dict[str, object] = dict(snapshot=snap, epoch=published.epoch, venue_key=key.public_key(),
                                     model="portfolio", holders=frozenset({HEDGED}), min_threshold_bps=15_000)
    return Policy(**{**fields, **change})  # type: ignore[arg-type]


def test_proof_verifies_under_py_ecc_and_snarkjs(bundle: ProofBundle, vk: VerifyingKey, keys: KeySet) -> None:
    public = bundle.public_signals.as_list()
    assert verify(vk, parse_proof(bundle.proof.model_dump()), public)
    assert snarkjs.verify(keys.vk, bundle.proof.model_dump(), public)


def test_bundle_states_the_attested_account_and_nothing_else(bundle: ProofBundle, statement: Statement,
                                                             epoch: EpochTree) -> None:
    public = bundle.public_signals
    assert (int(public.account_root), int(public.holder), int(public.threshold_bps)) == (
        epoch.epoch.account_root, statement.holder, 15_000)
    assert int(public.snapshot_root) == epoch.epoch.snapshot_roots["small"]
    text = bundle.model_dump_json()
    assert str(statement.salt) not in text and "positions" not in text and statement.account_id not in text


def test_bundle_passes_a_matching_policy(bundle: ProofBundle, vk: VerifyingKey, epoch: EpochTree,
                                        venue_key: Ed25519PrivateKey, snapshot: RiskSnapshot) -> None:
    verdict = check_bundle(bundle, vk, policy(epoch, venue_key, snapshot))
    assert verdict.ok, verdict.reason
    assert "holder 0xb522d572e97d82da713788719c24beca7f5cabc8" in verdict.reason


@pytest.mark.parametrize("index,delta", [(0, 1), (1, 1), (2, 1), (3, -1), (3, 1)])
def test_proof_replayed_with_other_public_inputs_fails(bundle: ProofBundle, vk: VerifyingKey, keys: KeySet,
                                                        index: int, delta: int) -> None:
    """Another snapshot root, account root, holder or threshold: the pairing fails."""
    public = bundle.public_signals.as_list()
    public[index] += delta
    assert not verify(vk, parse_proof(bundle.proof.model_dump()), public)
    assert not snarkjs.verify(keys.vk, bundle.proof.model_dump(), public)


@pytest.mark.parametrize("index", range(4))
def test_public_input_aliased_by_r_is_malformed(bundle: ProofBundle, vk: VerifyingKey, index: int) -> None:
    """x + r is x in the field: a verifier that reduced it would accept the proof for a "new" input."""
    public = bundle.public_signals.as_list()
    public[index] += fp.R
    with pytest.raises(VerificationError):
        verify(vk, parse_proof(bundle.proof.model_dump()), public)


def test_policy_refusals_name_their_reason(bundle: ProofBundle, vk: VerifyingKey, epoch: EpochTree,
                                           venue_key: Ed25519PrivateKey, snapshot: RiskSnapshot) -> None:
    def reason(**change: object) -> str:
        verdict = check_bundle(bundle, vk, policy(epoch, venue_key, snapshot, **change))
        assert not verdict.ok
        return verdict.reason

    assert "not an expected holder" in reason(holders=frozenset({HEDGED + 1}))
    assert "below the required 15001 bps" in reason(min_threshold_bps=15_001)
    assert "policy requires cross" in reason(model="cross")
    assert "not the venue key" in reason(venue_key=generate_key().public_key())
    later = snapshot.model_copy(update={"epoch": snapshot.epoch + 1})
    assert "epoch" in reason(snapshot=later)
    # an epoch file re-signed by someone else, with another account root
    forged = sign_epoch(epoch.epoch.header().model_copy(update={"account_root": 7}), generate_key())
    assert "not the venue key" in reason(epoch=forged)
    resigned = sign_epoch(epoch.epoch.header().model_copy(update={"account_root": 7}), venue_key)
    assert "is not the venue's account root" in reason(epoch=resigned)


def test_policy_refuses_claims_the_bundle_makes_about_itself(bundle: ProofBundle, vk: VerifyingKey, epoch: EpochTree,
                                                             venue_key: Ed25519PrivateKey,
                                                             snapshot: RiskSnapshot) -> None:
    p = policy(epoch, venue_key, snapshot)
    for change, why in (({"model": "cross"}, "policy requires portfolio"),
                        ({"circuit_id": "../../tmp/evil"}, "claims circuit"),
                        ({"epoch": bundle.epoch + 1}, "claims epoch"),
                        ({"profile": "standard", "circuit_id": "portfolio_standard"}, "snapshot")):
        verdict = check_bundle(bundle.model_copy(update=change), vk, p)
        assert not verdict.ok and why in verdict.reason, (change, verdict.reason)


def test_policy_demands_a_holder_and_a_positive_threshold(epoch: EpochTree, venue_key: Ed25519PrivateKey,
                                                          snapshot: RiskSnapshot) -> None:
    with pytest.raises(InputError, match="holder"):
        policy(epoch, venue_key, snapshot, holders=frozenset())
    with pytest.raises(InputError, match="at least 1 bps"):
        policy(epoch, venue_key, snapshot, min_threshold_bps=0)


def test_tampered_proof_fails_everywhere(bundle: ProofBundle, vk: VerifyingKey, keys: KeySet) -> None:
    proof = bundle.proof.model_dump()
    proof["pi_a"], proof["pi_c"] = proof["pi_c"], proof["pi_a"]
    public = bundle.public_signals.as_list()
    assert not verify(vk, parse_proof(proof), public)
    assert not snarkjs.verify(keys.vk, proof, public)


def test_account_below_mm_is_refused_before_proving(prover: MarginProver, epoch: EpochTree,
                                                    snapshot: RiskSnapshot) -> None:
    with pytest.raises(BelowMarginError, match="falls short of MM x 1.00x by"):
        prover.prove(statement_of(epoch, "insolvent"), snapshot)


def test_an_edited_statement_is_refused_before_proving(prover: MarginProver, statement: Statement,
                                                       snapshot: RiskSnapshot) -> None:
    """The insolvent trader's trick from the issue: drop the losing position, keep the statement."""
    kept = statement.account.model_copy(update={"positions": statement.account.positions[1:]})
    with pytest.raises(InputError, match="do not open to account root"):
        prover.prove(statement.model_copy(update={"account": kept}), snapshot)
    with pytest.raises(InputError, match="epoch"):
        prover.prove(statement, snapshot.model_copy(update={"epoch": snapshot.epoch + 1}))


def test_a_debt_is_proven_against_the_book(prover: MarginProver, epoch: EpochTree, vk: VerifyingKey,
                                           snapshot: RiskSnapshot) -> None:
    borrowed = statement_of(epoch, "borrowed_cash")
    assert any(b.amount < 0 for b in borrowed.account.balances)
    bundle = prover.prove(borrowed, snapshot)
    assert verify(vk, parse_proof(bundle.proof.model_dump()), bundle.public_signals.as_list())


def test_batch_verification_identifies_the_invalid_proofs(bundle: ProofBundle, vk: VerifyingKey, epoch: EpochTree,
                                                          prover: MarginProver, snapshot: RiskSnapshot) -> None:
    other = prover.prove(statement_of(epoch, "futures_basis_trade"), snapshot)
    good = [(parse_proof(b.proof.model_dump()), b.public_signals.as_list()) for b in (bundle, other)]
    swapped = [(good[0][0], good[1][1]), (good[1][0], good[0][1])]
    assert verify_batch(vk, [good[0], swapped[0], good[1], swapped[1]]) == [True, False, True, False]


def test_cli_venue_publish_trader_prove_verifier_verify(tmp_path: Path, keys: KeySet) -> None:
    """The README walkthrough: venue keygen + publish, trader prove, verifier verify."""
    runner = CliRunner()
    snap = str(EXAMPLES / "snapshot_span16.json")
    assert runner.invoke(main, ["venue", "keygen", "-o", str(tmp_path / "venue")]).exit_code == 0
    r = runner.invoke(main, ["venue", "publish", str(EXAMPLES / "ledger.jsonl"), snap, "--epoch", "1",
                             "--secret", str(tmp_path / "venue.key"), "-o", str(tmp_path / "e1")])
    assert r.exit_code == 0, r.output
    statements = tmp_path / "e1" / "statements"
    assert (statements.stat().st_mode & 0o777) == 0o700
    assert ((statements / "naked_short_calls.json").stat().st_mode & 0o777) == 0o600
    out = tmp_path / "proof.json"
    epoch_file = str(tmp_path / "e1" / "epoch.json")
    r = runner.invoke(main, ["prove", str(statements / "naked_short_calls.json"), snap, "--epoch-file", epoch_file,
                             "-o", str(out)])
    assert r.exit_code == 0, r.output
    holder = json.loads((statements / "naked_short_calls.json").read_text())["holder"]
    check = ["verify", str(out), "--epoch-file", epoch_file, "--venue-key", str(tmp_path / "venue.pub"),
             "--snapshot", snap, "--model", "portfolio", "--vk", str(keys.vk)]
    ok = runner.invoke(main, [*check, "--holder", holder])
    assert ok.exit_code == 0 and ok.output.startswith("valid:"), ok.output
    other = runner.invoke(main, [*check, "--holder", "0x" + "11" * 20])
    assert other.exit_code == 1 and "not an expected holder" in other.output
    missing = runner.invoke(main, check)
    assert missing.exit_code == 2 and "--holder" in missing.output
    wrong_key = runner.invoke(main, [*check, "--holder", holder, "--venue-key", public_key_hex(
        generate_key().public_key())])
    assert wrong_key.exit_code == 1 and "not the venue key" in wrong_key.output
    data = json.loads(out.read_text())
    data["schema_version"] = 1
    out.write_text(json.dumps(data))
    old = runner.invoke(main, [*check, "--holder", holder])
    assert old.exit_code == 2 and "schema_version" in old.output and "Traceback" not in old.output
    out.write_text("{not json")
    corrupt = runner.invoke(main, [*check, "--holder", holder])
    assert corrupt.exit_code == 2 and "malformed JSON" in corrupt.output


def test_cli_prove_refuses_an_insolvent_account_and_an_edited_statement(tmp_path: Path, keys: KeySet,
                                                                        epoch: EpochTree) -> None:
    publish(epoch, tmp_path)
    snap = str(EXAMPLES / "snapshot_span16.json")
    args = [snap, "--epoch-file", str(tmp_path / "epoch.json"), "-o", str(tmp_path / "p.json")]
    r = CliRunner().invoke(main, ["prove", str(tmp_path / "statements" / "insolvent.json"), *args])
    assert r.exit_code == 1 and "not proven: BELOW MARGIN" in r.output
    assert not (tmp_path / "p.json").exists()
    path = tmp_path / "statements" / "insolvent.json"
    data = json.loads(path.read_text())
    data["account"]["positions"] = []                       # "my losing positions? never had them"
    path.write_text(json.dumps(data))
    r = CliRunner().invoke(main, ["prove", str(path), *args])
    assert r.exit_code == 2 and "do not open to account root" in r.output
    assert not (tmp_path / "p.json").exists()


def test_cli_missing_file_is_one_line(tmp_path: Path) -> None:
    r = CliRunner().invoke(main, ["margin", str(tmp_path / "nope.json"), str(EXAMPLES / "snapshot_span16.json")])
    assert r.exit_code == 2 and r.output.strip().endswith("nope.json: no such file")
    assert len(r.output.strip().splitlines()) == 1
