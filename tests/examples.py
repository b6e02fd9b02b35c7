"""The shipped examples (examples/), loaded once per test session."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from zkmargin.io import load_model
from zkmargin.market import Market, load_market
from zkmargin.models import Account, RiskSnapshot

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
#: The small example accounts, healthy or not as their names say.
ACCOUNTS = ("hedged_market_maker", "naked_short_calls", "delta_neutral_straddle", "futures_basis_trade", "insolvent")


@cache
def example_market() -> Market:
    """examples/market.json."""
    return load_market(EXAMPLES / "market.json")


@cache
def example_snapshot(preset: str = "span16") -> RiskSnapshot:
    """The example snapshot built under ``preset``."""
    return load_model(RiskSnapshot, EXAMPLES / f"snapshot_{preset}.json")


@cache
def example_account(name: str) -> Account:
    """An example account by file stem."""
    return load_model(Account, EXAMPLES / f"{name}.json")
