"""Reading the index in plain SQL (the statements are ``db.reads``): the read-only commands (find, people,
show, errors, status, history, clusters, export) and every other reader of those facts.

On SQLite (the default) the statements run through the standard library's ``sqlite3`` on a read-only
connection, so those commands start without importing SQLAlchemy (~0.2 s, most of their cold start);
on any other database, and inside a write transaction, through SQLAlchemy's ``text()``: the very same
statements, with ``:name`` parameters, which both understand.

Reading never creates or changes a database: a database that does not exist yet reads as empty, and
one with an older schema is refused with the command that upgrades it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from indexer.db import SCHEMA_HEAD
from indexer.db.urls import SQLITE, backend, database_name, missing_driver, plain_sqlite_file, shown
from indexer.errors import DatabaseError
from indexer.files import keep_private

if TYPE_CHECKING:
    from indexer.config import Config


class Reader:
    """A read-only connection to the index's database; ``rows`` runs one SELECT."""

    def __init__(self, connection: Any, through_sqlalchemy: bool):
        self._connection = connection
        self._through_sqlalchemy = through_sqlalchemy

    @classmethod
    def open(cls, config: Config) -> Reader:
        """The configured database, for reading. DatabaseError when its schema is not this version's."""
        url = config.storage.url
        path = plain_sqlite_file(url)
        if config.storage.data_dir.is_dir():
            keep_private(config.storage.data_dir, path)
        if path is not None:
            if not path.is_file() or path.stat().st_size == 0:
                return _empty()
            connection = _connect_read_only(path)
            try:
                revision = _revision(connection.execute, sqlite3.Error)
            except BaseException:
                connection.close()
                raise
            if revision is None and not _has_tables(connection):
                connection.close()
                return _empty()
            _check_revision(revision, url, connection.close)
            return cls(connection, through_sqlalchemy=False)
        from sqlalchemy import create_engine, text
        from sqlalchemy.exc import DBAPIError, SQLAlchemyError

        if (missing := missing_driver(url)) is not None:
            raise DatabaseError(missing)
        try:
            connection = create_engine(url).connect()
        except (SQLAlchemyError, DBAPIError) as e:
            raise DatabaseError(f"cannot open the database {shown(url)}: {_reason(e)}") from None
        revision = _revision(lambda sql: connection.execute(text(sql)), SQLAlchemyError, connection.rollback)
        if revision is None:
            connection.close()
            return _empty()
        _check_revision(revision, url, connection.close)
        return cls(connection, through_sqlalchemy=True)

    @classmethod
    def of_session(cls, session) -> Reader:
        """The statements of ``db.reads`` inside ``session``'s transaction (a SQLAlchemy Session)."""
        return cls(session.connection(), through_sqlalchemy=True)

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

    def moment(self, value: datetime) -> Any:
        """A naive datetime as a bound parameter compared with a stored one: SQLite stores them as text
        ("YYYY-MM-DD HH:MM:SS.ffffff", SQLAlchemy's form), other databases as timestamps."""
        sqlite = not self._through_sqlalchemy or self._connection.dialect.name == SQLITE
        return value.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else value

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


@contextmanager
def snapshot(config: Config, sessions: Callable[[], Any]) -> Iterator[Reader]:
    """A Reader whose reads all see one state of the database, however many statements they take (a page
    of ``indexer serve`` never shows half of a change another process is committing): on SQLite a read
    transaction on a read-only connection, elsewhere a REPEATABLE READ transaction of a session from
    ``sessions`` (a pooled connection: no new connection per read)."""
    if plain_sqlite_file(config.storage.url) is not None:
        with Reader.open(config) as reader:
            reader._connection.execute("BEGIN")
            try:
                yield reader
            finally:
                reader._connection.rollback()
        return
    with sessions() as session:
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        yield Reader.of_session(session)


def _connect_read_only(path: Path) -> sqlite3.Connection:
    try:
        connection = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)
        connection.execute("PRAGMA busy_timeout = 30000")  # a nightly run may be committing
        # Up to 64 MiB of pages (taken as needed; SQLite's default is 2 MiB): a question over the whole index
        # (`people`'s years seen: a photo looked up per named face) reads its pages once, not again and
        # again — 1.2 s against 0.8 s at a million faces (bench/queries.py).
        connection.execute("PRAGMA cache_size = -65536")
        return connection
    except sqlite3.Error as e:
        raise DatabaseError(f"cannot open the database {path}: {e}") from e


def _revision(execute, error: type[Exception], recover=lambda: None) -> str | None:
    """The schema revision the database is at; None when it has none (no alembic_version table)."""
    try:
        rows = execute("SELECT version_num FROM alembic_version").fetchall()
    except error:
        recover()
        return None
    return rows[0][0] if rows else None


def _has_tables(connection: sqlite3.Connection) -> bool:
    try:
        return bool(connection.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0])
    except sqlite3.Error as e:
        raise DatabaseError(f"cannot read the database: {e}") from e


def _check_revision(revision: str | None, url: str, close) -> None:
    if revision == SCHEMA_HEAD:
        return
    close()
    raise DatabaseError(schema_mismatch(url, revision))


def schema_mismatch(url: str, revision: str | None, newer: bool = False) -> str:
    """Why this version of indexer cannot use the database at ``url`` (schema ``revision``; ``newer``: one
    this version does not know), and what to do, in one line."""
    if newer or (revision is not None and revision > SCHEMA_HEAD):
        return (f"the database {shown(url)} was made by a newer version of indexer (schema revision {revision}); "
                "upgrade indexer to use it")
    if backend(url) == SQLITE:
        return (f"the database {shown(url)} has schema revision {revision} and this indexer needs {SCHEMA_HEAD}: run "
                "`indexer init` (or `indexer index`) to upgrade it; a copy of it as it was is kept beside it")
    return (f"the database {shown(url)} has schema revision {revision} and this indexer needs {SCHEMA_HEAD}: back it up "
            f"first (e.g. pg_dump --format=custom --file=indexer-before-{SCHEMA_HEAD}.dump {database_name(url)}), then run "
            "`indexer init` to upgrade it")


def _reason(error: Exception) -> str:
    """A driver's error in one line (psycopg's span several)."""
    cause = getattr(error, "orig", None) or error
    return " ".join(str(cause).split()) or type(cause).__name__


def _empty() -> Reader:
    """A database that does not exist yet reads as an empty one: the schema, in memory."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import StaticPool

    from indexer.db.models import Base

    engine = create_engine("sqlite://", poolclass=StaticPool)
    Base.metadata.create_all(engine)
    return Reader(engine.raw_connection().driver_connection, through_sqlalchemy=False)


CHUNK = 500  # ids bound in one statement at most (SQLite allows 999 parameters before 3.32)


def chunks(values: Iterable[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    """``values`` a list of at most ``size`` at a time: the ids of one ``IN (…)`` each. The one chunking of
    every read and write of many ids."""
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]


def in_list(name: str, values: list[Any]) -> tuple[str, dict[str, Any]]:
    """``values`` as bound parameters of ``IN (…)`` in plain SQL: (the list's SQL — "NULL" for none —, the
    parameters ``name0``, ``name1`` …)."""
    return ", ".join(f":{name}{i}" for i in range(len(values))) or "NULL", {f"{name}{i}": v for i, v in enumerate(values)}


def as_datetime(value: Any) -> datetime | None:
    """A timestamp as stored (SQLite gives text, other databases a datetime); naive, in UTC."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


def as_json(value: Any) -> Any:
    """A JSON column as stored (SQLite gives text, other databases the decoded value)."""
    return json.loads(value) if isinstance(value, str) else value
