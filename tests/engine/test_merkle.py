"""The fixed-depth 4-ary Poseidon Merkle tree: proofs, zero subtrees, a naive reference, and
known answers from circomlibjs (tests/engine/vectors/account_leaf.js)."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from zkmargin.errors import InputError
from zkmargin.fixedpoint import R
from zkmargin.merkle import ARITY, MerkleProof, MerkleTree, place, zero_roots
from zkmargin.poseidon import poseidon

field_elements = st.integers(0, R - 1)

#: circomlibjs Poseidon, from tests/engine/vectors/account_leaf.js.
NODE_1234 = 18821383157269793795438455681495246036402687001665670618754263018637548127333
ROOT_1_TO_5_DEPTH_2 = 16942788162409245438891515174103214707689766586283416259341544235535382603568
ZERO_ROOT_10 = 17246586734894168265112266963200606530710644744521791774170567941230295667185


@st.composite
def trees(draw: st.DrawFn, unique: bool = False) -> MerkleTree:
    """Trees of depth 0..3 (up to 64 leaves), partly or wholly filled."""
    depth = draw(st.integers(0, 3))
    elements = st.integers(1, R - 1) if unique else field_elements
    return MerkleTree(draw(st.lists(elements, max_size=ARITY**depth, unique=unique)), depth)


def _naive_root(leaves: list[int], depth: int) -> int:
    """Hash every one of the 4**depth leaves, zeros included (the definition the tree shortcuts)."""
    level = leaves + [0] * (ARITY**depth - len(leaves))
    while len(level) > 1:
        level = [poseidon(level[i:i + ARITY]) for i in range(0, len(level), ARITY)]
    return level[0]


# ---- proofs ----
@given(trees())
def test_proofs_of_every_leaf_open_to_the_root(tree: MerkleTree) -> None:
    for index, leaf in enumerate(tree.levels[0]):
        proof = tree.proof(index)
        assert (proof.index, proof.leaf, len(proof.siblings)) == (index, leaf, tree.depth)
        assert all(len(level) == ARITY - 1 for level in proof.siblings)
        assert proof.root() == tree.root


@pytest.mark.parametrize("depth", [1, 2, 3])
@pytest.mark.parametrize("used", [0, 1, 3, 4, 5, 17])
def test_every_index_of_a_small_tree_opens_to_the_root(depth: int, used: int) -> None:
    """Every index, used or not, of trees filled to every boundary of a 4-group."""
    leaves = list(range(101, 101 + min(used, ARITY**depth)))
    tree = MerkleTree(leaves, depth)
    assert tree.root == _naive_root(leaves, depth)
    for index in range(ARITY**depth):
        proof = tree.proof(index)
        assert proof.leaf == (leaves[index] if index < len(leaves) else 0)
        assert proof.root() == tree.root


@given(trees(), st.data())
def test_a_proof_of_an_unused_leaf_opens_zero_to_the_root(tree: MerkleTree, data: st.DataObject) -> None:
    unused = range(len(tree.levels[0]), ARITY**tree.depth)
    assume(unused)
    proof = tree.proof(data.draw(st.sampled_from(unused)))
    assert proof.leaf == 0 and proof.root() == tree.root


@given(st.lists(field_elements, max_size=16), st.integers(2, 3))
def test_tree_root_equals_the_naive_root_over_all_leaves(leaves: list[int], depth: int) -> None:
    assert MerkleTree(leaves, depth).root == _naive_root(leaves, depth)


@given(trees(), st.data())
def test_a_proof_with_a_wrong_leaf_or_sibling_opens_to_another_root(tree: MerkleTree, data: st.DataObject) -> None:
    assume(tree.levels[0] and tree.depth)
    proof = tree.proof(data.draw(st.integers(0, len(tree.levels[0]) - 1)))
    assert MerkleProof(proof.index, (proof.leaf + 1) % R, proof.siblings).root() != tree.root
    level = data.draw(st.integers(0, tree.depth - 1))
    place_ = data.draw(st.integers(0, ARITY - 2))
    siblings = [list(s) for s in proof.siblings]
    siblings[level][place_] = (siblings[level][place_] + 1) % R
    edited = tuple((a, b, c) for a, b, c in siblings)
    assert MerkleProof(proof.index, proof.leaf, edited).root() != tree.root


@given(trees(unique=True), st.data())
def test_a_proof_moved_to_another_index_opens_to_another_root(tree: MerkleTree, data: st.DataObject) -> None:
    """Distinct non-zero leaves: the same leaf and siblings at any other index hash differently."""
    assume(tree.levels[0] and tree.depth)
    proof = tree.proof(data.draw(st.integers(0, len(tree.levels[0]) - 1)))
    other = data.draw(st.integers(0, ARITY**tree.depth - 1).filter(lambda i: i != proof.index))
    assert MerkleProof(other, proof.leaf, proof.siblings).root() != tree.root


def test_the_path_lists_three_siblings_per_level_left_to_right_around_the_base_4_digits() -> None:
    tree = MerkleTree([1, 2, 3, 4, 5], 2)
    z1 = zero_roots(1)[1]
    proof = tree.proof(6)  # base 4: digits (2, 1), least significant first
    assert proof.digits == (2, 1)
    assert proof.siblings == ((5, 0, 0), (poseidon([1, 2, 3, 4]), z1, z1))
    assert tree.proof(2).siblings == ((1, 2, 4), (poseidon([5, 0, 0, 0]), z1, z1))
    assert [place(9, (1, 2, 3), d) for d in range(ARITY)] == [[9, 1, 2, 3], [1, 9, 2, 3], [1, 2, 9, 3], [1, 2, 3, 9]]


# ---- known answers (circomlibjs) and empty subtrees ----
def test_a_node_and_a_root_equal_circomlibjs() -> None:
    assert poseidon([1, 2, 3, 4]) == NODE_1234
    assert MerkleTree([1, 2, 3, 4, 5], 2).root == ROOT_1_TO_5_DEPTH_2


def test_zero_subtree_roots_hash_four_copies_of_the_level_below() -> None:
    z = zero_roots(10)
    assert len(z) == 11 and z[0] == 0 and z[10] == ZERO_ROOT_10
    assert all(z[k + 1] == poseidon([z[k]] * ARITY) for k in range(10))
    assert zero_roots(4) == z[:5]


@pytest.mark.parametrize("depth", [0, 1, 5, 10])
def test_an_empty_or_all_zero_tree_has_the_zero_subtree_root(depth: int) -> None:
    assert MerkleTree([], depth).root == zero_roots(depth)[depth]
    assert MerkleTree([0] * min(5, ARITY**depth), depth).root == zero_roots(depth)[depth]


def test_a_depth_zero_tree_is_its_single_leaf() -> None:
    tree = MerkleTree([42], 0)
    assert tree.root == 42 and tree.proof(0) == MerkleProof(0, 42, ())


def test_a_large_sparse_tree_hashes_only_its_used_leaves() -> None:
    """Depth 10 (the account tree) over 5 leaves: the shortcut equals the definition level by level."""
    tree = MerkleTree([1, 2, 3, 4, 5], 10)
    assert [len(level) for level in tree.levels] == [5, 2] + [1] * 9
    z = zero_roots(10)
    node = ROOT_1_TO_5_DEPTH_2
    for level in range(2, 10):
        node = poseidon([node, z[level], z[level], z[level]])
    assert tree.root == node and tree.proof(4).root() == node


# ---- bounds ----
def test_more_leaves_than_the_depth_holds_is_an_input_error() -> None:
    with pytest.raises(InputError, match=r"^17 leaves do not fit a 4-ary Merkle tree of depth 2 \(16 leaves\)$"):
        MerkleTree(list(range(17)), 2)


@pytest.mark.parametrize("index", [-1, 16, 1 << 40])
def test_a_proof_outside_the_tree_is_an_input_error(index: int) -> None:
    with pytest.raises(InputError, match=rf"^leaf index {index} is outside a 4-ary tree of depth 2$"):
        MerkleTree([1, 2, 3], 2).proof(index)
