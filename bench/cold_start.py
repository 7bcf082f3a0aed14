"""Cold answers: how long a user waits for `who-is`, `find` and `people` in a new process, run by hand:

    .venv/bin/python bench/cold_start.py [--repeat 5]

Sets up a throw-away index as `make demo` does (the val photos and the group photo indexed, the five
people enrolled from their train folders, trained), then times each command in a new process, median of
``--repeat`` runs, against floors measured in the same run:

- `who-is` on a photo the index has not seen (the 1280×886 group photo, mirrored), once per engine,
  against a bare `python -c "import tensorflow"`;
- `find madonna` and `people`, against a bare Python process that runs one SQLite query on the index.

Also prints each command's peak memory (RSS, from /usr/bin/time).
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image, ImageOps

from indexer.vision.engines import ENGINES
from indexer.sample import cached_sample_library

from commands import clean_environment, number_option


def timed(command: list[str], env: dict[str, str]) -> tuple[float, int]:
    """(seconds, peak RSS in MB) of one run of ``command``."""
    start = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-f", "%M", *command], capture_output=True, text=True, env=env, check=True)
    return time.perf_counter() - start, int(done.stderr.strip().splitlines()[-1]) // 1024


def median_of(repeat: int, command: list[str], env: dict[str, str]) -> tuple[float, int]:
    runs = [timed(command, env) for _ in range(repeat)]
    return statistics.median(s for s, _ in runs), max(m for _, m in runs)


def main() -> None:
    repeat = number_option(__doc__, "--repeat", 5, "runs of each command (median shown)")
    sample = cached_sample_library()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        library = work / "library"
        shutil.copytree(sample.celebrities / "val", library / "val")
        shutil.copytree(sample.group_photo.parent, library / "group")
        new_photo = work / "new-group-photo.jpg"
        ImageOps.mirror(Image.open(sample.group_photo)).save(new_photo, quality=92)
        env = clean_environment(work / "data")
        indexer = [sys.executable, "-m", "indexer", "-q"]
        for command in (["index", str(library)], ["enroll", "--folders", str(sample.celebrities / "train")], ["train"]):
            subprocess.run([*indexer, *command], env=env, check=True, capture_output=True)

        tensorflow_floor, tensorflow_mb = median_of(repeat, [sys.executable, "-c", "import tensorflow"], env)
        query = f"import sqlite3; sqlite3.connect({str(work / 'data' / 'indexer.db')!r}).execute('SELECT count(*) FROM people').fetchall()"
        sqlite_floor, sqlite_mb = median_of(repeat, [sys.executable, "-c", query], env)
        print(f"floor: python -c 'import tensorflow'        {tensorflow_floor:6.2f} s  {tensorflow_mb:5d} MB")
        print(f"floor: python, one SQLite query             {sqlite_floor:6.2f} s  {sqlite_mb:5d} MB")
        for engine in ENGINES:
            config = work / f"{engine}.toml"
            config.write_text(f'[runtime]\nengine = "{engine}"\n')
            seconds, mb = median_of(repeat, [*indexer, "-c", str(config), "who-is", str(new_photo)], env)
            print(f"who-is new 1280×886 photo, {engine:<11}      {seconds:6.2f} s  {mb:5d} MB  "
                  f"{seconds / tensorflow_floor:.2f}× import tensorflow")
        for name, command in (("find madonna", ["find", "madonna"]), ("people", ["people"])):
            seconds, mb = median_of(repeat, [*indexer, *command], env)
            print(f"{name:<43}{seconds:6.2f} s  {mb:5d} MB  {seconds / sqlite_floor:.1f}× one SQLite query")


if __name__ == "__main__":
    main()
