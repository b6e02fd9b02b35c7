"""The risk report as one self-contained HTML file: inline CSS, inline SVG charts, no script,
no font, no link: it opens offline and fetches nothing.

Every margin figure is printed from the engine's integer by :func:`zkmargin.report.usd` and
carries its source: ``data-field="portfolio.group_req.0"`` names the entry of ``zkmargin margin
--model all --json`` (``whatif:`` prefix: of the account after the what-if trades) and
``data-scale`` its fixed-point scale, so a reader (or a test) can check each printed figure
against the engine's output.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from zkmargin import fixedpoint as fp
from zkmargin.greeks import UsdGreeks
from zkmargin.isolated import IsolatedResult
from zkmargin.margincall import CallDistance
from zkmargin.plot import health_text, snapshot_title
from zkmargin.report import slot_ratio, usd
from zkmargin.riskcharts import panel_svg, panels
from zkmargin.riskreport import RiskReport, claimable_threshold_bps, explain
from zkmargin.terms import Health
from zkmargin.whatif import HEDGE_BOUND_FACTOR, HEDGE_MIN_BOUND, HEDGE_STEP

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:24px auto;max-width:1000px;
color:#1c2833;line-height:1.4}
h1{font-size:22px;margin-bottom:2px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #d5d8dc}
.sub{color:#5d6d7e;margin-top:0}
.cards{display:flex;flex-wrap:wrap;gap:10px}
.card{border:1px solid #d5d8dc;border-radius:6px;padding:8px 12px;min-width:140px}
.card .k{font-size:12px;color:#5d6d7e}.card .v{font-size:18px;font-weight:600}
.ok{color:#1e8449}.bad{color:#c0392b}
table{border-collapse:collapse;margin:8px 0;font-size:13px}
th,td{padding:3px 8px;border-bottom:1px solid #eaeded;text-align:right}
th:first-child,td:first-child{text-align:left}th{background:#f4f6f6}
svg{max-width:100%;height:auto}
ul.why li{margin:3px 0}.note{font-size:12px;color:#5d6d7e}
"""


def figure(field: str, value: int, scale: int) -> str:
    """A margin figure in USD, tagged with its ``margin --json`` field and scale."""
    return f'<span data-field="{escape(field)}" data-scale="{scale}">{usd(value, scale)}</span>'


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _greeks(g: UsdGreeks | None) -> list[str]:
    if g is None:
        return ["-"] * 4
    return [f"{g.delta_usd:,.0f}", f"{g.gamma_usd:,.0f}", f"{g.vega_usd:,.0f}", f"{g.theta_usd:,.0f}"]


GREEK_HEADER = ["delta USD", "gamma USD/1%", "vega USD/vol pt", "theta USD/day"]


def _health(r: Health, source: str, *, engine_equity: bool = True) -> list[str]:
    """Card values: equity, IM, MM, utilisation, health, claimable threshold; ``source`` names
    the ``margin --json`` model the figures come from (``engine_equity=False``: the equity is
    derived, e.g. net of a what-if premium, and carries no tag)."""
    ok = "ok" if r.healthy else "bad"
    util = "-" if r.equity <= 0 else f"{100 * r.mm / r.equity:,.1f}%"
    equity = figure(f"{source}.equity", r.equity, fp.EQUITY_SCALE) if engine_equity else usd(r.equity, fp.EQUITY_SCALE)
    return [equity, figure(f"{source}.im", r.im, fp.VALUE_SCALE), figure(f"{source}.mm", r.mm, fp.EQUITY_SCALE), util,
            f'<span class="{ok}">{escape(health_text(r))}</span>', f"{claimable_threshold_bps(r):,} bps"]


HEALTH_KEYS = ["equity USD", "initial margin USD", "maintenance margin USD", "utilisation (MM / equity)", "health",
               "threshold a proof could claim"]


def _cards(values: Sequence[str]) -> str:
    return '<div class="cards">' + "".join(
        f'<div class="card"><div class="k">{escape(k)}</div><div class="v">{v}</div></div>'
        for k, v in zip(HEALTH_KEYS, values)) + "</div>"


def _distance(d: CallDistance) -> str:
    if d.move_bps is None:
        return f"none within {d.bound_bps / 100:,.2f}%"
    return f"{d.move_bps / 100:,.2f}%"


def _sections(report: RiskReport) -> list[str]:
    r = report.portfolio
    book, snap = report.book, report.snapshot
    by_id = snap.instruments_by_id
    labels = [s.label for s in snap.scenarios]
    charts = {caption: panel_svg(draw, size) for caption, draw, size in panels(report)}
    out = [f"<h2>Health (portfolio margin, claimed {report.portfolio.threshold_bps / fp.BPS:.2f}x MM)</h2>",
           _cards(_health(r, "portfolio")),
           '<h2>Why the margin is what it is</h2><ul class="why">'
           + "".join(f"<li>{escape(line)}</li>" for line in explain(report)) + "</ul>",
           charts["What sets the margin"]]

    rows = []
    for p in report.positions:
        s = book.slots[p.slot]
        share = "-" if r.im == 0 else f"{100 * p.requirement / r.im:,.1f}%"
        rows.append([escape(p.symbol), fp.format_decimal(s.qty, fp.QTY_SCALE),
                     figure(f"portfolio.position_value.{p.slot}", r.position_value[p.slot], fp.VALUE_SCALE),
                     figure(f"portfolio.addon.{p.slot}", r.addon[p.slot], fp.VALUE_SCALE),
                     usd(p.requirement, fp.VALUE_SCALE), share, *_greeks(p.greeks)])
    out += ["<h2>Positions</h2>",
            _table(["position", "qty", "mark value USD", "add-on USD", "part of IM USD", "share of IM", *GREEK_HEADER],
                   rows),
            '<p class="note">Part of IM: the add-on plus the position\'s part of its group\'s binding term '
            "(its short-option minimum, or its loss in the worst scenario when the scanning loss binds; "
            "hedges count negative). The parts add up to IM. Greeks from Black-76 on the snapshot's market "
            "data: delta = USD per 100% move, gamma = change of delta for a 1% move, vega per vol point, "
            "theta per calendar day.</p>"]

    rows = []
    for g in report.groups:
        k = g.index
        worst = r.worst_scenario[k]
        rows.append([escape(g.name), figure(f"portfolio.scan_loss.{k}", r.scan_loss[k], fp.VALUE_SCALE),
                     escape(labels[worst]) if worst >= 0 else "-",
                     figure(f"portfolio.group_som.{k}", r.group_som[k], fp.VALUE_SCALE),
                     figure(f"portfolio.group_req.{k}", r.group_req[k], fp.VALUE_SCALE), escape(g.binding),
                     *_greeks(g.greeks)])
    out += ["<h2>Risk groups</h2>",
            _table(["group", "scanning loss USD", "worst scenario", "short-option min USD", "requirement USD",
                    "binding term", *GREEK_HEADER], rows)]

    rows = [[escape(c.symbol), fp.format_decimal(b, fp.AMOUNT_SCALE),
             figure(f"portfolio.collateral_value.{k}", r.collateral_value[k], fp.EQUITY_SCALE)]
            for k, (c, b) in enumerate(zip(snap.collateral, book.balances)) if b]
    out += ["<h2>Collateral</h2>", _table(["asset", "amount", "value after MM haircut USD"], rows)]

    out.append("<h2>Scenario P&amp;L</h2>")
    for g in report.groups:
        out += [charts[f"{g.name} scenario heat map"], charts[f"{g.name} scenario P&L"]]

    if report.calls is not None:
        c = report.calls
        rows = [[escape(g.name), _distance(c.down[g.group]), _distance(c.up[g.group])] for g in report.groups]
        joint = ", ".join(f"{g.name} {'down' if c.joint.directions[g.group] < 0 else 'up'}" for g in report.groups)
        out += ["<h2>Distance to a margin call</h2>",
                _table(["underlying", "fall that triggers a call", "rise that triggers a call"], rows),
                f"<p>All underlyings together in the worst direction ({escape(joint)}): {_distance(c.joint)}.</p>",
                '<p class="note">Each move is repriced by the engine: the snapshot is rebuilt, under its own '
                "methodology, from the market moved by that much (spot, forwards, perp marks and collateral in "
                "that underlying; vols sticky-strike; no time decay), the account margined on it and futures "
                "variation margin settled into cash. Searched in 1% steps, refined to 1 bp.</p>"]
        out += [charts[f"{g.name} distance to a margin call"] for g in report.groups]
    else:
        out += ["<h2>Distance to a margin call</h2>",
                "<p>Needs the snapshot's market data: run with <code>--market MARKET.json</code> (and the "
                "snapshot's <code>--methodology</code> if not span16).</p>"]

    if report.whatif is not None:
        w = report.whatif
        trades = ", ".join(f"{fp.format_decimal(t.quantity, fp.QTY_SCALE)} {by_id[t.instrument].symbol}"
                           for t in w.trades)
        after = _health(w.portfolio, "whatif:portfolio", engine_equity=False)
        rows = [[escape(k), a, b] for k, a, b in zip(HEALTH_KEYS, _health(r, "portfolio"), after)]
        out += [f"<h2>What if: {escape(trades)}</h2>", _table(["", "now", "after the trades"], rows),
                f'<p class="note">The trades pay their premium at the snapshot marks '
                f"({usd(w.premium, fp.VALUE_SCALE)} USD) out of equity; futures and perps cost nothing up front.</p>"]

    group_names = {g.id: g.underlying for g in snap.groups}
    rows = []
    for h in report.hedges:
        rows.append([escape(group_names[h.group]),
                     escape(by_id[h.instrument].symbol), fp.format_decimal(h.quantity, fp.QTY_SCALE),
                     usd(h.mm_before, fp.EQUITY_SCALE), usd(h.mm_after, fp.EQUITY_SCALE),
                     usd(h.mm_before - h.mm_after, fp.EQUITY_SCALE), fp.format_decimal(h.bound, fp.QTY_SCALE)])
    out += ["<h2>Hedge suggestion</h2>",
            _table(["underlying", "instrument", "quantity to add", "MM now USD", "MM hedged USD", "saved USD",
                    "searched |qty| up to"], rows),
            f'<p class="note">Per underlying, the quantity of its perp (else nearest future) that minimises '
            f"portfolio MM, searched exactly over the engine in steps of {fp.format_decimal(HEDGE_STEP, fp.QTY_SCALE)} "
            f"contract with |qty| up to {HEDGE_BOUND_FACTOR} x the contracts held in the group (at least "
            f"{HEDGE_MIN_BOUND}). MM is convex in the quantity, so the search finds the minimum; 0 means no "
            "hedge helps.</p>"]

    rows = []
    for name, m in report.comparison.results.items():
        saved, pct = report.comparison.saved_vs_isolated(name)
        rows.append([name, figure(f"{name}.im", m.im, fp.VALUE_SCALE), figure(f"{name}.mm", m.mm, fp.EQUITY_SCALE),
                     figure(f"{name}.equity", m.equity, fp.EQUITY_SCALE), escape(health_text(m)),
                     usd(saved, fp.EQUITY_SCALE), "-" if pct is None else f"{pct:.1f}%"])
    out += ["<h2>Margin models</h2>",
            _table(["model", "IM USD", "MM USD", "equity USD", "health", "MM saved vs isolated USD", "%"], rows),
            charts["Requirement per model"]]

    iso = report.comparison.results["isolated"]
    assert isinstance(iso, IsolatedResult)
    out += ["<h2>Isolated margin, per position</h2>", isolated_table(iso, report)]
    return out


def isolated_table(iso: IsolatedResult, report: RiskReport) -> str:
    """Per position: allocated collateral, its equity, its requirement, its health, pass or fail."""
    by_id = report.snapshot.instruments_by_id
    rows = []
    for k, s in enumerate(report.book.slots):
        if not s.instrument:
            continue
        asset = report.snapshot.collateral[s.alloc_asset].symbol
        ok = iso.slot_health[k] >= 0
        rows.append([escape(by_id[s.instrument].symbol),
                     f"{fp.format_decimal(s.alloc_amount, fp.AMOUNT_SCALE)} {escape(asset)}" if s.alloc_amount else "-",
                     figure(f"isolated.slot_equity.{k}", iso.slot_equity[k], fp.EQUITY_SCALE),
                     figure(f"isolated.slot_mm.{k}", iso.slot_mm[k], fp.EQUITY_SCALE), slot_ratio(iso, k),
                     f'<span class="{"ok" if ok else "bad"}">{"pass" if ok else "FAIL"}</span>'])
    return _table(["position", "allocated", "equity USD", "MM USD", "equity / MM", "meets its MM"], rows)


def render_html(report: RiskReport) -> str:
    """The whole report as one HTML document (see the module docstring)."""
    title = escape(snapshot_title(report.snapshot, report.title))
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>Risk report: {title}</title><style>{CSS}</style></head><body>"
            f"<h1>Risk report: {escape(report.title)}</h1>"
            f'<p class="sub">{escape(report.snapshot.venue)} epoch {report.snapshot.epoch}, '
            f"{len(report.snapshot.scenarios)} scenarios; figures from the zkmargin engine (margin figures "
            "are the circuit's integers).</p>" + "".join(_sections(report)) + "</body></html>\n")
