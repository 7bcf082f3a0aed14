"""What a FAISS file of ours holds, read from its first bytes: `indexer status` counts the vectors
without loading FAISS or numpy (the query path stays light).

Our files are an ``IndexIDMap2`` (FAISS four-character code ``IxM2``), whose header starts with the
dimensions (int32) and the number of vectors (int64, little-endian); removed faces of an HNSW graph are
tombstones, an int64 array saved by numpy beside it (``<file>.deleted.npy``), whose header holds its shape.
"""

from __future__ import annotations

import ast
import struct
from pathlib import Path

ID_MAP = b"IxM2"


def tombstones_path(path: Path) -> Path:
    """Where the removed face ids of the vector file ``path`` are kept."""
    return path.with_name(path.name + ".deleted.npy")


def stored_vectors(path: Path, dimensions: int) -> int | None:
    """Vectors in the file ``path`` that searches return (its vectors less its tombstones); 0 when there is
    no file, None when it is not a file of ours of ``dimensions``, or cannot be read."""
    try:
        with open(path, "rb") as f:
            head = f.read(16)
    except FileNotFoundError:
        return 0
    except OSError:
        return None
    if len(head) < 16 or head[:4] != ID_MAP:
        return None
    found_dimensions, total = struct.unpack("<iq", head[4:16])
    if found_dimensions != dimensions:
        return None
    removed = _saved_array_length(tombstones_path(path))
    return None if removed is None else total - removed


def _saved_array_length(path: Path) -> int | None:
    """The length of the one-dimensional array numpy saved at ``path`` (0 when there is none), from the
    .npy header; None when it cannot be read."""
    try:
        with open(path, "rb") as f:
            magic = f.read(8)
            if magic[:6] != b"\x93NUMPY":
                return None
            size_format = "<H" if magic[6] == 1 else "<I"
            (size,) = struct.unpack(size_format, f.read(struct.calcsize(size_format)))
            header = ast.literal_eval(f.read(size).decode("latin-1"))
        (length,) = header["shape"]
        return int(length)
    except FileNotFoundError:
        return 0
    except (OSError, ValueError, SyntaxError, KeyError, TypeError, IndexError):
        return None
