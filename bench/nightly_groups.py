"""The nightly run's fixed cost of the clusters, run by hand (about a minute):

    .venv/bin/python bench/nightly_groups.py [FACES]

A synthetic index in a throw-away data folder: FACES (default 100 000) unnamed faces of 20 000 people,
five faces a photo. Then ``naming.clusters.refresh`` as the end of `indexer index` calls it: the first
time (a full grouping), again with nothing changed, after 100 new faces (joined to their groups), and
after enough new faces to call for a full grouping again (more than FULL_REGROUP_SHARE of the faces).
Prints the seconds of each and what it did.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

PEOPLE = 20_000


def add_faces(data_dir: Path, library, rng, centres: np.ndarray, count: int, first_photo: int) -> None:
    """``count`` new unnamed faces (five a photo, photos from ``first_photo`` on) of the people of
    ``centres``, in the database and the vector file, as an index run leaves them."""
    model = library.model
    who = rng.integers(0, len(centres), count)
    vectors = centres[who] + 0.06 * rng.normal(size=(count, model.dimensions))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype("<f4")
    now = "2026-12-01 00:00:00"
    photos = -(-count // 5)
    with sqlite3.connect(data_dir / "indexer.db") as db:
        db.executemany("INSERT INTO photos (id, path, size, mtime_ns, width, height, indexed_at) VALUES (?, ?, 1, 0, 4000, 3000, ?)",
                       [(first_photo + i, f"/photos/IMG_{first_photo + i:07d}.jpg", now) for i in range(photos)])
        start = db.execute("SELECT coalesce(max(id), 0) FROM faces").fetchone()[0] + 1
        db.executemany(
            "INSERT INTO faces (photo_id, box_x, box_y, box_w, box_h, detection, landmarks, embedding, embedding_model, created_at, origin) "
            "VALUES (?, ?, 500, 300, 300, 0.99, '{}', ?, ?, ?, 'detected')",
            [(first_photo + k // 5, 100 + 700 * (k % 5), vectors[k].tobytes(), model.name, now) for k in range(count)])
    library.change_vectors(added=(list(range(start, start + count)), vectors))


def main() -> None:
    from indexer.config import load_config
    from indexer.library import Library
    from indexer.naming.clusters import FULL_REGROUP_SHARE, refresh

    faces = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    with tempfile.TemporaryDirectory(prefix="indexer-bench-groups-") as folder:
        os.environ["INDEXER_DATA_DIR"] = folder
        library = Library(load_config(None))
        rng = np.random.default_rng(0)
        centres = rng.normal(size=(PEOPLE, library.model.dimensions))
        centres /= np.linalg.norm(centres, axis=1, keepdims=True)
        add_faces(Path(folder), library, rng, centres, faces, 1)
        library.checked_vectors(library.model.name, library.model.dimensions)  # the vector file, as after a run
        photo = faces // 5 + 1

        def timed(label: str) -> None:
            start = time.perf_counter()
            summary = refresh(library)
            print(f"{label:<52}{time.perf_counter() - start:7.2f} s  {summary.how}: {summary.faces} faces in "
                  f"{summary.clusters} groups, of {summary.unnamed} unnamed", flush=True)

        print(f"{faces} unnamed faces of {PEOPLE} people; a full grouping again beyond {FULL_REGROUP_SHARE:.0%} new faces")
        timed("first refresh (nothing grouped yet)")
        timed("a night that added nothing")
        add_faces(Path(folder), library, rng, centres, 100, photo)
        timed("a night that added 100 faces")
        add_faces(Path(folder), library, rng, centres, int(FULL_REGROUP_SHARE * faces), photo + 20)
        timed(f"a night that added {int(FULL_REGROUP_SHARE * faces)} more")


if __name__ == "__main__":
    main()
