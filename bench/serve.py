"""How fast `indexer serve` answers at real size, run by hand (about two minutes):

    .venv/bin/python bench/serve.py [FACES]

Builds a synthetic index in a throw-away data folder (default 100 000 faces: 20 000 photos of five
faces, 1 000 people with 40 named faces each — a quarter by hand —, 2 000 clusters of 25 unnamed faces,
10 000 unnamed faces near somebody named, for the review queue, and 2 000 events of history), then
times each page and each naming action through the app in this process (Starlette's test client: the
app's own work and the database's, without a network), the median of several requests and the slowest.
The goal: every page and every action under 200 ms. Thumbnails are not timed (made once per face, on
first view, from the photo: bench/gallery.py times them).
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

PAGE_GOAL_MS = 200
REPEATS = 7


def build(data_dir: Path, faces: int) -> dict:
    """The synthetic index (see the module); returns ids to visit."""
    from indexer.config import load_config
    from indexer.library import Library

    os.environ["INDEXER_DATA_DIR"] = str(data_dir)
    library = Library(load_config(None))
    model = library.model
    rng = np.random.default_rng(0)
    people = 1000 * faces // 100_000
    per_person, cluster_count, per_cluster = 40, 2000 * faces // 100_000, 25
    near = 10_000 * faces // 100_000
    photos = faces // 5

    def unit(vectors: np.ndarray) -> np.ndarray:
        return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype("<f4")

    centres = unit(rng.normal(size=(people, model.dimensions)))
    cluster_centres = unit(rng.normal(size=(cluster_count, model.dimensions)))
    rows = []  # (photo, person, source, score, cluster, sure, embedding)
    for person in range(people):
        vectors = unit(centres[person] + rng.normal(scale=0.05, size=(per_person, model.dimensions)))
        for k, vector in enumerate(vectors):
            by_hand = k < per_person // 4
            rows.append((person + 1, "manual" if by_hand else "auto", 1.0 if by_hand else 0.8, None, None, vector))
    for cluster in range(cluster_count):
        vectors = unit(cluster_centres[cluster] + rng.normal(scale=0.05, size=(per_cluster, model.dimensions)))
        rows += [(None, None, None, cluster + 1, k < per_cluster - 2, vector) for k, vector in enumerate(vectors)]
    for k in range(near):
        vector = unit(centres[k % people][None, :] + rng.normal(scale=0.07, size=(1, model.dimensions)))[0]
        rows.append((None, None, None, None, None, vector))
    order = rng.permutation(len(rows))
    now = "2026-12-01 00:00:00"
    with sqlite3.connect(data_dir / "indexer.db") as db:
        db.executemany("INSERT INTO photos (id, path, size, mtime_ns, width, height, indexed_at, content_hash) "
                       "VALUES (?, ?, 1000000, 0, 4000, 3000, ?, ?)",
                       [(i + 1, f"/photos/{i // 500:03d}/IMG_{i:06d}.jpg", now, f"{i:064x}") for i in range(photos)])
        db.executemany("INSERT INTO people (id, name, created_at) VALUES (?, ?, ?)",
                       [(i + 1, f"Person {i + 1:04d}", now) for i in range(people)])
        db.executemany("INSERT INTO clusters (id, created_at) VALUES (?, ?)", [(i + 1, now) for i in range(cluster_count)])
        db.executemany(
            "INSERT INTO faces (photo_id, box_x, box_y, box_w, box_h, detection, landmarks, embedding, embedding_model, "
            "person_id, label_source, label_score, created_at, cluster_id, cluster_distance, cluster_sure, origin) "
            "VALUES (?, ?, 500, 300, 300, 0.99, '{}', ?, ?, ?, ?, ?, ?, ?, ?, ?, 'detected')",
            [(1 + slot // 5, 100 + 700 * (slot % 5), rows[i][5].tobytes(), model.name, rows[i][0], rows[i][1], rows[i][2], now,
              rows[i][3], 0.5 if rows[i][3] else None, rows[i][4]) for slot, i in enumerate(order.tolist())])
        db.executemany("INSERT INTO name_events (created_at, action, description, changes) VALUES (?, 'label', ?, ?)",
                       [(now, f"face {i}: unnamed → Person 0001", json.dumps({"faces": {str(i): [None, [1, "manual", 1.0]]}}))
                        for i in range(1, 2001)])
        db.execute("INSERT INTO runs (started_at, finished_at, status, roots, summary) VALUES (?, ?, 'done', '[]', '{}')",
                   (now, now))
    return {"people": people, "clusters": cluster_count}


def timed(client, method: str, path: str, data: dict | None = None) -> tuple[float, object]:
    start = time.perf_counter()
    answer = client.request(method, path, data=data, headers={"origin": "http://127.0.0.1:8765"} if data else None)
    elapsed = (time.perf_counter() - start) * 1000
    if answer.status_code not in (200, 303):
        sys.exit(f"{method} {path}: {answer.status_code}\n{answer.text[:2000]}")
    return elapsed, answer


def settled(client) -> float:
    """Seconds until the review queue is up to date (computed in the background)."""
    start = time.perf_counter()
    client.get("/")
    while "Looking for unnamed faces" in (page := client.get("/review").text) or "being brought up to date" in page:
        time.sleep(0.05)
    return time.perf_counter() - start


def main() -> None:
    from starlette.testclient import TestClient

    from indexer.config import load_config
    from indexer.library import Library
    from indexer.web.app import make_app

    faces = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    with tempfile.TemporaryDirectory(prefix="indexer-bench-serve-") as folder:
        data_dir = Path(folder)
        start = time.perf_counter()
        sizes = build(data_dir, faces)
        print(f"synthetic index: {faces} faces, {sizes['people']} people, {sizes['clusters']} clusters "
              f"({time.perf_counter() - start:.0f} s to build)")
        app = make_app(Library(load_config(None)), "t", ["127.0.0.1"])
        client = TestClient(app, base_url="http://127.0.0.1:8765", follow_redirects=False)
        client.get("/?token=t")
        csrf = app.state.served.csrf
        print(f"review queue, computed in the background from the first page on: {settled(client):.1f} s")
        rows = []
        pages = {
            "home": lambda k: "/",
            "people, page 3": lambda k: "/people?page=3",
            "a person": lambda k: f"/people/{k + 1}",
            "clusters, page 5": lambda k: "/clusters?page=5",
            "a cluster": lambda k: f"/clusters/{k + 1}",
            "a photo": lambda k: f"/photos/{k * 7 + 1}",
            "review": lambda k: f"/review?offset={k}",
            "history, page 10": lambda k: "/history?page=10",
            "names as you type": lambda k: "/names?q=person%2000",
            "search, two people, any": lambda k: f"/search?person=Person+{k + 1:04d}&person=Person+{k + 2:04d}&match=any",
            "faces nobody named, page 3": lambda k: "/faces/unnamed?page=3",
            "every photo, page 10": lambda k: "/photos?page=10",
            "a photo in every photo (its neighbours)": lambda k: f"/photos/{k * 7 + 1}?in=photos",
            "a photo in a person's photos": lambda k: f"/photos/{k * 7 + 1}?in=person:{k + 1}",
            "people, by last seen": lambda k: "/people?sort=seen",
            "a merge offered": lambda k: f"/people/{k + 1}/merge?into={k + 2}",
            "training's page": lambda k: "/train",
        }
        for name, path in pages.items():
            rows.append((name, [timed(client, "GET", path(k))[0] for k in range(REPEATS)]))

        def action(name: str, make) -> None:
            rows.append((name, [timed(client, "POST", *make(k))[0] for k in range(REPEATS)]))

        faces_of_cluster = {}
        for k in range(REPEATS):
            page = client.get(f"/clusters/{100 + k}").text
            faces_of_cluster[k] = re.findall(r'name="except" value="(\d+)"', page)
        action("name one face", lambda k: (f"/faces/{k * 11 + 1}/name", {"csrf": csrf, "name": "Person 0002", "do": "name"}))
        action("name a cluster (one face left out)", lambda k: (f"/clusters/{100 + k}/name", {
            "csrf": csrf, "name": f"New {k}", "except": faces_of_cluster[k][:1]}))

        def answer(k: int):
            page = client.get("/review").text
            face = re.search(r'name="face" value="(\d+)"', page).group(1)
            person = re.search(r'name="person" value="([^"]+)"', page).group(1)
            return "/review/answer", {"csrf": csrf, "face": face, "person": person, "answer": "yes" if k % 2 else "no",
                                      "offset": "0"}

        action("answer a suggestion (y or n)", answer)
        rows.append(("review, after the answer", [timed(client, "GET", "/review")[0] for _ in range(REPEATS)]))

        def undo(k: int):
            page = client.get("/history").text
            event = re.search(r'name="event" value="(\d+)"', page).group(1)
            return "/undo", {"csrf": csrf, "event": event}

        action("undo the newest change", undo)
        print(f"review queue after a change made elsewhere (an undo, the CLI, a run), computed again in the background, "
              f"the page showing the last queue meanwhile: {settled(client):.1f} s")
        print(f"\n{'request':<38}{'median ms':>10}{'slowest ms':>11}  (goal: under {PAGE_GOAL_MS} ms)")
        for name, times in rows:
            print(f"{name:<38}{statistics.median(times):>10.0f}{max(times):>11.0f}")


if __name__ == "__main__":
    main()
