"""Suggestions, reviewed: faces nobody named that look like somebody named by hand, for the user to
confirm (named by hand) or reject (never suggested or named automatically as that person again): the
answers are ``naming.people.confirm`` and ``reject``.

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

from indexer.db import queries, reads
from indexer.db.reader import Reader
from indexer.db.queries.rows import vector_array
from indexer.library import Library
from indexer.naming.labels import refused

NEAREST = 10  # named faces looked at per face, for one whose person is not rejected


@dataclass(frozen=True)
class Suggestion:
    face_id: int
    photo: str
    box: list[int]  # [x, y, w, h] in pixels of the upright photo
    person: str
    distance: float  # L2 between unit vectors to the nearest face of that person named by hand, 0–2
    time: float | None = None  # in a video: seconds from its start of the frame the box is from
    person_id: int = 0  # who ``person`` is


def suggestions(library: Library, person_id: int | None = None, limit: int = 20) -> list[Suggestion]:
    """Up to ``limit`` suggestions, nearest first; only of person ``person_id`` when given (none when they
    are gone)."""
    import faiss

    model = library.model
    with library.session() as session:
        face_ids, person_ids, vectors = queries.named_faces(session, model.name, model.dimensions)
        if person_id is not None:
            chosen = person_ids == person_id
            face_ids, person_ids, vectors = face_ids[chosen], person_ids[chosen], vectors[chosen]
        names = reads.people_names(Reader.of_session(session))
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
                           round(distance, 4), row.video_time, person_id) for distance, row, person_id in found[:limit]]


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
