"""The first schema: epochs, proofs, rejections.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "epochs",
        sa.Column("epoch", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("venue", sa.String(200), nullable=False),
        sa.Column("account_root", sa.String(80), nullable=False),
        sa.Column("accounts", sa.Integer, nullable=False),
        sa.Column("received_at", sa.Float, nullable=False),
        sa.Column("deadline", sa.Float, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("snapshot", sa.Text, nullable=True),
    )
    op.create_table(
        "proofs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("digest", sa.String(64), nullable=False, unique=True),
        sa.Column("epoch", sa.BigInteger, nullable=False, index=True),
        sa.Column("holder", sa.String(80), nullable=False, index=True),
        sa.Column("threshold_bps", sa.Integer, nullable=False),
        sa.Column("required_bps", sa.Integer, nullable=False),
        sa.Column("meets", sa.Boolean, nullable=False),
        sa.Column("circuit_id", sa.String(64), nullable=False),
        sa.Column("received_at", sa.Float, nullable=False),
        sa.Column("client", sa.String(64), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
    )
    op.create_table(
        "rejections",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("received_at", sa.Float, nullable=False),
        sa.Column("client", sa.String(64), nullable=False),
        sa.Column("path", sa.String(64), nullable=False),
        sa.Column("digest", sa.String(64), nullable=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("excerpt", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for table in ("rejections", "proofs", "epochs"):
        op.drop_table(table)
