"""Poseidon hash over the BN254 scalar field, bit-identical to circomlib's ``Poseidon(n)``.

``poseidon(inputs)`` hashes ``n = len(inputs)`` = 1..16 field elements with state width
``t = n + 1``: the state starts as ``[0, *inputs]``, runs the Poseidon permutation (x^5 S-box,
8 full rounds, circomlib's partial-round count for ``t``) and the hash is state element 0.
Constants: :mod:`zkmargin.poseidon_constants` (generated with the reference Grain procedure); the
permutation uses their sparse fast form, whose output equals the plain form's.

Two implementations of that one permutation:

* :func:`_permute_python` below, pure Python: the executable specification;
* ``zkmargin._poseidon`` (``zkmargin/_poseidon.c``), an optional C extension that ``pip install``
  builds when a C compiler and the Python headers are present. It runs the same steps on
  4 x 64-bit limbs in Montgomery form, about 11x faster (``benchmarks/engine.py``), and holds
  no constants of its own: each width's sparse constants are passed to it from
  :func:`sparse_constants` on first use.

:data:`BACKEND` names the one in use: ``"c"`` when the extension imports, else ``"python"``.
The environment variable ``ZKMARGIN_POSEIDON=python`` (read at import) forces the pure-Python
permutation, for differential tests and debugging; ``auto`` (or unset) prefers C. Both give the
same integers (``tests/engine/test_poseidon_native.py``); inputs are checked here, in Python,
whichever runs.

Every input and output is an integer in ``[0, r)``; signed values must be encoded first (see
:func:`zkmargin.fixedpoint.to_field`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from operator import mul
from types import ModuleType
from typing import Literal

from zkmargin.errors import BoundError, InputError
from zkmargin.fixedpoint import R
from zkmargin.poseidon_constants import MAX_WIDTH, sparse_constants

#: Most inputs one Poseidon call takes (circomlib's ``Poseidon(16)``, t = 17).
MAX_INPUTS = MAX_WIDTH - 1
#: Environment variable choosing the permutation: ``python`` or ``auto`` (the default: C if built).
BACKEND_ENV = "ZKMARGIN_POSEIDON"


def _check_inputs(values: Sequence[int], name: str) -> None:
    for i, x in enumerate(values):
        if isinstance(x, bool) or not isinstance(x, int) or not 0 <= x < R:
            raise BoundError(f"{name}[{i}]", x, f"must be an integer in [0, r-1] with r = {R}")


def _permute_python(state: list[int]) -> int:
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


def _load_native() -> ModuleType | None:
    """The C extension, unless ``ZKMARGIN_POSEIDON=python`` or it is not built."""
    choice = os.environ.get(BACKEND_ENV, "auto")
    if choice not in ("auto", "python"):
        raise InputError(f"{BACKEND_ENV}={choice!r}: expected 'auto' or 'python'")
    if choice == "python":
        return None
    try:
        from zkmargin import _poseidon
    except ImportError:
        return None
    return _poseidon


_native = _load_native()
#: The permutation in use: ``"c"`` (the ``zkmargin._poseidon`` extension) or ``"python"``.
BACKEND: Literal["c", "python"] = "python" if _native is None else "c"


def _pass_constants(native: ModuleType, t: int) -> None:
    """Pass the sparse constants of width ``t`` to the C extension ``native``."""
    c = sparse_constants(t)
    native.set_constants(
        t, c.first_constants, c.pre_sparse, c.partial_constants, c.sparse_rows, c.sparse_cols,
        c.last_constants, c.mds,
    )


def _permute_c(state: list[int]) -> int:
    """:func:`_permute_python` by the C extension."""
    if not _native.has_constants(len(state)):  # type: ignore[union-attr]
        _pass_constants(_native, len(state))  # type: ignore[arg-type]
    return int(_native.permute_first(state))  # type: ignore[union-attr]


#: Element 0 of the permuted state (length t = 2..17): the backend's permutation.
_permute_first: Callable[[list[int]], int] = _permute_python if _native is None else _permute_c


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
