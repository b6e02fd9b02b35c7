pragma circom 2.1.6;

include "range.circom";

// CollateralValue(TIERS, AMOUNT_BITS): value after haircut of one non-negative collateral amount.
// Spec: zkmargin.terms.collateral_split + collateral_value.
//   balance         AMOUNT_SCALE; the CALLER bounds it to [0, 2**AMOUNT_BITS) (BalanceValue: the
//                   credit part of a SignedRange-checked balance; IsolatedCollateral: a
//                   range-checked allocation)
//   split[t]        prover hint: part of the balance counted in tier t, range-checked
//   price, tier_from[t], haircut[t]   snapshot terms (bound by the snapshot root)
//   value           EQUITY_SCALE = price * sum_t split[t] * (10000 - haircut[t])
// Why split cannot help a cheater: the parts must add up to the balance and each capped tier
// holds at most its width; haircuts never decrease with the tier (snapshot validation), so the
// lowest-tier-first fill the engine uses is the maximum value any split can reach.
// Constraints: (2 * TIERS - 1) * (AMOUNT_BITS + 1) + TIERS + 1.
template CollateralValue(TIERS, AMOUNT_BITS) {
    assert(TIERS >= 1);
    signal input balance;
    signal input split[TIERS];
    signal input price;
    signal input tier_from[TIERS];
    signal input haircut[TIERS];
    signal output value;

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

// BalanceValue(TIERS, AMOUNT_BITS): value of one signed balance. Spec: zkmargin.terms.balance_value.
//   balance, neg    the balance (signed-encoded) and its sign bit from the caller's
//                   SignedRange(AMOUNT_BITS + 1): balance in [-2**AMOUNT_BITS, 2**AMOUNT_BITS)
//   split[t], price, tier_from[t], haircut[t]   as CollateralValue, for the credit part
//   value           EQUITY_SCALE: credit after its tiered haircuts + debt at full price:
//                   price * sum_t split[t] * (10000 - haircut[t]) + 10000 * price * min(balance, 0)
// credit = balance when neg = 0 (then in [0, 2**AMOUNT_BITS)), else 0; debt = balance - credit is
// the balance when neg = 1 and 0 otherwise, so a debt is never split into haircut tiers (no
// haircut "benefit" on a liability) and never wraps into a credit.
// Constraints: CollateralValue + 2.
template BalanceValue(TIERS, AMOUNT_BITS) {
    signal input balance;
    signal input neg;
    signal input split[TIERS];
    signal input price;
    signal input tier_from[TIERS];
    signal input haircut[TIERS];
    signal output value;

    signal credit <== (1 - neg) * balance;
    component credit_value = CollateralValue(TIERS, AMOUNT_BITS);
    credit_value.balance <== credit;
    credit_value.split <== split;
    credit_value.price <== price;
    credit_value.tier_from <== tier_from;
    credit_value.haircut <== haircut;
    signal debt_value <== price * (balance - credit);
    value <== credit_value.value + 10000 * debt_value;
}
