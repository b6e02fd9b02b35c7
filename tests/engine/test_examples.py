"""The shipped examples: up to date with examples/generate.py, valid, fitting their profiles, and
healthy (or not) as their names promise, under both scenario presets."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from functools import cache
from pathlib import Path
from types import ModuleType

import pytest

from zkmargin import fixedpoint as fp
from zkmargin.book import resolve
from zkmargin.io import load_model
from zkmargin.market import Market, load_market
from zkmargin.models import Account, Kind, RiskSnapshot
from zkmargin.models.types import format_holder
from zkmargin.portfolio import FULL_HEALTH_BPS, portfolio_margin
from zkmargin.profiles import PROFILES
from zkmargin.riskarrays import account_greeks
from zkmargin.venue import BOOK_FIELDS, read_ledger

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SMALL_ACCOUNTS = ("hedged_market_maker", "naked_short_calls", "delta_neutral_straddle", "futures_basis_trade",
                  "insolvent", "borrowed_cash")
LARGE_ACCOUNTS = ("large/hedged_market_maker_16",)
HEALTHY = {name: name != "insolvent" for name in SMALL_ACCOUNTS + LARGE_ACCOUNTS}
PRESETS = ("span16", "deribit")


@cache
def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("examples_generate", EXAMPLES / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@cache
def market() -> Market:
    return load_market(EXAMPLES / "market.json")


@cache
def snapshot(preset: str) -> RiskSnapshot:
    return load_model(RiskSnapshot, EXAMPLES / f"snapshot_{preset}.json")


@cache
def example(name: str) -> Account:
    return load_model(Account, EXAMPLES / f"{name}.json")


def test_generated_files_are_up_to_date() -> None:
    render: Callable[[], dict[Path, str]] = generator().render
    files = render()
    assert len(files) == len(PRESETS) + len(HEALTHY) + 1  # + ledger.jsonl
    for path, text in files.items():
        assert path.read_text() == text, f"{path.name} is stale: run examples/generate.py"


def test_the_ledger_holds_every_example_book_under_its_name_and_a_fixed_holder() -> None:
    entries = {e.account_id: e for e in read_ledger(EXAMPLES / "ledger.jsonl")}
    assert sorted(entries) == sorted(Path(n).name for n in HEALTHY)
    for name in HEALTHY:
        entry = entries[Path(name).name]
        assert Account.model_validate_json(entry.model_dump_json(include=BOOK_FIELDS)) == example(name)
        assert format_holder(entry.holder) == generator().example_holder(name)
    assert len({e.holder for e in entries.values()}) == len(entries)


def test_borrowed_cash_carries_a_debt() -> None:
    assert min(b.amount for b in example("borrowed_cash").balances) < 0


def test_market_is_a_realistic_btc_and_eth_book() -> None:
    m = market()
    assert 100 <= len(m.instruments) <= 300
    assert len(m.instruments) < 4 ** PROFILES["small"].depth  # 4-ary; leaf 0 is the null instrument
    spots = {u.name: u.spot for u in m.underlyings}
    assert 90_000 <= spots["BTC"] <= 100_000 and 3_000 <= spots["ETH"] <= 4_000
    for u in m.underlyings:
        kinds = {i.kind for i in m.instruments if i.group == u.id}
        assert kinds == set(Kind)
        expiries = {i.expiry for i in m.instruments if i.group == u.id and i.kind is Kind.CALL}
        assert len(expiries) >= 3
    assert [c.symbol for c in m.collateral[:3]] == ["USDC", "BTC", "ETH"]


@pytest.mark.parametrize("preset", PRESETS)
def test_snapshots_cover_the_market(preset: str) -> None:
    snap = snapshot(preset)
    assert {i.id for i in snap.instruments} == {i.id for i in market().instruments}
    assert len(snap.scenarios) == {"span16": 16, "deribit": 32}[preset]


@pytest.mark.parametrize("name", SMALL_ACCOUNTS)
def test_small_accounts_fit_the_small_profile_under_span16(name: str) -> None:
    acc = example(name)
    groups = {snapshot("span16").instruments_by_id[p.instrument].group for p in acc.positions}
    assert len(acc.positions) <= 4 and len(groups) <= 2 and all(b.asset <= 3 for b in acc.balances)
    resolve(acc, snapshot("span16"), PROFILES["small"])


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("name", SMALL_ACCOUNTS + LARGE_ACCOUNTS)
def test_every_account_fits_the_standard_profile(name: str, preset: str) -> None:
    standard = PROFILES["standard"]
    book = resolve(example(name), snapshot(preset), standard)  # BoundError / InputError if it does not fit
    assert len(book.slots) == standard.positions and len(book.group_ids) == standard.groups
    assert sum(slot.qty != 0 for slot in book.slots) == len(example(name).positions)


def test_the_large_book_needs_the_standard_profile() -> None:
    acc = example("large/hedged_market_maker_16")
    groups = {snapshot("span16").instruments_by_id[p.instrument].group for p in acc.positions}
    assert len(acc.positions) == 16 and 2 <= len(groups) <= 4


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("name", sorted(HEALTHY))
def test_health_matches_the_account_name(name: str, preset: str) -> None:
    result = portfolio_margin(resolve(example(name), snapshot(preset)), FULL_HEALTH_BPS)
    assert result.mm > 0
    assert result.healthy == HEALTHY[name], f"{name} under {preset}: health {result.health_bps} bps"
    if not HEALTHY[name]:
        assert result.health_bps is not None and result.health_bps < FULL_HEALTH_BPS // 2  # clearly below


@pytest.mark.parametrize("name", ["hedged_market_maker", "delta_neutral_straddle", "futures_basis_trade"])
def test_hedged_examples_are_nearly_delta_neutral(name: str) -> None:
    acc = example(name)
    gross = sum(abs(p.quantity) for p in acc.positions) / fp.QTY_SCALE  # contracts of one underlying unit
    for group, g in account_greeks(acc, market()).items():
        assert abs(g.delta) < 0.02 * gross, f"{name}: group {group} delta {g.delta:.3f}"
