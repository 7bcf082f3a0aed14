"""Opening the database: the engine, SQLite settings, and bringing the schema to the newest revision."""

from __future__ import annotations

import logging
import sqlite3
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from indexer.db import SCHEMA_HEAD
from indexer.db.lock import WRITE_KEYS
from indexer.db.reader import schema_mismatch
from indexer.db.urls import SQLITE, backend, missing_driver, shown, sqlite_file
from indexer.errors import DatabaseError
from indexer.files import private_file

log = logging.getLogger(__name__)


def make_engine(url: str) -> Engine:
    """An engine for ``url``. SQLite gets foreign keys, WAL (readers never wait for the nightly run),
    a 30 s busy timeout and transactions that begin when SQLAlchemy begins them (see ``writing``); its
    file is created readable by its owner only (the writes SQLite makes beside it, ``-wal`` and ``-shm``,
    take the file's mode)."""
    try:
        parsed = make_url(url)
    except ArgumentError as e:
        raise DatabaseError(f"not a database URL: {shown(url)}") from e
    if (missing := missing_driver(url)) is not None:
        raise DatabaseError(missing)
    if sqlite_file(url) is not None:
        private_file(sqlite_file(url))
    engine = create_engine(parsed)
    if backend(url) == SQLITE:
        event.listen(engine, "connect", _sqlite_settings)
        event.listen(engine, "begin", _sqlite_begin)
    else:
        event.listen(engine, "begin", _one_writer_at_a_time)
    return engine


def writing(engine: Engine) -> Engine:
    """``engine`` for a write transaction, which holds the database's one write lock from its start to its
    end, so what it reads cannot be changed by another writer before it commits: on SQLite it begins with
    BEGIN IMMEDIATE (a plain BEGIN reads first and may find at its first write that another process wrote
    meanwhile); on PostgreSQL it takes a transaction advisory lock (``lock.WRITE_KEYS``), waiting for the
    writer before it as SQLite does, up to BUSY_SECONDS."""
    return engine.execution_options(indexer_writing=True)


BUSY_SECONDS = 30  # how long a write waits for the one before it to commit (a nightly batch, say)


def _sqlite_begin(connection) -> None:
    immediate = connection.get_execution_options().get("indexer_writing")
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _one_writer_at_a_time(connection) -> None:
    if connection.get_execution_options().get("indexer_writing"):
        connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{BUSY_SECONDS}s'")
        connection.exec_driver_sql("SELECT pg_advisory_xact_lock(%d, %d)" % WRITE_KEYS)


def _sqlite_settings(dbapi_connection, _record) -> None:
    # pysqlite would otherwise begin transactions on its own, only before the first write, so that the
    # reads of a read-then-write transaction see no snapshot: SQLAlchemy's "begin" event does it instead.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute(f"PRAGMA busy_timeout = {BUSY_SECONDS * 1000}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


def migrations_dir() -> Path:
    """The Alembic scripts: ``migrations/`` in the repository, shipped as ``indexer.migrations``."""
    return Path(str(resources.files("indexer.migrations")))


def _alembic_config(connection):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.attributes["connection"] = connection
    return config


def current_revision(engine: Engine) -> str | None:
    """The schema revision the database is at; None for an empty database."""
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table("alembic_version"):
                return None
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except OperationalError as e:
        url = _url(engine)
        reason = " ".join(str(e.orig).split()).replace(url, shown(url))
        raise DatabaseError(f"cannot open the database {shown(url)}: {reason}") from None


def upgrade_to_head(engine: Engine, upgrade_unsaved: bool = False) -> None:
    """Create or upgrade the schema to the newest revision; refuse a database from a newer indexer.
    A SQLite file is copied beside itself first. Another database cannot be copied from here: an older
    one is upgraded only when ``upgrade_unsaved`` (`indexer init`, after the user backed it up); else
    DatabaseError says what to back up and how to go on."""
    current = current_revision(engine)
    if current == SCHEMA_HEAD:
        return
    from alembic import command
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory(str(migrations_dir()))
    if current is not None and current not in {script.revision for script in scripts.walk_revisions()}:
        raise DatabaseError(schema_mismatch(_url(engine), current, newer=True))
    if current is not None:
        head = scripts.get_current_head()
        backup = backup_sqlite(engine, f"before-{head}")
        if backup is not None:
            log.info("upgrading the database from schema %s to %s; a copy of it as it was is in %s", current, head, backup)
        elif not upgrade_unsaved:
            raise DatabaseError(schema_mismatch(_url(engine), current))
        else:
            log.warning("upgrading the database %s from schema %s to %s (it was not copied here: a backup is yours to keep)",
                        shown(_url(engine)), current, head)
    with engine.begin() as connection:
        command.upgrade(_alembic_config(connection), "head")


def _url(engine: Engine) -> str:
    """The engine's URL as the configuration gave it (to be shown only through ``urls.shown``)."""
    return engine.url.render_as_string(hide_password=False)


def backup_sqlite(engine: Engine, label: str) -> Path | None:
    """Copy a SQLite database file (consistently, through SQLite's backup API) to
    ``<file>.<label>-<UTC time>.bak`` beside it; returns that path (None for other databases)."""
    source_path = sqlite_file(_url(engine))
    if source_path is None:
        return None
    target = source_path.with_name(f"{source_path.name}.{label}-{datetime.now(UTC):%Y%m%dT%H%M%S}.bak")
    private_file(target)
    source = sqlite3.connect(source_path)
    try:
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)
        finally:
            copy.close()
    except sqlite3.Error as e:
        target.unlink(missing_ok=True)
        raise DatabaseError(f"cannot back up {source_path} before upgrading it: {e}") from e
    finally:
        source.close()
    return target
