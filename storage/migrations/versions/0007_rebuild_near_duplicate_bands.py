"""Near-duplicate buckets computed anew: MinHash now hashes shingles with CRC-32 and numpy
(storage/near_duplicates.py), so the buckets stored before no longer match those of new texts.
The clusters (articles.duplicate_of) are kept as they are.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

from storage.near_duplicates import Fingerprint

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_ARTICLES = sa.table("articles", sa.column("id", sa.Integer), sa.column("text", sa.Text))
_BANDS = sa.table("near_duplicate_bands", sa.column("band", sa.Integer), sa.column("bucket", sa.String),
                  sa.column("article_id", sa.Integer))
_CHUNK = 500  # articles re-indexed per statement


def upgrade() -> None:
    connection = op.get_bind()
    connection.execute(sa.delete(_BANDS))
    last_id = 0
    while True:
        chunk = connection.execute(sa.select(_ARTICLES.c.id, _ARTICLES.c.text).where(_ARTICLES.c.id > last_id)
                                   .order_by(_ARTICLES.c.id).limit(_CHUNK)).all()
        if not chunk:
            return
        rows = [{"band": band, "bucket": bucket, "article_id": article_id}
                for article_id, text in chunk for band, bucket in Fingerprint.of(text).band_keys()]
        if rows:
            connection.execute(sa.insert(_BANDS), rows)
        last_id = chunk[-1].id


def downgrade() -> None:
    """The buckets of the earlier scheme are not rebuilt: an older newscrawl would find no
    near-duplicates among the articles stored before it until they are crawled again."""
    op.get_bind().execute(sa.delete(_BANDS))
