"""One writer at a time: `index`, `enroll` and `train` hold an exclusive lock on ``data_dir/writer.lock``.

The lock is an ``flock`` on an open file, so the kernel releases it when the process ends in any way
(kill -9 included): a stale lock cannot block the next night's run. Readers (`who-is`, `find`, `people`,
`status`, `show`) take no lock; SQLite's WAL lets them read while a run writes.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from indexer.clock import utcnow
from indexer.errors import AlreadyRunning


@contextmanager
def writer_lock(data_dir: Path, what: str) -> Iterator[None]:
    """Hold the writer lock for the duration of the block, or raise AlreadyRunning at once, saying which
    command holds it, its process id and since when. ``what`` describes this command ("index")."""
    path = data_dir / "writer.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            raise AlreadyRunning(
                f"another indexer {holder.get('command', 'command')} is writing to this index "
                f"(pid {holder.get('pid', '?')}, since {holder.get('since', '?')} UTC); try again when it has finished"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"command": what, "pid": os.getpid(), "since": f"{utcnow():%Y-%m-%d %H:%M:%S}"}).encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


def _read_holder(fd: int) -> dict:
    try:
        return json.loads(os.pread(fd, 4096, 0) or b"{}")
    except (OSError, ValueError):
        return {}
