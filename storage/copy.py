"""Copying a whole store to another database (SQLite to PostgreSQL and back): every table of the
schema, rows with their ids, crawl runs and history included.

Resumable: each table is copied in primary-key order, a batch per transaction, so an interrupted
copy goes on after the last row the target holds. A column that refers to its own table
(articles.duplicate_of: a cluster's root may be stored after its copies) is filled in a second
pass, once every row it may refer to is there. At the end both stores are read again, table by
table, and compared by row count and a hash of every row.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, Engine, Table, bindparam, func, insert, select, text, tuple_, update

from storage.store import Store, StoreError
from storage.tables import metadata

BATCH = 500  # rows per transaction on the target


@dataclass(frozen=True)
class TableCheck:
    table: str
    source_rows: int
    target_rows: int
    source_hash: str
    target_hash: str

    @property
    def equal(self) -> bool:
        return self.source_rows == self.target_rows and self.source_hash == self.target_hash


def copy_store(source_url: str, target_url: str,
               progress: Callable[[str, int], None] = lambda table, rows: None) -> list[TableCheck]:
    """Copy the store at source_url into target_url (created when new; a partial copy of the same
    store is completed). progress(table, rows copied so far) is called after each batch.
    Returns the check of every table; raises StoreError when either store cannot be used or the
    target holds rows of another store."""
    if source_url == target_url:
        raise StoreError("the source and the target of a copy are the same store")
    source = Store(source_url, create=False)
    try:
        target = Store(target_url)
        try:
            for table in metadata.sorted_tables:
                _copy_table(source.engine, target.engine, table, lambda rows, name=table.name: progress(name, rows))
            for table in metadata.sorted_tables:
                _copy_self_references(source.engine, target.engine, table)
                _advance_sequence(target.engine, table)
            return [check_table(source.engine, target.engine, table) for table in metadata.sorted_tables]
        finally:
            target.close()
    finally:
        source.close()


def _primary_key(table: Table) -> list:
    return list(table.primary_key.columns)


def _self_references(table: Table) -> list:
    return [column for column in table.columns if any(key.column.table is table for key in column.foreign_keys)]


def _copy_table(source: Engine, target: Engine, table: Table, progress: Callable[[int], None]) -> None:
    key = _primary_key(table)
    deferred = {column.name for column in _self_references(table)}
    with target.connect() as connection:
        last = connection.execute(select(*key).order_by(*(column.desc() for column in key)).limit(1)).first()
        copied = connection.execute(select(func.count()).select_from(table)).scalar()
    if last is not None:
        _check_same_row(source, target, table, last)
    query = select(table).order_by(*key)
    if last is not None:
        query = query.where(tuple_(*key) > tuple_(*last))
    with source.connect() as reading:
        for batch in _batches(reading.execution_options(yield_per=BATCH).execute(query)):
            rows = [{name: None if name in deferred else value for name, value in row.items()} for row in batch]
            with target.begin() as writing:
                writing.execute(insert(table), rows)
            copied += len(rows)
            progress(copied)


def _batches(result) -> Iterator[list[dict]]:
    for partition in result.mappings().partitions(BATCH):
        yield [dict(row) for row in partition]


def _check_same_row(source: Engine, target: Engine, table: Table, key_values) -> None:
    """The target's last row must be the source's row of that key: else it is another store."""
    condition = tuple_(*_primary_key(table)) == tuple_(*key_values)
    with source.connect() as ours, target.connect() as theirs:
        if _row_digest(ours, table, condition) != _row_digest(theirs, table, condition):
            raise StoreError(f"the target already holds other {table.name} than the source's; "
                             "copy into an empty database")


def _row_digest(connection: Connection, table: Table, condition) -> str | None:
    """The row's digest without the columns filled in last (_copy_self_references)."""
    skipped = {column.name for column in _self_references(table)}
    row = connection.execute(select(table).where(condition)).mappings().first()
    if row is None:
        return None
    return _digest(value for name, value in row.items() if name not in skipped)


def _copy_self_references(source: Engine, target: Engine, table: Table) -> None:
    columns = _self_references(table)
    if not columns:
        return
    key = _primary_key(table)
    query = select(*key, *columns).where(*(column.isnot(None) for column in columns)).order_by(*key)
    statement = (update(table).where(*(column == bindparam(f"key_{column.name}") for column in key))
                 .values({column.name: bindparam(f"value_{column.name}") for column in columns}))
    with source.connect() as reading:
        for batch in _batches(reading.execution_options(yield_per=BATCH).execute(query)):
            with target.begin() as writing:
                writing.execute(statement, [
                    {**{f"key_{column.name}": row[column.name] for column in key},
                     **{f"value_{column.name}": row[column.name] for column in columns}} for row in batch])


def _advance_sequence(target: Engine, table: Table) -> None:
    """Rows were inserted with their ids: PostgreSQL's id sequence must go on after the largest."""
    if target.dialect.name != "postgresql" or table.autoincrement_column is None:
        return
    column = table.autoincrement_column.name
    with target.begin() as connection:
        connection.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column}'), "
                                f"COALESCE((SELECT MAX({column}) FROM {table.name}), 0) + 1, false)"))


def check_table(source: Engine, target: Engine, table: Table) -> TableCheck:
    """Row counts and hashes of every row (in primary-key order) of the table in both stores."""
    (source_rows, source_hash), (target_rows, target_hash) = (_table_digest(engine, table)
                                                              for engine in (source, target))
    return TableCheck(table.name, source_rows, target_rows, source_hash, target_hash)


def _table_digest(engine: Engine, table: Table) -> tuple[int, str]:
    digest, rows = hashlib.sha256(), 0
    with engine.connect() as connection:
        result = connection.execution_options(yield_per=BATCH).execute(select(table).order_by(*_primary_key(table)))
        for row in result:
            digest.update(_digest(row).encode())
            rows += 1
    return rows, digest.hexdigest()


def _digest(values) -> str:
    """One row in a form that is the same whichever database it was read from."""
    parts = []
    for value in values:
        if isinstance(value, (bytes, memoryview)):
            value = hashlib.sha256(bytes(value)).hexdigest()
        elif isinstance(value, (datetime, date)):
            value = value.isoformat()
        parts.append(repr(value))
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
