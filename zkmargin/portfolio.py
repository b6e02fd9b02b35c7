"""Portfolio margin in integers: the executable specification of ``Margin(MODEL=0)`` (circuits/lib/margin.circom).

Every field of :class:`MarginResult` is a signal of the circuit with the same integer value (for
padded books). Formulas, with ``q`` a quantity (QTY_SCALE) and per-contract terms at PRICE_SCALE:

* position value       ``v_i = q_i * mark_i``                                        (VALUE)
* collateral split     ``a_kt = clamp(bal_k - from_kt, 0, from_k(t+1) - from_kt)``   (AMOUNT)
* collateral value     ``c_k = price_k * sum_t a_kt * (10000 - hc_kt)``             (EQUITY)
* equity               ``E = sum_k c_k + 10000 * sum_i v_i``                          (EQUITY)
* group P&L            ``pnl_gs = sum_{i in g} q_i * risk_is``                        (VALUE)
* scanning loss        ``L_g = max(0, max_s -pnl_gs)``                                (VALUE)
* short-option min.    ``som_g = sum_{i in g} max(0, -q_i) * som_i``                  (VALUE)
* group requirement    ``req_g = max(L_g, som_g)``                                    (VALUE)
* add-ons              ``addon_i = |q_i| * addon_i``; for options sharing a net-naked-short
                       key, ``max(0, -sum_key q) * addon`` on the key's first slot, 0 on the
                       others (``terms.slot_addons``)                                 (VALUE)
* IM                   ``IM = sum_g req_g + sum_i addon_i``                           (VALUE)
* MM                   ``MM = IM * mm_factor_bps``                                    (EQUITY)
* health              ``H = 10000 * E - MM * threshold_bps``; healthy iff ``H >= 0``  (EQUITY*BPS)

``E >= MM`` in real terms is ``E / 1e16 >= IM / 1e12 * mm / 1e4``, i.e. the integers compare
directly because EQUITY_SCALE = VALUE_SCALE * BPS. Nothing is ever divided.
"""

from __future__ import annotations

from dataclasses import dataclass

from zkmargin import fixedpoint as fp
from zkmargin.book import Book
from zkmargin.terms import FULL_HEALTH_BPS, Pooled, health, pooled_terms

__all__ = ["FULL_HEALTH_BPS", "MarginResult", "portfolio_margin"]


@dataclass(frozen=True)
class MarginResult(Pooled):
    """Every intermediate of the portfolio-margin computation (see the module docstring)."""

    group_pnl: tuple[tuple[int, ...], ...]
    scan_loss: tuple[int, ...]
    worst_scenario: tuple[int, ...]
    group_som: tuple[int, ...]
    group_req: tuple[int, ...]


def portfolio_margin(book: Book, threshold_bps: int = FULL_HEALTH_BPS) -> MarginResult:
    """Compute portfolio margin of a resolved book; ``threshold_bps`` is the claimed health."""
    fp.THRESHOLD.check("threshold_bps", threshold_bps)
    n_s = book.n_scenarios
    n_g = len(book.group_ids)
    pooled = pooled_terms(book)

    pnl = [[0] * n_s for _ in range(n_g)]
    som = [0] * n_g
    for s, g, sq in zip(book.slots, book.slot_group, pooled["short_qty"]):
        if g < 0:
            continue
        row = pnl[g]
        for k, r in enumerate(s.risk):
            row[k] += s.qty * r
        som[g] += sq * s.som
    loss, worst = [], []
    for row in pnl:
        w = min(range(n_s), key=lambda k: (row[k], k)) if n_s else -1
        worst_loss = -row[w] if n_s else 0
        loss.append(max(worst_loss, 0))
        worst.append(w if worst_loss > 0 else -1)
    req = tuple(max(x, y) for x, y in zip(loss, som))
    im = sum(req) + sum(pooled["addon"])
    mm = im * book.mm_factor_bps
    return MarginResult(
        **pooled, group_pnl=tuple(tuple(r) for r in pnl), scan_loss=tuple(loss), worst_scenario=tuple(worst),
        group_som=tuple(som), group_req=req, im=im, mm=mm, threshold_bps=threshold_bps,
        health=health(pooled["equity"], mm, threshold_bps),
    )
