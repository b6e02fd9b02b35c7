"""Solidity calldata in Python: equal to snarkjs's, G2 order as the precompile reads it, ABI layout."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from eth_utils import keccak

from prover import snarkjs
from tests.onchain.evm import cli
from verifier import load_proof, load_public_signals, parse_proof
from zkmargin import calldata
from zkmargin.bundle import ProofBundle
from zkmargin.cli import main
from zkmargin.errors import InputError

MUL = Path(__file__).resolve().parent.parent / "verifier" / "fixtures" / "mul"
MUL_PROOFS = (1, 2, 3, 4, 5)


@pytest.mark.parametrize("n", MUL_PROOFS)
def test_equals_snarkjs_soliditycalldata(n: int) -> None:
    proof_json, public_json = MUL / f"proof_{n}.json", MUL / f"public_{n}.json"
    expected = snarkjs.solidity_calldata(json.loads(proof_json.read_text()), json.loads(public_json.read_text()))
    ours = calldata.snarkjs_calldata(load_proof(proof_json), load_public_signals(public_json))
    assert ours == expected
    assert cli(["calldata", str(proof_json), "--public", str(public_json)]) == expected + "\n"


def test_bundle_calldata_equals_snarkjs(bundle: ProofBundle, bundle_file: Path) -> None:
    expected = snarkjs.solidity_calldata(bundle.proof.model_dump(), bundle.public_signals.as_list())
    assert cli(["calldata", str(bundle_file)]) == expected + "\n"


def test_g2_coordinates_are_imaginary_part_first() -> None:
    raw = json.loads((MUL / "proof_1.json").read_text())
    words = calldata.proof_words(load_proof(MUL / "proof_1.json"))
    (x0, x1), (y0, y1) = ([int(c) for c in pair] for pair in raw["pi_b"][:2])
    assert words == [int(raw["pi_a"][0]), int(raw["pi_a"][1]), x1, x0, y1, y0, int(raw["pi_c"][0]), int(raw["pi_c"][1])]


def test_abi_encoding_is_selector_then_one_word_per_integer(bundle: ProofBundle) -> None:
    proof = parse_proof(bundle.proof.model_dump())
    public = bundle.public_signals.as_list()
    words = [*calldata.proof_words(proof), *public]
    call = calldata.verify_proof_call(proof, public)
    assert call[:4] == calldata.VERIFY_PROOF_SELECTOR and len(call) == 4 + 32 * 12
    assert [int.from_bytes(call[4 + 32 * i:36 + 32 * i], "big") for i in range(12)] == words
    holder, threshold = int(bundle.public_signals.holder), int(bundle.public_signals.threshold_bps)
    margin = calldata.check_margin_call(bundle.epoch, holder, threshold, proof)
    assert margin[:4] == calldata.CHECK_MARGIN_SELECTOR
    assert margin[4:] == calldata.abi_words([bundle.epoch, holder, threshold, *calldata.proof_words(proof)])


@pytest.mark.parametrize("signature,selector", [
    (calldata.VERIFY_PROOF_SIGNATURE, calldata.VERIFY_PROOF_SELECTOR),
    (calldata.CHECK_MARGIN_SIGNATURE, calldata.CHECK_MARGIN_SELECTOR),
])
def test_selector_constants_are_the_keccak_of_their_signatures(signature: str, selector: bytes) -> None:
    assert keccak(text=signature)[:4] == selector


def test_values_that_do_not_fit_their_abi_type_are_refused() -> None:
    proof = load_proof(MUL / "proof_1.json")
    with pytest.raises(InputError, match="uint64"):
        calldata.check_margin_call(1 << 64, 1, 1, proof)
    with pytest.raises(InputError, match="uint256"):
        calldata.abi_words([1 << 256])
    with pytest.raises(InputError, match="takes 4 public signals"):
        calldata.verify_proof_call(proof, load_public_signals(MUL / "public_1.json"))


def test_cli_errors_are_one_line(tmp_path: Path) -> None:
    runner = CliRunner()
    plain = runner.invoke(main, ["calldata", str(MUL / "proof_1.json"), "--public", str(MUL / "public_1.json"),
                                 "--function", "checkMargin"])
    assert plain.exit_code == 2 and plain.output.startswith("error: --function checkMargin needs a proof bundle")
    broken = tmp_path / "proof.json"
    broken.write_text("{not json")
    bad = runner.invoke(main, ["calldata", str(broken)])
    assert bad.exit_code == 2 and "malformed JSON" in bad.output and len(bad.output.strip().splitlines()) == 1
    missing = runner.invoke(main, ["export-solidity", "-o", str(tmp_path / "out")], env={"ZKMARGIN_BUILD": str(tmp_path)})
    assert missing.exit_code == 2 and missing.output.startswith("error: no keys for portfolio_small")
