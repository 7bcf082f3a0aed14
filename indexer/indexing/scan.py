"""Walking the library: every image file under the roots, with its size and modification time.

No decoding and no ML here. Hidden files and folders (name starting with ".") are skipped, links to
files are followed, links to folders are not (no loops), and indexer's own folders (its data folder, a
gallery, a folder of annotated copies: wherever they are) are never walked. A file that cannot even be looked at is
yielded with a ``problem``; a folder that cannot be listed is remembered in ``unlisted_dirs`` so that
nothing under it is taken for deleted.
"""

from __future__ import annotations

import errno
import logging
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path

from indexer.files import OUTPUT_MARKERS

log = logging.getLogger(__name__)


def written_by_indexer(folder: str) -> bool:
    """Whether ``folder`` holds indexer's own output (a gallery, annotated copies): it has a marker file."""
    return any(os.path.lexists(os.path.join(folder, marker)) for marker in OUTPUT_MARKERS)


@dataclass(frozen=True)
class ScannedFile:
    """An image file as found on disk. ``size`` is bytes, ``mtime_ns`` nanoseconds since the epoch;
    ``problem`` says why it cannot be indexed at all (then size and mtime may be 0)."""

    path: str
    size: int
    mtime_ns: int
    problem: str | None = None


def is_excluded(relative: str, name: str, patterns: Iterable[str]) -> bool:
    """Whether a path matches an exclude pattern. A pattern without "/" matches a file or folder name
    anywhere (``@eaDir``); one with "/" matches the path relative to its root (``2019/tmp/*``)."""
    return any(fnmatchcase(relative if "/" in p else name, p) for p in patterns)


def storable(path: str) -> str | None:
    """``path`` when it can be stored as text (valid UTF-8), else None."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return path


@dataclass
class LibraryScan:
    """One walk over ``roots`` (absolute folders). Iterate it for the files; afterwards ``unlisted_dirs``
    holds the folders that could not be listed."""

    roots: tuple[Path, ...]
    extensions: frozenset[str]
    exclude: tuple[str, ...] = ()
    own_folders: tuple[Path, ...] = ()  # indexer's own (data folder, gallery): never walked
    unlisted_dirs: list[str] = field(default_factory=list)

    def __iter__(self) -> Iterator[ScannedFile]:
        for root in self.roots:
            yield from self._walk(str(root))

    def _walk(self, root: str) -> Iterator[ScannedFile]:
        pending = [root]
        own = {str(folder) for folder in self.own_folders}
        while pending:
            folder = pending.pop()
            if folder in own or written_by_indexer(folder):
                continue  # its photos are indexer's own (thumbnails, annotated copies): faces of faces
            try:
                with os.scandir(folder) as listing:
                    entries = sorted(listing, key=lambda e: e.name)
            except OSError as e:
                log.warning("cannot list folder %s: %s; nothing under it is taken for deleted", _shown(folder), e.strerror)
                self.unlisted_dirs.append(folder)
                continue
            subfolders = []
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                relative = os.path.relpath(entry.path, root).replace(os.sep, "/")
                if is_excluded(relative, entry.name, self.exclude):
                    continue
                try:
                    is_folder = entry.is_dir(follow_symlinks=False)
                except OSError:
                    is_folder = False
                named_like_photo = os.path.splitext(entry.name)[1][1:].lower() in self.extensions
                if is_folder:
                    subfolders.append(entry.path)
                    if named_like_photo:  # recorded, so the user hears of it; what is inside is still indexed
                        yield ScannedFile(_shown(entry.path), 0, 0, "a folder named like a photo, not a photo")
                elif named_like_photo:
                    yield _look_at(entry)
            pending.extend(reversed(subfolders))


def _look_at(entry: os.DirEntry) -> ScannedFile:
    return _describe(entry.path, entry.stat)  # DirEntry.stat follows a link to the file it points at


def look_at(path: str) -> ScannedFile:
    """One file the user named (``indexer enroll``), described as the scan would describe it."""
    return _describe(path, lambda: os.stat(path))


def _describe(raw_path: str, stat_of) -> ScannedFile:
    path = storable(raw_path)
    if path is None:
        return ScannedFile(_shown(raw_path), 0, 0, "file name is not valid UTF-8; rename it")
    try:
        st = stat_of()
    except FileNotFoundError:
        if os.path.islink(raw_path):
            return ScannedFile(path, 0, 0, "broken symbolic link: its target does not exist")
        return ScannedFile(path, 0, 0, "no such file")
    except OSError as e:
        if e.errno == errno.ELOOP:
            return ScannedFile(path, 0, 0, "symbolic link loop: the link leads back to itself")
        return ScannedFile(path, 0, 0, f"cannot look at file: {e.strerror}")
    if stat.S_ISDIR(st.st_mode):
        return ScannedFile(path, 0, 0, "a folder named like a photo, not a photo")
    if not stat.S_ISREG(st.st_mode):
        return ScannedFile(path, 0, 0, "not a regular file (a device, pipe or socket)")
    if st.st_size == 0:
        return ScannedFile(path, 0, st.st_mtime_ns, "empty file (0 bytes)")
    return ScannedFile(path, st.st_size, st.st_mtime_ns)


def _shown(path: str) -> str:
    """A path fit to print and store even when its bytes are not UTF-8 (undecodable bytes as \\xNN)."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")
