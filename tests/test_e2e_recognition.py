"""End to end, recognition: the real command with the real MTCNN and FaceNet on the sample library.

The library holds the 25 `val` photos and the group photo; the 93 `train` photos are enrolled from their
folders (one per person), as a new user would. The group photo's six people are strangers.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PIL import Image

from support.e2e import GROUP_FACES, group_face_index

pytestmark = pytest.mark.e2e

PEOPLE = ["ben_afflek", "elton_john", "jerry_seinfeld", "madonna", "mindy_kaling"]


@pytest.fixture
def named(trained_sample, backend):
    """The index as it was right after training, restored before each test (tests that rename, merge or
    label leave nothing behind): (indexer, library folder, train report); on SQLite and on PostgreSQL."""
    indexer, library, report, _ = trained_sample(backend=backend.name)
    return indexer, library, report


def first_automatic_face(indexer, folder: Path) -> int:
    """The first face (by id) that recognition named in the photos of ``folder``."""
    return indexer.query("SELECT faces.id FROM faces JOIN photos ON photos.id = faces.photo_id "
                         "WHERE photos.path LIKE ? AND faces.label_source = 'auto' ORDER BY faces.id", f"{folder}/%")[0][0]


def test_train_reports_cross_validated_accuracy_and_names_no_left_out_person(named):
    _, _, report = named
    assert [p["name"] for p in report["people"]] == PEOPLE
    assert sum(p["faces"] for p in report["people"]) == 93
    assert report["accuracy"] >= 0.9 and sum(p["wrong"] for p in report["people"]) == 0
    assert report["strangers"] == {"tested": 93, "named": 0}
    assert 0.8 <= report["thresholds"]["max_distance"] <= 1.0
    assert report["thresholds"]["min_probability"] >= 0.5
    assert report["distances"]["same_person_mean"] < 1.0 < report["distances"]["different_person_mean"]


def test_enrolling_names_the_largest_face_of_each_photo(named, sample):
    indexer, _, _ = named
    rows = indexer.query(
        "SELECT photos.path, faces.box_w * faces.box_h, faces.label_source FROM faces JOIN photos ON photos.id = faces.photo_id "
        "WHERE photos.path LIKE ?", f"{sample.celebrities / 'train'}/%"
    )
    by_photo: dict[str, list[tuple[int, str | None]]] = {}
    for path, area, source in rows:
        by_photo.setdefault(path, []).append((area, source))
    assert len(by_photo) == 93
    assert any(len(faces) > 1 for faces in by_photo.values())  # photos with background faces are among them
    for faces in by_photo.values():
        assert [source for _, source in faces].count("manual") == 1
        assert max(faces)[1] == "manual"


def test_who_is_names_at_least_24_of_the_25_val_photos_right(named, sample, tmp_path):
    indexer, _, _ = named
    copies = {}
    for photo in sample.photos("val"):  # outside the library: detected, embedded and labelled afresh
        copy = tmp_path / photo.parent.name / photo.name
        copy.parent.mkdir(exist_ok=True)
        shutil.copy2(photo, copy)
        copies[str(copy)] = photo.parent.name
    answers = [json.loads(line) for line in indexer("who-is", *copies, "--json").stdout.splitlines()]
    assert [a["photo"] for a in answers] == list(copies)
    right = 0
    for answer in answers:
        largest = max(answer["faces"], key=lambda f: f["box"][2] * f["box"][3])
        right += largest["person"] == copies[answer["photo"]]
        assert largest["person"] in (copies[answer["photo"]], None)  # never somebody else
        boxes = [f["box"][0] for f in answer["faces"]]
        assert boxes == sorted(boxes)  # left to right
    assert right >= 24


def test_the_six_strangers_of_the_group_photo_are_all_unknown_in_the_library_and_outside_it(named, sample, tmp_path):
    indexer, library, _ = named
    outside = shutil.copy2(sample.group_photo, tmp_path / "party.jpg")
    for photo in (library / "group.jpg", Path(outside)):
        (answer,) = indexer.json_lines("who-is", str(photo))
        assert sorted(group_face_index(f["box"]) for f in answer["faces"]) == list(range(len(GROUP_FACES)))
        assert [f["person"] for f in answer["faces"]] == [None] * 6
        assert [f["score"] for f in answer["faces"]] == [None] * 6


def test_find_returns_exactly_the_indexed_photos_of_one_person(named, sample):
    indexer, library, _ = named
    lines = indexer("find", "madonna", "--json").stdout.splitlines()
    found = [json.loads(line)["photo"] for line in lines]
    enrolled = [str(p) for p in sample.photos("train", "madonna")]
    indexed = [str(library / "val" / "madonna" / p.name) for p in sample.photos("val", "madonna")]
    expected = enrolled + indexed
    assert sorted(found) == sorted(expected) and len(found) == len(set(found))


def test_annotate_writes_a_copy_of_the_group_photo_with_the_boxes_drawn(named, sample, tmp_path):
    indexer, library, _ = named
    out = tmp_path / "annotated.jpg"
    indexer("who-is", str(library / "group.jpg"), "--annotate", str(out))
    with Image.open(out) as drawn, Image.open(sample.group_photo) as original:
        assert drawn.size == original.size
        x, y, w, h = GROUP_FACES[0]
        assert drawn.convert("RGB").getpixel((x + w // 2, y + 1)) != original.convert("RGB").getpixel((x + w // 2, y + 1))


def test_names_given_by_hand_survive_training_again(named):
    indexer, library, _ = named
    group_faces = indexer.query(
        "SELECT faces.id FROM faces JOIN photos ON photos.id = faces.photo_id WHERE photos.path = ? ORDER BY box_x",
        str(library / "group.jpg"),
    )
    stranger = group_faces[0][0]
    indexer("label", str(stranger), "Guest of honour")
    madonna_val = first_automatic_face(indexer, library / "val" / "madonna")
    indexer("label", str(madonna_val), "--clear")
    indexer("train")
    rows = dict(((r[0], (r[1], r[2])) for r in indexer.query(
        "SELECT faces.id, people.name, faces.label_source FROM faces LEFT JOIN people ON people.id = faces.person_id "
        "WHERE faces.id IN (?, ?)", stranger, madonna_val
    )))
    assert rows == {stranger: ("Guest of honour", "manual"), madonna_val: (None, "manual")}


def test_rename_and_merge_keep_every_face(named):
    indexer, _, _ = named
    people = {p["name"]: p for p in map(json.loads, indexer("people", "--json").stdout.splitlines())}
    before = indexer("find", "madonna", "--json").stdout
    indexer("rename", "madonna", "Madonna Ciccone")
    assert indexer("find", "Madonna Ciccone", "--json").stdout == before.replace('"madonna"', '"Madonna Ciccone"')
    merged = indexer.json("merge", "jerry_seinfeld", "ben_afflek")
    assert merged["faces"] == people["jerry_seinfeld"]["faces"] + people["ben_afflek"]["faces"]
    after = {p["name"]: p for p in map(json.loads, indexer("people", "--json").stdout.splitlines())}
    assert "jerry_seinfeld" not in after and after["ben_afflek"]["faces"] == merged["faces"]
    assert sum(p["faces"] for p in after.values()) == sum(p["faces"] for p in people.values())


def test_undo_of_a_merge_restores_the_exact_state_and_find_answers_as_before(named):
    indexer, _, _ = named

    before, found = indexer.name_rows(), indexer("find", "madonna").stdout
    indexer("merge", "madonna", "mindy_kaling")
    assert indexer("find", "madonna", expect=1).stderr
    assert indexer.json_lines("history")[0]["action"] == "merge"
    indexer("undo")
    assert indexer.name_rows() == before and indexer("find", "madonna").stdout == found


def test_a_rejection_is_respected_by_train_and_review_suggests_from_the_real_faces(named, sample, tmp_path):
    indexer, library, _ = named
    madonna_val = first_automatic_face(indexer, library / "val" / "madonna")
    indexer("reject", str(madonna_val), "madonna")
    indexer("train")
    assert indexer.query("SELECT person_id, label_source FROM faces WHERE id = ?", madonna_val) == [(None, None)]
    # A photo showing her twice: recognition names one face (a person once per photo), the other is left
    # for review to suggest.
    left, right = (Image.open(p).convert("RGB") for p in sample.photos("val", "madonna")[1:3])
    twice = Image.new("RGB", (left.width + right.width, max(left.height, right.height)))
    twice.paste(left, (0, 0))
    twice.paste(right, (left.width, 0))
    (tmp_path / "twice").mkdir()
    twice.save(tmp_path / "twice" / "madonna-twice.jpg", quality=95)
    assert indexer.json("index", str(tmp_path / "twice"))["faces_named"] == 1
    suggestions = indexer.json_lines("review", "madonna")
    assert madonna_val not in [s["face_id"] for s in suggestions]
    assert [s["photo"] for s in suggestions] == [str(tmp_path / "twice" / "madonna-twice.jpg")]
    assert all(s["person"] == "madonna" and s["distance"] <= 1.0 for s in suggestions)
