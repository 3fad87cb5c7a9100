"""An index of the articles' language, site and publication date: search's --language (alone or
with --site, --since, --until) reads the ids it keeps from it rather than from the articles table
(storage/store.py, Store.search).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # if_not_exists: a store whose version was set back by hand (tests replay 0007 so) has it already
    op.create_index("ix_articles_language_site_published", "articles", ["language", "site", "published"],
                    if_not_exists=True)


def downgrade() -> None:
    op.drop_index("ix_articles_language_site_published", "articles")
