"""A Groth16 proof (A in G1, B in G2, C in G1) and its snarkjs ``proof.json`` form."""

from __future__ import annotations

import os
from dataclasses import dataclass

from verifier.bn254 import G1Affine, G2Affine, check_g1, check_g2
from verifier.encoding import (
    check_curve_name,
    check_protocol,
    expect_object,
    g1_to_json,
    g2_to_json,
    load_json,
    parse_g1,
    parse_g2,
)


@dataclass(frozen=True)
class Proof:
    """A Groth16 proof with affine points, validated on construction.

    Construction raises :class:`~zkmargin.errors.VerificationError` unless ``a`` and ``c`` are on
    the curve and ``b`` is on the twist and in the order-r subgroup, so every ``Proof`` is safe
    to pair.
    """

    a: G1Affine
    b: G2Affine
    c: G1Affine

    def __post_init__(self) -> None:
        check_g1(self.a, "proof.pi_a")
        check_g2(self.b, "proof.pi_b")
        check_g1(self.c, "proof.pi_c")

    def to_json(self) -> dict[str, object]:
        """Return the snarkjs ``proof.json`` object of this proof (points written with z = 1)."""
        return {
            "pi_a": g1_to_json(self.a),
            "pi_b": g2_to_json(self.b),
            "pi_c": g1_to_json(self.c),
            "protocol": "groth16",
            "curve": "bn128",
        }


def parse_proof(value: object) -> Proof:
    """Build a :class:`Proof` from a decoded snarkjs ``proof.json``.

    ``pi_a``, ``pi_b`` and ``pi_c`` are required; ``protocol`` and ``curve``, which snarkjs
    writes, must be groth16 and BN254 when present. Other keys are ignored.
    """
    obj = expect_object(value, "proof", ("pi_a", "pi_b", "pi_c"))
    if "protocol" in obj:
        check_protocol(obj["protocol"], "proof.protocol")
    if "curve" in obj:
        check_curve_name(obj["curve"], "proof.curve")
    return Proof(
        a=parse_g1(obj["pi_a"], "proof.pi_a"),
        b=parse_g2(obj["pi_b"], "proof.pi_b"),
        c=parse_g1(obj["pi_c"], "proof.pi_c"),
    )


def load_proof(path: str | os.PathLike[str]) -> Proof:
    """Load and validate a snarkjs ``proof.json``."""
    return parse_proof(load_json(path, "proof"))
