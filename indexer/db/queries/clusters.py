"""Clusters of unnamed faces: which cluster each face is in, and the clusters' lasting ids."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from indexer.db.models import Cluster, Face

__all__ = ["new_cluster", "cluster_exists", "ClusterPlace", "set_clusters"]


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
    faces = Face.__table__
    session.execute(update(Face).where(Face.cluster_id.is_not(None))
                    .values(cluster_id=None, cluster_distance=None, cluster_sure=None))
    statement = (update(faces).where(faces.c.id == bindparam("face"))
                 .values(cluster_id=bindparam("cluster"), cluster_distance=bindparam("distance"), cluster_sure=bindparam("sure")))
    rows = [{"face": p.face_id, "cluster": p.cluster_id, "distance": p.distance, "sure": p.sure} for p in places]
    for start in range(0, len(rows), 5000):
        session.connection().execute(statement, rows[start : start + 5000])
    in_use = select(Face.cluster_id).where(Face.cluster_id.is_not(None)).distinct()
    session.execute(delete(Cluster).where(Cluster.id.not_in(in_use)))
