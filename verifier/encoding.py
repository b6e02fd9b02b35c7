"""snarkjs JSON values <-> BN254 points, scalars and public signals.

snarkjs writes every number as a decimal string and every point in projective form:

* G1: ``["x", "y", "z"]``;
* G2: ``[["x.c0", "x.c1"], ["y.c0", "y.c1"], ["z.c0", "z.c1"]]``, an Fq2 element ``c0 + c1*i``
  being written ``[c0, c1]``.

Like snarkjs, a point may omit z (then z = 1), and a 3-coordinate point is read as Jacobian
(``x/z^2, y/z^3``). snarkjs always writes z = 1 (``["1", "0"]`` in G2), and z = 0 for the point
at infinity, which is rejected here because no Groth16 key or proof point may be the identity.

Numbers are strict: a JSON string of 1 to 78 ASCII digits (no sign, space, underscore or
exponent; 78 digits is more than any value below q or r needs, and caps the work of parsing
hostile input). Coordinates must be below q, public signals below r. Every failure raises
:class:`~zkmargin.errors.VerificationError` naming the offending field.
"""

from __future__ import annotations

import json
import os
import re
from typing import NoReturn

from verifier.bn254 import (
    Fq2,
    G1Affine,
    G2Affine,
    check_coordinate,
    check_scalar,
    g1_from_jacobian,
    g2_from_jacobian,
)
from zkmargin.errors import VerificationError
from zkmargin.files import FIELD_DECIMAL, read_input

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")

MAX_JSON_DEPTH = 32
"""Deepest array/object nesting accepted in an input file (snarkjs files nest at most 4 deep)."""

CURVE_NAMES = frozenset({"bn128", "bn254", "alt_bn128"})
"""Names snarkjs accepts for BN254 (compared case-insensitively)."""


def load_json(path: str | os.PathLike[str], what: str) -> object:
    """Read and decode the JSON file at ``path``; ``what`` names it in error messages.

    Nesting deeper than :data:`MAX_JSON_DEPTH` is refused before decoding: py_ecc raises the
    interpreter's recursion limit to 100000 on import, so the C JSON decoder would overflow the
    C stack (and crash the process) on a hostile file of a few hundred thousand ``[``. Only a
    regular file is read (:func:`zkmargin.files.read_input`): a FIFO or a folder is refused.
    """
    raw = read_input(path, what, VerificationError)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise VerificationError(f"{what}: {os.fspath(path)!r} is not UTF-8 text: {exc}") from exc
    if _nesting_depth(text) > MAX_JSON_DEPTH:
        raise VerificationError(f"{what}: {os.fspath(path)!r} nests deeper than {MAX_JSON_DEPTH} levels")
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except ValueError as exc:  # JSONDecodeError, or an integer beyond Python's int-digit limit
        raise VerificationError(f"{what}: {os.fspath(path)!r} is not valid JSON: {exc}") from None


def _nesting_depth(text: str) -> int:
    """Return the deepest ``[``/``{`` nesting of ``text``, ignoring brackets inside strings."""
    depth = deepest = 0
    for match in _BRACKET.finditer(_STRING.sub("", text)):
        depth += 1 if match.group() in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _reject_constant(name: str) -> NoReturn:
    raise json.JSONDecodeError(f"non-standard constant {name}", name, 0)


def parse_decimal(value: object, what: str) -> int:
    """Return the integer a snarkjs decimal string denotes."""
    if not isinstance(value, str):
        raise VerificationError(f"{what}: expected a decimal string, got {type(value).__name__}")
    if not FIELD_DECIMAL.fullmatch(value):
        raise VerificationError(f"{what}: {value[:100]!r} is not a decimal string of at most 78 digits")
    return int(value)


def parse_coordinate(value: object, what: str) -> int:
    """Return a base-field element (``0 <= x < q``) written as a decimal string."""
    number = parse_decimal(value, what)
    check_coordinate(number, what)
    return number


def parse_fq2(value: object, what: str) -> Fq2:
    """Return an Fq2 element written ``["c0", "c1"]``."""
    c0, c1 = expect_list(value, what, (2,))
    return (parse_coordinate(c0, f"{what}[0]"), parse_coordinate(c1, f"{what}[1]"))


def parse_g1(value: object, what: str) -> G1Affine:
    """Return the affine form of a snarkjs G1 point; curve membership is checked by its user."""
    items = expect_list(value, what, (2, 3))
    x, y = (parse_coordinate(item, f"{what}[{k}]") for k, item in enumerate(items[:2]))
    z = parse_coordinate(items[2], f"{what}[2]") if len(items) == 3 else 1
    if z == 0:
        raise VerificationError(f"{what}: the point at infinity is not allowed here")
    return g1_from_jacobian(x, y, z)


def parse_g2(value: object, what: str) -> G2Affine:
    """Return the affine form of a snarkjs G2 point; curve and subgroup are checked by its user."""
    items = expect_list(value, what, (2, 3))
    x, y = (parse_fq2(item, f"{what}[{k}]") for k, item in enumerate(items[:2]))
    z = parse_fq2(items[2], f"{what}[2]") if len(items) == 3 else (1, 0)
    if z == (0, 0):
        raise VerificationError(f"{what}: the point at infinity is not allowed here")
    if z == (1, 0):
        return (x, y)
    return g2_from_jacobian(x, y, z)


def g1_to_json(point: G1Affine) -> list[str]:
    """Write an affine G1 point the way snarkjs does: ``["x", "y", "1"]``."""
    return [str(point[0]), str(point[1]), "1"]


def g2_to_json(point: G2Affine) -> list[list[str]]:
    """Write an affine G2 point the way snarkjs does: ``[[x.c0, x.c1], [y.c0, y.c1], ["1", "0"]]``."""
    (x0, x1), (y0, y1) = point
    return [[str(x0), str(x1)], [str(y0), str(y1)], ["1", "0"]]


def parse_public_signals(value: object, what: str = "public") -> list[int]:
    """Return the public signals of a snarkjs ``public.json``: a list of decimal strings below r."""
    return [
        check_scalar(parse_decimal(item, f"{what}[{k}]"), f"{what}[{k}]")
        for k, item in enumerate(expect_list(value, what))
    ]


def load_public_signals(path: str | os.PathLike[str]) -> list[int]:
    """Load and validate a snarkjs ``public.json``."""
    return parse_public_signals(load_json(path, "public"))


def expect_list(value: object, what: str, lengths: tuple[int, ...] | None = None) -> list[object]:
    """Return ``value`` if it is a JSON array (of one of ``lengths``, when given)."""
    if not isinstance(value, list):
        raise VerificationError(f"{what}: expected a JSON array, got {type(value).__name__}")
    if lengths is not None and len(value) not in lengths:
        wanted = " or ".join(str(n) for n in lengths)
        raise VerificationError(f"{what}: expected {wanted} entries, got {len(value)}")
    return value


def expect_object(value: object, what: str, required: tuple[str, ...]) -> dict[str, object]:
    """Return ``value`` if it is a JSON object holding every key in ``required``."""
    if not isinstance(value, dict):
        raise VerificationError(f"{what}: expected a JSON object, got {type(value).__name__}")
    missing = [key for key in required if key not in value]
    if missing:
        raise VerificationError(f"{what}: missing field(s) {', '.join(missing)}")
    return value


def check_curve_name(value: object, what: str) -> None:
    """Raise VerificationError unless ``value`` names BN254 (see :data:`CURVE_NAMES`)."""
    if not isinstance(value, str) or value.lower() not in CURVE_NAMES:
        raise VerificationError(f"{what}: unsupported curve {value!r}; only bn128 (BN254) is supported")


def check_protocol(value: object, what: str) -> None:
    """Raise VerificationError unless ``value`` is ``"groth16"``."""
    if value != "groth16":
        raise VerificationError(f"{what}: unsupported protocol {value!r}; only groth16 is supported")
