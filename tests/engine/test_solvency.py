"""The solvency chain's engine side: shortfall, totals, chain states (spec of circuits/lib/solvency.circom)."""

from __future__ import annotations

from pathlib import Path

import pytest

from zkmargin import fixedpoint as fp
from zkmargin.book import resolve
from zkmargin.io import load_model
from zkmargin.isolated import isolated_margin
from zkmargin.models import Account, RiskSnapshot
from zkmargin.poseidon import poseidon
from zkmargin.profiles import get_profile
from zkmargin.solvency import (
    AccountFigures,
    ChainState,
    Totals,
    account_figures,
    batch_count,
    chain_salt,
    chain_states,
    shortfall,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_shortfall_is_what_an_account_below_mm_lacks() -> None:
    assert [shortfall(e, m) for e, m in ((10, 7), (7, 7), (6, 7), (-5, 0), (-5, 3))] == [0, 0, 1, 5, 8]


def pooled(*margins: tuple[int, int]) -> list[AccountFigures]:
    return [AccountFigures.pooled(equity, mm) for equity, mm in margins]


def test_totals_count_accounts_below_mm_and_their_shortfall_only() -> None:
    totals = Totals()
    for account in pooled((10, 7), (7, 7), (-5, 3)):
        totals = totals.add(account)
    assert totals == Totals(accounts=3, below=1, equity=12, mm=17, shortfall=8)
    assert totals.fields() == [3, 1, 12, 17, 8] and Totals().add(*pooled((-5, 0))).fields()[2] == fp.R - 5
    assert Totals.from_json(totals.to_json()) == totals


def test_totals_from_json_refuse_non_integers() -> None:
    with pytest.raises(ValueError, match="integers"):
        Totals.from_json({**Totals().to_json(), "equity": "12"})


def test_the_state_commitment_is_poseidon_of_its_eight_fields() -> None:
    state = ChainState(5, 2, Totals(2, 1, -3, 4, 7), 99)
    assert state.commitment() == poseidon([5, 2, 2, 1, fp.R - 3, 4, 7, 99])
    assert ChainState.genesis(5).commitment() == poseidon([5, 0, 0, 0, 0, 0, 0, 0])


@pytest.mark.parametrize("n,batch,expected", [(0, 2, 1), (1, 2, 1), (4, 2, 2), (5, 2, 3), (25, 4, 7)])
def test_batches_cover_every_leaf(n: int, batch: int, expected: int) -> None:
    assert batch_count(n, batch) == expected


def test_chain_states_run_from_genesis_to_the_opened_totals() -> None:
    margins = pooled((10, 7), (6, 7), (-5, 3))
    states = chain_states(margins, 2, b"secret", epoch=1)
    assert states[0] == ChainState.genesis(3)
    assert [s.next for s in states] == [0, 2, 4]
    assert states[1].totals == Totals(2, 1, 16, 14, 1) and states[1].salt == chain_salt(b"secret", 1, 2) != 0
    assert states[-1] == ChainState(3, 4, Totals(3, 2, 11, 17, 9), 0)
    assert chain_states(margins, 2, b"other", epoch=1)[1].salt != states[1].salt


@pytest.mark.parametrize("name", ["naked_short_calls", "futures_basis_trade", "hedged_market_maker", "borrowed_cash"])
def test_isolated_figures_count_every_position_s_gap_and_the_debts(name: str) -> None:
    snapshot = load_model(RiskSnapshot, EXAMPLES / "snapshot_span16.json")
    account = load_model(Account, EXAMPLES / f"{name}.json")
    book = resolve(account, snapshot, get_profile("small"))
    result = isolated_margin(book)
    figures = account_figures(account, snapshot, get_profile("small"), "isolated")
    debts = sum(fp.BPS * a.price * min(b, 0) for a, b in zip(book.assets, book.balances))
    gaps = [max(0, m - e) for e, m in zip(result.slot_equity, result.slot_mm)]
    # below iff the isolated model refuses the account at 100 % of MM (a position short or a debt)
    assert figures.below == (result.health < 0) == (any(gaps) or debts < 0)
    assert (figures.equity, figures.mm, figures.shortfall) == (result.equity, result.mm, sum(gaps) - debts)
    assert figures.below or figures.shortfall == 0


def test_an_isolated_debt_alone_puts_the_account_below_mm() -> None:
    snapshot = load_model(RiskSnapshot, EXAMPLES / "snapshot_span16.json")
    account = load_model(Account, EXAMPLES / "borrowed_cash.json")
    no_positions = account.model_copy(update={"positions": []})
    figures = account_figures(no_positions, snapshot, get_profile("small"), "isolated")
    assert figures.below and figures.mm == 0 and figures.shortfall == -figures.equity > 0
