"""Single-proof verification on real snarkjs fixtures, and every way a proof can be tampered with."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from pathlib import Path

import pytest
from py_ecc.fields import optimized_bn128_FQ12 as FQ12
from py_ecc.optimized_bn128.optimized_curve import add, multiply, neg
from py_ecc.optimized_bn128.optimized_pairing import pairing

from verifier import (
    Proof,
    VerifyingKey,
    load_proof,
    load_public_signals,
    parse_proof,
    parse_public_signals,
    verify,
    verify_files,
)
from verifier.bn254 import CURVE_ORDER, FIELD_MODULUS, G1Affine, G2Affine, PyG1, g1_to_py, g2_to_py
from verifier.groth16 import public_input_point
from zkmargin.errors import VerificationError

JsonLoader = Callable[[str], object]
MulItems = list[tuple[Proof, list[int]]]


def _affine_g1(point: PyG1) -> G1Affine:
    x, y, z = point
    zi = pow(z.n, -1, FIELD_MODULUS)
    return (x.n * zi % FIELD_MODULUS, y.n * zi % FIELD_MODULUS)


def _write(tmp_path: Path, name: str, obj: object) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(obj), encoding="utf-8")
    return path


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5])
def test_valid_mul_proofs_verify(fixtures_dir: Path, n: int) -> None:
    mul = fixtures_dir / "mul"
    assert verify_files(mul / "verification_key.json", mul / f"proof_{n}.json", mul / f"public_{n}.json")


def test_valid_proof_without_public_signals_verifies(fixtures_dir: Path) -> None:
    nopub = fixtures_dir / "nopub"
    assert verify_files(
        str(nopub / "verification_key.json"), str(nopub / "proof_1.json"), str(nopub / "public_1.json")
    )


def test_agrees_with_the_textbook_pairing_equation(mul_vk: VerifyingKey, mul_items: MulItems) -> None:
    """e(A,B) = e(alpha,beta) e(vk_x,gamma) e(C,delta), with py_ecc's own checked pairing()."""
    proof, public = mul_items[2]
    vk_x = public_input_point(mul_vk, public)
    lhs = pairing(g2_to_py(proof.b), g1_to_py(proof.a))
    rhs = (
        pairing(g2_to_py(mul_vk.beta_2), g1_to_py(mul_vk.alpha_1))
        * pairing(g2_to_py(mul_vk.gamma_2), vk_x)
        * pairing(g2_to_py(mul_vk.delta_2), g1_to_py(proof.c))
    )
    assert lhs == rhs and lhs != FQ12.one()
    assert verify(mul_vk, proof, public)


def test_public_signals_are_c_then_a(mul_items: MulItems) -> None:
    assert [public for _, public in mul_items[:3]] == [[33, 3], [91, 7], [121932631112635269, 123456789]]
    assert mul_items[3][1] == [CURVE_ORDER - 5, CURVE_ORDER - 1]


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda p: [p[1], p[0]], id="swapped"),
        pytest.param(lambda p: [p[0] + 1, p[1]], id="c+1"),
        pytest.param(lambda p: [p[0], (p[1] + 1) % CURVE_ORDER], id="a+1"),
        pytest.param(lambda p: [0, 0], id="zeros"),
    ],
)
def test_wrong_public_signals_return_false(
    mul_vk: VerifyingKey, mul_items: MulItems, tamper: Callable[[list[int]], list[int]]
) -> None:
    proof, public = mul_items[0]
    assert not verify(mul_vk, proof, tamper(public))


def test_public_signals_of_another_proof_return_false(mul_vk: VerifyingKey, mul_items: MulItems) -> None:
    assert not verify(mul_vk, mul_items[0][0], mul_items[1][1])
    assert verify(mul_vk, mul_items[4][0], mul_items[0][1])  # proof 5 proves the statement of proof 1


def test_changed_pi_a_returns_false(mul_vk: VerifyingKey, mul_items: MulItems) -> None:
    proof, public = mul_items[0]
    for a in (
        multiply(g1_to_py(proof.a), 2),
        add(g1_to_py(proof.a), g1_to_py((1, 2))),
        neg(g1_to_py(proof.a)),
    ):
        assert not verify(mul_vk, Proof(_affine_g1(a), proof.b, proof.c), public)


def test_changed_pi_c_returns_false(mul_vk: VerifyingKey, mul_items: MulItems) -> None:
    proof, public = mul_items[0]
    for c in (multiply(g1_to_py(proof.c), 3), neg(g1_to_py(proof.c))):
        assert not verify(mul_vk, Proof(proof.a, proof.b, _affine_g1(c)), public)


def test_mixed_proof_parts_return_false(mul_vk: VerifyingKey, mul_items: MulItems) -> None:
    (p1, public), (p2, _) = mul_items[0], mul_items[1]
    assert not verify(mul_vk, Proof(p1.a, p2.b, p1.c), public)
    assert not verify(mul_vk, Proof(p1.a, p1.b, p2.c), public)
    assert not verify(mul_vk, Proof(p1.c, p1.b, p1.a), public)


def test_public_signal_plus_r_is_rejected(raw_json: JsonLoader) -> None:
    public = raw_json("mul/public_1.json")
    assert isinstance(public, list)
    public[1] = str(int(public[1]) + CURVE_ORDER)
    with pytest.raises(VerificationError, match=r"public\[1\].*scalar field"):
        parse_public_signals(public)


@pytest.mark.parametrize("public", [[33], [33, 3, 0], []])
def test_wrong_public_count_is_rejected(mul_vk: VerifyingKey, mul_items: MulItems, public: list[int]) -> None:
    with pytest.raises(VerificationError, match=f"{len(public)} public signal"):
        verify(mul_vk, mul_items[0][0], public)


@pytest.mark.parametrize("bad", [-1, CURVE_ORDER, CURVE_ORDER + 3, True, "3", 3.0])
def test_out_of_range_public_inputs_are_rejected(
    mul_vk: VerifyingKey, mul_items: MulItems, bad: object
) -> None:
    with pytest.raises(VerificationError, match=r"public\[1\]"):
        verify(mul_vk, mul_items[0][0], [33, bad])  # type: ignore[list-item]


def edited_coordinate(raw_json: JsonLoader, field: str, index: tuple[int, ...],
                      change: Callable[[int], int]) -> dict[str, Any]:
    """The first ``mul`` proof with one coordinate of ``field`` (at nested ``index``) changed."""
    proof = raw_json("mul/proof_1.json")
    assert isinstance(proof, dict)
    target = proof[field]
    for k in index[:-1]:
        target = target[k]
    target[index[-1]] = str(change(int(target[index[-1]])))
    return proof


@pytest.mark.parametrize(
    ("field", "index", "message"),
    [
        ("pi_a", (0,), "below the base field modulus"),
        ("pi_c", (1,), "below the base field modulus"),
        ("pi_b", (1, 0), "below the base field modulus"),
    ],
)
def test_coordinates_at_or_above_q_are_rejected(
    raw_json: JsonLoader, field: str, index: tuple[int, ...], message: str
) -> None:
    """A coordinate plus q denotes the same field element: only the range check stops it."""
    proof = edited_coordinate(raw_json, field, index, lambda x: x + FIELD_MODULUS)
    with pytest.raises(VerificationError, match=message):
        parse_proof(proof)


@pytest.mark.parametrize(
    ("field", "index", "message"),
    [
        ("pi_a", (1,), r"proof\.pi_a: point is not on the BN254 curve"),
        ("pi_c", (0,), r"proof\.pi_c: point is not on the BN254 curve"),
        ("pi_b", (1, 0), r"proof\.pi_b: point is not on the BN254 twist"),
    ],
)
def test_off_curve_points_are_rejected(
    raw_json: JsonLoader, field: str, index: tuple[int, ...], message: str
) -> None:
    proof = edited_coordinate(raw_json, field, index, lambda x: (x + 1) % FIELD_MODULUS)
    with pytest.raises(VerificationError, match=message):
        parse_proof(proof)


def test_g2_point_outside_the_subgroup_is_rejected(
    raw_json: JsonLoader, twist_point_outside_g2: G2Affine
) -> None:
    proof = raw_json("mul/proof_1.json")
    assert isinstance(proof, dict)
    (x0, x1), (y0, y1) = twist_point_outside_g2
    proof["pi_b"] = [[str(x0), str(x1)], [str(y0), str(y1)], ["1", "0"]]
    with pytest.raises(
        VerificationError, match=r"proof\.pi_b: point is on the twist but not in the order-r subgroup"
    ):
        parse_proof(proof)


def test_proof_construction_is_validated(mul_items: MulItems, twist_point_outside_g2: G2Affine) -> None:
    proof = mul_items[0][0]
    with pytest.raises(VerificationError, match="order-r subgroup"):
        Proof(proof.a, twist_point_outside_g2, proof.c)
    with pytest.raises(VerificationError, match="not on the BN254 curve"):
        Proof(proof.a, proof.b, (1, 3))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("pi_a", ["0", "1", "0"], "infinity"),
        ("pi_b", [["0", "0"], ["1", "0"], ["0", "0"]], "infinity"),
        ("pi_c", [19, 2, 1], "decimal string"),
        ("pi_a", ["0x1", "0x2", "0x1"], "not a decimal string"),
        ("pi_b", [["1", "0"], ["2", "0"]], "twist"),
        ("pi_c", "1,2,1", "JSON array"),
        ("protocol", "plonk", "unsupported protocol"),
        ("curve", "bls12381", "unsupported curve"),
    ],
)
def test_malformed_proofs_are_rejected(raw_json: JsonLoader, field: str, value: object, message: str) -> None:
    proof = raw_json("mul/proof_1.json")
    assert isinstance(proof, dict)
    proof[field] = value
    with pytest.raises(VerificationError, match=message):
        parse_proof(proof)


def test_missing_proof_field_is_rejected(raw_json: JsonLoader) -> None:
    proof = raw_json("mul/proof_1.json")
    assert isinstance(proof, dict)
    del proof["pi_c"]
    with pytest.raises(VerificationError, match=r"missing field.*pi_c"):
        parse_proof(proof)


def test_proof_json_round_trips_and_still_verifies(
    tmp_path: Path, fixtures_dir: Path, mul_items: MulItems
) -> None:
    proof, public = mul_items[3]
    path = _write(tmp_path, "proof.json", proof.to_json())
    assert load_proof(path) == proof
    assert verify_files(
        fixtures_dir / "mul" / "verification_key.json", path, fixtures_dir / "mul" / "public_4.json"
    )
    assert load_public_signals(fixtures_dir / "mul" / "public_4.json") == public


def test_jacobian_scaled_proof_still_verifies(
    tmp_path: Path, raw_json: JsonLoader, fixtures_dir: Path
) -> None:
    proof = raw_json("mul/proof_2.json")
    assert isinstance(proof, dict)
    lam = 424242
    x, y, _ = (int(v) for v in proof["pi_a"])
    proof["pi_a"] = [str(x * lam**2 % FIELD_MODULUS), str(y * lam**3 % FIELD_MODULUS), str(lam)]
    mul = fixtures_dir / "mul"
    assert verify_files(
        mul / "verification_key.json", _write(tmp_path, "p.json", proof), mul / "public_2.json"
    )


def test_verify_files_rejects_malformed_files(tmp_path: Path, fixtures_dir: Path) -> None:
    mul = fixtures_dir / "mul"
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(VerificationError, match=r"proof.*not valid JSON"):
        verify_files(mul / "verification_key.json", bad, mul / "public_1.json")
    with pytest.raises(VerificationError, match=r"public.*not valid JSON"):
        verify_files(mul / "verification_key.json", mul / "proof_1.json", bad)
    with pytest.raises(VerificationError, match=r"vk: .*absent.json: no such file"):
        verify_files(tmp_path / "absent.json", mul / "proof_1.json", mul / "public_1.json")


def test_proof_under_the_wrong_key_is_rejected(fixtures_dir: Path) -> None:
    nopub, mul = fixtures_dir / "nopub", fixtures_dir / "mul"
    with pytest.raises(VerificationError, match="2 public signal"):
        verify_files(nopub / "verification_key.json", mul / "proof_1.json", mul / "public_1.json")
    assert not verify_files(nopub / "verification_key.json", mul / "proof_1.json", nopub / "public_1.json")
