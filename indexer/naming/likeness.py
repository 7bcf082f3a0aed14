"""Who a face looks like, from the faces named by hand: for every face nobody named, the nearest person it
was not said not to be (``Guess``: sure within the limit recognition uses, unsure past it); and which people
and clusters look like one another (``Likeness.alike``: the mean faces nearest a person's). The review's
suggestions are the sure guesses (``naming.review``); the app keeps one ``Likeness`` computed in the
background (``web.queue``), for its review, its list of unnamed faces and its people's pages.

Distances are L2 between unit vectors (0–2); "looks alike" is the cosine of two mean faces, 0–1 (negatives
shown as 0): the same person's mean faces are usually above 0.8.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from indexer.db import queries, reads
from indexer.db.queries.rows import vector_array
from indexer.db.reader import Reader
from indexer.library import Library
from indexer.naming.labels import refused
from indexer.vision.embed import mean_face

NEAREST = 10  # named faces looked at per face, for one whose person is not rejected


@dataclass(frozen=True)
class Guess:
    """The person a face looks like most (among those it was not said not to be): the L2 distance (0–2)
    to the nearest face of theirs named by hand, and whether that is within the limit recognition uses
    (``sure``) or past it."""

    face_id: int
    photo_id: int
    box: list[int]
    time: float | None
    person_id: int
    person: str
    distance: float
    sure: bool

    @property
    def words(self) -> str:
        """The guess in plain words: "looks like Ann (sure)"."""
        return f"looks like {self.person} ({'sure' if self.sure else 'unsure'})"


@dataclass(frozen=True)
class Alike:
    """A person or a cluster whose mean face is near another's: ``kind`` "person" or "cluster", its id, the
    person's name (None for a cluster), how many faces it has, and how alike the two look (0–1)."""

    kind: str
    item_id: int
    name: str | None
    faces: int
    alike: float

    @property
    def percent(self) -> int:
        return round(100 * self.alike)


@dataclass
class Likeness:
    """One look at the library: every unnamed face's guess, and the mean face of every person (of their
    faces named by hand) and every cluster (of its unnamed faces)."""

    guesses: dict[int, Guess] = field(default_factory=dict)
    people: dict[int, tuple[str, int, np.ndarray]] = field(default_factory=dict)  # id → (name, faces, mean)
    clusters: dict[int, tuple[int, np.ndarray]] = field(default_factory=dict)  # id → (faces, mean)

    @classmethod
    def of(cls, library: Library, person_id: int | None = None) -> Likeness:
        """The library as it is now (only the guesses of person ``person_id`` when given)."""
        import faiss

        model = library.model
        sure_within = _sure_within(library)
        with library.session() as session:
            face_ids, person_ids, vectors = queries.named_faces(session, model.name, model.dimensions)
            names = reads.people_names(Reader.of_session(session))
            rejected = refused(session)
            rows = queries.unnamed_faces(session, model.name)
        found = cls()
        for person in np.unique(person_ids).tolist():
            chosen = vectors[person_ids == person]
            found.people[person] = (names[person], len(chosen), mean_face(chosen))
        unnamed = vector_array([r.embedding for r in rows], model.dimensions)
        members: dict[int, list[int]] = {}
        for i, row in enumerate(rows):
            if row.cluster_id is not None:
                members.setdefault(row.cluster_id, []).append(i)
        for cluster, at in sorted(members.items()):
            found.clusters[cluster] = (len(at), mean_face(unnamed[at]))
        if person_id is not None:
            chosen = person_ids == person_id
            face_ids, person_ids, vectors = face_ids[chosen], person_ids[chosen], vectors[chosen]
        if len(face_ids) == 0 or not rows:
            return found
        index = faiss.IndexFlatL2(model.dimensions)
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        squared, nearest = index.search(np.ascontiguousarray(unnamed), min(NEAREST, len(face_ids)))
        for row, distances, hits in zip(rows, np.sqrt(np.maximum(squared, 0)), nearest, strict=True):
            for distance, hit in zip(distances.tolist(), hits.tolist(), strict=True):
                if hit < 0:
                    break
                person = int(person_ids[hit])
                if (row.id, person) not in rejected:
                    found.guesses[row.id] = Guess(row.id, row.photo_id, [row.box_x, row.box_y, row.box_w, row.box_h],
                                                  row.video_time, person, names[person], round(distance, 4),
                                                  distance <= sure_within)
                    break
        return found

    def sure_guesses(self, within: float) -> list[Guess]:
        """The guesses within ``within`` (L2), nearest first: the review's suggestions."""
        return sorted((g for g in self.guesses.values() if g.distance <= within), key=lambda g: (g.distance, g.face_id))

    def alike(self, person_id: int, limit: int = 6, least: float = 0.5) -> list[Alike]:
        """The people and clusters that look most like person ``person_id`` (at least ``least`` alike), most
        alike first; none when they have no face named by hand."""
        if person_id not in self.people:
            return []
        mine = self.people[person_id][2]
        found = [Alike("person", other, name, faces, max(0.0, float(mine @ mean)))
                 for other, (name, faces, mean) in self.people.items() if other != person_id]
        found += [Alike("cluster", cluster, None, faces, max(0.0, float(mine @ mean)))
                  for cluster, (faces, mean) in self.clusters.items()]
        found = [item for item in found if item.alike >= least]
        return sorted(found, key=lambda item: (-round(item.alike, 3), item.kind != "person", item.item_id))[:limit]

    def without(self, face_id: int) -> None:
        """Face ``face_id`` was named or answered: it has no guess any more."""
        self.guesses.pop(face_id, None)


def _sure_within(library: Library) -> float:
    """The distance within which a guess is sure: the limit the trained rule uses, else the model's loosest
    (``ModelSpec.max_distance``)."""
    model = library.model
    with library.session() as session:
        trained = queries.last_training(session, model.name)
    if trained is not None and trained.thresholds.get("max_distance"):
        return min(float(trained.thresholds["max_distance"]), model.max_distance)
    return model.max_distance
