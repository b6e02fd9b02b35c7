"""``zkmargin report`` and ``zkmargin margin`` through the real CLI: every margin figure of the
report equals ``zkmargin margin --model all --json`` for the same inputs (HTML figure by figure,
JSON as a whole), the requirement parts add up to IM, and errors leave as one line."""

from __future__ import annotations

import json
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.examples import ACCOUNTS, EXAMPLES, example_account, example_market, example_snapshot
from zkmargin import fixedpoint as fp
from zkmargin.cli import ERROR_EXIT, main
from zkmargin.methodology import PriceScan, load_methodology
from zkmargin.report import usd
from zkmargin.riskreport import build_report
from zkmargin.snapshot_builder import build_snapshot
from zkmargin.whatif import apply_trades, parse_trade

SNAPSHOT = str(EXAMPLES / "snapshot_span16.json")
MARKET = str(EXAMPLES / "market.json")
TRADES = ("BTC-PERP:-2", "ETH-PERP:3")


def cli(*args: str) -> Any:
    return CliRunner().invoke(main, list(args))


def margin_json(account: Path, threshold: str = "10000") -> dict[str, Any]:
    r = cli("margin", str(account), SNAPSHOT, "--model", "all", "--json", "--threshold", threshold)
    data: dict[str, Any] = json.loads(r.output)
    return data


class Figures(HTMLParser):
    """Collects (data-field, data-scale, printed text) of every tagged figure of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, int, str]] = []
        self._open: tuple[str, int] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("data-field"):
            self._open = (str(a["data-field"]), int(str(a["data-scale"])))

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self.found.append((*self._open, data))
            self._open = None


def lookup(data: dict[str, Any], path: str) -> int:
    value: Any = data
    for key in path.split("."):
        value = value[int(key)] if isinstance(value, list) else value[key]
    assert isinstance(value, int)
    return value


@pytest.mark.parametrize("name", ACCOUNTS)
def test_every_figure_of_the_html_report_is_the_margin_json_figure(name: str, tmp_path: Path) -> None:
    account = EXAMPLES / f"{name}.json"
    out = tmp_path / "report.html"
    r = cli("report", str(account), SNAPSHOT, "--market", MARKET, "-o", str(out), "--threshold", "12000",
            *(x for t in TRADES for x in ("--add", t)))
    assert r.exit_code == 0, r.output
    assert r.output.endswith(f"wrote {out}\n")
    snapshot = example_snapshot()
    traded = apply_trades(example_account(name), [parse_trade(t, snapshot) for t in TRADES])
    traded_file = tmp_path / "traded.json"
    traded_file.write_text(traded.model_dump_json())
    sources = {"": margin_json(account, "12000"), "whatif:": margin_json(traded_file, "12000")}
    parser = Figures()
    parser.feed(out.read_text())
    fields = {f for f, _, _ in parser.found}
    assert {"portfolio.mm", "portfolio.im", "portfolio.equity", "portfolio.group_req.0", "isolated.slot_mm.0",
            "whatif:portfolio.mm", "cross.mm"} <= fields
    for field, scale, text in parser.found:
        prefix = "whatif:" if field.startswith("whatif:") else ""
        assert text == usd(lookup(sources[prefix], field.removeprefix(prefix)), scale), field


@pytest.mark.parametrize(("name", "preset"), [*((a, "span16") for a in ACCOUNTS),
                                              ("large/hedged_market_maker_16", "deribit")])
def test_the_json_report_carries_margin_json_exactly_and_parts_that_sum_to_im(name: str, preset: str,
                                                                               tmp_path: Path) -> None:
    account = EXAMPLES / f"{name}.json"
    snapshot = str(EXAMPLES / f"snapshot_{preset}.json")
    out = tmp_path / "report.json"
    assert cli("report", str(account), snapshot, "--market", MARKET, "--methodology", preset,
               "-o", str(out)).exit_code == 0
    report = json.loads(out.read_text())
    margin = json.loads(cli("margin", str(account), snapshot, "--model", "all", "--json").output)
    assert report["margin"] == margin
    portfolio = report["margin"]["portfolio"]
    assert sum(p["requirement"] for p in report["positions"]) == portfolio["im"]
    mm = portfolio["mm"]
    claim = report["claimable_threshold_bps"]
    assert fp.BPS * portfolio["equity"] >= mm * claim
    assert mm == 0 or fp.BPS * portfolio["equity"] < mm * (claim + 1) or claim == fp.THRESHOLD.hi
    for h in report["hedges"]:
        assert h["mm_after"] <= h["mm_before"] == mm
    groups = [str(g["group"]) for g in report["groups"]]
    assert list(report["margin_call"]["joint"]["directions"]) == groups


def test_the_hedged_market_maker_report_names_the_short_option_minimum(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    r = cli("report", str(EXAMPLES / "hedged_market_maker.json"), SNAPSHOT, "--market", MARKET, "-o", str(out))
    assert r.output.splitlines()[:3] == [
        "BTC: the short-option minimum 19,000.00 USD (short 20 x BTC-2JUL25-95000-C) sets the requirement; it "
        "exceeds the scanning loss 13,044.65 USD (worst scenario 'price flat, vol down'), so hedging the scenarios "
        "cannot lower it.",
        "IM 35,387.50 USD = group requirements 19,000.00 + add-ons 16,387.50; MM = 80% of IM = 28,310.00 USD.",
        "Equity 58,426.15 USD is 2.0637x MM; a proof can claim up to 20,637 bps today."]
    report = json.loads(out.read_text())
    assert report["groups"][0]["binding"] == "short-option minimum"
    assert report["margin_call"]["joint"]["move_bps"] is None


def test_a_png_report_and_a_report_without_market_data(tmp_path: Path) -> None:
    png = tmp_path / "report.png"
    r = cli("report", str(EXAMPLES / "delta_neutral_straddle.json"), SNAPSHOT, "--market", MARKET, "-o", str(png))
    assert r.exit_code == 0, r.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    out = tmp_path / "bare.html"
    r = cli("report", str(EXAMPLES / "delta_neutral_straddle.json"), SNAPSHOT, "-o", str(out))
    assert r.exit_code == 0, r.output
    assert "run with <code>--market MARKET.json</code>" in out.read_text()


@pytest.mark.parametrize(("args", "message"), [
    (["--add", "BTC-PERP"], "error: trade 'BTC-PERP': expected SYMBOL:QUANTITY, e.g. BTC-PERP:-2\n"),
    (["--add", "DOGE-PERP:1"], "error: trade 'DOGE-PERP:1': no instrument DOGE-PERP in snapshot zkmargin-demo epoch 1\n"),
    (["--market", str(EXAMPLES / "snapshot_span16.json")], None),
    (["--market", MARKET, "--methodology", "deribit"],
     "error: the 32 scenarios of methodology deribit are not the 16 of snapshot zkmargin-demo epoch 1: "
     "give the methodology the snapshot was built with\n"),
    (["--methodology", "no-such-preset"], None),
    (["-o", "report.txt"], "error: report.txt: cannot tell the format from the suffix; pass --format html|png|json\n"),
])
def test_report_errors_are_one_line(args: list[str], message: str | None, tmp_path: Path) -> None:
    full = ["report", str(EXAMPLES / "hedged_market_maker.json"), SNAPSHOT, "-o", str(tmp_path / "r.html"), *args]
    r = cli(*full)
    assert r.exit_code == ERROR_EXIT
    assert len(r.output.splitlines()) == 1 and r.output.startswith("error: ")
    if message is not None:
        assert r.output == message


def test_isolated_margin_prints_each_position_against_its_own_collateral() -> None:
    r = cli("margin", str(EXAMPLES / "hedged_market_maker.json"), SNAPSHOT, "--model", "isolated")
    assert r.exit_code == 1
    lines = r.output.splitlines()
    assert lines[-1] == ("BELOW MARGIN: 2 of 4 positions miss their own MM x 1.00x: BTC-2JUL25, "
                         "BTC-2JUL25-95000-C")
    assert lines[4].split() == ["BTC-2JUL25", "20000", "USDC", "20,000.00", "104,979.60", "0.1905x", "FAIL"]
    assert lines[5].split() == ["BTC-2JUL25-85000-P", "0.5", "BTC", "79,967.81", "30,909.80", "2.5871x", "pass"]


def test_margin_plot_writes_the_comparison_figure(tmp_path: Path) -> None:
    out = tmp_path / "m.png"
    r = cli("margin", str(EXAMPLES / "hedged_market_maker.json"), SNAPSHOT, "--model", "all", "--plot", str(out))
    assert r.exit_code == 0 and r.output.endswith(f"wrote {out}\n")
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_a_what_if_trade_pays_its_premium_at_mark_so_only_the_margin_moves(tmp_path: Path) -> None:
    out = tmp_path / "w.json"
    r = cli("report", str(EXAMPLES / "hedged_market_maker.json"), SNAPSHOT, "-o", str(out),
            "--add", "BTC-2JUL25-95000-C:10", "--add", "BTC-PERP:-0.1")
    assert r.exit_code == 0, r.output
    report = json.loads(out.read_text())
    call = example_snapshot().instruments_by_id[136]
    whatif = report["whatif"]
    assert whatif["premium"] == 10 * fp.QTY_SCALE * call.mark
    paid = whatif["portfolio_premium_paid"]
    assert paid["equity"] == whatif["margin"]["portfolio"]["equity"] - fp.BPS * whatif["premium"]
    assert paid["equity"] == report["margin"]["portfolio"]["equity"]   # USDC pays it at no haircut
    assert paid["mm"] == whatif["margin"]["portfolio"]["mm"] > report["margin"]["portfolio"]["mm"]
    assert whatif["claimable_threshold_bps"] == fp.BPS * paid["equity"] // paid["mm"]


def test_each_groups_heat_map_shows_its_own_scenario_shocks_under_the_methodology() -> None:
    method = load_methodology("span16").model_copy(update={"underlyings": {"ETH": PriceScan(fraction=Decimal("0.3"))}})
    snapshot = build_snapshot(example_market(), method)
    report = build_report(example_account("naked_short_calls"), snapshot, title="t", threshold_bps=10_000,
                          market=example_market(), methodology=method)
    btc, eth = ([s.price_shock_bps for s in report.scenarios_of(g)] for g in (1, 2))
    assert list(report.scenarios_of(1)) == snapshot.scenarios   # the snapshot lists its lowest group's shocks
    assert eth == [2 * p for p in btc] and max(eth) == 6_000
    bare = build_report(example_account("naked_short_calls"), snapshot, title="t", threshold_bps=10_000)
    assert bare.scenarios_of(2) == snapshot.scenarios   # without market data: the snapshot's list
