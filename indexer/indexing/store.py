"""Storing what a run found, one batch per transaction: photos and faces, the names given by hand carried
over to the faces of a re-read photo, automatic names for new faces, and the plan's moves and removals.

A name given by hand is only ever removed by the user. Here that means: the old faces of a re-read photo
are replaced only in the transaction that stores its new ones; a photo that cannot be read keeps its faces
and names; and a name moves to a new face only when that face is at the same place *and* looks like the
named one (``carry_over``) — otherwise it is kept as a lost name (``indexer lost-names``), never put on
somebody else.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy.orm import Session

from indexer.db import queries
from indexer.db.models import Face, LabelSource, Photo, utcnow
from indexer.detect import DetectedFace
from indexer.geometry import box_overlap, same_face
from indexer.indexing.plan import Plan
from indexer.scanner import ScannedFile

log = logging.getLogger(__name__)

# A name given by hand moves to a face of the re-read photo only when the two embeddings are at most this
# far apart (L2 between unit vectors, 0–2). bench/carry_over.py, facenet128 on the sample library: the
# same face after re-encoding, brightening, downscaling to 60 %, cropping, or with margin 0.2 or a 40 px
# minimum, is at most 0.86 from itself (medians 0.19–0.37); two different people are at least 1.05 apart.
SAME_FACE_DISTANCE = 0.9


@dataclass
class Analysed:
    """One file after reading, detecting and embedding: its faces with their vectors (``vectors`` has one
    row per face), or ``error`` when it could not be read. ``before``: the photo it replaces, if any."""

    file: ScannedFile
    before: queries.KnownPhoto | None
    error: str | None = None
    width: int | None = None
    height: int | None = None
    content_hash: str | None = None
    faces: list[DetectedFace] = field(default_factory=list)
    vectors: np.ndarray | None = None


@dataclass
class StoredBatch:
    """What storing one batch did: the new faces' ids and vectors (for the vector file), the ids of the
    faces it replaced, how many new faces recognition named, how many names given by hand could not be
    carried over, and the files that could not be read (path, reason)."""

    face_ids: list[int] = field(default_factory=list)
    vectors: np.ndarray | None = None  # (new faces, dimensions)
    replaced: list[int] = field(default_factory=list)
    named: int = 0
    names_lost: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)


def carry_over(labels: list[queries.ManualLabel], boxes: list, vectors: np.ndarray, model_name: str,
               same_content: bool = False, max_distance: float = SAME_FACE_DISTANCE,
               ) -> tuple[dict[int, queries.ManualLabel], list[queries.ManualLabel]]:
    """Which new face (index into ``boxes`` / ``vectors``, embedded by ``model_name``) each label given by
    hand goes to: the face at the same place (boxes overlapping by half, or centred on each other) whose
    embedding is within ``max_distance`` of the labelled one, nearest first. A label whose face another
    model embedded cannot be compared so; it goes by place alone when ``same_content`` (the photo's bytes
    are the ones it was named on: only the settings changed). Returns (face index -> label, labels not
    placed)."""
    pairs = []
    for i, label in enumerate(labels):
        old = np.frombuffer(label.embedding, dtype="<f4")
        comparable = label.embedding_model == model_name and old.shape[0] == vectors.shape[1]
        if not comparable and not same_content:
            continue
        for j, box in enumerate(boxes):
            if not (box_overlap(label.box, box) >= 0.5 or same_face(label.box, box)):
                continue
            distance = float(np.linalg.norm(old - vectors[j])) if comparable else 1 - box_overlap(label.box, box)
            if distance <= max_distance:
                pairs.append((distance, i, j))
    placed: dict[int, queries.ManualLabel] = {}
    used: set[int] = set()
    for _, i, j in sorted(pairs):
        if i not in used and j not in placed:
            placed[j] = labels[i]
            used.add(i)
    return placed, [label for i, label in enumerate(labels) if i not in used]


def store_batch(session: Session, items: list[Analysed], face_settings: str, model_name: str, recognizer) -> StoredBatch:
    """Write ``items`` in ``session``'s transaction: a new photo gets a row; a re-read photo gets its new
    faces in place of its old ones, with the names given by hand carried over; a photo that could not be
    read is recorded as failed (keeping what it had). New faces not named by hand are named with
    ``recognizer`` (None: not yet trained), one name per photo."""
    result = StoredBatch()
    added: list[Face] = []
    added_vectors: list[np.ndarray] = []
    refused: list[tuple[Face, set[int]]] = []  # new faces and the people the user said they are not
    now = utcnow()
    for item in items:
        if item.error is not None:
            result.failed.append((item.file.path, item.error))
            if item.before is not None:
                queries.mark_failed(session, item.before.id, item.error, now)
                continue
        labels: list[queries.ManualLabel] = []
        rejections: list[tuple[queries.ManualLabel, set[int]]] = []
        if item.before is None:
            photo = queries.add_photo(session, item.file.path)
        else:
            photo = queries.photo_by_id(session, item.before.id)
            labels = queries.manual_labels_of(session, photo.id)
            rejections = queries.rejections_of(session, photo.id)
            result.replaced += queries.delete_faces_of(session, [photo.id])
        photo.size, photo.mtime_ns, photo.indexed_at = item.file.size, item.file.mtime_ns, now
        photo.width, photo.height, photo.error = item.width, item.height, item.error
        photo.analysis = face_settings
        photo.content_hash = item.content_hash
        rows = [_face_row(photo, face, item.vectors[k], model_name) for k, face in enumerate(item.faces)]
        queries.add_faces(session, rows)
        same_content = item.before is not None and item.content_hash is not None and item.content_hash == item.before.content_hash
        if rejections:  # "not this person" goes to the same face as a name would
            placed, _ = carry_over([face for face, _ in rejections], [face.box for face in item.faces], item.vectors,
                                   model_name, same_content)
            people_of = {id(face): people for face, people in rejections}
            refused += [(rows[j], people_of[id(face)]) for j, face in placed.items()]
        if labels:
            placed, lost = carry_over(labels, [face.box for face in item.faces], item.vectors, model_name, same_content)
            for j, label in placed.items():
                rows[j].person_id, rows[j].label_source, rows[j].label_score = label.person_id, LabelSource.MANUAL, label.score
            lost_named = [label for label in lost if label.person_id is not None]
            if lost_named:
                session.flush()
                queries.record_lost_names(session, photo.id, lost_named, _lost_reason(item))
                result.names_lost += len(lost_named)
                log.warning("%s was read anew: %d name(s) given by hand no longer match a face in it (%s); "
                            "`indexer lost-names` lists them", item.file.path, len(lost_named),
                            ", ".join(label.person_name or "?" for label in lost_named))
        added += rows
        if rows:
            added_vectors.append(item.vectors)
    session.flush()
    queries.add_rejections(session, [(face.id, person) for face, people in refused for person in people])
    vectors = np.concatenate(added_vectors) if added_vectors else np.zeros((0, 0), np.float32)
    result.named = _name_new_faces(session, added, vectors, recognizer, {(face.id, p) for face, people in refused for p in people})
    result.face_ids = [row.id for row in added]
    result.vectors = vectors
    return result


def _face_row(photo: Photo, face: DetectedFace, vector: np.ndarray, model_name: str) -> Face:
    return Face(
        photo=photo,
        box_x=face.box[0], box_y=face.box[1], box_w=face.box[2], box_h=face.box[3],
        detection=face.confidence,
        landmarks={name: list(point) for name, point in face.landmarks.items()},
        embedding=np.asarray(vector, dtype="<f4").tobytes(),
        embedding_model=model_name,
    )


def _lost_reason(item: Analysed) -> str:
    if item.before is not None and (item.before.size, item.before.mtime_ns) == (item.file.size, item.file.mtime_ns):
        return "read again with other settings: no face at the same place looks like the named one"
    return "the photo changed: no face at the same place looks like the named one"


def _name_new_faces(session: Session, faces: list[Face], vectors: np.ndarray, recognizer,
                    refused: set[tuple[int, int]] = frozenset()) -> int:
    """Name the new faces not labelled by hand with the trained rule, one name per photo; a person
    merged away since the rule was loaded is not given, nor one the user said a face is not (``refused``:
    face id, person id). Returns how many were named."""
    if not faces or recognizer is None:
        return 0
    open_rows = [i for i, face in enumerate(faces) if face.label_source is None]
    if not open_rows:
        return 0
    taken = {(face.photo_id, face.person_id) for face in faces if face.label_source == LabelSource.MANUAL and face.person_id}
    matches = recognizer.name(vectors[open_rows], [faces[i].photo_id for i in open_rows], taken,
                              allowed=lambda people: queries.existing_people(session, people))
    named = 0
    for i, match in zip(open_rows, matches, strict=True):
        if match is not None and (faces[i].id, match.person_id) not in refused:
            faces[i].person_id, faces[i].label_source, faces[i].label_score = match.person_id, LabelSource.AUTO, match.score
            named += 1
    return named


def apply_moves_and_removals(session: Session, plan: Plan) -> tuple[list[int], int]:
    """Write the plan's moves, touched files and removals. Returns (the removed faces' ids, how many of
    them carried a name given by hand)."""
    remove_ids = [photo.id for photo in plan.remove]
    named = queries.manual_faces_under(session, remove_ids) if remove_ids else 0
    face_ids = queries.delete_photos(session, remove_ids) if remove_ids else []
    if plan.moves:
        queries.move_photos(session, [(photo.id, found.path, found.size, found.mtime_ns) for found, photo in plan.moves])
    for found, photo in plan.touched:
        queries.touch_photo(session, photo.id, found.size, found.mtime_ns)
    return face_ids, named
