"""Grouping faces nobody named into probable people: density-based, precision first.

A face is a *core* face when it is big and sure enough to trust (CORE_MIN_PX, CORE_MIN_CONFIDENCE) and
has at least CORE_NEIGHBOURS other faces within the linking distance. Core faces within the linking
distance of each other are joined, nearest pairs first, but never so that two faces of one photo end up
in one group (a person is in a photo once), and two groups only while their mean faces are within the
linking distance too: one face between two look-alikes (siblings) does not chain them into one. Every other face joins the group of its nearest core face
within the linking distance, under the same rule. Groups smaller than MIN_SIZE are not kept.

Distances are L2 between unit vectors (0–2). Pure numpy and FAISS: no database here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CORE_NEIGHBOURS = 2  # other faces within the linking distance a core face needs (Immich: 3 faces with itself)
CORE_MIN_PX = 40  # a core face's box, longer side, in pixels
CORE_MIN_CONFIDENCE = 0.95  # a core face's detection confidence
MIN_SIZE = 2  # faces in a group worth showing
NEIGHBOURS = 16  # nearest faces looked at per face
# Up to this many faces their nearest faces are found exactly (every face against every face); above,
# by an HNSW graph (as `[search]` does above approximate_above), so a nightly refresh stays near-linear.
EXACT_UP_TO = 20_000


@dataclass(frozen=True)
class FaceToGroup:
    """One face: ``photo`` keys the photo it is in; ``core_quality`` says whether it is big and sure
    enough to be a core face."""

    photo: int
    core_quality: bool


def group_faces(vectors: np.ndarray, faces: list[FaceToGroup], link: float) -> np.ndarray:
    """A group number per face (−1: in no group), for unit vectors (n, dimensions) and their faces,
    with ``link`` the linking distance. Groups are numbered from 0, largest first."""
    count = len(faces)
    if count == 0:
        return np.zeros(0, dtype=np.int64)
    distances, neighbours = _nearest(vectors, min(NEIGHBOURS, count - 1))
    within = (distances <= link) & (neighbours >= 0)
    photos = np.array([f.photo for f in faces])
    quality = np.array([f.core_quality for f in faces])
    core = quality & (within.sum(axis=1) >= CORE_NEIGHBOURS)

    parent = np.arange(count)
    members: dict[int, set[int]] = {i: {photos[i]} for i in range(count)}  # root → photos in its group
    sums = {i: np.asarray(vectors[i], dtype=np.float64) for i in np.flatnonzero(core)}  # root → sum of its faces

    def apart(ra: int, rb: int) -> bool:
        a, b = sums[ra], sums[rb]
        return float(np.linalg.norm(a / np.linalg.norm(a) - b / np.linalg.norm(b))) > link

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    edges = [(distances[i, j], i, int(neighbours[i, j])) for i in np.flatnonzero(core)
             for j in np.flatnonzero(within[i]) if core[neighbours[i, j]] and neighbours[i, j] > i]
    for _, a, b in sorted(edges):
        ra, rb = root(a), root(b)
        if ra != rb and not (members[ra] & members[rb]) and not apart(ra, rb):
            parent[rb] = ra
            members[ra] |= members.pop(rb)
            sums[ra] = sums[ra] + sums.pop(rb)
    for i in np.flatnonzero(~core):  # the others join their nearest core face's group, if they may
        for j in np.flatnonzero(within[i]):
            other = int(neighbours[i, j])
            if core[other]:
                group = root(other)
                if photos[i] not in members[group]:
                    parent[i] = group
                    members[group].add(photos[i])
                break
    roots = np.array([root(i) if core[i] or parent[i] != i else -1 for i in range(count)])
    labels = np.full(count, -1, dtype=np.int64)
    sizes = {r: int((roots == r).sum()) for r in set(roots.tolist()) if r >= 0}
    kept = sorted((r for r, size in sizes.items() if size >= MIN_SIZE), key=lambda r: (-sizes[r], r))
    for number, r in enumerate(kept):
        labels[roots == r] = number
    return labels


def _nearest(vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each face's ``k`` nearest other faces: (distances, indices), −1 where there are fewer."""
    import faiss

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if k < 1:
        return np.zeros((len(vectors), 0)), np.zeros((len(vectors), 0), dtype=np.int64)
    if len(vectors) <= EXACT_UP_TO:
        index = faiss.IndexFlatL2(vectors.shape[1])
    else:
        index = faiss.IndexHNSWFlat(vectors.shape[1], 32)
        index.hnsw.efSearch = 128
    index.add(vectors)
    squared, found = index.search(vectors, k + 1)
    distances = np.sqrt(np.maximum(squared, 0))
    own = found == np.arange(len(vectors))[:, None]
    # Drop each face itself (normally the first hit; with duplicates, wherever it is).
    keep = ~own
    keep[np.arange(len(vectors)), np.where(own.any(axis=1), own.argmax(axis=1), k)] = False
    return distances[keep].reshape(len(vectors), k), found[keep].reshape(len(vectors), k)
