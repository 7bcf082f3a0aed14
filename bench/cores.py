"""The first index of a library on 1, 2, … cores, run by hand:

    .venv/bin/python bench/cores.py [--large 16] [--small 118] [--repeats 3]

Each run is `indexer index` in a new process (ONNX Runtime), into a new data folder, pinned with
`taskset -c 0..k-1` to k cores, `[index] workers` left at "auto" (so k workers: the affinity decides).
Per photo past start-up: the run's seconds less those of the same command on one photo, over the photos
but one. Large photos: 4000×3000 composites of the sample's portraits (faces of 60–640 px); small: the
sample's 118 celebrity photos (~300 px). Prints photos a second for each number of cores, the speed-up
over one core, and the peak memory of the process; then, on all the cores, the same for each --workers
(1: one photo detected at a time, its networks on every core, the next decoded meanwhile; more: that many
photos read whole at once, the cores shared among their networks).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from indexer.sample import cached_sample_library, composite_photo

from commands import clean_environment


def large_photos(folder: Path, count: int) -> list[Path]:
    sample = cached_sample_library()
    portraits = sample.photos("val") + sample.photos("train")
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    for i in range(count):
        path = folder / f"large-{i:03d}.jpg"
        composite_photo(portraits[i % len(portraits)], [portraits[(i + k) % len(portraits)] for k in range(10, 14)],
                        [60, 120, 320, 640], (4000, 3000), np.random.default_rng(i), path, blur=2)
        made.append(path)
    return made


def timed_index(folder: Path, cores: int, work: Path, extra: list[str]) -> tuple[float, int]:
    """Seconds and peak resident memory (MB) of `indexer index folder` pinned to ``cores`` cores."""
    data = work / f"data-{time.monotonic_ns()}"
    env = clean_environment(data)
    command = ["taskset", "-c", f"0-{cores - 1}", sys.executable, "-m", "indexer", "--quiet", "index", str(folder),
               "--no-progress", *extra]
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, cwd=work)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"{' '.join(command)} failed ({status})")
    shutil.rmtree(data, ignore_errors=True)
    return seconds, usage.ru_maxrss // 1024


def per_photo(photos: list[Path], cores: int, work: Path, repeats: int, extra: list[str] = ()) -> tuple[float, int]:
    """Median seconds a photo past start-up, and the largest peak memory (MB)."""
    one, many = work / "one", work / "many"
    for folder, chosen in ((one, photos[:1]), (many, photos)):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        for photo in chosen:
            os.link(photo, folder / photo.name) if photo.stat().st_dev == folder.stat().st_dev else shutil.copy2(photo, folder)
    samples, peak = [], 0
    for _ in range(repeats):
        start_up, _ = timed_index(one, cores, work, list(extra))
        whole, memory = timed_index(many, cores, work, list(extra))
        samples.append((whole - start_up) / (len(photos) - 1))
        peak = max(peak, memory)
    return float(np.median(samples)), peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", type=int, default=16)
    parser.add_argument("--small", type=int, default=118)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    available = len(os.sched_getaffinity(0))
    work = Path(tempfile.mkdtemp(prefix="indexer-cores-"))
    try:
        sets = {
            f"{args.large} photos of 12 MP": large_photos(work / "large", args.large),
            f"{args.small} small photos": (cached_sample_library().photos("val") + cached_sample_library().photos("train"))[: args.small],
        }
        for name, photos in sets.items():
            print(f"{name}:")
            base = None
            for cores in range(1, available + 1):
                seconds, peak = per_photo(photos, cores, work, args.repeats)
                base = base or seconds
                print(f"  {cores} core(s): {1 / seconds:6.2f} photos/s ({seconds * 1000:.0f} ms a photo), "
                      f"{base / seconds:.2f}× one core; peak {peak} MB")
            for workers in range(1, available + 1):
                seconds, peak = per_photo(photos, available, work, args.repeats, ["--workers", str(workers)])
                print(f"  {available} cores, --workers {workers}: {1 / seconds:6.2f} photos/s, {base / seconds:.2f}× one "
                      f"core; peak {peak} MB")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
