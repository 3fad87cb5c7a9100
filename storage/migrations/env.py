"""Alembic environment: runs migrations on the engine the Store hands over."""

from alembic import context

from storage.models import Base

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,  # SQLite can only ALTER tables by copying them
    )
    with context.begin_transaction():
        context.run_migrations()
