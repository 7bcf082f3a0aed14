"""How long the gallery takes to make and to refresh, against the nightly run it follows, run by hand:

    .venv/bin/python bench/gallery.py [--copies 75]

In a throw-away data folder: indexes the sample library (118 celebrity photos, the group photo; nobody
named, so their faces form clusters), enrolls the 93 train photos and trains (so faces are named), then
multiplies the index: `--copies` more folders holding the same photo files (hard links) and, in the
database, the same faces with the same names and clusters (75 copies: ~10 000 faces in ~9 000 photos,
~1 900 faces on each person's pages). Then, each a new process through the real command:
1. the first `indexer gallery` (every thumbnail, preview and page);
2. a refresh with nothing changed;
3. two nightly runs, each adding 100 new photos and indexed by `indexer index`, then the gallery
   refreshed: first the sample's own small portraits re-encoded (the worst case for the ratio: quick to
   index), then 12-megapixel photos made from them (as bench/speed.py makes them); prints both times and
   their ratio (goal: a small fraction), and the pages, pictures and files each refresh wrote or removed.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from indexer.sample import cached_sample_library, composite_photo

from commands import indexer_in, number_option


def main() -> None:
    copies = number_option(__doc__, "--copies", 75, "copies of the sample library in the index (default 75)")
    sample = cached_sample_library()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        indexer = indexer_in(tmp / "data")

        library = tmp / "library"
        shutil.copytree(sample.root, library / "original", ignore=shutil.ignore_patterns(".complete"))
        indexer("index", str(library))
        indexer("enroll", "--folders", str(library / "original" / "celebrities" / "train"))
        indexer("train")
        faces = _multiply(tmp / "data" / "indexer.db", library, copies)
        print(f"index: {faces} faces")

        site = tmp / "site"
        for label in ("first gallery", "refresh, nothing changed"):
            seconds, out = indexer("gallery", str(site), "--json")
            print(f"{label}: {seconds:.1f} s  {_counts(json.loads(out))}")

        portraits = sample.photos("train") + sample.photos("val")
        small = tmp / "new-small"
        small.mkdir()
        for number, photo in enumerate(portraits[:100]):
            with Image.open(photo) as image:  # other bytes, so a new photo, not a copy of a known one
                image.convert("RGB").save(small / f"{number}.jpg", quality=90)
        large = tmp / "new-12mp"
        large.mkdir()
        rng = np.random.default_rng(0)
        for number in range(100):  # 4000×3000, three faces pasted on a blown-up portrait (as bench/speed.py)
            pasted = [portraits[(3 * number + slot) % len(portraits)] for slot in range(3)]
            composite_photo(portraits[(number + 7) % len(portraits)], pasted, [90, 160, 320], (4000, 3000), rng,
                            large / f"{number}.jpg", blur=2)
        for label, folder in (("100 small photos (~275 px)", small), ("100 photos of 12 MP", large)):
            folder.rename(library / folder.name.replace("new", "added"))  # found by this run only
            run_seconds, _ = indexer("index", str(library))
            refresh_seconds, out = indexer("gallery", str(site), "--json")
            print(f"nightly run adding {label}: index {run_seconds:.1f} s, then gallery {refresh_seconds:.1f} s "
                  f"({refresh_seconds / run_seconds:.2f} of the run)  {_counts(json.loads(out))}")


def _multiply(database: Path, library: Path, copies: int) -> int:
    """Add ``copies`` copies of every photo (hard links in library/copy-N) and its faces to the database."""
    with sqlite3.connect(database) as db:
        photos = db.execute("SELECT id, path FROM photos WHERE error IS NULL").fetchall()
        photo_columns = [c[1] for c in db.execute("PRAGMA table_info(photos)") if c[1] != "id"]
        face_columns = [c[1] for c in db.execute("PRAGMA table_info(faces)") if c[1] not in ("id", "photo_id")]
        original = library / "original"
        for copy in range(1, copies + 1):
            for photo_id, path in photos:
                target = library / f"copy-{copy}" / Path(path).relative_to(original) if path.startswith(str(original)) else None
                if target is None:
                    continue  # an enrolled photo outside the library
                target.parent.mkdir(parents=True, exist_ok=True)
                os.link(path, target)
                values = db.execute(f"SELECT {', '.join(photo_columns)} FROM photos WHERE id = ?", (photo_id,)).fetchone()
                row = dict(zip(photo_columns, values)) | {"path": str(target)}
                new_id = db.execute(f"INSERT INTO photos ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                                    list(row.values())).lastrowid
                db.execute(f"INSERT INTO faces (photo_id, {', '.join(face_columns)}) SELECT ?, {', '.join(face_columns)} "
                           "FROM faces WHERE photo_id = ?", (new_id, photo_id))
        return db.execute("SELECT count(*) FROM faces").fetchone()[0]


def _counts(report: dict) -> str:
    return (f"pages written {report['pages_written']}, unchanged {report['pages_unchanged']}; "
            f"thumbnails {report['thumbnails_made']}, previews {report['previews_made']}; removed {report['removed']}")


if __name__ == "__main__":
    main()
