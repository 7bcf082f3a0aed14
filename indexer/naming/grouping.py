"""Grouping faces nobody named into probable people, precision first: a group offered for naming must be
one person, even among hundreds of people; splitting a person in two is cheap to fix (name both), mixing
two is not.

One distance cannot do it: in a library of hundreds of people with a few photos each, a face's nearest
face of another person is about as near as its own person's other photos (FaceNet 128: same person
median 0.91, nearest other person median 0.96). So groups are made twice, and kept by how crowded the space
around them is:

1. **Islands.** Faces are linked as before (``_link``): a *core* face is big and sure enough to trust
   (CORE_MIN_PX, CORE_MIN_CONFIDENCE) and has CORE_NEIGHBOURS other faces within the linking distance;
   core faces within the linking distance are joined, nearest pairs first, never two faces of one photo,
   and two groups only while their mean faces are within the linking distance too; every other face
   joins its nearest core face's group. Such a group is kept whole only when it is an island: its faces
   are farther from everyone else than from each other. Its *isolation* is the median, over its faces, of
   the distance to the nearest face outside it (not counting faces whose own nearest face is in it: its
   person's stray photos); it must be at least ISOLATED (ISOLATED_LARGE for groups of LARGE faces or more,
   whose many faces make their shape surer), the median distance between its faces at most COMPACT
   times that (a chain of several people is long for its surroundings), and it must not fall into two
   halves far apart for their spread (two look-alikes, alone together: ``_two_people``).
2. **Margins.** The faces of every other group are linked again, conservatively (``_link_with_margins``):
   pairs nearer than SURE_LINK always; farther ones, up to the linking distance, only when each end's
   nearest face outside the two groups is at least 1 / MARGIN times farther than the pair (no third
   face, of whoever, competes).

Each face of a group gets its distance to the group's mean face, and is *sure* when it is a core-quality
face within the linking distance of that mean: a small or doubtful detection that joined a group, or a
face at its edge, is shown apart, and naming a group names only its sure faces unless told otherwise.

Distances are L2 between unit vectors (0–2). The distances above are those of ``facenet128``, whose
model ``link_distance`` is the ``scale`` here (0.95); for another model they are scaled with its own.
``bench/clusters.py`` measures all of this; docs/naming.md explains it. Pure numpy and FAISS: no database.
"""

from __future__ import annotations

import math
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

FACENET128_SCALE = 0.95  # the distances below are for this model link_distance, and scaled with another
ISOLATED = 1.08  # an island group's median distance to the nearest face of somebody else
ISOLATED_LARGE = 1.02  # the same for a group of LARGE faces or more
LARGE = 10
COMPACT = 0.9  # an island's median distance between its own faces, at most this share of its isolation
TWO_PEOPLE = 1.5  # an island splits in two halves whose mean faces are this many times their spread apart
TWO_PEOPLE_FACES = 10  # below this many faces the bar is higher, by TWO_PEOPLE_FEW a face fewer
TWO_PEOPLE_FEW = 0.14
TWO_PEOPLE_SMALLER = 0.3  # each half holding at least this share of its faces: it is two people, not an island
SURE_LINK = 0.70  # faces this near are linked whatever is around them
MARGIN = 0.85  # a farther pair is linked only if nothing else is nearer than pair / MARGIN to either end


@dataclass(frozen=True)
class FaceToGroup:
    """One face: ``photo`` keys the photo it is in; ``core_quality`` says whether it is big and sure
    enough to be a core face."""

    photo: int
    core_quality: bool


@dataclass(frozen=True)
class Grouping:
    """``labels``: a group number per face (−1: in no group), from 0, largest group first; ``distance``:
    each face's distance to its group's mean face (L2, 0–2; NaN when in no group); ``sure``: whether the
    face is plainly nearer its group than anything else (False when in no group)."""

    labels: np.ndarray
    distance: np.ndarray
    sure: np.ndarray


def grouping(vectors: np.ndarray, faces: list[FaceToGroup], link: float, scale: float = FACENET128_SCALE) -> Grouping:
    """The groups of unit vectors (n, dimensions) of ``faces``, with ``link`` the linking distance and
    ``scale`` the model's own (``ModelSpec.link_distance``; see the module)."""
    count = len(faces)
    if count == 0:
        return Grouping(np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0, dtype=bool))
    vectors = np.asarray(vectors, dtype=np.float32)
    factor = scale / FACENET128_SCALE
    distances, neighbours = _nearest(vectors, min(NEIGHBOURS, count - 1))
    photos = np.array([f.photo for f in faces])
    quality = np.array([f.core_quality for f in faces])
    nearest = np.where(neighbours[:, 0] >= 0, neighbours[:, 0], -1) if neighbours.shape[1] else np.full(count, -1)

    roots = _link(vectors, distances, neighbours, photos, quality, link)
    outside = _nearest_outside(distances, neighbours, nearest, roots)
    final = np.full(count, -1, dtype=np.int64)
    for root, idx in _members(roots).items():
        if len(idx) >= MIN_SIZE and _is_island(vectors, idx, outside[idx], factor):
            final[idx] = root
    rest = final < 0
    relinked = _link_with_margins(vectors, distances, neighbours, photos, quality & rest, link, factor)
    final[relinked >= 0] = relinked[relinked >= 0] + count  # roots of their own, apart from the islands'

    labels = np.full(count, -1, dtype=np.int64)
    sizes = {r: int((final == r).sum()) for r in set(final.tolist()) if r >= 0}
    kept = sorted((r for r, size in sizes.items() if size >= MIN_SIZE), key=lambda r: (-sizes[r], r))
    for number, r in enumerate(kept):
        labels[final == r] = number
    distance, sure = _confidence(vectors, labels, quality, link)
    return Grouping(labels, distance, sure)


def _link(vectors, distances, neighbours, photos, quality, link) -> np.ndarray:
    """The first, permissive grouping: a root per face (−1: in no group)."""
    count = len(photos)
    within = (distances <= link) & (neighbours >= 0)
    core = quality & (within.sum(axis=1) >= CORE_NEIGHBOURS)
    groups = _Groups(vectors, photos, core)
    for _, a, b in _edges(distances, neighbours, within, core):
        ra, rb = groups.root(a), groups.root(b)
        if groups.may_join(ra, rb) and groups.means.distance(ra, rb) <= link:
            groups.merge(ra, rb)
    for i in np.flatnonzero(~core):  # the others join their nearest core face's group, if they may
        for j in np.flatnonzero(within[i]):
            other = int(neighbours[i, j])
            if core[other]:
                groups.attach(int(i), groups.root(other))
                break
    return np.array([groups.root(i) if core[i] or groups.parent[i] != i else -1 for i in range(count)])


class _Groups:
    """Faces joined into groups (a union-find): each group's root, the photos its faces are in (a group
    never holds two faces of one photo) and the mean face of its core faces (``_Means``)."""

    def __init__(self, vectors: np.ndarray, photos: np.ndarray, core: np.ndarray):
        self.parent = np.arange(len(photos))
        self.photos: dict[int, set[int]] = {i: {photos[i]} for i in range(len(photos))}  # root → photos of its group
        self.means = _Means(vectors, core)

    def root(self, i: int) -> int:
        parent = self.parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def may_join(self, ra: int, rb: int) -> bool:
        """Whether the groups rooted at ``ra`` and ``rb`` are two, with no photo in common."""
        return ra != rb and not (self.photos[ra] & self.photos[rb])

    def merge(self, ra: int, rb: int) -> None:
        """The group rooted at ``rb`` becomes part of ``ra``'s (both of core faces)."""
        self.parent[rb] = ra
        self.photos[ra] |= self.photos.pop(rb)
        self.means.merge(ra, rb)

    def attach(self, i: int, group: int) -> None:
        """Face ``i`` (not a core face, alone) joins the group rooted at ``group`` unless a face of its
        photo is in it already; its mean face stays that of its core faces."""
        (photo,) = self.photos[i]
        if photo not in self.photos[group]:
            self.parent[i] = group
            self.photos[group].add(photo)


class _Means:
    """The mean face of each group of the union-find (by root), kept as the sum of its vectors and that
    sum made unit length."""

    def __init__(self, vectors: np.ndarray, faces: np.ndarray):
        self.sums = {int(i): np.asarray(vectors[i], dtype=np.float64) for i in np.flatnonzero(faces)}
        self.units = {i: s / np.linalg.norm(s) for i, s in self.sums.items()}

    def distance(self, a: int, b: int) -> float:
        """L2 between the mean faces of the groups rooted at ``a`` and ``b``."""
        return math.sqrt(max(0.0, 2.0 - 2.0 * float(self.units[a] @ self.units[b])))

    def merge(self, into: int, other: int) -> None:
        self.sums[into] = self.sums[into] + self.sums.pop(other)
        self.units[into] = self.sums[into] / np.linalg.norm(self.sums[into])
        del self.units[other]


def _edges(distances: np.ndarray, neighbours: np.ndarray, within: np.ndarray, faces: np.ndarray) -> list[tuple[float, int, int]]:
    """The pairs of ``faces`` within the linking distance (``within``), each once, nearest first."""
    rows, columns = np.nonzero(within & faces[:, None])
    others = neighbours[rows, columns]
    keep = faces[others] & (others > rows)
    rows, others, lengths = rows[keep], others[keep], distances[rows[keep], columns[keep]]
    order = np.lexsort((others, rows, lengths))
    return list(zip(lengths[order].tolist(), rows[order].tolist(), others[order].tolist()))


def _members(labels: np.ndarray) -> dict[int, np.ndarray]:
    """Group (label ≥ 0) → the indices of its faces."""
    order = np.argsort(labels, kind="stable")
    ordered = labels[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    ends = np.r_[starts[1:], len(ordered)]
    return {int(ordered[s]): order[s:e] for s, e in zip(starts, ends) if ordered[s] >= 0}


def _is_island(vectors: np.ndarray, idx: np.ndarray, outside: np.ndarray, factor: float) -> bool:
    """Whether the group of faces ``idx`` (each ``outside`` from its nearest face of somebody else) is
    farther from everyone else than from itself (see the module)."""
    isolation = float(np.median(outside))
    needed = (ISOLATED_LARGE if len(idx) >= LARGE else ISOLATED) * factor
    if isolation < needed:
        return False
    chosen = idx if len(idx) <= 300 else np.random.default_rng(0).choice(idx, 300, replace=False)
    pairwise = np.sqrt(np.maximum(2 - 2 * vectors[chosen] @ vectors[chosen].T, 0))[np.triu_indices(len(chosen), 1)]
    return float(np.median(pairwise)) <= COMPACT * isolation and not _two_people(vectors[chosen])


def _two_people(vectors: np.ndarray) -> bool:
    """Whether faces that are one island look like two people (look-alikes, siblings): split in two (2-means),
    both halves hold at least TWO_PEOPLE_SMALLER of the faces and their mean faces are at least TWO_PEOPLE
    times the halves' spread apart."""
    if len(vectors) < 4:
        return False
    vectors = vectors.astype(np.float64)
    first = vectors[np.argmax(np.linalg.norm(vectors - vectors.mean(axis=0), axis=1))]
    second = vectors[np.argmax(np.linalg.norm(vectors - first, axis=1))]
    centres = np.stack([first, second])
    for _ in range(10):
        side = np.linalg.norm(vectors[:, None, :] - centres[None], axis=2).argmin(axis=1)
        if side.min() == side.max():
            return False
        centres = np.stack([vectors[side == 0].mean(axis=0), vectors[side == 1].mean(axis=0)])
    smaller = min(int((side == 0).sum()), int((side == 1).sum())) / len(vectors)
    spread = math.sqrt(float(np.mean(np.sum((vectors - centres[side]) ** 2, axis=1))))
    units = centres / np.linalg.norm(centres, axis=1, keepdims=True)
    # A few faces of one person split far apart by chance: the bar rises below TWO_PEOPLE_FACES faces (the
    # sample's people, split at random: 99 % of splits stay under it).
    needed = TWO_PEOPLE + TWO_PEOPLE_FEW * max(0, TWO_PEOPLE_FACES - len(vectors))
    return smaller >= TWO_PEOPLE_SMALLER and float(np.linalg.norm(units[0] - units[1])) >= needed * spread


def _nearest_outside(distances: np.ndarray, neighbours: np.ndarray, nearest: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """For each face in a group, the distance to its nearest face outside that group, not counting a face
    whose own nearest face is in it (a stray of the group's person); ∞ when none is among its nearest
    faces (it lies deep inside its group). NaN for faces in no group."""
    if neighbours.shape[1] == 0:
        return np.where(labels >= 0, np.inf, np.nan)
    found = neighbours >= 0
    safe = np.where(found, neighbours, 0)
    theirs = labels[safe]
    strays = labels[np.where(nearest[safe] >= 0, nearest[safe], safe)]
    other = found & (theirs != labels[:, None]) & ~((strays == labels[:, None]) & (nearest[safe] >= 0))
    first = np.where(other.any(axis=1), other.argmax(axis=1), -1)
    result = np.where(first >= 0, distances[np.arange(len(labels)), np.maximum(first, 0)], np.inf)
    return np.where(labels >= 0, result, np.nan)


def _link_with_margins(vectors, distances, neighbours, photos, core, link: float, factor: float) -> np.ndarray:
    """The conservative grouping of the ``core`` faces: a root per face (−1: in no group). As in ``_link``,
    never two faces of one photo, and two groups only while their mean faces are within ``link``; and two
    groups of three faces or more never into one that looks like two people (``_two_people``)."""
    count = len(photos)
    groups = _Groups(vectors, photos, core)
    faces_of: dict[int, list[int]] = {i: [i] for i in range(count)}

    def margin(i: int, ra: int, rb: int) -> float:
        for distance, j in zip(distances[i], neighbours[i]):
            if j >= 0 and groups.root(j) not in (ra, rb):
                return distance
        return np.inf

    within = (distances <= link) & (neighbours >= 0)
    for distance, a, b in _edges(distances, neighbours, within, core):
        ra, rb = groups.root(a), groups.root(b)
        if not groups.may_join(ra, rb):
            continue
        if distance > SURE_LINK * factor and (distance > MARGIN * margin(a, ra, rb) or distance > MARGIN * margin(b, ra, rb)):
            continue
        if groups.means.distance(ra, rb) > link:
            continue
        if min(len(faces_of[ra]), len(faces_of[rb])) >= 2 and _two_people(vectors[faces_of[ra] + faces_of[rb]]):
            continue
        groups.merge(ra, rb)
        faces_of[ra] += faces_of.pop(rb)
    return np.array([groups.root(i) if core[i] else -1 for i in range(count)])


def _confidence(vectors: np.ndarray, labels: np.ndarray, quality: np.ndarray, link: float) -> tuple[np.ndarray, np.ndarray]:
    """Each face's distance to its group's mean face, and whether it is sure: a core-quality face within
    the linking distance of that mean."""
    grouped = labels >= 0
    distance = np.full(len(labels), np.nan)
    if grouped.any():
        sums = np.zeros((int(labels.max()) + 1, vectors.shape[1]))
        np.add.at(sums, labels[grouped], vectors[grouped].astype(np.float64))
        units = sums / np.linalg.norm(sums, axis=1, keepdims=True)
        distance[grouped] = np.linalg.norm(vectors[grouped] - units[labels[grouped]], axis=1)
    sure = grouped & quality & (np.nan_to_num(distance, nan=np.inf) <= link)
    return distance, sure


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
        # 64 candidates find 99.7–99.9 % of the faces within the linking distance, at half the time of 128
        # (bench/clusters.py, 100 000 faces).
        index.hnsw.efSearch = 64
    index.add(vectors)
    squared, found = index.search(vectors, k + 1)
    distances = np.sqrt(np.maximum(squared, 0))
    own = found == np.arange(len(vectors))[:, None]
    # Drop each face itself (normally the first hit; with duplicates, wherever it is).
    keep = ~own
    keep[np.arange(len(vectors)), np.where(own.any(axis=1), own.argmax(axis=1), k)] = False
    return distances[keep].reshape(len(vectors), k), found[keep].reshape(len(vectors), k)
