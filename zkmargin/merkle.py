"""Quaternary Poseidon Merkle tree of fixed depth (spec of ``QuadMerkleRoot`` in circuits/lib/merkle.circom).

Node = ``Poseidon(4)(c0, c1, c2, c3)`` of its four children, left to right. A 4-ary tree of depth
``D`` holds ``4**D`` leaves at about 310 constraints per level in the circuit, against 2 x 245 for
the two binary levels it replaces. Unused leaves are 0; whole empty subtrees are represented by
their precomputed roots, so a depth-10 tree over 100 leaves costs ~35 + 10 hashes, not 350,000.

A path lists, from the leaf up, the three siblings at each level in left-to-right order; the
leaf index in base 4 (least significant digit first) says at which of the four places the running
node sits at each level.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from zkmargin.errors import InputError
from zkmargin.poseidon import poseidon

#: Children per node.
ARITY = 4


@cache
def zero_roots(depth: int) -> tuple[int, ...]:
    """Roots of all-zero subtrees of height 0..depth."""
    z = [0]
    for _ in range(depth):
        z.append(poseidon([z[-1]] * ARITY))
    return tuple(z)


def place(node: int, siblings: Sequence[int], digit: int) -> list[int]:
    """The four children of a level: ``siblings`` with ``node`` inserted at place ``digit``."""
    return [*siblings[:digit], node, *siblings[digit:]]


@dataclass(frozen=True)
class MerkleProof:
    """Membership of ``leaf`` at ``index``: three siblings per level, bottom-up."""

    index: int
    leaf: int
    siblings: tuple[tuple[int, int, int], ...]

    @property
    def digits(self) -> tuple[int, ...]:
        """Base-4 digits of the index, least significant (the leaf's level) first."""
        return tuple((self.index >> (2 * level)) & 3 for level in range(len(self.siblings)))

    def root(self) -> int:
        """Recompute the root this proof opens to."""
        node = self.leaf
        for digit, sib in zip(self.digits, self.siblings):
            node = poseidon(place(node, sib, digit))
        return node


class MerkleTree:
    """A fixed-depth 4-ary tree over ``leaves`` (index 0 first), the rest zero."""

    def __init__(self, leaves: Sequence[int], depth: int) -> None:
        if len(leaves) > ARITY**depth:
            raise InputError(f"{len(leaves)} leaves do not fit a 4-ary Merkle tree of depth {depth} "
                             f"({ARITY**depth} leaves)")
        self.depth = depth
        zeros = zero_roots(depth)
        self.levels: list[list[int]] = [list(leaves)]
        for level in range(depth):
            cur = self.levels[-1]
            if len(cur) % ARITY:
                cur = cur + [zeros[level]] * (ARITY - len(cur) % ARITY)
            self.levels.append([poseidon(cur[i:i + ARITY]) for i in range(0, len(cur), ARITY)])
        self.root = self.levels[-1][0] if self.levels[-1] else zeros[depth]

    def proof(self, index: int) -> MerkleProof:
        """Membership proof of the leaf at ``index``."""
        if not 0 <= index < ARITY**self.depth:
            raise InputError(f"leaf index {index} is outside a 4-ary tree of depth {self.depth}")
        zeros = zero_roots(self.depth)
        siblings: list[tuple[int, int, int]] = []
        for level in range(self.depth):
            nodes = self.levels[level]
            first = (index >> (2 * level)) & ~3
            own = (index >> (2 * level)) & 3
            group = [nodes[j] if j < len(nodes) else zeros[level] for j in range(first, first + ARITY)]
            a, b, c = group[:own] + group[own + 1:]
            siblings.append((a, b, c))
        leaves = self.levels[0]
        return MerkleProof(index, leaves[index] if index < len(leaves) else 0, tuple(siblings))
