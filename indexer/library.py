"""The face index on disk: the database (the truth), the FAISS vectors (a cache of it), and the
models that fill it. Commands open a Library and call one method or one service function on it."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session, sessionmaker

from indexer.config import Config, downloads_dir
from indexer.db import queries
from indexer.db.session import make_engine, sqlite_file, upgrade_to_head, writing
from indexer.files import PRIVATE_FOLDER, make_private
from indexer.weights import ModelSpec, get_model

if TYPE_CHECKING:  # imported where used: `find` and `people` must start fast
    from indexer.detect import FaceDetector
    from indexer.embed import FaceEmbedder
    from indexer.vectors import VectorIndex, VectorKind

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LastRun:
    started_at: datetime
    finished_at: datetime | None
    status: str
    summary: dict[str, Any] | None


@dataclass(frozen=True)
class LibraryStatus:
    """Counts, as ``indexer status`` shows them. ``vectors`` is what the FAISS file of the configured
    model holds, so a mismatch with ``faces`` shows."""

    photos: int
    faces: int
    people: int
    labelled_faces: int
    vectors: int
    errors: int
    last_run: LastRun | None
    trained_at: datetime | None  # when `indexer train` last ran for the configured model
    trained_people: int  # how many people it learnt


def keep_private(config: Config, database: Path | None) -> None:
    """Face embeddings and names are biometric data: the data folder, the database (and the ``-wal`` and
    ``-shm`` files beside it, and its backups), the vector files and classifiers are made readable by
    their owner only, whatever their modes were; a warning says what had to change (once: it stays so)."""
    data_dir = config.storage.data_dir
    paths = [data_dir, *sorted(data_dir.iterdir())]
    for folder in (data_dir / "vectors", data_dir / "classifiers"):
        if folder.is_dir():
            paths += sorted(folder.iterdir())
    if database is not None and database.parent != data_dir and database.parent.is_dir():
        paths += sorted(p for p in database.parent.iterdir() if p.name.startswith(database.name))
    changed = [path for path in paths if make_private(path)]
    if changed:
        log.warning("made %d file(s) and folder(s) of the index readable by their owner only (faces and names "
                    "are private), e.g. %s", len(changed), changed[0])


class Library:
    """One configured face index. Opening it creates or upgrades the database schema.

    ``detector`` and ``embedder`` replace the real models (tests use small fakes); by default they are
    built on first use, and TensorFlow is imported only then.
    """

    def __init__(self, config: Config, detector: FaceDetector | None = None, embedder: FaceEmbedder | None = None):
        self.config = config
        config.storage.data_dir.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
        self.engine = make_engine(config.storage.url)
        keep_private(config, sqlite_file(self.engine.url))
        upgrade_to_head(self.engine)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._writer_sessions = sessionmaker(writing(self.engine), expire_on_commit=False)
        self._detector = detector
        self._embedder = embedder

    @property
    def model(self) -> ModelSpec:
        """The configured embedding model."""
        return get_model(self.config.embedding.model)

    def session(self) -> Session:
        """A session for reading (or for a transaction begun on it by hand)."""
        return self.sessions()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One write transaction: committed when the block ends, rolled back on an error. What it reads
        stays true until it commits (on SQLite it holds the write lock from the start), so a change read,
        checked and written in it cannot undo another process's change made in between."""
        with self._writer_sessions() as session, session.begin():
            yield session

    def detector(self) -> FaceDetector:
        if self._detector is None:
            from indexer.detect import MtcnnDetector

            self._detector = MtcnnDetector(self.config.detection)
        return self._detector

    def embedder(self) -> FaceEmbedder:
        """The configured embedder; its weights are verified (and fetched when missing) here, before any work."""
        if self._embedder is None:
            from indexer.embed import FacenetEmbedder
            from indexer.weights import verified_weights

            path = verified_weights(self.model, self.config.embedding.models_dir, downloads_dir())
            self._embedder = FacenetEmbedder(self.model, path, self.config.embedding.batch_size)
        return self._embedder

    def vectors_path(self, model_name: str) -> Path:
        return self.config.storage.vectors_dir / f"{model_name}.faiss"

    def vector_kind(self, faces: int, current: str | None = None) -> VectorKind:
        """Which kind of index ``faces`` faces get: exact up to ``[search] approximate_above``, hnsw above;
        an hnsw index stays hnsw until the count falls below half of that (no rebuilding back and forth)."""
        from indexer.vectors import VectorKind

        limit = self.config.search.approximate_above
        if current == VectorKind.HNSW and faces >= limit // 2:
            return VectorKind.HNSW
        return VectorKind.HNSW if faces > limit else VectorKind.EXACT

    def checked_vectors(self, model: str, dimensions: int) -> VectorIndex:
        """The FAISS index of ``model``'s faces, checked against the database: read from its file, and
        rebuilt from the database — and written — when the file is missing, damaged, holds other ids than
        the database (after a crash, say), is of the wrong kind for its size, or is a graph whose removed
        faces (tombstones) have grown past ``vectors.REBUILD_WHEN_DELETED`` of it."""
        import numpy as np

        from indexer.vectors import REBUILD_WHEN_DELETED, VectorIndex

        path = self.vectors_path(model)
        candidates = self.config.search.candidates
        index = VectorIndex.read(path, dimensions, candidates)
        with self.session() as session:
            expected = queries.face_ids(session, model)
            kind = self.vector_kind(len(expected), index.kind if index is not None else None)
            if index is None and len(expected) == 0:
                return VectorIndex.empty(dimensions, kind, candidates)
            if index is None:
                why = "was missing or unreadable"
            elif index.kind != kind:
                why = f"was {index.kind}"
            elif index.deleted_share > REBUILD_WHEN_DELETED:
                why = f"held {index.deleted_share:.0%} removed faces"
            elif not np.array_equal(np.sort(index.ids()), expected):
                why = f"held {len(index)} vectors"
            else:
                return index
            log.info("building the %s vector index of %s from the database (%d faces; the file %s)",
                     kind, model, len(expected), why)
            index = VectorIndex.empty(dimensions, kind, candidates)
            for ids, vectors in queries.embeddings(session, model, dimensions):
                index.add(ids, vectors)
        index.save(path)
        return index

    def vector_count(self) -> int:
        """How many vectors the configured model's FAISS file holds (0 when there is no file)."""
        from indexer.vectors import VectorIndex

        index = VectorIndex.read(self.vectors_path(self.model.name), self.model.dimensions)
        return 0 if index is None else len(index)

    def similar_faces(self, face_id: int, limit: int) -> list[tuple[int, float]]:
        """The ``limit`` faces nearest to face ``face_id`` (same model), nearest first: (face id, L2
        distance 0–2). Raises IndexerError when there is no such face."""
        import numpy as np

        from indexer.errors import IndexerError

        with self.session() as session:
            found = queries.face_vector(session, face_id)
        if found is None:
            raise IndexerError(f"no face with id {face_id}")
        model, vector = found
        spec = get_model(model)
        index = self.checked_vectors(model, spec.dimensions)
        distances, ids = index.search(np.frombuffer(vector, dtype="<f4")[None, :], limit + 1)
        return [(int(i), round(float(d), 4)) for i, d in zip(ids[0], distances[0], strict=True) if i >= 0 and i != face_id][:limit]

    def status(self) -> LibraryStatus:
        with self.session() as session:
            counts = queries.counts(session)
            run = queries.last_run(session)
            training = queries.last_training(session, self.model.name)
        last_run = run and LastRun(run.started_at, run.finished_at, run.status, run.summary)
        return LibraryStatus(
            photos=counts.photos,
            faces=counts.faces,
            people=counts.people,
            labelled_faces=counts.labelled_faces,
            vectors=self.vector_count(),
            errors=counts.errors,
            last_run=last_run,
            trained_at=training.created_at if training else None,
            trained_people=len(training.people) if training else 0,
        )
