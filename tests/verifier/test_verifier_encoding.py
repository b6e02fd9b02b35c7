"""snarkjs JSON <-> points: strict decimals, ranges, shapes, Jacobian coordinates, infinity."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from py_ecc.fields import optimized_bn128_FQ2 as FQ2

from verifier.bn254 import CURVE_ORDER, FIELD_MODULUS, G1Affine, G2Affine
from verifier.encoding import (
    g1_to_json,
    g2_to_json,
    load_json,
    parse_decimal,
    parse_g1,
    parse_g2,
    parse_public_signals,
)
from verifier.proof import Proof
from zkmargin.errors import VerificationError

G1_GENERATOR: G1Affine = (1, 2)


@pytest.mark.parametrize("text", ["0", "7", "007", str(FIELD_MODULUS - 1), "9" * 78])
def test_parse_decimal_accepts_plain_digits(text: str) -> None:
    assert parse_decimal(text, "n") == int(text)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "-1",
        "+1",
        " 1",
        "1 ",
        "1\n",
        "0x10",
        "1e3",
        "1_000",
        "1.0",
        "\u0661\u0662",
        "9" * 79,
        5,
        5.0,
        None,
        ["1"],
        True,
    ],
)
def test_parse_decimal_rejects_everything_else(value: object) -> None:
    with pytest.raises(VerificationError, match="n"):
        parse_decimal(value, "n")


@given(st.integers(min_value=0, max_value=10**78 - 1))
def test_parse_decimal_round_trips_every_int(number: int) -> None:
    assert parse_decimal(str(number), "n") == number


@given(st.text(max_size=90))
def test_parse_decimal_fails_only_with_verification_error(text: str) -> None:
    try:
        number = parse_decimal(text, "n")
    except VerificationError:
        return
    assert text.isascii() and text.isdigit() and number == int(text)


def test_public_signals_must_be_scalars_below_r() -> None:
    assert parse_public_signals(["0", str(CURVE_ORDER - 1)]) == [0, CURVE_ORDER - 1]
    with pytest.raises(VerificationError, match=r"public\[1\].*scalar field"):
        parse_public_signals(["1", str(CURVE_ORDER)])
    with pytest.raises(VerificationError, match="JSON array"):
        parse_public_signals({"0": "1"})


def test_coordinates_must_be_below_q() -> None:
    with pytest.raises(VerificationError, match="below the base field modulus"):
        parse_g1([str(1 + FIELD_MODULUS), "2", "1"], "p")
    with pytest.raises(VerificationError, match="below the base field modulus"):
        parse_g2([["1", "0"], ["2", str(FIELD_MODULUS)], ["1", "0"]], "p")


@pytest.mark.parametrize(
    "value",
    [["1", "2", "1", "1"], ["1"], "1,2", {"x": "1"}, [["1", "2"], "2", "1"]],
)
def test_g1_shape_is_checked(value: object) -> None:
    with pytest.raises(VerificationError):
        parse_g1(value, "p")


@pytest.mark.parametrize(
    "value",
    [
        [["1", "0"], ["2", "0"], ["1", "0"], ["1", "0"]],
        [["1", "0", "0"], ["2", "0"]],
        [["1", "0"], "2"],
        ["1", "2", "1"],
    ],
)
def test_g2_shape_is_checked(value: object) -> None:
    with pytest.raises(VerificationError):
        parse_g2(value, "p")


def test_infinity_is_rejected() -> None:
    with pytest.raises(VerificationError, match="infinity"):
        parse_g1(["0", "1", "0"], "p")
    with pytest.raises(VerificationError, match="infinity"):
        parse_g2([["0", "0"], ["1", "0"], ["0", "0"]], "p")


def test_two_coordinate_points_mean_z_equals_one() -> None:
    assert parse_g1(["1", "2"], "p") == G1_GENERATOR


def test_g1_jacobian_coordinates_are_normalised() -> None:
    lam = 123456789
    x, y = G1_GENERATOR
    scaled = [str(x * lam**2 % FIELD_MODULUS), str(y * lam**3 % FIELD_MODULUS), str(lam)]
    assert parse_g1(scaled, "p") == G1_GENERATOR


def test_g2_jacobian_coordinates_are_normalised(mul_items: list[tuple[Proof, list[int]]]) -> None:
    b = mul_items[0][0].b
    lam = (5, 3)  # 5 + 3i; (x * lam^2, y * lam^3, lam) is the same Jacobian point
    z = FQ2(lam)
    x = FQ2(b[0]) * z * z
    y = FQ2(b[1]) * z * z * z
    scaled = [[str(c) for c in x.coeffs], [str(c) for c in y.coeffs], [str(c) for c in lam]]
    assert parse_g2(scaled, "p") == b


def test_points_round_trip_through_snarkjs_form(mul_items: list[tuple[Proof, list[int]]]) -> None:
    proof = mul_items[0][0]
    g1: G1Affine = proof.a
    g2: G2Affine = proof.b
    assert parse_g1(g1_to_json(g1), "p") == g1
    assert parse_g2(g2_to_json(g2), "p") == g2
    assert g2_to_json(g2)[2] == ["1", "0"]


@pytest.mark.parametrize("content", [b"{not json", b"", b"\xff\xfe", b'{"a": NaN}'])
def test_load_json_rejects_bad_files(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(VerificationError, match="proof"):
        load_json(path, "proof")


def test_load_json_reports_missing_files(tmp_path: Path) -> None:
    with pytest.raises(VerificationError, match="absent.json: no such file"):
        load_json(tmp_path / "absent.json", "vk")


def test_load_json_refuses_deep_nesting_instead_of_crashing(tmp_path: Path) -> None:
    """py_ecc lifts the recursion limit, so the C decoder would overflow the stack on this."""
    path = tmp_path / "deep.json"
    path.write_text("[" * 300_000, encoding="utf-8")
    with pytest.raises(VerificationError, match="nests deeper than 32 levels"):
        load_json(path, "proof")


def test_load_json_ignores_brackets_inside_strings(tmp_path: Path) -> None:
    path = tmp_path / "strings.json"
    path.write_text('{"a": "\\"' + "[" * 100 + '", "b": [[["1"]]]}', encoding="utf-8")
    assert load_json(path, "proof") == {"a": '"' + "[" * 100, "b": [[["1"]]]}
