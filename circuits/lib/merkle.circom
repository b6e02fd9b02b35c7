pragma circom 2.1.6;

include "poseidon.circom";
include "bitify.circom";

// MerkleRoot(DEPTH): the root a leaf opens to along a path. Spec: zkmargin.merkle.MerkleProof.root.
// index is the leaf position; its DEPTH-bit decomposition (range check included) says at each
// level whether the running node is the right child. siblings[l] is the sibling at level l.
// NOTE: the caller must constrain out to the committed root; siblings are free hash inputs,
// bound only by Poseidon's collision resistance.
// Constraints: DEPTH * (Poseidon(2) + 2) + DEPTH + 1.
template MerkleRoot(DEPTH) {
    assert(DEPTH >= 1 && DEPTH <= 32);
    signal input leaf;
    signal input index;
    signal input siblings[DEPTH];
    signal output out;

    component bits = Num2Bits(DEPTH);
    bits.in <== index;

    signal node[DEPTH + 1];
    signal left[DEPTH];
    node[0] <== leaf;
    for (var l = 0; l < DEPTH; l++) {
        // left = bit ? sibling : node; right is the other one (one multiplication per level).
        left[l] <== node[l] + bits.out[l] * (siblings[l] - node[l]);
        node[l + 1] <== Poseidon(2)([left[l], node[l] + siblings[l] - left[l]]);
    }
    out <== node[DEPTH];
}
