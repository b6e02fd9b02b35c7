"""The epoch's account tree and its leaves: each account as the venue attests it (spec of circuits/lib/account.circom).

Every margin proof opens one leaf of the epoch's account tree, a 4-ary Poseidon Merkle tree of
depth ``ACCOUNT_TREE_DEPTH`` (:mod:`zkmargin.merkle`; 4**10 = 1,048,576 accounts). The
leaf binds the epoch, the ``holder`` (public in every proof), a venue-derived salt and the whole
book in one canonical layout that does not depend on the circuit profile or the margin model, so
one tree serves every circuit::

    leaf = Poseidon(13)(epoch, holder, salt, position_word[0..5], balance_word[0..2], allocation_hash)

    position code   p_i = id_i * 2**48 + (q_i mod 2**48)          80 bits; an empty slot is 0
    position_word_w = sum_{j<3} p_{3w+j} * 2**(80 j)              16 slots -> 6 words (< 2**240)
    balance code    b_k = bal_k mod 2**65                         65 bits (a debt is negative)
    balance_word_w  = sum_{j<3} b_{3w+j} * 2**(65 j)              8 assets -> 3 words (< 2**195)
    allocation code a_i = asset_i * 2**64 + amount_i              68 bits (isolated model)
    allocation_hash = Poseidon(6)(allocation_word[0..5]),  allocation_word_w = sum_j a_{3w+j} * 2**(68 j)

Slots are canonical: non-empty slots first with strictly increasing instrument ids, empty slots
(id 0, quantity 0, no allocation) after; balances by asset index. Every code lies in its bit width
(the circuit range-checks each part), and every word is below ``2**240 < r``, so words and codes
determine each other: a prover cannot re-split a word into other positions, balances or
allocations. The salt hides the book (a leaf reveals nothing without it); the venue derives it
(:func:`zkmargin.venue.derive_salt`) and sends it only to the account's holder.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from zkmargin import fixedpoint as fp
from zkmargin.errors import InputError
from zkmargin.merkle import ARITY, MerkleProof
from zkmargin.models import Account, Statement
from zkmargin.poseidon import poseidon

#: Depth of the 4-ary account tree (4**10 = 1,048,576 accounts); empty leaves are 0.
ACCOUNT_TREE_DEPTH = 10
#: Position slots and collateral assets of the leaf layout (the largest circuit profile's).
LEAF_POSITIONS = 16
LEAF_ASSETS = 8
#: Codes packed per field element, and the bit width of each code.
PER_WORD = 3
POSITION_CODE_BITS = fp.ID.bits + fp.QTY.bits        # 80
BALANCE_CODE_BITS = fp.BALANCE.bits                  # 65
ALLOCATION_CODE_BITS = fp.ASSET_INDEX.bits + fp.AMOUNT.bits  # 68
POSITION_WORDS = -(-LEAF_POSITIONS // PER_WORD)      # 6
BALANCE_WORDS = -(-LEAF_ASSETS // PER_WORD)          # 3
ALLOCATION_WORDS = POSITION_WORDS
#: Inputs of the leaf hash: epoch, holder, salt, the words, the allocation hash.
LEAF_INPUTS = 3 + POSITION_WORDS + BALANCE_WORDS + 1

assert PER_WORD * max(POSITION_CODE_BITS, BALANCE_CODE_BITS, ALLOCATION_CODE_BITS) < 253
assert fp.MAX_ASSETS <= 1 << fp.ASSET_INDEX.bits


def position_code(instrument: int, qty: int) -> int:
    """``id * 2**48 + (q mod 2**48)``: one slot in 80 bits (0 for the empty slot)."""
    return instrument * (1 << fp.QTY.bits) + qty % (1 << fp.QTY.bits)


def balance_code(balance: int) -> int:
    """``balance mod 2**65``: a signed balance in 65 bits (two's complement)."""
    return balance % (1 << fp.BALANCE.bits)


def allocation_code(asset: int, amount: int) -> int:
    """``asset * 2**64 + amount``: one slot's allocated collateral in 68 bits."""
    return asset * (1 << fp.AMOUNT.bits) + amount


def pack(codes: Sequence[int], bits: int, words: int) -> list[int]:
    """``words`` field elements holding ``codes`` (zero-padded), ``PER_WORD`` codes each."""
    padded = list(codes) + [0] * (words * PER_WORD - len(codes))
    return [sum(c << (bits * j) for j, c in enumerate(padded[w * PER_WORD:(w + 1) * PER_WORD]))
            for w in range(words)]


@cache
def no_allocation_hash() -> int:
    """The allocation hash of a book without allocations (every portfolio or cross account)."""
    return poseidon([0] * ALLOCATION_WORDS)


@dataclass(frozen=True)
class LeafBook:
    """A book in leaf layout: canonical slots padded to ``LEAF_POSITIONS``, balances to ``LEAF_ASSETS``."""

    slots: tuple[tuple[int, int], ...]        # (instrument id, qty QTY_SCALE), empty = (0, 0)
    balances: tuple[int, ...]                 # AMOUNT_SCALE, signed, per asset index
    allocations: tuple[tuple[int, int], ...]  # (asset index, amount AMOUNT_SCALE) per slot

    @classmethod
    def of(cls, account: Account) -> LeafBook:
        """The canonical leaf layout of ``account`` (InputError if it exceeds the layout)."""
        if len(account.positions) > LEAF_POSITIONS:
            raise InputError(f"account has {len(account.positions)} positions; an account leaf holds "
                             f"{LEAF_POSITIONS}")
        positions = sorted(account.positions, key=lambda p: p.instrument)
        pad = [(0, 0)] * (LEAF_POSITIONS - len(positions))
        balances = [0] * LEAF_ASSETS
        for b in account.balances:
            if b.asset >= LEAF_ASSETS:
                raise InputError(f"balance in asset {b.asset}: an account leaf holds assets 0..{LEAF_ASSETS - 1}")
            balances[b.asset] = b.amount
        return cls(
            slots=tuple([(p.instrument, p.quantity) for p in positions] + pad),
            balances=tuple(balances),
            allocations=tuple([(p.allocation.asset, p.allocation.amount) if p.allocation else (0, 0)
                               for p in positions] + pad),
        )

    def position_words(self) -> list[int]:
        return pack([position_code(i, q) for i, q in self.slots], POSITION_CODE_BITS, POSITION_WORDS)

    def balance_words(self) -> list[int]:
        return pack([balance_code(b) for b in self.balances], BALANCE_CODE_BITS, BALANCE_WORDS)

    def allocation_words(self) -> list[int]:
        return pack([allocation_code(a, x) for a, x in self.allocations], ALLOCATION_CODE_BITS, ALLOCATION_WORDS)

    def allocation_hash(self) -> int:
        words = self.allocation_words()
        return no_allocation_hash() if not any(words) else poseidon(words)


def leaf_fields(epoch: int, holder: int, salt: int, book: LeafBook) -> list[int]:
    """The ``LEAF_INPUTS`` field elements hashed into an account leaf."""
    fp.EPOCH.check("epoch", epoch)
    if not 0 <= holder < fp.R or not 0 <= salt < fp.R:
        raise InputError("holder and salt must be field elements (0 <= x < r)")
    return [epoch, holder, salt, *book.position_words(), *book.balance_words(), book.allocation_hash()]


def account_leaf(epoch: int, holder: int, salt: int, book: LeafBook) -> int:
    """The account's leaf in the epoch's account tree."""
    return poseidon(leaf_fields(epoch, holder, salt, book))


def statement_leaf(statement: Statement) -> int:
    """The account leaf a statement's book, holder, salt and epoch hash to."""
    return account_leaf(statement.epoch, statement.holder, statement.salt, LeafBook.of(statement.account))


def statement_proof(statement: Statement) -> MerkleProof:
    """The statement's Merkle proof in the epoch's account tree, checked against its own root.

    Raises :class:`InputError` when the path does not open to ``statement.account_root`` (a
    statement edited after the venue issued it, or one of another epoch).
    """
    if len(statement.path) != ACCOUNT_TREE_DEPTH:
        raise InputError(f"statement path has {len(statement.path)} levels; the account tree has "
                         f"{ACCOUNT_TREE_DEPTH}")
    if statement.index >= ARITY**ACCOUNT_TREE_DEPTH:
        raise InputError(f"statement index {statement.index} is outside the account tree")
    proof = MerkleProof(statement.index, statement_leaf(statement),
                        tuple((a, b, c) for a, b, c in statement.path))
    if proof.root() != statement.account_root:
        raise InputError(f"statement of account {statement.account_id}: its book, salt and path do not "
                         f"open to account root {statement.account_root} (edited, or not the venue's)")
    return proof
