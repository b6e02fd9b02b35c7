"""What-if trades and the margin-minimising futures hedge, both computed by the engine.

* :func:`parse_trade` reads ``SYMBOL:QTY`` (``BTC-PERP:-2``: sell 2 contracts) against the
  snapshot's instruments; :func:`apply_trades` adds the trades to an account (a quantity that
  nets to 0 closes the position) and validates the result as an :class:`Account`.
* :func:`hedge` finds, per underlying, the quantity of its hedge instrument (the perp, else the
  nearest dated future) that minimises the account's portfolio MM. Groups never offset each other
  and add-ons are per position, so MM is a sum of per-group terms and the groups are searched one
  at a time. Within a group, MM as a function of the added quantity ``h`` is
  ``mm_factor * (max(som_g, max_s -(pnl_gs + h * risk_s), 0) + sum_i |q_i + [i = hedge] h| * addon_i + ...)``:
  a maximum of affine functions plus ``|.|`` terms, hence convex, and an integer ternary search
  over ``h`` finds its minimum exactly. Bounds: ``h`` in steps of :data:`HEDGE_STEP` (0.01
  contract) with ``|h| <= max(HEDGE_MIN_BOUND, HEDGE_BOUND_FACTOR * contracts held in the
  group)``. ``h = 0`` is always a candidate, so a hedge is never worse than none; among equal
  MMs the smallest ``|h|`` wins.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from zkmargin import fixedpoint as fp
from zkmargin.book import resolve
from zkmargin.errors import BoundError, InputError
from zkmargin.models import Account, Instrument, Kind, Position, RiskSnapshot
from zkmargin.portfolio import portfolio_margin

#: Search step of the hedge quantity: 0.01 contract (QTY_SCALE).
HEDGE_STEP = fp.QTY_SCALE // 100
#: The hedge may reach this many times the contracts held in its group...
HEDGE_BOUND_FACTOR = 10
#: ...and at least this many contracts.
HEDGE_MIN_BOUND = 100


@dataclass(frozen=True)
class Trade:
    """A what-if trade: add ``quantity`` (QTY_SCALE, signed) of an instrument."""

    instrument: int
    quantity: int


def parse_trade(text: str, snapshot: RiskSnapshot) -> Trade:
    """``SYMBOL:QTY`` (e.g. ``BTC-PERP:-2``) to a :class:`Trade`; :class:`InputError` if malformed."""
    symbol, sep, qty = text.rpartition(":")
    if not sep or not symbol:
        raise InputError(f"trade {text!r}: expected SYMBOL:QUANTITY, e.g. BTC-PERP:-2")
    ins = next((i for i in snapshot.instruments if i.symbol == symbol), None)
    if ins is None:
        raise InputError(f"trade {text!r}: no instrument {symbol} in snapshot {snapshot.venue} epoch {snapshot.epoch}")
    try:
        quantity = fp.QTY.check(f"trade {text!r} quantity", fp.parse_decimal(f"trade {text!r} quantity", qty,
                                                                             fp.QTY_SCALE))
    except BoundError as e:
        raise InputError(str(e)) from None
    return Trade(ins.id, quantity)


def apply_trades(account: Account, trades: Sequence[Trade]) -> Account:
    """``account`` with every trade added to its positions (allocations kept; 0 closes)."""
    qty = {p.instrument: p.quantity for p in account.positions}
    alloc = {p.instrument: p.allocation for p in account.positions}
    for t in trades:
        qty[t.instrument] = qty.get(t.instrument, 0) + t.quantity
    positions = []
    for i, q in qty.items():
        if q == 0:
            continue
        try:
            positions.append(Position.model_validate({"instrument": i, "quantity": fp.format_decimal(q, fp.QTY_SCALE),
                                                      "allocation": alloc.get(i)}))
        except ValueError as e:
            raise InputError(f"position in instrument {i} after the trades: {e}") from None
    return account.model_copy(update={"positions": positions})


def hedge_instrument(snapshot: RiskSnapshot, group: int) -> Instrument | None:
    """The group's perp, else its nearest dated future, else None."""
    linear = [i for i in snapshot.instruments if i.group == group and i.kind in (Kind.PERP, Kind.FUTURE)]
    return min(linear, key=lambda i: (i.kind is not Kind.PERP, i.expiry or "", i.id), default=None)


def argmin_convex(f: Callable[[int], int], lo: int, hi: int) -> int:
    """The integer of ``[lo, hi]`` nearest 0 among those minimising a convex ``f``.

    Ternary search keeps a minimiser inside ``[lo, hi]`` (for a convex function, ``f(a) > f(b)``
    with ``a < b`` rules out everything up to ``a``, and ``f(a) == f(b)`` puts a minimiser in
    ``[a, b]``). The minimisers of a convex function form an interval, and ``f`` is monotone on
    each side of it, so its ends are found by bisection and the answer is 0 clamped into it.
    """
    a_lo, a_hi = lo, hi
    while a_hi - a_lo > 2:
        a = a_lo + (a_hi - a_lo) // 3
        b = a_hi - (a_hi - a_lo) // 3
        if f(a) > f(b):
            a_lo = a + 1
        elif f(a) < f(b):
            a_hi = b - 1
        else:
            a_lo, a_hi = a, b
    best = min(range(a_lo, a_hi + 1), key=f)
    low = f(best)

    def edge(outside: int, inside: int) -> int:
        """The minimiser nearest ``outside``, knowing ``f(inside)`` is the minimum."""
        while abs(outside - inside) > 1:
            mid = (outside + inside) // 2
            outside, inside = (outside, mid) if f(mid) == low else (mid, inside)
        return outside if f(outside) == low else inside

    first, last = edge(lo, best), edge(hi, best)
    return min(max(0, first), last)


@dataclass(frozen=True)
class Hedge:
    """The MM-minimising trade in one group's hedge instrument (quantity 0: no improvement)."""

    group: int
    instrument: int
    quantity: int    # QTY_SCALE, added to the account
    bound: int       # QTY_SCALE: |quantity| was searched up to this
    mm_before: int   # EQUITY_SCALE, the whole account
    mm_after: int    # EQUITY_SCALE, the whole account with this group's hedge alone


def hedge(account: Account, snapshot: RiskSnapshot) -> list[Hedge]:
    """Per risk group held, the hedge of least MM (see the module docstring for the search)."""
    held = snapshot.instruments_by_id

    def mm(trades: Sequence[Trade]) -> int:
        return portfolio_margin(resolve(apply_trades(account, trades), snapshot)).mm

    base = mm(())
    out = []
    for group in sorted({held[p.instrument].group for p in account.positions}):
        ins = hedge_instrument(snapshot, group)
        if ins is None:
            continue
        contracts = sum(abs(p.quantity) for p in account.positions if held[p.instrument].group == group)
        bound = max(HEDGE_MIN_BOUND * fp.QTY_SCALE, HEDGE_BOUND_FACTOR * contracts)
        bound = min(bound, fp.QTY.hi) // HEDGE_STEP * HEDGE_STEP
        steps = argmin_convex(lambda k: mm([Trade(ins.id, k * HEDGE_STEP)]), -bound // HEDGE_STEP,
                              bound // HEDGE_STEP)
        quantity = steps * HEDGE_STEP
        out.append(Hedge(group, ins.id, quantity, bound, base, mm([Trade(ins.id, quantity)])))
    return out
