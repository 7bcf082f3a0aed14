"""The face index on disk: the database (the truth), the FAISS vectors (a cache of it), and the
models that fill it. Commands open a Library and call one method or one service function on it."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from indexer.config import Config
from indexer.db import queries
from indexer.db.session import make_engine, upgrade_to_head, writing
from indexer.db.urls import sqlite_file
from indexer.files import PRIVATE_FOLDER, keep_private
from indexer.ids import is_id
from indexer.vision.weights import ModelSpec, get_model

if TYPE_CHECKING:  # imported where used: `find` and `people` must start fast
    import numpy as np

    from indexer.vision.detect import FaceDetector
    from indexer.vision.embed import FaceEmbedder
    from indexer.vectors.index import VectorIndex, VectorKind

log = logging.getLogger(__name__)


class Library:
    """One configured face index. Opening it creates or upgrades the database schema (a database other
    than SQLite only with ``upgrade_unsaved``: see ``db.session.upgrade_to_head``).

    ``detector`` and ``embedder`` replace the real models (tests use small fakes); by default they are
    built on first use, and TensorFlow is imported only then.
    """

    def __init__(self, config: Config, detector: FaceDetector | None = None, embedder: FaceEmbedder | None = None,
                 upgrade_unsaved: bool = False):
        self.config = config
        config.storage.data_dir.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
        self.engine = make_engine(config.storage.url)
        keep_private(config.storage.data_dir, sqlite_file(config.storage.url))
        upgrade_to_head(self.engine, upgrade_unsaved)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._writer_sessions = sessionmaker(writing(self.engine), expire_on_commit=False)
        self._detector, self._embedder = detector, embedder  # given (tests' fakes): serve whatever the threads
        # the models built, by the threads each network's run may use (None: the cores)
        self._detectors: dict[int | None, FaceDetector] = {}
        self._embedders: dict[int | None, FaceEmbedder] = {}

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

    def detector(self, threads: int | None = None) -> FaceDetector:
        """MTCNN on the configured engine (``vision.models``), built once; its ONNX files are verified
        here, before any work. ``threads``: what each network's run may use (None: the cores this process
        may use; fewer for the detector an index run's reading threads share)."""
        if self._detector is not None:
            return self._detector
        if threads not in self._detectors:
            from indexer.vision import models

            self._detectors[threads] = models.detector(self.config, threads)
        return self._detectors[threads]

    def embedder(self, threads: int | None = None) -> FaceEmbedder:
        """The configured embedder on the configured engine (``vision.models``), built once. Its ONNX file,
        or for TensorFlow its weights (fetched when missing), are verified here, before any work.
        ``threads``: as ``detector``'s."""
        if self._embedder is not None:
            return self._embedder
        if threads not in self._embedders:
            from indexer.vision import models

            self._embedders[threads] = models.embedder(self.config, threads)
        return self._embedders[threads]

    def writer_lock(self, what: str) -> AbstractContextManager[None]:
        """The lock every command that writes to the index in bulk holds (``db.lock``): ``what`` names the
        command ("index") for whoever finds it taken. AlreadyRunning when another process holds it."""
        from indexer.db.lock import writer_lock

        return writer_lock(self.config.storage.data_dir, what, self.config.storage.database_url)

    def vectors_path(self, model_name: str) -> Path:
        return self.config.storage.vectors_file(model_name)

    def vector_kind(self, faces: int, current: str | None = None) -> VectorKind:
        """Which kind of index ``faces`` faces get: exact up to ``[search] approximate_above``, hnsw above;
        an hnsw index stays hnsw until the count falls below half of that (no rebuilding back and forth)."""
        from indexer.vectors.index import VectorKind

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

        from indexer.vectors.index import REBUILD_WHEN_DELETED, VectorIndex

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

    def change_vectors(self, added: tuple[list[int], np.ndarray] | None = None, removed: list[int] = ()) -> None:
        """Keep the configured model's vector file in step with faces added (ids, vectors (n, dimensions)) or
        removed by hand (add-face, undo), once they are committed. A missing file is built from the database
        (which holds them already); one that disagrees with it otherwise is left for ``checked_vectors``."""
        import numpy as np

        from indexer.vectors.index import VectorIndex

        model = self.model
        path = self.vectors_path(model.name)
        index = VectorIndex.read(path, model.dimensions, self.config.search.candidates)
        if index is None:
            self.checked_vectors(model.name, model.dimensions)
            return
        if removed:
            index.remove(removed)
        if added is not None and len(added[0]):
            index.add(np.asarray(added[0], dtype=np.int64), added[1])
        index.save(path)

    def similar_faces(self, face_id: int, limit: int) -> list[tuple[int, float]]:
        """The ``limit`` faces nearest to face ``face_id`` (same model), nearest first: (face id, L2
        distance 0–2). Raises IndexerError when there is no such face."""
        import numpy as np

        from indexer.errors import IndexerError

        found = None
        if is_id(face_id):
            with self.session() as session:
                found = queries.face_vector(session, face_id)
        if found is None:
            raise IndexerError(f"no face with id {face_id}")
        model, vector = found
        spec = get_model(model)
        index = self.checked_vectors(model, spec.dimensions)
        distances, ids = index.search(np.frombuffer(vector, dtype="<f4")[None, :], limit + 1)
        return [(int(i), round(float(d), 4)) for i, d in zip(ids[0], distances[0], strict=True) if i >= 0 and i != face_id][:limit]

