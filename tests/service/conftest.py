"""Fixtures of the verification service tests: the service config, a database per backend.

``db_url`` runs a test on SQLite (a file in tmp) and on PostgreSQL: a fresh database on the
server named by ``$ZKMARGIN_TEST_POSTGRES`` (default: the ``zkmargin`` role on 127.0.0.1, which
``.ci/run`` creates), dropped afterwards. Where PostgreSQL cannot be reached the PostgreSQL cases
are skipped saying so; with ``CI=true`` they fail instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from prover.setup import KeySet
from zkmargin.service.app import create_app
from zkmargin.service.policy import ServiceConfig, load_registry
from zkmargin.service.store import Store, connect, database_url

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
POSTGRES_ADMIN = os.environ.get("ZKMARGIN_TEST_POSTGRES", "postgresql://zkmargin:zkmargin@127.0.0.1:5432/postgres")
API_KEY = "test-write-key-0123456789"
HOLDER = "0xb522d572e97d82da713788719c24beca7f5cabc8"  # the hedged market maker (examples/ledger.jsonl)


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The admin URL of a reachable PostgreSQL server (skip, or fail under CI, if there is none)."""
    try:
        with create_engine(database_url(POSTGRES_ADMIN)).connect() as conn:
            conn.execute(text("select 1"))
    except DBAPIError as e:
        message = f"PostgreSQL is not reachable at {POSTGRES_ADMIN.split('@')[-1]}: {str(e.orig).strip()[:200]}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message + " (.ci/run installs and starts it)")
    return POSTGRES_ADMIN


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'service.db'}"
        return
    admin = request.getfixturevalue("postgres_server")
    name = f"zkmargin_test_{uuid.uuid4().hex[:12]}"
    engine = create_engine(database_url(admin), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f"create database {name}"))
    yield admin.rsplit("/", 1)[0] + "/" + name
    with engine.connect() as conn:
        conn.execute(text(f"drop database {name} with (force)"))
    engine.dispose()


@pytest.fixture(scope="session")
def registry() -> dict[str, int]:
    return load_registry(EXAMPLES / "holders.json")


@pytest.fixture(scope="session")
def service_config(keys: KeySet, venue_key: Ed25519PrivateKey, registry: dict[str, int]) -> ServiceConfig:
    return ServiceConfig.build(venue_key.public_key(), [keys.vk], "portfolio", registry, 3600.0, "native")


@pytest.fixture
def client(service_config: ServiceConfig, db_url: str) -> Iterator[TestClient]:
    """The service on ``db_url`` (rate limit off), without the write key by default."""
    with TestClient(create_app(service_config, Store(connect(db_url)), API_KEY, rate=0)) as c:
        yield c


WRITE = {"X-API-Key": API_KEY}


def post_epoch_and_snapshot(client: TestClient, published: Path) -> None:
    """Post the example epoch and its snapshot, as the venue would."""
    r = client.post("/v1/epochs", content=(published / "epoch.json").read_bytes(), headers=WRITE)
    assert r.status_code == 201, r.text
    r = client.post("/v1/snapshots", content=(EXAMPLES / "snapshot_span16.json").read_bytes(), headers=WRITE)
    assert r.status_code == 200, r.text
