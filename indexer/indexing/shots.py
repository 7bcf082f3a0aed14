"""One shot kept in several files: a camera's RAW beside its JPEG (``IMG_0001.CR2``, ``IMG_0001.JPG``), a
phone's HEIC beside a JPEG copy. This module owns the rule "which files are one shot, and which of them
is read for its faces".

Files of one folder whose names differ only by their ending are one shot (``shot_key``). Its faces are
read once, from its *lead*: of the files there when the shot is first seen, the one fastest to read well
(``LEAD_ORDER``: JPEG, then HEIC and the other compressed formats, then TIFF and BMP, then RAW, then a
Live Photo's video: a video is one shot with photos only when it is that, LIVE_PHOTO_SECONDS at most). The other
files are its *companions* (``photos.shot_lead_id``): recorded, never decoded, without faces of their
own, so the shot counts once in ``find``, ``people``, clusters and training. A file that joins later is
a companion: nothing is read again and no name moves. When the lead's file is deleted, the next file of
the shot takes its place: it is read under the lead's record, and the names go to the faces at the same
place that look the same (the rule of a photo read anew, ``naming.labels``). A companion whose lead moved
to another folder is a shot of its own again. Two files indexed on their own before (before shots, or a
JPEG added beside a RAW the user named) are joined only when the one that would stop being read holds
nothing of the user's: no name given by hand, no face drawn or said not to be somebody, no lost name.

Pure but for ``users_work``, the question it asks the database (table-tested with a fake).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from indexer.db.queries import KnownPhoto
from indexer.indexing.plan import Plan, ToRead
from indexer.indexing.scan import ScannedFile
from indexer.vision.raw import RAW_ENDINGS
from indexer.vision.video import VIDEO_ENDINGS, is_video

# Which file of a shot is read for its faces, first to last (endings; others, then RAW, then videos after
# these).
LEAD_ORDER = ("jpg", "jpeg", "heic", "heif", "avif", "webp", "png", "tif", "tiff", "bmp")
# A video this short beside a photo of its name is the photo's moving part (a Live Photo's MOV: ~3 s).
LIVE_PHOTO_SECONDS = 5.0


def shot_key(path: str) -> tuple[str, str]:
    """What the files of one shot share: their folder and their name without its ending (case aside)."""
    folder, name = os.path.split(path)
    return folder, os.path.splitext(name)[0].casefold()


def lead_rank(path: str) -> tuple[int, str]:
    """Sorts a shot's files, the one to read first (see LEAD_ORDER; then RAW, then videos); ties by path."""
    ending = os.path.splitext(path)[1][1:].lower()
    if ending in LEAD_ORDER:
        rank = LEAD_ORDER.index(ending)
    else:
        rank = len(LEAD_ORDER) + (2 if ending in VIDEO_ENDINGS else 1 if ending in RAW_ENDINGS else 0)
    return rank, path


@dataclass(frozen=True)
class Companion:
    """A file of a shot whose faces are read from another: ``row`` is its record when the index holds one
    (``demoted``: a photo read on its own until now, whose faces go), ``lead`` the path of the file its
    faces are read from (its record may be made by this run)."""

    file: ScannedFile
    row: KnownPhoto | None
    lead: str
    demoted: bool = False


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
               live_photo: Callable[[str], bool] = lambda path: False) -> list[Companion]:
    """Apply the shot rule to a run's ``plan`` (made by ``plan.plan_run`` from ``files`` and ``known``, the
    photos the database holds under the roots, by path): companions are taken out of ``plan.read`` and
    returned, to be recorded once their leads are; a shot whose lead was deleted is read from its next
    file under the lead's record (that file's own record goes into ``plan.released``, the lead leaves
    ``plan.remove``). ``users_work(photo ids)``: those of them holding anything of the user's.
    ``live_photo(path)``: whether a video is the moving part of a photo of the same name (a Live Photo's
    MOV: a few seconds); only such a video is one shot with photos, any other is a shot of its own (or
    with videos of its name: the same clip, converted)."""
    by_id = {photo.id: photo for photo in known.values()}
    row_of = _rows_after(plan, files, known)
    now_at = {row.id: path for path, row in row_of.items() if row is not None}
    removed = {photo.id: photo for photo in plan.remove}
    groups: dict[tuple[str, str], list[_Member]] = {}
    for found in files:
        if found.problem is None and not (row_of.get(found.path) is not None and row_of[found.path].failed):
            groups.setdefault(shot_key(found.path), []).append(_Member(found, row_of.get(found.path)))
    for key in list(groups):  # a video not a Live Photo's is not one shot with the photos of its name
        members = groups[key]
        videos = [m for m in members if is_video(m.file.path)]
        if videos and len(videos) < len(members):
            apart = [m for m in videos if not live_photo(m.file.path)]
            if apart:
                groups[key] = [m for m in members if m not in apart]
                groups[(*key, "videos")] = apart
    companions: list[Companion] = []
    for group, members in groups.items():
        members.sort(key=lambda m: lead_rank(m.file.path))
        key = group[:2]
        if len(members) == 1 and (members[0].row is None or members[0].row.lead_id is None):
            continue  # a file alone
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
                continue
        for member in others:
            _take_out(plan, member.file.path)
            companions.append(Companion(member.file, member.row, lead.file.path, demoted=member in joining))
    return companions


def _new_lead(plan: Plan, members: list[_Member], by_id: dict[int, KnownPhoto], removed: dict[int, KnownPhoto],
              now_at: dict[int, str], key: tuple[str, str]) -> tuple[_Member | None, list[_Member]]:
    """The lead of a shot none of whose files is read for its own faces: its first file. Where the lead
    the companions had was deleted, that file is read under the lead's record (its names carried over);
    where the lead moved to another shot, it is read as itself; where the lead is just not seen (its disk,
    the settings), the companions wait for it. Returns (lead, its companions); (None, []) to change nothing."""
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
    moved_away = any(i in now_at and shot_key(now_at[i]) != key for i in old_leads)
    if first.row is None or moved_away:
        if first.row is not None:
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
