pragma circom 2.1.6;

include "comparators.circom";
include "range.circom";
include "scenario_scan.circom";
include "collateral.circom";

// PortfolioRequirement(SLOTS, SCENARIOS, GROUPS): sum of group requirements with netting inside
// each group. Spec: zkmargin.portfolio (group_pnl, scan_loss, group_som, group_req).
//   qty, leaf_group, risk, som_value   per slot (range-checked / leaf-bound by the caller)
//   group_id, group_sel, scan_loss, group_req   prover hints, constrained here (see GroupSelect,
//                                     ScanLoss, AtLeastBoth for why none can help a cheater)
//   total = sum_g group_req[g]        VALUE_SCALE
// Constraints: SLOTS * (GROUPS * (SCENARIOS + 3) + 1) + GROUPS * (SCENARIOS + 3) * (LOSS_BITS + 1).
template PortfolioRequirement(SLOTS, SCENARIOS, GROUPS, LOSS_BITS) {
    signal input qty[SLOTS];
    signal input leaf_group[SLOTS];
    signal input risk[SLOTS][SCENARIOS];
    signal input som_value[SLOTS];
    signal input group_id[GROUPS];
    signal input group_sel[SLOTS][GROUPS];
    signal input scan_loss[GROUPS];
    signal input group_req[GROUPS];
    signal output group_pnl[GROUPS][SCENARIOS];
    signal output group_som[GROUPS];
    signal output total;

    component select[SLOTS];
    for (var i = 0; i < SLOTS; i++) {
        select[i] = GroupSelect(GROUPS);
        select[i].sel <== group_sel[i];
        select[i].group_id <== group_id;
        select[i].leaf_group <== leaf_group[i];
    }
    component scenarios = GroupScenarioPnl(SLOTS, GROUPS, SCENARIOS);
    scenarios.sel <== group_sel;
    scenarios.qty <== qty;
    scenarios.risk <== risk;
    group_pnl <== scenarios.pnl;

    signal som_term[SLOTS][GROUPS];
    component scan[GROUPS];
    component requirement[GROUPS];
    var sum = 0;
    for (var g = 0; g < GROUPS; g++) {
        var som_sum = 0;
        for (var i = 0; i < SLOTS; i++) {
            som_term[i][g] <== group_sel[i][g] * som_value[i];
            som_sum += som_term[i][g];
        }
        group_som[g] <== som_sum;
        scan[g] = ScanLoss(SCENARIOS, LOSS_BITS);
        scan[g].pnl <== group_pnl[g];
        scan[g].loss <== scan_loss[g];
        requirement[g] = AtLeastBoth(LOSS_BITS);
        requirement[g].a <== scan_loss[g];
        requirement[g].b <== group_som[g];
        requirement[g].out <== group_req[g];
        sum += group_req[g];
    }
    total <== sum;
}

// StandaloneRequirements(SLOTS, LOSS_BITS): each position's own requirement, no offsets.
// Spec: zkmargin.terms.standalone_requirement (cross and isolated models).
//   loss[i], som[i]   from PositionSlot (standalone_loss, som_value)
//   req[i]            prover hint: at least both (AtLeastBoth), so only over-statement is possible
//   total = sum_i req[i]      VALUE_SCALE
// Constraints: SLOTS * 2 * (LOSS_BITS + 1) + 1.
template StandaloneRequirements(SLOTS, LOSS_BITS) {
    signal input loss[SLOTS];
    signal input som[SLOTS];
    signal input req[SLOTS];
    signal output total;

    component covers[SLOTS];
    var sum = 0;
    for (var i = 0; i < SLOTS; i++) {
        covers[i] = AtLeastBoth(LOSS_BITS);
        covers[i].a <== loss[i];
        covers[i].b <== som[i];
        covers[i].out <== req[i];
        sum += req[i];
    }
    total <== sum;
}

// IsolatedCollateral(SLOTS, ASSETS, TIERS, AMOUNT_BITS, ASSET_BITS): the collateral each position carries.
// Spec: zkmargin.isolated (alloc_split, alloc_value).
//   alloc_asset[i], alloc_amount[i]   attested allocation (asset index, AMOUNT_SCALE), range-checked
//                                     here to ASSET_BITS / AMOUNT_BITS (so the leaf's allocation
//                                     code asset * 2**64 + amount determines both)
//   alloc_sel[i][k]                   prover hint: one-hot of alloc_asset[i] (or all zero)
//   alloc_split[i][t]                 prover hint: tiers of the allocation (see CollateralValue)
//   balance[k], asset terms           attested signed balances (range-checked by the caller) and
//                                     snapshot terms
//   value[i]                          EQUITY_SCALE, the allocation after MM haircuts
//   code[i]                           alloc_asset * 2**AMOUNT_BITS + alloc_amount
// Why the hints cannot help a cheater: sum_k sel * k must equal the committed asset index and at
// most one sel is set, so an allocation is valued with its own asset's terms (or at 0); the
// allocations of each asset must fit its balance (range check of balance - allocated), so no
// collateral backs two positions and none is invented; a negative balance (a debt) fails that
// check, so an indebted account has no isolated witness (zkmargin.isolated).
// Constraints: SLOTS * (ASSETS * (2 + 3 * TIERS) + 2 + AMOUNT_BITS + ASSET_BITS + 2 + CollateralValue)
//              + ASSETS * (AMOUNT_BITS + 1).
template IsolatedCollateral(SLOTS, ASSETS, TIERS, AMOUNT_BITS, ASSET_BITS) {
    signal input alloc_asset[SLOTS];
    signal input alloc_amount[SLOTS];
    signal input alloc_sel[SLOTS][ASSETS];
    signal input alloc_split[SLOTS][TIERS];
    signal input balance[ASSETS];
    signal input asset_price[ASSETS];
    signal input tier_from[ASSETS][TIERS];
    signal input haircut[ASSETS][TIERS];
    signal output value[SLOTS];
    signal output code[SLOTS];

    signal used[SLOTS][ASSETS];
    signal pick_price[SLOTS][ASSETS];
    signal pick_from[SLOTS][ASSETS][TIERS];
    signal pick_hc[SLOTS][ASSETS][TIERS];
    component collateral[SLOTS];
    component amount_range[SLOTS];
    component asset_range[SLOTS];
    for (var i = 0; i < SLOTS; i++) {
        amount_range[i] = RangeCheck(AMOUNT_BITS);
        amount_range[i].in <== alloc_amount[i];
        asset_range[i] = RangeCheck(ASSET_BITS);
        asset_range[i].in <== alloc_asset[i];
        code[i] <== alloc_asset[i] * (1 << AMOUNT_BITS) + alloc_amount[i];
        var count = 0;
        var index = 0;
        var price = 0;
        var from[TIERS];
        var hc[TIERS];
        for (var t = 0; t < TIERS; t++) {
            from[t] = 0;
            hc[t] = 0;
        }
        for (var k = 0; k < ASSETS; k++) {
            alloc_sel[i][k] * (alloc_sel[i][k] - 1) === 0;
            count += alloc_sel[i][k];
            index += k * alloc_sel[i][k];
            used[i][k] <== alloc_sel[i][k] * alloc_amount[i];
            pick_price[i][k] <== alloc_sel[i][k] * asset_price[k];
            price += pick_price[i][k];
            for (var t = 0; t < TIERS; t++) {
                pick_from[i][k][t] <== alloc_sel[i][k] * tier_from[k][t];
                pick_hc[i][k][t] <== alloc_sel[i][k] * haircut[k][t];
                from[t] += pick_from[i][k][t];
                hc[t] += pick_hc[i][k][t];
            }
        }
        count * (count - 1) === 0;
        index === alloc_asset[i] * count;
        collateral[i] = CollateralValue(TIERS, AMOUNT_BITS);
        collateral[i].balance <== alloc_amount[i];
        collateral[i].split <== alloc_split[i];
        collateral[i].price <== price;
        collateral[i].tier_from <== from;
        collateral[i].haircut <== hc;
        value[i] <== collateral[i].value;
    }
    // every asset's allocations fit its balance (a debt fits nothing)
    component fits[ASSETS];
    for (var k = 0; k < ASSETS; k++) {
        var allocated = 0;
        for (var i = 0; i < SLOTS; i++) {
            allocated += used[i][k];
        }
        fits[k] = RangeCheck(AMOUNT_BITS);
        fits[k].in <== balance[k] - allocated;
    }
}

// NakedAddons(SLOTS, QTY_BITS): the add-ons of a pooled book, netted per net-naked-short key.
// Spec: zkmargin.terms.naked_shorts, zkmargin.terms.slot_addons (portfolio and cross models).
//   key[i], keyed[i], addon[i], gross[i]   leaf-bound, from PositionSlot: key is the leaf's
//                                          naked_code (2**ID_BITS + the key for a keyed option,
//                                          else the instrument id, 0 for an empty slot), keyed its
//                                          top bit, gross = |q| * addon
//   qty[i]                                 range-checked by PositionSlot: |q| < 2**(QTY_BITS-1)
//   short[i]                               prover hint: max(0, -net_i), where
//                                          net_i = q_i + sum_{j > i, key_j = key_i, keyed_i} q_j
//   value[i]                               VALUE_SCALE: gross[i] for an unkeyed slot; for a keyed
//                                          one first[i] * short[i] * addon[i], where first[i] = 1
//                                          iff no earlier slot has its key (the key's net short is
//                                          charged once, at its first slot's add-on; the snapshot
//                                          validator makes every option of a key share its add-on)
// Why the hint cannot help a cheater: |net_i| < SLOTS * 2**(QTY_BITS-1) <= 2**NET_BITS, and
// short_i and short_i + net_i are both range-checked to NET_BITS (non-negative integers) with
// short_i * (short_i + net_i) = 0, so either short_i = 0 and net_i >= 0, or short_i = -net_i and
// net_i <= 0: short_i = max(0, -net_i), the only value with a witness. Keys and quantities are
// bound by the leaves and the account leaf, so same[] and first[] are determined too.
// Constraints: SLOTS * (SLOTS - 1) / 2 * 4 + SLOTS * (2 * (NET_BITS + 1) + 4).
template NakedAddons(SLOTS, QTY_BITS) {
    assert(SLOTS >= 1 && SLOTS <= 32);
    var NET_BITS = QTY_BITS + 4;  // 32 slots of |q| < 2**(QTY_BITS - 1) sum below 2**(QTY_BITS + 4)
    var PAIRS = SLOTS * (SLOTS - 1) \ 2;
    signal input key[SLOTS];
    signal input keyed[SLOTS];
    signal input qty[SLOTS];
    signal input addon[SLOTS];
    signal input gross[SLOTS];
    signal input short[SLOTS];
    signal output value[SLOTS];

    // pair p = (i, j), i < j: same[p] = 1 iff the codes are equal, i.e. both slots hold options of
    // one key: a keyed code (>= 2**ID_BITS) equals only its key's codes, an unkeyed code is the
    // instrument id and ids strictly increase over the filled slots (CanonicalSlots), and two
    // empty slots (code 0) pair but hold nothing. shared[p] = same[p] * q_j. In a book with every
    // slot filled no IsEqual helper is left free.
    var pair[SLOTS][SLOTS];
    var p = 0;
    for (var i = 0; i < SLOTS; i++) {
        for (var j = i + 1; j < SLOTS; j++) {
            pair[i][j] = p;
            p++;
        }
    }
    component equal[PAIRS];
    signal same[PAIRS];
    signal shared[PAIRS];
    // unseen[p] for p = (i, j): 1 iff slot j is keyed and none of slots 0..i shares its key
    signal unseen[PAIRS];
    signal first[SLOTS];
    for (var i = 0; i < SLOTS; i++) {
        for (var j = i + 1; j < SLOTS; j++) {
            var q = pair[i][j];
            equal[q] = IsEqual();
            equal[q].in[0] <== key[i];
            equal[q].in[1] <== key[j];
            same[q] <== equal[q].out;
            shared[q] <== same[q] * qty[j];
        }
    }
    for (var j = 0; j < SLOTS; j++) {
        for (var i = 0; i < j; i++) {
            if (i == 0) {
                unseen[pair[i][j]] <== keyed[j] * (1 - same[pair[i][j]]);
            } else {
                unseen[pair[i][j]] <== unseen[pair[i - 1][j]] * (1 - same[pair[i][j]]);
            }
        }
        if (j == 0) {
            first[j] <== keyed[j];
        } else {
            first[j] <== unseen[pair[j - 1][j]];
        }
    }

    component short_range[SLOTS];
    component long_range[SLOTS];
    signal charged_qty[SLOTS];
    signal charged[SLOTS];
    signal keyed_gross[SLOTS];
    for (var i = 0; i < SLOTS; i++) {
        var net = qty[i];
        for (var j = i + 1; j < SLOTS; j++) {
            net += shared[pair[i][j]];
        }
        // short = max(0, -net): both non-negative, one of them 0
        short_range[i] = RangeCheck(NET_BITS);
        short_range[i].in <== short[i];
        long_range[i] = RangeCheck(NET_BITS);
        long_range[i].in <== short[i] + net;
        short[i] * (short[i] + net) === 0;
        // the key's net short, charged once at its first slot; an unkeyed slot keeps |q| * addon
        charged_qty[i] <== first[i] * short[i];
        charged[i] <== charged_qty[i] * addon[i];
        keyed_gross[i] <== keyed[i] * gross[i];
        value[i] <== gross[i] - keyed_gross[i] + charged[i];
    }
}
