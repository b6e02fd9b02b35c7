pragma circom 2.1.6;

include "poseidon.circom";

// HashVector(N): Poseidon over a vector of any fixed length. Spec: zkmargin.poseidon.hash_vector.
// N <= 16: Poseidon(N)(in). Otherwise h = Poseidon(16)(in[0..15]), then for each next chunk c of
// up to 15 elements h = Poseidon(1 + |c|)(h, c). N is a template parameter, so the chaining (and
// with it the hash's domain) is fixed per circuit: vectors of different lengths never collide
// by construction, only by breaking Poseidon.
template HashVector(N) {
    assert(N >= 1);
    signal input in[N];
    signal output out;

    var CHUNKS = N <= 16 ? 1 : 1 + (N - 16 + 14) \ 15;
    component h[CHUNKS];
    h[0] = Poseidon(N <= 16 ? N : 16);
    for (var j = 0; j < (N <= 16 ? N : 16); j++) {
        h[0].inputs[j] <== in[j];
    }
    var pos = 16;
    for (var c = 1; c < CHUNKS; c++) {
        var len = N - pos < 15 ? N - pos : 15;
        h[c] = Poseidon(1 + len);
        h[c].inputs[0] <== h[c - 1].out;
        for (var j = 0; j < len; j++) {
            h[c].inputs[1 + j] <== in[pos + j];
        }
        pos += len;
    }
    out <== h[CHUNKS - 1].out;
}
