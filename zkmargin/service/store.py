"""Storage of the verification service: SQLAlchemy 2 Core tables, Alembic migrations.

Three tables: ``epochs`` (the venue's signed epoch files, the snapshot once posted), ``proofs``
(every proof that verified, once: keyed by the digest of its cryptographic content) and
``rejections`` (every refused submission: reason, digest when parsable, a body excerpt).
Every write is committed before the service answers, so an acknowledged proof survives a crash of
the process. Proofs go through a group commit (:class:`ProofWriter`): one writer thread inserts
whatever concurrent requests have queued in one transaction, then releases them all, so one disk
flush serves many proofs. SQLite runs in WAL mode with ``synchronous=FULL`` (an acknowledged write
survives power loss too) and a busy timeout, so other writers wait instead of failing.
"""

from __future__ import annotations

import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import (BigInteger, Boolean, Column, Engine, Float, Integer, MetaData, String, Table, Text,
                        create_engine, event, func, select)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import ArgumentError, DBAPIError

from zkmargin.errors import InputError

#: Largest epoch id the tables hold (BIGINT is signed 64-bit in PostgreSQL).
MAX_EPOCH = 2**63 - 1
#: Characters of a refused body kept in ``rejections.excerpt``.
EXCERPT_CHARS = 2048
#: Most proofs the writer commits in one transaction.
MAX_GROUP = 256

metadata = MetaData()

epochs = Table(
    "epochs", metadata,
    Column("epoch", BigInteger, primary_key=True, autoincrement=False),
    Column("venue", String(200), nullable=False),
    Column("account_root", String(80), nullable=False),
    Column("accounts", Integer, nullable=False),
    Column("received_at", Float, nullable=False),     # unix seconds, the service's clock
    Column("deadline", Float, nullable=False),        # unix seconds: proofs due by then
    Column("body", Text, nullable=False),             # epoch.json as posted (signature checked)
    Column("snapshot", Text, nullable=True),          # snapshot.json, once posted and matched
)

proofs = Table(
    "proofs", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("digest", String(64), nullable=False, unique=True),
    Column("epoch", BigInteger, nullable=False, index=True),
    Column("holder", String(80), nullable=False, index=True),
    Column("threshold_bps", Integer, nullable=False),
    Column("required_bps", Integer, nullable=False),
    Column("meets", Boolean, nullable=False),         # threshold_bps >= required_bps
    Column("circuit_id", String(64), nullable=False),
    Column("received_at", Float, nullable=False),
    Column("client", String(64), nullable=False),
    Column("body", Text, nullable=False),
)

rejections = Table(
    "rejections", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("received_at", Float, nullable=False),
    Column("client", String(64), nullable=False),
    Column("path", String(64), nullable=False),
    Column("digest", String(64), nullable=True),
    Column("reason", Text, nullable=False),
    Column("excerpt", Text, nullable=False),
)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def database_url(url: str) -> str:
    """``url`` with psycopg 3 as the PostgreSQL driver when none is named (SQLAlchemy's default is psycopg2)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def connect(url: str) -> Engine:
    """An engine on ``url`` (SQLite file or PostgreSQL), migrated to the latest schema."""
    try:
        engine = create_engine(database_url(url), pool_pre_ping=True,
                               **({"connect_args": {"timeout": 30}} if url.startswith("sqlite") else
                                  {"pool_size": 20, "max_overflow": 20}))
    except (ArgumentError, ImportError) as e:
        raise InputError(f"--db {url!r}: {e}") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    try:
        migrate(engine)
    except DBAPIError as e:
        raise InputError(f"--db {url!r}: cannot open the database: {str(e.orig).strip().splitlines()[0]}") from None
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def migrate(engine: Engine) -> None:
    """Bring the database to the latest Alembic revision (``zkmargin/service/migrations``)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def clean_text(text: str) -> str:
    """``text`` storable in any backend (PostgreSQL refuses NUL characters in TEXT)."""
    return text.replace("\x00", "\ufffd")


@dataclass(frozen=True)
class StoredProof:
    """A verified proof as stored: thresholds in bps of MM, ``meets`` = proven >= required, time in unix s."""

    digest: str
    epoch: int
    holder: str
    threshold_bps: int
    required_bps: int
    meets: bool
    received_at: float


class Store:
    """The service's reads and writes, each in its own transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._writer = ProofWriter(self)

    def _insert(self, table: Table) -> Any:
        """``INSERT ... ON CONFLICT DO NOTHING RETURNING <key>`` in the engine's dialect: a row comes back
        only if it was inserted (``rowcount`` cannot tell: psycopg reports -1 with implicit RETURNING)."""
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        return dialect.insert(table).on_conflict_do_nothing().returning(*table.primary_key.columns)

    def add_epoch(self, epoch: int, venue: str, account_root: str, accounts: int, body: str, window_s: float) -> bool:
        """Store an epoch once; False if it was already there (the first posting stands)."""
        now = time.time()
        with self.engine.begin() as conn:
            inserted = conn.execute(self._insert(epochs).values(
                epoch=epoch, venue=venue, account_root=account_root, accounts=accounts, received_at=now,
                deadline=now + window_s, body=body)).first()
        return inserted is not None

    def set_snapshot(self, epoch: int, body: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(epochs.update().where(epochs.c.epoch == epoch).values(snapshot=body))

    def epoch_row(self, epoch: int) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(select(epochs).where(epochs.c.epoch == epoch)).first()

    def epoch_ids(self) -> list[int]:
        with self.engine.connect() as conn:
            return [int(e) for e in conn.execute(select(epochs.c.epoch).order_by(epochs.c.epoch)).scalars()]

    def has_proof(self, digest: str) -> StoredProof | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(*_PROOF_COLUMNS).where(proofs.c.digest == digest)).first()
        return StoredProof(*row) if row else None

    def add_proof(self, proof: StoredProof, circuit_id: str, client: str, body: str) -> bool:
        """Store a verified proof once, committed on return; False if its digest was already stored."""
        return self._writer.submit(dict(
            digest=proof.digest, epoch=proof.epoch, holder=proof.holder, threshold_bps=proof.threshold_bps,
            required_bps=proof.required_bps, meets=proof.meets, circuit_id=circuit_id,
            received_at=proof.received_at, client=client[:64], body=body))

    def insert_proofs(self, rows: list[dict[str, Any]]) -> list[bool]:
        """Insert ``rows`` in one transaction; per row, whether it was new (False: digest already stored)."""
        statement = self._insert(proofs)
        with self.engine.begin() as conn:
            return [conn.execute(statement.values(**row)).first() is not None for row in rows]

    def reject(self, client: str, path: str, reason: str, excerpt: bytes, digest: str | None = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(rejections.insert().values(
                received_at=time.time(), client=client[:64], path=path[:64], digest=digest,
                reason=clean_text(reason), excerpt=clean_text(excerpt[:EXCERPT_CHARS].decode("utf-8", "replace"))))

    def best_thresholds(self, epoch: int) -> dict[str, int]:
        """The highest verified threshold per holder in ``epoch`` (bps)."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(proofs.c.holder, func.max(proofs.c.threshold_bps))
                                .where(proofs.c.epoch == epoch).group_by(proofs.c.holder))
            return {h: int(t) for h, t in rows}

    def histories(self, holders: list[str]) -> dict[str, dict[int, int]]:
        """The highest verified threshold of each of ``holders`` per epoch (bps), in one query."""
        out: dict[str, dict[int, int]] = {h: {} for h in holders}
        with self.engine.connect() as conn:
            rows = conn.execute(select(proofs.c.holder, proofs.c.epoch, func.max(proofs.c.threshold_bps))
                                .where(proofs.c.holder.in_(holders)).group_by(proofs.c.holder, proofs.c.epoch))
            for holder, epoch, bps in rows:
                out[holder][int(epoch)] = int(bps)
        return out

    def counts(self) -> dict[str, int]:
        """Rows per table (proofs, rejections, epochs)."""
        with self.engine.connect() as conn:
            return {t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one())
                    for t in (proofs, rejections, epochs)}


class ProofWriter:
    """Group commit: requests queue their rows and wait; one thread commits what is queued at once."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._queue: queue.SimpleQueue[tuple[dict[str, Any], Future[bool]]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, row: dict[str, Any]) -> bool:
        """Queue ``row`` and wait until its transaction is committed (or re-raise its error)."""
        done: Future[bool] = Future()
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="zkmargin-proof-writer", daemon=True)
                self._thread.start()
        self._queue.put((row, done))
        return done.result()

    def _run(self) -> None:
        while True:
            group = [self._queue.get()]
            while len(group) < MAX_GROUP:
                try:
                    group.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                created = self.store.insert_proofs([row for row, _ in group])
            except Exception as e:  # noqa: BLE001 - every waiter gets the database's error
                for _, done in group:
                    done.set_exception(e)
                continue
            for (_, done), new in zip(group, created, strict=True):
                done.set_result(new)


_PROOF_COLUMNS = (proofs.c.digest, proofs.c.epoch, proofs.c.holder, proofs.c.threshold_bps, proofs.c.required_bps,
                  proofs.c.meets, proofs.c.received_at)
