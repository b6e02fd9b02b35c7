"""Portfolio margin of many books at once with numpy: the scalar engine's integers, exactly.

:func:`portfolio_margin_batch` returns, for every book, the same ``equity``, ``equity_im``,
``scan_loss``, ``worst_scenario``, ``group_som``, ``group_req``, ``im``, ``mm`` and ``health`` as
:func:`zkmargin.portfolio.portfolio_margin` (the executable specification), integer for integer.

Layout. Empty slots (quantity 0) and zero balances contribute nothing, so they are dropped; the
remaining slots of the whole batch are sorted into runs of equal (book, group) and every per-slot
product is summed per run with ``np.add.reduceat``; the runs are then spread into dense
``(book, group)`` arrays. The work grows with the positions held, not with the padded shape.

Exactness. The values exceed int64 (a group's P&L reaches ``64 * 2**47 * 2**47 = 2**100``), so
every product is formed from base ``2**24`` limbs held in int64 arrays:

* a 48-bit input (quantity, risk, mark, add-on, short-option minimum) is two limbs, the low one
  in ``[0, 2**24)``, the top one ``x >> 24`` in ``[-2**23, 2**23)``;
* a collateral tier amount (of a credit, ``< 2**64``, uint64) and ``price * (10000 - haircut)`` (``< 2**62``)
  are three limbs each, the top ones below ``2**16`` and ``2**14``;
* a limb product is below ``2**48``; an output limb adds at most :data:`LIMB_TERMS` products per
  term and a book adds at most :data:`MAX_TERMS` terms (its slots, or its assets x tiers), so
  every limb sum stays below ``2**63`` (:func:`check_limb_overflow`, run at import).

Comparisons (the worst scenario) run on carried limbs, lexicographically from the top limb, so
they are exact; only reduced per-run and per-book values become Python ints (numpy object arrays),
on which the last few sums and products (requirement, IM, MM, health) are computed.

Add-ons netted per net-naked-short key (options only, few per book) are summed per book in
Python ints with the scalar engine's own functions (``terms.slot_addons``); the packed add-on
column carries the unkeyed slots' add-ons only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import chain, compress, repeat
from operator import attrgetter
from typing import Any

import numpy as np
import numpy.typing as npt

from zkmargin import fixedpoint as fp
from zkmargin.book import AssetTerms, Book
from zkmargin.errors import BoundError
from zkmargin.portfolio import FULL_HEALTH_BPS
from zkmargin.terms import naked_shorts, slot_addons

#: Bits per limb.
LIMB_BITS = 24
#: Most products added into one output limb of a limb multiplication (3-limb by 3-limb operands).
LIMB_TERMS = 3
#: Most terms summed per book: its position slots, or its assets x haircut tiers (16 x 4).
MAX_TERMS = fp.MAX_POSITIONS

_MASK = (1 << LIMB_BITS) - 1
_BASE = 1 << LIMB_BITS
_U64_MAX = np.iinfo(np.uint64).max
_I64_MAX = np.iinfo(np.int64).max

Array = npt.NDArray[Any]
IntArray = npt.NDArray[np.int64]
ObjectArray = npt.NDArray[np.object_]
#: Little-endian base-2**24 digits of an integer array: ``value = sum(limbs[k] << 24 * k)``.
Limbs = list[IntArray]


def check_limb_overflow() -> None:
    """Prove that no limb sum can leave int64; raise ValueError with the numbers if not."""
    worst = MAX_TERMS * LIMB_TERMS * (1 << (2 * LIMB_BITS))
    if worst >= 1 << 63:
        raise ValueError(f"limb sums reach 2**{worst.bit_length()}: shrink LIMB_BITS={LIMB_BITS}")
    if fp.MAX_ASSETS * 4 > MAX_TERMS:
        raise ValueError(f"{fp.MAX_ASSETS} assets x 4 tiers exceed MAX_TERMS={MAX_TERMS}")


check_limb_overflow()


@dataclass(frozen=True)
class MarginBatch:
    """Key outputs of portfolio margin for a batch: entry ``b`` of each field equals the field of
    the same name of ``portfolio_margin(books[b], threshold_bps)`` (scales as in MarginResult)."""

    threshold_bps: int
    equity: tuple[int, ...]                      # EQUITY_SCALE
    equity_im: tuple[int, ...]                   # EQUITY_SCALE
    scan_loss: tuple[tuple[int, ...], ...]       # VALUE_SCALE, per group of each book
    worst_scenario: tuple[tuple[int, ...], ...]  # scenario index, -1 when the group has no loss
    group_som: tuple[tuple[int, ...], ...]       # VALUE_SCALE
    group_req: tuple[tuple[int, ...], ...]       # VALUE_SCALE
    im: tuple[int, ...]                          # VALUE_SCALE
    mm: tuple[int, ...]                          # EQUITY_SCALE
    health: tuple[int, ...]                      # EQUITY_SCALE * BPS

    def __len__(self) -> int:
        return len(self.equity)

    @property
    def healthy(self) -> tuple[bool, ...]:
        """Per book: does ``equity * 10000 >= MM * threshold_bps`` hold?"""
        return tuple(h >= 0 for h in self.health)


# ---- exact limb arithmetic ----
def _split(x: Array, n: int) -> Limbs:
    """``n`` limbs of ``x``: all but the top in ``[0, 2**24)``, the top one carries the sign."""
    low = [((x >> (LIMB_BITS * k)) & _MASK).astype(np.int64, copy=False) for k in range(n - 1)]
    return low + [(x >> (LIMB_BITS * (n - 1))).astype(np.int64, copy=False)]


def _multiply(a: Limbs, b: Limbs) -> Limbs:
    """Limbs of the elementwise product (broadcasting): the convolution of the limb lists."""
    out: dict[int, IntArray] = {}
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            out[i + j] = out[i + j] + x * y if i + j in out else x * y
    return [out[k] for k in range(len(a) + len(b) - 1)]


def _map(limbs: Limbs, f: Callable[[IntArray], IntArray]) -> Limbs:
    return [f(limb) for limb in limbs]


def _carry(limbs: Limbs) -> Limbs:
    """The canonical limbs of the same values: all but the top in ``[0, 2**24)``."""
    out: Limbs = []
    carry: IntArray | int = 0
    for limb in limbs[:-1]:
        t = limb + carry
        out.append(t & _MASK)
        carry = t >> LIMB_BITS
    return out + [limbs[-1] + carry]


def _to_int(limbs: Limbs) -> ObjectArray:
    """The exact values as Python ints (object array)."""
    acc: ObjectArray = limbs[-1].astype(object)
    for limb in reversed(limbs[:-1]):
        acc = acc * _BASE + limb.astype(object)
    return acc


def _first_argmin(limbs: Limbs) -> npt.NDArray[np.intp]:
    """Index of the first minimum along axis 0 of canonical limbs (the top limb decides first)."""
    tie = np.ones(limbs[0].shape, dtype=bool)
    for limb in reversed(limbs):
        masked = np.where(tie, limb, _I64_MAX)
        tie &= masked == masked.min(axis=0)
    first: npt.NDArray[np.intp] = tie.argmax(axis=0)
    return first


# ---- runs of equal keys ----
@dataclass(frozen=True)
class _Runs:
    """Runs of equal values in a sorted key array: where each run starts and its key."""

    starts: npt.NDArray[np.intp]
    keys: IntArray
    size: int  # number of possible keys (the length of a spread array)

    @classmethod
    def of(cls, sorted_keys: IntArray, size: int) -> _Runs:
        # prepend a value different from the first key, so that a run starts at index 0
        starts = np.flatnonzero(np.diff(sorted_keys, prepend=sorted_keys[:1] - 1))
        return cls(starts, sorted_keys[starts], size)

    def sums(self, limbs: Limbs) -> Limbs:
        """Per run, the sum over its items (the last axis)."""
        return _map(limbs, lambda limb: np.add.reduceat(limb, self.starts, axis=-1))

    def spread(self, values: Array, fill: int) -> Array:
        """A dense array over all keys: the run values at their keys, ``fill`` elsewhere."""
        out = np.full(self.size, fill, dtype=values.dtype)
        out[self.keys] = values
        return out


def _check(name: str, values: IntArray | ObjectArray, bound: fp.Bound) -> None:
    """Refuse values outside the bound the limb argument assumes (the scalar path has no limit)."""
    if values.size and not bound.lo <= values.min() <= values.max() <= bound.hi:
        bad = values.min() if values.min() < bound.lo else values.max()
        raise BoundError(name, int(bad), bound.describe())


def _check_terms(name: str, per_book: int) -> None:
    if per_book > MAX_TERMS:
        raise BoundError(name, per_book, f"at most {MAX_TERMS} per book keep the limb sums exact")


def _column(items: Sequence[object], name: str) -> IntArray:
    """One int attribute of every item as an array (creates no per-item Python containers)."""
    return np.fromiter(map(attrgetter(name), items), dtype=np.int64, count=len(items))


# ---- the batch, packed ----
@dataclass(frozen=True)
class _Slots:
    """The batch's slots with a non-zero quantity, sorted into runs of (book, group column).

    Column 0 collects slots without a group (they count in equity, not in any scan); column
    ``g + 1`` is ``book.group_ids[g]``. Slots lie along the last axis.
    """

    runs: _Runs
    qty: IntArray    # (N,) QTY_SCALE
    mark: IntArray   # (N,) PRICE_SCALE
    addon: IntArray  # (N,) PRICE_SCALE, 0 for a slot with a net-naked-short key (see _keyed_addons)
    som: IntArray    # (N,) PRICE_SCALE
    risk: IntArray   # (S, N) PRICE_SCALE


def _pack_slots(books: Sequence[Book], columns: int) -> _Slots:
    counts = [len(b.slots) for b in books]
    _check_terms("position slots", max(counts))
    every = list(chain.from_iterable(map(attrgetter("slots"), books)))
    qty = _column(every, "qty")
    group = np.fromiter(chain.from_iterable(map(attrgetter("slot_group"), books)), dtype=np.int64, count=len(every))
    live = qty != 0
    slots = list(compress(every, live.tolist()))
    key = (np.repeat(np.arange(len(books)), counts) * columns + group + 1)[live]
    order = np.argsort(key, kind="stable")
    risks = list(map(attrgetter("risk"), slots))
    row_of = {r: k for k, r in enumerate(dict.fromkeys(risks))}  # one table row per distinct risk array
    table = np.zeros((max([1, *map(len, row_of)]), len(row_of)), dtype=np.int64)
    for risk, k in row_of.items():
        table[:len(risk), k] = risk
    # Trailing scenarios with zero risk everywhere (profile padding) have P&L 0 for every group: they
    # can neither raise a scanning loss nor be its worst scenario (a loss needs a negative P&L).
    table = table[:max(1, int(np.flatnonzero(table.any(axis=1)).max(initial=0)) + 1)]
    row = np.fromiter(map(row_of.__getitem__, risks), dtype=np.intp, count=len(slots))
    addon = _column(slots, "addon")
    _check("addon", addon, fp.ADDON)
    unkeyed = _column(slots, "naked_key") == 0
    packed = _Slots(_Runs.of(key[order], len(books) * columns), qty[live][order], _column(slots, "mark")[order],
                    (addon * unkeyed)[order], _column(slots, "som")[order], table[:, row[order]])
    _check("quantity", packed.qty, fp.QTY)
    _check("mark", packed.mark, fp.MARK)
    _check("short_option_min", packed.som, fp.SOM)
    _check("risk", table, fp.RISK)
    return packed


def _collateral_values(books: Sequence[Book]) -> tuple[ObjectArray, ObjectArray]:
    """Collateral after MM and after IM haircuts per book, EQUITY_SCALE: ``sum_k balance_value_k``
    (:func:`zkmargin.terms.balance_value`): a credit after its tiered haircuts, a debt at full price."""
    assets = list(chain.from_iterable(map(attrgetter("assets"), books)))
    balances = list(chain.from_iterable(map(attrgetter("balances"), books)))
    if len(assets) != len(balances):
        raise ValueError("every book needs exactly one balance per asset slot")
    _check("balance", np.array([min(balances, default=0), max(balances, default=0)], dtype=object), fp.BALANCE)
    of_book = np.repeat(np.arange(len(books)), [len(b.assets) for b in books])
    debts = _debts(balances, assets, of_book, len(books))
    # the credits (a debt's tiers are empty); balances exceed int64 either way, so no signed array
    every_balance = np.fromiter(map(max, balances, repeat(0)), dtype=np.uint64, count=len(balances))
    nonzero = every_balance != 0
    book = of_book[nonzero]
    held = list(compress(assets, nonzero.tolist()))
    balance = every_balance[nonzero]
    n_tiers = np.fromiter(map(len, map(attrgetter("tier_from"), held)), dtype=np.intp, count=len(held))
    width = max([1, *n_tiers.tolist()])
    _check_terms("assets x tiers", int(np.bincount(book, minlength=1).max(initial=0)) * width)
    valid = np.arange(width) < n_tiers[:, None]

    def tiers(name: str, dtype: type[np.generic]) -> Array:
        out = np.zeros((len(held), width), dtype=dtype)
        out[valid] = np.fromiter(chain.from_iterable(map(attrgetter(name), held)), dtype=dtype, count=int(valid.sum()))
        return out

    # A tier holds clip(balance, start, next start) - start; padding tiers start at the top of uint64.
    lo = np.where(valid, tiers("tier_from", np.uint64), _U64_MAX)
    hi = np.concatenate([lo[:, 1:], np.full((len(held), 1), _U64_MAX, dtype=np.uint64)], axis=1)
    amount = _split(np.clip(balance[:, None], lo, hi) - lo, 3)
    price = _column(held, "price")[:, None]
    runs = _Runs.of(book, len(books))

    def value(haircuts: Array) -> ObjectArray:
        per_asset = _map(_multiply(amount, _split(price * (fp.BPS - haircuts), 3)), lambda x: x.sum(axis=1))
        return _to_int(_map(runs.sums(per_asset), lambda x: runs.spread(x, 0))) + debts

    return value(tiers("hc_mm", np.int64)), value(tiers("hc_im", np.int64))


def _debts(balances: Sequence[int], assets: Sequence[AssetTerms], of_book: IntArray, n_books: int) -> ObjectArray:
    """Per book, its debts at full price, EQUITY_SCALE: ``sum_k price_k * min(balance_k, 0) * 10000``
    (<= 0; Python ints: debts are few, and ``2**64 * 2**48`` leaves int64)."""
    out: ObjectArray = np.zeros(n_books, dtype=object)
    for k, balance in enumerate(balances):
        if balance < 0:
            out[of_book[k]] += assets[k].price * balance * fp.BPS
    return out


def _keyed_addons(books: Sequence[Book]) -> ObjectArray:
    """Per book, the add-ons of its slots with a net-naked-short key (VALUE_SCALE, Python ints)."""
    out: ObjectArray = np.zeros(len(books), dtype=object)
    for b, book in enumerate(books):
        keyed = tuple(s for s in book.slots if s.naked_key)
        if keyed:
            out[b] = sum(slot_addons(keyed, naked_shorts(keyed)))
    return out


def _rows(values: Array, lengths: Sequence[int]) -> tuple[tuple[int, ...], ...]:
    return tuple(tuple(row[:n]) for row, n in zip(values.tolist(), lengths))


def portfolio_margin_batch(books: Sequence[Book], threshold_bps: int = FULL_HEALTH_BPS) -> MarginBatch:
    """Portfolio margin of every book (shapes may differ) at the claimed health ``threshold_bps``.

    Equal, field by field, to :func:`zkmargin.portfolio.portfolio_margin` on each book. Raises
    :class:`BoundError` for a book value outside the fixed-point bounds or the limb argument.
    """
    fp.THRESHOLD.check("threshold_bps", threshold_bps)
    if not books:
        return MarginBatch(threshold_bps, (), (), (), (), (), (), (), (), ())
    group_counts = [len(b.group_ids) for b in books]
    columns = 1 + max(group_counts)
    slots = _pack_slots(books, columns)
    runs = slots.runs

    def per_group(values: Array, fill: int) -> Array:
        return runs.spread(values, fill).reshape(len(books), columns)[:, 1:]

    def per_book(limbs: Limbs) -> ObjectArray:
        return _to_int(_map(runs.sums(limbs), lambda x: runs.spread(x, 0).reshape(len(books), columns).sum(axis=1)))

    q = _split(slots.qty, 2)
    pnl = _carry(runs.sums(_multiply(q, _split(slots.risk, 2))))  # (S, runs)
    worst = _first_argmin(pnl)
    lowest = _map(pnl, lambda x: np.take_along_axis(x, worst[None, :], axis=0)[0])
    losing = lowest[-1] < 0  # canonical limbs: the top limb carries the sign
    loss = per_group(np.where(losing, -_to_int(lowest), 0), 0)
    worst_scenario = per_group(np.where(losing, worst, -1), -1)
    som = per_group(_to_int(runs.sums(_multiply(_split(np.maximum(-slots.qty, 0), 2), _split(slots.som, 2)))), 0)
    value = per_book(_multiply(q, _split(slots.mark, 2)))
    addon = per_book(_multiply(_split(np.abs(slots.qty), 2), _split(slots.addon, 2))) + _keyed_addons(books)

    coll_mm, coll_im = _collateral_values(books)
    equity = coll_mm + fp.BPS * value
    req = np.maximum(loss, som)
    im = req.sum(axis=1) + addon
    mm = im * np.array([b.mm_factor_bps for b in books], dtype=object)
    return MarginBatch(
        threshold_bps=threshold_bps,
        equity=tuple(equity.tolist()), equity_im=tuple((coll_im + fp.BPS * value).tolist()),
        scan_loss=_rows(loss, group_counts), worst_scenario=_rows(worst_scenario, group_counts),
        group_som=_rows(som, group_counts), group_req=_rows(req, group_counts),
        im=tuple(im.tolist()), mm=tuple(mm.tolist()),
        health=tuple((fp.BPS * equity - mm * threshold_bps).tolist()),
    )
