"""Clusters of unnamed faces: the grouping rule on synthetic vectors, and through the CLI with the fake
models (faces coloured per person, see support/photos.py): listing, naming a cluster, ids that last."""

from __future__ import annotations


import numpy as np
import pytest

from indexer.naming.grouping import FaceToGroup
from support.crowds import group_faces
from indexer.vision.embed import l2_normalize

from support.photos import make_photo, unsorted_library


def people(counts: list[int], spread: float = 0.04, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors of len(counts) people, counts[i] faces each: (vectors, person of each face)."""
    rng = np.random.default_rng(seed)
    centres = l2_normalize(rng.normal(size=(len(counts), 128)))
    who = np.repeat(np.arange(len(counts)), counts)
    return l2_normalize(centres[who] + spread * rng.normal(size=(len(who), 128))), who


def test_each_person_with_enough_faces_is_one_group_and_strangers_stay_out():
    vectors, who = people([6, 5, 4, 1, 1, 1])  # three people, three strangers seen once
    faces = [FaceToGroup(photo=i, core_quality=True) for i in range(len(who))]
    groups = group_faces(vectors, faces, link=0.9)
    assert groups[who == 0].tolist() == [0] * 6 and groups[who == 1].tolist() == [1] * 5 and groups[who == 2].tolist() == [2] * 4
    assert groups[who >= 3].tolist() == [-1] * 3


def test_above_the_exact_limit_the_nearest_faces_come_from_a_graph_and_the_groups_are_the_same(monkeypatch):
    import indexer.naming.grouping

    vectors, who = people([6, 5, 4, 1, 1, 1])
    faces = [FaceToGroup(photo=i, core_quality=True) for i in range(len(who))]
    exact = group_faces(vectors, faces, link=0.9)
    monkeypatch.setattr(indexer.naming.grouping, "EXACT_UP_TO", 5)
    assert group_faces(vectors, faces, link=0.9).tolist() == exact.tolist()


def test_two_faces_of_one_photo_never_share_a_group():
    vectors, who = people([6])
    photos = [0, 0, 1, 2, 3, 4]  # the first two faces are in one photo (a mirror, a poster)
    groups = group_faces(vectors, [FaceToGroup(p, True) for p in photos], link=0.9)
    assert groups[0] != groups[1] and (groups >= 0).sum() == 5


def test_small_or_unsure_faces_are_never_the_core_of_a_group():
    vectors, who = people([6])
    unsure = [FaceToGroup(i, core_quality=False) for i in range(6)]
    assert group_faces(vectors, unsure, link=0.9).tolist() == [-1] * 6
    mixed = [FaceToGroup(i, core_quality=i < 4) for i in range(6)]  # four good faces carry two poor ones
    assert group_faces(vectors, mixed, link=0.9).tolist() == [0] * 6


def test_one_face_between_two_look_alikes_does_not_chain_them_into_one_group():
    rng = np.random.default_rng(3)
    base = l2_normalize(rng.normal(size=(1, 128)))
    sibling = l2_normalize(base + 0.12 * rng.normal(size=(1, 128)))  # two people 0.82 apart
    first = l2_normalize(base + 0.035 * rng.normal(size=(5, 128)))
    second = l2_normalize(sibling + 0.035 * rng.normal(size=(5, 128)))
    between = l2_normalize((base + sibling) / 2)
    vectors = np.concatenate([first, second, between])
    assert np.linalg.norm(first - between, axis=1).max() < 0.75 > np.linalg.norm(second - between, axis=1).max()
    groups = group_faces(vectors, [FaceToGroup(i, True) for i in range(11)], link=0.75)
    assert len(set(groups[:5].tolist())) == 1 and len(set(groups[5:10].tolist())) == 1
    assert groups[0] != groups[5] and groups[0] >= 0 and groups[5] >= 0


@pytest.fixture
def unsorted(run, tmp_path, use_people_models):
    """A library nobody sorted: ann in 4 photos, bob in 3 (once with ann), cy in 1; indexed."""
    root = unsorted_library(tmp_path / "photos")
    run("index", str(root))
    return root


def listed(run) -> list[dict]:
    return run.json_lines("clusters")


def test_clusters_list_the_unnamed_people_largest_first_and_a_cluster_is_named_in_one_command(run, unsorted):
    found = listed(run)
    assert [c["size"] for c in found] == [4, 3]  # cy, seen once, is in no cluster
    ann = found[0]
    assert {f["photo"] for f in ann["faces"]} == {str(unsorted / f"p{i}.jpg") for i in (0, 1, 2, 3)}
    text = run("clusters").stdout.splitlines()
    assert text[0].startswith(f"cluster {ann['cluster']}\t4 faces\t4 photos\tfaces ")
    result = run.json("label", "--cluster", str(ann["cluster"]), "Ann")
    assert result == {"cluster": ann["cluster"], "person": "Ann", "named": 4, "left_out": 0, "unsure": 0}
    assert len(run("find", "ann").stdout.splitlines()) == 4
    assert [c["size"] for c in listed(run)] == [3]  # named faces leave their cluster at once
    assert run.json_lines("history")[0]["description"] == f"cluster {ann['cluster']}: 4 face(s) named Ann"


def test_except_leaves_faces_unnamed_and_bad_ids_are_one_line_and_exit_1(run, unsorted):
    ann, bob = listed(run)
    spared = ann["faces"][0]["face_id"]
    run("label", "--cluster", str(ann["cluster"]), "Ann", "--except", str(spared))
    assert len(run("find", "Ann").stdout.splitlines()) == 3
    assert run("label", "--cluster", "999", "Ann", expect=1).stderr.strip() == "indexer: error: no cluster 999 (`indexer clusters` lists them)"
    stray = run("label", "--cluster", str(bob["cluster"]), "Bob", "--except", str(spared), expect=1)
    assert f"face {spared} is not an unnamed face of cluster {bob['cluster']}" in stray.stderr
    run("label", "--cluster", str(bob["cluster"]), "Bob", "extra", expect=2)


def test_cluster_ids_last_from_one_run_to_the_next_and_new_faces_join_them(run, unsorted):
    before = {c["cluster"]: c["size"] for c in listed(run)}
    make_photo(unsorted / "new.jpg", faces=["bob"], seed=42)
    run("index", str(unsorted))
    after = {c["cluster"]: c["size"] for c in listed(run)}
    assert set(after) == set(before)
    assert sorted(after.values()) == [4, 4]  # bob's new face joined bob's cluster


def test_undo_takes_a_whole_clusters_naming_back(run, unsorted):
    ann = listed(run)[0]
    run("label", "--cluster", str(ann["cluster"]), "Ann")
    run("undo")
    assert listed(run)[0] == ann
    run("find", "Ann", expect=1)


@pytest.fixture
def groupings(monkeypatch):
    """Counts the full groupings (``naming.grouping.grouping`` calls) the commands make."""
    import indexer.naming.clusters

    calls = []
    real = indexer.naming.clusters.grouping

    def counted(*args, **kwargs):
        calls.append(len(args[1]))
        return real(*args, **kwargs)

    monkeypatch.setattr(indexer.naming.clusters, "grouping", counted)
    return calls


def test_a_night_that_adds_nothing_groups_nothing_again_and_faces_named_since_just_leave(run, unsorted, groupings):
    before = listed(run)
    run("index", str(unsorted))
    assert groupings == [] and listed(run) == before
    run("label", "--cluster", str(before[1]["cluster"]), "Bob")
    run("index", str(unsorted))
    assert groupings == [] and listed(run) == before[:1]
    run("undo")
    run("index", str(unsorted))  # bob's faces are back, no new face: they are in their cluster again
    assert groupings == [] and listed(run) == before


def ann_and_bob(root):
    """ann in 12 photos, bob in 10: 22 faces, so that one new face is under 5 % of them."""
    for i in range(12):
        make_photo(root / f"ann{i}.jpg", faces=["ann"], seed=i)
    for i in range(10):
        make_photo(root / f"bob{i}.jpg", faces=["bob"], seed=20 + i)
    return root


def test_a_few_new_faces_join_their_group_unsure_and_more_call_for_a_full_grouping(run, tmp_path, use_people_models, groupings):
    root = ann_and_bob(tmp_path / "photos")
    run("index", str(root))
    assert groupings == [22]
    ann, bob = listed(run)
    make_photo(root / "bob-new.jpg", faces=["bob"], seed=99)  # 1 new face: 5 % of 22 is 1.1
    run("index", str(root))
    assert groupings == [22]
    joined = {c["cluster"]: c for c in listed(run)}[bob["cluster"]]
    new = [f for f in joined["faces"] if f["photo"].endswith("bob-new.jpg")]
    assert len(joined["faces"]) == 11 and len(new) == 1 and new[0]["sure"] is False  # label --cluster asks for --all
    make_photo(root / "dee.jpg", faces=["dee"], seed=98)  # one more new face...
    run("index", str(root))
    assert groupings == [22, 24]  # ...and 2 new faces since the full grouping are more than 1.1: all again
    assert sorted(c["size"] for c in listed(run)) == [11, 12]
    assert all(f["sure"] for c in listed(run) for f in c["faces"])


def test_a_face_named_then_unnamed_by_undo_is_back_in_its_group_as_it_was_not_a_new_face(run, tmp_path, use_people_models,
                                                                                          groupings):
    root = ann_and_bob(tmp_path / "photos")
    run("index", str(root))
    bob = next(c for c in listed(run) if c["size"] == 10)
    newest = max(f["face_id"] for c in listed(run) for f in c["faces"])
    assert newest in {f["face_id"] for f in bob["faces"]}  # the newest face is bob's, sure of its group
    run("label", str(newest), "Bob")
    run("index", str(root))
    run("undo")
    run("index", str(root))
    assert groupings == [22]
    back = next(c for c in listed(run) if c["cluster"] == bob["cluster"])
    assert back == bob  # the same faces, each as sure as before
