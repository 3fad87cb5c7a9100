"""Chinese full-text search: a second FTS5 index that reads Chinese as overlapping pairs of characters.

The index of revision 0002 (`articles_fts`) stays as it is for queries without Chinese, so
that their results and ranking do not change; queries with Chinese use `articles_fts_cjk`.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from alembic import op

from storage import search_text

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

FUNCTION = search_text.SQL_FUNCTION


def _indexed(row: str) -> str:
    """The title and text of a trigger's row (new, old) as the index reads them."""
    return f"{FUNCTION}({row}.title), {FUNCTION}({row}.text)"


# The index reads titles and texts through a view that turns runs of CJK characters into their
# pairs (storage/search_text.py); highlight() and snippet() read that view too. Triggers keep it
# in step with the articles, as those of 0002 do articles_fts.
FTS_SQLITE = [
    f"CREATE VIEW articles_fts_cjk_text AS SELECT id, {FUNCTION}(title) AS title, {FUNCTION}(text) AS text "
    "FROM articles",
    # prefix='1': an index of every token's first character, which a one-character query reads
    # instead of merging the lists of every pair that character starts (4x faster measured at
    # 20,000 articles, for an index 60% larger)
    "CREATE VIRTUAL TABLE articles_fts_cjk USING fts5("
    "title, text, content='articles_fts_cjk_text', content_rowid='id', tokenize='unicode61', prefix='1')",
    "CREATE TRIGGER articles_fts_cjk_insert AFTER INSERT ON articles BEGIN "
    f"INSERT INTO articles_fts_cjk(rowid, title, text) VALUES (new.id, {_indexed('new')}); END",
    "CREATE TRIGGER articles_fts_cjk_delete AFTER DELETE ON articles BEGIN "
    "INSERT INTO articles_fts_cjk(articles_fts_cjk, rowid, title, text) "
    f"VALUES ('delete', old.id, {_indexed('old')}); END",
    "CREATE TRIGGER articles_fts_cjk_update AFTER UPDATE OF title, text ON articles BEGIN "
    "INSERT INTO articles_fts_cjk(articles_fts_cjk, rowid, title, text) "
    f"VALUES ('delete', old.id, {_indexed('old')}); "
    f"INSERT INTO articles_fts_cjk(rowid, title, text) VALUES (new.id, {_indexed('new')}); END",
    "INSERT INTO articles_fts_cjk(articles_fts_cjk) VALUES ('rebuild')",  # the stored articles
]


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    # the store's own connections register it too (Store); this one may come from elsewhere
    search_text.register_sql_function(op.get_bind().connection.driver_connection)
    for statement in FTS_SQLITE:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for name in ("articles_fts_cjk_insert", "articles_fts_cjk_delete", "articles_fts_cjk_update"):
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE IF EXISTS articles_fts_cjk")
    op.execute("DROP VIEW IF EXISTS articles_fts_cjk_text")
