"""The questions of `indexer find` and `people --with` at real size, and what dating an index costs, run by
hand (about five minutes):

    .venv/bin/python bench/queries.py [--faces 1000000]

1. A synthetic index (SQLite, in a throw-away data folder): 1 000 000 faces in 300 000 photos taken
   2000–2025, 5 000 people (a few with thousands of faces, most with a few dozen: Zipf-like), a family of
   three shown together in 1 500 photos, a fifth of the faces unnamed. Each command runs in a new process
   (`python -m indexer`, as a user runs it), the median of 9, against the floor the goal is set by: a bare
   Python process running one indexed SQLite query of the same size (the photos of one person of the three,
   `SELECT photo_id FROM faces WHERE person_id = ?`). Goals: `find` with three names and a date range in
   at most 8× the floor (today's one-name `find` is ~4.5×: docs/performance.md), `people --with` in at
   most 1 s.
2. Dating: 2 000 JPEGs (copies of the sample library's photos, with EXIF dates written by Pillow, and a
   12-megapixel one) held by an index not dated yet, dated by the pass a run makes (indexing.dating: the
   headers read, the sidecars looked for, the dates written), per photo. Goal: at most 2 ms a photo.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from commands import clean_environment, number_option  # noqa: E402

REPEAT = 9  # runs of each command: the median is shown (a cold start varies by ±0.05 s here)
FAMILY = (10, 11, 12)  # person ids of the three shown together: among the most photographed, not the top


def build(data_dir: Path, faces: int) -> dict:
    """The synthetic index of part 1; returns the names asked about and sizes."""
    from indexer.config import load_config
    from indexer.library import Library

    os.environ["INDEXER_DATA_DIR"] = str(data_dir)
    Library(load_config(None)).engine.dispose()  # the schema, made by the migrations
    rng = np.random.default_rng(0)
    photos = faces * 3 // 10
    people = 5000
    start = datetime(2000, 1, 1)
    taken = [start + timedelta(seconds=int(s)) for s in rng.integers(0, 26 * 365 * 86400, size=photos)]
    # Who each face is: Zipf-like over the people, a fifth unnamed; the family together in 1 500 photos.
    weights = 1 / np.arange(1, people + 1) ** 0.8
    owners = rng.choice(people, size=faces, p=weights / weights.sum()) + 1
    owners[rng.random(faces) < 0.2] = 0
    photo_of = np.sort(rng.integers(0, photos, size=faces)) + 1
    together = rng.choice(photos, size=1500, replace=False) + 1
    extra = [(int(photo), person) for photo in together for person in FAMILY]
    now = "2026-12-01 00:00:00"
    embedding = bytes(512)
    with sqlite3.connect(data_dir / "indexer.db") as db:
        db.executemany("INSERT INTO photos (id, path, size, mtime_ns, width, height, indexed_at, content_hash, taken_at, "
                       "taken_from) VALUES (?, ?, 3000000, 0, 4000, 3000, ?, ?, ?, 'exif')",
                       [(i + 1, f"/photos/{taken[i]:%Y}/{i // 500:03d}/IMG_{i:06d}.jpg", now, f"{i:064x}",
                         taken[i].strftime("%Y-%m-%d %H:%M:%S.000000")) for i in range(photos)])
        db.executemany("INSERT INTO people (id, name, created_at) VALUES (?, ?, ?)",
                       [(i, f"Person {i:04d}", now) for i in range(1, people + 1)])
        rows = [(int(photo), int(owner) or None) for photo, owner in zip(photo_of, owners, strict=True)] + extra
        db.executemany(
            "INSERT INTO faces (photo_id, box_x, box_y, box_w, box_h, detection, landmarks, embedding, embedding_model, "
            "person_id, label_source, label_score, created_at, origin) "
            "VALUES (?, 100, 500, 300, 300, 0.99, '{}', ?, 'facenet-keras', ?, ?, ?, ?, 'detected')",
            [(photo, embedding, person, "auto" if person else None, 0.9 if person else None, now) for photo, person in rows])
        family = [db.execute("SELECT count(DISTINCT photo_id) FROM faces WHERE person_id = ?", (p,)).fetchone()[0] for p in FAMILY]
    return {"names": [f"Person {p:04d}" for p in FAMILY], "photos": photos, "faces": len(rows), "family_photos": family}


def median_seconds(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    times, out = [], ""
    for _ in range(REPEAT):
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, env=env)
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            sys.exit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr}")
        out = done.stdout
    return statistics.median(times), out


def part_one(faces: int) -> None:
    with tempfile.TemporaryDirectory(prefix="indexer-bench-queries-") as folder:
        data_dir, began = Path(folder), time.perf_counter()
        sizes = build(data_dir, faces)
        print(f"synthetic index: {sizes['faces']} faces in {sizes['photos']} photos, 5000 people; the three asked about "
              f"are in {sizes['family_photos']} photos each ({time.perf_counter() - began:.0f} s to build)")
        env = clean_environment(data_dir)
        indexer = [sys.executable, "-m", "indexer", "-q"]
        query = (f"import sqlite3; sqlite3.connect({str(data_dir / 'indexer.db')!r}).execute("
                 f"'SELECT photo_id FROM faces WHERE person_id = ?', ({FAMILY[0]},)).fetchall()")
        floor, _ = median_seconds([sys.executable, "-c", query], env)
        print(f"floor: python, one indexed SQLite query ({sizes['family_photos'][0]} rows)   {floor:6.2f} s")
        a, b, c = sizes["names"]
        questions = {
            "find A (today's question)": ["find", a],
            "find A B C --from 2010 --to 2015": ["find", a, b, c, "--from", "2010", "--to", "2015"],
            "find A B C --from 2010 --to 2015 --json": ["find", a, b, c, "--from", "2010", "--to", "2015", "--json"],
            "find A B --only": ["find", a, b, "--only"],
            "find A --not B --year 2019": ["find", a, "--not", b, "--year", "2019"],
            "find --faces 0 --year 2019 (no name)": ["find", "--faces", "0", "--year", "2019"],
            "find A --in /photos/2019/": ["find", a, "--in", "/photos/2019/"],
            "people --with A": ["people", "--with", a],
            "people (with the years seen)": ["people"],
        }
        for name, args in questions.items():
            seconds, out = median_seconds(indexer + args, env)
            print(f"{name:<42} {seconds:6.2f} s  {seconds / floor:5.1f}× the floor  ({len(out.splitlines())} lines)")


def part_two(count: int = 2000) -> None:
    from PIL import Image

    from indexer.config import load_config
    from indexer.indexing.dating import date_photos
    from indexer.library import Library
    from indexer.sample import cached_sample_library

    sample = cached_sample_library()
    sources = sample.photos("train") + sample.photos("val")
    with tempfile.TemporaryDirectory(prefix="indexer-bench-dating-") as folder:
        root = Path(folder) / "photos"
        root.mkdir()
        exif = Image.Exif()
        exif.get_ifd(0x8769)[0x9003] = "2019:06:01 14:03:07"
        exif.get_ifd(0x8769)[0x9011] = "+02:00"
        dated = []
        for k, source in enumerate(sources):
            with Image.open(source) as image:
                target = root / f"source-{k:03d}.jpg"
                image.convert("RGB").save(target, quality=90, exif=exif)
                dated.append(target)
        with Image.open(sources[0]) as image:  # and a 12-megapixel photo
            image.convert("RGB").resize((4000, 3000)).save(root / "big.jpg", quality=90, exif=exif)
        dated.append(root / "big.jpg")
        paths = []
        for k in range(count):
            target = root / f"{k // 100:02d}" / f"IMG_{k:05d}.jpg"
            target.parent.mkdir(exist_ok=True)
            shutil.copy(dated[k % len(dated)], target)
            paths.append(target)
        os.environ["INDEXER_DATA_DIR"] = str(Path(folder) / "data")
        library = Library(load_config(None))
        now = "2026-12-01 00:00:00"
        with sqlite3.connect(Path(folder) / "data" / "indexer.db") as db:
            db.executemany("INSERT INTO photos (path, size, mtime_ns, width, height, indexed_at) VALUES (?, 1, ?, 1, 1, ?)",
                           [(str(path), path.stat().st_mtime_ns, now) for path in paths])
        start = time.perf_counter()
        done = date_photos(library, bars_disabled=True)
        seconds = time.perf_counter() - start
        print(f"dating {done.dated} photos not dated yet (files in the page cache): {seconds:.2f} s, "
              f"{1000 * seconds / done.dated:.2f} ms a photo (ignored {done.ignored}, unread {done.unread})")


def main() -> None:
    faces = number_option(__doc__, "--faces", 1_000_000, "faces in the synthetic index of part 1")
    part_one(faces)
    part_two()


if __name__ == "__main__":
    main()
