"""Clusters: the faces nobody named, grouped into probable people (``indexer.naming.grouping``), kept in the
database with ids that last (naming one, a whole group at a time, is ``naming.people.name_cluster``).

``refresh`` runs at the end of every ``index`` and ``train``, over the faces of the configured model that
have no name (neither given by hand nor by recognition, and not cleared by hand). What it does depends on
what changed since the last grouping or join (each is recorded: ``Grouping``):
- nothing (the same unnamed faces, the same linking distance): nothing — a night that added, changed and
  named nothing costs a read of the unnamed faces' ids, not a grouping (23 s per 100 000 faces);
- faces only left (named, or gone with their photo): they leave their clusters as they go, and a cluster
  whose sure faces were all named lets its unsure ones go too (it cannot be named without checking; they
  are near somebody named now, for the review to ask about);
- a few new faces (since the last full grouping, at most FULL_REGROUP_SHARE of the faces it grouped):
  each is joined to the cluster of its nearest unnamed face when that one is within the linking distance
  and no face of another cluster, of somebody named, or of the same photo competes (within its distance
  / MARGIN), as a face the grouping is unsure of (``label --cluster`` leaves it unnamed unless --all);
  the others wait for the next full grouping;
- more than that, or another linking distance: a full grouping. Every unnamed face is grouped anew, and
  each new group takes the id of the old cluster it shares the most faces with (largest overlaps first,
  an id at most once), so cluster 7 stays the same people from one night to the next; other groups get
  new ids, which are never used again.

The linking distance is the one the trained rule uses to accept a named face as a neighbour
(calibrated from the faces named by hand), else the model's ``link_distance``, measured on the sample
library (bench/clusters.py).
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from dataclasses import dataclass

import numpy as np
from indexer.naming.grouping import CORE_MIN_CONFIDENCE, CORE_MIN_PX, MARGIN, FaceToGroup, grouping
from indexer.db import queries
from indexer.db.queries.rows import vector_array
from indexer.library import Library

log = logging.getLogger(__name__)


# New faces since the last full grouping, as a share of the unnamed faces it grouped, above which the
# next refresh groups every face anew rather than joining the new ones to their groups.
FULL_REGROUP_SHARE = 0.05
JOIN_NEIGHBOURS = 10  # nearest faces looked at to join a new face to a group


@dataclass(frozen=True)
class RefreshSummary:
    how: str  # "full" (every unnamed face grouped anew), "joined" (new faces joined) or "unchanged"
    clusters: int  # groups made (full), or joined to (joined)
    faces: int  # faces put in them
    unnamed: int  # faces looked at (unnamed faces of the model)
    link: float  # the linking distance used (L2, 0–2)
    kept_ids: int  # groups that kept an id from before (full)


def link_distance(library: Library) -> float:
    """The linking distance for the configured model: the trained rule's, else the model's default."""
    model = library.model
    with library.session() as session:
        trained = queries.last_training(session, model.name)
    if trained is not None and trained.thresholds.get("max_distance"):
        return float(trained.thresholds["max_distance"])
    return model.link_distance


def refresh(library: Library) -> RefreshSummary:
    """Bring the clusters up to date with the unnamed faces of the configured model (see the module)."""
    model = library.model
    link = round(link_distance(library), 4)
    with library.session() as session:
        ids = queries.unnamed_face_ids(session, model.name)
        last = queries.last_grouping(session, model.name)
    digest = hashlib.sha256(np.asarray(ids, dtype="<i8").tobytes()).hexdigest()
    same_rule = last is not None and abs(last.link - link) < 1e-9
    new = [face_id for face_id in ids if last is None or face_id > last.newest_face_id]
    if same_rule and last.digest == digest:
        summary = RefreshSummary("unchanged", 0, 0, len(ids), link, 0)
    elif same_rule and last.added_since_full + len(new) <= FULL_REGROUP_SHARE * last.full_faces:
        summary = _join(library, new, link)
        _record(library, summary, ids, digest, last.full_faces, last.added_since_full + len(new), last.newest_face_id)
    else:
        summary = _regroup(library, link)
        _record(library, summary, ids, digest, len(ids), 0, last.newest_face_id if last is not None else 0)
    log.info("clusters: %s", {"unchanged": "no unnamed face added since the last grouping: nothing to do",
                              "joined": f"{summary.faces} of {len(new)} new faces joined to {summary.clusters} groups",
                              "full": f"{summary.clusters} groups of {summary.faces} of the {summary.unnamed} unnamed "
                                      f"faces (linking distance {link:.3f})"}[summary.how])
    return summary


def _record(library: Library, summary: RefreshSummary, ids: list[int], digest: str, full_faces: int, added: int,
            newest_before: int) -> None:
    """Record what this refresh looked at. The newest face id never goes down (a face named since, then
    unnamed by an undo, is not new: it is back in the cluster it was in)."""
    with library.transaction() as session:
        queries.add_grouping(session, embedding_model=library.model.name, how=summary.how, link=summary.link,
                             faces=len(ids), newest_face_id=max(newest_before, max(ids, default=0)), digest=digest,
                             full_faces=full_faces, added_since_full=added)


def _regroup(library: Library, link: float) -> RefreshSummary:
    """Group every unnamed face of the configured model anew, keeping cluster ids."""
    model = library.model
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
    return RefreshSummary("full", len(ids), int((groups >= 0).sum()), len(rows), link, kept)


def _join(library: Library, new: list[int], link: float) -> RefreshSummary:
    """Join each of the ``new`` unnamed faces to the cluster of its nearest unnamed face, when that one is
    within ``link`` and nothing else competes (see the module), as a face the grouping is unsure of; first,
    the unsure faces left alone in a cluster leave it (``queries.leave_unsure_clusters``)."""
    model = library.model
    with library.transaction() as session:
        queries.leave_unsure_clusters(session)
    if not new:
        return RefreshSummary("joined", 0, 0, 0, link, 0)
    index = library.checked_vectors(model.name, model.dimensions)
    with library.transaction() as session:
        vectors = {face_id: vector_array([embedding], model.dimensions)[0]
                   for face_id, embedding in queries.embeddings_of(session, new).items()}
        asked = [face_id for face_id in new if face_id in vectors]
        if not asked:
            return RefreshSummary("joined", 0, 0, len(new), link, 0)
        distances, neighbours = index.search(np.stack([vectors[f] for f in asked]), JOIN_NEIGHBOURS + 1)
        state = queries.neighbours_state(session, sorted({int(n) for n in neighbours.ravel() if n >= 0} | set(asked)))
        chosen: dict[int, int] = {}
        for face_id, row_distances, row in zip(asked, distances.tolist(), neighbours.tolist(), strict=True):
            cluster = _cluster_to_join(face_id, row_distances, row, state, link)
            if cluster is not None:
                chosen[face_id] = cluster
        members: dict[int, list[tuple[int, int, np.ndarray]]] = {}  # cluster → (face, photo, embedding)
        for member, cluster, photo, embedding in queries.cluster_members(session, sorted(set(chosen.values()))):
            members.setdefault(cluster, []).append((member, photo, vector_array([embedding], model.dimensions)[0]))
        places = []
        for face_id, cluster in chosen.items():
            same = [(photo, vector) for member, photo, vector in members.get(cluster, []) if member != face_id]
            if any(photo == state[face_id][2] for photo, _ in same):
                continue  # two faces of one photo are two people
            mean = np.mean([vector for _, vector in same] + [vectors[face_id]], axis=0)
            mean /= max(np.linalg.norm(mean), 1e-12)
            places.append(queries.ClusterPlace(face_id, cluster, round(float(np.linalg.norm(vectors[face_id] - mean)), 4),
                                               False))
        queries.join_clusters(session, places)
    return RefreshSummary("joined", len({p.cluster_id for p in places}), len(places), len(new), link, 0)


def _cluster_to_join(face_id: int, distances: list[float], neighbours: list[int], state: dict, link: float) -> int | None:
    """The cluster a new face joins: its nearest other face's, when that one is unnamed, in a cluster and
    within ``link``, and every face within that distance / MARGIN is an unnamed face of the same cluster
    (or a face in no cluster); None otherwise."""
    found = [(d, n) for d, n in zip(distances, neighbours, strict=True) if n >= 0 and n != face_id and n in state]
    if not found or found[0][0] > link:
        return None
    nearest_distance, nearest = found[0]
    cluster, unnamed, _ = state[nearest]
    if cluster is None or not unnamed:
        return None
    for distance, other in found[1:]:
        if distance > nearest_distance / MARGIN:
            break
        other_cluster, other_unnamed, _ = state[other]
        if not other_unnamed or (other_cluster is not None and other_cluster != cluster):
            return None
    return cluster


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
