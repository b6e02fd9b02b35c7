"""kill -9 under load, on SQLite and PostgreSQL: every acknowledged proof survives, nothing is half-written.

A real server process receives a few hundred distinct valid proofs (re-randomised) from 8
concurrent clients; it is killed with SIGKILL mid-load and restarted on the same database, which
must hold every proof it acknowledged (2xx), each row whole (its body parses and hashes to its
digest), and go on verifying (the epoch's policy rebuilt from the database).
"""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import create_engine, select, text

from prover.setup import KeySet
from tests.service.conftest import API_KEY, EXAMPLES
from tests.service.proofs import variants
from tests.service.server import Server
from zkmargin.bundle import ProofBundle
from zkmargin.service.policy import proof_digest
from zkmargin.service.store import database_url, proofs
from zkmargin.venue import public_key_hex

SUBMISSIONS = 300
CLIENTS = 8
KILL_AFTER = 100  # acknowledged proofs before the kill


def test_kill_9_mid_load_loses_no_acknowledged_proof(db_url: str, keys: KeySet, venue_key: Ed25519PrivateKey,
                                                       published: Path, bundle: ProofBundle) -> None:
    bodies = [b.model_dump_json() for b in variants(bundle, SUBMISSIONS)]
    headers = {"X-API-Key": API_KEY}
    start = (db_url, public_key_hex(venue_key.public_key()), keys.vk, API_KEY)
    server = Server.start(*start)
    acked: list[str] = []
    lock = threading.Lock()
    killed = threading.Event()

    def client(share: list[str]) -> None:
        with httpx.Client(base_url=server.url, headers=headers, timeout=30) as http:
            for body in share:
                try:
                    r = http.post("/v1/proofs", content=body)
                except httpx.TransportError:
                    return  # the server died: this submission was never acknowledged
                assert r.status_code in (200, 201), r.text
                with lock:
                    acked.append(r.json()["digest"])
                    if len(acked) >= KILL_AFTER and not killed.is_set():
                        killed.set()
                        server.kill()

    try:
        with httpx.Client(base_url=server.url, headers=headers) as http:
            assert http.post("/v1/epochs", content=(published / "epoch.json").read_bytes()).status_code == 201
            assert http.post("/v1/snapshots", content=(EXAMPLES / "snapshot_span16.json").read_bytes()).status_code == 200
        threads = [threading.Thread(target=client, args=(bodies[i::CLIENTS],)) for i in range(CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert killed.is_set() and KILL_AFTER <= len(acked) < SUBMISSIONS
    finally:
        if server.proc.poll() is None:
            server.kill()

    server = Server.start(*start)
    try:
        with httpx.Client(base_url=server.url, headers=headers, timeout=30) as http:
            missing = [d for d in acked if http.get(f"/v1/proofs/{d}").status_code != 200]
            assert missing == []
            r = http.post("/v1/proofs", content=bodies[-1])  # verifies after the restart
            assert r.status_code in (200, 201) and r.json()["status"] == "healthy"
    finally:
        server.stop()

    engine = create_engine(database_url(db_url))
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            assert conn.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
        rows = conn.execute(select(proofs.c.digest, proofs.c.body)).all()
    engine.dispose()
    assert all(proof_digest(ProofBundle.model_validate_json(body)) == digest for digest, body in rows)
    assert set(acked) <= {d for d, _ in rows} and len(rows) == len({d for d, _ in rows})
