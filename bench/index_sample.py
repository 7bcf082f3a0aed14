"""Figures for the indexing run on the sample library, run by hand:

    .venv/bin/python bench/index_sample.py [--repeat N]

Prints: a first full run (start-up included), the same run again (nothing changed), and cold start
times of `indexer --help` and `indexer status`, each through the real command in a new process.
The first run's time includes loading the networks once (0.7 s on ONNX Runtime, ~3 s on TensorFlow).
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from indexer.sample import cached_sample_library

from commands import clean_environment, number_option


def timed(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
    return time.perf_counter() - start, done.stdout


def main() -> None:
    repeat = number_option(__doc__, "--repeat", 3, "runs of each cold-start command (median shown)")
    sample = cached_sample_library()
    with tempfile.TemporaryDirectory() as tmp:
        library = Path(tmp) / "library"
        shutil.copytree(sample.root, library, ignore=shutil.ignore_patterns(".complete"))
        env = clean_environment(Path(tmp) / "data")
        indexer = [sys.executable, "-m", "indexer"]

        seconds, out = timed([*indexer, "index", str(library), "--json"], env)
        first = json.loads(out)
        print(f"first run:  {first['scanned']} photos, {first['faces_added']} faces in {seconds:.1f} s "
              f"({first['scanned'] / seconds:.2f} photos/s, start-up included)")
        seconds, out = timed([*indexer, "index", str(library), "--json"], env)
        again = json.loads(out)
        print(f"second run: {again['unchanged']} unchanged, {again['faces_added']} faces added in {seconds:.2f} s")
        for name, command in [("--help", [*indexer, "--help"]), ("status", [*indexer, "status"])]:
            times = [timed(command, env)[0] for _ in range(repeat)]
            print(f"cold `indexer {name}`: {statistics.median(times):.2f} s (median of {repeat})")


if __name__ == "__main__":
    main()
