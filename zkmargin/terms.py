"""Terms every margin model shares: health of a requirement, collateral value, standalone risk.

* :class:`Health`: equity vs MM and the health check, the common face of every model's result;
* :func:`collateral_split` / :func:`collateral_value`: tiered haircuts (``CollateralValue`` in
  ``circuits/lib/collateral.circom``);
* :func:`standalone_requirement`: one position's own requirement, ``max(scan loss, short-option
  minimum)`` over the same scenarios (``StandaloneRequirement`` in ``circuits/lib/position.circom``);
* :func:`naked_shorts` / :func:`slot_addons`: the add-ons, netted per net-naked-short key
  (``NakedAddons`` in ``circuits/lib/aggregate.circom``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from zkmargin import fixedpoint as fp
from zkmargin.book import AssetTerms, Book, Slot

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


def balance_value(balance: int, split: tuple[int, ...], asset: AssetTerms, haircuts: tuple[int, ...]) -> int:
    """A signed balance's value at EQUITY_SCALE: a credit after its tiered haircuts (``split`` is
    the credit's), a debt (``balance < 0``) at full price with no haircut benefit:
    ``price * min(balance, 0) * 10000``."""
    return collateral_value(split, asset, haircuts) + asset.price * min(balance, 0) * fp.BPS


def naked_shorts(slots: tuple[Slot, ...]) -> tuple[int, ...]:
    """Per slot, ``max(0, -net_i)`` (QTY_SCALE) where ``net_i = q_i + sum_{j > i, key_j = key_i != 0} q_j``:
    for the first slot of a net-naked-short key, the key's net short quantity; for an unkeyed slot
    its own short quantity. Slots are in canonical (instrument id) order."""
    out = []
    for i, s in enumerate(slots):
        net = s.qty + sum(t.qty for t in slots[i + 1:] if s.naked_key != 0 and t.naked_key == s.naked_key)
        out.append(max(-net, 0))
    return tuple(out)


def slot_addons(slots: tuple[Slot, ...], shorts: tuple[int, ...]) -> tuple[int, ...]:
    """Add-on per slot with one collateral pool (VALUE_SCALE): ``|q_i| * addon_i`` for an unkeyed slot;
    for a keyed one, the key's net short quantity (``shorts``, :func:`naked_shorts`) times its add-on
    on the key's first slot, 0 on its other slots (calls and puts of one strike offset each other)."""
    seen: set[int] = set()
    out = []
    for s, short in zip(slots, shorts):
        if s.naked_key == 0:
            out.append(abs(s.qty) * s.addon)
        elif s.naked_key in seen:
            out.append(0)
        else:
            seen.add(s.naked_key)
            out.append(short * s.addon)
    return tuple(out)


def own_addon(slot: Slot) -> int:
    """A position's add-on on its own (isolated model, VALUE_SCALE): ``|q| * addon``, or for a keyed
    option ``max(-q, 0) * addon`` (no other position to net against)."""
    return (max(-slot.qty, 0) if slot.naked_key else abs(slot.qty)) * slot.addon


@dataclass(frozen=True)
class Pooled(Health):
    """Per-slot and collateral terms of the models with one collateral pool (portfolio, cross)."""

    position_value: tuple[int, ...]                  # q * mark, VALUE
    abs_qty: tuple[int, ...]                         # QTY
    short_qty: tuple[int, ...]                       # QTY
    naked_short: tuple[int, ...]                     # QTY, naked_shorts (the circuit's hint)
    addon: tuple[int, ...]                           # VALUE, slot_addons
    collateral_split: tuple[tuple[int, ...], ...]    # AMOUNT per asset and tier, of the credit max(b, 0)
    collateral_value: tuple[int, ...]                # MM haircuts, EQUITY; a debt at full price (< 0)
    collateral_value_im: tuple[int, ...]             # IM haircuts, EQUITY; a debt at full price (< 0)
    equity_im: int                                   # EQUITY

    @property
    def im_excess(self) -> int:
        """Equity under IM haircuts minus IM, EQUITY_SCALE (negative: below initial margin)."""
        return self.equity_im - self.im * fp.BPS


def pooled_terms(book: Book) -> dict[str, Any]:
    """The :class:`Pooled` fields of ``book``, plus ``equity`` (MM haircuts)."""
    value = tuple(s.qty * s.mark for s in book.slots)
    abs_q = tuple(abs(s.qty) for s in book.slots)
    shorts = naked_shorts(book.slots)
    split = tuple(collateral_split(max(b, 0), a.tier_from) for b, a in zip(book.balances, book.assets))
    coll = tuple(balance_value(b, x, a, a.hc_mm) for b, x, a in zip(book.balances, split, book.assets))
    coll_im = tuple(balance_value(b, x, a, a.hc_im) for b, x, a in zip(book.balances, split, book.assets))
    return {
        "position_value": value, "abs_qty": abs_q, "short_qty": tuple(max(-s.qty, 0) for s in book.slots),
        "naked_short": shorts, "addon": slot_addons(book.slots, shorts),
        "collateral_split": split, "collateral_value": coll, "collateral_value_im": coll_im,
        "equity": sum(coll) + fp.BPS * sum(value), "equity_im": sum(coll_im) + fp.BPS * sum(value),
    }


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
