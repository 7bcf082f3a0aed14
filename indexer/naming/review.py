"""Suggestions, reviewed: faces nobody named that look like somebody named by hand, for the user to
confirm (named by hand) or reject (never suggested or named automatically as that person again).

A suggestion is an unnamed face (no name by hand or by recognition, not cleared by hand) whose nearest
face named by hand is within the model's limit (``ModelSpec.max_distance``: the loosest match
recognition ever accepts), skipping the people rejected for it; nearest first. Recognition left such a
face unknown because the calibrated rule wanted more (a nearer face, or the SVM's agreement); the user
decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from indexer.db import queries
from indexer.db.queries.rows import vector_array
from indexer.library import Library
from indexer.naming.labels import by_hand, refused, require_person
from indexer.naming.people import FaceLabel, label_face

NEAREST = 10  # named faces looked at per face, for one whose person is not rejected


@dataclass(frozen=True)
class Suggestion:
    face_id: int
    photo: str
    box: list[int]  # [x, y, w, h] in pixels of the upright photo
    person: str
    distance: float  # L2 between unit vectors to the nearest face of that person named by hand, 0–2
    time: float | None = None  # in a video: seconds from its start of the frame the box is from


def suggestions(library: Library, name: str | None = None, limit: int = 20) -> list[Suggestion]:
    """Up to ``limit`` suggestions, nearest first; only for the person called ``name`` when given."""
    import faiss

    model = library.model
    with library.session() as session:
        face_ids, person_ids, vectors = queries.named_faces(session, model.name, model.dimensions)
        if name is not None:
            person = require_person(session, name)
            chosen = person_ids == person.id
            face_ids, person_ids, vectors = face_ids[chosen], person_ids[chosen], vectors[chosen]
        names = queries.person_names(session)
        rejected = refused(session)
        rows = queries.unnamed_faces(session, model.name)
        if len(face_ids) == 0 or not rows:
            return []
        index = faiss.IndexFlatL2(model.dimensions)
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        unnamed = vector_array([r.embedding for r in rows], model.dimensions)
        squared, nearest = index.search(np.ascontiguousarray(unnamed), min(NEAREST, len(face_ids)))
        found = []
        for row, distances, hits in zip(rows, np.sqrt(np.maximum(squared, 0)), nearest, strict=True):
            for distance, hit in zip(distances.tolist(), hits.tolist(), strict=True):
                person_id = int(person_ids[hit])
                if hit < 0 or distance > model.max_distance:
                    break
                if (row.id, person_id) not in rejected:
                    found.append((distance, row, person_id))
                    break
        found.sort(key=lambda item: (item[0], item[1].id))
        paths = queries.photo_paths(session, {row.photo_id for _, row, _ in found[:limit]})
        return [Suggestion(row.id, paths[row.photo_id], [row.box_x, row.box_y, row.box_w, row.box_h], names[person_id],
                           round(distance, 4), row.video_time) for distance, row, person_id in found[:limit]]


def confirm(library: Library, face_id: int, name: str) -> FaceLabel:
    """Yes, face ``face_id`` is ``name``: named by hand (an event "confirm" in the history)."""
    return label_face(library, face_id, name, action="confirm")


def reject(library: Library, face_id: int, name: str) -> str:
    """No, face ``face_id`` is not ``name``: the pair is recorded (never suggested again, never named so
    automatically), and an automatic name of that person on the face is taken off. Returns the person's
    name as stored. IndexerError when the user named the face so by hand (label it instead)."""
    with by_hand(library, "reject") as naming:
        face = naming.face(face_id)
        person = naming.existing_person(name)
        naming.reject(face, person)
        naming.says(f"face {face.id}: not {person.name}")
        return person.name


def face_crop(suggestion: Suggestion, out: Path) -> Path:
    """Write the suggestion's face, with a quarter of its size around it, to ``out`` (a JPEG, owner-only)."""
    from PIL import Image

    from indexer.files import atomic_file
    from indexer.vision.imaging import load_photo

    from indexer.vision.video import frame_at

    x, y, w, h = suggestion.box
    pixels = frame_at(suggestion.photo, suggestion.time, 200) if suggestion.time is not None else load_photo(suggestion.photo, 200)
    crop = pixels[max(0, y - h // 4) : y + h + h // 4, max(0, x - w // 4) : x + w + w // 4]
    with atomic_file(out) as tmp_name:
        Image.fromarray(crop).save(tmp_name, format="JPEG", quality=90)
    return out
