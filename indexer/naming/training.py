"""``indexer train``: fit the labelling rule on the faces named by hand, save it, and relabel the library.

The SVM file lives in ``data_dir/classifiers``; its sha256, thresholds, people and cross-validation
figures are a row of the ``classifiers`` table. It is loaded only from there, and only when the
checksum matches. The newest row of the configured model is the one in use.
"""

from __future__ import annotations

from collections.abc import Callable

import json
import logging
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
from indexer.naming.classifier import ClassifierUnusable, SvmClassifier
from indexer.db import queries, reads
from indexer.db.reader import Reader
from indexer.clock import utcnow
from indexer.db.models import Classifier
from indexer.errors import IndexerError
from indexer.library import Library
from indexer.naming import labels
from indexer.naming.recognize import (
    MIN_FACES_PER_PERSON,
    Calibration,
    Recognizer,
    Thresholds,
    calibrate,
    trainable,
)

log = logging.getLogger(__name__)


def classifiers_dir(library: Library) -> Path:
    return library.config.storage.data_dir / "classifiers"


@dataclass
class RelabelSummary:
    """What relabelling did to the faces not named by hand."""

    faces: int = 0  # faces looked at
    named: int = 0  # now carrying an automatic name
    changed: int = 0  # whose name or score changed

    def as_dict(self) -> dict[str, int]:
        return {"faces": self.faces, "named": self.named, "changed": self.changed}


@dataclass
class TrainingReport:
    people: list[dict[str, Any]]  # per person: name, faces, right, wrong, unknown, accuracy
    left_out: list[dict[str, Any]]  # people with too few named faces: name, faces
    calibration: Calibration
    classifier_file: str | None
    relabelled: RelabelSummary = field(default_factory=RelabelSummary)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        c = self.calibration
        return {
            "people": self.people,
            "left_out": self.left_out,
            "accuracy": round(c.accuracy, 4),
            "folds": c.folds,
            "thresholds": {
                **c.thresholds.as_dict(),
                "max_distance_from": c.distance_source,
                "min_probability_from": c.probability_source,
            },
            "distances": {
                "same_person_mean": c.same_person_distance,
                "different_person_mean": c.different_person_distance,
                "left_out_nearest": None if c.stranger_nearest_distance is None
                else {"mean": c.stranger_nearest_distance[0], "std": c.stranger_nearest_distance[1]},
            },
            "strangers": {"tested": c.strangers_tested, "named": c.strangers_named},
            "classifier": self.classifier_file,
            "relabelled": self.relabelled.as_dict(),
            "seconds": self.seconds,
        }


def train(library: Library, progress: bool | None = None, stage: Callable[[str], None] = lambda said: None,
          ) -> TrainingReport:
    """Fit the rule on every face named by hand (of the configured model), save it, and relabel the
    automatic names of the whole library with it. Holds the writer lock. ``stage`` is told, in words, each
    stage as it starts (the app shows it)."""
    with library.writer_lock("train"):
        return _train(library, progress, stage)


def _train(library: Library, progress: bool | None, stage: Callable[[str], None]) -> TrainingReport:
    started = time.monotonic()
    stage("learning the faces named by hand")
    model = library.model
    with library.session() as session:
        face_ids, person_ids, vectors = queries.named_faces(session, model.name, model.dimensions)
        names = reads.people_names(Reader.of_session(session))
    if len(face_ids) == 0:
        raise IndexerError("nothing to train on: no face is named yet (use `indexer enroll` or `indexer label`)")
    usable = trainable(person_ids)
    left_out = _left_out(person_ids[~usable], names)
    if not usable.any():
        who = ", ".join(f"{p['name']} ({p['faces']})" for p in left_out)
        raise IndexerError(f"nothing to train on: each person needs at least {MIN_FACES_PER_PERSON} named faces; have {who}")
    for person in left_out:
        log.warning("%s has %d named face(s), fewer than %d: not named automatically until more are named",
                    person["name"], person["faces"], MIN_FACES_PER_PERSON)
    vectors, person_ids = vectors[usable], person_ids[usable]

    calibration = calibrate(vectors, person_ids, model.max_distance, fit=True)
    classifier = calibration.classifier
    people = sorted(np.unique(person_ids).tolist(), key=lambda p: names[p].casefold())
    created = utcnow()
    versions = _versions()
    file_name = sha256 = None
    if classifier is not None:
        file_name = f"{model.name}-{created:%Y%m%dT%H%M%S%f}.npz"
        metadata = {"people": {str(p): names[p] for p in people}, "embedding_model": model.name,
                    "created_at": created.isoformat() + "Z", "versions": versions}
        sha256 = classifier.save(classifiers_dir(library) / file_name, metadata)
    report = TrainingReport(
        people=[_person_row(names[p], calibration.per_person[p]) for p in people],
        left_out=left_out,
        calibration=calibration,
        classifier_file=str(classifiers_dir(library) / file_name) if file_name else None,
    )
    with library.transaction() as session:
        previous = queries.replace_classifier(session, Classifier(
            created_at=created, embedding_model=model.name, file=file_name, sha256=sha256, people=people,
            thresholds=calibration.thresholds.as_dict(), report=_stored_report(report), versions=versions,
        ))
    for old in previous:
        if old and old != file_name:
            (classifiers_dir(library) / old).unlink(missing_ok=True)
    recognizer = Recognizer(vectors, person_ids, classifier, calibration.thresholds)
    stage("naming the faces of the library")
    report.relabelled = relabel_library(library, recognizer, progress)
    from indexer.naming.clusters import refresh

    stage("grouping the faces nobody named")
    refresh(library)  # faces named automatically now leave their clusters; the linking distance is the rule's
    report.seconds = round(time.monotonic() - started, 1)
    return report


def _left_out(person_ids: np.ndarray, names: dict[int, str]) -> list[dict[str, Any]]:
    people, counts = np.unique(person_ids, return_counts=True)
    rows = [{"name": names[int(p)], "faces": int(n)} for p, n in zip(people, counts, strict=True)]
    return sorted(rows, key=lambda r: r["name"].casefold())


def _person_row(name: str, scores) -> dict[str, Any]:
    return {"name": name, "faces": scores.faces, "right": scores.right, "wrong": scores.wrong,
            "unknown": scores.unknown, "accuracy": round(scores.accuracy, 4)}


def _stored_report(report: TrainingReport) -> dict[str, Any]:
    stored = report.as_dict()
    del stored["relabelled"], stored["seconds"]
    return json.loads(json.dumps(stored))


def _versions() -> dict[str, str]:
    versions = {}
    for package in ("indexer", "scikit-learn", "numpy", "faiss-cpu"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "unknown"
    return versions


def load_recognizer(library: Library) -> Recognizer | None:
    """The rule as last trained for the configured model, over the faces named by hand now; None when
    ``indexer train`` has not been run for this model. Raises ClassifierUnusable when the SVM file is
    missing or does not match its checksum."""
    model = library.model
    with library.session() as session:
        row = queries.last_training(session, model.name)
        if row is None:
            return None
        _, person_ids, vectors = queries.named_faces(session, model.name, model.dimensions)
    classifier = None
    if row.file is not None:
        if Path(row.file).name != row.file or not row.sha256:
            raise ClassifierUnusable(f"the classifier record names an unusable file {row.file!r}; run `indexer train`")
        classifier = SvmClassifier.load(classifiers_dir(library) / row.file, row.sha256)
    # Only people the classifier was trained on can be named; people merged away since are dropped.
    known = np.isin(person_ids, np.asarray(row.people, dtype=np.int64))
    return Recognizer(vectors[known], person_ids[known], classifier, Thresholds(**row.thresholds))


def relabel_library(library: Library, recognizer: Recognizer, progress: bool | None = None) -> RelabelSummary:
    """Name (or unname) every face not labelled by hand with ``recognizer``, by the rules of
    ``naming.labels``: faces named by hand keep their names, their people are not given to another face
    of the same photo, and no face is given a person the user said it is not."""
    from tqdm import tqdm

    model = library.model
    summary = RelabelSummary()
    candidates = []
    current: dict[int, tuple[int | None, float | None]] = {}
    with library.session() as session:
        taken = queries.manual_names_by_photo(session, model.name)
        refused = labels.refused(session)
        with tqdm(desc="naming faces", unit=" faces", disable=None if progress is None else not progress, leave=False) as bar:
            for chunk in queries.faces_to_label(session, model.name, model.dimensions):
                answers = recognizer.match(chunk.vectors)
                for i, answer in enumerate(answers):
                    face_id = int(chunk.ids[i])
                    candidates.append((face_id, int(chunk.photo_ids[i]), answer, chunk.spans[i]))
                    current[face_id] = (chunk.person_ids[i], chunk.scores[i])
                bar.update(len(answers))
    decided = labels.automatic_names(candidates, taken, refused)
    summary.faces = len(decided)
    summary.named = sum(match is not None for match in decided.values())
    summary.changed = labels.write_automatic(library, decided, current)
    return summary
