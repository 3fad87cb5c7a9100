"""The other URLs that led to a stored article: url_aliases.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "url_aliases",
        sa.Column("url", sa.String(2048), primary_key=True),
        sa.Column("article_id", sa.Integer(), sa.ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
    )
    op.create_index("ix_url_aliases_article_id", "url_aliases", ["article_id"])


def downgrade() -> None:
    op.drop_index("ix_url_aliases_article_id", "url_aliases")
    op.drop_table("url_aliases")
