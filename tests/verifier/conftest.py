"""Shared fixtures of the verifier tests: the committed snarkjs files and crafted curve points."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from py_ecc.fields import optimized_bn128_FQ2 as FQ2
from py_ecc.optimized_bn128.optimized_curve import (
    b2,
    curve_order,
    field_modulus,
    is_inf,
    is_on_curve,
    multiply,
)

from verifier import Proof, VerifyingKey, load_proof, load_public_signals, load_verifying_key

FIXTURES = Path(__file__).parent / "fixtures"
MUL_PROOFS = (1, 2, 3, 4, 5)

JsonLoader = Callable[[str], object]


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """Return the directory of committed snarkjs fixtures."""
    return FIXTURES


@pytest.fixture(scope="session")
def mul_vk() -> VerifyingKey:
    """Load the verifying key of mul.circom (two public signals: c and a)."""
    return load_verifying_key(FIXTURES / "mul" / "verification_key.json")


@pytest.fixture(scope="session")
def mul_items() -> list[tuple[Proof, list[int]]]:
    """Load every committed (proof, public signals) pair of mul.circom, all valid."""
    return [
        (
            load_proof(FIXTURES / "mul" / f"proof_{n}.json"),
            load_public_signals(FIXTURES / "mul" / f"public_{n}.json"),
        )
        for n in MUL_PROOFS
    ]


@pytest.fixture(scope="session")
def nopub_vk() -> VerifyingKey:
    """Load the verifying key of nopub.circom (no public signals)."""
    return load_verifying_key(FIXTURES / "nopub" / "verification_key.json")


@pytest.fixture
def raw_json() -> JsonLoader:
    """Return a fresh, mutable copy of a fixture's decoded JSON, by path relative to fixtures/."""
    cache: dict[str, object] = {}

    def load(relative: str) -> object:
        if relative not in cache:
            cache[relative] = json.loads((FIXTURES / relative).read_text(encoding="utf-8"))
        return copy.deepcopy(cache[relative])

    return load


def _fq_sqrt(value: int) -> int | None:
    """Return a square root in Fq (q = 3 mod 4), or None if ``value`` is not a square."""
    root = pow(value, (field_modulus + 1) // 4, field_modulus)
    return root if root * root % field_modulus == value % field_modulus else None


def _fq2_sqrt(value: FQ2) -> FQ2 | None:
    """Return a square root in Fq2 = Fq[i]/(i^2 + 1) by the norm method, or None if there is none."""
    a0, a1 = (int(c) for c in value.coeffs)
    norm_root = _fq_sqrt((a0 * a0 + a1 * a1) % field_modulus)
    if norm_root is None:
        return None
    half = pow(2, -1, field_modulus)
    for sign in (norm_root, field_modulus - norm_root):
        x0 = _fq_sqrt((a0 + sign) * half % field_modulus)
        if x0:
            x1 = a1 * pow(2 * x0, -1, field_modulus) % field_modulus
            root = FQ2([x0, x1])
            if root * root == value:
                return root
    return None


@pytest.fixture(scope="session")
def twist_point_outside_g2() -> tuple[tuple[int, int], tuple[int, int]]:
    """Find an affine point on the twist y^2 = x^3 + 3/(9+i) that r does not kill (so not in G2).

    Tries x = 1, 2, ... until x^3 + b' is a square; a random twist point lies in G2 with
    probability 1/(2q - r), so the first hit is outside it, which the assertion confirms.
    """
    x0 = 0
    while True:
        x0 += 1
        x = FQ2([x0, 0])
        y = _fq2_sqrt(x**3 + b2)
        if y is None:
            continue
        point = (x, y, FQ2.one())
        assert is_on_curve(point, b2)
        assert not is_inf(multiply(point, curve_order))
        return ((x0, 0), (int(y.coeffs[0]), int(y.coeffs[1])))
