"""Reading circom's constraint system (.r1cs) and symbol table (.sym), and checking a witness.

A constraint is ``<A, w> * <B, w> = <C, w>`` over the scalar field, each of A, B, C a sparse linear
combination of witness wires; wire 0 is the constant 1, then public outputs, public inputs,
private inputs and internal signals (circom's order). :func:`check_witness` evaluates every
constraint in-process, so a test can hand-edit a witness by signal name and see exactly which
constraints it breaks, independent of snarkjs.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from operator import mul
from pathlib import Path

from prover.binfile import read_section_table
from zkmargin.errors import InputError

R1CS_MAGIC = b"r1cs"
HEADER_SECTION = 1
CONSTRAINTS_SECTION = 2

_HEADER_COUNTS = struct.Struct("<IIIIQI")
_U32 = struct.Struct("<I")


@dataclass(frozen=True)
class R1csHeader:
    """Sizes of a constraint system, as recorded in the .r1cs header section."""

    prime: int
    field_bytes: int
    n_wires: int
    n_pub_out: int
    n_pub_in: int
    n_prv_in: int
    n_labels: int
    n_constraints: int

    @property
    def n_public(self) -> int:
        """Public signals a verifier sees: outputs then public inputs (the constant 1 excluded)."""
        return self.n_pub_out + self.n_pub_in


LinearCombination = tuple[tuple[int, ...], tuple[int, ...]]
"""Sparse linear combination: (wire indices, coefficients in [0, prime)), same length."""

Constraint = tuple[LinearCombination, LinearCombination, LinearCombination]
"""One R1CS row (A, B, C), satisfied when <A, w> * <B, w> - <C, w> = 0 mod prime."""


@dataclass(frozen=True)
class R1cs:
    """A parsed constraint system: its header and every constraint in file order."""

    header: R1csHeader
    constraints: list[Constraint]


def read_r1cs_header(path: Path) -> R1csHeader:
    """Parse only the header section of ``path`` (cheap even for a large circuit)."""
    with path.open("rb") as handle:
        table = read_section_table(handle, path, R1CS_MAGIC)
        return _parse_header(path, table.read(handle, HEADER_SECTION))


def read_r1cs(path: Path) -> R1cs:
    """Parse the header and all constraints of ``path``."""
    with path.open("rb") as handle:
        table = read_section_table(handle, path, R1CS_MAGIC)
        header = _parse_header(path, table.read(handle, HEADER_SECTION))
        payload = table.read(handle, CONSTRAINTS_SECTION)
    return R1cs(header, _parse_constraints(path, payload, header))


def count_constraint_kinds(path: Path) -> tuple[int, int]:
    """(non-linear, linear) constraint counts of ``path``; a linear one has an empty A or B.

    Reads only the term counts, so it stays fast for circuits of millions of constraints.
    """
    with path.open("rb") as handle:
        table = read_section_table(handle, path, R1CS_MAGIC)
        header = _parse_header(path, table.read(handle, HEADER_SECTION))
        payload = table.read(handle, CONSTRAINTS_SECTION)
    term_size = _U32.size + header.field_bytes
    position = nonlinear = 0
    for _ in range(header.n_constraints):
        sizes = []
        for _side in range(3):
            (count,) = _U32.unpack_from(payload, position)
            sizes.append(count)
            position += _U32.size + count * term_size
        nonlinear += bool(sizes[0] and sizes[1])
    if position != len(payload):
        raise InputError(f"{path}: constraint section is {len(payload)} bytes, expected {position}")
    return nonlinear, header.n_constraints - nonlinear


def check_witness(r1cs: R1cs, witness: Sequence[int]) -> list[int]:
    """Indices (0-based, file order) of the constraints that ``witness`` violates.

    ``witness`` holds one canonical field element per wire, ``witness[0] == 1``; a witness of the
    wrong length, a value outside [0, prime) or a wrong constant wire raises InputError.
    """
    header = r1cs.header
    if len(witness) != header.n_wires:
        raise InputError(
            f"witness has {len(witness)} values, the circuit has {header.n_wires} wires"
        )
    prime = header.prime
    bad = next((i for i, value in enumerate(witness) if not 0 <= value < prime), None)
    if bad is not None:
        raise InputError(f"witness[{bad}] = {witness[bad]} is not a field element in [0, prime)")
    if witness[0] != 1:
        raise InputError(f"witness[0] must be the constant 1, found {witness[0]}")
    values = witness.__getitem__
    violated = []
    for index, (a, b, c) in enumerate(r1cs.constraints):
        left = sum(map(mul, a[1], map(values, a[0]))) * sum(map(mul, b[1], map(values, b[0])))
        if (left - sum(map(mul, c[1], map(values, c[0])))) % prime:
            violated.append(index)
    return violated


def parse_sym(path: Path) -> dict[str, int]:
    """Signal name (e.g. 'main.x.y[2]') -> witness index, from circom's .sym file.

    Each line is ``labelIdx,witnessIdx,componentIdx,name``; signals the optimizer removed have
    witness index -1 and are left out, so a lookup of one raises KeyError.
    """
    signals: dict[str, int] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line:
            continue
        fields = line.split(",", 3)
        if len(fields) != 4:
            raise InputError(f"{path}:{number}: expected 4 comma-separated fields: {line!r}")
        witness_index = int(fields[1])
        if witness_index >= 0:
            signals[fields[3]] = witness_index
    return signals


def _parse_header(path: Path, payload: bytes) -> R1csHeader:
    """Decode header section 1: field size and prime, then the wire/label/constraint counts."""
    (field_bytes,) = _U32.unpack_from(payload, 0)
    if len(payload) != _U32.size + field_bytes + _HEADER_COUNTS.size:
        raise InputError(f"{path}: header section has an unexpected length {len(payload)}")
    prime = int.from_bytes(payload[_U32.size : _U32.size + field_bytes], "little")
    counts = _HEADER_COUNTS.unpack_from(payload, _U32.size + field_bytes)
    return R1csHeader(prime, field_bytes, *counts)


def _parse_constraints(path: Path, payload: bytes, header: R1csHeader) -> list[Constraint]:
    """Decode section 2: per constraint three linear combinations of (u32 wire, coefficient)."""
    term = struct.Struct(f"<I{header.field_bytes}s")
    view = memoryview(payload)
    position = 0

    def combination() -> LinearCombination:
        nonlocal position
        (count,) = _U32.unpack_from(view, position)
        start = position + _U32.size
        position = start + count * term.size
        terms = list(term.iter_unpack(view[start:position]))
        wires = tuple(wire for wire, _ in terms)
        coefficients = tuple(int.from_bytes(raw, "little") for _, raw in terms)
        return wires, coefficients

    try:
        constraints = [
            (combination(), combination(), combination()) for _ in range(header.n_constraints)
        ]
    except struct.error as exc:
        raise InputError(f"{path}: constraint section is truncated: {exc}") from exc
    if position != len(payload):
        raise InputError(f"{path}: constraint section is {len(payload)} bytes, expected {position}")
    return constraints
