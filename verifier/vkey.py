"""The Groth16 verifying key: snarkjs ``verification_key.json`` loading, validation and fingerprint.

Fingerprint
-----------
:meth:`VerifyingKey.fingerprint` is the lowercase hex SHA-256 of the UTF-8 bytes of
:meth:`VerifyingKey.canonical_json`, which is ``json.dumps(obj, sort_keys=True,
separators=(",", ":"))`` (pure ASCII, no whitespace) of the object::

    {"IC": [G1, ...], "curve": "bn128", "nPublic": <int>, "protocol": "groth16",
     "vk_alpha_1": G1, "vk_beta_2": G2, "vk_delta_2": G2, "vk_gamma_2": G2}

where every point is written in normalised affine snarkjs form, ``G1 = ["x", "y", "1"]`` and
``G2 = [["x.c0", "x.c1"], ["y.c0", "y.c1"], ["1", "0"]]``, coordinates as decimal strings
without leading zeros. Only fields that determine verification enter it: ``vk_alphabeta_12``
(derived from alpha and beta) and any other key of the input file do not, nor does the spelling
of the curve name or of equivalent Jacobian coordinates. The canonical JSON is itself a valid
snarkjs verifying key.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from verifier.bn254 import (
    GT,
    G1Affine,
    G2Affine,
    PyG1,
    check_g1,
    check_g2,
    g1_linear_combination,
    g1_to_py,
    g2_to_py,
    pairing,
)
from verifier.encoding import (
    check_curve_name,
    check_protocol,
    expect_list,
    expect_object,
    g1_to_json,
    g2_to_json,
    load_json,
    parse_g1,
    parse_g2,
)
from zkmargin.errors import VerificationError


@dataclass(frozen=True)
class VerifyingKey:
    """A Groth16 verifying key over BN254 with affine points, validated on construction.

    ``ic`` holds ``nPublic + 1`` points: ``ic[0]`` is the constant term and ``ic[k]`` weighs
    public signal ``k - 1``. Construction raises :class:`~zkmargin.errors.VerificationError`
    unless every G1 point is on the curve and every G2 point is in the order-r subgroup.
    """

    alpha_1: G1Affine
    beta_2: G2Affine
    gamma_2: G2Affine
    delta_2: G2Affine
    ic: tuple[G1Affine, ...]

    def __post_init__(self) -> None:
        if not self.ic:
            raise VerificationError("vk.IC: needs at least one point (nPublic + 1 in all)")
        check_g1(self.alpha_1, "vk.vk_alpha_1")
        check_g2(self.beta_2, "vk.vk_beta_2")
        check_g2(self.gamma_2, "vk.vk_gamma_2")
        check_g2(self.delta_2, "vk.vk_delta_2")
        for k, point in enumerate(self.ic):
            check_g1(point, f"vk.IC[{k}]")

    @property
    def n_public(self) -> int:
        """The number of public signals a proof under this key has."""
        return len(self.ic) - 1

    @cached_property
    def alpha_beta(self) -> GT:
        """e(alpha, beta) in GT, computed on first use and cached on the key."""
        return pairing(g2_to_py(self.beta_2), g1_to_py(self.alpha_1))

    def ic_combination(self, scalars: Sequence[int]) -> PyG1:
        """Return ``sum(scalars[k] * IC[k])``; ``scalars`` has ``nPublic + 1`` entries."""
        return g1_linear_combination([g1_to_py(point) for point in self.ic], scalars)

    def to_json(self) -> dict[str, object]:
        """Return the canonical snarkjs ``verification_key.json`` object (see the module docstring)."""
        return {
            "protocol": "groth16",
            "curve": "bn128",
            "nPublic": self.n_public,
            "vk_alpha_1": g1_to_json(self.alpha_1),
            "vk_beta_2": g2_to_json(self.beta_2),
            "vk_gamma_2": g2_to_json(self.gamma_2),
            "vk_delta_2": g2_to_json(self.delta_2),
            "IC": [g1_to_json(point) for point in self.ic],
        }

    def canonical_json(self) -> str:
        """Return the canonical JSON text that the fingerprint hashes (see the module docstring)."""
        return json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"))

    def fingerprint(self) -> str:
        """Lowercase hex SHA-256 of :meth:`canonical_json`; identifies the key."""
        return hashlib.sha256(self.canonical_json().encode("utf-8")).hexdigest()


def parse_verifying_key(value: object) -> VerifyingKey:
    """Build a :class:`VerifyingKey` from a decoded snarkjs ``verification_key.json``.

    Requires ``protocol`` = groth16, ``curve`` naming BN254, an integer ``nPublic >= 0``, the four
    key points and ``IC`` with exactly ``nPublic + 1`` points. Other keys (``vk_alphabeta_12``)
    are ignored.
    """
    obj = expect_object(
        value,
        "vk",
        ("protocol", "curve", "nPublic", "vk_alpha_1", "vk_beta_2", "vk_gamma_2", "vk_delta_2", "IC"),
    )
    check_protocol(obj["protocol"], "vk.protocol")
    check_curve_name(obj["curve"], "vk.curve")
    n_public = obj["nPublic"]
    if isinstance(n_public, bool) or not isinstance(n_public, int) or n_public < 0:
        raise VerificationError(f"vk.nPublic: expected a non-negative integer, got {n_public!r}")
    ic = expect_list(obj["IC"], "vk.IC")
    if len(ic) != n_public + 1:
        raise VerificationError(f"vk.IC: has {len(ic)} points but nPublic + 1 = {n_public + 1}")
    return VerifyingKey(
        alpha_1=parse_g1(obj["vk_alpha_1"], "vk.vk_alpha_1"),
        beta_2=parse_g2(obj["vk_beta_2"], "vk.vk_beta_2"),
        gamma_2=parse_g2(obj["vk_gamma_2"], "vk.vk_gamma_2"),
        delta_2=parse_g2(obj["vk_delta_2"], "vk.vk_delta_2"),
        ic=tuple(parse_g1(point, f"vk.IC[{k}]") for k, point in enumerate(ic)),
    )


def load_verifying_key(path: str | os.PathLike[str]) -> VerifyingKey:
    """Load and validate a snarkjs ``verification_key.json``."""
    return parse_verifying_key(load_json(path, "vk"))
