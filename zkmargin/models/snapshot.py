"""The risk snapshot: the venue's canonical, integer-only description of one epoch.

Everything a verifier hashes into ``snapshot_root`` lives here, as JSON integers in the scales of
:mod:`zkmargin.fixedpoint`. The validators enforce every bound and every structural rule the
circuit relies on (unique ids, monotone haircut tiers, one risk value per scenario), so a
snapshot that loads is a snapshot whose commitment the circuit can open soundly.
"""

from __future__ import annotations

from enum import Enum
from functools import cached_property
from typing import Literal

from pydantic import Field, model_validator

from zkmargin import fixedpoint as fp
from zkmargin.models.types import (Addon, Amount, AssetPrice, Epoch, Haircut, Id, Mark, MmFactor, NonZeroId,
                                   Risk, Som, StrictModel)

SNAPSHOT_SCHEMA_VERSION = 1


class Kind(str, Enum):
    """Instrument kind: decides how the snapshot builder prices it, not how the circuit treats it."""

    SPOT = "spot"
    FUTURE = "future"
    PERP = "perp"
    CALL = "call"
    PUT = "put"


class Scenario(StrictModel):
    """One risk scenario; the shocks are informational (the risk arrays carry the result)."""

    label: str
    price_shock_bps: int
    vol_shock_bps: int = 0
    weight_bps: int = Field(default=fp.BPS, description="share of the move counted (SPAN extreme moves: 3500 bps)")


class Group(StrictModel):
    """A risk group (underlying): scenario P&L nets within a group, never across groups."""

    id: NonZeroId
    underlying: str


class Instrument(StrictModel):
    """One tradable instrument and its per-contract risk data (one Merkle leaf)."""

    id: NonZeroId
    symbol: str
    kind: Kind
    group: NonZeroId
    multiplier: str = Field(default="1", description="underlying units per contract (informational)")
    strike: int | None = Field(default=None, description="1e-6 USD (options)")
    expiry: str | None = Field(default=None, description="ISO date (dated futures and options)")
    mark: Mark
    addon: Addon
    short_option_min: Som
    risk: list[Risk]
    naked_key: Id = Field(default=0, exclude_if=lambda key: key == 0, description=(
        "net-naked-short key: options sharing a non-zero key (one group, expiry and strike, calls and puts "
        "together) are charged their add-on on the net short quantity only, once; 0: |q| x addon per position"))


class HaircutTier(StrictModel):
    """Haircuts applied to the part of a balance at or above ``from_amount``."""

    from_amount: Amount
    mm_bps: Haircut
    im_bps: Haircut


class CollateralAsset(StrictModel):
    """A collateral asset with its venue-assigned stable index and tiered haircuts."""

    index: int = Field(ge=0, lt=fp.MAX_ASSETS)
    symbol: str
    price: AssetPrice
    tiers: list[HaircutTier] = Field(min_length=1, max_length=4)

    @model_validator(mode="after")
    def _tiers_are_monotone(self) -> CollateralAsset:
        t = self.tiers
        if t[0].from_amount != 0:
            raise ValueError(f"collateral {self.symbol}: the first tier must start at amount 0")
        for a, b in zip(t, t[1:]):
            if b.from_amount <= a.from_amount:
                raise ValueError(f"collateral {self.symbol}: tier starts must increase strictly")
            if b.mm_bps < a.mm_bps or b.im_bps < a.im_bps:
                raise ValueError(f"collateral {self.symbol}: haircuts must not decrease with the tier")
        for x in t:
            if x.mm_bps > x.im_bps:
                raise ValueError(f"collateral {self.symbol}: the MM haircut must not exceed the IM haircut")
        return self


class MarginParams(StrictModel):
    """Margin parameters (committed). The rates were used to compute each leaf's add-on terms."""

    mm_factor_bps: MmFactor = Field(ge=1)
    contingency_bps: int = Field(ge=0, le=fp.BPS, description="add-on per contract as bps of |mark| or underlying")
    short_option_min_bps: int = Field(ge=0, le=fp.BPS, description="short-option minimum as bps of the underlying")


class RiskSnapshot(StrictModel):
    """The epoch's risk snapshot: scenarios, instruments with risk arrays, collateral, params."""

    schema_version: Literal[1] = SNAPSHOT_SCHEMA_VERSION
    venue: str
    epoch: Epoch
    scenarios: list[Scenario] = Field(min_length=1)
    groups: list[Group] = Field(min_length=1)
    instruments: list[Instrument]
    collateral: list[CollateralAsset] = Field(min_length=1, max_length=fp.MAX_ASSETS)
    params: MarginParams

    @model_validator(mode="after")
    def _consistent(self) -> RiskSnapshot:
        group_ids = [g.id for g in self.groups]
        if len(set(group_ids)) != len(group_ids):
            raise ValueError("duplicate group id")
        ids = [i.id for i in self.instruments]
        if len(set(ids)) != len(ids):
            raise ValueError("duplicate instrument id")
        symbols = [i.symbol for i in self.instruments]
        if len(set(symbols)) != len(symbols):
            raise ValueError("duplicate instrument symbol")
        n = len(self.scenarios)
        for ins in self.instruments:
            if ins.group not in group_ids:
                raise ValueError(f"instrument {ins.symbol}: unknown group {ins.group}")
            if len(ins.risk) != n:
                raise ValueError(f"instrument {ins.symbol}: {len(ins.risk)} risk values for {n} scenarios")
        keyed: dict[int, Instrument] = {}
        for ins in self.instruments:
            if ins.naked_key == 0:
                continue
            if ins.kind not in (Kind.CALL, Kind.PUT):
                raise ValueError(f"instrument {ins.symbol}: naked_key {ins.naked_key} on a {ins.kind.value}; only "
                                 "options are netted")
            first = keyed.setdefault(ins.naked_key, ins)
            if (first.group, first.addon) != (ins.group, ins.addon):
                raise ValueError(f"instruments {first.symbol} and {ins.symbol}: naked_key {ins.naked_key} is shared, "
                                 "so group and addon must be equal (the net short is charged one add-on)")
        if [c.index for c in self.collateral] != list(range(len(self.collateral))):
            raise ValueError("collateral indices must be 0, 1, 2, ... in order")
        return self

    @cached_property
    def instruments_by_id(self) -> dict[int, Instrument]:
        """Instruments keyed by their stable id."""
        return {i.id: i for i in self.instruments}

    @cached_property
    def leaf_order(self) -> list[Instrument]:
        """Instruments in Merkle-leaf order: sorted by id, at leaves 1, 2, ... (leaf 0 is null)."""
        return sorted(self.instruments, key=lambda i: i.id)

    @cached_property
    def leaf_index(self) -> dict[int, int]:
        """Instrument id -> its leaf index in the snapshot's Merkle tree."""
        return {ins.id: k + 1 for k, ins in enumerate(self.leaf_order)}
