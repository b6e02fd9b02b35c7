// Known-answer vectors of the account leaf layout and the 4-ary Merkle tree, computed with
// circomlibjs's Poseidon and an independent BigInt implementation of the layout documented in
// zkmargin/account_tree.py (no zkmargin code involved). test_account_tree.py and test_merkle.py
// pin the numbers this prints.
//
// Regenerate (from the repository root, after `npm ci`):
//     node tests/engine/vectors/account_leaf.js
// and copy the printed values into the tests' KNOWN-ANSWER constants.
const { buildPoseidonReference } = require("circomlibjs");

const POSITIONS = 16, ASSETS = 8, PER_WORD = 3;
const QTY_BITS = 48n, BALANCE_BITS = 65n, AMOUNT_BITS = 64n;
const mod = (x, bits) => ((x % (1n << bits)) + (1n << bits)) % (1n << bits);

function pack(codes, bits, words) {
  const out = [];
  for (let w = 0; w < words; w++) {
    let word = 0n;
    for (let j = 0; j < PER_WORD; j++) word += (codes[w * PER_WORD + j] ?? 0n) << (bits * BigInt(j));
    out.push(word);
  }
  return out;
}

// A book: positions [{id, qty, alloc: [asset, amount] | null}] in any order, balances {asset: amount}.
function layout(book) {
  const sorted = [...book.positions].sort((a, b) => (a.id < b.id ? -1 : 1));
  const slots = sorted.concat(Array(POSITIONS - sorted.length).fill({ id: 0n, qty: 0n, alloc: null }));
  const positionCodes = slots.map((p) => p.id * (1n << QTY_BITS) + mod(p.qty, QTY_BITS));
  const balanceCodes = [...Array(ASSETS).keys()].map((k) => mod(book.balances[k] ?? 0n, BALANCE_BITS));
  const allocationCodes = slots.map((p) => (p.alloc ? p.alloc[0] * (1n << AMOUNT_BITS) + p.alloc[1] : 0n));
  return {
    positionCodes,
    positionWords: pack(positionCodes, 80n, 6),
    balanceWords: pack(balanceCodes, BALANCE_BITS, 3),
    allocationWords: pack(allocationCodes, 68n, 6),
  };
}

async function main() {
  const poseidon = await buildPoseidonReference();
  const H = (xs) => BigInt(poseidon.F.toString(poseidon(xs)));

  const book = {  // deliberately unsorted; a short, a long, a debt, two allocations
    positions: [
      { id: 205n, qty: 7_000_000n, alloc: [2n, 500_000n] },
      { id: 101n, qty: -1_500_000n, alloc: [0n, 300_000_000n] },
      { id: 4294967295n, qty: -(1n << 47n), alloc: null },
    ],
    balances: { 0: 1_000_000_000n, 1: -150_000_000_000n, 2: 3_000_000n, 7: (1n << 64n) - 1n },
  };
  const l = layout(book);
  const epoch = 7n, holder = 0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045n;
  const salt = (1n << 247n) + 12345n;
  const allocationHash = H(l.allocationWords);
  const leaf = H([epoch, holder, salt, ...l.positionWords, ...l.balanceWords, allocationHash]);
  const empty = layout({ positions: [], balances: {} });
  const noAllocation = H(empty.allocationWords);
  const emptyLeaf = H([1n, 1n, 0n, ...empty.positionWords, ...empty.balanceWords, noAllocation]);

  const z1 = H([0n, 0n, 0n, 0n]);
  const node = H([1n, 2n, 3n, 4n]);
  const root2 = H([H([1n, 2n, 3n, 4n]), H([5n, 0n, 0n, 0n]), z1, z1]);  // leaves 1..5, depth 2
  const zeros = [0n];
  for (let d = 0; d < 10; d++) zeros.push(H(Array(4).fill(zeros[d])));

  const out = {
    position_code_short: l.positionCodes[0],      // id 101, qty -1.5 contracts
    position_word_0: l.positionWords[0],
    position_word_1: l.positionWords[1],
    balance_word_0: l.balanceWords[0],             // 1000 USDC, a debt of 150000 of asset 1, 3 of asset 2
    balance_word_2: l.balanceWords[2],             // 2**64 - 1 units of asset 7 at the top
    allocation_hash: allocationHash,
    no_allocation_hash: noAllocation,
    leaf,
    empty_leaf: emptyLeaf,                         // epoch 1, holder 1, salt 0, empty book
    node_1234: node,
    root_1_to_5_depth_2: root2,
    zero_root_10: zeros[10],
  };
  console.log(JSON.stringify(out, (_, v) => (typeof v === "bigint" ? v.toString() : v), 1));
}

main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
