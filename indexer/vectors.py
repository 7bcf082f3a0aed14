"""FAISS vectors keyed by face id: a cache of the embeddings stored in the database.

One file per embedding model, so faces from different models are never compared. The file is
replaced atomically; when it is missing, damaged or disagrees with the database it is rebuilt
from the database (see ``Library.vectors``).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import faiss
import numpy as np


class VectorIndex:
    """Exact L2 search over unit vectors (``IndexIDMap2`` over ``IndexFlatL2``), ids = face ids.

    Memory: 4 × dimensions bytes per face plus 8 for its id (520 bytes at 128-d).
    """

    def __init__(self, dimensions: int, index: faiss.Index | None = None):
        if index is not None and index.d != dimensions:
            raise ValueError(f"index has {index.d} dimensions, expected {dimensions}")
        self.dimensions = dimensions
        self._index = index if index is not None else faiss.IndexIDMap2(faiss.IndexFlatL2(dimensions))

    @classmethod
    def read(cls, path: Path, dimensions: int) -> VectorIndex | None:
        """The index saved at ``path``; None when there is none or it cannot be used."""
        if not path.is_file():
            return None
        try:
            index = faiss.read_index(str(path))
        except RuntimeError:
            return None
        if index.d != dimensions or not isinstance(index, faiss.IndexIDMap2):
            return None
        return cls(dimensions, index)

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def ids(self) -> np.ndarray:
        """The face ids held, as int64, in insertion order."""
        return faiss.vector_to_array(self._index.id_map).astype(np.int64)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add float32 vectors of shape (n, dimensions) under the int64 ``ids``."""
        if len(ids) == 0:
            return
        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dimensions)
        self._index.add_with_ids(vectors, np.ascontiguousarray(ids, dtype=np.int64))

    def remove(self, ids) -> int:
        """Remove these ids (missing ones are ignored); returns how many were removed."""
        ids = np.ascontiguousarray(list(ids), dtype=np.int64)
        if len(ids) == 0:
            return 0
        return int(self._index.remove_ids(faiss.IDSelectorBatch(ids)))

    def search(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` nearest faces of each query: (L2 distances, face ids), each of shape (n, k);
        id −1 where there are fewer than ``k`` faces. For unit vectors the distance is 0–2."""
        queries = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dimensions)
        squared, ids = self._index.search(queries, k)
        return np.sqrt(np.maximum(squared, 0)), ids

    def save(self, path: Path) -> None:
        """Write to ``path`` atomically: a reader sees the old file or the new one, never half of one."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        os.close(fd)
        try:
            faiss.write_index(self._index, tmp_name)
            with open(tmp_name, "rb") as written:
                os.fsync(written.fileno())
            os.replace(tmp_name, path)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
