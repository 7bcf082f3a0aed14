"""Nearest-neighbour search at scale, with synthetic face vectors, run by hand:

    .venv/bin/python bench/search_scale.py [--faces 1000000] [--queries 200]

The vectors imitate FaceNet's: unit length, 128-d, in clusters (one per "person", 20 faces each) whose
faces lie about 0.86 apart, as the same person's faces do on the sample library; queries are faces of
the library moved a little (new photos of the same people). For each kind of index indexer uses
(`VectorIndex`: exact below `[search] approximate_above` faces, an HNSW graph above it) it prints the
time to build, the bytes per face (size of the saved file / faces), the time of one query (median and
95th percentile, one query at a time, 10 neighbours) and the recall of the graph against exact search
(the share of the exact 10 nearest it also returns), for several `[search] candidates`. Then, with the
default candidates: every face's 10 nearest at once (what clustering needs), timed, with its recall on
a sample; adding 1 % new faces to the graph (a nightly run) against building it; and removing 1 % of the
faces (tombstones): the time of a query then, its recall against exact search over what is left, and
whether any removed face comes back.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from indexer.config import SearchConfig
from indexer.vision.embed import l2_normalize
from indexer.vectors.index import VectorIndex

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


def recall(found: np.ndarray, exact: np.ndarray) -> float:
    """The share of each row of ``exact`` that the same row of ``found`` holds too, on average."""
    return float(np.mean([len(set(a) & set(b)) / len(b) for a, b in zip(found, exact, strict=True)]))


def ms(times: list[float]) -> str:
    return f"median {statistics.median(times) * 1000:7.3f} ms, p95 {np.percentile(times, 95) * 1000:7.3f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--faces", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--candidates", type=int, nargs="+", default=[32, 64, 128, 256],
                        help="faces an HNSW query looks at, at most")
    args = parser.parse_args()
    n = args.faces
    vectors = synthetic_faces(n)
    ids = np.arange(1, n + 1, dtype=np.int64)
    rng = np.random.default_rng(1)
    queries = l2_normalize(vectors[rng.choice(n, args.queries, replace=False)]
                           + np.random.default_rng(2).normal(scale=0.05, size=(args.queries, 128)).astype(np.float32))
    default = SearchConfig().candidates
    print(f"{n} faces, {args.queries} single queries, {K} neighbours each; default candidates {default}")
    with tempfile.TemporaryDirectory() as tmp:
        sizes = {}
        built = {}
        indexes = {}
        for kind in ("exact", "hnsw"):
            start = time.perf_counter()
            indexes[kind] = VectorIndex.build(128, kind, ids, vectors, candidates=default)
            built[kind] = time.perf_counter() - start
            path = Path(tmp) / f"{kind}.faiss"
            indexes[kind].save(path)
            sizes[kind] = path.stat().st_size / n
        exact, graph = indexes["exact"], indexes["hnsw"]
        exact_times, exact_found = timed_queries(exact, queries)
        print(f"exact                 build {built['exact']:6.1f} s  {sizes['exact']:5.0f} bytes/face  query {ms(exact_times)}")
        exact_median = statistics.median(exact_times)
        for candidates in args.candidates:
            graph.candidates = candidates
            times, found = timed_queries(graph, queries)
            print(f"hnsw, {candidates:4d} candidates  build {built['hnsw']:6.1f} s  {sizes['hnsw']:5.0f} bytes/face  query "
                  f"{ms(times)}  recall@{K} {recall(found, exact_found):.4f}  1/{exact_median / statistics.median(times):.0f} "
                  f"of exact (p95 1/{exact_median / np.percentile(times, 95):.0f})")
        graph.candidates = default

        start = time.perf_counter()
        _, every = graph.search(vectors, K + 1)  # each face's own id comes first: the 10 after it
        every_seconds = time.perf_counter() - start
        sample = rng.choice(n, 1000, replace=False)
        _, every_exact = exact.search(vectors[sample], K + 1)
        print(f"every face's {K} nearest (hnsw, {default} candidates, both cores): {every_seconds:.0f} s; "
              f"recall@{K} on 1000 of them {recall(every[sample], every_exact):.4f}")

        new = l2_normalize(vectors[rng.choice(n, n // 100, replace=False)]
                           + rng.normal(scale=0.05, size=(n // 100, 128)).astype(np.float32))
        start = time.perf_counter()
        graph.add(np.arange(n + 1, n + 1 + len(new), dtype=np.int64), new)
        added = time.perf_counter() - start
        exact.add(np.arange(n + 1, n + 1 + len(new), dtype=np.int64), new)
        print(f"adding {len(new)} new faces (1 %) to the graph: {added:.1f} s, {added / built['hnsw']:.1%} of building it")

        gone = rng.choice(np.arange(1, n + 1), n // 100, replace=False)
        start = time.perf_counter()
        graph.remove(gone)
        removed = time.perf_counter() - start
        exact.remove(gone)
        _, exact_after = exact.search(queries, K)
        times, found = timed_queries(graph, queries)
        _, own = graph.search(vectors[gone[:1000] - 1], K)  # the removed faces themselves as queries
        back = int(np.isin(found, gone).sum() + np.isin(own, gone).sum())
        print(f"removing {len(gone)} faces (1 %): {removed:.1f} s; then query {ms(times)}, recall@{K} "
              f"{recall(found, exact_after):.4f}; removed faces returned: {back}")


if __name__ == "__main__":
    main()
