"""Nearest-neighbour search at scale, with synthetic face vectors, run by hand:

    .venv/bin/python bench/search_scale.py [--faces 1000000] [--queries 200]

The vectors imitate FaceNet's: unit length, 128-d, in clusters (one per "person", 20 faces each) whose
faces lie about 0.86 apart, as the same person's faces do on the sample library. For each kind of index
indexer uses (`VectorIndex`: exact below `[search] approximate_above` faces, IVF above it) it prints
the time to build, the bytes per face (size of the saved file / faces), the time of one query (median and
95th percentile, one query at a time, 10 neighbours), and the recall of the approximate index against the
exact one (the share of the exact 10 nearest it also returns).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from indexer.embed import l2_normalize
from indexer.vectors import VectorIndex

K = 10


def synthetic_faces(count: int, dimensions: int = 128, per_person: int = 20, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    people = max(1, count // per_person)
    centres = l2_normalize(rng.normal(size=(people, dimensions)).astype(np.float32))
    out = np.empty((count, dimensions), dtype=np.float32)
    spread = 0.86 / np.sqrt(2 * dimensions)  # same-person pairs about 0.86 apart
    for start in range(0, count, 100_000):
        n = min(100_000, count - start)
        owners = np.arange(start, start + n) // per_person % people
        out[start : start + n] = l2_normalize(centres[owners] + rng.normal(scale=spread, size=(n, dimensions)).astype(np.float32))
    return out


def timed_queries(index: VectorIndex, queries: np.ndarray) -> tuple[list[float], np.ndarray]:
    times, found = [], []
    for query in queries:
        start = time.perf_counter()
        _, ids = index.search(query[None, :], K)
        times.append(time.perf_counter() - start)
        found.append(ids[0])
    return times, np.asarray(found)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--faces", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--probes", type=int, nargs="+", default=[32, 64, 128, 256], help="ivf cells probed per query")
    args = parser.parse_args()
    vectors = synthetic_faces(args.faces)
    ids = np.arange(1, args.faces + 1, dtype=np.int64)
    queries = l2_normalize(vectors[np.random.default_rng(1).choice(args.faces, args.queries, replace=False)]
                           + np.random.default_rng(2).normal(scale=0.05, size=(args.queries, 128)).astype(np.float32))
    print(f"{args.faces} faces, {args.queries} single queries, {K} neighbours each")
    exact_ids = None
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("exact", "ivf"):
            start = time.perf_counter()
            index = VectorIndex.build(128, kind, ids, vectors)
            built = time.perf_counter() - start
            path = Path(tmp) / f"{kind}.faiss"
            index.save(path)
            per_face = path.stat().st_size / args.faces
            for probes in [None] if kind == "exact" else args.probes:
                if probes is not None:
                    index.set_probes(probes)
                times, found = timed_queries(index, queries)
                line = (f"{index.describe():<34} build {built:6.1f} s  {per_face:5.0f} bytes/face  query median "
                        f"{statistics.median(times) * 1000:6.2f} ms, p95 {np.percentile(times, 95) * 1000:6.2f} ms")
                if exact_ids is None:
                    exact_ids = found
                else:
                    recall = np.mean([len(set(a) & set(b)) / K for a, b in zip(found, exact_ids, strict=True)])
                    line += f"  recall@{K} {recall:.3f}"
                print(line)


if __name__ == "__main__":
    main()
