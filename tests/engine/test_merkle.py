"""The fixed-depth Poseidon Merkle tree: proofs, zero subtrees, and a naive reference tree."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from zkmargin.errors import InputError
from zkmargin.fixedpoint import R
from zkmargin.merkle import MerkleProof, MerkleTree, zero_roots
from zkmargin.poseidon import hash_pair

field_elements = st.integers(0, R - 1)


@st.composite
def trees(draw: st.DrawFn) -> MerkleTree:
    depth = draw(st.integers(0, 6))
    return MerkleTree(draw(st.lists(field_elements, max_size=1 << depth)), depth)


def _naive_root(leaves: list[int], depth: int) -> int:
    """Hash every one of the 2**depth leaves, zeros included (the definition the tree shortcuts)."""
    level = leaves + [0] * ((1 << depth) - len(leaves))
    while len(level) > 1:
        level = [hash_pair(level[i], level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


@given(trees())
def test_merkle_proofs_of_every_leaf_recompute_the_root(tree: MerkleTree) -> None:
    for index, leaf in enumerate(tree.levels[0]):
        proof = tree.proof(index)
        assert (proof.index, proof.leaf, len(proof.siblings)) == (index, leaf, tree.depth)
        assert proof.root() == tree.root


@given(trees(), st.data())
def test_a_proof_of_an_unused_leaf_opens_zero_to_the_root(tree: MerkleTree, data: st.DataObject) -> None:
    unused = range(len(tree.levels[0]), 1 << tree.depth)
    assume(unused)
    proof = tree.proof(data.draw(st.sampled_from(unused)))
    assert proof.leaf == 0 and proof.root() == tree.root


@given(st.lists(field_elements, max_size=16), st.integers(4, 5))
def test_tree_root_equals_the_naive_root_over_all_leaves(leaves: list[int], depth: int) -> None:
    assert MerkleTree(leaves, depth).root == _naive_root(leaves, depth)


@given(trees(), st.data())
def test_a_proof_with_a_wrong_leaf_or_sibling_opens_to_another_root(tree: MerkleTree, data: st.DataObject) -> None:
    assume(tree.levels[0])
    proof = tree.proof(data.draw(st.integers(0, len(tree.levels[0]) - 1)))
    assert MerkleProof(proof.index, (proof.leaf + 1) % R, proof.siblings).root() != tree.root
    if proof.siblings:
        level = data.draw(st.integers(0, len(proof.siblings) - 1))
        siblings = list(proof.siblings)
        siblings[level] = (siblings[level] + 1) % R
        assert MerkleProof(proof.index, proof.leaf, tuple(siblings)).root() != tree.root


def test_zero_subtree_roots_hash_the_level_below_with_itself() -> None:
    z = zero_roots(8)
    assert len(z) == 9 and z[0] == 0
    assert all(z[k + 1] == hash_pair(z[k], z[k]) for k in range(8))
    assert zero_roots(4) == z[:5]


@pytest.mark.parametrize("depth", [0, 1, 5, 10])
def test_an_empty_or_all_zero_tree_has_the_zero_subtree_root(depth: int) -> None:
    assert MerkleTree([], depth).root == zero_roots(depth)[depth]
    assert MerkleTree([0] * min(3, 1 << depth), depth).root == zero_roots(depth)[depth]


def test_a_proof_path_goes_right_where_the_index_bit_is_one() -> None:
    tree = MerkleTree([11, 22, 33], 2)
    proof = tree.proof(2)
    assert proof.index_bits == (0, 1)
    assert proof.siblings == (0, hash_pair(11, 22))
    assert tree.root == hash_pair(hash_pair(11, 22), hash_pair(33, 0))


def test_more_leaves_than_the_depth_holds_is_an_input_error() -> None:
    with pytest.raises(InputError, match=r"^5 leaves do not fit a Merkle tree of depth 2 \(4 leaves\)$"):
        MerkleTree([1, 2, 3, 4, 5], 2)
