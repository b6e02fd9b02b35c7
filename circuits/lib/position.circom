pragma circom 2.1.6;

include "range.circom";
include "hash.circom";
include "merkle.circom";
include "fixedpoint_constants.circom";

// PositionSlot(SCENARIOS, DEPTH, QTY_BITS): one position, opened against the instrument tree.
// Spec: zkmargin.commitment.leaf_hash, zkmargin.merkle, zkmargin.terms (per-slot terms).
//   instrument, qty          account data (qty signed, range-checked to QTY_BITS)
//   group, mark, addon, som, long_loss, short_loss, naked_code, risk[s]   the instrument's leaf,
//                            hashed with its id (long_loss / short_loss: worst loss of one long /
//                            short contract over the scenarios, floored at 0, derived by the
//                            engine; naked_code: 2**ID_BITS + key for an option with a
//                            net-naked-short key, else the instrument id: zkmargin.book.Slot.naked_code)
//   index, siblings[DEPTH][3]   4-ary Merkle path (prover-chosen, bound by the root)
//   root                     the tree root this leaf opens to; caller constrains it
//   code = instrument * 2**QTY_BITS + (qty mod 2**QTY_BITS), the slot's code in the account leaf
//                            (zkmargin.account_tree.position_code)
//   value = qty * mark, abs_qty = |qty|, short_qty = max(-qty, 0),
//   addon_value = abs_qty * addon (gross: NakedAddons / OwnAddon net it per key), som_value =
//   short_qty * som, keyed = bit ID_BITS of naked_code (1 iff the option has a key),
//   standalone_loss = long_qty * long_loss + short_qty * short_loss      (VALUE_SCALE)
// Leaf terms are not range-checked here: the leaf hash binds them to the venue's snapshot,
// whose bounds the verifier validates before it accepts the snapshot root.
// Constraints: HashVector(8 + SCENARIOS) + QuadMerkleRoot(DEPTH) + QTY_BITS + ID_BITS + 8.
template PositionSlot(SCENARIOS, DEPTH, QTY_BITS) {
    signal input instrument;
    signal input qty;
    signal input group;
    signal input mark;
    signal input addon;
    signal input som;
    signal input long_loss;
    signal input short_loss;
    signal input naked_code;
    signal input risk[SCENARIOS];
    signal input index;
    signal input siblings[DEPTH][3];
    signal output root;
    signal output code;
    signal output value;
    signal output abs_qty;
    signal output short_qty;
    signal output addon_value;
    signal output som_value;
    signal output standalone_loss;
    signal output keyed;

    component leaf = HashVector(8 + SCENARIOS);
    leaf.in[0] <== instrument;
    leaf.in[1] <== group;
    leaf.in[2] <== mark;
    leaf.in[3] <== addon;
    leaf.in[4] <== som;
    leaf.in[5] <== long_loss;
    leaf.in[6] <== short_loss;
    leaf.in[7] <== naked_code;
    for (var s = 0; s < SCENARIOS; s++) {
        leaf.in[8 + s] <== risk[s];
    }
    component path = QuadMerkleRoot(DEPTH);
    path.leaf <== leaf.out;
    path.index <== index;
    path.siblings <== siblings;
    root <== path.out;

    component sign = SignedRange(QTY_BITS);
    sign.in <== qty;
    // neg_qty = qty if short else 0; |qty| = qty - 2 * neg_qty
    signal neg_qty <== sign.neg * qty;
    code <== instrument * (1 << QTY_BITS) + qty + sign.neg * (1 << QTY_BITS);
    abs_qty <== qty - 2 * neg_qty;
    short_qty <== -neg_qty;
    value <== qty * mark;
    addon_value <== abs_qty * addon;
    som_value <== short_qty * som;
    // a position's own worst loss: q * long_loss when long, |q| * short_loss when short
    signal long_part <== (qty + short_qty) * long_loss;
    standalone_loss <== long_part + short_qty * short_loss;
    // the code is below 2**(ID_BITS + 1) (a validated snapshot's); its top bit is the keyed flag,
    // determined by the decomposition (no free helper wire, unlike an IsZero of the key)
    component code_bits = Num2Bits(ID_BITS() + 1);
    code_bits.in <== naked_code;
    keyed <== code_bits.out[ID_BITS()];
}

// OwnAddon(): a position's add-on on its own (isolated model). Spec: zkmargin.terms.own_addon.
//   gross = abs_qty * addon, keyed, short_qty, addon   from PositionSlot (leaf-bound)
//   value = gross for an unkeyed slot; short_qty * addon for a keyed option (its net short is
//   its own short quantity: no other position shares its collateral)        VALUE_SCALE
// Constraints: 2.
template OwnAddon() {
    signal input gross;
    signal input keyed;
    signal input short_qty;
    signal input addon;
    signal output value;

    signal short_value <== short_qty * addon;
    value <== gross + keyed * (short_value - gross);
}
