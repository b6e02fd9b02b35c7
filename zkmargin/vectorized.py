"""Portfolio margin of many books at once with numpy: the scalar engine's integers, exactly.

:func:`portfolio_margin_batch` returns, for every book, the same ``equity``, ``equity_im``,
``scan_loss``, ``worst_scenario``, ``group_som``, ``group_req``, ``im``, ``mm`` and ``health`` as
:func:`zkmargin.portfolio.portfolio_margin` (the executable specification), integer for integer.

Exactness. The values exceed int64 (a group's P&L reaches ``64 * 2**47 * 2**47 = 2**100``), so
every product is formed from base ``2**24`` limbs held in int64 arrays:

* a 48-bit input (quantity, risk, mark, add-on, short-option minimum) is two limbs, the low one
  in ``[0, 2**24)``, the top one ``x >> 24`` in ``[-2**23, 2**23]``;
* a collateral tier amount (``< 2**64``, uint64) and ``price * (10000 - haircut)`` (``< 2**62``)
  are three limbs each, the top ones below ``2**16`` and ``2**14``;
* a limb product is below ``2**48``; an output limb adds at most :data:`LIMB_TERMS` products per
  term and a reduction adds at most :data:`MAX_REDUCED` terms (slots, or asset tiers), so every
  limb sum stays below ``2**63`` (checked at import, in :func:`_check_limb_overflow`).

Comparisons (the worst scenario) run on carried limbs, lexicographically from the top limb, so
they are exact; only the reduced per-book and per-group results become Python ints (numpy object
arrays), on which the final few sums and products (IM, MM, health) are computed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from zkmargin import fixedpoint as fp
from zkmargin.book import AssetTerms, Book
from zkmargin.errors import BoundError

#: Bits per limb.
LIMB_BITS = 24
#: Most products added into one output limb of a limb multiplication (3-limb by 3-limb operands).
LIMB_TERMS = 3
#: Most terms one reduction adds: position slots, or asset-tier pairs of a book.
MAX_REDUCED = max(fp.MAX_POSITIONS, fp.MAX_ASSETS * 4)

_MASK = (1 << LIMB_BITS) - 1
_BASE = 1 << LIMB_BITS
_U64_MAX = np.iinfo(np.uint64).max
_I64_MAX = np.iinfo(np.int64).max

Int64Array = npt.NDArray[np.int64]
ObjectArray = npt.NDArray[np.object_]
#: Little-endian base-2**24 digits of an integer array: ``value = sum(limbs[k] << 24 * k)``.
Limbs = list[Int64Array]


def _check_limb_overflow() -> None:
    """Prove that no limb sum can leave int64; raise ValueError with the numbers if not."""
    worst = MAX_REDUCED * LIMB_TERMS * (1 << (2 * LIMB_BITS))
    if worst >= 1 << 63:
        raise ValueError(f"limb sums reach 2**{worst.bit_length()}: shrink LIMB_BITS={LIMB_BITS}")


_check_limb_overflow()


@dataclass(frozen=True)
class MarginBatch:
    """Key outputs of portfolio margin for a batch; entry ``b`` of each field equals the field of
    the same name of ``portfolio_margin(books[b], threshold_bps)`` (scales as in MarginResult)."""

    threshold_bps: int
    equity: tuple[int, ...]                      # EQUITY_SCALE
    equity_im: tuple[int, ...]                   # EQUITY_SCALE
    scan_loss: tuple[tuple[int, ...], ...]       # VALUE_SCALE, per group of each book
    worst_scenario: tuple[tuple[int, ...], ...]  # scenario index, -1 when no loss
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


def _split(x: npt.NDArray[np.int64] | npt.NDArray[np.uint64], n: int) -> Limbs:
    """``n`` limbs of ``x``: all but the top in ``[0, 2**24)``, the top one carries the sign."""
    low = [((x >> (LIMB_BITS * k)) & _MASK).astype(np.int64) for k in range(n - 1)]
    return low + [(x >> (LIMB_BITS * (n - 1))).astype(np.int64)]


def _multiply(a: Limbs, b: Limbs, op: Callable[[Int64Array, Int64Array], Int64Array] = np.multiply) -> Limbs:
    """Limbs of ``op(a, b)`` for a bilinear ``op`` (elementwise product or matmul): a convolution."""
    return [sum(op(a[i], b[k - i]) for i in range(max(0, k - len(b) + 1), min(k, len(a) - 1) + 1))
            for k in range(len(a) + len(b) - 1)]


def _reduce(limbs: Limbs, axis: int | tuple[int, ...]) -> Limbs:
    return [limb.sum(axis=axis) for limb in limbs]


def _carry(limbs: Limbs) -> Limbs:
    """The canonical limbs of the same values: all but the top in ``[0, 2**24)``."""
    out: Limbs = []
    carry: Int64Array | int = 0
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
    """Index of the first minimum along the last axis of canonical limbs (top limb decides first)."""
    tie = np.ones(limbs[0].shape, dtype=bool)
    for limb in reversed(limbs):
        masked = np.where(tie, limb, _I64_MAX)
        tie &= masked == masked.min(axis=-1, keepdims=True)
    return tie.argmax(axis=-1)


def _pad(flat: npt.NDArray[np.generic], counts: Sequence[int], width: int) -> npt.NDArray[np.generic]:
    """Rows of ``counts[b]`` consecutive items of ``flat``, zero-padded to ``width`` items."""
    out = np.zeros((len(counts), width, *flat.shape[1:]), dtype=flat.dtype)
    out[np.arange(width) < np.asarray(counts)[:, None]] = flat
    return out


def _check(name: str, values: Int64Array, bound: fp.Bound) -> None:
    """Refuse values outside the bound the limb argument assumes (the scalar path has no limit)."""
    if values.size and (values.min() < bound.lo or values.max() > bound.hi):
        bad = values.min() if values.min() < bound.lo else values.max()
        raise BoundError(name, int(bad), bound.describe())


@dataclass(frozen=True)
class _Slots:
    """Position slots of the batch padded to a common shape (empty slots: quantity 0)."""

    qty: Int64Array     # (B, P) QTY_SCALE
    group: Int64Array   # (B, P) index into the book's group_ids, -1 for an empty slot
    mark: Int64Array    # (B, P) PRICE_SCALE
    addon: Int64Array   # (B, P) PRICE_SCALE
    som: Int64Array     # (B, P) PRICE_SCALE
    risk: Int64Array    # (B, P, S) PRICE_SCALE


def _pack_slots(books: Sequence[Book]) -> _Slots:
    """Gather the slots; risk arrays are deduplicated (one table row per distinct array)."""
    row_of: dict[tuple[int, ...], int] = {}
    flat = np.array([(s.qty, g, s.mark, s.addon, s.som, row_of.setdefault(s.risk, len(row_of)))
                     for b in books for s, g in zip(b.slots, b.slot_group)], dtype=np.int64).reshape(-1, 6)
    counts = [len(b.slots) for b in books]
    padded = _pad(flat, counts, max([1, *counts]))
    if padded.shape[1] > MAX_REDUCED:
        raise BoundError("position slots", padded.shape[1], f"must be at most {MAX_REDUCED}")
    # One spare zero row, so that the table is never empty; padding slots have quantity 0.
    table = np.zeros((len(row_of) + 1, max([1, *map(len, row_of)])), dtype=np.int64)
    for risk, k in row_of.items():
        table[k, :len(risk)] = risk
    slots = _Slots(padded[..., 0], padded[..., 1], padded[..., 2], padded[..., 3], padded[..., 4],
                   table[padded[..., 5]])
    _check("quantity", slots.qty, fp.QTY)
    _check("mark", slots.mark, fp.MARK)
    _check("addon", slots.addon, fp.ADDON)
    _check("short_option_min", slots.som, fp.SOM)
    _check("risk", table, fp.RISK)
    return slots


def _collateral_values(books: Sequence[Book]) -> tuple[ObjectArray, ObjectArray]:
    """Collateral after MM and IM haircuts per book, EQUITY_SCALE (``sum_k c_k`` of the spec)."""
    row_of: dict[AssetTerms, int] = {}
    rows = [row_of.setdefault(a, len(row_of)) for b in books for a in b.assets]
    counts = [len(b.assets) for b in books]
    balance = _pad(np.array([x for b in books for x in b.balances], dtype=np.uint64), counts, max([1, *counts]))
    asset = _pad(np.array(rows, dtype=np.intp), counts, balance.shape[1])
    n_tiers = max([1, *(len(a.tier_from) for a in row_of)])
    if balance.shape[1] * n_tiers > MAX_REDUCED:
        raise BoundError("assets x tiers", balance.shape[1] * n_tiers, f"must be at most {MAX_REDUCED}")
    # Padding tiers start at the top of uint64 with no width: they always hold 0.
    tier_from = np.full((len(row_of) + 1, n_tiers), _U64_MAX, dtype=np.uint64)
    tier_cap = np.zeros_like(tier_from)
    factor_mm = np.zeros((len(row_of) + 1, n_tiers), dtype=np.int64)
    factor_im = np.zeros_like(factor_mm)
    for a, k in row_of.items():
        n = len(a.tier_from)
        tier_from[k, :n] = a.tier_from
        tier_cap[k, :n] = [hi - lo for lo, hi in zip(a.tier_from, a.tier_from[1:])] + [_U64_MAX]
        factor_mm[k, :n] = [a.price * (fp.BPS - h) for h in a.hc_mm]
        factor_im[k, :n] = [a.price * (fp.BPS - h) for h in a.hc_im]
    # Unlisted (padding) assets use the zero row: factor 0, so they are worth nothing.
    asset = np.where(np.arange(balance.shape[1]) < np.asarray(counts)[:, None], asset, len(row_of))
    lo = tier_from[asset]
    split = np.minimum(np.maximum(balance[..., None], lo) - lo, tier_cap[asset])
    amount = _split(split, 3)

    def value(factor: Int64Array) -> ObjectArray:
        return _to_int(_reduce(_multiply(amount, _split(factor[asset], 3)), (1, 2)))

    return value(factor_mm), value(factor_im)


def _scan(slots: _Slots, n_groups: int) -> tuple[ObjectArray, npt.NDArray[np.intp], ObjectArray]:
    """Per group: scanning loss and worst scenario (VALUE_SCALE), and the short-option minimum."""
    sel = (slots.group[:, None, :] == np.arange(n_groups)[None, :, None]).astype(np.int64)  # (B, G, P)
    q = _split(slots.qty, 2)
    pnl = _carry(_multiply([sel * limb[:, None, :] for limb in q], _split(slots.risk, 2), np.matmul))
    worst = _first_argmin(pnl)
    lowest = [np.take_along_axis(limb, worst[..., None], axis=-1)[..., 0] for limb in pnl]
    losing = lowest[-1] < 0  # canonical limbs: the sign is the top limb's
    loss = np.where(losing, -_to_int(lowest), 0)
    short = _split(np.maximum(-slots.qty, 0), 2)
    som = _to_int([np.einsum("bgp,bp->bg", sel, limb) for limb in _multiply(short, _split(slots.som, 2))])
    return loss, np.where(losing, worst, -1), som


def _rows(values: npt.NDArray[np.generic], lengths: Sequence[int]) -> tuple[tuple[int, ...], ...]:
    return tuple(tuple(row[:n]) for row, n in zip(values.tolist(), lengths))


def portfolio_margin_batch(books: Sequence[Book], threshold_bps: int = 10_000) -> MarginBatch:
    """Portfolio margin of every book (shapes may differ) at the claimed health ``threshold_bps``.

    Equal, field by field, to :func:`zkmargin.portfolio.portfolio_margin` on each book. Raises
    :class:`BoundError` for a book value outside the fixed-point bounds.
    """
    fp.THRESHOLD.check("threshold_bps", threshold_bps)
    if not books:
        return MarginBatch(threshold_bps, (), (), (), (), (), (), (), (), ())
    slots = _pack_slots(books)
    group_counts = [len(b.group_ids) for b in books]
    loss, worst, som = _scan(slots, max([1, *group_counts]))

    q = _split(slots.qty, 2)
    value = _to_int(_reduce(_multiply(q, _split(slots.mark, 2)), 1))
    addon = _to_int(_reduce(_multiply(_split(np.abs(slots.qty), 2), _split(slots.addon, 2)), 1))
    coll_mm, coll_im = _collateral_values(books)
    equity = coll_mm + fp.BPS * value
    req = np.maximum(loss, som)
    im = req.sum(axis=1) + addon
    mm = im * np.array([b.mm_factor_bps for b in books], dtype=object)
    return MarginBatch(
        threshold_bps=threshold_bps,
        equity=tuple(equity.tolist()), equity_im=tuple((coll_im + fp.BPS * value).tolist()),
        scan_loss=_rows(loss, group_counts), worst_scenario=_rows(worst, group_counts),
        group_som=_rows(som, group_counts), group_req=_rows(req, group_counts),
        im=tuple(im.tolist()), mm=tuple(mm.tolist()),
        health=tuple((fp.BPS * equity - mm * threshold_bps).tolist()),
    )
