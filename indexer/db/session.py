"""Opening the database: the engine, SQLite settings, and bringing the schema to the newest revision."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from indexer.errors import DatabaseError


def make_engine(url: str) -> Engine:
    """An engine for ``url``. SQLite gets foreign keys, WAL (readers never wait for the nightly run)
    and a 30 s busy timeout; its folder is created."""
    try:
        parsed = make_url(url)
    except ArgumentError as e:
        raise DatabaseError(f"not a database URL: {url}") from e
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_settings)
    return engine


def _sqlite_settings(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA busy_timeout = 30000")
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
    from alembic.runtime.migration import MigrationContext

    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    except OperationalError as e:
        raise DatabaseError(f"cannot open the database {engine.url}: {e.orig}") from e


def upgrade_to_head(engine: Engine) -> None:
    """Create or upgrade the schema to the newest revision; refuse a database from a newer indexer."""
    from alembic import command
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory(str(migrations_dir()))
    current = current_revision(engine)
    if current == scripts.get_current_head():
        return
    if current is not None and current not in {script.revision for script in scripts.walk_revisions()}:
        raise DatabaseError(
            f"the database {engine.url.database} was made by a newer version of indexer "
            f"(schema revision {current}); upgrade indexer to use it"
        )
    with engine.begin() as connection:
        command.upgrade(_alembic_config(connection), "head")
