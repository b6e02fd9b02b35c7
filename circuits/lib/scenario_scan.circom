pragma circom 2.1.6;

include "range.circom";

// GroupSelect(GROUPS): places one position slot in one of the account's group slots.
// Spec: zkmargin.book.resolve (slot_group).
//   sel[g]       prover hint, one-hot (or all zero for the null instrument)
//   group_id[g]  prover-chosen ids of the account's group slots
//   leaf_group   the instrument's group from its committed leaf (>= 1 for real instruments)
// Why no choice helps a cheater: sum_g sel[g] * group_id[g] must equal the leaf's group, so a real
// position lands in exactly one slot whose id is its own group; P&L can never net across groups.
// Two slots with the same id only split a group, which can only raise the summed scanning loss.
// Constraints: 2 * GROUPS + 1.
template GroupSelect(GROUPS) {
    signal input sel[GROUPS];
    signal input group_id[GROUPS];
    signal input leaf_group;

    signal picked[GROUPS];
    var count = 0;
    var chosen = 0;
    for (var g = 0; g < GROUPS; g++) {
        sel[g] * (sel[g] - 1) === 0;
        picked[g] <== sel[g] * group_id[g];
        count += sel[g];
        chosen += picked[g];
    }
    count * (count - 1) === 0;
    chosen === leaf_group;
}

// GroupScenarioPnl(SLOTS, GROUPS, SCENARIOS): P&L of each group under each scenario.
// Spec: zkmargin.portfolio.portfolio_margin (group_pnl), VALUE_SCALE.
//   pnl[g][s] = sum_i sel[i][g] * qty[i] * risk[i][s]
// NOTE: caller must constrain sel (GroupSelect) and range-check qty; risk is snapshot-bound.
// Constraints: SLOTS * GROUPS * (SCENARIOS + 1).
template GroupScenarioPnl(SLOTS, GROUPS, SCENARIOS) {
    signal input sel[SLOTS][GROUPS];
    signal input qty[SLOTS];
    signal input risk[SLOTS][SCENARIOS];
    signal output pnl[GROUPS][SCENARIOS];

    signal qsel[SLOTS][GROUPS];
    signal term[SLOTS][GROUPS][SCENARIOS];
    for (var i = 0; i < SLOTS; i++) {
        for (var g = 0; g < GROUPS; g++) {
            qsel[i][g] <== sel[i][g] * qty[i];
            for (var s = 0; s < SCENARIOS; s++) {
                term[i][g][s] <== qsel[i][g] * risk[i][s];
            }
        }
    }
    for (var g = 0; g < GROUPS; g++) {
        for (var s = 0; s < SCENARIOS; s++) {
            var acc = 0;
            for (var i = 0; i < SLOTS; i++) {
                acc += term[i][g][s];
            }
            pnl[g][s] <== acc;
        }
    }
}

// ScanLoss(SCENARIOS, BITS): accepts loss as the group's scanning loss if it covers every scenario.
// Spec: zkmargin.portfolio (scan_loss = max(0, max_s -pnl[s])), VALUE_SCALE.
//   loss   prover hint, range-checked to BITS bits (so loss >= 0)
//   pnl[s] from GroupScenarioPnl, |pnl| < 2**(BITS-2) by the fixed-point bounds
// Why loss cannot help a cheater: loss + pnl[s] must be a BITS-bit number for every s, i.e.
// loss >= -pnl[s]; a loss below the true maximum makes one of them negative, which in the field
// is r - |x| > 2**BITS and fails. The prover may only over-state the loss.
// Constraints: (SCENARIOS + 1) * (BITS + 1).
template ScanLoss(SCENARIOS, BITS) {
    signal input pnl[SCENARIOS];
    signal input loss;

    component nonneg = RangeCheck(BITS);
    nonneg.in <== loss;
    component covers[SCENARIOS];
    for (var s = 0; s < SCENARIOS; s++) {
        covers[s] = RangeCheck(BITS);
        covers[s].in <== loss + pnl[s];
    }
}

// AtLeastBoth(BITS): accepts out as max(a, b) if it covers both. Spec: portfolio (group_req).
//   out  prover hint; out - a and out - b are range-checked, so out >= a and out >= b.
// Why out cannot help a cheater: it can only over-state the requirement.
// NOTE: caller must keep a and b below 2**(BITS-1) (both come from range-checked values).
// Constraints: 2 * (BITS + 1).
template AtLeastBoth(BITS) {
    signal input a;
    signal input b;
    signal input out;

    component over_a = RangeCheck(BITS);
    over_a.in <== out - a;
    component over_b = RangeCheck(BITS);
    over_b.in <== out - b;
}
