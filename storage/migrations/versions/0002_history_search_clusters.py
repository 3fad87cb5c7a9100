"""Per-article fetch history, run errors, near-duplicate clusters, full-text search.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# SQLite's FTS5 index over titles and bodies, kept in sync by triggers
# (external content: the text is stored once, in articles).
FTS_SQLITE = [
    "CREATE VIRTUAL TABLE articles_fts USING fts5("
    "title, text, content='articles', content_rowid='id', tokenize='unicode61')",
    "CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN "
    "INSERT INTO articles_fts(rowid, title, text) VALUES (new.id, new.title, new.text); END",
    "CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN "
    "INSERT INTO articles_fts(articles_fts, rowid, title, text) VALUES ('delete', old.id, old.title, old.text); END",
    "CREATE TRIGGER articles_fts_update AFTER UPDATE OF title, text ON articles BEGIN "
    "INSERT INTO articles_fts(articles_fts, rowid, title, text) VALUES ('delete', old.id, old.title, old.text); "
    "INSERT INTO articles_fts(rowid, title, text) VALUES (new.id, new.title, new.text); END",
    "INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')",
]


def upgrade() -> None:
    with op.batch_alter_table("articles") as articles:
        articles.add_column(sa.Column("duplicate_of", sa.Integer(), nullable=True))
        articles.create_index("ix_articles_duplicate_of", ["duplicate_of"])
        articles.create_foreign_key("fk_articles_duplicate_of", "articles", ["duplicate_of"], ["id"])
    with op.batch_alter_table("crawl_runs") as runs:
        runs.add_column(sa.Column("error", sa.Text(), nullable=True))
    op.create_table(
        "article_fetches",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("article_id", sa.Integer(), sa.ForeignKey("articles.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("crawl_runs.id"), nullable=True),
        sa.Column("fetched_at", sa.DateTime(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
    )
    op.create_table(
        "near_duplicate_bands",
        sa.Column("band", sa.Integer(), primary_key=True),
        sa.Column("bucket", sa.String(32), primary_key=True),
        sa.Column("article_id", sa.Integer(), sa.ForeignKey("articles.id", ondelete="CASCADE"),
                  primary_key=True, index=True),
    )
    if op.get_bind().dialect.name == "sqlite":
        for statement in FTS_SQLITE:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("articles_fts_insert", "articles_fts_delete", "articles_fts_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS articles_fts")
    op.drop_table("near_duplicate_bands")
    op.drop_table("article_fetches")
    with op.batch_alter_table("crawl_runs") as runs:
        runs.drop_column("error")
    with op.batch_alter_table("articles") as articles:
        articles.drop_constraint("fk_articles_duplicate_of", type_="foreignkey")
        articles.drop_index("ix_articles_duplicate_of")
        articles.drop_column("duplicate_of")
