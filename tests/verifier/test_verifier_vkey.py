"""Verifying-key loading, validation, the e(alpha, beta) cache and the fingerprint."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from py_ecc.optimized_bn128.optimized_pairing import pairing

from verifier import VerifyingKey, load_verifying_key, parse_verifying_key
from verifier.bn254 import FIELD_MODULUS, G2Affine, g1_to_py, g2_to_py
from zkmargin.errors import VerificationError

JsonLoader = Callable[[str], object]

MUL_VK = "mul/verification_key.json"


def test_loads_the_fixture_keys(mul_vk: VerifyingKey, nopub_vk: VerifyingKey) -> None:
    assert mul_vk.n_public == 2 and len(mul_vk.ic) == 3
    assert nopub_vk.n_public == 0 and len(nopub_vk.ic) == 1
    assert mul_vk.gamma_2 != mul_vk.delta_2  # the fixtures had a phase-2 contribution


def test_alpha_beta_is_the_pairing_and_is_cached(mul_vk: VerifyingKey) -> None:
    expected = pairing(g2_to_py(mul_vk.beta_2), g1_to_py(mul_vk.alpha_1))
    assert mul_vk.alpha_beta == expected
    assert mul_vk.alpha_beta is mul_vk.alpha_beta


def test_fingerprint_is_sha256_of_the_documented_canonical_json(mul_vk: VerifyingKey) -> None:
    canonical = mul_vk.canonical_json()
    assert " " not in canonical and "vk_alphabeta_12" not in canonical
    assert list(json.loads(canonical)) == sorted(json.loads(canonical))
    assert mul_vk.fingerprint() == hashlib.sha256(canonical.encode()).hexdigest()
    assert parse_verifying_key(json.loads(canonical)) == mul_vk


def test_fingerprint_ignores_formatting_and_derived_fields(
    raw_json: JsonLoader, mul_vk: VerifyingKey
) -> None:
    obj = raw_json(MUL_VK)
    assert isinstance(obj, dict)
    del obj["vk_alphabeta_12"]
    obj["curve"] = "BN254"
    obj["comment"] = "ignored"
    lam = 987654321
    x, y, _ = (int(v) for v in obj["vk_alpha_1"])
    obj["vk_alpha_1"] = [str(x * lam**2 % FIELD_MODULUS), str(y * lam**3 % FIELD_MODULUS), str(lam)]
    assert parse_verifying_key(obj).fingerprint() == mul_vk.fingerprint()


def test_fingerprint_distinguishes_keys(mul_vk: VerifyingKey, nopub_vk: VerifyingKey) -> None:
    assert mul_vk.fingerprint() != nopub_vk.fingerprint()
    swapped = VerifyingKey(mul_vk.alpha_1, mul_vk.beta_2, mul_vk.delta_2, mul_vk.gamma_2, mul_vk.ic)
    assert swapped.fingerprint() != mul_vk.fingerprint()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("protocol", "plonk", "unsupported protocol"),
        ("curve", "bls12381", "unsupported curve"),
        ("nPublic", 3, r"IC: has 3 points but nPublic \+ 1 = 4"),
        ("nPublic", "2", "non-negative integer"),
        ("nPublic", -1, "non-negative integer"),
        ("nPublic", True, "non-negative integer"),
        ("IC", [], "IC: has 0 points"),
        ("vk_alpha_1", ["1", "3", "1"], "not on the BN254 curve"),
        ("vk_alpha_1", ["0", "1", "0"], "infinity"),
        ("vk_gamma_2", [["1", "0"], ["2", "0"], ["1", "0"]], "not on the BN254 twist"),
        ("vk_delta_2", [["0", "0"], ["1", "0"], ["0", "0"]], "infinity"),
    ],
)
def test_malformed_keys_are_rejected(raw_json: JsonLoader, field: str, value: object, message: str) -> None:
    obj = raw_json(MUL_VK)
    assert isinstance(obj, dict)
    obj[field] = value
    with pytest.raises(VerificationError, match=message):
        parse_verifying_key(obj)


def test_ic_count_must_match_npublic(raw_json: JsonLoader) -> None:
    obj = raw_json(MUL_VK)
    assert isinstance(obj, dict)
    obj["IC"].append(obj["IC"][0])
    with pytest.raises(VerificationError, match=r"IC: has 4 points but nPublic \+ 1 = 3"):
        parse_verifying_key(obj)


def test_missing_fields_are_named(raw_json: JsonLoader) -> None:
    obj = raw_json(MUL_VK)
    assert isinstance(obj, dict)
    del obj["vk_delta_2"]
    with pytest.raises(VerificationError, match=r"missing field.*vk_delta_2"):
        parse_verifying_key(obj)
    with pytest.raises(VerificationError, match="JSON object"):
        parse_verifying_key([obj])


def test_g2_points_outside_the_subgroup_are_rejected(
    raw_json: JsonLoader, twist_point_outside_g2: G2Affine
) -> None:
    obj = raw_json(MUL_VK)
    assert isinstance(obj, dict)
    (x0, x1), (y0, y1) = twist_point_outside_g2
    obj["vk_delta_2"] = [[str(x0), str(x1)], [str(y0), str(y1)], ["1", "0"]]
    with pytest.raises(
        VerificationError, match=r"vk\.vk_delta_2: point is on the twist but not in the order-r"
    ):
        parse_verifying_key(obj)


def test_direct_construction_is_validated(mul_vk: VerifyingKey, twist_point_outside_g2: G2Affine) -> None:
    with pytest.raises(VerificationError, match="order-r subgroup"):
        VerifyingKey(mul_vk.alpha_1, twist_point_outside_g2, mul_vk.gamma_2, mul_vk.delta_2, mul_vk.ic)
    with pytest.raises(VerificationError, match="at least one point"):
        VerifyingKey(mul_vk.alpha_1, mul_vk.beta_2, mul_vk.gamma_2, mul_vk.delta_2, ())
    with pytest.raises(VerificationError, match=r"IC\[1\].*below the base field modulus"):
        VerifyingKey(
            mul_vk.alpha_1,
            mul_vk.beta_2,
            mul_vk.gamma_2,
            mul_vk.delta_2,
            (mul_vk.ic[0], (1, 2 + FIELD_MODULUS)),
        )


def test_load_verifying_key_reads_files(tmp_path: Path, mul_vk: VerifyingKey) -> None:
    path = tmp_path / "vk.json"
    path.write_text(mul_vk.canonical_json(), encoding="utf-8")
    assert load_verifying_key(path) == mul_vk
