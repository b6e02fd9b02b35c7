"""A book of positions and signed collateral balances, as a trader reads it and a venue holds it."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from zkmargin import fixedpoint as fp
from zkmargin.models.types import DecimalAmount, DecimalBalance, DecimalQty, NonZeroId, StrictModel

ACCOUNT_SCHEMA_VERSION = 1


class Allocation(StrictModel):
    """Collateral set aside for one position under the isolated margin model."""

    asset: int = Field(ge=0, lt=fp.MAX_ASSETS)
    amount: DecimalAmount


class Position(StrictModel):
    """A signed position in one instrument, bound to the instrument's stable id.

    ``allocation`` matters only under the isolated model: the collateral this position carries
    on its own (the rest of the account's collateral does not back it).
    """

    instrument: NonZeroId
    quantity: DecimalQty
    allocation: Allocation | None = Field(default=None, exclude_if=lambda v: v is None)


class Balance(StrictModel):
    """A signed collateral balance, by the venue's stable asset index.

    A negative amount is a debt (negative cash after settlement, a borrowed asset): it counts at
    full price, with no haircut benefit, against the account's equity.
    """

    asset: int = Field(ge=0, lt=fp.MAX_ASSETS)
    amount: DecimalBalance


class Account(StrictModel):
    """An account's book: positions and balances (no salt, no holder: see ``zkmargin.models.statement``).

    Private: a proof reveals nothing of it beyond the claimed health.
    """

    schema_version: Literal[1] = ACCOUNT_SCHEMA_VERSION
    name: str = Field(default="", max_length=200)
    positions: list[Position] = Field(default_factory=list, max_length=fp.MAX_POSITIONS)
    balances: list[Balance] = Field(default_factory=list, max_length=fp.MAX_ASSETS)

    @model_validator(mode="after")
    def _unique(self) -> Account:
        ids = [p.instrument for p in self.positions]
        dup = {i for i in ids if ids.count(i) > 1}
        if dup:
            raise ValueError(f"duplicate position in instrument {sorted(dup)[0]}")
        assets = [b.asset for b in self.balances]
        dup = {a for a in assets if assets.count(a) > 1}
        if dup:
            raise ValueError(f"duplicate balance for asset {sorted(dup)[0]}")
        held = {b.asset: b.amount for b in self.balances}
        for asset in {p.allocation.asset for p in self.positions if p.allocation}:
            allocated = sum(p.allocation.amount for p in self.positions if p.allocation and p.allocation.asset == asset)
            if allocated > held.get(asset, 0):
                raise ValueError(f"allocations of asset {asset} ({fp.format_decimal(allocated, fp.AMOUNT_SCALE)}) "
                                 f"exceed its balance ({fp.format_decimal(held.get(asset, 0), fp.AMOUNT_SCALE)})")
        return self
