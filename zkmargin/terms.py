"""Terms every margin model shares: health of a requirement, collateral value, standalone risk.

* :class:`Health`: equity vs MM and the health check, the common face of every model's result;
* :func:`collateral_split` / :func:`collateral_value`: tiered haircuts (``CollateralValue`` in
  ``circuits/lib/collateral.circom``);
* :func:`standalone_requirement`: one position's own requirement, ``max(scan loss, short-option
  minimum)`` over the same scenarios (``StandaloneRequirement`` in ``circuits/lib/position.circom``).
"""

from __future__ import annotations

from dataclasses import dataclass

from zkmargin import fixedpoint as fp
from zkmargin.book import AssetTerms, Slot

#: Health 1.00 x MM in basis points.
FULL_HEALTH_BPS = 10_000


@dataclass(frozen=True)
class Health:
    """Equity against maintenance margin: the fields every model's result has.

    ``equity`` and ``mm`` at EQUITY_SCALE, ``im`` at VALUE_SCALE, ``health = 10000 * equity -
    mm * threshold_bps`` (for the isolated model: the weakest position's).
    """

    equity: int
    im: int
    mm: int
    threshold_bps: int
    health: int

    @property
    def healthy(self) -> bool:
        """Does the claimed health hold (``health >= 0``)?"""
        return self.health >= 0

    @property
    def health_bps(self) -> int | None:
        """Equity / MM in bps, rounded down; None when MM is 0 (no requirement)."""
        return None if self.mm == 0 else (self.equity * FULL_HEALTH_BPS) // self.mm


def health(equity: int, mm: int, threshold_bps: int) -> int:
    """``10000 * equity - mm * threshold_bps`` (EQUITY_SCALE * BPS): >= 0 iff healthy."""
    return fp.BPS * equity - mm * threshold_bps


def collateral_split(balance: int, tier_from: tuple[int, ...]) -> tuple[int, ...]:
    """Split a balance over haircut tiers (AMOUNT_SCALE): fill the lowest tier first."""
    out = []
    for t, lo in enumerate(tier_from):
        part = max(balance - lo, 0)
        if t + 1 < len(tier_from):
            part = min(part, tier_from[t + 1] - lo)
        out.append(part)
    return tuple(out)


def collateral_value(split: tuple[int, ...], asset: AssetTerms, haircuts: tuple[int, ...]) -> int:
    """Value after haircut at EQUITY_SCALE: ``price * sum_t a_t * (10000 - hc_t)``."""
    return asset.price * sum(a * (fp.BPS - h) for a, h in zip(split, haircuts))


@dataclass(frozen=True)
class Standalone:
    """One position margined on its own (VALUE_SCALE)."""

    loss: int  # max(0, max_s -q * risk_s) = long * long_loss + short * short_loss
    som: int   # short * short-option minimum per contract
    req: int   # max(loss, som)


def standalone_requirement(slot: Slot) -> Standalone:
    """The position's own requirement under the scenarios, with no offsets from other positions."""
    long, short = max(slot.qty, 0), max(-slot.qty, 0)
    loss = long * slot.long_loss + short * slot.short_loss
    som = short * slot.som
    return Standalone(loss, som, max(loss, som))
