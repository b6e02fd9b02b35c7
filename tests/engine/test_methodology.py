"""Methodology files: schema, presets, a venue's own file, and the properties every preset keeps."""

from __future__ import annotations

import json
import math
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from tests.engine.test_riskarrays import BASE, make_market, reference_black76
from zkmargin import fixedpoint as fp
from zkmargin.book import resolve
from zkmargin.cli import main
from zkmargin.errors import InputError
from zkmargin.io import load_model
from zkmargin.market import Market
from zkmargin.methodology import (Methodology, TermScaling, load_methodology, parse_methodology, preset_names,
                                  shocked_vol, vol_multipliers)
from zkmargin.models import Account, RiskSnapshot
from zkmargin.portfolio import portfolio_margin
from zkmargin.riskarrays import greeks, instrument_terms
from zkmargin.snapshot_builder import build_snapshot, load_market

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
DAY = 86_400

VENUE_TOML = """
name = "my-venue"
description = "a venue's own grid"
lookahead_days = "0.5"

[price_scan]
fraction = "0.1"

[underlyings.BTC]
amount = "12345.5"

[vol]
mode = "absolute"
up = "0.05"
down = "1"

[core]
steps = 2
vol = ["up", "down"]

[[tail]]
move = "-0.5"
weight = "0.25"

[addons]
contingency_by_kind = { perp = "0.00375" }
"""


def test_presets_ship_as_package_files_and_load() -> None:
    assert preset_names() == ["deribit", "derive-pmrm2", "span", "span16"]
    for name in preset_names():
        assert load_methodology(name).name == name


def test_a_venue_writes_its_own_file_in_toml_or_json(tmp_path: Path) -> None:
    toml = tmp_path / "venue.toml"
    toml.write_text(VENUE_TOML)
    method = load_methodology(toml)
    (tmp_path / "venue.json").write_text(method.model_dump_json())
    assert load_methodology(tmp_path / "venue.json") == method
    snap = build_snapshot(make_market(), method)
    # 5 price levels x 2 vol directions, then the tail; BTC's scan is an amount: 12345.5 / 100000
    assert [s.price_shock_bps for s in snap.scenarios] == [-1235, -1235, -617, -617, 0, 0, 617, 617, 1235, 1235, -5000]
    perp = snap.instruments_by_id[2]
    assert perp.risk[-1] == -100_000 * fp.PRICE_SCALE // 2 // 4  # -50 % at weight 1/4, at the spot
    assert perp.risk[0] == round(-12345.5 * fp.PRICE_SCALE)
    assert perp.addon == 375 * fp.PRICE_SCALE  # 0.375 % of 100000, not rounded to 38 bps


@pytest.mark.parametrize("text, message", [
    ('name = "x"\n[price_scan]\nfraction = 0.1\n[vol]\nup = "0"\ndown = "0"\n[core]\nsteps = 1\nvol = ["up"]',
     "floats are not exact"),
    ('name = "x"\n[price_scan]\nfraction = "0.1"\n[vol]\nup = "0"\ndown = "0"', "exactly one of \\[span\\] and \\[core\\]"),
    ('name = "x"\n[price_scan]\nfraction = "0.1"\namount = "5"\n[vol]\nup = "0"\ndown = "0"\n[span]',
     "exactly one of fraction and amount"),
    ('name = "x"\nspeed = "1"\n[price_scan]\nfraction = "0.1"\n[vol]\nup = "0"\ndown = "0"\n[span]',
     "speed: Extra inputs are not permitted"),
    ('name = "x"\n[price_scan', "malformed TOML"),
    ('name = "x"\ntail_linear_cap = true\n[price_scan]\nfraction = "0.1"\n[vol]\nup = "0"\ndown = "0"\n[span]',
     "tail_linear_cap needs a \\[core\\] grid"),
])
def test_methodology_files_are_validated_with_one_line(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_methodology(text, source="venue.toml", fmt="toml")


def test_an_unknown_underlying_or_a_move_below_minus_100_percent_is_refused() -> None:
    method = load_methodology("span16")
    with pytest.raises(InputError, match="no underlying named DOGE"):
        build_snapshot(make_market(), method.model_copy(update={"underlyings": {"DOGE": method.price_scan}}))
    wide = method.model_copy(update={"price_scan": method.price_scan.model_copy(update={"fraction": Decimal("0.6")})})
    with pytest.raises(InputError, match="moves must exceed -1"):
        build_snapshot(make_market(), wide)  # the extreme move is 2 x 60 %


# ---- market data at real precision ----

def test_expiries_count_seconds_not_days() -> None:
    # a 9.2-day option: valued at 9.2 days, not 9 or 10
    edit = {"valuation_time": "2025-01-01T04:48:00Z",
            "instruments": [dict(BASE["instruments"][5], expiry="2025-01-10T09:36:00Z", vol="0.6")]}
    market = make_market(edit)
    terms = instrument_terms(market)
    assert terms.seconds[0] == 794_880 and terms.years[0] == pytest.approx(9.2 / 365, rel=1e-15)
    snap = build_snapshot(market, "span16")
    f = 100_000 * math.exp(0.05 * 9.2 / 365)
    assert snap.instruments_by_id[6].mark == pytest.approx(
        reference_black76(f, 105_000, 9.2 / 365, 0.6, 0.05, False) * fp.PRICE_SCALE, abs=2)
    assert snap.instruments_by_id[6].expiry == "2025-01-10T09:36:00Z"


def test_a_perp_is_shocked_at_its_own_mark() -> None:
    perp = dict(BASE["instruments"][1], mark_price="100400")
    snap = build_snapshot(make_market({"instruments": [perp]}), "span16")
    up = next(k for k, s in enumerate(snap.scenarios) if s.price_shock_bps == 500)
    assert snap.instruments_by_id[2].risk[up] == 5020 * fp.PRICE_SCALE  # 5 % of 100400, not of the spot
    with pytest.raises(InputError, match="only perps have a mark_price"):
        make_market({"instruments": [dict(BASE["instruments"][2], mark_price="1")]})


INVERSE_PERP = {"id": 7, "symbol": "BTC-PERPETUAL", "kind": "perp", "group": 1, "multiplier": "10", "inverse": True,
                "settlement": "XYZ"}


def test_an_inverse_perp_pays_coins_valued_at_the_settlement_price() -> None:
    market = make_market({"instruments": [INVERSE_PERP]})
    snap = build_snapshot(market, "span16")
    coin = 0.9998555  # XYZ's price
    perp = snap.instruments_by_id[7]
    for s, r in zip(snap.scenarios, perp.risk):
        m, w = s.price_shock_bps / fp.BPS, s.weight_bps / fp.BPS
        assert r == pytest.approx(10 / 100_000 * m / (1 + m) * w * coin * fp.PRICE_SCALE, abs=1)
    assert perp.addon == 25_000  # 0.25 % of the 10 USD face, not of spot x 10
    g = greeks(market)[7]
    h = 1e-3
    value = [10 / 100_000 * (1 - 1 / (1 + x)) * coin for x in (-h, 0.0, h)]
    assert g.delta == pytest.approx((value[2] - value[0]) / (2 * h * 100_000), rel=1e-6)
    assert g.gamma == pytest.approx((value[2] - 2 * value[1] + value[0]) / (h * 100_000) ** 2, rel=1e-4)


@pytest.mark.parametrize("edit, message", [
    (dict(INVERSE_PERP, kind="spot"), "inverse .* a spot position is never inverse"),
    (dict(INVERSE_PERP, settlement=None), "an inverse contract, and only one, names its settlement asset"),
    (dict(INVERSE_PERP, settlement="DOGE"), "settlement asset DOGE is not a collateral asset"),
])
def test_inverse_contracts_are_validated(edit: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match=message):
        make_market({"instruments": [edit]})


def test_a_valuation_time_off_its_date_is_refused() -> None:
    with pytest.raises(InputError, match="is not on 2025-01-01"):
        make_market({"valuation_time": "2025-01-02T00:00:01Z"})


def test_a_100_percent_vol_down_prices_the_discounted_intrinsic_value() -> None:
    method = load_methodology("span16")
    method = method.model_copy(update={"vol": method.vol.model_copy(update={"down": Decimal(1)})})
    market = make_market()
    snap = build_snapshot(market, method)
    t = 90 / 365
    f = instrument_terms(market).ref[3]
    flat_down = next(k for k, s in enumerate(snap.scenarios) if s.label == "price flat, vol down")
    put = snap.instruments_by_id[6]  # strike 105000, in the money
    intrinsic = math.exp(-0.05 * t) * (105_000 - f)
    assert put.risk[flat_down] == pytest.approx((intrinsic * fp.PRICE_SCALE - put.mark), abs=2)


def test_the_lookahead_lets_time_pass_in_every_scenario() -> None:
    method = load_methodology("span16").model_copy(update={"lookahead_days": Decimal(1)})
    market = make_market()
    call = build_snapshot(market, method).instruments_by_id[4]
    t, f = 90 / 365, instrument_terms(market).ref[3]
    vol = instrument_terms(market).vol[3]
    later = reference_black76(f, 105_000, t - 1 / 365, vol * 1.25, 0.05, True)
    assert call.risk[0] == pytest.approx((later - reference_black76(f, 105_000, t, vol, 0.05, True))
                                         * fp.PRICE_SCALE, abs=2)


def test_absolute_vol_shocks_shift_every_vol_by_the_same_amount() -> None:
    market = make_market()
    call = build_snapshot(market, "span").instruments_by_id[4]
    t, f, vol = 90 / 365, instrument_terms(market).ref[3], instrument_terms(market).vol[3]
    later = reference_black76(f, 105_000, t - 1 / 365, vol + 0.10, 0.05, True)
    assert call.risk[0] == pytest.approx((later - reference_black76(f, 105_000, t, vol, 0.05, True))
                                         * fp.PRICE_SCALE, abs=2)


# ---- properties ----

TERM_PRESETS = [p for p in preset_names() if load_methodology(p).vol.term_scaling is not None]


@pytest.mark.parametrize("preset", TERM_PRESETS)
@given(a=st.floats(60, 800 * DAY), b=st.floats(60, 800 * DAY), vol=st.floats(0.05, 3.0))
def test_term_scaled_shocks_shrink_with_time_to_expiry(preset: str, a: float, b: float, vol: float) -> None:
    method = load_methodology(preset).vol
    short, long = min(a, b), max(a, b)
    (up_short, down_short), (up_long, down_long) = vol_multipliers(method, short), vol_multipliers(method, long)
    assert up_short >= up_long and down_short >= down_long
    assert shocked_vol(method, vol, short, "up") >= shocked_vol(method, vol, long, "up")
    assert shocked_vol(method, vol, short, "down") <= shocked_vol(method, vol, long, "down")
    assert shocked_vol(method, vol, short, "down") >= 0


def test_term_scaling_is_one_at_thirty_days_and_follows_the_published_powers() -> None:
    scaling = TermScaling(short_power=Decimal("0.3"), long_power=Decimal("0.13"))
    assert scaling.factor(30 * DAY) == 1.0
    assert scaling.factor(15 * DAY) == 2 ** 0.3 and scaling.factor(60 * DAY) == 0.5 ** 0.13
    assert scaling.factor(60) == scaling.factor(DAY) == 30 ** 0.3  # floored at one day


def test_a_shocked_up_vol_is_raised_to_the_published_floor() -> None:
    deribit = load_methodology("deribit").vol  # min_volatility_for_shock_up 0.5, range up 0.5
    assert shocked_vol(deribit, 0.2, 30 * DAY, "up") == 0.5
    assert shocked_vol(deribit, 0.4, 30 * DAY, "up") == 0.4 * 1.5
    assert shocked_vol(deribit, 0.2, 30 * DAY, "down") == 0.2 * 0.75  # no floor on the way down


@pytest.mark.parametrize("preset", preset_names())
@given(spot=st.decimals(1, 10**7, places=2))
def test_weights_are_shares_and_capped_tails_never_outrun_the_core_edge(preset: str, spot: Decimal) -> None:
    method = load_methodology(preset)
    scan = method.price_scan.fraction_of(spot)
    for shape in method.shapes():
        w = shape.weight_at(scan)
        assert 0 <= w <= 1
        if shape.cap_at_scan is not None:
            assert abs(shape.move(scan)) * w <= scan


def _linear_book(market: Market, qty: list[int]) -> Account:
    linear = [i.id for i in market.instruments if i.group == 1 and i.kind.value in ("future", "perp", "spot")]
    return Account.model_validate({"positions": [{"instrument": i, "quantity": str(q)}
                                                 for i, q in zip(linear, qty) if q]})


@given(qty=st.lists(st.integers(-50, 50), min_size=5, max_size=5))
def test_a_pure_futures_book_is_charged_exactly_its_worst_core_bucket_under_deribit(qty: list[int]) -> None:
    snap = load_model(RiskSnapshot, EXAMPLES / "snapshot_deribit.json")
    market = json.loads((EXAMPLES / "market.json").read_text())
    account = _linear_book(Market.model_validate_json(json.dumps(market)), qty)
    if not account.positions:
        return
    result = portfolio_margin(resolve(account, snap))
    worst_core = max(0, max(-p for p in result.group_pnl[0][:27]))
    assert result.scan_loss[0] == worst_core


INVERSE_FUTURE = {"id": 8, "symbol": "BTC-1APR25-INV", "kind": "future", "group": 1, "expiry": "2025-04-01",
                  "inverse": True, "settlement": "XYZ"}


@given(perp=st.integers(-50, 50).filter(bool), future=st.integers(-50, 50), face=st.decimals(1, 10**6, places=2))
def test_a_coin_settled_futures_book_is_charged_exactly_its_worst_core_bucket_under_deribit(
        perp: int, future: int, face: Decimal) -> None:
    """Deribit's extended table values a linear contract at the edge of the price range (its
    published vectors, ``test_conformance.py``): coin-settled contracts, whose coin P&L is not
    linear in the move, included."""
    market = make_market({"instruments": [dict(INVERSE_PERP, multiplier=str(face)),
                                          dict(INVERSE_FUTURE, multiplier=str(face))]})
    snap = build_snapshot(market, "deribit")
    account = Account.model_validate({"positions": [{"instrument": i, "quantity": str(q)}
                                                    for i, q in ((7, perp), (8, future)) if q]})
    result = portfolio_margin(resolve(account, snap))
    assert result.scan_loss[0] == max(0, max(-p for p in result.group_pnl[0][:27]))
    for ins in snap.instruments:  # each tail entry is the core edge on its side (-66 %, -33 % | +50 %, ...)
        assert ins.risk[27:] == [ins.risk[0]] * 2 + [ins.risk[24]] * 3


def test_zkmargin_schema_prints_the_methodology_schema() -> None:
    out = CliRunner().invoke(main, ["schema", "methodology"])
    assert out.exit_code == 0
    schema: dict[str, Any] = json.loads(out.output)
    assert schema["title"] == "Methodology" and "price_scan" in schema["properties"]
    assert Methodology.model_validate(json.loads(load_methodology("deribit").model_dump_json()))


def test_snapshot_build_takes_a_methodology_file_and_names_the_pending_rules(tmp_path: Path) -> None:
    (tmp_path / "venue.toml").write_text(VENUE_TOML)
    runner = CliRunner()
    out = runner.invoke(main, ["snapshot", "build", str(EXAMPLES / "market.json"), "--methodology",
                               str(tmp_path / "venue.toml"), "-o", str(tmp_path / "s.json")])
    assert out.exit_code == 0
    assert out.output == (f"wrote {tmp_path / 's.json'}: epoch 1, 146 instruments, 11 scenarios, "
                          "4 collateral assets (my-venue)\n")
    out = runner.invoke(main, ["snapshot", "build", str(EXAMPLES / "market.json"), "--methodology", "derive-pmrm2",
                               "-o", str(tmp_path / "d.json")])
    assert out.exit_code == 0
    assert out.output.splitlines()[1] == ("note: portfolio-level rules not applied (no circuit support yet, "
                                          "docs/methodologies.md): static_discount, basis_contingency, skew_shock")
    out = runner.invoke(main, ["snapshot", "build", str(EXAMPLES / "market.json"), "--methodology", "nope",
                               "-o", str(tmp_path / "n.json")])
    assert out.exit_code == 2
    assert out.output == ("error: nope: neither a methodology file nor a preset "
                          "(presets: deribit, derive-pmrm2, span, span16)\n")


def test_span16_reproduces_the_pinned_example_snapshot_byte_for_byte() -> None:
    market = Market.model_validate_json((EXAMPLES / "market.json").read_text())
    text = build_snapshot(market, "span16").model_dump_json(indent=2) + "\n"
    assert text == (EXAMPLES / "snapshot_span16.json").read_text()


def test_the_net_naked_short_rule_keys_options_by_group_expiry_and_strike() -> None:
    """derive-pmrm2 lists ``net_naked_short_addon``: calls and puts of one (group, expiry, strike)
    share a key, other strikes and every non-option have none; deribit does not list it."""
    market = load_market(EXAMPLES / "market.json")
    derive = build_snapshot(market, "derive-pmrm2")
    strikes: dict[tuple[int, str | None, int | None], set[int]] = {}
    for ins in derive.instruments:
        if ins.kind.value in ("call", "put"):
            strikes.setdefault((ins.group, ins.expiry, ins.strike), set()).add(ins.naked_key)
        else:
            assert ins.naked_key == 0
    assert all(len(keys) == 1 and 0 not in keys for keys in strikes.values())
    assert len({k for keys in strikes.values() for k in keys}) == len(strikes)
    assert any(len([i for i in derive.instruments if i.naked_key == k]) == 2 for k in range(1, len(strikes) + 1))
    assert all(ins.naked_key == 0 for ins in build_snapshot(market, "deribit").instruments)
