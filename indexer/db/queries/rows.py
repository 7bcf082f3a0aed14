"""Helpers of the query modules: which faces have no name, reading many rows in bounded memory, and turning
stored ids and embeddings into numpy arrays."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from sqlalchemy import Row, Select, text
from sqlalchemy.orm import Session

from indexer.db.face_rows import UNNAMED

if TYPE_CHECKING:  # numpy is imported where used: `find` and `people` must start fast
    import numpy as np


def unnamed() -> tuple:
    """The conditions of a face with no name at all (``db.face_rows.UNNAMED``, the one spelling): neither by
    hand nor by recognition, and not cleared by hand."""
    return (text(UNNAMED),)


def in_id_order(session: Session, query: Select, id_column, chunk: int) -> Iterator[list[Row]]:
    """The rows of ``query`` by ``id_column``, ``chunk`` at a time (keyset pagination: each chunk starts
    after the last id of the one before), so memory stays bounded however many rows there are."""
    last_id = 0
    while True:
        rows = session.execute(query.where(id_column > last_id).order_by(id_column).limit(chunk)).all()
        if not rows:
            return
        yield rows
        last_id = rows[-1][0]


def int64_array(values: Iterable[int]) -> np.ndarray:
    import numpy as np

    values = list(values)
    return np.fromiter(values, dtype=np.int64, count=len(values))


def vector_array(blobs: list[bytes], dimensions: int) -> np.ndarray:
    """Stored embeddings (float32, little-endian) as one (n, dimensions) array."""
    import numpy as np

    return np.frombuffer(b"".join(blobs), dtype="<f4").reshape(len(blobs), dimensions)
