"""The SVM of the labelling rule: a linear SVM over face embeddings with calibrated probabilities.

Trained with scikit-learn (``LinearSVC`` inside ``CalibratedClassifierCV(method="sigmoid")``: Platt
scaling fitted on cross-validated decision values, the supported replacement for the deprecated
``SVC(probability=True)``). That trains every person against every other person's faces, so its cost
grows with people × faces: 614 people took minutes per fit. Above NEAR_PEOPLE + 1 people each person's
SVM is trained instead against the faces of the NEAR_PEOPLE people nearest to them (by mean face) and
OTHER_FACES faces drawn from everyone else, with its own Platt sigmoid fitted on cross-validated
decision values the same way: each person then costs about the same whatever the library's size, so a
fit grows linearly with the people (bench/train_scale.py). Up to NEAR_PEOPLE + 1 people, which is every
other person anyway, the classifier is exactly scikit-learn's. It is stored as plain arrays in a ``.npz`` file — weights, intercepts and the
per-person sigmoids — read with ``allow_pickle=False``, so loading a classifier can never run code; the
file's sha256 is recorded in the database and checked before every load. Prediction needs only numpy.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from indexer.files import atomic_file

from indexer.errors import IndexerError

SVM_C = 1.0  # LinearSVC's regularisation; 0.1, 1 and 10 gave the same val accuracy on the sample (bench/recognition.py)
CALIBRATION_FOLDS = 5
# Above NEAR_PEOPLE + 1 people, a person's SVM sees the faces of their NEAR_PEOPLE nearest people (whom
# they are most easily taken for) and OTHER_FACES faces of the rest, at random.
NEAR_PEOPLE = 30
OTHER_FACES = 300


class ClassifierUnusable(IndexerError):
    """The classifier file is missing, altered or unreadable."""


@dataclass(frozen=True)
class SvmClassifier:
    """Linear one-vs-rest SVM with a Platt sigmoid per class.

    ``classes``: person ids (int64, n); ``weights``: (m, dimensions) and ``intercepts``: (m,) of the SVM,
    where m = n for three or more people and 1 for two (one decision value for ``classes[1]``);
    ``sigmoid_a``, ``sigmoid_b``: (m,), mapping a decision value f to 1 / (1 + exp(a·f + b)).
    """

    classes: np.ndarray
    weights: np.ndarray
    intercepts: np.ndarray
    sigmoid_a: np.ndarray
    sigmoid_b: np.ndarray

    @classmethod
    def fit(cls, vectors: np.ndarray, person_ids: np.ndarray) -> SvmClassifier:
        """Train on unit vectors (n, dimensions) labelled with ``person_ids`` (n,). Needs at least two
        people and at least two faces of each. (scikit-learn's warning that many classes with few samples
        "could represent a regression problem" is silenced: people with 3 faces each are that, rightly.)"""
        import warnings

        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="The number of unique classes is greater than 50%")
            return cls._fit(vectors, person_ids)

    @classmethod
    def _fit(cls, vectors: np.ndarray, person_ids: np.ndarray) -> SvmClassifier:
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.model_selection import StratifiedKFold
        from sklearn.svm import LinearSVC

        person_ids = np.asarray(person_ids, dtype=np.int64)
        classes, counts = np.unique(person_ids, return_counts=True)
        if len(classes) < 2 or counts.min() < 2:
            raise ValueError("an SVM needs at least two people with at least two faces each")
        if len(classes) > NEAR_PEOPLE + 1:
            return cls._fit_per_person(np.asarray(vectors, dtype=np.float64), person_ids, classes, counts)
        folds = StratifiedKFold(n_splits=min(CALIBRATION_FOLDS, int(counts.min())), shuffle=True, random_state=0)
        svm = LinearSVC(C=SVM_C, class_weight="balanced", random_state=0)
        model = CalibratedClassifierCV(svm, method="sigmoid", cv=folds, ensemble=False)
        model.fit(np.asarray(vectors, dtype=np.float64), person_ids)
        (calibrated,) = model.calibrated_classifiers_
        return cls(
            classes=model.classes_.astype(np.int64),
            weights=calibrated.estimator.coef_.astype(np.float64),
            intercepts=calibrated.estimator.intercept_.astype(np.float64),
            sigmoid_a=np.array([c.a_ for c in calibrated.calibrators], dtype=np.float64),
            sigmoid_b=np.array([c.b_ for c in calibrated.calibrators], dtype=np.float64),
        )

    @classmethod
    def _fit_per_person(cls, vectors: np.ndarray, person_ids: np.ndarray, classes: np.ndarray, counts: np.ndarray) -> SvmClassifier:
        """One binary SVM and sigmoid per person, against their nearest people and a sample of the rest.
        Faces are weighted as scikit-learn's ``class_weight="balanced"`` weighs them in the full problem."""
        rng = np.random.default_rng(0)
        class_of_face = np.searchsorted(classes, person_ids)
        order = np.argsort(class_of_face, kind="stable")
        rows_of = np.split(order, np.cumsum(counts)[:-1])  # the rows of each person, in the order of classes
        sample_weights = (len(person_ids) / (len(classes) * counts))[class_of_face]
        means = np.stack([vectors[rows].mean(axis=0) for rows in rows_of])
        means /= np.maximum(np.linalg.norm(means, axis=1, keepdims=True), 1e-12)
        problems = []  # per person: (rows, 0/1 labels)
        for index in range(len(classes)):
            closeness = means @ means[index]
            closeness[index] = -np.inf
            near = np.argpartition(-closeness, NEAR_PEOPLE)[:NEAR_PEOPLE]
            excluded = np.zeros(len(classes), dtype=bool)
            excluded[[*near.tolist(), index]] = True
            drawn = rng.choice(len(person_ids), min(len(person_ids), 2 * OTHER_FACES), replace=False)
            others = drawn[~excluded[class_of_face[drawn]]][:OTHER_FACES]
            rows = np.concatenate([rows_of[index], *(rows_of[p] for p in near.tolist()), others])
            problems.append((rows, (class_of_face[rows] == index).astype(np.int64)))
        def fit_one(index: int) -> tuple[np.ndarray, np.ndarray, float]:
            rows, labels = problems[index]
            decisions = _out_of_fold_decisions(vectors[rows], labels, sample_weights[rows], min(CALIBRATION_FOLDS, int(counts[index])))
            return decisions, *linear_svm(vectors[rows], labels, sample_weights[rows])

        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:  # liblinear runs without the GIL
            fitted = list(pool.map(fit_one, range(len(problems))))
        sigmoid_a, sigmoid_b = _platt_sigmoids([d for d, _, _ in fitted], [labels for _, labels in problems])
        weights, intercepts = [w for _, w, _ in fitted], [b for _, _, b in fitted]
        return cls(classes=classes.astype(np.int64), weights=np.array(weights), intercepts=np.array(intercepts),
                   sigmoid_a=sigmoid_a, sigmoid_b=sigmoid_b)

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        """(n, len(classes)) probabilities, each row summing to 1, in the order of ``classes``: each
        person's sigmoid over the sum of the sigmoids. Above NEAR_PEOPLE + 1 people only the NEAR_PEOPLE + 1
        largest sigmoids of a face count (the others are 0): hundreds of people's small sigmoids, each a
        fraction of a percent for a face nothing like them, would otherwise add up to more than the right
        person's (600 synthetic people: 80 of 1800 faces fell below 0.5 that way)."""
        decisions = np.asarray(vectors, dtype=np.float64).reshape(-1, self.weights.shape[1]) @ self.weights.T + self.intercepts
        sigmoids = 1.0 / (1.0 + np.exp(decisions * self.sigmoid_a + self.sigmoid_b))
        if len(self.classes) == 2:
            return np.column_stack([1.0 - sigmoids[:, 0], sigmoids[:, 0]])
        if len(self.classes) > NEAR_PEOPLE + 1:
            smaller = np.argpartition(-sigmoids, NEAR_PEOPLE + 1, axis=1)[:, NEAR_PEOPLE + 1:]
            np.put_along_axis(sigmoids, smaller, 0.0, axis=1)
        totals = sigmoids.sum(axis=1, keepdims=True)
        uniform = np.full_like(sigmoids, 1.0 / len(self.classes))
        return np.divide(sigmoids, totals, out=uniform, where=totals > 0)

    def save(self, path: Path, metadata: dict[str, Any]) -> str:
        """Write to ``path`` atomically, with ``metadata`` (JSON-able: people, model, versions, time)
        stored beside the arrays as a JSON string; returns the file's sha256 (hex)."""
        buffer = io.BytesIO()
        np.savez(buffer, classes=self.classes, weights=self.weights, intercepts=self.intercepts,
                 sigmoid_a=self.sigmoid_a, sigmoid_b=self.sigmoid_b, metadata=np.array(json.dumps(metadata)))
        data = buffer.getvalue()
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with atomic_file(path) as tmp_name:
            Path(tmp_name).write_bytes(data)
        return hashlib.sha256(data).hexdigest()

    @classmethod
    def load(cls, path: Path, sha256: str) -> SvmClassifier:
        """Read ``path``, refusing it unless its sha256 is ``sha256``."""
        try:
            data = path.read_bytes()
        except OSError as e:
            raise ClassifierUnusable(f"cannot read the classifier {path}: {e.strerror}; run `indexer train`") from e
        if hashlib.sha256(data).hexdigest() != sha256:
            raise ClassifierUnusable(f"the classifier {path} does not match its recorded checksum; run `indexer train`")
        with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
            return cls(**{name: arrays[name] for name in ("classes", "weights", "intercepts", "sigmoid_a", "sigmoid_b")})


def linear_svm(vectors: np.ndarray, labels: np.ndarray, sample_weights: np.ndarray) -> tuple[np.ndarray, float]:
    """``LinearSVC(C=SVM_C, dual=True, random_state=0).fit(vectors, labels, sample_weight=sample_weights)``
    for 0/1 ``labels``, as (weights (dimensions,), intercept): the same liblinear solver with the same
    arguments, so the same coefficients (tests/test_classifier.py compares them).

    It calls scikit-learn's binding of liblinear (``sklearn.svm._liblinear.train_wrap``) directly: a fit
    of ~400 faces then takes 0.5 ms where ``LinearSVC.fit`` takes 1.9 ms, the rest being its per-call
    checks, and a train of 600 people makes ~17 000 such fits. The binding is private, so where it is
    missing or takes other arguments (another scikit-learn), ``LinearSVC`` itself is used: slower, same
    answer. The dual solver, because here it reaches the same optimum (coefficients within 1e-5 of the
    primal solver's) in half the time of the primal one that LinearSVC's ``dual="auto"`` would pick."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float64)
    sample_weights = np.asarray(sample_weights, dtype=np.float64)
    try:
        from sklearn.svm import _liblinear

        _liblinear.set_verbosity_wrap(0)
        coefficients, _ = _liblinear.train_wrap(
            vectors, np.asarray(labels, dtype=np.float64), False, _LIBLINEAR_L2_SQUARED_HINGE_DUAL, 1e-4, 1.0,
            SVM_C, np.ones(2), 1000, _LIBLINEAR_SEED, 0.1, sample_weights)
        return coefficients[0, :-1], float(coefficients[0, -1])
    except (ImportError, AttributeError, TypeError, ValueError):
        from sklearn.svm import LinearSVC

        svm = LinearSVC(C=SVM_C, dual=True, random_state=0).fit(vectors, labels, sample_weight=sample_weights)
        return svm.coef_[0], float(svm.intercept_[0])


_LIBLINEAR_L2_SQUARED_HINGE_DUAL = 1  # liblinear's solver_type L2R_L2LOSS_SVC_DUAL
# The seed LinearSVC(random_state=0) hands liblinear (check_random_state(0).randint(2**31 - 1)).
_LIBLINEAR_SEED = int(np.random.RandomState(0).randint(np.iinfo(np.int32).max))


def _stratified_folds(labels: np.ndarray, folds: int) -> np.ndarray:
    """A fold number (0 .. folds − 1) per face, each label's faces dealt round the folds in a shuffled
    order (seeded), so every fold holds about the same share of each label."""
    rng = np.random.default_rng(0)
    fold_of = np.empty(len(labels), dtype=np.int64)
    for label in np.unique(labels):
        rows = rng.permutation(np.flatnonzero(labels == label))
        fold_of[rows] = (np.arange(len(rows)) + rng.integers(folds)) % folds
    return fold_of


def _out_of_fold_decisions(vectors: np.ndarray, labels: np.ndarray, sample_weights: np.ndarray, folds: int) -> np.ndarray:
    """Each face's SVM decision value from an SVM trained without it (stratified folds)."""
    decisions = np.zeros(len(labels))
    fold_of = _stratified_folds(labels, folds)
    for fold in range(folds):
        held_out = fold_of == fold
        weights, intercept = linear_svm(vectors[~held_out], labels[~held_out], sample_weights[~held_out])
        decisions[held_out] = vectors[held_out] @ weights + intercept
    return decisions


def _platt_sigmoids(decisions: list[np.ndarray], labels: list[np.ndarray], steps: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """Platt's sigmoid 1 / (1 + exp(a·f + b)) for each of several problems, fitted to decision values
    ``f`` and 0/1 labels with his smoothed targets (N₊ + 1) / (N₊ + 2) and 1 / (N₋ + 2) by Newton's method
    with step halving, all problems at once; returns (a, b) arrays."""
    count, longest = len(decisions), max(len(d) for d in decisions)
    f = np.zeros((count, longest))
    t = np.zeros((count, longest))
    mask = np.zeros((count, longest))
    for i, (values, labelled) in enumerate(zip(decisions, labels, strict=True)):
        positives = labelled.sum()
        negatives = len(labelled) - positives
        f[i, : len(values)] = values
        t[i, : len(values)] = np.where(labelled == 1, (positives + 1.0) / (positives + 2.0), 1.0 / (negatives + 2.0))
        mask[i, : len(values)] = 1.0
    positives = np.array([labelled.sum() for labelled in labels], dtype=np.float64)
    negatives = mask.sum(axis=1) - positives
    a, b = np.zeros(count), np.log((negatives + 1.0) / (positives + 1.0))

    def loss(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        z = a[:, None] * f + b[:, None]  # the probability is sigmoid(−z)
        return ((t * np.logaddexp(0.0, z) + (1 - t) * np.logaddexp(0.0, -z)) * mask).sum(axis=1)

    current = loss(a, b)
    for _ in range(steps):
        z = a[:, None] * f + b[:, None]
        p = np.exp(-np.logaddexp(0.0, z))
        residual = (t - p) * mask  # d loss / dz
        curvature = p * (1 - p) * mask + 1e-12
        grad = np.stack([(residual * f).sum(axis=1), residual.sum(axis=1)], axis=1)
        haa, hab, hbb = (curvature * f * f).sum(axis=1), (curvature * f).sum(axis=1), curvature.sum(axis=1)
        det = haa * hbb - hab * hab
        step_a = (hbb * grad[:, 0] - hab * grad[:, 1]) / det
        step_b = (haa * grad[:, 1] - hab * grad[:, 0]) / det
        scale = np.ones(count)
        for _ in range(30):  # halve each problem's step until its loss does not grow
            trial = loss(a - scale * step_a, b - scale * step_b)
            worse = trial > current + 1e-12
            if not worse.any():
                break
            scale = np.where(worse, scale / 2, scale)
        a, b = a - scale * step_a, b - scale * step_b
        improvement = current - trial
        current = trial
        if np.all(np.abs(improvement) < 1e-10):
            break
    return a, b
