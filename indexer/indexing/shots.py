"""One shot kept in several files: a camera's RAW beside its JPEG (``IMG_0001.CR2``, ``IMG_0001.JPG``), a
phone's HEIC beside a JPEG copy, a Live Photo's still beside its short video. This module owns the rule
"which files are one shot, and which of them is read for its faces".

Files are one shot only where they really are one picture, all three of:
- the same folder and name but for the ending (``shot_key``; case aside, as cameras and phones differ);
- kinds that cameras write side by side (``pairable``): a RAW with a JPEG or a HEIC, a HEIC with a JPEG,
  a still (JPEG or HEIC) with a short video (a Live Photo's, LIVE_PHOTO_SECONDS at most) — never two files
  of one kind (``IMG_1.JPG`` beside ``IMG_1.jpg`` on a case-sensitive disk, two RAW formats), never a PNG
  or another format no camera pairs;
- the same picture: the same shape and a matching small preview (``same_picture``, asked of the disk:
  ``vision.glance``), so two cameras' ``IMG_0001`` in one folder stay two photos.
The files of one name are looked at once: the run records a digest of them (``group_digest``) on each,
and while they stay the same files nothing is looked at again (shots made by an earlier rule, recorded
with no digest, are decided again by the next run).

A shot's faces are read once, from its *lead*: of the files there when the shot is first seen, the one
fastest to read well (``LEAD_ORDER``: JPEG, then HEIC and the other compressed formats, then TIFF and
BMP, then RAW, then a Live Photo's video). The other files are its *companions* (``photos.shot_lead_id``):
recorded, never decoded, without faces of their own, so the shot counts once in ``find``, ``people``,
clusters and training. A file that joins later is a companion: nothing is read again and no name moves.
When the lead's file is deleted, the next file of the shot takes its place: it is read under the lead's
record, and the names go to the faces at the same place that look the same (the rule of a photo read
anew, ``naming.labels``). A companion whose lead moved to another folder, or that is no longer one picture
with it, is a photo of its own again (read for its faces: it had none, so no name moves). Two files
indexed on their own before are joined only when the one that would stop being read holds nothing of the
user's: no name given by hand, no face drawn or said not to be somebody, no lost name.

Pure but for ``users_work`` and ``same_picture``, the questions it asks the database and the disk
(table-tested with fakes).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from indexer.db.queries import KnownPhoto
from indexer.indexing.plan import Plan, ToRead
from indexer.indexing.scan import ScannedFile
from indexer.vision.media import RAW_ENDINGS, VIDEO_ENDINGS

# Which file of a shot is read for its faces, first to last (endings; others, then RAW, then videos after
# these).
LEAD_ORDER = ("jpg", "jpeg", "heic", "heif", "avif", "webp", "png", "tif", "tiff", "bmp")
# A video this short beside a still of its name is the still's moving part (a Live Photo's MOV: ~3 s).
LIVE_PHOTO_SECONDS = 5.0
# The kinds of files cameras and phones write side by side, as pairs of kinds (``kind``).
CAMERA_PAIRS = frozenset({frozenset({"raw", "jpeg"}), frozenset({"raw", "heif"}), frozenset({"heif", "jpeg"}),
                          frozenset({"jpeg", "video"}), frozenset({"heif", "video"})})


def shot_key(path: str) -> tuple[str, str]:
    """What the files of one shot share: their folder and their name without its ending (case aside)."""
    folder, name = os.path.split(path)
    return folder, os.path.splitext(name)[0].casefold()


def kind(path: str) -> str:
    """What a file is, as far as shots go: "jpeg", "heif", "raw", "video", or its ending for other formats."""
    ending = os.path.splitext(path)[1][1:].lower()
    if ending in RAW_ENDINGS:
        return "raw"
    if ending in VIDEO_ENDINGS:
        return "video"
    return {"jpg": "jpeg", "jpeg": "jpeg", "heic": "heif", "heif": "heif"}.get(ending, ending)


def pairable(a: str, b: str) -> bool:
    """Whether files ``a`` and ``b`` are of kinds cameras write side by side (two of one kind never are)."""
    return frozenset({kind(a), kind(b)}) in CAMERA_PAIRS


def lead_rank(path: str) -> tuple[int, str]:
    """Sorts a shot's files, the one to read first (see LEAD_ORDER; then RAW, then videos); ties by path."""
    ending = os.path.splitext(path)[1][1:].lower()
    if ending in LEAD_ORDER:
        rank = LEAD_ORDER.index(ending)
    else:
        rank = len(LEAD_ORDER) + (2 if ending in VIDEO_ENDINGS else 1 if ending in RAW_ENDINGS else 0)
    return rank, path


def group_digest(files: Iterable[ScannedFile]) -> str:
    """What the files of one name are (paths, sizes, times), as a digest: while it stays the same, whether
    they are one shot was decided and stands."""
    digest = hashlib.sha256()
    for found in sorted(files, key=lambda f: f.path):
        digest.update(f"{found.path}\0{found.size}\0{found.mtime_ns}\0".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()[:32]


@dataclass(frozen=True)
class Companion:
    """A file of a shot whose faces are read from another: ``row`` is its record when the index holds one
    (``demoted``: a photo read on its own until now, whose faces go), ``lead`` the path of the file its
    faces are read from (its record may be made by this run); ``to_record``: its record is to be made or
    brought up to date (it is new, changed, led by another file now, or demoted), else it stands."""

    file: ScannedFile
    row: KnownPhoto | None
    lead: str
    demoted: bool = False
    to_record: bool = True


@dataclass
class _Member:
    file: ScannedFile
    row: KnownPhoto | None

    @property
    def leads(self) -> bool:
        """Read for its own faces until now (a failed file is left out of shots: it is tried again alone)."""
        return self.row is not None and self.row.lead_id is None and not self.row.failed


def plan_shots(plan: Plan, files: Iterable[ScannedFile], known: dict[str, KnownPhoto],
               users_work: Callable[[list[int]], set[int]],
               same_picture: Callable[[str, str], bool] = lambda a, b: True) -> list[Companion]:
    """Apply the shot rule to a run's ``plan`` (made by ``plan.plan_run`` from ``files`` and ``known``, the
    photos the database holds under the roots, by path): companions are taken out of ``plan.read`` and
    returned, those ``to_record`` to be recorded once their leads are; a shot whose lead was deleted is read
    from its next file under the lead's record (that file's own record goes into ``plan.released``, the
    lead leaves ``plan.remove``); a companion that is no longer one picture with its lead is read on its
    own. The digests of the files of each name decided anew go into ``plan.shot_checks``, by path.
    ``users_work(photo ids)``: those of them holding anything of the user's. ``same_picture(a, b)``:
    whether the files at ``a`` and ``b`` show one picture (a video: only a Live Photo's short one)."""
    by_id = {photo.id: photo for photo in known.values()}
    row_of = _rows_after(plan, files, known)
    now_at = {row.id: path for path, row in row_of.items() if row is not None}
    removed = {photo.id: photo for photo in plan.remove}
    planned = {item.file.path for item in plan.read} | {found.path for found, _ in plan.touched}
    groups: dict[tuple[str, str], list[_Member]] = {}
    for found in files:
        if found.problem is None and not (row_of.get(found.path) is not None and row_of[found.path].failed):
            groups.setdefault(shot_key(found.path), []).append(_Member(found, row_of.get(found.path)))
    companions: list[Companion] = []
    for key, members in groups.items():
        members.sort(key=lambda m: lead_rank(m.file.path))
        if len(members) == 1 and (members[0].row is None or members[0].row.lead_id is None):
            continue  # a file alone
        digest = group_digest(m.file for m in members)
        if all(m.row is not None and m.row.shot_checked == digest for m in members):
            shots = _as_recorded(members)
        else:
            shots = _partition(members, same_picture)
            plan.shot_checks.update({m.file.path: digest for m in members})
        for shot in shots:
            for companion in _one_shot(plan, shot, key, by_id, removed, now_at, users_work):
                lead_before = by_id.get(companion.row.lead_id) if companion.row is not None else None
                stands = (companion.file.path not in planned and not companion.demoted and lead_before is not None
                          and now_at.get(lead_before.id, lead_before.path) == companion.lead)
                companions.append(replace(companion, to_record=not stands))
    return companions


def _partition(members: list[_Member], same_picture: Callable[[str, str], bool]) -> list[list[_Member]]:
    """The files of one name (best lead first) as shots: each joins the first shot it can be one picture
    with (no file of its kind in it yet, a kind each of its files pairs with, the same picture as its
    first file), else starts one."""
    shots: list[list[_Member]] = []
    for member in members:
        path = member.file.path
        for shot in shots:
            if all(kind(other.file.path) != kind(path) and pairable(other.file.path, path) for other in shot) \
                    and same_picture(shot[0].file.path, path):
                shot.append(member)
                break
        else:
            shots.append([member])
    return shots


def _as_recorded(members: list[_Member]) -> list[list[_Member]]:
    """The files of one name as the last run decided them: each companion with the lead it records."""
    by_id = {m.row.id: m for m in members}
    shots: dict[int, list[_Member]] = {}
    for member in members:
        lead = member.row.lead_id if member.row.lead_id in by_id else member.row.id
        shots.setdefault(lead, []).append(member)
    return list(shots.values())


def _one_shot(plan: Plan, members: list[_Member], key: tuple[str, str], by_id: dict[int, KnownPhoto],
              removed: dict[int, KnownPhoto], now_at: dict[int, str],
              users_work: Callable[[list[int]], set[int]]) -> list[Companion]:
    """The companions of one shot (its files, best lead first), the plan changed for its lead."""
    if len(members) == 1 and (members[0].row is None or members[0].row.lead_id is None):
        return []  # a file alone
    leads = [m for m in members if m.leads]
    if len(leads) > 1:
        holding = users_work([m.row.id for m in leads])
        lead = next((m for m in leads if m.row.id in holding), leads[0])
        joining = [m for m in leads if m is not lead and m.row.id not in holding]
        others = [m for m in members if not m.leads] + joining
    elif leads:
        lead, others, joining = leads[0], [m for m in members if not m.leads], []
    else:
        lead, others = _new_lead(plan, members, by_id, removed, now_at, key)
        joining = []
        if lead is None:
            return []
    for member in others:
        _take_out(plan, member.file.path)
    return [Companion(member.file, member.row, lead.file.path, demoted=member in joining) for member in others]


def _new_lead(plan: Plan, members: list[_Member], by_id: dict[int, KnownPhoto], removed: dict[int, KnownPhoto],
              now_at: dict[int, str], key: tuple[str, str]) -> tuple[_Member | None, list[_Member]]:
    """The lead of a shot none of whose files is read for its own faces: its first file. Where the lead
    the companions had was deleted, that file is read under the lead's record (its names carried over);
    where the lead moved to another shot (another folder, or files of its name that are not one picture
    with it), it is read as itself; where the lead is just not seen (its disk, the settings), the
    companions wait for it. Returns (lead, its companions); (None, []) to change nothing."""
    first, others = members[0], members[1:]
    old_leads = {m.row.lead_id for m in members if m.row is not None and m.row.lead_id is not None}
    deleted = next((removed[i] for i in sorted(old_leads) if i in removed), None)
    if deleted is not None:
        plan.remove.remove(deleted)
        _take_out(plan, first.file.path)
        if first.row is not None:
            plan.released.append(first.row.id)
        plan.read.append(ToRead(first.file, deleted))
        return first, others
    ours = {m.row.id for m in members if m.row is not None}
    moved_away = any(i in now_at and (shot_key(now_at[i]) != key or i not in ours) for i in old_leads)
    if first.row is None or moved_away:
        if first.row is not None:
            if all(item.file.path != first.file.path for item in plan.read):  # counted unchanged: read now
                plan.unchanged, plan.changed = plan.unchanged - 1, plan.changed + 1
            _take_out(plan, first.file.path)
            plan.read.append(ToRead(first.file, first.row))  # read for its own faces now
        return first, others
    waiting = next((by_id[i] for i in sorted(old_leads) if i in by_id), None)
    if waiting is None:
        return None, []
    lead = _Member(ScannedFile(waiting.path, waiting.size, waiting.mtime_ns), waiting)
    return lead, members


def _rows_after(plan: Plan, files: Iterable[ScannedFile], known: dict[str, KnownPhoto]) -> dict[str, KnownPhoto | None]:
    """Path → the record each file found will have after the plan's moves (None: a new file)."""
    rows: dict[str, KnownPhoto | None] = {found.path: known.get(found.path) for found in files}
    rows |= {item.file.path: item.before for item in plan.read}
    rows |= {found.path: photo for found, photo in plan.moves}
    return rows


def _take_out(plan: Plan, path: str) -> None:
    """Nothing is read or touched at ``path`` by the plan (a companion's record is written apart)."""
    plan.read = [item for item in plan.read if item.file.path != path]
    plan.touched = [(found, photo) for found, photo in plan.touched if found.path != path]
