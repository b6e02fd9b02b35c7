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
from zkmargin.terms import FULL_HEALTH_BPS, Pooled, health, pooled_terms, standalone_requirement


@dataclass(frozen=True)
class CrossResult(Pooled):
    """Every intermediate of the cross-margin computation (VALUE / EQUITY scales as portfolio)."""

    position_loss: tuple[int, ...]
    position_som: tuple[int, ...]
    position_req: tuple[int, ...]


def cross_margin(book: Book, threshold_bps: int = FULL_HEALTH_BPS) -> CrossResult:
    """Compute cross margin of a resolved book; ``threshold_bps`` is the claimed health."""
    fp.THRESHOLD.check("threshold_bps", threshold_bps)
    pooled = pooled_terms(book)
    alone = [standalone_requirement(s) for s in book.slots]
    im = sum(x.req for x in alone) + sum(pooled["addon"])
    mm = im * book.mm_factor_bps
    return CrossResult(
        **pooled, im=im, mm=mm, threshold_bps=threshold_bps, health=health(pooled["equity"], mm, threshold_bps),
        position_loss=tuple(x.loss for x in alone), position_som=tuple(x.som for x in alone),
        position_req=tuple(x.req for x in alone))
