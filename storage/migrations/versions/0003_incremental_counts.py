"""What an incremental crawl did not fetch: crawl_runs.articles_skipped and not_modified.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("crawl_runs") as runs:
        runs.add_column(sa.Column("articles_skipped", sa.Integer(), nullable=False, server_default="0"))
        runs.add_column(sa.Column("not_modified", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("crawl_runs") as runs:
        runs.drop_column("not_modified")
        runs.drop_column("articles_skipped")
