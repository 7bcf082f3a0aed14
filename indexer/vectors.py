"""FAISS vectors keyed by face id: a cache of the embeddings stored in the database.

One file per embedding model, so faces from different models are never compared. The file is
replaced atomically; when it is missing, damaged or disagrees with the database it is rebuilt
from the database (see ``Library.vectors``).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import faiss
import numpy as np

from indexer.files import atomic_file


class VectorKind(StrEnum):
    EXACT = "exact"  # every query compared with every face
    IVF = "ivf"  # approximate: the faces split into k-means cells, a query looks into the nearest few


TRAINING_PER_CELL = 40  # vectors per cell the k-means of an ivf index is trained on (FAISS asks for 30–256)


def ivf_cells(faces: int) -> int:
    """How many cells an ivf index of ``faces`` faces gets: about 4 √faces, 64–65536."""
    return int(min(65536, max(64, 4 * np.sqrt(faces))))


class VectorIndex:
    """L2 search over unit vectors keyed by face id, of one of two kinds:

    - ``exact``: ``IndexIDMap2`` over ``IndexFlatL2``; every query compares with every face. Memory:
      4 × dimensions bytes per face plus its id (about 530 bytes at 128-d). 1 million faces: ~20 ms a query.
    - ``ivf``: ``IndexIVFFlat``, the faces split into ``nlist`` k-means cells and a query looking into the
      ``probes`` nearest cells only; approximate (recall measured by bench/search_scale.py), for libraries
      above ``[search] approximate_above`` faces. Same memory per face, plus the cell centres.
    """

    def __init__(self, dimensions: int, index: faiss.Index | None = None, probes: int = 32):
        if index is not None and index.d != dimensions:
            raise ValueError(f"index has {index.d} dimensions, expected {dimensions}")
        self.dimensions = dimensions
        self._index = index if index is not None else faiss.IndexIDMap2(faiss.IndexFlatL2(dimensions))
        self.set_probes(probes)

    def set_probes(self, probes: int) -> None:
        """How many cells an ivf query looks into (more: slower, nearer to exact)."""
        self.probes = probes
        if self.kind == VectorKind.IVF:
            self._index.nprobe = probes

    @property
    def kind(self) -> VectorKind:
        return VectorKind.IVF if isinstance(self._index, faiss.IndexIVFFlat) else VectorKind.EXACT

    def describe(self) -> str:
        if self.kind == VectorKind.IVF:
            return f"ivf ({self._index.nlist} cells, {self._index.nprobe} probed)"
        return VectorKind.EXACT

    @classmethod
    def build(cls, dimensions: int, kind: str, ids: np.ndarray, vectors: np.ndarray, probes: int = 32) -> VectorIndex:
        """A new index of ``kind`` holding ``vectors`` (n, dimensions) under ``ids``. An ``ivf`` index is
        trained on (a sample of) the vectors given, so give it all of them, or a fair sample first."""
        if kind == VectorKind.EXACT:
            index = cls(dimensions)
        else:
            nlist = ivf_cells(len(vectors))
            cell_index = faiss.IndexIVFFlat(faiss.IndexFlatL2(dimensions), dimensions, nlist, faiss.METRIC_L2)
            sample = vectors
            if len(vectors) > TRAINING_PER_CELL * nlist:
                chosen = np.random.default_rng(0).choice(len(vectors), TRAINING_PER_CELL * nlist, replace=False)
                sample = vectors[np.sort(chosen)]
            cell_index.train(np.ascontiguousarray(sample, dtype=np.float32))
            index = cls(dimensions, cell_index, probes)
        index.add(ids, vectors)
        return index

    @classmethod
    def read(cls, path: Path, dimensions: int, probes: int = 32) -> VectorIndex | None:
        """The index saved at ``path``; None when there is none or it cannot be used."""
        if not path.is_file():
            return None
        try:
            index = faiss.read_index(str(path))
        except RuntimeError:
            return None
        if index.d != dimensions or not isinstance(index, faiss.IndexIDMap2 | faiss.IndexIVFFlat):
            return None
        return cls(dimensions, index, probes)

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def ids(self) -> np.ndarray:
        """The face ids held, as int64 (exact: in insertion order; ivf: cell by cell)."""
        if self.kind == VectorKind.EXACT:
            return faiss.vector_to_array(self._index.id_map).astype(np.int64)
        lists = self._index.invlists
        parts = [
            faiss.rev_swig_ptr(lists.get_ids(cell), lists.list_size(cell)).copy()
            for cell in range(self._index.nlist)
            if lists.list_size(cell)
        ]
        return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, dtype=np.int64)

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
        with atomic_file(path) as tmp_name:
            faiss.write_index(self._index, tmp_name)
