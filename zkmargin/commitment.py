"""Commitments: the snapshot root and the account commitment (spec of the circuit's hashing).

* ``leaf(instrument)      = H(id, group, mark, addon, som, long_loss, short_loss, risk[0..S-1])``
  (risk signed-encoded; long_loss / short_loss derived from the risk array, see ``book.Slot``)
* leaf 0 is the null instrument (all zeros), leaves 1.. are the instruments sorted by id
* ``collateral_hash       = H(for each asset k < K: price, tier_from[T], hc_mm[T], hc_im[T])``
* ``params_hash           = Poseidon(mm_factor_bps, contingency_bps, short_option_min_bps)``
* ``snapshot_root         = Poseidon(instrument_root, collateral_hash, params_hash, epoch)``
* ``account_commitment    = H(salt, (id_i, q_i) for P slots, balance_k for K assets)``, and for
  the isolated model followed by ``(alloc_asset_i, alloc_amount_i)`` for the P slots

``H`` is :func:`zkmargin.poseidon.hash_vector`. A snapshot's root depends on the profile (it fixes
S, D, K and T), so a venue publishes one root per profile it accepts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from zkmargin.book import AssetTerms, Book, Slot, asset_terms, empty_asset, null_slot
from zkmargin.errors import InputError
from zkmargin.fixedpoint import to_field
from zkmargin.merkle import MerkleProof, MerkleTree
from zkmargin.models import Account, MarginParams, RiskSnapshot
from zkmargin.poseidon import hash_vector, poseidon
from zkmargin.profiles import Profile


def leaf_fields(slot: Slot) -> list[int]:
    """The field elements hashed into an instrument's leaf."""
    return [slot.instrument, slot.group, slot.mark, slot.addon, slot.som, slot.long_loss, slot.short_loss,
            *map(to_field, slot.risk)]


def leaf_hash(slot: Slot) -> int:
    return hash_vector(leaf_fields(slot))


def asset_fields(asset: AssetTerms) -> list[int]:
    return [asset.price, *asset.tier_from, *asset.hc_mm, *asset.hc_im]


def collateral_hash(assets: tuple[AssetTerms, ...] | list[AssetTerms]) -> int:
    return hash_vector([x for a in assets for x in asset_fields(a)])


def params_hash(params: MarginParams) -> int:
    return poseidon([params.mm_factor_bps, params.contingency_bps, params.short_option_min_bps])


def account_commitment(slots: Sequence[tuple[int, int]], balances: Sequence[int], salt: int,
                       allocations: Sequence[tuple[int, int]] | None = None) -> int:
    """Commitment to padded (instrument id, quantity) slots and per-asset balances under ``salt``;
    with ``allocations`` (isolated model) also to each slot's (asset index, amount)."""
    fields = [salt]
    for instrument, qty in slots:
        fields += [instrument, to_field(qty)]
    fields += balances
    for asset, amount in allocations or ():
        fields += [asset, amount]
    return hash_vector(fields)


def book_commitment(book: Book, salt: int, model: str = "portfolio") -> int:
    """The commitment of a padded book under ``model`` (what the circuit recomputes)."""
    allocations = [(s.alloc_asset, s.alloc_amount) for s in book.slots] if model == "isolated" else None
    return account_commitment([(s.instrument, s.qty) for s in book.slots], book.balances, salt, allocations)


@dataclass(frozen=True)
class SnapshotCommitment:
    """A snapshot committed under one profile: tree, hashes and root."""

    snapshot: RiskSnapshot
    profile: Profile

    def __post_init__(self) -> None:
        p, s = self.profile, self.snapshot
        tiers = max(len(a.tiers) for a in s.collateral)
        for what, have, room in (("scenarios", len(s.scenarios), p.scenarios),
                                 ("collateral assets", len(s.collateral), p.assets), ("haircut tiers", tiers, p.tiers)):
            if have > room:
                raise InputError(f"snapshot has {have} {what}; profile {p.name} holds {room}")

    @cached_property
    def tree(self) -> MerkleTree:
        s = self.profile.scenarios
        leaves = [leaf_hash(null_slot(s))]
        for ins in self.snapshot.leaf_order:
            risk = tuple(ins.risk) + (0,) * (s - len(ins.risk))
            leaves.append(leaf_hash(Slot(ins.id, 0, 0, ins.group, ins.mark, ins.addon, ins.short_option_min, risk)))
        return MerkleTree(leaves, self.profile.depth)

    @cached_property
    def assets(self) -> tuple[AssetTerms, ...]:
        t = self.profile.tiers
        listed = [asset_terms(a, t) for a in self.snapshot.collateral]
        return tuple(listed + [empty_asset(t)] * (self.profile.assets - len(listed)))

    @cached_property
    def collateral_hash(self) -> int:
        return collateral_hash(self.assets)

    @cached_property
    def params_hash(self) -> int:
        return params_hash(self.snapshot.params)

    @cached_property
    def root(self) -> int:
        return poseidon([self.tree.root, self.collateral_hash, self.params_hash, self.snapshot.epoch])

    def membership(self, book: Book) -> list[MerkleProof]:
        """Merkle proofs of every slot's leaf (the null leaf for empty slots)."""
        return [self.tree.proof(s.leaf_index) for s in book.slots]


def commit_account(account: Account, profile: Profile, model: str = "portfolio") -> int:
    """The account commitment under ``profile`` and ``model``: slots sorted by instrument id,
    zero-padded; the isolated model also commits each slot's allocation.

    Needs no snapshot: positions bind to stable instrument ids and balances to asset indices.
    """
    if len(account.positions) > profile.positions:
        raise InputError(f"account has {len(account.positions)} positions; profile {profile.name} "
                         f"holds {profile.positions}")
    positions = sorted(account.positions, key=lambda p: p.instrument)
    slots = [(p.instrument, p.quantity) for p in positions] + [(0, 0)] * (profile.positions - len(positions))
    balances = [0] * profile.assets
    for b in account.balances:
        if b.asset >= profile.assets:
            raise InputError(f"balance in asset {b.asset}: profile {profile.name} holds assets "
                             f"0..{profile.assets - 1}")
        balances[b.asset] = b.amount
    allocations = None
    if model == "isolated":
        allocations = [(p.allocation.asset, p.allocation.amount) if p.allocation else (0, 0) for p in positions]
        allocations += [(0, 0)] * (profile.positions - len(positions))
    return account_commitment(slots, balances, account.salt, allocations)
