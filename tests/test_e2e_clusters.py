"""End to end, clusters: the sample library indexed with nobody named, through the real CLI with the real
models: the clusters are the five people, naming one makes `find` answer, ids last through a nightly
run, and undo takes a cluster's naming back exactly."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest

from indexer.sample import PEOPLE
from support.e2e import Indexer, restore

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def unsorted_once(sample, tmp_path_factory):
    """Every sample photo indexed, nobody named; and a copy of the data folder as it is then."""
    home = tmp_path_factory.mktemp("unsorted")
    library = home / "library"
    shutil.copytree(sample.root, library, ignore=shutil.ignore_patterns(".complete"))
    indexer = Indexer(home)
    indexer("index", str(library))
    copy = home.parent / f"{home.name}-copy"
    shutil.copytree(home / "data", copy)
    return indexer, library, copy


@pytest.fixture
def unsorted(unsorted_once):
    indexer, library, copy = unsorted_once
    restore(indexer, copy)
    return indexer, library


def clusters(indexer) -> list[dict]:
    return indexer.json_lines("clusters")


def test_the_clusters_of_the_sample_library_are_its_five_people(unsorted):
    indexer, _ = unsorted
    found = clusters(indexer)
    folders = [[Path(f["photo"]).parent.name for f in c["faces"]] for c in found]
    majority = [Counter(f).most_common(1)[0][0] for f in folders]
    assert sorted(majority[:5]) == sorted(PEOPLE)
    clustered = sum(len(f) for f in folders)
    pure = sum(Counter(f)[m] for f, m in zip(folders, majority))
    assert pure / clustered >= 0.98
    for person in PEOPLE:
        faces = len([p for p in Path(indexer.home / "library" / "celebrities").rglob("*.jpg") if p.parent.name == person])
        assert max(f.count(person) for f, m in zip(folders, majority) if m == person) >= 0.8 * faces, person
    assert all(len({f["photo"] for f in c["faces"]}) == c["size"] for c in found)  # one face per photo


def test_a_named_cluster_is_found_ids_last_through_a_nightly_run_and_undo_takes_the_naming_back(unsorted, sample):
    indexer, library = unsorted
    before = clusters(indexer)
    biggest = before[0]

    unnamed = indexer.name_rows()
    named = indexer.json("label", "--cluster", str(biggest["cluster"]), "First Person")
    found = [line["photo"] for line in indexer.json_lines("find", "first person")]
    assert sorted(found) == sorted(f["photo"] for f in biggest["faces"] if f["sure"])  # the sure ones: all but
    assert named["unsure"] == biggest["unsure"] == sum(not f["sure"] for f in biggest["faces"])  # those counted

    shutil.copy2(sample.photos("val", "madonna")[0], library / "new-madonna.jpg")
    summary = indexer.json("index", str(library))
    assert summary["new"] == 1
    after = {c["cluster"]: c for c in clusters(indexer)}
    for cluster in before[1:5]:  # the other four people keep their ids
        assert cluster["cluster"] in after and after[cluster["cluster"]]["size"] >= cluster["size"]
    assert biggest["cluster"] not in after  # named: no unnamed faces left in it

    (library / "new-madonna.jpg").unlink()
    indexer("index", str(library))
    indexer("undo")
    assert indexer.name_rows() == unnamed
