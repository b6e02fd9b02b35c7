pragma circom 2.1.6;

include "comparators.circom";
include "fixedpoint_constants.circom";
include "range.circom";
include "position.circom";
include "collateral.circom";
include "aggregate.circom";
include "commitments.circom";
include "account.circom";
include "merkle.circom";

// Venue-wide solvency: batches of consecutive leaves of the epoch's account tree, each margined,
// chained by hiding commitments to running totals. Spec: zkmargin.solvency; soundness argument
// per signal: docs/solvency.md.

// PoolMargin(MODEL, SLOTS, SCENARIOS, DEPTH, ASSETS, GROUPS, TIERS): equity, MM and account leaf
// of one account under a shared-collateral model (MODEL 0 portfolio, 1 cross), from the same
// templates as Margin (PositionSlot, BalanceValue, PortfolioRequirement or StandaloneRequirements,
// CanonicalSlots, AccountLeaf). Unlike Margin it takes the snapshot terms as inputs (the caller
// opens snapshot_root once per batch) and checks no health: equity and mm are outputs, signed
// (equity) and unsigned (mm), both at EQUITY_SCALE, |x| < 2**(HEALTH_BITS - 15).
// NOTE: the caller must constrain instrument_root and the asset terms to the public snapshot
// root, and leaf into the account tree; nothing here is bound otherwise.
template PoolMargin(MODEL, SLOTS, SCENARIOS, DEPTH, ASSETS, GROUPS, TIERS) {
    assert(MODEL == 0 || MODEL == 1);
    // snapshot terms (opened by the caller)
    signal input instrument_root;
    signal input asset_price[ASSETS];
    signal input tier_from[ASSETS][TIERS];
    signal input hc_mm[ASSETS][TIERS];
    signal input mm_factor_bps;
    signal input epoch;
    // the account (its leaf is the output)
    signal input holder;
    signal input salt;
    signal input instrument[SLOTS];
    signal input qty[SLOTS];
    signal input balance[ASSETS];
    signal input allocation_hash;
    // instrument leaves and paths, collateral split, model hints (as in Margin)
    signal input leaf_group[SLOTS];
    signal input leaf_mark[SLOTS];
    signal input leaf_addon[SLOTS];
    signal input leaf_som[SLOTS];
    signal input leaf_long_loss[SLOTS];
    signal input leaf_short_loss[SLOTS];
    signal input leaf_risk[SLOTS][SCENARIOS];
    signal input leaf_index[SLOTS];
    signal input leaf_siblings[SLOTS][DEPTH][3];
    signal input collateral_split[ASSETS][TIERS];
    signal output equity;
    signal output mm;
    signal output leaf;

    component slot[SLOTS];
    signal som_value[SLOTS];
    signal standalone_loss[SLOTS];
    component leaf_hash = AccountLeaf(SLOTS, ASSETS);
    var mtm = 0;
    var addons = 0;
    for (var i = 0; i < SLOTS; i++) {
        slot[i] = PositionSlot(SCENARIOS, DEPTH, QTY_BITS());
        slot[i].instrument <== instrument[i];
        slot[i].qty <== qty[i];
        slot[i].group <== leaf_group[i];
        slot[i].mark <== leaf_mark[i];
        slot[i].addon <== leaf_addon[i];
        slot[i].som <== leaf_som[i];
        slot[i].long_loss <== leaf_long_loss[i];
        slot[i].short_loss <== leaf_short_loss[i];
        slot[i].risk <== leaf_risk[i];
        slot[i].index <== leaf_index[i];
        slot[i].siblings <== leaf_siblings[i];
        slot[i].root === instrument_root;
        som_value[i] <== slot[i].som_value;
        standalone_loss[i] <== slot[i].standalone_loss;
        leaf_hash.position_code[i] <== slot[i].code;
        mtm += slot[i].value;
        addons += slot[i].addon_value;
    }

    component canonical = CanonicalSlots(SLOTS);
    canonical.instrument <== instrument;
    canonical.qty <== qty;
    for (var i = 0; i < SLOTS; i++) {
        canonical.alloc_code[i] <== 0;
    }

    // signed balances, valued after MM haircuts (debts at full price)
    component balance_sign[ASSETS];
    component asset[ASSETS];
    var collateral = 0;
    for (var k = 0; k < ASSETS; k++) {
        balance_sign[k] = SignedRange(BALANCE_BITS());
        balance_sign[k].in <== balance[k];
        leaf_hash.balance_code[k] <== balance[k] + balance_sign[k].neg * (1 << BALANCE_BITS());
        asset[k] = BalanceValue(TIERS, AMOUNT_BITS());
        asset[k].balance <== balance[k];
        asset[k].neg <== balance_sign[k].neg;
        asset[k].split <== collateral_split[k];
        asset[k].price <== asset_price[k];
        asset[k].tier_from <== tier_from[k];
        asset[k].haircut <== hc_mm[k];
        collateral += asset[k].value;
    }
    equity <== collateral + 10000 * mtm;

    signal requirement;
    if (MODEL == 0) {
        signal input group_id[GROUPS];
        signal input group_sel[SLOTS][GROUPS];
        signal input scan_loss[GROUPS];
        signal input group_req[GROUPS];
        component groups = PortfolioRequirement(SLOTS, SCENARIOS, GROUPS, LOSS_BITS());
        groups.qty <== qty;
        groups.leaf_group <== leaf_group;
        groups.risk <== leaf_risk;
        groups.som_value <== som_value;
        groups.group_id <== group_id;
        groups.group_sel <== group_sel;
        groups.scan_loss <== scan_loss;
        groups.group_req <== group_req;
        requirement <== groups.total;
    } else {
        signal input position_req[SLOTS];
        component own = StandaloneRequirements(SLOTS, LOSS_BITS());
        own.loss <== standalone_loss;
        own.som <== som_value;
        own.req <== position_req;
        requirement <== own.total;
    }
    mm <== (requirement + addons) * mm_factor_bps;

    leaf_hash.epoch <== epoch;
    leaf_hash.holder <== holder;
    leaf_hash.salt <== salt;
    leaf_hash.allocation_hash <== allocation_hash;
    leaf <== leaf_hash.out;
}

// Shortfall(BITS): below = 1 iff equity < mm, and shortfall = below * (mm - equity) (0 when
// margined). Spec: zkmargin.solvency.shortfall.
//   equity signed, mm unsigned, same scale, |equity - mm| < 2**(BITS - 1) (caller's bounds)
//   below          prover's hint, forced: s = equity - mm if below = 0, mm - equity - 1 if
//                  below = 1, must be a BITS-bit number; exactly one choice makes s non-negative
//                  (a negative s is r - |s| in the field, which has no BITS-bit decomposition)
// Constraints: BITS + 4.
template Shortfall(BITS) {
    signal input equity;
    signal input mm;
    signal output below;
    signal output shortfall;

    below <-- mm > equity ? 1 : 0;
    below * (1 - below) === 0;
    signal gap <== mm - equity;
    shortfall <== below * gap;
    component side = RangeCheck(BITS);
    side.in <== equity - mm + 2 * shortfall - below;
}

// ChainState(): Poseidon(8)(accounts_in_tree, next, accounts, below, equity, mm, shortfall, salt),
// the hiding commitment to a batch chain's running totals after leaves 0..next-1 (salt 0 in the
// opened first and last states). Spec: zkmargin.solvency.ChainState.commitment.
template ChainState() {
    signal input tree_accounts;
    signal input next;
    signal input totals[5];
    signal input salt;
    signal output out;
    out <== Poseidon(8)([tree_accounts, next, totals[0], totals[1], totals[2], totals[3], totals[4], salt]);
}

// SolvencyBatch(MODEL, BATCH, SLOTS, SCENARIOS, DEPTH, ASSETS, GROUPS, TIERS): one link of the
// solvency chain. Public: snapshot_root, account_root, chain_in, chain_out. Proves: leaves
// start .. start + BATCH - 1 of account_root are, below tree_accounts (N), venue-attested accounts of
// the snapshot's epoch margined under the model with the committed snapshot, and at or past N
// empty (0); chain_in commits to the totals over leaves 0 .. start - 1 and chain_out to those
// totals plus this batch's: accounts, accounts below MM, total equity, total MM, total shortfall
// of those below (equity and MM at EQUITY_SCALE, equity signed). N and start are private, bound
// by the commitments. Per-signal soundness: docs/solvency.md.
template SolvencyBatch(MODEL, BATCH, SLOTS, SCENARIOS, DEPTH, ASSETS, GROUPS, TIERS) {
    assert(BATCH >= 1);
    signal input snapshot_root;
    signal input account_root;
    signal input chain_in;
    signal input chain_out;

    signal input tree_accounts;
    signal input start;
    signal input totals_in[5];
    signal input salt_in;
    signal input salt_out;
    // snapshot terms (opened once for the batch)
    signal input instrument_root;
    signal input asset_price[ASSETS];
    signal input tier_from[ASSETS][TIERS];
    signal input hc_mm[ASSETS][TIERS];
    signal input hc_im[ASSETS][TIERS];
    signal input mm_factor_bps;
    signal input contingency_bps;
    signal input short_option_min_bps;
    signal input epoch;
    // the accounts (an empty book past N; its leaf is not used)
    signal input holder[BATCH];
    signal input salt[BATCH];
    signal input instrument[BATCH][SLOTS];
    signal input qty[BATCH][SLOTS];
    signal input balance[BATCH][ASSETS];
    signal input allocation_hash[BATCH];
    signal input account_path[BATCH][ACCOUNT_DEPTH()][3];
    signal input leaf_group[BATCH][SLOTS];
    signal input leaf_mark[BATCH][SLOTS];
    signal input leaf_addon[BATCH][SLOTS];
    signal input leaf_som[BATCH][SLOTS];
    signal input leaf_long_loss[BATCH][SLOTS];
    signal input leaf_short_loss[BATCH][SLOTS];
    signal input leaf_risk[BATCH][SLOTS][SCENARIOS];
    signal input leaf_index[BATCH][SLOTS];
    signal input leaf_siblings[BATCH][SLOTS][DEPTH][3];
    signal input collateral_split[BATCH][ASSETS][TIERS];
    // the model's hints, per account (as in Margin)
    signal input group_id[BATCH][MODEL == 0 ? GROUPS : 0];
    signal input group_sel[BATCH][SLOTS][MODEL == 0 ? GROUPS : 0];
    signal input scan_loss[BATCH][MODEL == 0 ? GROUPS : 0];
    signal input group_req[BATCH][MODEL == 0 ? GROUPS : 0];
    signal input position_req[BATCH][MODEL == 1 ? SLOTS : 0];

    component snapshot = SnapshotRoot(ASSETS, TIERS);
    snapshot.instrument_root <== instrument_root;
    snapshot.asset_price <== asset_price;
    snapshot.tier_from <== tier_from;
    snapshot.hc_mm <== hc_mm;
    snapshot.hc_im <== hc_im;
    snapshot.mm_factor_bps <== mm_factor_bps;
    snapshot.contingency_bps <== contingency_bps;
    snapshot.short_option_min_bps <== short_option_min_bps;
    snapshot.epoch <== epoch;
    snapshot.out === snapshot_root;

    // N <= 4**ACCOUNT_DEPTH (21 bits); every index start + j < 4**ACCOUNT_DEPTH by the membership's
    // digit decomposition, so both sides of the comparison are 21-bit numbers
    component n_range = RangeCheck(2 * ACCOUNT_DEPTH() + 1);
    n_range.in <== tree_accounts;

    component account[BATCH];
    component active[BATCH];
    component membership[BATCH];
    component gap[BATCH];
    signal counted_below[BATCH];
    signal counted_equity[BATCH];
    signal counted_mm[BATCH];
    signal counted_shortfall[BATCH];
    var accounts = 0;
    var below = 0;
    var equity = 0;
    var mm = 0;
    var shortfall = 0;
    for (var j = 0; j < BATCH; j++) {
        account[j] = PoolMargin(MODEL, SLOTS, SCENARIOS, DEPTH, ASSETS, GROUPS, TIERS);
        account[j].instrument_root <== instrument_root;
        account[j].asset_price <== asset_price;
        account[j].tier_from <== tier_from;
        account[j].hc_mm <== hc_mm;
        account[j].mm_factor_bps <== mm_factor_bps;
        account[j].epoch <== epoch;
        account[j].holder <== holder[j];
        account[j].salt <== salt[j];
        account[j].instrument <== instrument[j];
        account[j].qty <== qty[j];
        account[j].balance <== balance[j];
        account[j].allocation_hash <== allocation_hash[j];
        account[j].leaf_group <== leaf_group[j];
        account[j].leaf_mark <== leaf_mark[j];
        account[j].leaf_addon <== leaf_addon[j];
        account[j].leaf_som <== leaf_som[j];
        account[j].leaf_long_loss <== leaf_long_loss[j];
        account[j].leaf_short_loss <== leaf_short_loss[j];
        account[j].leaf_risk <== leaf_risk[j];
        account[j].leaf_index <== leaf_index[j];
        account[j].leaf_siblings <== leaf_siblings[j];
        account[j].collateral_split <== collateral_split[j];
        if (MODEL == 0) {
            account[j].group_id <== group_id[j];
            account[j].group_sel <== group_sel[j];
            account[j].scan_loss <== scan_loss[j];
            account[j].group_req <== group_req[j];
        } else {
            account[j].position_req <== position_req[j];
        }

        // leaf start + j: the account's leaf below N, the empty leaf 0 at or past N
        active[j] = LessThan(2 * ACCOUNT_DEPTH() + 1);
        active[j].in <== [start + j, tree_accounts];
        membership[j] = QuadMerkleRoot(ACCOUNT_DEPTH());
        membership[j].leaf <== active[j].out * account[j].leaf;
        membership[j].index <== start + j;
        membership[j].siblings <== account_path[j];
        membership[j].out === account_root;

        // an empty leaf's book is the prover's choice: none of it is counted
        gap[j] = Shortfall(HEALTH_BITS());
        gap[j].equity <== account[j].equity;
        gap[j].mm <== account[j].mm;
        counted_below[j] <== active[j].out * gap[j].below;
        counted_equity[j] <== active[j].out * account[j].equity;
        counted_mm[j] <== active[j].out * account[j].mm;
        counted_shortfall[j] <== active[j].out * gap[j].shortfall;
        accounts += active[j].out;
        below += counted_below[j];
        equity += counted_equity[j];
        mm += counted_mm[j];
        shortfall += counted_shortfall[j];
    }

    component before = ChainState();
    before.tree_accounts <== tree_accounts;
    before.next <== start;
    before.totals <== totals_in;
    before.salt <== salt_in;
    before.out === chain_in;

    component after = ChainState();
    after.tree_accounts <== tree_accounts;
    after.next <== start + BATCH;
    after.totals <== [totals_in[0] + accounts, totals_in[1] + below, totals_in[2] + equity,
                      totals_in[3] + mm, totals_in[4] + shortfall];
    after.salt <== salt_out;
    after.out === chain_out;
}
