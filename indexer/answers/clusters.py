"""The clusters of unnamed faces as the last refresh left them (``naming.clusters``): ``indexer clusters``, and
the clusters the gallery and the app show (``answers.browse``), from the database alone (plain SQL)."""

from __future__ import annotations

from dataclasses import dataclass

from indexer.db import reads
from indexer.db.face_rows import FaceRow
from indexer.db.reader import Reader

MIN_CLUSTER_SIZE = 2  # a group of fewer unnamed faces is shown as unknown faces, not as a cluster


@dataclass
class Faces:
    """Faces shown together, the first the one they are shown by."""

    faces: list[FaceRow]

    @property
    def photos(self) -> int:
        return len({face.photo_id for face in self.faces})

    @property
    def face_count(self) -> int:
        return len(self.faces)

    @property
    def cover_face_id(self) -> int | None:
        return self.faces[0].face_id if self.faces else None


@dataclass
class Cluster(Faces):
    """A group of unnamed faces that are probably one person: its faces (those the grouping is sure of first,
    then by id), each with its distance to the cluster's mean face and whether the grouping is sure of it
    (``label --cluster`` names only those unless told otherwise)."""

    cluster_id: int = 0

    @property
    def unsure(self) -> int:
        return sum(not face.sure for face in self.faces)


def clusters(reader: Reader, min_size: int = MIN_CLUSTER_SIZE) -> list[Cluster]:
    """The clusters with at least ``min_size`` faces still unnamed, largest first (then by id)."""
    grouped: dict[int, list[FaceRow]] = {}
    for face in reads.faces_in_clusters(reader):
        grouped.setdefault(face.cluster_id, []).append(face)
    found = [Cluster(sorted(faces, key=lambda f: (not f.sure, f.face_id)), cluster_id)
             for cluster_id, faces in grouped.items() if len(faces) >= min_size]
    return sorted(found, key=lambda c: (-len(c.faces), c.cluster_id))
