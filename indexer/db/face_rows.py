"""The one face read model: ``FaceRow``, a face with its photo and its person's name as one named, typed row,
built here and only here from the one SELECT that reads it (``FACE_ROW``). Every answer that shows faces
(``show``, ``find``, ``export``, the clusters, the gallery, the app) reads them through ``face_rows``, so no
row of a face is unpacked by position anywhere else.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from indexer.db.reader import Reader, as_datetime
from indexer.db.values import FaceOrigin, LabelSource, is_unnamed

# Unnamed (``values.is_unnamed``): neither named (by hand or by recognition) nor cleared by hand; the faces
# clusters hold. The one spelling of the rule in SQL, for plain SQL and SQLAlchemy alike (``queries.rows``).
UNNAMED = "faces.person_id IS NULL AND faces.label_source IS NULL"
# The same, for the faces in clusters, written so that the planner reads them from ix_faces_in_cluster
# alone (with "person_id IS NULL" SQLite prefers ix_faces_person_id and reads 60 000 rows of 600 bytes
# for a page of clusters at 100 000 faces: ~300 ms, against ~20 ms; bench/serve.py).
UNNAMED_IN_CLUSTER = "faces.cluster_id IS NOT NULL AND +faces.person_id IS NULL AND coalesce(faces.label_source, '') = ''"

# A face, as far as the user knows: not one they said is no face at all (``LabelSource.NOT_A_FACE``). The one
# spelling, for every list and count that leaves those out.
A_FACE = f"coalesce(faces.label_source, '') <> '{LabelSource.NOT_A_FACE.value}'"

FACE_ROW = (
    "SELECT faces.id, faces.photo_id, faces.box_x, faces.box_y, faces.box_w, faces.box_h, faces.detection, "
    "       faces.person_id, people.name, faces.label_source, faces.label_score, faces.cluster_id, faces.cluster_distance, "
    "       faces.cluster_sure, faces.origin, faces.video_time, faces.video_from, faces.video_to, "
    "       photos.path, photos.width, photos.height, photos.content_hash, photos.size, photos.mtime_ns, photos.duration, "
    "       photos.taken_at "
    "FROM faces JOIN photos ON photos.id = faces.photo_id LEFT JOIN people ON people.id = faces.person_id ")


@dataclass(frozen=True, slots=True)
class FaceRow:
    """One face as stored, with its photo and its person: ``box`` (x, y, w, h) in pixels of the upright photo
    (of a video: of its frame at ``time`` seconds, the appearance spanning ``span``), the detector's
    confidence 0–1 (1 for a face drawn by hand), the person (id and name; None: nobody), who named it (a
    LabelSource, or None) and the score 0–1 of the name, the cluster of unnamed faces it was put in (with
    its distance, L2 0–2, to the cluster's mean face, and whether the grouping is sure of it), where it
    comes from (a FaceOrigin); and its photo: path, upright size in pixels (None when never decoded), the
    content hash, size (bytes) and modification time (ns) it was read at, a video's length (seconds), when
    it was taken (the local time as written; None: not known)."""

    face_id: int
    photo_id: int
    box: tuple[int, int, int, int]
    detection: float
    person_id: int | None
    person: str | None
    source: str | None
    score: float | None
    cluster_id: int | None
    cluster_distance: float | None
    sure: bool
    origin: str
    time: float | None
    span: tuple[float, float] | None
    photo: str
    width: int | None
    height: int | None
    content_hash: str | None
    size: int | None
    mtime_ns: int | None
    duration: float | None
    taken: datetime | None = None

    @property
    def unnamed(self) -> bool:
        """Neither named nor cleared: what clusters and the review ask about."""
        return is_unnamed(self.person_id, self.source)

    @property
    def is_face(self) -> bool:
        """Not said by the user to be no face at all."""
        return self.source != LabelSource.NOT_A_FACE

    @property
    def by_hand(self) -> bool:
        return self.source == LabelSource.MANUAL

    @property
    def drawn(self) -> bool:
        return self.origin == FaceOrigin.DRAWN

    @property
    def shown_cluster(self) -> int | None:
        """The cluster it is shown in: its own while it is unnamed, else none."""
        return self.cluster_id if self.unnamed else None

    def without_cluster(self) -> FaceRow:
        return replace(self, cluster_id=None)


def _row(values: tuple) -> FaceRow:
    (face_id, photo_id, x, y, w, h, detection, person_id, person, source, score, cluster_id, distance, sure, origin,
     time, start, end, path, width, height, content_hash, size, mtime_ns, duration, taken) = values
    return FaceRow(face_id, photo_id, (x, y, w, h), detection, person_id, person, source, score, cluster_id, distance,
                   sure is None or bool(sure), origin, time, (start, end) if start is not None else None, path, width,
                   height, content_hash, size, mtime_ns, duration, as_datetime(taken))


def face_rows(reader: Reader, where: str = "", order: str = "faces.id", **params: Any) -> list[FaceRow]:
    """The faces ``where`` (SQL, ``:name`` parameters in ``params``; "" for all), by ``order``."""
    return [_row(values) for values in reader.rows(FACE_ROW + (f"WHERE {where} " if where else "") + f"ORDER BY {order}",
                                                   **params)]


def stream_face_rows(reader: Reader, where: str = "", order: str = "faces.id", **params: Any) -> Iterator[FaceRow]:
    """``face_rows``, streamed: millions of faces never sit in memory at once."""
    for values in reader.stream(FACE_ROW + (f"WHERE {where} " if where else "") + f"ORDER BY {order}", **params):
        yield _row(values)
