"""Standalone requirements of cross and isolated margin: the short-option minimum when it is above
the position's own scanning loss, and losses floored at 0 on one-signed risk arrays."""

from __future__ import annotations

import pytest

from tests.engine.test_portfolio import _snapshot
from tests.factories import account_of
from zkmargin.book import resolve
from zkmargin.cross import cross_margin
from zkmargin.isolated import isolated_margin
from zkmargin.portfolio import portfolio_margin

SHORT_OPTION = {"id": 1, "mark": 0, "addon": 0, "short_option_min": 500_000, "risk": [-200_000, 100_000]}
"""P&L of one short: +0.2 / -0.1 USD, so its own loss is 0.1 USD, below its 0.5 USD minimum."""


@pytest.mark.parametrize("margin", [cross_margin, isolated_margin])
def test_a_short_option_minimum_above_the_own_loss_is_the_position_s_requirement(margin) -> None:  # type: ignore[no-untyped-def]
    result = margin(resolve(account_of({1: -10**6}), _snapshot([SHORT_OPTION], scenarios=2)))
    assert (result.position_loss[0], result.position_som[0], result.position_req[0]) == (10**11, 5 * 10**11, 5 * 10**11)
    assert result.im == 5 * 10**11


@pytest.mark.parametrize(("risk", "quantity", "loss"), [
    ([100_000, 300_000], 10**6, 0),            # every scenario a gain for a long: no loss, not -0.1
    ([100_000, 300_000], -10**6, 3 * 10**11),  # the same array short: the largest gain is its loss
    ([-100_000, -300_000], -10**6, 0),         # every scenario a gain for a short
    ([-100_000, -300_000], 10**6, 3 * 10**11),
])
def test_one_signed_risk_arrays_floor_the_loss_at_zero_in_every_model(risk: list[int], quantity: int, loss: int) -> None:
    book = resolve(account_of({1: quantity}), _snapshot([{**SHORT_OPTION, "short_option_min": 0, "risk": risk}], 2))
    assert cross_margin(book).position_loss == isolated_margin(book).position_loss == (loss,)
    assert cross_margin(book).im == isolated_margin(book).im == portfolio_margin(book).im == loss
    assert portfolio_margin(book).scan_loss == (loss,)
