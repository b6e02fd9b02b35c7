"""The risk desk's dashboard in headless Chromium (the OS package, over CDP), served by a real
``zkmargin serve`` process: it loads with no console error, fetches nothing but itself, shows the
current epoch's counts, the margin calls with their deadlines and the health chart over two
epochs. The screenshot is kept as a test artefact (``build/service_dashboard.png``).

Skipped when Chromium is missing, unless ``ZKMARGIN_REQUIRE_CHROMIUM=1`` (CI sets it).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from prover.margin import MarginProver
from prover.setup import KeySet
from tests.chromium import chromium_binary, open_page
from tests.conftest import statement_of
from tests.service.conftest import API_KEY, EXAMPLES, HOLDER
from tests.service.server import ROOT, Server
from zkmargin.bundle import ProofBundle
from zkmargin.models import RiskSnapshot
from zkmargin.venue import build_epoch, public_key_hex, publish, read_ledger

ARTEFACT = ROOT / "build" / "service_dashboard.png"
PROBE = """JSON.stringify({
  title: document.title,
  cards: Object.fromEntries([...document.querySelectorAll('.card')].map(c => [c.id, +c.querySelector('b').textContent])),
  calls: [...document.querySelectorAll('#margin-calls tbody tr')].map(r => [...r.cells].map(c => c.textContent)),
  lines: document.querySelectorAll('svg polyline.holder').length,
  chartWidth: document.querySelector('svg').getBoundingClientRect().width})"""

pytestmark = pytest.mark.skipif(chromium_binary() is None and os.environ.get("ZKMARGIN_REQUIRE_CHROMIUM") != "1",
                                reason="chromium is not installed (apt-get install chromium)")


def test_the_dashboard_shows_counts_margin_calls_and_health_over_epochs(
        tmp_path: Path, keys: KeySet, prover: MarginProver, venue_key: Ed25519PrivateKey, published: Path,
        snapshot: RiskSnapshot, bundle: ProofBundle) -> None:
    snapshot2 = snapshot.model_copy(update={"epoch": 2})
    epoch2 = build_epoch(read_ledger(EXAMPLES / "ledger.jsonl"), snapshot2, venue_key)
    publish(epoch2, tmp_path / "epoch2")
    proofs = [bundle, prover.prove(statement_of(epoch2, "hedged_market_maker"), snapshot2, 10_500),
              prover.prove(statement_of(epoch2, "delta_neutral_straddle"), snapshot2, 20_000)]
    server = Server.start(f"sqlite:///{tmp_path / 'desk.db'}", public_key_hex(venue_key.public_key()), keys.vk,
                          API_KEY, "--window", "0")
    try:
        with httpx.Client(base_url=server.url, headers={"X-API-Key": API_KEY}, timeout=60) as http:
            for folder, snap in ((published, snapshot), (tmp_path / "epoch2", snapshot2)):
                assert http.post("/v1/epochs", content=(folder / "epoch.json").read_bytes()).status_code == 201
                assert http.post("/v1/snapshots", content=snap.model_dump_json()).status_code == 200
            for proof in proofs:
                assert http.post("/v1/proofs", content=proof.model_dump_json()).status_code == 201
        page = open_page(server.url + "/", PROBE, width=1100, height=900)
    finally:
        server.stop()
    ARTEFACT.parent.mkdir(exist_ok=True)
    ARTEFACT.write_bytes(page.screenshot)
    assert page.console_errors == [] and page.exceptions == []
    assert page.requests[0] == server.url + "/" and all(u.startswith("data:") for u in page.requests[1:])
    seen = json.loads(page.value)
    assert seen["title"] == "zkmargin risk desk: epoch 2"
    assert seen["cards"] == {"holders": 7, "proved": 1, "below_requirement": 1, "missing": 5, "late": 5}
    calls = {row[0]: row[1:] for row in seen["calls"]}
    assert len(calls) == 6 and calls[HOLDER][:3] == ["margin call", "10500 bps (1.05x MM)", "11000 bps (1.10x MM)"]
    assert all(row[3].endswith(" UTC") for row in calls.values())
    assert seen["lines"] == 2 and seen["chartWidth"] == 900
    assert page.screenshot[:8] == b"\x89PNG\r\n\x1a\n"
