"""The snapshot root (spec of ``SnapshotRoot`` and the instrument leaves in the circuit).

* ``leaf(instrument)      = H(id, group, mark, addon, som, long_loss, short_loss, naked_code, risk[0..S-1])``
  (risk signed-encoded; long_loss / short_loss derived from the risk array, naked_code from the
  net-naked-short key, see ``book.Slot``)
* leaf 0 is the null instrument (all zeros), leaves 1.. are the instruments sorted by id
* ``collateral_hash       = H(for each asset k < K: price, tier_from[T], hc_mm[T], hc_im[T])``
* ``params_hash           = Poseidon(mm_factor_bps, contingency_bps, short_option_min_bps)``
* ``snapshot_root         = Poseidon(instrument_root, collateral_hash, params_hash, epoch)``

``H`` is :func:`zkmargin.poseidon.hash_vector`; the instrument tree is 4-ary (:mod:`zkmargin.merkle`).
A snapshot's root depends on the profile (it fixes S, D, K and T), so a venue publishes one root
per profile it accepts. The account side (leaves and the epoch's account tree) is
:mod:`zkmargin.account_tree`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from zkmargin.book import AssetTerms, Book, Slot, asset_terms, empty_asset, null_slot
from zkmargin.errors import InputError
from zkmargin.fixedpoint import to_field
from zkmargin.merkle import MerkleProof, MerkleTree
from zkmargin.models import MarginParams, RiskSnapshot
from zkmargin.poseidon import hash_vector, poseidon
from zkmargin.profiles import Profile


def leaf_fields(slot: Slot) -> list[int]:
    """The field elements hashed into an instrument's leaf."""
    return [slot.instrument, slot.group, slot.mark, slot.addon, slot.som, slot.long_loss, slot.short_loss,
            slot.naked_code, *map(to_field, slot.risk)]


def leaf_hash(slot: Slot) -> int:
    return hash_vector(leaf_fields(slot))


def asset_fields(asset: AssetTerms) -> list[int]:
    return [asset.price, *asset.tier_from, *asset.hc_mm, *asset.hc_im]


def collateral_hash(assets: tuple[AssetTerms, ...] | list[AssetTerms]) -> int:
    return hash_vector([x for a in assets for x in asset_fields(a)])


def params_hash(params: MarginParams) -> int:
    return poseidon([params.mm_factor_bps, params.contingency_bps, params.short_option_min_bps])


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
            leaves.append(leaf_hash(Slot(ins.id, 0, 0, ins.group, ins.mark, ins.addon, ins.short_option_min, risk,
                                         naked_key=ins.naked_key)))
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
