"""Bounded field types shared by every edge model (defined once, used everywhere).

Two families:

* *canonical integers* (``Qty``, ``Risk``, ``Mark`` ...): already in fixed point, written as JSON
  integers in the risk snapshot, the canonical artefact verifiers hash. Floats and bools refused.
* *human decimals* (``DecimalQty``, ``DecimalAmount``): decimal strings in whole units at the
  edges (account files), converted exactly to the same fixed-point integers and written back as
  decimal strings, so a JSON round trip is lossless.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator, ConfigDict, Field, PlainSerializer, ValidationInfo, WithJsonSchema
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
#: Signed balance in units (a debt is negative); extra decimals are rounded DOWN (a credit
#: shrinks, a debt grows: against the trader either way).
DecimalBalance = _decimal(fp.BALANCE, fp.AMOUNT_SCALE, "balance", "floor")


def _field_element(v: object, info: ValidationInfo) -> int:
    """A field element: a decimal string (JSON), or an int when built in Python."""
    if info.mode == "python" and isinstance(v, int) and not isinstance(v, bool):
        if not 0 <= v < fp.R:
            raise ValueError("must be below the BN254 scalar field order")
        return v
    if not isinstance(v, str) or not fp.DIGITS.fullmatch(v) or len(v) > 80:
        raise ValueError("must be a decimal string of a field element (at most 77 digits)")
    x = int(v)
    if not 0 <= x < fp.R:
        raise ValueError("must be below the BN254 scalar field order")
    return x


#: A BN254 scalar-field element written as a decimal string (salts, roots, holders).
FieldElement = Annotated[int, BeforeValidator(_field_element), PlainSerializer(str, return_type=str),
                         WithJsonSchema({"type": "string", "pattern": r"^\d+$"})]
#: Account leaf salt: a field element written as a decimal string.
Salt = FieldElement


HOLDER_HEX = re.compile(r"0x[0-9a-fA-F]{1,64}")


def holder_from_text(v: object) -> int:
    """A holder as a field element from text: ``0x`` + hex (an EVM address) or a decimal string."""
    if isinstance(v, str) and HOLDER_HEX.fullmatch(v):
        x = int(v, 16)
        if x >= fp.R:
            raise ValueError("holder must be below the BN254 scalar field order")
        return x
    if not isinstance(v, str) or not fp.DIGITS.fullmatch(v) or len(v) > 80 or int(v) >= fp.R:
        raise ValueError("holder must be an EVM address (0x + hex) or a decimal field element")
    return int(v)


def parse_holder(v: object, info: ValidationInfo) -> int:
    """A holder in a model: text (JSON), or an int when built in Python."""
    if info.mode == "python" and isinstance(v, int) and not isinstance(v, bool):
        return _field_element(v, info)
    return holder_from_text(v)


def format_holder(x: int) -> str:
    """An EVM address (``0x`` + 40 hex digits) when it fits 160 bits, else the decimal field element."""
    return f"0x{x:040x}" if x < 1 << 160 else str(x)


#: Whose account a proof is about: by default the account's registered EVM address. Public in
#: every proof; written as ``0x`` + 40 hex digits when it is an address, else in decimal.
Holder = Annotated[int, BeforeValidator(parse_holder), PlainSerializer(format_holder, return_type=str),
                   WithJsonSchema({"type": "string", "pattern": r"^(0x[0-9a-fA-F]{1,64}|\d+)$",
                                   "description": "EVM address (0x...) or decimal field element"})]
