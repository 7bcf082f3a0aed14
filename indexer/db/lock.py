"""One writer at a time: `index`, `enroll`, `train` and `check` hold an exclusive lock on
``data_dir/writer.lock``, and on a PostgreSQL database also a session advisory lock in that database, so
that one writer holds it across every machine that shares it.

The file lock is an ``flock`` on an open file, so the kernel releases it when the process ends in any
way (kill -9 included); the advisory lock belongs to the lock's own database connection, which the
server drops when the process or the connection dies. A stale lock cannot block the next night's run.
Readers (`who-is`, `find`, `people`, `status`, `show`) take no lock; SQLite's WAL and PostgreSQL's
snapshots let them read while a run writes.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from indexer.clock import utcnow
from indexer.db.urls import POSTGRESQL, backend
from indexer.errors import AlreadyRunning


# The advisory lock's two keys (pg_try_advisory_lock(int, int)): "indexer", and the writer lock.
ADVISORY_KEYS = (0x1DE7E5, 1)
# The transaction advisory lock every write transaction takes on PostgreSQL (``session.writing``): one
# write at a time, as SQLite's write lock makes them, so a change of names is checked and made whole.
WRITE_KEYS = (0x1DE7E5, 2)


@contextmanager
def writer_lock(data_dir: Path, what: str, database_url: str | None = None) -> Iterator[None]:
    """Hold the writer lock for the duration of the block, or raise AlreadyRunning at once, saying which
    command holds it, its process id and since when. ``what`` describes this command ("index");
    ``database_url``: the configured database, whose advisory lock is taken too when it is PostgreSQL."""
    path = data_dir / "writer.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    holder = {"command": what, "pid": os.getpid(), "since": f"{utcnow():%Y-%m-%d %H:%M:%S}"}
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise _already_running(_read_holder(fd)) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(holder).encode(), 0)
        if database_url is not None and backend(database_url) == POSTGRESQL:
            with _advisory_lock(database_url, holder):
                yield
        else:
            yield
    finally:
        os.close(fd)  # releases the lock


def writer_active(data_dir: Path, database_url: str | None, advisory_lock_held) -> bool:
    """Whether a writer holds the lock now, found without taking it or creating anything: this machine's
    lock file, and on PostgreSQL the advisory lock (``advisory_lock_held()``: any machine's)."""
    if database_url is not None and backend(database_url) == POSTGRESQL:
        return advisory_lock_held()
    try:
        fd = os.open(data_dir / "writer.lock", os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


def _already_running(holder: dict) -> AlreadyRunning:
    return AlreadyRunning(
        f"another indexer {holder.get('command', 'command')} is writing to this index "
        f"(pid {holder.get('pid', '?')}, since {holder.get('since', '?')} UTC); try again when it has finished"
    )


@contextmanager
def _advisory_lock(database_url: str, holder: dict) -> Iterator[None]:
    """PostgreSQL's session advisory lock on ADVISORY_KEYS, held by a connection of its own for the block.
    Who holds it is told by that connection's application_name, which other sessions can read."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import SQLAlchemyError
    from sqlalchemy.pool import NullPool

    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            name = f"indexer {holder['command']} pid={holder['pid']} since={holder['since']}"
            connection.execute(text("SELECT set_config('application_name', :name, false)"), {"name": name})
            if not connection.execute(text("SELECT pg_try_advisory_lock(:a, :b)"),
                                      {"a": ADVISORY_KEYS[0], "b": ADVISORY_KEYS[1]}).scalar():
                held_by = connection.execute(text(
                    "SELECT activity.application_name FROM pg_locks AS locks "
                    "JOIN pg_stat_activity AS activity ON activity.pid = locks.pid "
                    "WHERE locks.locktype = 'advisory' AND locks.classid = :a AND locks.objid = :b AND locks.granted"),
                    {"a": ADVISORY_KEYS[0], "b": ADVISORY_KEYS[1]}).scalar() or ""
                raise _already_running(_parse_holder(held_by))
            connection.commit()
            try:
                yield
            finally:
                try:
                    connection.execute(text("SELECT pg_advisory_unlock(:a, :b)"), {"a": ADVISORY_KEYS[0], "b": ADVISORY_KEYS[1]})
                    connection.commit()
                except SQLAlchemyError:  # the connection is gone, and the server dropped the lock with it
                    pass
    finally:
        engine.dispose()


def _parse_holder(application_name: str) -> dict:
    """The holder from its connection's application_name ("indexer index pid=12 since=2026-11-29 02:30:00")."""
    found = re.fullmatch(r"indexer (\S+) pid=(\S+) since=(.+)", application_name)
    return dict(zip(("command", "pid", "since"), found.groups())) if found else {}


def _read_holder(fd: int) -> dict:
    try:
        return json.loads(os.pread(fd, 4096, 0) or b"{}")
    except (OSError, ValueError):
        return {}
