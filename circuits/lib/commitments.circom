pragma circom 2.1.6;

include "poseidon.circom";
include "hash.circom";

// SnapshotRoot(ASSETS, TIERS): snapshot_root from its parts. Spec: zkmargin.commitment.
//   root = Poseidon(instrument_root, collateral_hash, params_hash, epoch)
//   collateral_hash = HashVector(for each asset: price, tier_from[T], hc_mm[T], hc_im[T])
//   params_hash = Poseidon(mm_factor_bps, contingency_bps, short_option_min_bps)
// Every input is bound by Poseidon's collision resistance once the caller constrains out to the
// public snapshot_root; the verifier accepts only roots of snapshots that pass validation.
// Constraints: HashVector(ASSETS * (1 + 3 * TIERS)) + Poseidon(3) + Poseidon(4).
template SnapshotRoot(ASSETS, TIERS) {
    signal input instrument_root;
    signal input asset_price[ASSETS];
    signal input tier_from[ASSETS][TIERS];
    signal input hc_mm[ASSETS][TIERS];
    signal input hc_im[ASSETS][TIERS];
    signal input mm_factor_bps;
    signal input contingency_bps;
    signal input short_option_min_bps;
    signal input epoch;
    signal output out;

    var W = 1 + 3 * TIERS;
    component table = HashVector(ASSETS * W);
    for (var k = 0; k < ASSETS; k++) {
        table.in[k * W] <== asset_price[k];
        for (var t = 0; t < TIERS; t++) {
            table.in[k * W + 1 + t] <== tier_from[k][t];
            table.in[k * W + 1 + TIERS + t] <== hc_mm[k][t];
            table.in[k * W + 1 + 2 * TIERS + t] <== hc_im[k][t];
        }
    }
    signal params <== Poseidon(3)([mm_factor_bps, contingency_bps, short_option_min_bps]);
    out <== Poseidon(4)([instrument_root, table.out, params, epoch]);
}

// AccountCommitment(SLOTS, ASSETS, ALLOCATED): Spec: zkmargin.commitment.account_commitment.
//   out = HashVector(salt, instrument[0], qty[0], ..., instrument[P-1], qty[P-1], balance[0..K-1]
//                    [, alloc_asset[i], alloc_amount[i] for each slot when ALLOCATED == 1])
// The salt (>= 128 random bits) hides the account; out is constrained by the caller to the
// public account_commitment, which binds every position, balance and allocation the proof uses.
// Constraints: HashVector(1 + 2 * SLOTS + ASSETS (+ 2 * SLOTS)).
template AccountCommitment(SLOTS, ASSETS, ALLOCATED) {
    assert(ALLOCATED == 0 || ALLOCATED == 1);
    signal input salt;
    signal input instrument[SLOTS];
    signal input qty[SLOTS];
    signal input balance[ASSETS];
    signal output out;

    var BASE = 1 + 2 * SLOTS + ASSETS;
    component h = HashVector(BASE + 2 * SLOTS * ALLOCATED);
    h.in[0] <== salt;
    for (var i = 0; i < SLOTS; i++) {
        h.in[1 + 2 * i] <== instrument[i];
        h.in[2 + 2 * i] <== qty[i];
    }
    for (var k = 0; k < ASSETS; k++) {
        h.in[1 + 2 * SLOTS + k] <== balance[k];
    }
    if (ALLOCATED == 1) {
        signal input alloc_asset[SLOTS];
        signal input alloc_amount[SLOTS];
        for (var i = 0; i < SLOTS; i++) {
            h.in[BASE + 2 * i] <== alloc_asset[i];
            h.in[BASE + 2 * i + 1] <== alloc_amount[i];
        }
    }
    out <== h.out;
}
