"""The service's API end to end on SQLite and PostgreSQL: epochs, proofs, statuses, refusals."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select, text

from tests.service.conftest import API_KEY, EXAMPLES, HOLDER, WRITE, post_epoch_and_snapshot
from zkmargin.bundle import ProofBundle
from zkmargin.service.app import MAX_BODY, create_app
from zkmargin.service.policy import ServiceConfig
from zkmargin.service.store import Store, connect, rejections


def test_a_proof_is_verified_stored_once_and_sets_its_holder_healthy(client: TestClient, published: Path,
                                                                      bundle: ProofBundle) -> None:
    post_epoch_and_snapshot(client, published)
    again = client.post("/v1/epochs", content=(published / "epoch.json").read_bytes(), headers=WRITE)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    body = bundle.model_dump_json()
    first = client.post("/v1/proofs", content=body, headers=WRITE)
    assert first.status_code == 201, first.text
    assert first.json() | {"digest": ""} == {"digest": "", "epoch": 1, "holder": HOLDER, "threshold_bps": 15_000,
                                             "required_bps": 11_000, "status": "healthy", "duplicate": False}
    again = client.post("/v1/proofs", content=bundle.model_copy(update={"created_at": "later"}).model_dump_json(),
                        headers=WRITE)
    assert again.status_code == 200 and again.json()["duplicate"] and again.json()["digest"] == first.json()["digest"]
    assert client.get(f"/v1/proofs/{first.json()['digest']}").json()["meets"] is True
    epochs = client.get(f"/v1/holders/{HOLDER.upper().replace('0X', '0x')}").json()["epochs"]
    assert [(e["epoch"], e["status"], e["proven_bps"]) for e in epochs] == [(1, "healthy", 15_000)]
    assert client.get("/v1/epochs/1").json() | {"deadline": 0} == {
        "epoch": 1, "deadline": 0, "holders": 7, "proved": 1, "below_requirement": 0, "missing": 6, "late": 0}
    assert client.get("/v1/margin-calls").json() == {"epoch": 1, "margin_calls": []}


def test_the_same_proof_from_concurrent_writers_is_stored_once(client: TestClient, published: Path,
                                                               bundle: ProofBundle) -> None:
    post_epoch_and_snapshot(client, published)
    body = bundle.model_dump_json()
    with ThreadPoolExecutor(8) as pool:
        codes = sorted(pool.map(lambda _: client.post("/v1/proofs", content=body, headers=WRITE).status_code, range(16)))
    assert codes == [200] * 15 + [201], str(codes)
    assert client.get("/v1/epochs/1").json()["proved"] == 1


def test_a_database_that_fails_answers_503_in_json(service_config: ServiceConfig, tmp_path: Path, published: Path,
                                                   bundle: ProofBundle) -> None:
    store = Store(connect(f"sqlite:///{tmp_path / 'broken.db'}"))
    with TestClient(create_app(service_config, store, API_KEY, rate=0)) as client:
        post_epoch_and_snapshot(client, published)
        with store.engine.begin() as conn:
            conn.execute(text("drop table proofs"))
        r = client.post("/v1/proofs", content=bundle.model_dump_json(), headers=WRITE)
    assert r.status_code == 503 and r.json() == {"error": "database unavailable: OperationalError; retry later"}


def test_a_proof_below_the_holders_minimum_is_kept_as_a_margin_call(service_config: ServiceConfig, db_url: str,
                                                                    published: Path, bundle: ProofBundle) -> None:
    strict = replace(service_config, registry={**service_config.registry, HOLDER: 16_000}, window_s=0)
    with TestClient(create_app(strict, Store(connect(db_url)), API_KEY, rate=0)) as client:
        post_epoch_and_snapshot(client, published)
        r = client.post("/v1/proofs", content=bundle.model_dump_json(), headers=WRITE)
        assert r.status_code == 201 and r.json()["status"] == "margin_call"
        calls = client.get("/v1/margin-calls").json()["margin_calls"]
        assert {c["holder"]: c["status"] for c in calls}[HOLDER] == "margin_call"
        assert sum(c["status"] == "late" for c in calls) == 6  # no window: everyone else is late
        counts = client.get("/v1/epochs/1").json()
        assert (counts["proved"], counts["below_requirement"], counts["missing"], counts["late"]) == (0, 1, 6, 6)


def test_writes_without_the_key_are_refused(client: TestClient, published: Path, bundle: ProofBundle) -> None:
    for path, body in (("/v1/epochs", (published / "epoch.json").read_bytes()), ("/v1/proofs", bundle.model_dump_json())):
        for headers in ({}, {"X-API-Key": "wrong-key-wrong-key"}):
            r = client.post(path, content=body, headers=headers)
            assert r.status_code == 401 and r.json() == {
                "error": "writes need the service's key in the X-API-Key header"}
    assert client.get("/v1/margin-calls").json() == {"epoch": None, "margin_calls": []}


def test_a_forged_epoch_is_refused_and_logged(client: TestClient, published: Path) -> None:
    epoch = json.loads((published / "epoch.json").read_text())
    epoch["accounts"] += 1
    r = client.post("/v1/epochs", content=json.dumps(epoch), headers=WRITE)
    assert r.status_code == 422 and "the signature is not the venue key's" in r.json()["error"]
    assert client.get("/v1/epochs/1").status_code == 404


def _forged(bundle: ProofBundle, **signals: str) -> str:
    return bundle.model_copy(update={"public_signals": bundle.public_signals.model_copy(update=signals)}).model_dump_json()


def test_malformed_and_forged_bodies_get_a_4xx_with_a_message_never_a_5xx(client: TestClient, published: Path,
                                                                         bundle: ProofBundle, db_url: str) -> None:
    post_epoch_and_snapshot(client, published)
    good = json.loads(bundle.model_dump_json())
    cases = {
        "not json": (b"{not json", 422, "malformed JSON"),
        "not utf-8": (b"\xff\xfe\x00", 422, "malformed JSON"),
        "empty": (b"", 422, "malformed JSON"),
        "wrong shape": (b"[1, 2, 3]", 422, "proof bundle"),
        "extra field": (json.dumps(good | {"trust_me": True}).encode(), 422, "trust_me"),
        "deep nesting": (b"[" * 100_000 + b"]" * 100_000, 413, "larger than"),
        "deep but small": (b'{"proof":' + b"[" * 5000 + b"]" * 5000 + b"}", 422, "proof bundle"),
        "huge": (b" " * (MAX_BODY + 1), 413, f"larger than {MAX_BODY} bytes"),
        "higher threshold": (_forged(bundle, threshold_bps="20000").encode(), 422, "does not verify"),
        "other holder": (_forged(bundle, holder=str(int("06133db8a79240464e1e5d016a0ec96f6da51615", 16))).encode(),
                         422, "does not verify"),
        "unregistered holder": (_forged(bundle, holder="12345").encode(), 422, "not an expected holder"),
        "unknown key": (bundle.model_copy(update={"vk_fingerprint": "ab" * 32}).model_dump_json().encode(), 422,
                        "not a key this service trusts"),
        "unknown epoch": (bundle.model_copy(update={"epoch": 7}).model_dump_json().encode(), 409, "epoch 7 has not"),
        "point off the curve": (json.dumps(good | {"proof": good["proof"] | {"pi_a": ["1", "3", "1"]}}).encode(),
                                422, "proof in bundle"),
        "coordinate >= q": (json.dumps(good | {"proof": good["proof"] | {"pi_c": [str(2**256), "1", "1"]}}).encode(),
                            422, "proof in bundle"),
    }
    for name, (body, status, message) in cases.items():
        r = client.post("/v1/proofs", content=body, headers=WRITE)
        assert r.status_code == status, (name, r.status_code, r.text)
        assert message in r.json()["error"] and "\n" not in r.json()["error"], (name, r.json())
    assert client.get("/v1/epochs/1").json()["proved"] == 0
    assert client.post("/v1/epochs", content=b"1e999999", headers=WRITE).status_code == 422
    # every refusal that reached the service is logged (the two oversized bodies stop at the edge)
    engine = connect(db_url)
    with engine.connect() as conn:
        reasons = conn.execute(select(rejections.c.path, rejections.c.reason)).all()
    engine.dispose()
    assert len(reasons) == len(cases) - 2 + 1
    assert ("/v1/proofs", "the Groth16 proof does not verify for these public signals") in reasons
    assert client.get("/v1/holders/not-a-holder").status_code == 422
    assert client.get("/v1/epochs/99999999999999999999").status_code in (404, 422)


def test_the_api_is_documented_at_docs(client: TestClient) -> None:
    assert "swagger" in client.get("/docs").text.lower()
    spec = client.get("/openapi.json").json()
    assert {"/v1/proofs", "/v1/epochs", "/v1/snapshots", "/v1/holders/{holder}", "/v1/epochs/{epoch}",
            "/v1/margin-calls"} <= set(spec["paths"])
    assert spec["paths"]["/v1/proofs"]["post"]["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ProofBundle"}
    assert "Groth16Proof" in spec["components"]["schemas"]


def test_a_client_over_its_rate_is_told_to_slow_down(service_config: ServiceConfig, tmp_path: Path) -> None:
    app = create_app(service_config, Store(connect(f"sqlite:///{tmp_path / 'r.db'}")), API_KEY, rate=1, burst=3)
    with TestClient(app) as client:
        codes = [client.get("/v1/margin-calls").status_code for _ in range(5)]
    assert codes[:3] == [200] * 3 and codes[3:] == [429, 429]


def test_the_snapshot_must_be_the_one_the_venue_signed(client: TestClient, published: Path) -> None:
    r = client.post("/v1/snapshots", content=(EXAMPLES / "snapshot_span16.json").read_bytes(), headers=WRITE)
    assert r.status_code == 409 and "post the venue's epoch 1" in r.json()["error"]
    client.post("/v1/epochs", content=(published / "epoch.json").read_bytes(), headers=WRITE)
    other = json.loads((EXAMPLES / "snapshot_span16.json").read_text())
    other["instruments"][0]["addon"] += 1  # a softer risk parameter than the venue signed
    r = client.post("/v1/snapshots", content=json.dumps(other), headers=WRITE)
    assert r.status_code == 422 and "is not the root the venue signed" in r.json()["error"], r.text
