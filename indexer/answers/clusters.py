"""The clusters of unnamed faces as the last refresh left them (``indexer clusters``), from the database
alone (plain SQL, ``db.reads``)."""

from __future__ import annotations

from dataclasses import dataclass

from indexer.db import reads
from indexer.db.reader import Reader


@dataclass(frozen=True)
class ClusterFace:
    face_id: int
    photo: str
    box: list[int]  # [x, y, w, h] in pixels of the upright photo
    distance: float | None  # to the cluster's mean face (L2, 0–2)
    sure: bool  # the grouping is sure of it; `label --cluster` names only such faces unless told otherwise


@dataclass(frozen=True)
class ClusterOfFaces:
    """A group of unnamed faces that are probably one person (``naming.clusters``), faces by id (those
    the grouping is sure of first)."""

    cluster: int
    faces: list[ClusterFace]

    @property
    def photos(self) -> int:
        return len({face.photo for face in self.faces})

    @property
    def unsure(self) -> int:
        return sum(not face.sure for face in self.faces)


def clusters(reader: Reader, min_size: int = 2) -> list[ClusterOfFaces]:
    """The clusters with at least ``min_size`` faces still unnamed, largest first (then by id)."""
    grouped: dict[int, list[ClusterFace]] = {}
    for cluster_id, face_id, path, x, y, w, h, distance, sure in reads.faces_in_clusters(reader):
        grouped.setdefault(cluster_id, []).append(ClusterFace(face_id, path, [x, y, w, h], distance, sure is not False and sure != 0))
    found = [ClusterOfFaces(cluster_id, sorted(faces, key=lambda f: (not f.sure, f.face_id)))
             for cluster_id, faces in grouped.items() if len(faces) >= min_size]
    return sorted(found, key=lambda c: (-len(c.faces), c.cluster))
