pragma circom 2.1.6;

include "poseidon.circom";
include "bitify.circom";

// QuadMerkleRoot(DEPTH): the root a leaf opens to along a path of a 4-ary Poseidon Merkle tree.
// Spec: zkmargin.merkle.MerkleProof.root. Node = Poseidon(4)(c0, c1, c2, c3), children left to right.
//   leaf, index          the leaf and its position; index is decomposed into 2 * DEPTH bits (range
//                        check included: index < 4**DEPTH), two bits (one base-4 digit) per level
//   siblings[l][0..2]    the other three children at level l, left to right (prover-chosen, bound
//                        by Poseidon's collision resistance once the caller constrains out)
//   out                  the root; NOTE: the caller must constrain it to the committed root
// Per level the digit d picks one of four placements of the running node n among the siblings
// s0 s1 s2: d=0 [n s0 s1 s2], d=1 [s0 n s1 s2], d=2 [s0 s1 n s2], d=3 [s0 s1 s2 n]. The digit's
// one-hot e0..e3 is linear in its bits once e3 = b0 * b1 is known, so a level costs 6
// multiplications besides the hash.
// Constraints: DEPTH * (Poseidon(4) + 6) + 2 * DEPTH + 1.
template QuadMerkleRoot(DEPTH) {
    assert(DEPTH >= 1 && DEPTH <= 16);
    signal input leaf;
    signal input index;
    signal input siblings[DEPTH][3];
    signal output out;

    component bits = Num2Bits(2 * DEPTH);
    bits.in <== index;

    signal node[DEPTH + 1];
    signal e3[DEPTH];
    signal c0[DEPTH];
    signal c1a[DEPTH];
    signal c1[DEPTH];
    signal c2a[DEPTH];
    signal c2[DEPTH];
    signal c3[DEPTH];
    component hash[DEPTH];
    node[0] <== leaf;
    for (var l = 0; l < DEPTH; l++) {
        var b0 = bits.out[2 * l];
        var b1 = bits.out[2 * l + 1];
        e3[l] <== b0 * b1;
        var e0 = 1 - b0 - b1 + e3[l];
        var e1 = b0 - e3[l];
        var e2 = b1 - e3[l];
        var n = node[l];
        var s0 = siblings[l][0];
        var s1 = siblings[l][1];
        var s2 = siblings[l][2];
        c0[l] <== s0 + e0 * (n - s0);                  // n iff d = 0, else s0
        c1a[l] <== e0 * (s0 - s1);
        c1[l] <== s1 + c1a[l] + e1 * (n - s1);         // s0 iff d = 0, n iff d = 1, else s1
        c2a[l] <== e2 * (n - s1);
        c2[l] <== s1 + c2a[l] + e3[l] * (s2 - s1);     // s1 iff d <= 1, n iff d = 2, s2 iff d = 3
        c3[l] <== s2 + e3[l] * (n - s2);               // n iff d = 3, else s2
        hash[l] = Poseidon(4);
        hash[l].inputs <== [c0[l], c1[l], c2[l], c3[l]];
        node[l + 1] <== hash[l].out;
    }
    out <== node[DEPTH];
}
