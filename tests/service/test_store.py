"""The service's storage: the Alembic migrations build exactly the tables the code uses, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from zkmargin.service.store import connect, metadata


def test_the_migrations_build_exactly_the_tables_the_service_uses(db_url: str) -> None:
    connect(db_url).dispose()
    engine = connect(db_url)  # a second start finds the schema current and changes nothing
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    engine.dispose()
