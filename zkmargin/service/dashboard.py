"""The risk desk's dashboard: one server-rendered HTML page, no script, no external resource.

Shows the current epoch with its counts, the holders in margin call (below requirement or late)
with their deadlines, every registered holder's status, and an inline SVG chart of proven health
(threshold / 10000, i.e. multiples of maintenance margin) over epochs for the holders the caller
picks (the app: up to 12, those in margin call first).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from html import escape

from zkmargin.service.status import CALLED, HolderEpoch, summary

#: Chart geometry, pixels.
WIDTH, HEIGHT, PAD = 900, 300, 48
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")
STYLE = """body{font:14px system-ui,sans-serif;margin:24px;color:#222}h1{font-size:22px}
.cards{display:flex;gap:16px}.card{border:1px solid #ccc;border-radius:6px;padding:10px 16px;min-width:110px}
.card b{display:block;font-size:24px}table{border-collapse:collapse;margin:8px 0 20px}
td,th{border-bottom:1px solid #ddd;padding:4px 10px;text-align:left;white-space:nowrap}.margin_call,.late{color:#b00;font-weight:600}
.healthy{color:#070}.pending{color:#a60}code{font-size:12px}"""


def _time(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _bps(x: int | None) -> str:
    return "-" if x is None else f"{x} bps ({x / 10_000:.2f}x MM)"


def _rows(statuses: list[HolderEpoch]) -> str:
    return "".join(f"<tr><td><code>{escape(s.holder)}</code></td><td class='{s.status}'>{s.status.replace('_', ' ')}"
                   f"</td><td>{_bps(s.proven_bps)}</td><td>{_bps(s.required_bps)}</td><td>{_time(s.deadline)}</td></tr>"
                   for s in statuses)


def chart(history: Mapping[str, Mapping[int, int]]) -> str:
    """SVG lines of proven health (x MM) per holder over epochs; a dashed line at 1.00x MM."""
    epochs = sorted({e for h in history.values() for e in h})
    if not epochs:
        return "<p>No proof yet.</p>"
    top = max(2.0, max(t for h in history.values() for t in h.values()) / 10_000 * 1.1)
    span = max(1, epochs[-1] - epochs[0])

    def x(e: int) -> float:
        return PAD + (e - epochs[0]) / span * (WIDTH - 2 * PAD) if len(epochs) > 1 else WIDTH / 2

    def y(health: float) -> float:
        return HEIGHT - PAD - health / top * (HEIGHT - 2 * PAD)

    parts = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{WIDTH}' height='{HEIGHT}' role='img' "
             f"aria-label='proven health per holder over epochs'>",
             f"<line x1='{PAD}' y1='{y(1):.1f}' x2='{WIDTH - PAD}' y2='{y(1):.1f}' stroke='#b00' stroke-dasharray='4'/>",
             f"<text x='4' y='{y(1) + 4:.1f}' font-size='11'>1.00x</text>",
             f"<text x='4' y='{y(top) + 10:.1f}' font-size='11'>{top:.2f}x</text>",
             f"<line x1='{PAD}' y1='{HEIGHT - PAD}' x2='{WIDTH - PAD}' y2='{HEIGHT - PAD}' stroke='#888'/>"]
    parts += [f"<text x='{x(e):.1f}' y='{HEIGHT - PAD + 16}' font-size='11' text-anchor='middle'>{e}</text>"
              for e in epochs]
    for i, (holder, points) in enumerate(sorted(history.items())):
        if not points:
            continue
        colour = COLOURS[i % len(COLOURS)]
        xy = [(x(e), y(t / 10_000)) for e, t in sorted(points.items())]
        parts.append(f"<polyline class='holder' fill='none' stroke='{colour}' stroke-width='2' "
                     f"points='{' '.join(f'{a:.1f},{b:.1f}' for a, b in xy)}'><title>{escape(holder)}</title></polyline>")
        parts += [f"<circle cx='{a:.1f}' cy='{b:.1f}' r='3' fill='{colour}'/>" for a, b in xy]
        parts.append(f"<text x='{WIDTH - PAD + 4}' y='{xy[-1][1] + 4:.1f}' font-size='10' fill='{colour}'>"
                     f"{escape(holder[:8])}</text>")
    return "".join(parts) + "</svg>"


def render(epoch: int | None, statuses: list[HolderEpoch], history: Mapping[str, Mapping[int, int]],
           registry: Mapping[str, int], now: float) -> str:
    """The whole page (UTF-8 HTML)."""
    head = "<thead><tr><th>holder</th><th>status</th><th>proven</th><th>required</th><th>deadline</th></tr></thead>"
    if epoch is None:
        body = "<p>No epoch posted yet.</p>"
    else:
        counts = summary(statuses)
        calls = [s for s in statuses if s.status in CALLED]
        body = ("<div class='cards'>" + "".join(f"<div class='card' id='{k}'><b>{v}</b>{k.replace('_', ' ')}</div>"
                                                 for k, v in counts.items()) + "</div>"
                + f"<h2>Margin calls ({len(calls)})</h2>"
                + (f"<table id='margin-calls'>{head}<tbody>{_rows(calls)}</tbody></table>" if calls else
                   "<p id='margin-calls'>None.</p>")
                + f"<h2>Proven health over epochs</h2>{chart(history)}"
                + f"<h2>All holders ({len(registry)})</h2><table id='holders'>{head}<tbody>{_rows(statuses)}</tbody></table>")
    title = f"zkmargin risk desk: epoch {epoch}" if epoch is not None else "zkmargin risk desk"
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><link rel='icon' href='data:,'><title>{title}</title>"
            f"<style>{STYLE}</style></head><body><h1>{title}</h1><p>As of {_time(now)}</p>{body}</body></html>")
