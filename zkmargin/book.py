"""Resolve an account against a snapshot into the padded integer arrays the margin math uses.

A :class:`Book` is exactly what the circuit sees as private inputs (minus the Merkle paths and the
salt): position slots sorted by instrument id and padded with the null instrument, balances per
asset index, haircut tiers padded to a fixed count, and the group slot each position falls in.
Without a profile the book is unpadded (as many slots as positions) for plain margin reports.
"""

from __future__ import annotations

from dataclasses import dataclass

from zkmargin import fixedpoint as fp
from zkmargin.errors import InputError
from zkmargin.models import Account, CollateralAsset, RiskSnapshot
from zkmargin.profiles import Profile

#: Start of the padding tiers: no valid balance reaches past it, so padded tiers stay empty.
PAD_TIER_FROM = fp.AMOUNT.hi


@dataclass(frozen=True)
class Slot:
    """One position slot with the leaf data of its instrument (null instrument when empty)."""

    instrument: int        # stable instrument id, 0 = empty slot
    qty: int               # QTY_SCALE, signed
    leaf_index: int        # index in the snapshot's Merkle tree (0 = null instrument)
    group: int             # group id of the instrument (0 for the null instrument)
    mark: int              # PRICE_SCALE per contract
    addon: int             # PRICE_SCALE per contract
    som: int               # PRICE_SCALE per short contract
    risk: tuple[int, ...]  # PRICE_SCALE per contract, one per scenario
    alloc_asset: int = 0   # isolated model: asset index of the allocated collateral
    alloc_amount: int = 0  # isolated model: allocated amount, AMOUNT_SCALE
    naked_key: int = 0     # net-naked-short key of the instrument (0: add-on on |q|), see terms.slot_addons

    @property
    def naked_code(self) -> int:
        """The leaf's net-naked-short field: ``2**ID_BITS + naked_key`` for an option with a key,
        else the instrument id (0 for the empty slot). Options of one key share it, every other
        instrument has its own, and its top bit is the keyed flag the circuit reads."""
        return (1 << fp.ID.bits) + self.naked_key if self.naked_key else self.instrument

    @property
    def long_loss(self) -> int:
        """Worst loss of one long contract over the scenarios, floored at 0 (PRICE_SCALE)."""
        return max(0, *(-r for r in self.risk))

    @property
    def short_loss(self) -> int:
        """Worst loss of one short contract over the scenarios, floored at 0 (PRICE_SCALE)."""
        return max(0, *self.risk)


@dataclass(frozen=True)
class AssetTerms:
    """Price and haircut tiers of one collateral asset, padded to the book's tier count."""

    price: int                   # PRICE_SCALE per unit
    tier_from: tuple[int, ...]   # AMOUNT_SCALE; tier_from[0] == 0, non-decreasing
    hc_mm: tuple[int, ...]       # bps, non-decreasing
    hc_im: tuple[int, ...]       # bps, non-decreasing


@dataclass(frozen=True)
class Book:
    """An account resolved against a snapshot: integers only, shapes fixed by the profile."""

    slots: tuple[Slot, ...]
    balances: tuple[int, ...]      # AMOUNT_SCALE per asset index
    assets: tuple[AssetTerms, ...]
    group_ids: tuple[int, ...]     # risk groups touched, sorted, padded with 0
    slot_group: tuple[int, ...]    # per slot: index into group_ids, -1 for an empty slot
    mm_factor_bps: int

    @property
    def n_scenarios(self) -> int:
        return len(self.slots[0].risk) if self.slots else 0


def asset_terms(asset: CollateralAsset, tiers: int) -> AssetTerms:
    """The terms of a listed asset, tiers padded to ``tiers`` (padding tiers start at the top)."""
    pad = tiers - len(asset.tiers)
    last = asset.tiers[-1]
    return AssetTerms(
        price=asset.price,
        tier_from=tuple(t.from_amount for t in asset.tiers) + (PAD_TIER_FROM,) * pad,
        hc_mm=tuple(t.mm_bps for t in asset.tiers) + (last.mm_bps,) * pad,
        hc_im=tuple(t.im_bps for t in asset.tiers) + (last.im_bps,) * pad,
    )


def empty_asset(tiers: int) -> AssetTerms:
    """A padding asset slot: price 0, so any balance in it is worth nothing."""
    return AssetTerms(0, (0,) + (PAD_TIER_FROM,) * (tiers - 1), (0,) * tiers, (0,) * tiers)


def null_slot(scenarios: int) -> Slot:
    """The empty slot: null instrument (leaf 0), zero quantity."""
    return Slot(0, 0, 0, 0, 0, 0, 0, (0,) * scenarios)


def resolve(account: Account, snapshot: RiskSnapshot, profile: Profile | None = None) -> Book:
    """Build the :class:`Book` of ``account`` under ``snapshot``, padded to ``profile`` if given.

    Raises :class:`InputError` naming the offending position, asset or size limit.
    """
    n_s = len(snapshot.scenarios)
    n_assets = len(snapshot.collateral)
    tiers = max(len(a.tiers) for a in snapshot.collateral)
    if profile is not None:
        if n_s > profile.scenarios:
            raise InputError(f"snapshot has {n_s} scenarios; profile {profile.name} holds {profile.scenarios}")
        if n_assets > profile.assets:
            raise InputError(f"snapshot has {n_assets} collateral assets; profile {profile.name} holds {profile.assets}")
        if tiers > profile.tiers:
            raise InputError(f"snapshot has {tiers} haircut tiers; profile {profile.name} holds {profile.tiers}")
        if len(account.positions) > profile.positions:
            raise InputError(f"account has {len(account.positions)} positions; "
                             f"profile {profile.name} holds {profile.positions}")
        n_s, n_assets, tiers = profile.scenarios, profile.assets, profile.tiers

    by_id = snapshot.instruments_by_id
    slots: list[Slot] = []
    for pos in sorted(account.positions, key=lambda p: p.instrument):
        ins = by_id.get(pos.instrument)
        if ins is None:
            raise InputError(f"position in instrument {pos.instrument}: no such instrument in snapshot "
                             f"{snapshot.venue} epoch {snapshot.epoch}")
        risk = tuple(ins.risk) + (0,) * (n_s - len(ins.risk))
        alloc = pos.allocation
        if alloc is not None and alloc.asset >= len(snapshot.collateral):
            raise InputError(f"allocation of position in instrument {ins.id}: the snapshot lists assets "
                             f"0..{len(snapshot.collateral) - 1}")
        slots.append(Slot(ins.id, pos.quantity, snapshot.leaf_index[ins.id], ins.group, ins.mark, ins.addon,
                          ins.short_option_min, risk, alloc.asset if alloc else 0, alloc.amount if alloc else 0,
                          ins.naked_key))
    n_slots = profile.positions if profile is not None else len(slots)
    slots += [null_slot(n_s)] * (n_slots - len(slots))

    groups = sorted({s.group for s in slots if s.instrument != 0})
    if profile is not None:
        if len(groups) > profile.groups:
            raise InputError(f"account touches {len(groups)} risk groups; profile {profile.name} holds {profile.groups}")
        groups += [0] * (profile.groups - len(groups))
    slot_group = tuple(groups.index(s.group) if s.instrument != 0 else -1 for s in slots)

    balances = [0] * n_assets
    for b in account.balances:
        if b.asset >= len(snapshot.collateral):
            raise InputError(f"balance in asset {b.asset}: the snapshot lists assets 0..{len(snapshot.collateral) - 1}")
        balances[b.asset] = b.amount
    assets = [asset_terms(a, tiers) for a in snapshot.collateral]
    assets += [empty_asset(tiers)] * (n_assets - len(assets))
    return Book(tuple(slots), tuple(balances), tuple(assets), tuple(groups), slot_group,
                snapshot.params.mm_factor_bps)
