"""Full-text search on PostgreSQL: a GIN index over the weighted title and text vectors, and
pg_trgm indexes for Chinese substrings (storage/search_postgresql.py). Nothing on SQLite,
whose FTS5 index (0002) does the same there.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# The expression storage.search_postgresql.DOCUMENT queries, word for word.
DOCUMENT = ("(setweight(to_tsvector('english'::regconfig, title), 'A') || "
            "setweight(to_tsvector('english'::regconfig, text), 'B'))")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")  # a trusted extension: the database owner may add it
    op.execute(f"CREATE INDEX ix_articles_search ON articles USING gin ({DOCUMENT})")
    op.execute("CREATE INDEX ix_articles_title_trigrams ON articles USING gin (title gin_trgm_ops)")
    op.execute("CREATE INDEX ix_articles_text_trigrams ON articles USING gin (text gin_trgm_ops)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for index in ("ix_articles_text_trigrams", "ix_articles_title_trigrams", "ix_articles_search"):
        op.execute(f"DROP INDEX IF EXISTS {index}")
