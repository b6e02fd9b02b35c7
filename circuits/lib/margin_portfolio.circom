pragma circom 2.1.6;

include "fixedpoint_constants.circom";
include "range.circom";
include "position.circom";
include "collateral.circom";
include "scenario_scan.circom";
include "commitments.circom";
include "health.circom";

// PortfolioMargin(SLOTS, SCENARIOS, DEPTH, ASSETS, GROUPS, TIERS): the statement of a margin proof.
// Spec: zkmargin.portfolio.portfolio_margin on zkmargin.book.resolve(account, snapshot, profile).
// Public: snapshot_root, account_commitment, threshold_bps. Proves that the committed account,
// valued with the committed snapshot, has equity * 10000 >= MM * threshold_bps.
// Every signal, its bound and why a prover-chosen value cannot help: docs/circuits.md.
template PortfolioMargin(SLOTS, SCENARIOS, DEPTH, ASSETS, GROUPS, TIERS) {
    signal input snapshot_root;
    signal input account_commitment;
    signal input threshold_bps;

    // account (private; opens account_commitment)
    signal input salt;
    signal input instrument[SLOTS];
    signal input qty[SLOTS];
    signal input balance[ASSETS];
    // instrument leaves and their Merkle paths (private; open snapshot_root)
    signal input leaf_group[SLOTS];
    signal input leaf_mark[SLOTS];
    signal input leaf_addon[SLOTS];
    signal input leaf_som[SLOTS];
    signal input leaf_risk[SLOTS][SCENARIOS];
    signal input leaf_index[SLOTS];
    signal input leaf_siblings[SLOTS][DEPTH];
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
    // prover hints (each constrained below; they can only make the account look worse)
    signal input group_id[GROUPS];
    signal input group_sel[SLOTS][GROUPS];
    signal input collateral_split[ASSETS][TIERS];
    signal input scan_loss[GROUPS];
    signal input group_req[GROUPS];

    // ---- the account is the committed one
    component account = AccountCommitment(SLOTS, ASSETS);
    account.salt <== salt;
    account.instrument <== instrument;
    account.qty <== qty;
    account.balance <== balance;
    account.out === account_commitment;

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
    signal addon_value[SLOTS];
    signal som_value[SLOTS];
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
        slot[i].risk <== leaf_risk[i];
        slot[i].index <== leaf_index[i];
        slot[i].siblings <== leaf_siblings[i];
        slot[i].root === instrument_root;
        position_value[i] <== slot[i].value;
        addon_value[i] <== slot[i].addon_value;
        som_value[i] <== slot[i].som_value;
        mtm += position_value[i];
        addons += addon_value[i];
    }

    // ---- collateral after MM haircuts
    component asset[ASSETS];
    signal collateral_value[ASSETS];
    var collateral = 0;
    for (var k = 0; k < ASSETS; k++) {
        asset[k] = CollateralValue(TIERS, AMOUNT_BITS());
        asset[k].balance <== balance[k];
        asset[k].split <== collateral_split[k];
        asset[k].price <== asset_price[k];
        asset[k].tier_from <== tier_from[k];
        asset[k].haircut <== hc_mm[k];
        collateral_value[k] <== asset[k].value;
        collateral += collateral_value[k];
    }
    signal equity <== collateral + 10000 * mtm;

    // ---- group slots, per-group scenario P&L and short-option minimum
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
    scenarios.risk <== leaf_risk;
    signal group_pnl[GROUPS][SCENARIOS] <== scenarios.pnl;

    signal som_term[SLOTS][GROUPS];
    signal group_som[GROUPS];
    component scan[GROUPS];
    component requirement[GROUPS];
    var scanned = 0;
    for (var g = 0; g < GROUPS; g++) {
        var som_sum = 0;
        for (var i = 0; i < SLOTS; i++) {
            som_term[i][g] <== group_sel[i][g] * som_value[i];
            som_sum += som_term[i][g];
        }
        group_som[g] <== som_sum;
        scan[g] = ScanLoss(SCENARIOS, LOSS_BITS());
        scan[g].pnl <== group_pnl[g];
        scan[g].loss <== scan_loss[g];
        requirement[g] = AtLeastBoth(LOSS_BITS());
        requirement[g].a <== scan_loss[g];
        requirement[g].b <== group_som[g];
        requirement[g].out <== group_req[g];
        scanned += group_req[g];
    }

    // ---- requirement and the health check
    signal im <== scanned + addons;
    signal mm <== im * mm_factor_bps;
    component check = HealthCheck(THRESHOLD_BITS(), HEALTH_BITS());
    check.equity <== equity;
    check.mm <== mm;
    check.threshold_bps <== threshold_bps;
    signal health <== check.health;
}
