"""The net-naked-short add-on in the engine (``zkmargin.terms``, the spec of ``NakedAddons``):
options of one strike share a key; with one collateral pool their add-on is charged once on the
key's net short quantity, under isolated margin on each option's own short quantity."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from tests.factories import account_of, synthetic_snapshot
from zkmargin import fixedpoint as fp
from zkmargin.book import resolve
from zkmargin.cross import cross_margin
from zkmargin.isolated import isolated_margin
from zkmargin.models import Instrument, Kind, RiskSnapshot
from zkmargin.portfolio import portfolio_margin

C = fp.QTY_SCALE
SNAPSHOT = synthetic_snapshot(instruments=40, naked_keys=True)


def by_key() -> dict[int, list[Instrument]]:
    out: dict[int, list[Instrument]] = {}
    for ins in SNAPSHOT.instruments:
        if ins.naked_key:
            out.setdefault(ins.naked_key, []).append(ins)
    return out


PAIR = next(v for v in by_key().values() if len(v) == 2)
LONE = next(v[0] for v in by_key().values() if len(v) == 1)
FUTURE = next(i for i in SNAPSHOT.instruments if i.kind == Kind.FUTURE)


def test_a_strike_is_charged_once_on_its_net_short_and_other_slots_on_their_own() -> None:
    call, put = PAIR
    book = resolve(account_of({call.id: -5 * C, put.id: 2 * C, LONE.id: -C, FUTURE.id: -C}), SNAPSHOT)
    want = {call.id: 3 * C * call.addon, put.id: 0, LONE.id: C * LONE.addon, FUTURE.id: C * FUTURE.addon}
    for margin in (portfolio_margin, cross_margin):
        assert dict(zip((s.instrument for s in book.slots), margin(book).addon)) == want
    alone = {call.id: 5 * C * call.addon, put.id: 0, LONE.id: C * LONE.addon, FUTURE.id: C * FUTURE.addon}
    assert dict(zip((s.instrument for s in book.slots), isolated_margin(book).addon)) == alone


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(sorted(i.id for i in SNAPSHOT.instruments)),
                          st.integers(fp.QTY.lo, fp.QTY.hi).filter(bool)), max_size=12, unique_by=lambda p: p[0]))
def test_pooled_addons_are_the_net_short_per_key_and_never_above_the_gross(positions: list[tuple[int, int]]) -> None:
    book = resolve(account_of(dict(positions)), SNAPSHOT)
    result = portfolio_margin(book)
    net: dict[int, int] = {}
    want = 0
    for s in book.slots:
        if s.naked_key:
            net[s.naked_key] = net.get(s.naked_key, 0) + s.qty
        else:
            want += abs(s.qty) * s.addon
    addon = {s.naked_key: s.addon for s in book.slots}
    want += sum(max(-q, 0) * addon[k] for k, q in net.items())
    assert sum(result.addon) == want <= sum(abs(s.qty) * s.addon for s in book.slots)
    assert sum(result.addon) >= sum(isolated_margin(book).addon) - sum(
        max(-s.qty, 0) * s.addon for s in book.slots if s.naked_key)  # netting only removes shorts covered


def _edited(symbol: str, **update: object) -> dict[str, object]:
    data = SNAPSHOT.model_dump()
    for ins in data["instruments"]:
        if ins["symbol"] == symbol:
            ins.update(update)
    return data


@pytest.mark.parametrize("edit,message", [
    (lambda: _edited(FUTURE.symbol, naked_key=PAIR[0].naked_key), "only options are netted"),
    (lambda: _edited(PAIR[1].symbol, addon=PAIR[1].addon + 1), "group and addon must be equal"),
    (lambda: _edited(LONE.symbol, naked_key=PAIR[0].naked_key, addon=PAIR[0].addon, group=1 + PAIR[0].group % 3),
     "group and addon must be equal"),
    (lambda: _edited(LONE.symbol, naked_key=2**32), "naked_key"),
])
def test_the_snapshot_refuses_a_key_it_cannot_net(edit: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        RiskSnapshot.model_validate(edit())  # type: ignore[operator]
