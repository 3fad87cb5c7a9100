"""Truthful run outcomes: warnings, errors by kind, and who runs a crawl (host, pid, heartbeat).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("crawl_runs") as runs:
        runs.add_column(sa.Column("warnings", sa.JSON(), nullable=True))
        runs.add_column(sa.Column("errors_by_kind", sa.JSON(), nullable=True))
        runs.add_column(sa.Column("host", sa.String(255), nullable=True))
        runs.add_column(sa.Column("pid", sa.Integer(), nullable=True))
        runs.add_column(sa.Column("heartbeat_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("crawl_runs") as runs:
        for name in ("heartbeat_at", "pid", "host", "errors_by_kind", "warnings"):
            runs.drop_column(name)
