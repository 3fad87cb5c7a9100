"""Alembic, driven from code: the store's schema versions live in versions/."""

from __future__ import annotations

import atexit
import functools
import re
import shutil
import tempfile
from importlib.resources import files
from pathlib import Path

from sqlalchemy import Engine, inspect, text

_HERE = Path(__file__).parent
# what each revision file declares; read without Alembic, which only upgrades need
_DECLARED = re.compile(r'^(down_revision|revision)\s*=\s*(?:"([^"]*)"|None)', re.MULTILINE)


def _config(engine: Engine | None = None):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", _script_location())
    config.attributes["engine"] = engine
    return config


@functools.cache
def _script_location() -> str:
    """Alembic reads its scripts from a folder: when this package is inside a zipped egg (as
    Scrapyd runs the project) they are copied out to a temporary one."""
    if _HERE.is_dir():
        return str(_HERE)
    folder = Path(tempfile.mkdtemp(prefix="newscrawl-migrations-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    _copy_tree(files(__name__), folder)
    return str(folder)


def _copy_tree(source, target: Path) -> None:
    for entry in source.iterdir():
        if entry.is_dir():
            (target / entry.name).mkdir()
            _copy_tree(entry, target / entry.name)
        else:
            (target / entry.name).write_bytes(entry.read_bytes())


@functools.cache
def _revisions() -> dict[str, str | None]:
    """Every revision of versions/, with the one it revises."""
    revisions = {}
    for entry in files(__name__).joinpath("versions").iterdir():
        if entry.name.endswith(".py"):
            declared = {name: value or None for name, value in _DECLARED.findall(entry.read_text(encoding="utf-8"))}
            if declared.get("revision"):
                revisions[declared["revision"]] = declared.get("down_revision")
    return revisions


def head_revision() -> str:
    """The revision no other revises: the schema this newscrawl writes."""
    revisions = _revisions()
    heads = set(revisions) - set(revisions.values())
    if len(heads) != 1:
        raise RuntimeError(f"the migrations must form one chain; they end in {sorted(heads)}")
    return heads.pop()


def is_known(revision: str) -> bool:
    return revision in _revisions()


def current_revision(engine: Engine) -> str | None:
    """The store's revision, as Alembic records it (None for a database it never touched)."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(_config(engine), revision)
