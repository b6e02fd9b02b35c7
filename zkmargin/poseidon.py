"""Poseidon hash over the BN254 scalar field, bit-identical to circomlib's ``Poseidon(n)``.

``poseidon(inputs)`` hashes ``n = len(inputs)`` = 1..16 field elements with state width
``t = n + 1``: the state starts as ``[0, *inputs]``, runs the Poseidon permutation (x^5 S-box,
8 full rounds, circomlib's partial-round count for ``t``) and the hash is state element 0.
Constants: :mod:`zkmargin.poseidon_constants` (generated with the reference Grain procedure); the
permutation here uses their sparse fast form, whose output equals the plain form's.

Every input and output is an integer in ``[0, r)``; signed values must be encoded first (see
:func:`zkmargin.fixedpoint.to_field`).
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import mul

from zkmargin.errors import BoundError
from zkmargin.fixedpoint import R
from zkmargin.poseidon_constants import MAX_WIDTH, sparse_constants

#: Most inputs one Poseidon call takes (circomlib's ``Poseidon(16)``, t = 17).
MAX_INPUTS = MAX_WIDTH - 1


def _check_inputs(values: Sequence[int], name: str) -> None:
    for i, x in enumerate(values):
        if isinstance(x, bool) or not isinstance(x, int) or not 0 <= x < R:
            raise BoundError(f"{name}[{i}]", x, f"must be an integer in [0, r-1] with r = {R}")


def _permute_first(state: list[int]) -> int:
    """Run the fast-form permutation on ``state`` (length t) and return its element 0."""
    c = sparse_constants(len(state))
    m = c.mds
    m00 = m[0][0]
    for k, rc in enumerate(c.first_constants):
        state = [pow(x + a, 5, R) for x, a in zip(state, rc)]
        matrix = c.pre_sparse if k == len(c.first_constants) - 1 else m
        state = [sum(map(mul, row, state)) % R for row in matrix]
    x0, rest = state[0], state[1:]
    for k, row, col in zip(c.partial_constants, c.sparse_rows, c.sparse_cols):
        x0 = pow(x0 + k, 5, R)
        new0 = (x0 * m00 + sum(map(mul, row, rest))) % R
        # rest is reduced lazily (Python ints are exact): the next full round reduces it.
        rest = [x + x0 * w for x, w in zip(rest, col)]
        x0 = new0
    state = [x0, *rest]
    for rc in c.last_constants:
        state = [pow(x + a, 5, R) for x, a in zip(state, rc)]
        state = [sum(map(mul, row, state)) % R for row in m]
    return state[0]


def poseidon(inputs: Sequence[int]) -> int:
    """circomlib ``Poseidon(len(inputs))`` of 1..16 field elements; returns a field element.

    Raises ``ValueError`` for 0 or more than 16 inputs and :class:`BoundError` for an input
    that is not an integer in ``[0, r)``.
    """
    if not 1 <= len(inputs) <= MAX_INPUTS:
        raise ValueError(f"Poseidon takes 1..{MAX_INPUTS} inputs, got {len(inputs)}")
    _check_inputs(inputs, "poseidon input")
    return _permute_first([0, *inputs])


def hash_pair(left: int, right: int) -> int:
    """Merkle-tree node hash: ``poseidon([left, right])`` (circomlib ``Poseidon(2)``)."""
    return poseidon((left, right))


def hash_vector(values: Sequence[int]) -> int:
    """Hash a non-empty vector of any length with a chain of Poseidon calls.

    Definition (the circuits implement exactly this):

    * ``1 <= len(values) <= 16``: ``poseidon(values)``;
    * otherwise ``h = poseidon(values[0:16])``, then for each following chunk ``c`` of up to 15
      values (``values[16:31]``, ``values[31:46]``, ...; the last one may be shorter):
      ``h = poseidon([h, *c])`` (circuit: ``Poseidon(1 + len(c))``). The result is the final
      ``h``.

    The length is not hashed, and a chained result equals the hash of a shorter vector (e.g.
    ``hash_vector(v)`` for ``len(v) == 17`` is ``hash_vector([poseidon(v[:16]), v[16]])``), so it
    is collision resistant only among vectors of one fixed length, as in a circuit.
    Raises ``ValueError`` for an empty vector and :class:`BoundError` for an element outside
    ``[0, r)``.
    """
    if not values:
        raise ValueError("hash_vector needs at least one value")
    _check_inputs(values, "hash_vector value")
    h = _permute_first([0, *values[:MAX_INPUTS]])
    for start in range(MAX_INPUTS, len(values), MAX_INPUTS - 1):
        h = _permute_first([0, h, *values[start : start + MAX_INPUTS - 1]])
    return h
