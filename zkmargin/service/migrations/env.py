"""Alembic environment: run by :func:`zkmargin.service.store.migrate` on the service's own connection."""

from alembic import context

from zkmargin.service.store import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata)
with context.begin_transaction():
    context.run_migrations()
