"""The HTML of every page: an article's further pages (article_pages), and the pages extraction
failed on (failed_pages, with their further pages in failed_page_pages), so that `newscrawl
re-extract` reads whole articles and retries failed pages without a refetch.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "article_pages",
        sa.Column("article_id", sa.Integer(), sa.ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("page", sa.Integer(), primary_key=True),
        sa.Column("raw_html", sa.LargeBinary(), nullable=False),
    )
    op.create_table(
        "failed_pages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("url", sa.String(2048), nullable=False, unique=True),
        sa.Column("site", sa.String(64), nullable=False),
        sa.Column("raw_html", sa.LargeBinary(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("crawl_runs.id"), nullable=True),
        sa.Column("failed_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_failed_pages_site", "failed_pages", ["site"])
    op.create_table(
        "failed_page_pages",
        sa.Column("failed_page_id", sa.Integer(), sa.ForeignKey("failed_pages.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("page", sa.Integer(), primary_key=True),
        sa.Column("raw_html", sa.LargeBinary(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("failed_page_pages")
    op.drop_index("ix_failed_pages_site", "failed_pages")
    op.drop_table("failed_pages")
    op.drop_table("article_pages")
