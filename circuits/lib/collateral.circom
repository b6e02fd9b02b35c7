pragma circom 2.1.6;

include "range.circom";

// CollateralValue(TIERS): value after haircut of one collateral balance.
// Spec: zkmargin.portfolio.collateral_split + collateral_value.
//   balance         AMOUNT_SCALE, private, range-checked to AMOUNT_BITS
//   split[t]        prover hint: part of the balance counted in tier t, range-checked
//   price, tier_from[t], haircut[t]   snapshot terms (bound by the snapshot root)
//   value           EQUITY_SCALE = price * sum_t split[t] * (10000 - haircut[t])
// Why split cannot help a cheater: the parts must add up to the balance and each capped tier
// holds at most its width; haircuts never decrease with the tier (snapshot validation), so the
// lowest-tier-first fill the engine uses is the maximum value any split can reach.
// Constraints: (2 * TIERS) * (AMOUNT_BITS + 1) + TIERS + 2.
template CollateralValue(TIERS, AMOUNT_BITS) {
    assert(TIERS >= 1);
    signal input balance;
    signal input split[TIERS];
    signal input price;
    signal input tier_from[TIERS];
    signal input haircut[TIERS];
    signal output value;

    component balance_range = RangeCheck(AMOUNT_BITS);
    balance_range.in <== balance;

    component part_range[TIERS];
    component cap_range[TIERS];
    signal weighted[TIERS];
    var parts = 0;
    var weight = 0;
    for (var t = 0; t < TIERS; t++) {
        part_range[t] = RangeCheck(AMOUNT_BITS);
        part_range[t].in <== split[t];
        if (t + 1 < TIERS) {
            // a capped tier holds at most tier_from[t+1] - tier_from[t]
            cap_range[t] = RangeCheck(AMOUNT_BITS);
            cap_range[t].in <== tier_from[t + 1] - tier_from[t] - split[t];
        }
        weighted[t] <== split[t] * (10000 - haircut[t]);
        parts += split[t];
        weight += weighted[t];
    }
    parts === balance;
    value <== price * weight;
}
