pragma circom 2.1.6;

include "poseidon.circom";
include "comparators.circom";
include "range.circom";
include "fixedpoint_constants.circom";

// The account side of a margin proof: the venue-attested leaf and the canonical slot order.
// Spec: zkmargin.account_tree (leaf layout) and docs/circuits.md (soundness arguments).

// Pack(N, BITS, WORDS): WORDS field elements holding N codes of BITS bits each, 3 per word
// (codes past N are 0): word[w] = sum_j code[3w + j] * 2**(BITS * j). Linear: no constraint of
// its own. The caller range-checks every part of every code, so the words determine the codes.
template Pack(N, BITS, WORDS) {
    assert(3 * BITS < 253 && N <= 3 * WORDS);
    signal input code[N];
    signal output word[WORDS];
    for (var w = 0; w < WORDS; w++) {
        var sum = 0;
        for (var j = 0; j < 3; j++) {
            if (3 * w + j < N) {
                sum += code[3 * w + j] * (1 << (BITS * j));
            }
        }
        word[w] <== sum;
    }
}

// AccountLeaf(SLOTS, ASSETS): the account's leaf, zkmargin.account_tree.account_leaf:
//   Poseidon(13)(epoch, holder, salt, position_word[6], balance_word[3], allocation_hash)
//   position_code[i]   id * 2**48 + (q mod 2**48), 80 bits (caller: id from the instrument leaf,
//                      q range-checked by PositionSlot)
//   balance_code[k]    balance mod 2**65 (caller: SignedRange(BALANCE_BITS) on the balance)
//   allocation_hash    Poseidon(6) of the allocation words (AllocationHash), or a private value
//                      in the models that ignore allocations (bound by the leaf hash all the same)
// SLOTS <= LEAF_POSITIONS and ASSETS <= LEAF_ASSETS: a smaller profile's missing slots and assets
// hash as 0, so one leaf (and one account tree) serves every profile. The caller constrains out
// into the account tree (QuadMerkleRoot to the public account_root).
// Constraints: Poseidon(13).
template AccountLeaf(SLOTS, ASSETS) {
    assert(SLOTS <= LEAF_POSITIONS() && ASSETS <= LEAF_ASSETS());
    signal input epoch;
    signal input holder;
    signal input salt;
    signal input position_code[SLOTS];
    signal input balance_code[ASSETS];
    signal input allocation_hash;
    signal output out;

    var PW = (LEAF_POSITIONS() + 2) \ 3;
    var BW = (LEAF_ASSETS() + 2) \ 3;
    component positions = Pack(SLOTS, POSITION_CODE_BITS(), PW);
    positions.code <== position_code;
    component balances = Pack(ASSETS, BALANCE_BITS(), BW);
    balances.code <== balance_code;
    component h = Poseidon(3 + PW + BW + 1);
    h.inputs[0] <== epoch;
    h.inputs[1] <== holder;
    h.inputs[2] <== salt;
    for (var w = 0; w < PW; w++) {
        h.inputs[3 + w] <== positions.word[w];
    }
    for (var w = 0; w < BW; w++) {
        h.inputs[3 + PW + w] <== balances.word[w];
    }
    h.inputs[3 + PW + BW] <== allocation_hash;
    out <== h.out;
}

// AllocationHash(SLOTS): Poseidon(6) of the allocation words, zkmargin.account_tree.LeafBook.
//   code[i] = asset_i * 2**64 + amount_i, 68 bits (caller range-checks asset in ASSET_INDEX_BITS
//   and amount in AMOUNT_BITS).
// Constraints: Poseidon(6).
template AllocationHash(SLOTS) {
    assert(SLOTS <= LEAF_POSITIONS());
    signal input code[SLOTS];
    signal output out;
    var AW = (LEAF_POSITIONS() + 2) \ 3;
    component words = Pack(SLOTS, ALLOCATION_CODE_BITS(), AW);
    words.code <== code;
    out <== Poseidon(AW)(words.word);
}

// CanonicalSlots(SLOTS): non-empty slots first with strictly increasing instrument ids, empty
// slots (id 0) after, holding quantity 0 and allocation code 0. Spec: the canonical order of
// zkmargin.account_tree.LeafBook.of.
//   instrument[i]   ids of the slots' instrument leaves: 0 (the null leaf) or a snapshot id < 2**32
//                   (the snapshot validation bounds ids; the leaf hash binds them), so the gap
//                   id[i+1] - id[i] - 1 is a 32-bit number exactly when id[i+1] > id[i]
//   qty[i], alloc_code[i]   the slot's quantity and allocation code (0 in models without one)
// Why: the same instrument in two slots would restart per-slot terms (isolated haircut tiers)
// and prove more health than the engine allows; an empty slot with a quantity would be a
// position valued as the null instrument (mark 0, no risk).
// Constraints: SLOTS * 4 + (SLOTS - 1) * (ID_BITS + 3).
template CanonicalSlots(SLOTS) {
    assert(SLOTS >= 2);
    signal input instrument[SLOTS];
    signal input qty[SLOTS];
    signal input alloc_code[SLOTS];
    signal output empty[SLOTS];

    component is_empty[SLOTS];
    for (var i = 0; i < SLOTS; i++) {
        is_empty[i] = IsZero();
        is_empty[i].in <== instrument[i];
        empty[i] <== is_empty[i].out;
        empty[i] * qty[i] === 0;           // an empty slot holds nothing
        empty[i] * alloc_code[i] === 0;    // ... and carries no allocation
    }
    signal gap[SLOTS - 1];
    component increasing[SLOTS - 1];
    for (var i = 0; i + 1 < SLOTS; i++) {
        empty[i] * (1 - empty[i + 1]) === 0;                            // empty slots come last
        gap[i] <== (1 - empty[i + 1]) * (instrument[i + 1] - instrument[i] - 1);
        increasing[i] = RangeCheck(ID_BITS());                          // ids strictly increase
        increasing[i].in <== gap[i];
    }
}
