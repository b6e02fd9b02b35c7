pragma circom 2.1.9;

include "poseidon.circom";

// Test circuit for the prover toolchain, not a margin circuit: a Poseidon digest of private
// values and a public salt, a product of three signals, a log() call and a witness-time assert
// (so tests can see circom's own failure message; asserts never replace constraints).
template ToyHashProduct() {
    signal input a;
    signal input b[2];
    signal input salt;
    signal output digest;
    signal output product;

    assert(a != 13);

    signal ab0 <== a * b[0];
    product <== ab0 * b[1];
    log("toy product", product);
    digest <== Poseidon(3)([a, b[0] + b[1], salt]);
}

component main {public [salt]} = ToyHashProduct();
