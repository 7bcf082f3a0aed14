"""Clusters: the faces nobody named, grouped into probable people (``indexer.naming.grouping``), kept in the
database with ids that last, and named a whole group at a time.

``refresh`` runs at the end of every ``index`` and ``train``. It groups every face of the configured
model that has no name (neither given by hand nor by recognition, and not cleared by hand) anew. Then
each new group takes the id of the old cluster it shares the most faces with (largest overlaps first,
an id at most once), so cluster 7 stays the same people from one night to the next; other groups get
new ids, which are never used again.

The linking distance is the one the trained rule uses to accept a named face as a neighbour
(calibrated from the faces named by hand), else the model's ``link_distance``, measured on the sample
library (bench/clusters.py).
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass

import numpy as np
from indexer.naming.grouping import CORE_MIN_CONFIDENCE, CORE_MIN_PX, FaceToGroup, grouping
from indexer.db import queries
from indexer.db.queries.rows import vector_array
from indexer.errors import IndexerError
from indexer.library import Library
from indexer.naming.labels import by_hand

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RefreshSummary:
    clusters: int  # groups kept
    faces: int  # faces in them
    unnamed: int  # faces looked at
    link: float  # the linking distance used (L2, 0–2)
    kept_ids: int  # groups that kept an id from before


def link_distance(library: Library) -> float:
    """The linking distance for the configured model: the trained rule's, else the model's default."""
    model = library.model
    with library.session() as session:
        trained = queries.last_training(session, model.name)
    if trained is not None and trained.thresholds.get("max_distance"):
        return float(trained.thresholds["max_distance"])
    return model.link_distance


def refresh(library: Library) -> RefreshSummary:
    """Group the unnamed faces of the configured model anew, keeping cluster ids (see the module)."""
    model = library.model
    link = link_distance(library)
    with library.transaction() as session:
        rows = queries.unnamed_faces(session, model.name)
        face_ids = np.array([r.id for r in rows], dtype=np.int64)
        vectors = vector_array([r.embedding for r in rows], model.dimensions)
        faces = [FaceToGroup(r.photo_id, max(r.box_w, r.box_h) >= CORE_MIN_PX and r.detection >= CORE_MIN_CONFIDENCE)
                 for r in rows]
        found = grouping(vectors, faces, link, model.link_distance)
        groups = found.labels
        old = [r.cluster_id for r in rows]
        ids, kept = _stable_ids(groups, old, session)
        queries.set_clusters(session, [
            queries.ClusterPlace(int(face_ids[i]), ids[int(groups[i])], round(float(found.distance[i]), 4), bool(found.sure[i]))
            for i in np.flatnonzero(groups >= 0)])
    summary = RefreshSummary(len(ids), int((groups >= 0).sum()), len(rows), round(link, 4), kept)
    log.info("clusters: %d groups of %d of the %d unnamed faces (linking distance %.3f)",
             summary.clusters, summary.faces, summary.unnamed, link)
    return summary


def _stable_ids(groups: np.ndarray, old: list[int | None], session) -> tuple[dict[int, int], int]:
    """Group number → cluster id: the old id a group shares most faces with, else a new one."""
    overlaps = Counter((int(g), o) for g, o in zip(groups.tolist(), old) if g >= 0 and o is not None)
    ids: dict[int, int] = {}
    taken: set[int] = set()
    for (group, old_id), _ in sorted(overlaps.items(), key=lambda item: (-item[1], item[0])):
        if group not in ids and old_id not in taken:
            ids[group] = old_id
            taken.add(old_id)
    for group in sorted(set(groups.tolist()) - {-1} - set(ids)):
        ids[group] = queries.new_cluster(session)
    return ids, len(taken)


@dataclass(frozen=True)
class ClusterNaming:
    cluster: int
    person: str
    named: int  # faces named
    left_out: int  # faces left out with --except
    unsure: int  # faces the grouping is unsure of, left unnamed (unless ``include_unsure``)


def name_cluster(library: Library, cluster_id: int, name: str, leave_out: list[int] = (),
                 include_unsure: bool = False) -> ClusterNaming:
    """Name by hand the unnamed faces of cluster ``cluster_id`` that the grouping is sure of (all of them
    with ``include_unsure``), the person created if new, but ``leave_out``; one event in the history.
    IndexerError for an unknown cluster or a face not in it."""
    with by_hand(library, "label") as naming:
        faces = queries.unnamed_faces_in_cluster(naming.session, cluster_id)
        if not faces:
            raise IndexerError(f"cluster {cluster_id} has no unnamed faces" if queries.cluster_exists(naming.session, cluster_id)
                               else f"no cluster {cluster_id} (`indexer clusters` lists them)")
        stray = sorted(set(leave_out) - {f.id for f in faces})
        if stray:
            raise IndexerError(f"face {stray[0]} is not an unnamed face of cluster {cluster_id}")
        person = naming.person(name)
        unsure = [] if include_unsure else [f for f in faces if f.cluster_sure is False and f.id not in set(leave_out)]
        named = [f for f in faces if f.id not in set(leave_out) and f not in unsure]
        naming.name_all(named, person)
        naming.says(f"cluster {cluster_id}: {len(named)} face(s) named {person.name}"
                    + (f", {len(leave_out)} left out" if leave_out else "")
                    + (f", {len(unsure)} unsure left unnamed" if unsure else ""))
        return ClusterNaming(cluster_id, person.name, len(named), len(leave_out), len(unsure))
