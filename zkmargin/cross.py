"""Cross margin in integers: the executable specification of ``Margin(MODEL=1)`` (circuits/lib/margin.circom).

One collateral pool, but no offsets between positions: each position's requirement is its own
scanning loss over the snapshot's scenarios (floored at 0) or its short-option minimum, whichever
is larger; IM is their sum plus the same add-ons as the portfolio model; MM = IM * mm_factor_bps;
equity is the whole pool, exactly as in :mod:`zkmargin.portfolio`.
"""

from __future__ import annotations

from dataclasses import dataclass

from zkmargin import fixedpoint as fp
from zkmargin.book import Book
from zkmargin.terms import FULL_HEALTH_BPS, Health, collateral_split, collateral_value, health, standalone_requirement


@dataclass(frozen=True)
class CrossResult(Health):
    """Every intermediate of the cross-margin computation (VALUE / EQUITY scales as portfolio)."""

    position_value: tuple[int, ...]
    abs_qty: tuple[int, ...]
    short_qty: tuple[int, ...]
    addon: tuple[int, ...]
    collateral_split: tuple[tuple[int, ...], ...]
    collateral_value: tuple[int, ...]
    position_loss: tuple[int, ...]
    position_som: tuple[int, ...]
    position_req: tuple[int, ...]


def pool_equity(book: Book) -> tuple[tuple[tuple[int, ...], ...], tuple[int, ...], int]:
    """Collateral split, value per asset (MM haircuts) and equity of the whole pool."""
    split = tuple(collateral_split(b, a.tier_from) for b, a in zip(book.balances, book.assets))
    coll = tuple(collateral_value(x, a, a.hc_mm) for x, a in zip(split, book.assets))
    return split, coll, sum(coll) + fp.BPS * sum(s.qty * s.mark for s in book.slots)


def cross_margin(book: Book, threshold_bps: int = FULL_HEALTH_BPS) -> CrossResult:
    """Compute cross margin of a resolved book; ``threshold_bps`` is the claimed health."""
    fp.THRESHOLD.check("threshold_bps", threshold_bps)
    split, coll, equity = pool_equity(book)
    alone = [standalone_requirement(s) for s in book.slots]
    abs_q = tuple(abs(s.qty) for s in book.slots)
    addon = tuple(a * s.addon for a, s in zip(abs_q, book.slots))
    im = sum(x.req for x in alone) + sum(addon)
    mm = im * book.mm_factor_bps
    return CrossResult(
        equity=equity, im=im, mm=mm, threshold_bps=threshold_bps, health=health(equity, mm, threshold_bps),
        position_value=tuple(s.qty * s.mark for s in book.slots), abs_qty=abs_q,
        short_qty=tuple(max(-s.qty, 0) for s in book.slots), addon=addon,
        collateral_split=split, collateral_value=coll,
        position_loss=tuple(x.loss for x in alone), position_som=tuple(x.som for x in alone),
        position_req=tuple(x.req for x in alone))
