"""Putting names on faces: nearest labelled neighbours and an SVM must agree, or the face is unknown.

The rule, used by ``train``, ``index`` and ``who-is`` alike, for one face embedding:

1. Look up the ``neighbours`` nearest manually named faces (FAISS, exact L2). Those farther than
   ``max_distance`` do not count. No neighbour left: **unknown**. Otherwise the person with the most
   neighbours left is the nearest-neighbour answer (a tie goes to the nearer one).
2. With two or more people, the SVM must name the same person with a probability of at least
   ``min_probability``; otherwise **unknown**. The score is that probability. With one person there is
   no SVM; the score is then the cosine similarity to the nearest face of that person.
3. In one photo a person is named at most once: the face with the higher score keeps the name, and a
   face the user named by hand keeps it over any automatic one (``naming.labels``, which applies it with
   the user's rejections wherever names are given).

The thresholds are calibrated from the named faces themselves (see ``calibrate``): people left out of
training one at a time stand in for strangers, and each threshold is set so that such strangers are
turned away.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import asdict, dataclass, field

import numpy as np

from indexer.naming.classifier import SvmClassifier

NEIGHBOURS = 5
MIN_FACES_PER_PERSON = 3  # fewer and the SVM cannot be cross-validated: such people are not named automatically
# The distance threshold lets a stranger through with about this probability per face, by a normal fit
# to the nearest distances of the left-out people (z = 3.72 for 1 in 10 000).
STRANGER_Z = 3.72
# The SVM threshold is the probability that this fraction of left-out people's faces stay below.
STRANGER_PROBABILITY_QUANTILE = 0.95
MIN_PROBABILITY_FLOOR = 0.5  # the SVM must at least prefer the person to all others together
# Up to this many people, each is left out on their own when calibrating; beyond, everyone is left out once
# in one of STRANGER_GROUPS groups (one SVM fit per group instead of one per person).
MAX_SIMULATED_STRANGERS = 10
STRANGER_GROUPS = 3
MIN_STRANGER_FACES = 10  # fewer nearest distances than this and the model's default distance is used


@dataclass(frozen=True)
class Thresholds:
    """``max_distance``: L2 between unit vectors (0–2) within which a named face counts as a neighbour;
    ``min_probability``: the SVM's probability (0–1) the named person needs; ``neighbours``: how many
    nearest named faces are looked at."""

    max_distance: float
    min_probability: float
    neighbours: int = NEIGHBOURS

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


@dataclass(frozen=True)
class Match:
    """A name for one face: the person's id, the score (0–1) and the distance to the nearest face of
    that person among the neighbours (L2, 0–2)."""

    person_id: int
    score: float
    distance: float


class Recognizer:
    """The labelling rule over a set of manually named faces (the references) and an optional SVM."""

    def __init__(self, vectors: np.ndarray, person_ids: np.ndarray, classifier: SvmClassifier | None, thresholds: Thresholds):
        import faiss

        self.person_ids = np.asarray(person_ids, dtype=np.int64)
        self.classifier = classifier
        self.thresholds = thresholds
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self._index = faiss.IndexFlatL2(vectors.shape[1])
        if len(vectors):
            self._index.add(vectors)

    def match(self, vectors: np.ndarray) -> list[Match | None]:
        """The rule's answer for each unit vector (n, dimensions): a Match, or None for unknown.
        (Rule 3, a person once per photo, is ``naming.labels``', with the user's other rules.)"""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self._index.d)
        if len(vectors) == 0 or self._index.ntotal == 0:
            return [None] * len(vectors)
        k = min(self.thresholds.neighbours, self._index.ntotal)
        squared, rows = self._index.search(vectors, k)
        distances = np.sqrt(np.maximum(squared, 0))
        probabilities = self.classifier.probabilities(vectors) if self.classifier is not None else None
        answers: list[Match | None] = []
        for i in range(len(vectors)):
            near = distances[i] <= self.thresholds.max_distance
            if not near.any():
                answers.append(None)
                continue
            people = self.person_ids[rows[i][near]]
            votes = Counter(people.tolist())
            nearest = {}
            for person, distance in zip(people.tolist(), distances[i][near].tolist(), strict=True):
                nearest.setdefault(person, distance)  # results come nearest first
            person = max(votes, key=lambda p: (votes[p], -nearest[p]))
            distance = nearest[person]
            if probabilities is None:
                answers.append(Match(person, round(1.0 - distance * distance / 2.0, 4), distance))
                continue
            column = int(np.argmax(probabilities[i]))
            probability = float(probabilities[i][column])
            if int(self.classifier.classes[column]) != person or probability < self.thresholds.min_probability:
                answers.append(None)
                continue
            answers.append(Match(person, round(probability, 4), distance))
        return answers


@dataclass
class PersonScores:
    """Cross-validated outcome for one person's faces: named right, named wrong, left unknown."""

    faces: int = 0
    right: int = 0
    wrong: int = 0
    unknown: int = 0

    @property
    def accuracy(self) -> float:
        return self.right / self.faces if self.faces else 0.0


@dataclass
class Calibration:
    """What ``calibrate`` decided and measured. Distances are L2 between unit vectors (0–2)."""

    thresholds: Thresholds
    distance_source: str  # how max_distance was chosen, in words
    probability_source: str
    same_person_distance: float | None  # mean over pairs of faces of the same person
    different_person_distance: float | None  # mean over pairs of faces of different people
    stranger_nearest_distance: tuple[float, float] | None  # (mean, std) of left-out people's nearest distances
    strangers_tested: int = 0  # faces of left-out people put through the rule
    strangers_named: int = 0  # of those, how many the rule named (each a false accept)
    per_person: dict[int, PersonScores] = field(default_factory=dict)  # cross-validated, by person id
    folds: int = 0
    classifier: SvmClassifier | None = None  # the SVM of all the faces (``calibrate(..., fit=True)``)

    @property
    def accuracy(self) -> float:
        faces = sum(p.faces for p in self.per_person.values())
        return sum(p.right for p in self.per_person.values()) / faces if faces else 0.0


def trainable(person_ids: np.ndarray) -> np.ndarray:
    """A boolean mask of the faces whose person has at least MIN_FACES_PER_PERSON named faces."""
    people, counts = np.unique(person_ids, return_counts=True)
    enough = set(people[counts >= MIN_FACES_PER_PERSON].tolist())
    return np.array([p in enough for p in person_ids.tolist()], dtype=bool)


def fit_classifier(vectors: np.ndarray, person_ids: np.ndarray) -> SvmClassifier | None:
    """The SVM for these faces, or None for a single person."""
    return SvmClassifier.fit(vectors, person_ids) if len(np.unique(person_ids)) >= 2 else None


def calibrate(vectors: np.ndarray, person_ids: np.ndarray, default_max_distance: float, fit: bool = False) -> Calibration:
    """Choose the thresholds from named faces (unit vectors, with person ids; every person with at least
    MIN_FACES_PER_PERSON faces), then cross-validate the whole rule with them.

    Strangers are simulated by leaving each person out in turn (above MAX_SIMULATED_STRANGERS people,
    a third of them at a time, STRANGER_GROUPS times): their faces are matched against the others.
    ``max_distance`` is mean − 3.72 σ of those strangers' nearest distances (about 1 in 10 000 let
    through), never above ``default_max_distance`` (the model's measured limit); with fewer than
    MIN_STRANGER_FACES such distances it is the default. ``min_probability`` is the 95th percentile of
    the SVM's probability for those strangers (an SVM trained without them), at least 0.5; with fewer
    than three people it is 0.5. ``fit``: also fit the SVM of all the faces (``Calibration.classifier``),
    alongside the others.
    """
    vectors = np.asarray(vectors, dtype=np.float32)
    person_ids = np.asarray(person_ids, dtype=np.int64)
    people = np.unique(person_ids)
    rng = np.random.default_rng(0)
    if len(people) < 2:
        left_out = []  # nobody else to match a left-out person against
    elif len(people) <= MAX_SIMULATED_STRANGERS:
        left_out = [[person] for person in people]
    else:
        left_out = np.array_split(rng.permutation(people), STRANGER_GROUPS)

    stranger_distances: list[float] = []
    stranger_probabilities: list[float] = []
    stranger_runs = []  # (left-out vectors, other vectors, other ids, classifier of the others)
    left_out_masks = [np.isin(person_ids, group) for group in left_out]
    cv_folds = _folds(vectors, person_ids)
    # Every SVM calibration needs: without each left-out group, without each fold, and (fit) of all faces.
    group_tasks = [(vectors[~mine], person_ids[~mine]) for mine in left_out_masks] if len(people) >= 3 else []
    fold_tasks = [(vectors[train], person_ids[train]) for train, _ in cv_folds]
    classifiers = [fit_classifier(v, ids) for v, ids in group_tasks + fold_tasks + ([(vectors, person_ids)] if fit else [])]
    group_classifiers = classifiers[: len(group_tasks)] if group_tasks else [None] * len(left_out_masks)
    fold_classifiers = classifiers[len(group_tasks) : len(group_tasks) + len(fold_tasks)]
    for mine, classifier in zip(left_out_masks, group_classifiers, strict=True):
        others = vectors[~mine]
        nearest = np.sqrt(np.maximum(_squared_distances(vectors[mine], others).min(axis=1), 0))
        stranger_distances += nearest.tolist()
        if classifier is not None:
            stranger_probabilities += classifier.probabilities(vectors[mine]).max(axis=1).tolist()
        stranger_runs.append((vectors[mine], others, person_ids[~mine], classifier))

    stranger_fit = None
    if len(stranger_distances) >= MIN_STRANGER_FACES:
        mean, std = statistics.fmean(stranger_distances), statistics.pstdev(stranger_distances)
        stranger_fit = (round(mean, 4), round(std, 4))
        fitted = mean - STRANGER_Z * std
        if fitted < default_max_distance:
            # Below 0 only when faces named as different people are (nearly) the same picture: then no
            # face is near enough to be named, which 0 says without a negative distance.
            max_distance = max(0.0, fitted)
            distance_source = f"left-out people's nearest distances: mean {mean:.3f} − {STRANGER_Z} × std {std:.3f}"
        else:
            max_distance = default_max_distance
            distance_source = (f"the model's limit {default_max_distance} (left-out people's nearest distances "
                               f"would allow {fitted:.3f})")
    else:
        max_distance = default_max_distance
        distance_source = f"the model's default {default_max_distance} (too few faces of other people to calibrate)"

    if stranger_probabilities:
        quantile = float(np.quantile(stranger_probabilities, STRANGER_PROBABILITY_QUANTILE))
        min_probability = max(MIN_PROBABILITY_FLOOR, quantile)
        probability_source = (f"{STRANGER_PROBABILITY_QUANTILE:.0%} of left-out people's faces score below "
                              f"{quantile:.3f} (at least {MIN_PROBABILITY_FLOOR})")
    elif len(people) == 2:
        min_probability = MIN_PROBABILITY_FLOOR
        probability_source = f"{MIN_PROBABILITY_FLOOR} (two people: none can be left out to calibrate)"
    else:
        min_probability = 0.0
        probability_source = "no SVM (one person)"
    thresholds = Thresholds(round(float(max_distance), 4), round(float(min_probability), 4))

    same_person, different_people = _pair_distances(vectors, person_ids)
    calibration = Calibration(
        thresholds=thresholds,
        distance_source=distance_source,
        probability_source=probability_source,
        same_person_distance=same_person,
        different_person_distance=different_people,
        stranger_nearest_distance=stranger_fit,
    )
    for strangers, others, other_ids, classifier in stranger_runs:
        answers = Recognizer(others, other_ids, classifier, thresholds).match(strangers)
        calibration.strangers_tested += len(answers)
        calibration.strangers_named += sum(a is not None for a in answers)
    _cross_validate(vectors, person_ids, calibration, cv_folds, fold_classifiers)
    if fit:
        calibration.classifier = classifiers[-1]
    return calibration


def _folds(vectors: np.ndarray, person_ids: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """The stratified cross-validation folds (train, held out): up to 5, at most a person's fewest faces."""
    from sklearn.model_selection import StratifiedKFold

    _, counts = np.unique(person_ids, return_counts=True)
    folds = int(min(5, counts.min()))
    if folds < 2:
        return []
    return list(StratifiedKFold(n_splits=folds, shuffle=True, random_state=0).split(vectors, person_ids))


def _cross_validate(vectors: np.ndarray, person_ids: np.ndarray, calibration: Calibration,
                    folds: list[tuple[np.ndarray, np.ndarray]], classifiers: list[SvmClassifier | None]) -> None:
    """Each face is held out once (stratified ``folds``), the rule fitted on the rest (``classifiers``,
    one per fold) is asked to name it."""
    _, counts = np.unique(person_ids, return_counts=True)
    calibration.folds = int(min(5, counts.min()))
    for person in np.unique(person_ids).tolist():
        calibration.per_person[person] = PersonScores()
    for (train, held_out), classifier in zip(folds, classifiers, strict=True):
        answers = Recognizer(vectors[train], person_ids[train], classifier, calibration.thresholds).match(vectors[held_out])
        for truth, answer in zip(person_ids[held_out].tolist(), answers, strict=True):
            scores = calibration.per_person[truth]
            scores.faces += 1
            if answer is None:
                scores.unknown += 1
            elif answer.person_id == truth:
                scores.right += 1
            else:
                scores.wrong += 1


def _squared_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T


def _pair_distances(vectors: np.ndarray, person_ids: np.ndarray, limit: int = 4000) -> tuple[float | None, float | None]:
    """Mean L2 over pairs of the same person and over pairs of different people (on a sample of at most
    ``limit`` faces)."""
    if len(vectors) > limit:
        chosen = np.random.default_rng(0).choice(len(vectors), limit, replace=False)
        vectors, person_ids = vectors[chosen], person_ids[chosen]
    distances = np.sqrt(np.maximum(_squared_distances(vectors, vectors), 0))
    upper = np.triu(np.ones(distances.shape, dtype=bool), 1)
    same = (person_ids[:, None] == person_ids[None, :]) & upper
    different = (person_ids[:, None] != person_ids[None, :]) & upper
    return (
        round(float(distances[same].mean()), 4) if same.any() else None,
        round(float(distances[different].mean()), 4) if different.any() else None,
    )
