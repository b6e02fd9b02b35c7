"""BN254 (alt_bn128) arithmetic for the verifier: a thin, typed layer over ``py_ecc.optimized_bn128``.

Points that cross module boundaries are plain affine integer tuples (hashable, comparable and
independent of py_ecc's object model):

* :data:`G1Affine` is ``(x, y)`` with ``0 <= x, y < q``, on ``y^2 = x^3 + 3``;
* :data:`G2Affine` is ``((x.c0, x.c1), (y.c0, y.c1))``, coordinates in ``Fq2 = Fq[i]/(i^2 + 1)``
  written ``c0 + c1*i``, on the twist ``y^2 = x^3 + 3/(9 + i)``.

Neither type can express the point at infinity: no point of a Groth16 verifying key or proof may
be the identity. Arithmetic happens on py_ecc's projective points (:data:`PyG1`, :data:`PyG2`),
where the identity does occur (for instance as a sum); pairing values live in ``Fq12``
(:data:`GT`).
"""

from __future__ import annotations

from collections.abc import Sequence

from py_ecc.fields import optimized_bn128_FQ as FQ
from py_ecc.fields import optimized_bn128_FQ2 as FQ2
from py_ecc.fields import optimized_bn128_FQ12 as FQ12
from py_ecc.optimized_bn128.optimized_curve import (
    add,
    b2,
    curve_order,
    field_modulus,
    is_inf,
    is_on_curve,
    multiply,
    neg,
    twist,
)
from py_ecc.optimized_bn128.optimized_pairing import cast_point_to_fq12
from py_ecc.optimized_bn128.optimized_pairing import final_exponentiate as _final_exponentiate
from py_ecc.optimized_bn128.optimized_pairing import miller_loop as _miller_loop

from zkmargin.errors import VerificationError

FIELD_MODULUS: int = field_modulus
"""q, the order of the base field Fq: every coordinate must be below it."""

CURVE_ORDER: int = curve_order
"""r, the prime order of G1, G2 and GT: every scalar (public input) must be below it."""

Fq2 = tuple[int, int]
G1Affine = tuple[int, int]
G2Affine = tuple[Fq2, Fq2]
PyG1 = tuple[FQ, FQ, FQ]
PyG2 = tuple[FQ2, FQ2, FQ2]
GT = FQ12

G1_IDENTITY: PyG1 = (FQ.one(), FQ.one(), FQ.zero())


def g1_to_py(point: G1Affine) -> PyG1:
    """Lift an affine G1 point to py_ecc projective coordinates."""
    return (FQ(point[0]), FQ(point[1]), FQ.one())


def g2_to_py(point: G2Affine) -> PyG2:
    """Lift an affine G2 point to py_ecc projective coordinates."""
    (x0, x1), (y0, y1) = point
    return (FQ2([x0, x1]), FQ2([y0, y1]), FQ2.one())


def g1_from_jacobian(x: int, y: int, z: int) -> G1Affine:
    """Return the affine form ``(x/z^2, y/z^3)`` of the Jacobian point (x, y, z), z != 0.

    snarkjs (ffjavascript) reads a 3-coordinate point as Jacobian, so this is the reading that
    agrees with it; for z = 1, the only value snarkjs writes, the point is simply (x, y).
    """
    zi = pow(z, -1, FIELD_MODULUS)
    zi2 = zi * zi % FIELD_MODULUS
    return (x * zi2 % FIELD_MODULUS, y * zi2 * zi % FIELD_MODULUS)


def g2_from_jacobian(x: Fq2, y: Fq2, z: Fq2) -> G2Affine:
    """Return the affine form ``(x/z^2, y/z^3)`` of the Jacobian G2 point (x, y, z), z != 0."""
    zi = FQ2.one() / FQ2(z)
    zi2 = zi * zi
    ax = FQ2(x) * zi2
    ay = FQ2(y) * zi2 * zi
    return (_fq2_ints(ax), _fq2_ints(ay))


def _fq2_ints(value: FQ2) -> Fq2:
    c0, c1 = value.coeffs
    return (int(c0) % FIELD_MODULUS, int(c1) % FIELD_MODULUS)


def check_coordinate(value: int, what: str) -> None:
    """Raise VerificationError unless ``0 <= value < q``."""
    if not 0 <= value < FIELD_MODULUS:
        raise VerificationError(f"{what}: coordinate {value} is not below the base field modulus q")


def check_scalar(value: object, what: str) -> int:
    """Return ``value`` if it is an int in ``[0, r)``; raise VerificationError otherwise."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise VerificationError(f"{what}: expected an integer, got {type(value).__name__}")
    if not 0 <= value < CURVE_ORDER:
        raise VerificationError(f"{what}: {value} is not in the scalar field [0, r)")
    return value


def check_g1(point: G1Affine, what: str) -> None:
    """Raise VerificationError unless ``point`` is a valid affine G1 point.

    G1 has cofactor 1 on BN254, so a point on ``y^2 = x^3 + 3`` is in the order-r group.
    """
    x, y = point
    check_coordinate(x, what)
    check_coordinate(y, what)
    if (y * y - x * x * x - 3) % FIELD_MODULUS:
        raise VerificationError(f"{what}: point is not on the BN254 curve y^2 = x^3 + 3")


def check_g2(point: G2Affine, what: str) -> None:
    """Raise VerificationError unless ``point`` is on the twist and in its order-r subgroup G2.

    The twist has cofactor ``2q - r``, so on-curve points outside G2 exist. Membership is tested
    by the definition, ``r * point == identity`` (about 20 ms), which needs no endomorphism
    argument.
    """
    for pair in point:
        for coordinate in pair:
            check_coordinate(coordinate, what)
    lifted = g2_to_py(point)
    if not is_on_curve(lifted, b2):
        raise VerificationError(f"{what}: point is not on the BN254 twist y^2 = x^3 + 3/(9+i)")
    if not is_inf(multiply(lifted, CURVE_ORDER)):
        raise VerificationError(f"{what}: point is on the twist but not in the order-r subgroup")


def g1_add(left: PyG1, right: PyG1) -> PyG1:
    """Return ``left + right``."""
    return add(left, right)


def g1_neg(point: PyG1) -> PyG1:
    """Return ``-point``."""
    return neg(point)


def g1_mul(point: PyG1, scalar: int) -> PyG1:
    """Return ``scalar * point``."""
    return multiply(point, scalar)


def g1_linear_combination(points: Sequence[PyG1], scalars: Sequence[int]) -> PyG1:
    """Return ``sum(s * P)`` over matching points and scalars (the identity if every s is 0)."""
    total = G1_IDENTITY
    for point, scalar in zip(points, scalars, strict=True):
        if scalar:
            total = add(total, multiply(point, scalar))
    return total


def miller_loop(q: PyG2, p: PyG1) -> GT:
    """Run the optimal-ate Miller loop of (Q in G2, P in G1), without the final exponentiation.

    A product of Miller loops followed by one :func:`final_exponentiate` is the product of the
    pairings. An identity argument contributes the neutral element 1.
    """
    if is_inf(q) or is_inf(p):
        return FQ12.one()
    return _miller_loop(twist(q), cast_point_to_fq12(p), final_exponentiate=False)


def final_exponentiate(value: GT) -> GT:
    """Raise a Miller-loop product to ``(q^12 - 1) / r``, mapping it into the order-r group."""
    return _final_exponentiate(value)


def pairing(q: PyG2, p: PyG1) -> GT:
    """Return the reduced optimal-ate pairing e(P, Q), an element of the order-r subgroup of Fq12."""
    return final_exponentiate(miller_loop(q, p))
