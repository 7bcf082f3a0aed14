"""Clusters of unnamed faces: which cluster each face is in, and the clusters' lasting ids."""

from __future__ import annotations

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from indexer.db.models import Cluster, Face

__all__ = ["new_cluster", "cluster_exists", "set_clusters"]


def new_cluster(session: Session) -> int:
    """A new cluster id (never one used before)."""
    cluster = Cluster()
    session.add(cluster)
    session.flush()
    return cluster.id


def cluster_exists(session: Session, cluster_id: int) -> bool:
    return bool(session.scalar(select(func.count()).select_from(Cluster).where(Cluster.id == cluster_id)))


def set_clusters(session: Session, members: dict[int, list[int]]) -> None:
    """Make ``members`` (cluster id → face ids) the clusters: every other face is in none, and clusters
    left without faces are deleted."""
    session.execute(update(Face).where(Face.cluster_id.is_not(None)).values(cluster_id=None))
    for cluster_id, face_ids in members.items():
        for start in range(0, len(face_ids), 500):
            session.execute(update(Face).where(Face.id.in_(face_ids[start : start + 500])).values(cluster_id=cluster_id))
    in_use = select(Face.cluster_id).where(Face.cluster_id.is_not(None)).distinct()
    session.execute(delete(Cluster).where(Cluster.id.not_in(in_use)))
