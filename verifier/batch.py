"""Batch verification of many Groth16 proofs under one key, by random linear combination.

For proofs (A_i, B_i, C_i) with public inputs s_i and weights z_i (z_0 = 1, the others uniform in
[1, 2^128)), every proof is valid iff, except with probability about 2^-128,

    prod_i e(z_i A_i, B_i) = e(alpha, beta)^(sum z_i) * e(sum z_i vk_x_i, gamma) * e(sum z_i C_i, delta).

The left side costs one Miller loop per proof, the right side two Miller loops for the whole
batch (``sum z_i vk_x_i`` is one multi-scalar product over IC with scalars ``sum z_i s_ik``) and a
GT power of the cached e(alpha, beta); one final exponentiation decides the whole batch.

When the batch fails, it is bisected to name the invalid proofs. Each half is checked with the
same weights, reusing the per-proof Miller loops, so a check costs two Miller loops and one
final exponentiation whatever its size. If a failed group's left half passes, its right half must
hold an invalid proof and is split without being checked. Every single proof is decided by an
exact check (its weight is a non-zero scalar, so ``d^z = 1`` iff ``d = 1`` in the prime-order
group GT): a valid proof is never reported invalid, and an invalid one is reported valid only if
a random check over a group holding it passed, with probability about 2^-128 per check.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from verifier.bn254 import (
    CURVE_ORDER,
    G1_IDENTITY,
    GT,
    PyG1,
    final_exponentiate,
    g1_add,
    g1_mul,
    g1_neg,
    g1_to_py,
    g2_to_py,
    miller_loop,
)
from verifier.groth16 import check_public_inputs
from verifier.proof import Proof
from verifier.vkey import VerifyingKey

WEIGHT_BITS = 128
"""Bit length of the random weights; a forged batch passes one check with probability ~2^-128."""


@dataclass(frozen=True)
class _Weighted:
    """One proof after weighting by z: ``ML(B, z A)``, ``z C`` and its public inputs."""

    weight: int
    pairing: GT
    weighted_c: PyG1
    public_inputs: Sequence[int]


def _weigh(proof: Proof, public_inputs: Sequence[int], weight: int) -> _Weighted:
    a = g1_mul(g1_to_py(proof.a), weight)
    return _Weighted(
        weight=weight,
        pairing=miller_loop(g2_to_py(proof.b), a),
        weighted_c=g1_mul(g1_to_py(proof.c), weight),
        public_inputs=public_inputs,
    )


def _group_passes(vk: VerifyingKey, group: Sequence[_Weighted]) -> bool:
    """Run the random-linear-combination check over ``group`` (one final exponentiation)."""
    weight_sum = sum(item.weight for item in group)
    scalars = [weight_sum % CURVE_ORDER] + [
        sum(item.weight * item.public_inputs[k] for item in group) % CURVE_ORDER for k in range(vk.n_public)
    ]
    weighted_c = G1_IDENTITY
    product = miller_loop(g2_to_py(vk.gamma_2), g1_neg(vk.ic_combination(scalars)))
    for item in group:
        weighted_c = g1_add(weighted_c, item.weighted_c)
        product = product * item.pairing
    product = product * miller_loop(g2_to_py(vk.delta_2), g1_neg(weighted_c))
    return bool(final_exponentiate(product) == vk.alpha_beta**weight_sum)


def _invalid_indices(
    vk: VerifyingKey, items: Sequence[_Weighted], indices: list[int], check: bool
) -> list[int]:
    """Return the indices of the invalid proofs among ``indices``.

    ``check`` is False only when the group is already known to hold an invalid proof.
    """
    if (check or len(indices) == 1) and _group_passes(vk, [items[i] for i in indices]):
        return []
    if len(indices) == 1:
        return indices
    middle = len(indices) // 2
    left = _invalid_indices(vk, items, indices[:middle], True)
    right = _invalid_indices(vk, items, indices[middle:], bool(left))
    return left + right


def verify_batch(vk: VerifyingKey, items: Sequence[tuple[Proof, Sequence[int]]]) -> list[bool]:
    """Verify many (proof, public inputs) pairs under ``vk``; entry i tells whether item i is valid.

    The public inputs of every item are checked first: a wrong count or a value outside [0, r)
    raises :class:`~zkmargin.errors.VerificationError` naming the item, before any pairing.
    """
    checked = [check_public_inputs(vk, public, f"items[{i}].public") for i, (_, public) in enumerate(items)]
    weighted = [
        _weigh(proof, public, 1 if i == 0 else 1 + secrets.randbelow(2**WEIGHT_BITS - 1))
        for i, ((proof, _), public) in enumerate(zip(items, checked, strict=True))
    ]
    results = [True] * len(items)
    if weighted:
        for index in _invalid_indices(vk, weighted, list(range(len(items))), True):
            results[index] = False
    return results
