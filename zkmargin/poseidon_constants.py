"""Poseidon constants for circomlib's ``Poseidon(n)``, ``t = n + 1`` = 2..17, over BN254.

Origin: the round constants and MDS matrices are *generated*, not copied, with the reference
procedure of the Poseidon paper (https://eprint.iacr.org/2019/458, script
``generate_parameters_grain.sage`` of the hadeshash repository), which is how circomlib and
circomlibjs obtained theirs (``sage generate_parameters_grain.sage 1 0 254 t 8 R_P <r>``):

1. An 80-bit Grain LFSR is seeded with the bits of field = 1 (prime field, 2 bits), S-box = 0
   (x^alpha, 4 bits), n = 254 (field bits, 12 bits), t (12 bits), R_F = 8 (10 bits), R_P (10
   bits) and thirty 1-bits, most significant bit first; its update is
   ``b[i+80] = b[i+62] ^ b[i+51] ^ b[i+38] ^ b[i+23] ^ b[i+13] ^ b[i]``; the first 160 bits are
   discarded.
2. The output is self-shrunk: of each following pair of bits ``(a, b)``, ``b`` is output iff
   ``a == 1``. A field element is 254 output bits read most significant first.
3. The ``(R_F + R_P) * t`` round constants are drawn by rejection sampling (redraw while >= r),
   in round-major order: constant ``i`` of round ``k`` is ``C[k * t + i]``.
4. The MDS matrix is the Cauchy matrix ``M[i][j] = 1 / (x_i + y_j)`` from ``2t`` further
   elements (reduced mod r, not rejection-sampled) ``x_0..x_{t-1}, y_0..y_{t-1}``, redrawn as a
   whole if two coincide or some ``x_i + y_j == 0``. (Later versions of the script also redraw
   matrices that fail its security checks; for all 16 widths the first draw is circomlib's.)

The permutation ``x <- M * S(x + C_k)`` with these constants is the "plain" form;
:func:`sparse_constants` derives the equivalent fast form (Poseidon paper, appendix B). The
tests compare the plain constants with circomlibjs's ``poseidon_constants.json`` and the hash
outputs with circomlibjs itself.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from operator import mul

from zkmargin.fixedpoint import R

#: Full rounds (4 before and 4 after the partial rounds), for every width.
ROUNDS_F = 8
#: Partial rounds of circomlib's Poseidon for t = 2..17 (index t - 2).
ROUNDS_P = (56, 57, 56, 60, 60, 63, 64, 63, 60, 66, 60, 65, 70, 60, 64, 68)
#: Supported state widths t = number of inputs + 1.
MIN_WIDTH, MAX_WIDTH = 2, 17

_FIELD_BITS = 254
_BATCH = 18  # new LFSR bits per step: the highest tap (62) + 18 stays inside the 80-bit window
_BATCHES_PER_CHUNK = 32  # 576 LFSR bits: a whole number of hex digits (bit pairs never split)
# A hex digit holds 4 consecutive LFSR bits, oldest in the least significant bit, i.e. two
# pairs (a, b): the self-shrinking output of digit d is "b" for each pair whose "a" is 1.
_SHRINK = str.maketrans(
    {f"{d:x}": "".join(str((d >> (k + 1)) & 1) for k in (0, 2) if (d >> k) & 1) for d in range(16)}
)

Matrix = tuple[tuple[int, ...], ...]


class _Grain:
    """The Grain LFSR bit source of ``generate_parameters_grain.sage``, seeded for one width."""

    def __init__(self, t: int, rounds_p: int) -> None:
        fields = ((1, 2), (0, 4), (_FIELD_BITS, 12), (t, 12), (ROUNDS_F, 10), (rounds_p, 10))
        seed = "".join(format(value, f"0{bits}b") for value, bits in fields) + "1" * 30
        # Bit j of the window is LFSR bit (offset + j): the oldest bit is least significant.
        self._window = int(seed[::-1], 2)
        self._out = ""
        for _ in range(160 // 16):  # the first 160 bits are discarded
            self._step(16)

    def _step(self, count: int) -> int:
        """Advance by ``count`` <= 18 bits; return them (oldest least significant)."""
        w = self._window
        new = (w ^ (w >> 13) ^ (w >> 23) ^ (w >> 38) ^ (w >> 51) ^ (w >> 62)) & ((1 << count) - 1)
        self._window = (w >> count) | (new << (80 - count))
        return new

    def _refill(self) -> None:
        chunk = 0
        for k in range(_BATCHES_PER_CHUNK):
            chunk |= self._step(_BATCH) << (_BATCH * k)
        digits = _BATCH * _BATCHES_PER_CHUNK // 4
        self._out += format(chunk, f"0{digits}x")[::-1].translate(_SHRINK)

    def field_bits(self) -> int:
        """The next 254 output bits as an integer (most significant bit first); may be >= r."""
        while len(self._out) < _FIELD_BITS:
            self._refill()
        bits, self._out = self._out[:_FIELD_BITS], self._out[_FIELD_BITS:]
        return int(bits, 2)


@dataclass(frozen=True)
class PlainConstants:
    """Constants of the textbook permutation: round ``k`` is ``x <- M * S(x + C[k*t:(k+1)*t])``."""

    t: int
    rounds_p: int
    round_constants: tuple[int, ...]
    mds: Matrix


@dataclass(frozen=True)
class SparseConstants:
    """Constants of the equivalent fast permutation (same output as :class:`PlainConstants`).

    * first 4 full rounds: ``x <- M * (x + C_k)^5``, except that the 4th uses ``pre_sparse``
      instead of ``M``;
    * partial round ``p``: ``x0 <- (x0 + partial_constants[p])^5``, then the sparse matrix:
      ``x0' = M[0][0] * x0 + <sparse_rows[p], x[1:]>`` and
      ``x_i' = x_i + sparse_cols[p][i-1] * x0`` for i >= 1 (``x0`` after the S-box);
    * last 4 full rounds: ``x <- M * (x + C_k)^5`` with ``last_constants`` (the first of them
      absorbs the constants of the partial rounds outside position 0).
    """

    t: int
    first_constants: Matrix
    pre_sparse: Matrix
    partial_constants: tuple[int, ...]
    sparse_rows: Matrix
    sparse_cols: Matrix
    last_constants: Matrix
    mds: Matrix


def rounds_p(t: int) -> int:
    """Number of partial rounds of circomlib's Poseidon for state width ``t``."""
    if not MIN_WIDTH <= t <= MAX_WIDTH:
        raise ValueError(f"Poseidon state width t = {t} must lie in [{MIN_WIDTH}, {MAX_WIDTH}]")
    return ROUNDS_P[t - MIN_WIDTH]


@functools.cache
def plain_constants(t: int) -> PlainConstants:
    """Generate the round constants and MDS matrix for width ``t`` with the Grain procedure."""
    n_p = rounds_p(t)
    grain = _Grain(t, n_p)
    constants: list[int] = []
    while len(constants) < (ROUNDS_F + n_p) * t:
        c = grain.field_bits()
        if c < R:
            constants.append(c)
    while True:
        xy = [grain.field_bits() % R for _ in range(2 * t)]
        xs, ys = xy[:t], xy[t:]
        if len(set(xy)) == 2 * t and all((x + y) % R for x in xs for y in ys):
            break
    mds = tuple(tuple(pow(x + y, -1, R) for y in ys) for x in xs)
    return PlainConstants(t, n_p, tuple(constants), mds)


def _mat_vec(m: Matrix, v: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(sum(map(mul, row, v)) % R for row in m)


def _inverse(m: Matrix) -> Matrix:
    """Inverse of a square matrix over F_r by Gauss-Jordan elimination."""
    n = len(m)
    rows = [list(row) + [int(i == j) for j in range(n)] for i, row in enumerate(m)]
    for col in range(n):
        pivot = next(i for i in range(col, n) if rows[i][col])
        rows[col], rows[pivot] = rows[pivot], rows[col]
        inv = pow(rows[col][col], -1, R)
        rows[col] = [a * inv % R for a in rows[col]]
        for i in range(n):
            if i != col and rows[i][col]:
                f = rows[i][col]
                rows[i] = [(a - f * b) % R for a, b in zip(rows[i], rows[col])]
    return tuple(tuple(row[n:]) for row in rows)


@functools.cache
def sparse_constants(t: int) -> SparseConstants:
    """Derive the fast form of :func:`plain_constants` (Poseidon paper, appendix B).

    Constants: in a partial round only ``x0`` passes the S-box, so the part ``u`` of a round's
    constant outside position 0 can be added after the S-box and, through ``M``, to the next
    round's constant (``M * (y + u) = M * y + M * u``); carried forward, it lands in the first
    full round after the partial rounds.

    Matrices: write ``M = [[m00, m0^T], [m1, Mh]]``. Any such ``A`` factors as
    ``A = [[a00, a0^T Ah^-1], [a1, I]] * diag(1, Ah)``; ``diag(1, Ah)`` commutes with the partial
    S-box and the position-0 constant, so it moves back into the previous round's matrix. From
    the last partial round backwards this gives, for partial round ``p`` of ``R_P``:
    row ``(m00, m0^T Mh^-(R_P-p))`` (stored without ``m00``), column ``Mh^(R_P-1-p) m1``, and
    ``diag(1, Mh^R_P) * M`` replaces ``M`` in the last full round before the partial rounds.
    """
    plain = plain_constants(t)
    n_p, m = plain.rounds_p, plain.mds
    half = ROUNDS_F // 2
    rc = [plain.round_constants[k * t : (k + 1) * t] for k in range(ROUNDS_F + n_p)]

    partial = []
    carry = (0,) * t
    for k in range(half, half + n_p):
        e = tuple((c + a) % R for c, a in zip(rc[k], carry))
        partial.append(e[0])
        carry = _mat_vec(m, (0, *e[1:]))
    rc[half + n_p] = tuple((c + a) % R for c, a in zip(rc[half + n_p], carry))

    m0 = m[0][1:]
    m1 = tuple(row[0] for row in m[1:])
    mh = tuple(row[1:] for row in m[1:])
    mh_inv_t = tuple(zip(*_inverse(mh)))  # v^T Mh^-1 = (Mh^-1)^T v
    rows, cols = [], []
    v, w = m0, m1
    for _ in range(n_p):  # partial rounds from the last to the first
        v = _mat_vec(mh_inv_t, v)
        rows.append(v)
        cols.append(w)
        w = _mat_vec(mh, w)
    lower = tuple(zip(*m[1:]))  # columns of M's rows 1..t-1
    for _ in range(n_p):
        lower = tuple(_mat_vec(mh, col) for col in lower)
    pre_sparse = (m[0], *zip(*lower))

    return SparseConstants(
        t=t,
        first_constants=tuple(rc[:half]),
        pre_sparse=pre_sparse,
        partial_constants=tuple(partial),
        sparse_rows=tuple(reversed(rows)),
        sparse_cols=tuple(reversed(cols)),
        last_constants=tuple(rc[half + n_p :]),
        mds=m,
    )
