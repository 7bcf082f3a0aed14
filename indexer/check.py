"""``indexer check``: is the index consistent — database, FAISS files, photo files, classifier?

The database is the truth; the FAISS files are a cache of it (``--repair`` rebuilds them), the photo
files are what the database describes, and the classifier must match the checksum recorded for it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from indexer.naming.classifier import ClassifierUnusable
from indexer.db import queries, reads
from indexer.db.reader import Reader
from indexer.library import Library
from indexer.vision.weights import MODELS

SHOWN_MISSING = 10  # missing files named in the problem line; --json lists them all


@dataclass
class CheckReport:
    """``problems``: one line each, empty when consistent; ``repaired``: what --repair fixed."""

    photos: int = 0
    failed: int = 0
    faces: dict[str, int] = field(default_factory=dict)  # by embedding model
    vectors: dict[str, int] = field(default_factory=dict)  # what each model's FAISS file holds
    missing_files: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)

    @property
    def consistent(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict:
        return {
            "consistent": self.consistent, "photos": self.photos, "failed": self.failed, "faces": self.faces,
            "vectors": self.vectors, "missing_files": self.missing_files, "problems": self.problems, "repaired": self.repaired,
        }


def check_library(library: Library, repair: bool = False) -> CheckReport:
    """Check (and with ``repair``, fix what can be fixed from the database). Holds the writer lock, so it
    never reads a run's half-written state."""
    with library.writer_lock("check"):
        report = CheckReport()
        with library.session() as session:
            counts = reads.counts(Reader.of_session(session))
            report.photos, report.failed = counts.photos, counts.errors
            report.faces = queries.face_counts_by_model(session)
            unnamed_but_scored = queries.faces_with_a_source_but_no_person(session)
        if unnamed_but_scored:
            report.problems.append(f"{unnamed_but_scored} face(s) are marked as named (automatically, or with a score) "
                                   "but name nobody; `indexer train` names them again")
        for model_name in sorted(set(report.faces) | {library.model.name} | _models_with_files(library)):
            _check_vectors(library, model_name, report, repair)
        _check_files(library, report)
        _check_classifier(library, report)
        return report


def _models_with_files(library: Library) -> set[str]:
    folder = library.config.storage.vectors_dir
    return {p.stem for p in folder.glob("*.faiss")} if folder.is_dir() else set()


def _check_vectors(library: Library, model_name: str, report: CheckReport, repair: bool) -> None:
    from indexer.vectors.index import VectorIndex

    spec = MODELS.get(model_name)
    faces = report.faces.get(model_name, 0)
    if spec is None:
        report.problems.append(f"{faces} faces and vectors of an unknown model {model_name!r}")
        return
    with library.session() as session:
        expected = queries.face_ids(session, model_name)
        malformed = queries.faces_with_wrong_embedding_size(session, model_name, spec.dimensions)
    if malformed:
        report.problems.append(f"{len(malformed)} photo(s) have {model_name} faces with embeddings of the wrong size")
        if repair:
            with library.transaction() as session:
                queries.forget_settings(session, malformed)
            report.repaired.append(f"{len(malformed)} photo(s) with malformed embeddings will be indexed again by the next run")
        return
    path = library.vectors_path(model_name)
    index = VectorIndex.read(path, spec.dimensions)
    report.vectors[model_name] = 0 if index is None else len(index)
    problem = _vector_problem(index, expected, model_name, str(path))
    if problem is None:
        return
    if not repair:
        report.problems.append(problem)
        return
    rebuilt = library.checked_vectors(model_name, spec.dimensions)
    report.vectors[model_name] = len(rebuilt)
    still = _vector_problem(VectorIndex.read(path, spec.dimensions), expected, model_name, str(path))
    if still is None:
        report.repaired.append(f"{problem}: rebuilt from the database ({len(rebuilt)} vectors)")
    else:
        report.problems.append(still)


def _vector_problem(index, expected: np.ndarray, model_name: str, path: str) -> str | None:
    """What is wrong with a FAISS file holding ``index`` (None: unreadable) for the face ids ``expected``."""
    if index is None:
        return f"{path} is missing or unreadable; the database has {len(expected)} {model_name} faces" if len(expected) else None
    held = np.sort(index.ids())
    if np.array_equal(held, expected):
        return None
    missing = np.setdiff1d(expected, held).size
    extra = np.setdiff1d(held, expected).size
    duplicated = len(held) - np.unique(held).size
    return (f"{path} holds {len(held)} vectors for {len(expected)} {model_name} faces in the database "
            f"({missing} missing, {extra} not in the database, {duplicated} duplicated)")


def _check_files(library: Library, report: CheckReport) -> None:
    with library.session() as session:
        for chunk in queries.indexed_photo_paths(session):
            report.missing_files += [path for _, path in chunk if not os.path.isfile(path)]
    if report.missing_files:
        shown = ", ".join(report.missing_files[:SHOWN_MISSING]) + (", …" if len(report.missing_files) > SHOWN_MISSING else "")
        report.problems.append(
            f"{len(report.missing_files)} indexed photo(s) are no longer on disk (the next `index` of their folder "
            f"removes them; a folder that is missing or empty is left alone): {shown}"
        )


def _check_classifier(library: Library, report: CheckReport) -> None:
    from indexer.naming.training import load_recognizer

    try:
        load_recognizer(library)
    except ClassifierUnusable as e:
        report.problems.append(str(e))
