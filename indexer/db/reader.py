"""Reading the index in plain SQL, for the commands that only read (find, people, show, errors, status).

On SQLite (the default) the statements run through the standard library's ``sqlite3`` on a read-only
connection, so those commands start without importing SQLAlchemy (~0.2 s, most of their cold start);
on any other database they run through SQLAlchemy's ``text()``, the very same statements, with
``:name`` parameters, which both understand. A database that does not exist yet or has an older schema
is first opened as a Library (created or upgraded, as every command does), then read.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from pathlib import Path
from collections.abc import Iterator
from typing import Any

from indexer.config import Config
from indexer.db import SCHEMA_HEAD
from indexer.errors import DatabaseError
from indexer.files import keep_private

SQLITE_PREFIX = "sqlite:///"


class Reader:
    """A read-only connection to the index's database; ``rows`` runs one SELECT."""

    def __init__(self, connection: Any, through_sqlalchemy: bool):
        self._connection = connection
        self._through_sqlalchemy = through_sqlalchemy

    @classmethod
    def open(cls, config: Config) -> Reader:
        url = config.storage.url
        path = sqlite_path(url)
        if config.storage.data_dir.is_dir():
            keep_private(config.storage.data_dir, path)
        if path is not None:
            connection = _connect_read_only(path) if path.is_file() else None
            if connection is not None and _at_head(connection):
                return cls(connection, through_sqlalchemy=False)
            if connection is not None:
                connection.close()
            _prepare(config)
            return cls(_connect_read_only(path), through_sqlalchemy=False)
        _prepare(config)
        from sqlalchemy import create_engine

        return cls(create_engine(url).connect(), through_sqlalchemy=True)

    def rows(self, sql: str, **params: Any) -> list[tuple]:
        if self._through_sqlalchemy:
            from sqlalchemy import text

            return [tuple(row) for row in self._connection.execute(text(sql), params)]
        return self._connection.execute(sql, params).fetchall()

    def stream(self, sql: str, batch: int = 1000, **params: Any) -> Iterator[tuple]:
        """The rows of one SELECT, ``batch`` at a time from the database, so that millions of rows never
        sit in memory at once."""
        if self._through_sqlalchemy:
            from sqlalchemy import text

            result = self._connection.execution_options(stream_results=True, yield_per=batch).execute(text(sql), params)
            for row in result:
                yield tuple(row)
            return
        cursor = self._connection.execute(sql, params)
        while rows := cursor.fetchmany(batch):
            yield from rows

    def value(self, sql: str, **params: Any) -> Any:
        """The first column of the first row (None when there is no row)."""
        found = self.rows(sql, **params)
        return found[0][0] if found else None

    def close(self) -> None:
        self._connection.close()

    def __enter__(self) -> Reader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def sqlite_path(url: str) -> Path | None:
    """The file of a plain SQLite URL (``sqlite:////abs/path.db``); None for any other URL (another
    database, an in-memory one, or one with options, which SQLAlchemy reads)."""
    if not url.startswith(SQLITE_PREFIX) or "?" in url:
        return None
    path = url[len(SQLITE_PREFIX):]
    return Path(path) if path not in ("", ":memory:") else None


def _connect_read_only(path: Path) -> sqlite3.Connection:
    try:
        connection = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)
        connection.execute("PRAGMA busy_timeout = 30000")  # a nightly run may be committing
        return connection
    except sqlite3.Error as e:
        raise DatabaseError(f"cannot open the database {path}: {e}") from e


def _at_head(connection: sqlite3.Connection) -> bool:
    """Whether the database has the schema this version writes."""
    try:
        return connection.execute("SELECT version_num FROM alembic_version").fetchall() == [(SCHEMA_HEAD,)]
    except sqlite3.Error:  # no such table: a new or foreign file
        return False


def _prepare(config: Config) -> None:
    """Create or upgrade the database the way every command does (refusing one from a newer indexer)."""
    from indexer.library import Library

    Library(config)


def as_datetime(value: Any) -> datetime | None:
    """A timestamp as stored (SQLite gives text, other databases a datetime); naive, in UTC."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


def as_json(value: Any) -> Any:
    """A JSON column as stored (SQLite gives text, other databases the decoded value)."""
    return json.loads(value) if isinstance(value, str) else value
