"""Binary Poseidon Merkle tree of fixed depth (spec of ``circuits/lib/merkle.circom``).

Node = ``Poseidon(2)(left, right)``. Unused leaves are 0; whole empty subtrees are represented by
their precomputed roots, so a depth-16 tree over 300 leaves costs ~300 + 16 * 150 hashes, not 65k.
Paths list the sibling at each level from the leaf up; the leaf index bits (LSB first) say whether
the running node is the right child (bit 1) or the left child (bit 0).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from zkmargin.errors import InputError
from zkmargin.poseidon import hash_pair


@cache
def zero_roots(depth: int) -> tuple[int, ...]:
    """Roots of all-zero subtrees of height 0..depth."""
    z = [0]
    for _ in range(depth):
        z.append(hash_pair(z[-1], z[-1]))
    return tuple(z)


@dataclass(frozen=True)
class MerkleProof:
    """Membership of ``leaf`` at ``index``: siblings bottom-up."""

    index: int
    leaf: int
    siblings: tuple[int, ...]

    @property
    def index_bits(self) -> tuple[int, ...]:
        return tuple((self.index >> level) & 1 for level in range(len(self.siblings)))

    def root(self) -> int:
        """Recompute the root this proof opens to."""
        node = self.leaf
        for bit, sib in zip(self.index_bits, self.siblings):
            node = hash_pair(sib, node) if bit else hash_pair(node, sib)
        return node


class MerkleTree:
    """A fixed-depth tree over ``leaves`` (index 0 first), the rest zero."""

    def __init__(self, leaves: list[int], depth: int) -> None:
        if len(leaves) > 1 << depth:
            raise InputError(f"{len(leaves)} leaves do not fit a Merkle tree of depth {depth} "
                             f"({1 << depth} leaves)")
        self.depth = depth
        zeros = zero_roots(depth)
        self.levels: list[list[int]] = [list(leaves)]
        for level in range(depth):
            cur = self.levels[-1]
            if len(cur) % 2:
                cur = cur + [zeros[level]]
            self.levels.append([hash_pair(cur[i], cur[i + 1]) for i in range(0, len(cur), 2)])
        self.root = self.levels[-1][0] if self.levels[-1] else zeros[depth]

    def proof(self, index: int) -> MerkleProof:
        """Membership proof of the leaf at ``index``."""
        if not 0 <= index < 1 << self.depth:
            raise InputError(f"leaf index {index} is outside a tree of depth {self.depth}")
        zeros = zero_roots(self.depth)
        siblings = []
        for level in range(self.depth):
            nodes = self.levels[level]
            j = (index >> level) ^ 1
            siblings.append(nodes[j] if j < len(nodes) else zeros[level])
        leaves = self.levels[0]
        return MerkleProof(index, leaves[index] if index < len(leaves) else 0, tuple(siblings))
