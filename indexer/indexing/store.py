"""Storing what a run found, one batch per transaction: photos and faces, the names given by hand carried
over to the faces of a re-read photo, automatic names for new faces, and the plan's moves and removals.

A name given by hand is only ever removed by the user. Here that means: the old faces of a re-read photo
are replaced only in the transaction that stores its new ones; a photo that cannot be read keeps its faces
and names; and the names move to the new faces by ``naming.labels``' rules (``carry_over_names``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy.orm import Session

from indexer.db import queries
from indexer.clock import utcnow
from indexer.db.models import Face, Photo
from indexer.db.values import FaceOrigin
from indexer.geometry import same_place
from indexer.indexing.plan import Plan
from indexer.indexing.shots import Companion
from indexer.indexing.scan import ScannedFile
from indexer.naming import labels
from indexer.vision.detect import DetectedFace

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class FoundFace:
    """A face a reading found: the detector's ``box`` ([x, y, w, h] in pixels of the upright picture),
    ``confidence`` 0–1 and ``landmarks``, and its embedding (a unit vector); in a video, one appearance: the
    time of its box's frame and its span (seconds from the start)."""

    box: tuple[int, int, int, int]
    confidence: float
    landmarks: dict[str, tuple[int, int]]
    vector: np.ndarray
    time: float | None = None
    span: tuple[float, float] | None = None

    @classmethod
    def of(cls, detected: DetectedFace, vector: np.ndarray, time: float | None = None,
           span: tuple[float, float] | None = None) -> FoundFace:
        return cls(tuple(detected.box), detected.confidence, dict(detected.landmarks), vector, time, span)


@dataclass(frozen=True)
class DrawnAgain:
    """A face drawn by hand on a photo read anew: as it was drawn (``drawn``), its box on the photo as it is
    now (scaled if its size changed), and its embedding from it."""

    drawn: queries.DrawnBox
    box: tuple[int, int, int, int]
    vector: np.ndarray


@dataclass
class Analysed:
    """One file after reading, detecting and embedding: its faces, or ``error`` when it could not be read
    (and ``limit_hit``, a LimitHit, when a limit stopped or cut its reading). ``before``: the photo it
    replaces, if any; ``drawn``: the faces drawn by hand on it, read anew; ``duration``: a video's length in
    seconds (its faces are appearances)."""

    file: ScannedFile
    before: queries.KnownPhoto | None
    error: str | None = None
    width: int | None = None
    height: int | None = None
    content_hash: str | None = None
    faces: list[FoundFace] = field(default_factory=list)
    drawn: list[DrawnAgain] = field(default_factory=list)
    duration: float | None = None
    limit_hit: str | None = None

    def vectors(self, dimensions: int) -> np.ndarray:
        """Its faces' embeddings, one row each: (faces, ``dimensions``)."""
        return np.stack([face.vector for face in self.faces]) if self.faces else np.zeros((0, dimensions), np.float32)


@dataclass
class StoredBatch:
    """What storing one batch did: the new faces' ids and vectors (for the vector file), the ids of the
    faces it replaced, how many new faces recognition named, how many names given by hand could not be
    carried over, the files that could not be read (path, reason), and those a limit stopped or cut short."""

    face_ids: list[int] = field(default_factory=list)
    vectors: np.ndarray | None = None  # (new faces, dimensions)
    replaced: list[int] = field(default_factory=list)
    named: int = 0
    names_lost: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    limited: list[tuple[str, str, str | None]] = field(default_factory=list)  # (path, LimitHit, why it stopped or None)


def store_batch(session: Session, items: list[Analysed], face_settings: str, model_name: str, recognizer) -> StoredBatch:
    """Write ``items`` in ``session``'s transaction: a new photo gets a row; a re-read photo gets its new
    faces in place of its old ones, with the names given by hand carried over; a photo that could not be
    read is recorded as failed (keeping what it had). New faces not named by hand are named with
    ``recognizer`` (None: not yet trained), one name per photo."""
    result = StoredBatch()
    added: list[Face] = []
    added_vectors: list[np.ndarray] = []
    refused: set[tuple[int, int]] = set()  # (new face, person) pairs the user said do not go together
    now = utcnow()
    for item in items:
        if item.limit_hit is not None:
            result.limited.append((item.file.path, item.limit_hit, item.error))
        if item.error is not None:
            if item.limit_hit is None:
                result.failed.append((item.file.path, item.error))
            if item.before is not None:
                queries.mark_failed(session, item.before.id, item.error, now, item.limit_hit)
                continue
        kept = None
        if item.before is None:
            photo = queries.add_photo(session, item.file.path)
        else:
            photo = queries.photo_by_id(session, item.before.id)
            kept = labels.names_of_photo(session, photo.id)  # read before the faces they are on go
            result.replaced += queries.delete_faces_of(session, [photo.id], FaceOrigin.DETECTED)  # drawn ones stay
            if photo.width and photo.height and (item.width, item.height) != (photo.width, photo.height) and item.width:
                kept = kept.scaled(item.width / photo.width, item.height / photo.height)  # another size, or file
        # A shot's next file takes over when its lead was deleted (indexing.shots): the record goes with it.
        photo.path, photo.shot_lead_id = item.file.path, None
        photo.size, photo.mtime_ns, photo.indexed_at = item.file.size, item.file.mtime_ns, now
        photo.width, photo.height, photo.error = item.width, item.height, item.error
        photo.analysis, photo.duration = face_settings, item.duration
        photo.content_hash, photo.limit_hit = item.content_hash, item.limit_hit
        photo.taken_from = None  # its date is read (again) after the batch: indexing.dating
        rows = [_face_row(photo, face, model_name) for face in item.faces]
        queries.add_faces(session, rows)
        vectors = item.vectors(len(item.faces[0].vector) if item.faces else 0)
        if kept:
            same_content = item.content_hash is not None and item.content_hash == item.before.content_hash
            carried = labels.carry_over_names(session, photo.id, kept, rows, vectors, model_name, same_content,
                                              _lost_reason(item))
            refused |= carried.refused
            if carried.lost:
                result.names_lost += len(carried.lost)
                log.warning("%s was read anew: %d name(s) given by hand no longer match a face in it (%s); "
                            "`indexer lost-names` lists them", item.file.path, len(carried.lost),
                            ", ".join(label.person_name or "?" for label in carried.lost))
        drawn = _keep_drawn(session, photo, item, rows, model_name, result) if item.drawn else []
        added += rows + [face for face, _ in drawn]
        if rows:
            added_vectors.append(vectors)
        if drawn:
            added_vectors.append(np.stack([vector for _, vector in drawn]).astype(np.float32))
    session.flush()
    vectors = np.concatenate(added_vectors) if added_vectors else np.zeros((0, 0), np.float32)
    result.named = labels.name_new_faces(session, added, vectors, recognizer, refused)
    result.face_ids = [row.id for row in added]
    result.vectors = vectors
    return result


def _keep_drawn(session: Session, photo: Photo, item: Analysed, rows: list[Face], model_name: str,
                result: StoredBatch) -> list[tuple[Face, np.ndarray]]:
    """The faces drawn by hand on a photo read anew stay: each becomes a new face (a new id: ids key the
    vector file) with its box on the photo as it is now and its vector from it; where the detector now
    finds a face at the same place, it becomes that face instead: never two faces for one. Their names
    and rejections go with them (``labels.hand_over``). Returns the new drawn faces with their vectors."""
    session.flush()  # the new detected faces have their ids
    kept: list[tuple[Face, np.ndarray]] = []
    for again in item.drawn:
        face = queries.face_by_id(session, again.drawn.face_id)
        if face is None:
            continue  # removed meanwhile (an undo)
        found = next((row for row in rows if same_place(row.box, again.box)), None)
        if found is None:
            found = queries.add_drawn_face(session, photo.id, again.box, np.asarray(again.vector, dtype="<f4").tobytes(),
                                           model_name)
            kept.append((found, again.vector))
        labels.hand_over(session, face, found)
        result.replaced.append(again.drawn.face_id)
    return kept


def _face_row(photo: Photo, face: FoundFace, model_name: str) -> Face:
    start, end = face.span if face.span is not None else (None, None)
    return Face(
        video_time=face.time, video_from=start, video_to=end,
        photo=photo,
        box_x=face.box[0], box_y=face.box[1], box_w=face.box[2], box_h=face.box[3],
        detection=face.confidence,
        landmarks={name: list(point) for name, point in face.landmarks.items()},
        embedding=np.asarray(face.vector, dtype="<f4").tobytes(),
        embedding_model=model_name,
    )


def _lost_reason(item: Analysed) -> str:
    if item.before is not None and (item.before.size, item.before.mtime_ns) == (item.file.size, item.file.mtime_ns):
        return "read again with other settings: no face at the same place looks like the named one"
    return "the photo changed: no face at the same place looks like the named one"


def apply_moves_and_removals(session: Session, plan: Plan, companions: list[Companion] = ()) -> tuple[list[int], int]:
    """Write the plan's moves, touched files and removals; of the shots (``shots``), remove the records
    the leads take over, and the faces of photos that become companions. Returns (the removed faces' ids,
    how many of them carried a name given by hand)."""
    remove_ids = [photo.id for photo in plan.remove]
    named = queries.manual_faces_under(session, remove_ids) if remove_ids else 0
    face_ids = queries.delete_photos(session, remove_ids + plan.released) if remove_ids or plan.released else []
    demoted = [companion.row.id for companion in companions if companion.demoted]
    face_ids += queries.delete_faces_of(session, demoted) if demoted else []
    if plan.moves:
        queries.move_photos(session, [(photo.id, found.path, found.size, found.mtime_ns) for found, photo in plan.moves])
    for found, photo in plan.touched:
        queries.touch_photo(session, photo.id, found.size, found.mtime_ns)
    return face_ids, named


@dataclass(frozen=True)
class CompanionFile:
    """A companion (``shots.Companion``) as recorded: its content hash, and its size once decoded upright
    (None: not known), read from the file before the transaction."""

    companion: Companion
    content_hash: str | None
    upright: tuple[int, int] | None


def store_companions(session: Session, files: list[CompanionFile], face_settings: str) -> int:
    """Record each companion with its lead, once the lead's record has been read well (a lead that could
    not be read leaves its companions to the next run, when one of them is read instead). Returns how
    many were recorded."""
    leads = queries.known_photos(session, [f.companion.lead for f in files])
    now = utcnow()
    recorded = 0
    for f in files:
        lead = leads.get(f.companion.lead)
        if lead is None or lead.failed or lead.lead_id is not None:
            continue
        found, row = f.companion.file, f.companion.row
        queries.record_companion(session, row.id if row is not None else None, found.path, found.size, found.mtime_ns,
                                 f.content_hash, lead.id, f.upright, face_settings, now)
        recorded += 1
    return recorded
