"""Throughput of `indexer index` with a Dask scheduler's workers reading the photos, run by hand:

    .venv/bin/python bench/dask_run.py [--photos 40]

Makes 12-megapixel photos from the sample's portraits (as bench/speed.py does: three faces pasted on a
blown-up portrait) and indexes them into throw-away data folders through the real command: locally,
then with `--scheduler` on a distributed.LocalCluster of 1 and of 2 worker processes × 1 thread, all on
this 2-core machine. Prints photos per second for each, the scaling from 1 to 2 workers (efficiency:
speed-up / 2), and the coordinator's own CPU time per photo (the `indexer index` process alone: its
CPU for the run, less its CPU for a run that found nothing new, over the photos).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from indexer.sample import cached_sample_library, composite_photo

from commands import clean_environment


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=int, default=40)
    args = parser.parse_args()
    from distributed import LocalCluster

    sample = cached_sample_library()
    portraits = sample.photos("train") + sample.photos("val")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        library = tmp / "library"
        library.mkdir()
        rng = np.random.default_rng(0)
        for number in range(args.photos):
            pasted = [portraits[(3 * number + slot) % len(portraits)] for slot in range(3)]
            composite_photo(portraits[(number + 7) % len(portraits)], pasted, [90, 160, 320], (4000, 3000), rng,
                            library / f"{number:03d}.jpg", blur=2)

        def index(data: str, *extra: str) -> tuple[float, float, dict]:
            """(wall seconds, the command's own CPU seconds, its summary)."""
            env = clean_environment(tmp / data)
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "indexer", "-q", "index", str(library), "--json", *extra],
                                  capture_output=True, text=True, env=env)
            seconds = time.perf_counter() - start
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if done.returncode != 0:
                sys.exit(done.stderr)
            cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
            return seconds, cpu, json.loads(done.stdout)

        local_seconds, _, local = index("local")
        print(f"local (one process, 2 cores): {args.photos / local_seconds:.2f} photos/s ({local_seconds:.1f} s, start-up included)")
        speeds = {}
        for workers in (1, 2):
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
            try:
                address = cluster.scheduler_address
                seconds, cpu, summary = index(f"cluster-{workers}", "--scheduler", address)
                _, idle_cpu, _ = index(f"cluster-{workers}", "--scheduler", address)  # nothing new: start-up, scan, plan
            finally:
                cluster.close()
            assert summary["faces_added"] == local["faces_added"], (summary, local)
            speeds[workers] = args.photos / seconds
            print(f"{workers} worker(s) × 1 thread: {speeds[workers]:.2f} photos/s ({seconds:.1f} s); "
                  f"coordinator CPU {1000 * (cpu - idle_cpu) / args.photos:.0f} ms a photo")
        print(f"1 → 2 workers: {speeds[2] / speeds[1]:.2f}× (efficiency {speeds[2] / speeds[1] / 2:.0%}; "
              "the coordinator and both workers share this machine's 2 cores)")


if __name__ == "__main__":
    main()
