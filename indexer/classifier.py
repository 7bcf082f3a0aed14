"""The SVM of the labelling rule: a linear SVM over face embeddings with calibrated probabilities.

Trained with scikit-learn (``LinearSVC`` inside ``CalibratedClassifierCV(method="sigmoid")``: Platt
scaling fitted on cross-validated decision values, the supported replacement for the deprecated
``SVC(probability=True)``). It is stored as plain arrays in a ``.npz`` file — weights, intercepts and the
per-person sigmoids — read with ``allow_pickle=False``, so loading a classifier can never run code; the
file's sha256 is recorded in the database and checked before every load. Prediction needs only numpy.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from indexer.files import atomic_file

from indexer.errors import IndexerError

SVM_C = 1.0  # LinearSVC's regularisation; 0.1, 1 and 10 gave the same val accuracy on the sample (bench/recognition.py)
CALIBRATION_FOLDS = 5


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
        people and at least two faces of each."""
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.model_selection import StratifiedKFold
        from sklearn.svm import LinearSVC

        person_ids = np.asarray(person_ids, dtype=np.int64)
        classes, counts = np.unique(person_ids, return_counts=True)
        if len(classes) < 2 or counts.min() < 2:
            raise ValueError("an SVM needs at least two people with at least two faces each")
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

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        """(n, len(classes)) probabilities, each row summing to 1, in the order of ``classes``."""
        decisions = np.asarray(vectors, dtype=np.float64).reshape(-1, self.weights.shape[1]) @ self.weights.T + self.intercepts
        sigmoids = 1.0 / (1.0 + np.exp(decisions * self.sigmoid_a + self.sigmoid_b))
        if len(self.classes) == 2:
            return np.column_stack([1.0 - sigmoids[:, 0], sigmoids[:, 0]])
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
