"""The three margin models against each other (properties on random books)."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from tests.factories import random_account, synthetic_snapshot
from zkmargin.book import resolve
from zkmargin.cross import CrossResult
from zkmargin.isolated import IsolatedResult
from zkmargin.margin import MODELS, compare, margin_model
from zkmargin.portfolio import MarginResult

SNAPSHOT = synthetic_snapshot(instruments=30, groups=3, scenarios=16, assets=3)
seeds = st.integers(0, 2**32)


def _book(seed: int, positions: int):  # type: ignore[no-untyped-def]
    account = random_account(SNAPSHOT, random.Random(seed), positions=positions, max_groups=2, assets=3, allocate=True)
    return resolve(account, SNAPSHOT)


@given(seeds, st.integers(0, 8))
def test_portfolio_im_never_exceeds_cross_im(seed: int, positions: int) -> None:
    results = compare(_book(seed, positions)).results
    assert results["portfolio"].im <= results["cross"].im


@given(seeds, st.integers(0, 8))
def test_isolated_requirement_of_each_position_is_its_cross_standalone_requirement(seed: int, positions: int) -> None:
    results = compare(_book(seed, positions)).results
    cross, isolated = results["cross"], results["isolated"]
    assert isinstance(cross, CrossResult) and isinstance(isolated, IsolatedResult)
    assert isolated.position_req == cross.position_req
    assert isolated.slot_im == tuple(r + a for r, a in zip(cross.position_req, cross.addon))
    assert isolated.im == cross.im and isolated.mm == cross.mm


@given(seeds)
def test_a_book_of_one_position_has_the_same_requirement_under_every_model(seed: int) -> None:
    results = compare(_book(seed, 1)).results
    assert len({r.im for r in results.values()}) == 1
    assert len({r.mm for r in results.values()}) == 1


@given(seeds, st.integers(1, 8))
def test_cross_loss_of_a_position_is_its_own_scan_over_the_scenarios(seed: int, positions: int) -> None:
    book = _book(seed, positions)
    cross = margin_model("cross")(book, 10_000)
    assert isinstance(cross, CrossResult)
    for slot, loss in zip(book.slots, cross.position_loss):
        assert loss == max(0, *(-slot.qty * r for r in slot.risk))


@given(seeds, st.integers(1, 8))
def test_isolated_equity_counts_only_allocated_collateral(seed: int, positions: int) -> None:
    account = random_account(SNAPSHOT, random.Random(seed), positions=positions, max_groups=2, assets=3)
    book = resolve(account, SNAPSHOT)  # balances, but no allocations
    isolated = margin_model("isolated")(book, 10_000)
    assert isinstance(isolated, IsolatedResult)
    assert isolated.alloc_value == (0,) * len(book.slots)
    assert isolated.equity == sum(10_000 * s.qty * s.mark for s in book.slots)
    assert isolated.healthy == all(h >= 0 for h in isolated.slot_health)


def test_every_model_is_registered_and_returns_its_result_type() -> None:
    book = _book(1, 3)
    types = {"portfolio": MarginResult, "cross": CrossResult, "isolated": IsolatedResult}
    assert set(MODELS) == set(types)
    for name, kind in types.items():
        assert isinstance(margin_model(name)(book, 10_000), kind)
