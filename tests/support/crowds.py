"""Synthetic faces shaped like FaceNet's (facenet128), at the scale where grouping gets hard: hundreds of
people with a few photos each, and the rule before today's (``first_pass``) to compare with. Used by
tests/test_grouping.py, tests/test_clusters.py and bench/clusters.py.

People lie on a sphere of ``people_dims`` dimensions inside the 128 (faces differ from person to person
along fewer directions than a photo varies them); each face is its person plus noise in all 128 dimensions
of its own size (lognormal), made unit length. ``crowd()``'s parameters were chosen so that its distances
match what was measured on a real library of about 600 people with three photos each (issue 28):

| L2 between unit vectors | real crowd | crowd() seed 0 |
|---|---|---|
| different people: pairs closer than 0.80 / 0.90 / 0.95 | 20 / 305 / 1330 | 15 / 296 / 904 |
| each face's nearest face of another person: median; share within 0.95 | 0.964; 43 % | 0.964; 42 % |
| today's rule (link 0.95): purity | 0.782 | 0.654 |
| today's rule at link 0.80: purity | 0.998 | 0.980 |

so it is somewhat harder than the real one. ``sample_like()`` is a library like the sample's: a few
people with many photos each, far from each other (as the five celebrities are: nearest other person ≥ 1.1),
among strangers seen once.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from indexer.naming import grouping
from indexer.naming.grouping import MIN_SIZE, NEIGHBOURS, FaceToGroup


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def faces(per_person: list[int], people_dims: int, sigma: float, spread: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors (float32) of len(per_person) people, per_person[i] faces each: (vectors, person of each)."""
    rng = np.random.default_rng(seed)
    basis = np.linalg.qr(rng.normal(size=(128, people_dims)))[0]
    centres = _unit(rng.normal(size=(len(per_person), people_dims))) @ basis.T
    who = np.concatenate([[p] * n for p, n in enumerate(per_person)])
    scale = sigma * np.exp(spread * rng.normal(size=(len(who), 1)))
    return _unit(centres[who] + scale * _unit(rng.normal(size=(len(who), 128)))).astype(np.float32), who


def crowd(people: int = 600, photos: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Hundreds of different people with a few photos each (see the module)."""
    return faces([photos] * people, people_dims=20, sigma=0.55, spread=0.6, seed=seed)


def sample_like(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Eight people of 15–40 faces, far apart, and 30 strangers seen once (persons 8–37)."""
    rng = np.random.default_rng(50 + seed)
    return faces(list(rng.integers(15, 41, 8)) + [1] * 30, people_dims=48, sigma=0.7, spread=0.45, seed=seed)


def purity(labels: np.ndarray, who: np.ndarray) -> float:
    """The share of grouped faces whose group's most common person is theirs (1.0 when none is grouped)."""
    groups: dict[int, list[int]] = {}
    for label, person in zip(labels.tolist(), who.tolist()):
        if label >= 0:
            groups.setdefault(label, []).append(person)
    grouped = sum(len(members) for members in groups.values())
    return sum(Counter(members).most_common(1)[0][1] for members in groups.values()) / grouped if grouped else 1.0


def coverage(labels: np.ndarray) -> float:
    """The share of faces in a group."""
    return float((labels >= 0).mean())


def largest_shares(labels: np.ndarray, who: np.ndarray, people: list[int]) -> list[float]:
    """For each of ``people``, the share of their faces in the largest group that is mostly theirs."""
    groups: dict[int, list[int]] = {}
    for label, person in zip(labels.tolist(), who.tolist()):
        if label >= 0:
            groups.setdefault(label, []).append(person)
    shares = []
    for person in people:
        theirs = [m.count(person) for m in groups.values() if Counter(m).most_common(1)[0][0] == person]
        shares.append(max(theirs or [0]) / int((who == person).sum()))
    return shares


def group_faces(vectors: np.ndarray, faces: list[FaceToGroup], link: float) -> np.ndarray:
    """``grouping.grouping``'s group number per face (−1: in no group), largest group first."""
    return grouping.grouping(vectors, faces, link).labels


def first_pass(vectors: np.ndarray, faces: list[FaceToGroup], link: float) -> np.ndarray:
    """The rule until December 2026, which the tests and benches compare today's with: ``grouping``'s first
    pass alone (groups of MIN_SIZE or more; −1: in no group)."""
    count = len(faces)
    if count < 2:
        return np.full(count, -1, dtype=np.int64)
    distances, neighbours = grouping._nearest(np.asarray(vectors, dtype=np.float32), min(NEIGHBOURS, count - 1))
    roots = grouping._link(vectors, distances, neighbours, np.array([f.photo for f in faces]),
                           np.array([f.core_quality for f in faces]), link)
    sizes = {root: len(idx) for root, idx in grouping._members(roots).items()}
    return np.array([root if root >= 0 and sizes[root] >= MIN_SIZE else -1 for root in roots.tolist()])
