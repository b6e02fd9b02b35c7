"""The HTML report in headless Chromium (the OS package, over CDP): it loads with no console
error and no exception, fetches nothing beyond its own file (inline data only), shows every chart
and every section, and a screenshot is kept as a test artefact (``build/report_screenshot.png``).

Skipped when Chromium is missing, unless ``ZKMARGIN_REQUIRE_CHROMIUM=1`` (CI sets it).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.chromium import chromium_binary, open_page
from zkmargin.cli import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
ARTEFACT = ROOT / "build" / "report_screenshot.png"
#: Inspected in the page: chart count, sections, title, and whether every chart has a size.
PROBE = """JSON.stringify({
  svgs: document.querySelectorAll('svg').length,
  sized: [...document.querySelectorAll('svg')].every(s => s.getBoundingClientRect().width > 300),
  sections: [...document.querySelectorAll('h2')].map(h => h.textContent),
  title: document.title})"""

pytestmark = pytest.mark.skipif(chromium_binary() is None and os.environ.get("ZKMARGIN_REQUIRE_CHROMIUM") != "1",
                                reason="chromium is not installed (apt-get install chromium)")


def test_the_report_opens_in_chromium_without_errors_or_network(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    r = CliRunner().invoke(main, ["report", str(EXAMPLES / "hedged_market_maker.json"),
                                  str(EXAMPLES / "snapshot_span16.json"), "--market", str(EXAMPLES / "market.json"),
                                  "--add", "BTC-PERP:-2", "-o", str(out)])
    assert r.exit_code == 0, r.output
    page = open_page(out.resolve().as_uri(), PROBE, height=1000)
    ARTEFACT.parent.mkdir(exist_ok=True)
    ARTEFACT.write_bytes(page.screenshot)
    assert page.console_errors == [] and page.exceptions == []
    assert page.requests[0] == out.resolve().as_uri()
    assert all(u.startswith("data:") for u in page.requests[1:]), page.requests
    seen = json.loads(page.value)
    assert seen["svgs"] == 5 and seen["sized"]
    assert seen["title"] == "Risk report: hedged_market_maker - zkmargin-demo epoch 1 (16 scenarios)"
    assert seen["sections"] == [
        "Health (portfolio margin, claimed 1.00x MM)", "Why the margin is what it is", "Positions", "Risk groups",
        "Collateral", "Scenario P&L", "Distance to a margin call", "What if: -2 BTC-PERP", "Hedge suggestion",
        "Margin models", "Isolated margin, per position"]
    assert page.screenshot[:8] == b"\x89PNG\r\n\x1a\n" and len(page.screenshot) > 20_000
