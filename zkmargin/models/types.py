"""Bounded field types shared by every edge model (defined once, used everywhere).

Two families:

* *canonical integers* (``Qty``, ``Risk``, ``Mark`` ...): already in fixed point, written as JSON
  integers in the risk snapshot, the canonical artefact verifiers hash. Floats and bools refused.
* *human decimals* (``DecimalQty``, ``DecimalAmount``): decimal strings in whole units at the
  edges (account files), converted exactly to the same fixed-point integers and written back as
  decimal strings, so a JSON round trip is lossless.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, ConfigDict, Field, PlainSerializer, WithJsonSchema
from pydantic import BaseModel

from zkmargin import fixedpoint as fp
from zkmargin.errors import BoundError


class StrictModel(BaseModel):
    """Frozen, strict, typo-rejecting base for every model at the edge."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


def _bounded(bound: fp.Bound, name: str) -> Any:
    """An int type in JSON bounded by ``bound`` (checked with a message naming the bound)."""

    def check(v: object) -> int:
        if isinstance(v, bool) or not isinstance(v, int):
            raise ValueError(f"{name} must be a JSON integer (fixed point), got {v!r}")
        bound.check(name, v)
        return v

    return Annotated[int, BeforeValidator(check), WithJsonSchema(
        {"type": "integer", "minimum": bound.lo, "maximum": bound.hi, "description": name})]


Qty = _bounded(fp.QTY, "quantity (1e-6 contracts)")
Risk = _bounded(fp.RISK, "P&L per contract (1e-6 USD)")
Mark = _bounded(fp.MARK, "mark value per contract (1e-6 USD)")
Addon = _bounded(fp.ADDON, "add-on per contract (1e-6 USD)")
Som = _bounded(fp.SOM, "short-option minimum per contract (1e-6 USD)")
Amount = _bounded(fp.AMOUNT, "collateral amount (1e-6 units)")
AssetPrice = _bounded(fp.ASSET_PRICE, "collateral price (1e-6 USD per unit)")
Haircut = _bounded(fp.HAIRCUT, "haircut (bps)")
MmFactor = _bounded(fp.MM_FACTOR, "mm_factor (bps of IM)")
Epoch = _bounded(fp.EPOCH, "epoch")
Id = _bounded(fp.ID, "id")
NonZeroId = Annotated[Id, Field(ge=1)]


def _decimal(bound: fp.Bound, scale: int, name: str, rounding: fp.Rounding) -> Any:
    """A human decimal string converted to a bounded fixed-point int (and back on dump)."""

    human = f"must lie in [{fp.format_decimal(bound.lo, scale)}, {fp.format_decimal(bound.hi, scale)}]"

    def parse(v: object) -> int:
        x = fp.parse_decimal(name, v, scale, rounding)
        if not bound.lo <= x <= bound.hi:
            raise BoundError(name, v, human)
        return x

    return Annotated[
        int,
        BeforeValidator(parse),
        PlainSerializer(lambda x: fp.format_decimal(x, scale), return_type=str),
        WithJsonSchema({"type": "string", "pattern": r"^-?\d+(\.\d+)?$",
                        "description": f"{name}: decimal string, at most {len(str(scale)) - 1} decimals"}),
    ]


#: Signed position size in contracts; more than 6 decimals is refused (no silent rounding).
DecimalQty = _decimal(fp.QTY, fp.QTY_SCALE, "quantity", "exact")
#: Collateral amount in units; extra decimals are rounded DOWN (against the trader).
DecimalAmount = _decimal(fp.AMOUNT, fp.AMOUNT_SCALE, "amount", "floor")


def _salt(v: object) -> int:
    if not isinstance(v, str) or not fp.DIGITS.fullmatch(v):
        raise ValueError("salt must be a decimal string of a field element")
    x = int(v)
    if not 0 <= x < fp.R:
        raise ValueError("salt must be below the BN254 scalar field order")
    return x


#: Account commitment salt: a field element written as a decimal string.
Salt = Annotated[int, BeforeValidator(_salt), PlainSerializer(str, return_type=str),
                 WithJsonSchema({"type": "string", "pattern": r"^\d+$"})]
