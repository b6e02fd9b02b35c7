"""The verification service: proofs in, margin status out, for a protocol's risk desk.

``zkmargin serve`` runs :func:`zkmargin.service.app.create_app` under uvicorn. The venue posts each
epoch's signed ``epoch.json`` and its public snapshot; traders post proof bundles; the service
verifies each against its policy (:mod:`zkmargin.service.policy`), keeps every verdict in a
database (:mod:`zkmargin.service.store`, SQLAlchemy 2 + Alembic: SQLite by default, PostgreSQL in
production) and reports per holder and per epoch: healthy, below requirement (margin call),
pending or late. The dashboard (:mod:`zkmargin.service.dashboard`) is served by the same app.
"""
