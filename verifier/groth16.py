"""Single Groth16 proof verification.

A proof (A, B, C) for public signals s under a key (alpha, beta, gamma, delta, IC) is valid iff

    e(A, B) = e(alpha, beta) * e(vk_x, gamma) * e(C, delta),    vk_x = IC[0] + sum_k s_k IC[k+1].

The check runs as one product of three Miller loops, ``ML(B, A) * ML(gamma, -vk_x) *
ML(delta, -C)``, with one final exponentiation, compared against e(alpha, beta), which the key
computes once and caches (that saves the fourth Miller loop of every proof).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from verifier.bn254 import (
    PyG1,
    check_scalar,
    final_exponentiate,
    g1_neg,
    g1_to_py,
    g2_to_py,
    miller_loop,
)
from verifier.encoding import load_public_signals
from verifier.proof import Proof, load_proof, parse_proof
from verifier.vkey import VerifyingKey, load_verifying_key
from zkmargin.errors import VerificationError


def check_public_inputs(vk: VerifyingKey, public_inputs: Sequence[int], what: str = "public") -> list[int]:
    """Return the public inputs as a list after checking their count and that each is in [0, r)."""
    if len(public_inputs) != vk.n_public:
        raise VerificationError(
            f"{what}: {len(public_inputs)} public signal(s) given, the key expects {vk.n_public}"
        )
    return [check_scalar(value, f"{what}[{k}]") for k, value in enumerate(public_inputs)]


def check_encoding(vk: VerifyingKey, proof: object, public_inputs: Sequence[int]) -> tuple[Proof, list[int]]:
    """The one set of encoding checks every verifier runs before pairing.

    ``proof`` is decoded snarkjs JSON: each coordinate a canonical decimal below q, A and C on the
    curve, B on the twist and in G2, no point at infinity (:func:`~verifier.proof.parse_proof`);
    the public inputs are exactly ``vk.n_public`` integers in [0, r). Returns the validated proof
    and signals; anything else raises :class:`~zkmargin.errors.VerificationError`.
    """
    return parse_proof(proof), check_public_inputs(vk, public_inputs)


def public_input_point(vk: VerifyingKey, public_inputs: Sequence[int]) -> PyG1:
    """vk_x = IC[0] + sum_k s_k IC[k+1], after validating the public inputs."""
    return vk.ic_combination([1, *check_public_inputs(vk, public_inputs)])


def verify(vk: VerifyingKey, proof: Proof, public_inputs: Sequence[int]) -> bool:
    """Return True if ``proof`` is a valid Groth16 proof of ``public_inputs`` under ``vk``.

    ``vk`` and ``proof`` are validated when built; the public inputs are checked here. Malformed
    inputs (wrong count, a value outside [0, r)) raise
    :class:`~zkmargin.errors.VerificationError`; a well-formed proof that does not verify
    returns False.
    """
    vk_x = public_input_point(vk, public_inputs)
    product = (
        miller_loop(g2_to_py(proof.b), g1_to_py(proof.a))
        * miller_loop(g2_to_py(vk.gamma_2), g1_neg(vk_x))
        * miller_loop(g2_to_py(vk.delta_2), g1_neg(g1_to_py(proof.c)))
    )
    return bool(final_exponentiate(product) == vk.alpha_beta)


def verify_files(
    vk_path: str | os.PathLike[str],
    proof_path: str | os.PathLike[str],
    public_path: str | os.PathLike[str],
) -> bool:
    """Verify snarkjs ``verification_key.json``, ``proof.json`` and ``public.json`` files.

    Returns the verdict of :func:`verify`; an unreadable or malformed file raises
    :class:`~zkmargin.errors.VerificationError`.
    """
    return verify(load_verifying_key(vk_path), load_proof(proof_path), load_public_signals(public_path))
