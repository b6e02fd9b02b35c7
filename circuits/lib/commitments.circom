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
