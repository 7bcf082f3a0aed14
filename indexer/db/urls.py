"""Database URLs (SQLAlchemy's form, ``dialect+driver://user:password@host:port/database?options``), read
without SQLAlchemy: which database a URL names, the file of a SQLite one, and the URL as it may be shown.

The one place that decides "is this SQLite?" and the one place that hides a password: a URL is shown
(in output, logs and errors) only through ``shown``.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

SQLITE = "sqlite"
POSTGRESQL = "postgresql"
MASK = "***"
_SECRET_OPTIONS = {"password", "passwd", "sslpassword"}


def backend(url: str) -> str:
    """The kind of database: "sqlite", "postgresql", or the URL's dialect for anything else ("" when
    ``url`` is not a URL)."""
    scheme, found, _ = url.partition("://")
    return scheme.split("+", 1)[0].lower() if found else ""


# SQLAlchemy's PostgreSQL drivers by the name a URL gives them (postgresql+NAME://), and the module each is.
_POSTGRESQL_DRIVERS = {"psycopg": "psycopg", "psycopg2": "psycopg2", "pg8000": "pg8000", "asyncpg": "asyncpg"}


def missing_driver(url: str) -> str | None:
    """Why ``url``'s database cannot be opened here for want of its driver, in one line naming what to
    install; None when nothing is missing (SQLite needs none). A plain postgresql:// means psycopg2 to
    SQLAlchemy; indexer's extra installs psycopg (3), named postgresql+psycopg://."""
    if backend(url) != POSTGRESQL:
        return None
    from importlib.util import find_spec

    driver = url.partition("://")[0].lower().partition("+")[2] or "psycopg2"
    if find_spec(_POSTGRESQL_DRIVERS.get(driver, driver)) is not None:
        return None
    if driver == "psycopg":
        return "database_url names PostgreSQL, whose driver (psycopg) is not installed: pip install 'indexer[postgres]'"
    return (f"database_url names PostgreSQL through {driver}, which is not installed: "
            "write postgresql+psycopg://… and pip install 'indexer[postgres]'")


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (``sqlite:////abs/path.db``, or relative ``sqlite:///path.db``); None for
    any other database and for an in-memory SQLite one."""
    if backend(url) != SQLITE:
        return None
    database = url.partition("://")[2][1:].split("?", 1)[0]
    return Path(database) if database not in ("", ":memory:") else None


def plain_sqlite_file(url: str) -> Path | None:
    """``sqlite_file`` of a URL that has no options (``?...``): one the standard library's ``sqlite3`` can
    open just as SQLAlchemy would."""
    return sqlite_file(url) if "?" not in url else None


def database_name(url: str) -> str:
    """The database a server URL names (its path without the leading "/")."""
    return url.partition("://")[2].partition("/")[2].split("?", 1)[0]


def shown(url: str) -> str:
    """``url`` fit to print: a password in it (``user:password@``, or an option such as ``?password=``)
    replaced by ***. Anything that does not parse as a URL is shown as its dialect only."""
    try:
        parts = urlsplit(url)
        if ":" not in parts.netloc and not any(k.lower() in _SECRET_OPTIONS for k, _ in parse_qsl(parts.query)):
            return url  # nothing to hide (urlunsplit would also drop the slashes of sqlite:////path)
        netloc = parts.netloc
        if "@" in netloc:
            credentials, _, host = netloc.rpartition("@")
            user, has_password, _ = credentials.partition(":")
            netloc = f"{user}:{MASK}@{host}" if has_password else netloc
        options = parse_qsl(parts.query, keep_blank_values=True)
        query = urlencode([(k, MASK if k.lower() in _SECRET_OPTIONS else v) for k, v in options], safe="/:*")
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    except ValueError:
        return f"{backend(url) or 'a'} database URL (not shown: it does not parse)"


def scrub(text: str, url: str) -> str:
    """``text`` (an error message) with every password of ``url`` in it replaced by ***."""
    try:
        parts = urlsplit(url)
        secrets = [parts.password] if parts.password else []
        secrets += [v for k, v in parse_qsl(parts.query) if k.lower() in _SECRET_OPTIONS and v]
    except ValueError:
        return text.replace(url, shown(url))
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text
