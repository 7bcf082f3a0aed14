"""What an indexing run must do, decided from what the scan found and what the database remembers.

This module owns the rules "must this file be read again?" (``file_state``), "is this photo the one that
was at another path?" (by its content) and "may a photo the scan did not find be removed?". Nothing is
removed because it could not be seen: a photo whose folder is empty or missing (an unmounted disk or
share), whose file is still there but no longer in scope (``exclude`` or ``extensions`` changed), or that
goes with more than a set share of the library in one run, is kept until ``indexer index --prune``.

Pure but for the questions it asks the disk through a ``Disk`` (real: ``LocalDisk``), so it is
table-tested with a fake one.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from indexer.config import same_face_settings
from indexer.db.queries import DrawnBox, KnownPhoto
from indexer.db.values import LimitHit
from indexer.files import folder_prefix, sha256_file
from indexer.indexing.scan import ScannedFile

# Up to this many photos gone from disk are removed in one run whatever share of the library they are.
ALWAYS_REMOVABLE = 10


class FileState(StrEnum):
    """What a file found on disk is to the index."""

    NEW = "new"  # no photo at this path
    CHANGED = "changed"  # size or modification time differ
    RETRY = "retry"  # unchanged, but it could not be indexed last time (permissions get fixed, disks come back)
    OUTDATED = "outdated"  # indexed with other settings
    UNCHANGED = "unchanged"
    HELD = "held"  # unchanged, and stopped by a limit last time (LimitHit.STOPPED): left alone until it changes


def file_state(found: ScannedFile, before: KnownPhoto | None, face_settings: str, retry_stopped: bool = False) -> FileState:
    """Whether ``found`` must be read, and why; all but UNCHANGED and HELD are read (unless the content
    turns out to be one the index already holds: see ``plan_run``). ``retry_stopped``: a file a limit
    stopped is read again though unchanged (the user asked)."""
    if before is None:
        return FileState.NEW
    if (before.size, before.mtime_ns) != (found.size, found.mtime_ns):
        return FileState.CHANGED
    if before.failed:
        return FileState.HELD if before.limit_hit == LimitHit.STOPPED and not retry_stopped else FileState.RETRY
    return FileState.UNCHANGED if same_face_settings(before.face_settings, face_settings) else FileState.OUTDATED


class FolderState(StrEnum):
    SEEN = "seen"  # listed, with something in it
    EMPTY = "empty"  # nothing in it (an unmounted disk's mount point looks like this)
    MISSING = "missing"
    UNREADABLE = "unreadable"


class Disk(Protocol):
    def sha256(self, path: str) -> str | None:
        """The file's content hash; None when it cannot be read."""

    def exists(self, path: str) -> bool:
        """Whether anything is at ``path`` (a broken link counts)."""

    def folder(self, path: str) -> FolderState: ...


class LocalDisk:
    """The questions ``plan_run`` asks, answered from the file system (folder answers cached)."""

    def __init__(self):
        self._folders: dict[str, FolderState] = {}

    def sha256(self, path: str) -> str | None:
        try:
            return sha256_file(path)
        except OSError:
            return None

    def exists(self, path: str) -> bool:
        return os.path.lexists(path)

    def folder(self, path: str) -> FolderState:
        if path not in self._folders:
            self._folders[path] = _folder_state(path)
        return self._folders[path]


def _folder_state(path: str) -> FolderState:
    try:
        with os.scandir(path) as listing:
            return FolderState.SEEN if any(not entry.name.startswith(".") for entry in listing) else FolderState.EMPTY
    except (FileNotFoundError, NotADirectoryError):
        return FolderState.MISSING
    except OSError:
        return FolderState.UNREADABLE


@dataclass(frozen=True)
class ToRead:
    """A file to decode, detect and embed; ``before`` is the photo it replaces (None: a new photo);
    ``drawn``: the faces drawn by hand on that photo, embedded anew from the file as it is now."""

    file: ScannedFile
    before: KnownPhoto | None
    drawn: tuple[DrawnBox, ...] = ()


@dataclass
class Plan:
    """The decisions of one run. ``read``: files to read; ``touched``: files whose size or time changed
    but whose content is the one indexed (their record is updated, nothing read); ``moves``: known
    photos found at a new path by their content (the row moves, faces and names with it); ``remove``:
    photos to delete; ``unseen``: photos kept because their folder is empty, missing or unreadable (by
    that folder); ``out_of_scope``: kept because their file is there but no longer matches the
    settings; ``held_back``: gone from disk, but too many at once to remove without ``--prune``;
    ``hashes``: content hashes computed while planning, by path; ``released``: records of files that a
    shot's lead takes over (``shots``), removed before the reading; ``shot_checks``: for the files whose
    shot was decided anew, the digest to record (``shots.group_digest``)."""

    read: list[ToRead] = field(default_factory=list)
    touched: list[tuple[ScannedFile, KnownPhoto]] = field(default_factory=list)
    moves: list[tuple[ScannedFile, KnownPhoto]] = field(default_factory=list)
    remove: list[KnownPhoto] = field(default_factory=list)
    unseen: dict[str, list[KnownPhoto]] = field(default_factory=dict)
    unseen_why: dict[str, FolderState] = field(default_factory=dict)
    out_of_scope: list[KnownPhoto] = field(default_factory=list)
    held_back: list[KnownPhoto] = field(default_factory=list)
    hashes: dict[str, str] = field(default_factory=dict)
    released: list[int] = field(default_factory=list)
    shot_checks: dict[str, str] = field(default_factory=dict)  # path → the digest of its name's files (``shots``)
    scanned: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    outdated: int = 0  # of ``changed``: indexed with other settings

    @property
    def kept(self) -> int:
        """Photos not found this run and kept."""
        return sum(map(len, self.unseen.values())) + len(self.out_of_scope) + len(self.held_back)


def plan_run(
    files: list[ScannedFile],
    known: dict[str, KnownPhoto],
    roots: Iterable[Path],
    face_settings: str,
    disk: Disk,
    unlisted: Iterable[str] = (),
    prune: bool = False,
    max_removed_share: float = 0.2,
    retry_stopped: bool = False,
) -> Plan:
    """Decide what a run over ``roots`` does with the ``files`` its scan found, given the photos the
    database holds under those roots (``known``, by path) and the settings string ``face_settings``.
    ``unlisted``: folders the scan could not list (what is under them is kept, always). ``prune``: remove
    every photo not found, whatever the reason (but an unlisted folder), and however many.
    ``retry_stopped``: read again the files a limit stopped. The files to read are in the scan's order,
    but those whose reading the last run's time budget cut come after every other."""
    plan = Plan(scanned=len(files))
    not_found = dict(known)
    arrived: list[tuple[ScannedFile, KnownPhoto | None]] = []  # read unless they turn out to be known content
    for found in files:
        before = not_found.pop(found.path, None)
        state = file_state(found, before, face_settings, retry_stopped)
        if state in (FileState.UNCHANGED, FileState.HELD):
            plan.unchanged += 1
        elif state in (FileState.NEW, FileState.CHANGED):
            arrived.append((found, before))
        else:
            plan.read.append(ToRead(found, before))
            plan.changed += state is FileState.OUTDATED
            plan.outdated += state is FileState.OUTDATED
            plan.unchanged += state is FileState.RETRY

    unlisted_prefixes = tuple(folder_prefix(folder) for folder in unlisted)
    root_list = [str(root) for root in roots]
    gone: list[KnownPhoto] = []
    for photo in not_found.values():
        if photo.path.startswith(unlisted_prefixes):
            continue  # the scan said it could not look there; never taken for gone, not even by --prune
        if disk.exists(photo.path):
            plan.out_of_scope.append(photo)
            continue
        folder = _unseen_folder(photo.path, root_list, disk)
        if folder is None:
            gone.append(photo)
        else:
            plan.unseen.setdefault(folder, []).append(photo)
            plan.unseen_why[folder] = disk.folder(folder)

    gone += _match_content(plan, arrived, [p for photos in plan.unseen.values() for p in photos] + gone, face_settings, disk)
    moved = {photo.id for _, photo in plan.moves}
    gone = [photo for photo in gone if photo.id not in moved]
    plan.unseen = {folder: kept for folder, photos in plan.unseen.items() if (kept := [p for p in photos if p.id not in moved])}

    plan.read.sort(key=lambda item: item.before is not None and item.before.limit_hit == LimitHit.DEADLINE)
    if prune:
        plan.remove = gone + [p for photos in plan.unseen.values() for p in photos] + plan.out_of_scope
        plan.unseen, plan.unseen_why, plan.out_of_scope = {}, {}, []
    elif len(gone) > max(ALWAYS_REMOVABLE, max_removed_share * len(known)):
        plan.held_back = gone
    else:
        plan.remove = gone
    return plan


def _unseen_folder(path: str, roots: list[str], disk: Disk) -> str | None:
    """The top-most folder from the photo's root down to the photo's own folder that is empty, missing or
    unreadable (then the photo was not seen, rather than found gone); None when each of them was seen."""
    parent = os.path.dirname(path)
    root = max((r for r in roots if path.startswith(folder_prefix(r))), key=len, default=parent)
    relative = os.path.relpath(parent, root)
    folder, folders = root, [root]
    for part in [] if relative == os.curdir else relative.split(os.sep):
        folder = os.path.join(folder, part)
        folders.append(folder)
    return next((f for f in folders if disk.folder(f) is not FolderState.SEEN), None)


def _match_content(plan: Plan, arrived: list[tuple[ScannedFile, KnownPhoto | None]], not_found: list[KnownPhoto],
                   face_settings: str, disk: Disk) -> list[KnownPhoto]:
    """Sort new and changed files into moves (content the index holds under a path where it no longer
    is: a move, a rename, a swap of two files, a restore), touched files (their own content) and files
    to read. Returns the photos displaced: their path now holds another known photo's content, and
    their own content is nowhere."""
    released: dict[int, KnownPhoto] = {photo.id: photo for photo in not_found}
    changed_content: dict[str, str] = {}
    for found, before in arrived:
        if before is None or found.problem is not None or before.content_hash is None:
            continue
        digest = disk.sha256(found.path)
        if digest is None:
            continue  # reading it will say what is wrong
        plan.hashes[found.path] = digest
        if digest == before.content_hash:
            continue
        changed_content[found.path] = digest
        released[before.id] = before  # its content left this path

    by_hash: dict[str, list[KnownPhoto]] = {}
    by_size: dict[int, list[KnownPhoto]] = {}
    for photo in released.values():
        if photo.content_hash is not None:
            by_hash.setdefault(photo.content_hash, []).append(photo)
        by_size.setdefault(photo.size, []).append(photo)

    claimed: dict[int, str] = {}  # photo id -> its new path
    to_read: list[tuple[ScannedFile, KnownPhoto | None]] = []
    for found, before in arrived:
        match = None
        if found.problem is None:
            if before is None:
                match = _new_file_match(found, by_size.get(found.size, []), by_hash, claimed, plan, disk)
            elif found.path in changed_content:
                match = next((p for p in by_hash.get(changed_content[found.path], []) if p.id not in claimed and p.id != before.id), None)
        if match is not None:
            claimed[match.id] = found.path
            plan.moves.append((found, match))
        elif before is not None and before.content_hash is not None and found.path not in changed_content \
                and plan.hashes.get(found.path) == before.content_hash and same_face_settings(before.face_settings, face_settings):
            plan.touched.append((found, before))
            plan.unchanged += 1
        else:
            to_read.append((found, before))

    displaced = []
    for found, before in to_read:
        if before is not None and before.id in claimed:
            before = None  # its photo moved to another path; what is here now is new
        if before is None:
            plan.new += 1
        else:
            plan.changed += 1
        plan.read.append(ToRead(found, before))
    moved_into = {found.path for found, _ in plan.moves}
    for found, before in arrived:
        if before is not None and found.path in moved_into and before.id not in claimed:
            displaced.append(before)
    return displaced


def _new_file_match(found: ScannedFile, same_size: list[KnownPhoto], by_hash: dict[str, list[KnownPhoto]],
                    claimed: dict[int, str], plan: Plan, disk: Disk) -> KnownPhoto | None:
    """The released photo a new file is, by content; hashed only when a photo of its size was released.
    Photos indexed before content hashes were kept match by modification time and file name."""
    candidates = [p for p in same_size if p.id not in claimed]
    if not candidates:
        return None
    name = os.path.basename(found.path)
    for photo in candidates:
        if photo.content_hash is None and not photo.failed and (photo.mtime_ns, os.path.basename(photo.path)) == (found.mtime_ns, name):
            return photo
    if not any(photo.content_hash for photo in candidates):
        return None
    digest = plan.hashes.get(found.path) or disk.sha256(found.path)
    if digest is None:
        return None
    plan.hashes[found.path] = digest
    return next((p for p in by_hash.get(digest, []) if p.id not in claimed), None)
