"""Files on disk: paths as the index stores them, atomic replacement, content hashes, and owner-only
permissions for private data."""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)

PRIVATE_FOLDER = 0o700
PRIVATE_FILE = 0o600
# A file by these names marks a folder of indexer's own output (a gallery; annotated copies): the scan
# never indexes what is in it, wherever it is.
GALLERY_MARKER = ".indexer-gallery"
OUTPUT_MARKER = ".indexer-output"
OUTPUT_MARKERS = (GALLERY_MARKER, OUTPUT_MARKER)


def mark_as_output(folder: Path) -> None:
    """Make ``folder`` (created if need be, owner-only) one the scan never indexes: its files are indexer's
    own output."""
    folder.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
    private_file(folder / OUTPUT_MARKER)


def folder_prefix(folder: str | Path) -> str:
    """``folder`` as the start of the paths under it: with a trailing separator, so that ``/photos/a``
    does not take in ``/photos/ab``."""
    return os.path.join(str(folder), "")


def absolute(path: str | Path) -> str:
    """A path the user typed, as the scan stores it: the folder resolved, the file's own name kept."""
    path = Path(path).expanduser()
    return str(path.parent.resolve() / path.name)


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks (only a regular file: ``open_regular``)."""
    digest = hashlib.sha256()
    with open_regular(path) as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def holds_sha256(path: Path, sha256: str) -> bool:
    """Whether ``path`` is a file whose bytes have the hex ``sha256`` (a pinned download, a weights file)."""
    return path.is_file() and sha256_file(path) == sha256


class UnsafeFile(OSError):
    """A file indexer will not read or write because of what it is: a symbolic link where none belongs,
    not a regular file (a FIFO, a device), or far larger than such a file can be. ``str(e)`` says which."""


def read_small_file(path: Path, limit: int, follow_links: bool = False) -> bytes:
    """The bytes of ``path``, a regular file of at most ``limit`` bytes, read without ever waiting on it
    (a FIFO) or filling memory (``/dev/zero``). A symbolic link is refused unless ``follow_links``
    (UnsafeFile); FileNotFoundError when there is nothing there; OSError otherwise."""
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | (0 if follow_links else os.O_NOFOLLOW)
    try:
        fd = os.open(path, flags)
    except OSError as e:
        if e.errno == errno.ELOOP and not follow_links:
            raise UnsafeFile("a symbolic link: left alone") from None
        raise
    with os.fdopen(fd, "rb") as file:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            raise UnsafeFile("not a regular file (a FIFO, a device or a socket): left alone")
        if status.st_size > limit:
            raise UnsafeFile(f"larger than {limit // (1 << 20)} MB, which no such file is: left alone")
        data = file.read(limit + 1)
    if len(data) > limit:
        raise UnsafeFile(f"larger than {limit // (1 << 20)} MB, which no such file is: left alone")
    return data


def open_regular(path: str | Path):
    """``path`` opened for reading in binary, following links, only when it is a regular file: a FIFO or a
    device put where a photo was is refused (UnsafeFile) instead of waited on, a folder is IsADirectoryError.
    The one check every open of a photo goes through (``regular_file`` for decoders that open paths)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, "is a folder, not a file", str(path))
        raise UnsafeFile("not a regular file (a FIFO, a device or a socket)")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


@contextmanager
def regular_file(path: str | Path) -> Iterator[str]:
    """A path to hand a decoder that opens files by name (Pillow, LibRaw, FFmpeg) for the file at ``path``,
    checked by ``open_regular`` first and held open for the block: on Linux the path names the very file
    checked (``/proc/self/fd/N``), so nothing can be put in its place in between; elsewhere ``path``."""
    with open_regular(path) as checked:
        held = f"/proc/self/fd/{checked.fileno()}"
        yield held if os.path.exists(held) else str(path)


def write_new_file(path: Path, data: bytes, mode: int) -> None:
    """Create ``path`` with ``data`` and ``mode``; FileExistsError when anything is there already, a link
    included, which is never followed."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, mode)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise


@contextmanager
def atomic_file(target: Path, private: bool = True) -> Iterator[str]:
    """A temporary path beside ``target`` to write to; when the block ends without an error the file is
    flushed to disk and renamed onto ``target``, so a reader sees the old file or the new one, never half
    of one. ``private``: readable by the owner only (0600); else the mode a plain new file gets (umask)."""
    target.parent.mkdir(mode=PRIVATE_FOLDER if private else 0o777, parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")  # mkstemp makes it 0600
    os.close(fd)
    try:
        if not private:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp_name, 0o666 & ~umask)
        yield tmp_name
        with open(tmp_name, "rb") as written:
            os.fsync(written.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def make_private(path: Path) -> bool:
    """Take group and other permissions away from ``path`` (a folder: 0700, a file: 0600 at most).
    Returns True when its mode had to change; a path that does not exist is left alone."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return False
    if not mode & 0o077:
        return False
    path.chmod(stat.S_IMODE(mode) & (PRIVATE_FOLDER if stat.S_ISDIR(mode) else PRIVATE_FILE))
    return True


def private_file(path: Path) -> None:
    """Create ``path`` empty and owner-only when it does not exist yet (so what writes to it later, like
    SQLite, keeps that mode). A file already there is never opened: closing a descriptor of a SQLite
    database drops every lock this process's connections hold on it (POSIX locks belong to the process),
    and another process could then checkpoint and remove the WAL under them (a corrupt database)."""
    path.parent.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, PRIVATE_FILE))
    except FileExistsError:
        pass


def keep_private(data_dir: Path, database: Path | None) -> None:
    """Face embeddings and names are biometric data: the data folder ``data_dir``, the SQLite file
    ``database`` (and the ``-wal`` and ``-shm`` files beside it, and its backups), the vector files and
    classifiers are made readable by their owner only, whatever their modes were; a warning says what had
    to change (once: it stays so)."""
    paths = [data_dir, *sorted(data_dir.iterdir())]
    for folder in (data_dir / "vectors", data_dir / "classifiers"):
        if folder.is_dir():
            paths += sorted(folder.iterdir())
    if database is not None and database.parent != data_dir and database.parent.is_dir():
        paths += sorted(p for p in database.parent.iterdir() if p.name.startswith(database.name))
    changed = [path for path in paths if make_private(path)]
    if changed:
        log.warning("made %d file(s) and folder(s) of the index readable by their owner only (faces and names "
                    "are private), e.g. %s", len(changed), changed[0])
