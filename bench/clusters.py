"""How well the unnamed faces are grouped into people, run by hand (about three minutes):

    .venv/bin/python bench/clusters.py

For the rule before (tests/support/crowds.first_pass) and today's (grouping), side by side:

1. Synthetic crowds (tests/support/crowds.py): 600 people with three photos each, shaped like a real
   library of that kind (its distances are in that module), three seeds; and libraries like the
   sample's (eight people of 15–40 faces among 30 strangers), three seeds. Purity (the share of grouped
   faces whose group's most common person is theirs; goal ≥ 99 % on the crowd), coverage (faces grouped),
   mixed groups, and the smallest share of a person's faces in their largest group (goal ≥ 80 % on the
   sample-like libraries).
2. Real faces: the whole sample library (118 celebrity photos, the group photo) and portraits of other
   people from two more registry archives (face_recognition 1.3.0's test photos: Obama in five, Biden;
   insightface 2.1's: Tom Hanks, and one person in four masks), indexed into a throw-away data folder
   with nobody named. The truth: the largest face of each celebrity photo is the celebrity of its
   folder, of each added portrait the person its file is named after; every other face is a stranger,
   each a person of their own. Purity (goal ≥ 98 %), each of the five people's share in their largest
   cluster (goal ≥ 80 %), strangers pulled into a celebrity's cluster; then the clusters `indexer index`
   stored, with their sure faces.
3. The time grouping takes for 100 000 synthetic unnamed faces (as a nightly refresh of a large library
   would), with the nearest faces from an HNSW graph.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np

from indexer.naming.grouping import CORE_MIN_CONFIDENCE, CORE_MIN_PX, FaceToGroup
from indexer.config import downloads_dir
from indexer.vision.fetch import Sdist, extract_tree, fetch_sdist
from indexer.sample import INSIGHTFACE, PEOPLE, cached_sample_library

from commands import clean_environment

FACE_RECOGNITION = Sdist(name="face_recognition", version="1.3.0",
                         sha256="5e5efdd1686aa566af0d3cc1313b131e4b197657a8ffd03669e6d3fad92705ec", size_mb=3)


sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from support import crowds  # noqa: E402
from support.crowds import first_pass, group_faces  # noqa: E402


def main() -> None:
    _synthetic()
    _real()
    _time_at_scale()


def _synthetic() -> None:
    for name, make, people in (("crowd of 600 × 3", crowds.crowd, None), ("sample-like", crowds.sample_like, range(8))):
        for seed in range(3):
            vectors, who = make(seed=seed)
            faces = [FaceToGroup(i, True) for i in range(len(who))]
            for rule, group in (("before", first_pass), ("today ", group_faces)):
                labels = group(vectors, faces, 0.95)
                mixed = sum(1 for g in set(labels.tolist()) - {-1} if len(set(who[labels == g].tolist())) > 1)
                shares = f", smallest share of a person in their largest group {min(crowds.largest_shares(labels, who, list(people))):.0%}" if people else ""
                print(f"{name}, seed {seed}, rule {rule}: purity {crowds.purity(labels, who):.1%}, coverage "
                      f"{crowds.coverage(labels):.0%}, {len(set(labels.tolist()) - {-1})} groups, {mixed} mixed{shares}", flush=True)


def _real() -> None:
    sample = cached_sample_library()
    with tempfile.TemporaryDirectory() as tmp:
        library = Path(tmp) / "library"
        shutil.copytree(sample.root, library, ignore=shutil.ignore_patterns(".complete"))
        strangers = library / "others"
        extract_tree(fetch_sdist(FACE_RECOGNITION, downloads_dir()), "face_recognition-1.3.0/tests/test_images",
                     strangers, (".jpg",))
        extract_tree(fetch_sdist(INSIGHTFACE, downloads_dir()), "insightface-2.1/insightface/data/images", strangers,
                     (".jpg", ".png"))
        (strangers / "t1.jpg").unlink()  # the group photo, in the sample already
        env = clean_environment(Path(tmp) / "data")
        subprocess.run([sys.executable, "-m", "indexer", "-q", "index", str(library)], env=env, check=True, capture_output=True)
        import sqlite3

        with sqlite3.connect(Path(tmp) / "data" / "indexer.db") as db:
            rows = db.execute("SELECT faces.id, photos.path, faces.photo_id, faces.box_w, faces.box_h, faces.detection, "
                              "faces.embedding, faces.cluster_id, faces.cluster_sure FROM faces JOIN photos ON photos.id = faces.photo_id "
                              "ORDER BY faces.id").fetchall()
    truth = _truth(rows)
    stored = np.array([r[7] if r[7] is not None else -1 for r in rows])
    sure = np.array([bool(r[8]) for r in rows])
    print(f"{len(rows)} faces in {len({r[2] for r in rows})} photos; "
          f"{sum(1 for t in truth if t in PEOPLE)} of the five people, the rest strangers")
    vectors = np.stack([np.frombuffer(r[6], dtype="<f4") for r in rows])
    faces = [FaceToGroup(r[2], max(r[3], r[4]) >= CORE_MIN_PX and r[5] >= CORE_MIN_CONFIDENCE) for r in rows]
    for link in (0.9, 0.95, 1.0):
        _report(f"rule before, link {link}", first_pass(vectors, faces, link), truth)
        _report(f"rule today,  link {link}", group_faces(vectors, faces, link), truth)
    _report("clusters as `indexer index` stored them (link 0.95)", stored, truth)
    _report("their sure faces alone (what `label --cluster` names)", np.where(sure, stored, -1), truth)


def _time_at_scale(count: int = 100_000, people: int = 20_000) -> None:
    import time

    from indexer.vision.embed import l2_normalize

    rng = np.random.default_rng(0)
    centres = l2_normalize(rng.normal(size=(people, 128)))
    who = rng.integers(0, people, count)
    vectors = l2_normalize(centres[who] + 0.06 * rng.normal(size=(count, 128)))
    for rule, group in (("before", first_pass), ("today", group_faces)):
        start = time.perf_counter()
        groups = group(vectors, [FaceToGroup(i, True) for i in range(count)], 0.95)
        print(f"{count} synthetic faces of {people} people grouped by the rule {rule} in {time.perf_counter() - start:.1f} s: "
              f"{len(set(groups.tolist()) - {-1})} groups, {(groups >= 0).sum()} faces in them", flush=True)
    vectors, _ = crowds.crowd(people=33_333)
    start = time.perf_counter()
    groups = group_faces(vectors, [FaceToGroup(i, True) for i in range(len(vectors))], 0.95)
    print(f"{len(vectors)} faces of a crowd of 33 333 people, three each, grouped in {time.perf_counter() - start:.1f} s", flush=True)


def _truth(rows) -> list[str]:
    largest = {}
    for row in rows:
        if row[2] not in largest or row[3] * row[4] > largest[row[2]][3] * largest[row[2]][4]:
            largest[row[2]] = row
    truth = []
    for row in rows:
        path = Path(row[1])
        if largest[row[2]][0] != row[0]:
            truth.append(f"stranger {row[0]}")
        elif path.parent.name in PEOPLE:
            truth.append(path.parent.name)
        elif path.parent.name == "others":  # obama2.jpg, obama_partial_face.jpg, Tom_Hanks_54745.png, mask_blue.jpg
            truth.append("other " + path.stem.lower().rstrip("0123456789").split("_")[0])
        else:
            truth.append(f"stranger {row[0]}")
    return truth


def _report(label: str, groups: np.ndarray, truth: list[str]) -> None:
    members: dict[int, list[str]] = {}
    for group, person in zip(groups.tolist(), truth):
        if group >= 0:
            members.setdefault(group, []).append(person)
    clustered = sum(len(m) for m in members.values())
    majority = {g: Counter(m).most_common(1)[0][0] for g, m in members.items()}
    pure = sum(Counter(m)[majority[g]] for g, m in members.items())
    pulled = sum(1 for g, m in members.items() if majority[g] in PEOPLE for p in m if p not in PEOPLE)
    others = sorted({p for p in truth if p.startswith("other ")})
    other_groups = [f"{p[6:]} {max([m.count(p) for m in members.values()] or [0])}/{truth.count(p)}" for p in others]
    kept = []
    for person in PEOPLE:
        total = truth.count(person)
        best = max([m.count(person) for g, m in members.items() if majority[g] == person] or [0])
        kept.append(f"{person} {best}/{total}")
    print(f"{label}: {len(members)} clusters, {clustered} faces clustered, purity {pure / max(1, clustered):.1%}, "
          f"other faces in a celebrity's cluster {pulled}; in their own cluster: {', '.join(kept)}; "
          f"the added people together: {', '.join(other_groups)}")


if __name__ == "__main__":
    main()
