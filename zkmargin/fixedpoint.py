"""Fixed-point specification: every scale, every bound, the signed field encoding.

This module is the single place where the integer formats shared by the engine and the circuits
are defined. The circuits (``circuits/lib/*.circom``) repeat these numbers as template
parameters; ``zkmargin.profiles`` passes them in, so a change here changes both sides.

Scales (an integer ``x`` stands for the real value ``x / SCALE``):

==================  ==========  =====================================================
quantity            QTY_SCALE    contracts (signed: short < 0)
price per contract  PRICE_SCALE  USD per contract, multiplier included (marks, risk
                                 arrays, add-ons, short-option minimum)
collateral amount   AMOUNT_SCALE units of the asset (>= 0)
collateral price    PRICE_SCALE  USD per unit of the asset
haircut             BPS          basis points, 0..10000
value               VALUE_SCALE  USD = QTY_SCALE * PRICE_SCALE: position values, P&L,
                                 scanning loss, add-ons, IM
equity              EQUITY_SCALE USD = VALUE_SCALE * BPS: collateral after haircut, equity,
                                 MM (= IM * mm_factor_bps)
==================  ==========  =====================================================

No division happens anywhere: the health check ``equity * 10000 >= MM * threshold_bps`` compares
two integers at EQUITY_SCALE * BPS directly.

Overflow argument: see :data:`MAGNITUDES` and :func:`check_overflow`, which runs at import time
and proves, from the bounds below and the largest supported profile, that every intermediate
stays below ``2**HEALTH_BITS`` (far below ``2**252``), so no field wrap-around can occur and a
negative value (``r - |x|`` in the field) can never pass a range check.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Literal

from zkmargin.errors import BoundError

#: BN254 scalar field order (the circom / snarkjs prime).
R = 21888242871839275222246405745257275088548364400416034343698204186575808495617

QTY_SCALE = 10**6
PRICE_SCALE = 10**6
AMOUNT_SCALE = 10**6
BPS = 10_000
VALUE_SCALE = QTY_SCALE * PRICE_SCALE
EQUITY_SCALE = VALUE_SCALE * BPS


@dataclass(frozen=True)
class Bound:
    """An inclusive integer interval with the bit width the circuit range-checks.

    ``signed`` bounds are ``[-2**(bits-1), 2**(bits-1) - 1]`` and are checked in the circuit as
    ``x + 2**(bits-1)`` in ``[0, 2**bits)``; unsigned bounds are ``[0, 2**bits - 1]`` unless a
    tighter ``hi`` is given (then the circuit checks bits *and* the engine checks ``hi``).
    """

    bits: int
    signed: bool = False
    hi_override: int | None = None

    @property
    def lo(self) -> int:
        return -(1 << (self.bits - 1)) if self.signed else 0

    @property
    def hi(self) -> int:
        if self.hi_override is not None:
            return self.hi_override
        return (1 << (self.bits - 1)) - 1 if self.signed else (1 << self.bits) - 1

    def describe(self) -> str:
        return f"must lie in [{self.lo}, {self.hi}]"

    def check(self, field: str, value: int) -> int:
        """Return ``value`` or raise :class:`BoundError` naming the field, value and bound."""
        if isinstance(value, bool) or not isinstance(value, int):
            raise BoundError(field, value, "must be an integer")
        if not self.lo <= value <= self.hi:
            raise BoundError(field, value, self.describe())
        return value


# ---- bounds of inputs (each is range-checked in the circuit when prover-chosen) ----
QTY = Bound(48, signed=True)            # |q| <= 1.4e8 contracts
RISK = Bound(48, signed=True)           # P&L per contract per scenario, |.| <= 1.4e8 USD
MARK = Bound(47)                        # mark value per contract, 0..1.4e8 USD
ADDON = Bound(47)                       # add-on per contract (|q|-weighted)
SOM = Bound(47)                         # short-option minimum per short contract
AMOUNT = Bound(64)                      # collateral amount (allocations, tier bounds), 0..1.8e13 units
BALANCE = Bound(65, signed=True)        # signed balance: a debt is negative, |.| <= 1.8e13 units
ASSET_PRICE = Bound(48)                 # USD per unit of collateral
HAIRCUT = Bound(14, hi_override=BPS)    # 0..10000 bps
MM_FACTOR = Bound(14, hi_override=BPS)  # MM = IM * mm_factor_bps / 10000
THRESHOLD = Bound(20)                   # claimed health in bps, 0..1048575 (<= 104.8 x MM)
ID = Bound(32)                          # instrument, group and asset ids
EPOCH = Bound(64)
ASSET_INDEX = Bound(4)                  # collateral asset index of an allocation (< MAX_ASSETS)

# ---- largest profile the bounds are argued for ----
MAX_POSITIONS = 64
MAX_GROUPS = 8
MAX_ASSETS = 16


def _bits(x: int) -> int:
    return x.bit_length()


#: Worst-case magnitudes (strict upper bounds, as powers of two) of every intermediate.
MAGNITUDES: dict[str, int] = {}
_q, _r, _m = 1 << 47, 1 << 47, 1 << 47
MAGNITUDES["position_value = q * mark"] = _q * _m
MAGNITUDES["group_pnl[s] = sum q * risk[s]"] = MAX_POSITIONS * _q * _r
MAGNITUDES["som[g] = sum short * som"] = MAX_POSITIONS * _q * _m
MAGNITUDES["addons = sum |q| * addon"] = MAX_POSITIONS * _q * _m

#: Bits of the range checks on scanning loss, loss + P&L, and the group requirement.
LOSS_BITS = 102
#: Bits of the range check on the final health difference ``equity*10000 - MM*threshold``.
HEALTH_BITS = 150

# req_g - loss_g and loss_g are each checked in LOSS_BITS, so req_g < 2**(LOSS_BITS + 1)
_IM = MAX_GROUPS * (1 << (LOSS_BITS + 1)) + MAGNITUDES["addons = sum |q| * addon"]
MAGNITUDES["IM = sum req[g] + addons"] = _IM
MAGNITUDES["collateral = sum a * price * (10000 - hc)"] = MAX_ASSETS * (1 << 64) * (1 << 48) * BPS
MAGNITUDES["debts = sum |b| * price * 10000"] = MAX_ASSETS * (1 << 64) * (1 << 48) * BPS
_E = (MAGNITUDES["collateral = sum a * price * (10000 - hc)"] + MAGNITUDES["debts = sum |b| * price * 10000"]
      + BPS * MAX_POSITIONS * _q * _m)
MAGNITUDES["|equity|"] = _E
MAGNITUDES["MM = IM * mm_factor_bps"] = _IM * BPS
MAGNITUDES["|equity*10000 - MM*threshold|"] = BPS * _E + _IM * BPS * (1 << THRESHOLD.bits)


def check_overflow() -> None:
    """Prove the overflow argument from the constants; raise ValueError with the numbers if not.

    * a group's P&L is below 2**(LOSS_BITS-2), so an honest ``loss + pnl`` is below 2**LOSS_BITS
      and a negative one (a field element near R) never passes a LOSS_BITS range check;
    * the health difference is below 2**(HEALTH_BITS-1) in magnitude, same argument;
    * everything is below 2**252 (circomlib's comparator limit) with room to spare.
    """
    if 2 * MAGNITUDES["group_pnl[s] = sum q * risk[s]"] > 1 << (LOSS_BITS - 1):
        raise ValueError(f"group P&L bound {_bits(MAGNITUDES['group_pnl[s] = sum q * risk[s]'])} bits "
                         f"does not fit LOSS_BITS={LOSS_BITS}")
    if MAGNITUDES["som[g] = sum short * som"] >= 1 << (LOSS_BITS - 1):
        raise ValueError("short-option minimum does not fit LOSS_BITS")
    if MAGNITUDES["|equity*10000 - MM*threshold|"] >= 1 << (HEALTH_BITS - 1):
        raise ValueError(f"health difference needs {_bits(MAGNITUDES['|equity*10000 - MM*threshold|'])} "
                         f"bits, HEALTH_BITS={HEALTH_BITS}")
    worst = max(MAGNITUDES.values())
    if worst >= 1 << 250:
        raise ValueError(f"an intermediate reaches 2**{_bits(worst)}: too close to the field size")


check_overflow()


# ---- signed encoding into the BN254 scalar field ----
def to_field(x: int) -> int:
    """Encode a signed integer with ``|x| < R/2`` as a field element (negatives as ``R - |x|``)."""
    if not -(R // 2) <= x <= R // 2:
        raise BoundError("field element", x, "|x| must be below R/2")
    return x % R


def from_field(x: int) -> int:
    """Decode a field element into the signed integer of smallest magnitude."""
    if not 0 <= x < R:
        raise BoundError("field element", x, f"must lie in [0, R-1] with R = {R}")
    return x - R if x > R // 2 else x


# ---- exact decimal conversion at the edges ----
Rounding = Literal["exact", "floor", "ceil"]
#: Plain decimal notation, ASCII digits only (no exponent, no '_' separators, no '+').
DECIMAL_TEXT = re.compile(r"-?[0-9]+(\.[0-9]+)?")
#: A non-negative integer in ASCII decimal digits (salts, field elements).
DIGITS = re.compile(r"[0-9]+")
#: Longest decimal text (digits plus exponent) accepted; every bound above fits in far fewer.
MAX_DECIMAL_DIGITS = 120


def parse_decimal(field: str, text: object, scale: int, rounding: Rounding = "exact") -> int:
    """Convert a decimal string (or an int, meaning whole units) to an integer at ``scale``.

    Floats are refused: they cannot carry exact decimals. ``rounding`` says what happens when the
    value has more decimals than the scale holds: ``exact`` refuses, ``floor``/``ceil`` round
    toward -inf/+inf (callers pick the direction that goes against the trader).
    """
    if isinstance(text, bool) or isinstance(text, float):
        raise BoundError(field, text, "must be a decimal string such as \"1.25\" (floats are not exact)")
    if isinstance(text, int):
        return text * scale
    if not isinstance(text, str):
        raise BoundError(field, text, "must be a decimal string")
    if not DECIMAL_TEXT.fullmatch(text.strip()):
        raise BoundError(field, text, "is not a decimal number (digits, one optional '.', optional '-')")
    try:
        d = Decimal(text.strip())
    except InvalidOperation:
        raise BoundError(field, text, "is not a decimal number") from None
    # exact integer arithmetic (a Decimal context would round to 28 digits)
    sign, digits, exponent = d.as_tuple()
    assert isinstance(exponent, int)
    if len(digits) + abs(exponent) > MAX_DECIMAL_DIGITS:
        raise BoundError(field, text, f"has more than {MAX_DECIMAL_DIGITS} digits")
    mantissa = int("".join(map(str, digits))) * (-1 if sign else 1) * scale
    if exponent >= 0:
        return mantissa * 10**exponent
    quotient, remainder = divmod(mantissa, 10**-exponent)
    if remainder == 0:
        return quotient
    if rounding == "exact":
        raise BoundError(field, text, f"has more than {len(str(scale)) - 1} decimals")
    return quotient if rounding == "floor" else quotient + 1


def format_decimal(x: int, scale: int) -> str:
    """Inverse of :func:`parse_decimal` for exact values: ``1500000, 10**6 -> "1.5"``."""
    sign = "-" if x < 0 else ""
    whole, frac = divmod(abs(x), scale)
    digits = len(str(scale)) - 1
    frac_text = str(frac).rjust(digits, "0").rstrip("0")
    return f"{sign}{whole}.{frac_text}" if frac_text else f"{sign}{whole}"
