"""Batch verification: one final exponentiation for a valid batch, exact blame for a bad one."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from verifier import Proof, VerifyingKey, load_proof, load_public_signals, verify_batch
from verifier.bn254 import CURVE_ORDER
from zkmargin.errors import VerificationError

MulItems = list[tuple[Proof, list[int]]]


def _batch(mul_items: MulItems, invalid: Sequence[int], size: int) -> list[tuple[Proof, list[int]]]:
    """``size`` items cycling through the valid fixtures; those at ``invalid`` get wrong inputs."""
    items = []
    for index in range(size):
        proof, public = mul_items[index % len(mul_items)]
        if index in invalid:
            public = [public[0], (public[1] + 1) % CURVE_ORDER]
        items.append((proof, public))
    return items


def test_empty_batch(mul_vk: VerifyingKey) -> None:
    assert verify_batch(mul_vk, []) == []


def test_all_valid(mul_vk: VerifyingKey, mul_items: MulItems) -> None:
    assert verify_batch(mul_vk, _batch(mul_items, [], 7)) == [True] * 7


@pytest.mark.parametrize(
    ("size", "invalid"),
    [
        (1, [0]),
        (2, [0]),
        (2, [1]),
        (6, [0]),
        (6, [5]),
        (7, [1, 4]),
        (7, [2, 3]),
        (5, [0, 2, 4]),
        (4, [0, 1, 2, 3]),
    ],
)
def test_flags_exactly_the_invalid_items(
    mul_vk: VerifyingKey, mul_items: MulItems, size: int, invalid: list[int]
) -> None:
    expected = [index not in invalid for index in range(size)]
    assert verify_batch(mul_vk, _batch(mul_items, invalid, size)) == expected


def test_tampered_proof_points_are_flagged(mul_vk: VerifyingKey, mul_items: MulItems) -> None:
    (p1, s1), (p2, s2), (p3, s3) = mul_items[:3]
    items = [(p1, s1), (Proof(p2.a, p1.b, p2.c), s2), (p3, s3), (Proof(p3.a, p3.b, p1.c), s3)]
    assert verify_batch(mul_vk, items) == [True, False, True, False]


def test_batch_under_a_key_without_public_signals(fixtures_dir: Path, nopub_vk: VerifyingKey) -> None:
    proof = load_proof(fixtures_dir / "nopub" / "proof_1.json")
    assert load_public_signals(fixtures_dir / "nopub" / "public_1.json") == []
    assert verify_batch(nopub_vk, [(proof, []), (proof, [])]) == [True, True]


def test_malformed_public_inputs_raise_naming_the_item(mul_vk: VerifyingKey, mul_items: MulItems) -> None:
    proof, public = mul_items[0]
    with pytest.raises(VerificationError, match=r"items\[1\]\.public: 1 public signal"):
        verify_batch(mul_vk, [(proof, public), (proof, public[:1])])
    with pytest.raises(VerificationError, match=r"items\[2\]\.public\[0\].*scalar field"):
        verify_batch(mul_vk, [(proof, public), (proof, public), (proof, [CURVE_ORDER, 1])])
