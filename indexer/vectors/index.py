"""FAISS vectors keyed by face id: a cache of the embeddings stored in the database.

One file per embedding model, so faces from different models are never compared. The file is
replaced atomically; when it is missing, damaged or disagrees with the database it is rebuilt
from the database (see ``Library.checked_vectors``).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import faiss
import numpy as np

from indexer.files import atomic_file
from indexer.vectors.file import tombstones_path


class VectorKind(StrEnum):
    EXACT = "exact"  # every query compared with every face
    HNSW = "hnsw"  # approximate: a query walks a graph of the faces (FAISS IndexHNSWFlat)


# Graph links per face (HNSW's M): 2 × M × 4 bytes more per face than exact; 32 holds recall at 1 million.
HNSW_LINKS = 32
# Candidates kept while a face is inserted (efConstruction): the graph's quality against its build time.
HNSW_BUILD_CANDIDATES = 40
# Faces a query looks at, at most (efSearch), unless [search] candidates says otherwise: 256 finds 99.25 %
# of the exact 10 nearest at 1 million faces (bench/search_scale.py).
DEFAULT_CANDIDATES = 256
# An HNSW graph cannot drop a face: removed faces are tombstones, skipped by every search. Once they are
# this share of the graph, Library.checked_vectors builds it anew from the database.
REBUILD_WHEN_DELETED = 0.1


class VectorIndex:
    """L2 search over unit vectors keyed by face id, of one of two kinds:

    - ``exact``: ``IndexIDMap2`` over ``IndexFlatL2``; every query compares with every face. Memory:
      4 × dimensions bytes per face plus its id (about 530 bytes at 128-d). 1 million faces: ~65 ms a query.
    - ``hnsw``: ``IndexIDMap2`` over ``IndexHNSWFlat``, for libraries above ``[search] approximate_above``
      faces: a query walks a graph from face to nearer face, looking at ``candidates`` faces at most
      (efSearch); approximate: at 1 million faces, 256 candidates find 99.25 % of the exact 10 nearest in
      under 1 ms, against 65 ms for exact search (bench/search_scale.py). Faces are added one by one (no training), so a nightly run adds its new
      faces only; removed faces are tombstones that no search returns, kept in ``<file>.deleted.npy``
      beside the index until the graph is built anew. Memory: the exact kind's plus 2 × 32 links of 4
      bytes per face (about 800 bytes at 128-d).
    """

    def __init__(self, dimensions: int, index: faiss.Index | None = None, candidates: int = DEFAULT_CANDIDATES,
                 deleted: np.ndarray | None = None):
        if index is not None and index.d != dimensions:
            raise ValueError(f"index has {index.d} dimensions, expected {dimensions}")
        self.dimensions = dimensions
        self._index = index if index is not None else faiss.IndexIDMap2(faiss.IndexFlatL2(dimensions))
        self._graph = faiss.downcast_index(self._index.index)
        self._deleted = np.unique(np.asarray(deleted if deleted is not None else [], dtype=np.int64))
        self.candidates = candidates

    @classmethod
    def empty(cls, dimensions: int, kind: str = VectorKind.EXACT, candidates: int = DEFAULT_CANDIDATES) -> VectorIndex:
        if kind == VectorKind.EXACT:
            return cls(dimensions, candidates=candidates)
        graph = faiss.IndexHNSWFlat(dimensions, HNSW_LINKS)
        graph.hnsw.efConstruction = HNSW_BUILD_CANDIDATES
        return cls(dimensions, faiss.IndexIDMap2(graph), candidates)

    @property
    def kind(self) -> VectorKind:
        return VectorKind.HNSW if isinstance(self._graph, faiss.IndexHNSWFlat) else VectorKind.EXACT

    def describe(self) -> str:
        if self.kind == VectorKind.HNSW:
            return f"hnsw ({HNSW_LINKS} links, {self.candidates} candidates)"
        return VectorKind.EXACT.value

    @classmethod
    def build(cls, dimensions: int, kind: str, ids: np.ndarray, vectors: np.ndarray, candidates: int = DEFAULT_CANDIDATES) -> VectorIndex:
        """A new index of ``kind`` holding ``vectors`` (n, dimensions) under ``ids``."""
        index = cls.empty(dimensions, kind, candidates)
        index.add(ids, vectors)
        return index

    @classmethod
    def read(cls, path: Path, dimensions: int, candidates: int = DEFAULT_CANDIDATES) -> VectorIndex | None:
        """The index saved at ``path`` (with its tombstones); None when there is none or it cannot be used
        (an index of a kind this version does not make counts as unusable: it is built anew)."""
        if not path.is_file():
            return None
        try:
            index = faiss.read_index(str(path))
            deleted = np.load(tombstones_path(path)) if tombstones_path(path).is_file() else None
        except (RuntimeError, OSError, ValueError):
            return None
        if index.d != dimensions or not isinstance(index, faiss.IndexIDMap2):
            return None
        if not isinstance(faiss.downcast_index(index.index), faiss.IndexFlatL2 | faiss.IndexHNSWFlat):
            return None
        return cls(dimensions, index, candidates, deleted)

    def __len__(self) -> int:
        return int(self._index.ntotal) - len(self._deleted)

    @property
    def deleted_share(self) -> float:
        """The share of the graph that is tombstones (0 for the exact kind, which removes for real)."""
        return len(self._deleted) / self._index.ntotal if self._index.ntotal else 0.0

    def ids(self) -> np.ndarray:
        """The face ids held (tombstones left out), as int64, in insertion order."""
        held = faiss.vector_to_array(self._index.id_map).astype(np.int64)
        return held[~np.isin(held, self._deleted)] if len(self._deleted) else held

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add float32 vectors of shape (n, dimensions) under the int64 ``ids`` (new ids: face ids are
        never reused)."""
        if len(ids) == 0:
            return
        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dimensions)
        self._index.add_with_ids(vectors, np.ascontiguousarray(ids, dtype=np.int64))

    def remove(self, ids) -> int:
        """Remove these ids (missing ones are ignored); returns how many were removed."""
        ids = np.unique(np.asarray(list(ids), dtype=np.int64))
        if len(ids) == 0:
            return 0
        if self.kind == VectorKind.EXACT:
            return int(self._index.remove_ids(faiss.IDSelectorBatch(ids)))
        held = faiss.vector_to_array(self._index.id_map).astype(np.int64)
        gone = np.setdiff1d(ids[np.isin(ids, held)], self._deleted)
        self._deleted = np.union1d(self._deleted, gone)
        return len(gone)

    def search(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` nearest faces of each query: (L2 distances, face ids), each of shape (n, k);
        id −1 where there are fewer than ``k`` faces. For unit vectors the distance is 0–2. Many queries
        at once run on every core."""
        queries = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dimensions)
        if self.kind == VectorKind.EXACT:
            squared, ids = self._index.search(queries, k)
        else:
            params = faiss.SearchParametersHNSW(efSearch=max(self.candidates, k))
            if len(self._deleted):
                skipped = faiss.IDSelectorBatch(self._deleted)
                selector = faiss.IDSelectorNot(skipped)
                params.sel = selector
            squared, ids = self._index.search(queries, k, params=params)
        return np.sqrt(np.maximum(squared, 0)), ids

    def save(self, path: Path) -> None:
        """Write to ``path`` atomically, tombstones first (a reader sees the old file or the new one, never
        half of one; a crash between the two leaves a pair whose ids disagree with the database, which
        Library.checked_vectors notices and repairs)."""
        tombstones = tombstones_path(path)
        if len(self._deleted):
            with atomic_file(tombstones) as tmp_name, open(tmp_name, "wb") as out:
                np.save(out, self._deleted)
        else:
            tombstones.unlink(missing_ok=True)
        with atomic_file(path) as tmp_name:
            faiss.write_index(self._index, tmp_name)
