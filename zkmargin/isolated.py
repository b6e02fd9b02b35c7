"""Isolated margin in integers: the executable specification of ``Margin(MODEL=2)`` (circuits/lib/margin.circom).

Each position carries its own collateral (``Position.allocation``: one asset, an amount) and must
meet its own MM with it: ``10000 * equity_i >= MM_i * threshold_bps`` for every slot, where
``equity_i`` is the allocation after MM haircuts (its own tiers, as a sub-account) plus the
position's mark value, and ``MM_i = (standalone requirement_i + add-on_i) * mm_factor_bps`` (a keyed option's add-on is
on its short quantity only: ``terms.own_addon``).
Collateral not allocated to any position counts for nothing. The account-level figures are sums;
``health`` is the weakest slot's.

Debts: no position's collateral backs a debt, and an asset with a negative balance cannot fund an
allocation, so an account with any debt fails the isolated model (``health`` is then at most the
debts' value at full price minus 1, negative; the circuit has no witness for it: ``balance - allocated`` of the
indebted asset is not a valid amount). Prove such an account under cross or portfolio margin.
"""

from __future__ import annotations

from dataclasses import dataclass

from zkmargin import fixedpoint as fp
from zkmargin.book import Book
from zkmargin.terms import (FULL_HEALTH_BPS, Health, collateral_split, collateral_value, health, own_addon,
                            standalone_requirement)


@dataclass(frozen=True)
class IsolatedResult(Health):
    """Every intermediate of the isolated computation, per position slot."""

    position_value: tuple[int, ...]
    addon: tuple[int, ...]
    alloc_split: tuple[tuple[int, ...], ...]
    alloc_value: tuple[int, ...]
    slot_equity: tuple[int, ...]
    position_loss: tuple[int, ...]
    position_som: tuple[int, ...]
    position_req: tuple[int, ...]
    slot_im: tuple[int, ...]
    slot_mm: tuple[int, ...]
    slot_health: tuple[int, ...]


def isolated_margin(book: Book, threshold_bps: int = FULL_HEALTH_BPS) -> IsolatedResult:
    """Compute isolated margin of a resolved book; every slot must meet ``threshold_bps``."""
    fp.THRESHOLD.check("threshold_bps", threshold_bps)
    assets = [book.assets[s.alloc_asset] for s in book.slots]
    split = tuple(collateral_split(s.alloc_amount, a.tier_from) for s, a in zip(book.slots, assets))
    value = tuple(collateral_value(x, a, a.hc_mm) for x, a in zip(split, assets))
    position_value = tuple(s.qty * s.mark for s in book.slots)
    slot_equity = tuple(v + fp.BPS * p for v, p in zip(value, position_value))
    alone = [standalone_requirement(s) for s in book.slots]
    addon = tuple(map(own_addon, book.slots))
    slot_im = tuple(x.req + a for x, a in zip(alone, addon))
    slot_mm = tuple(i * book.mm_factor_bps for i in slot_im)
    slot_health = tuple(health(e, m, threshold_bps) for e, m in zip(slot_equity, slot_mm))
    debts = sum(a.price * b * fp.BPS for a, b in zip(book.assets, book.balances) if b < 0)
    # any debt fails the model, even one priced at 0: strictly negative
    debt_health = (fp.BPS * debts - 1,) if any(b < 0 for b in book.balances) else ()
    return IsolatedResult(
        equity=sum(slot_equity) + debts, im=sum(slot_im), mm=sum(slot_mm), threshold_bps=threshold_bps,
        health=min((*slot_health, *debt_health), default=0),
        position_value=position_value, addon=addon, alloc_split=split, alloc_value=value,
        slot_equity=slot_equity, position_loss=tuple(x.loss for x in alone),
        position_som=tuple(x.som for x in alone), position_req=tuple(x.req for x in alone),
        slot_im=slot_im, slot_mm=slot_mm, slot_health=slot_health)
