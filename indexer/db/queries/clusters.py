"""Clusters of unnamed faces: which cluster each face is in, and the clusters' lasting ids."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from indexer.db.models import Cluster, Face, Grouping
from indexer.db.values import is_unnamed
from indexer.db.reader import chunks
from indexer.db.queries.rows import unnamed

__all__ = ["new_cluster", "cluster_exists", "ClusterPlace", "set_clusters", "join_clusters", "last_grouping",
           "add_grouping", "unnamed_face_ids", "neighbours_state", "cluster_members", "embeddings_of", "leave_unsure_clusters"]


def new_cluster(session: Session) -> int:
    """A new cluster id (never one used before)."""
    cluster = Cluster()
    session.add(cluster)
    session.flush()
    return cluster.id


def cluster_exists(session: Session, cluster_id: int) -> bool:
    return bool(session.scalar(select(func.count()).select_from(Cluster).where(Cluster.id == cluster_id)))


@dataclass(frozen=True)
class ClusterPlace:
    """A face in a cluster: its distance (L2, 0–2) to the cluster's mean face, and whether the grouping is
    sure of it."""

    face_id: int
    cluster_id: int
    distance: float
    sure: bool


def set_clusters(session: Session, places: list[ClusterPlace]) -> None:
    """Make ``places`` the clusters: every other face is in none, and clusters left without faces are
    deleted."""
    session.execute(update(Face).where(Face.cluster_id.is_not(None))
                    .values(cluster_id=None, cluster_distance=None, cluster_sure=None))
    join_clusters(session, places)
    in_use = select(Face.cluster_id).where(Face.cluster_id.is_not(None)).distinct()
    session.execute(delete(Cluster).where(Cluster.id.not_in(in_use)))


def join_clusters(session: Session, places: list[ClusterPlace]) -> None:
    """Put each face of ``places`` in its cluster, leaving every other face where it is."""
    faces = Face.__table__
    statement = (update(faces).where(faces.c.id == bindparam("face"))
                 .values(cluster_id=bindparam("cluster"), cluster_distance=bindparam("distance"), cluster_sure=bindparam("sure")))
    rows = [{"face": p.face_id, "cluster": p.cluster_id, "distance": p.distance, "sure": p.sure} for p in places]
    for chunk in chunks(rows, 5000):
        session.connection().execute(statement, chunk)


def last_grouping(session: Session, model: str) -> Grouping | None:
    """The newest refresh of the clusters of ``model``'s faces, or None."""
    return session.scalars(select(Grouping).where(Grouping.embedding_model == model).order_by(Grouping.id.desc()).limit(1)).first()


def add_grouping(session: Session, **values) -> Grouping:
    """Record a refresh of the clusters (the columns of ``Grouping``)."""
    grouping = Grouping(**values)
    session.add(grouping)
    session.flush()
    return grouping


def unnamed_face_ids(session: Session, model: str) -> list[int]:
    """The ids of ``model``'s faces with no name at all (neither named nor cleared), ascending."""
    return list(session.scalars(select(Face.id).where(Face.embedding_model == model, *unnamed()).order_by(Face.id)))


def neighbours_state(session: Session, face_ids: list[int]) -> dict[int, tuple[int | None, bool, int]]:
    """Face id → (its cluster id, whether it is unnamed, its photo id), for ``face_ids``."""
    found = {}
    for chunk in chunks(face_ids):
        for face_id, cluster_id, person_id, source, photo_id in session.execute(
                select(Face.id, Face.cluster_id, Face.person_id, Face.label_source, Face.photo_id).where(Face.id.in_(chunk))):
            found[face_id] = (cluster_id, is_unnamed(person_id, source), photo_id)
    return found


def cluster_members(session: Session, cluster_ids: list[int]) -> list[tuple[int, int, int, bytes]]:
    """(face id, cluster id, photo id, embedding) of the unnamed faces of ``cluster_ids``."""
    if not cluster_ids:
        return []
    return [tuple(row) for row in session.execute(
        select(Face.id, Face.cluster_id, Face.photo_id, Face.embedding)
        .where(Face.cluster_id.in_(cluster_ids), *unnamed()))]


def embeddings_of(session: Session, face_ids: list[int]) -> dict[int, bytes]:
    """Face id → its embedding (float32 bytes), for ``face_ids``."""
    found = {}
    for chunk in chunks(face_ids):
        found.update(session.execute(select(Face.id, Face.embedding).where(Face.id.in_(chunk))).all())
    return found


def leave_unsure_clusters(session: Session) -> int:
    """Take the unnamed faces out of every cluster none of whose unnamed faces the grouping is sure of (its
    sure faces were named): such a group cannot be named without checking. Returns how many faces left."""
    places: dict[int, list[tuple[int, bool]]] = {}
    clustered = select(Face.id, Face.cluster_id, Face.cluster_sure).where(Face.cluster_id.is_not(None), *unnamed())
    for face_id, cluster_id, sure in session.execute(clustered):
        places.setdefault(cluster_id, []).append((face_id, sure is None or bool(sure)))
    leaving = [face_id for faces in places.values() if not any(sure for _, sure in faces) for face_id, _ in faces]
    for chunk in chunks(leaving):
        session.execute(update(Face).where(Face.id.in_(chunk))
                        .values(cluster_id=None, cluster_distance=None, cluster_sure=None))
    return len(leaving)
