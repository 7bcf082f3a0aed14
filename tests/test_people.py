"""Naming people through the command line — enroll, train, who-is, find, people, label, rename, merge —
with the fake detector and an embedder that gives each fake person their own place (PeopleEmbedder)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select
from indexer.config import load_config
from indexer.db.models import Classifier, Face, Person, Photo
from indexer.library import Library

from support.photos import make_photo


@pytest.fixture
def enrol(tmp_path):
    """Four photos each of ann, bob and cy, one folder per person; and a photo of nobody in ann's."""
    root = tmp_path / "enrol"
    for i, name in enumerate(["ann", "bob", "cy"]):
        for n in range(4):
            make_photo(root / name / f"{name}{n}.jpg", faces=[name], seed=10 * i + n)
    make_photo(root / "ann" / "landscape.jpg", faces=0, seed=99)
    return root


@pytest.fixture
def photos(tmp_path):
    """The library: ann with bob; cy alone; dee (nobody enrolled); ann twice in one photo."""
    root = tmp_path / "photos"
    make_photo(root / "p1.jpg", faces=["ann", "bob"], seed=101)
    make_photo(root / "p2.jpg", faces=["cy"], seed=102)
    make_photo(root / "p3.jpg", faces=["dee"], seed=103)
    make_photo(root / "p4.jpg", faces=["ann", "ann"], seed=104)
    return root


@pytest.fixture
def trained(run, enrol, photos, use_people_models):
    run("index", str(photos))
    run("enroll", "--folders", str(enrol))
    return run("train", "--json")


def labels(config) -> dict[str, list[tuple[str | None, str | None]]]:
    """photo file name -> [(person, source)] left to right."""
    library = Library(load_config(config))
    with library.session() as session:
        rows = session.execute(
            select(Photo.path, Person.name, Face.label_source)
            .join(Face, Face.photo_id == Photo.id)
            .join(Person, Person.id == Face.person_id, isouter=True)
            .order_by(Photo.path, Face.box_x)
        )
        result: dict[str, list] = {}
        for path, name, source in rows:
            result.setdefault(os.path.basename(path), []).append((name, source))
        return result


def face_id_of(config, file_name: str, slot: int = 0) -> int:
    library = Library(load_config(config))
    with library.session() as session:
        ids = session.scalars(
            select(Face.id).join(Photo).where(Photo.path.like(f"%/{file_name}")).order_by(Face.box_x)
        ).all()
        return ids[slot]


def test_enroll_folders_names_each_photos_face_after_its_folder_and_reports_photos_without_a_face(run, enrol, use_people_models, config):
    result = run("enroll", "--folders", str(enrol))
    assert result.stdout.startswith("enrolled 12 photo(s) of 3 person(s): ann (4), bob (4), cy (4)\n")
    assert "1 photo(s) without a face, 0 unreadable" in result.stdout
    assert f"no face found in {enrol / 'ann' / 'landscape.jpg'}" in result.stderr
    found = labels(config)
    assert found["bob2.jpg"] == [("bob", "manual")] and "landscape.jpg" not in found
    people = run.json_lines("people")
    year = run.json_lines("find", "ann")[0]["taken"][:4]  # the photos' file times: they have no EXIF
    assert people == [{"name": n, "faces": 4, "photos": 4, "named_by_hand": 4, "first_seen": int(year), "last_seen": int(year)}
                      for n in ("ann", "bob", "cy")]


def test_enroll_one_person_from_photos_named_on_the_command_line(run, enrol, use_people_models, config):
    result = run("enroll", "Ann Smith", str(enrol / "ann" / "ann0.jpg"), str(enrol / "ann" / "ann1.jpg"), "--json")
    report = json.loads(result.stdout)
    assert [e["person"] for e in report["enrolled"]] == ["Ann Smith", "Ann Smith"]
    assert report["no_face"] == [] and report["failed"] == []
    assert labels(config)["ann1.jpg"] == [("Ann Smith", "manual")]


def test_enroll_of_a_missing_photo_is_one_line_and_exit_1(run, tmp_path, use_people_models):
    result = run("enroll", "ann", str(tmp_path / "nope.jpg"), expect=1)
    assert result.stderr == f"indexer: error: no such file: {tmp_path / 'nope.jpg'}\n"


def test_an_unreadable_photo_in_an_enrolment_is_reported_and_the_others_are_enrolled(run, enrol, use_people_models):
    (enrol / "bob" / "broken.jpg").write_bytes(b"not a jpeg")
    result = run("enroll", "--folders", str(enrol), "--json", expect=1)
    report = json.loads(result.stdout)
    assert len(report["enrolled"]) == 12
    assert report["failed"] == [{"photo": str(enrol / "bob" / "broken.jpg"), "reason": "not an image (no decoder recognises its content)"}]


def test_train_reports_accuracy_and_thresholds_and_keeps_the_classifier_in_data_dir_with_its_checksum(trained, run, config, tmp_path):
    report = json.loads(trained.stdout)
    assert [(p["name"], p["faces"], p["right"]) for p in report["people"]] == [("ann", 4, 4), ("bob", 4, 4), ("cy", 4, 4)]
    assert report["accuracy"] == 1.0 and report["folds"] == 4
    assert report["strangers"] == {"tested": 12, "named": 0}
    assert 0 < report["thresholds"]["max_distance"] <= 1.0 and report["thresholds"]["min_probability"] >= 0.5
    path = Path(report["classifier"])
    assert path.parent == tmp_path / "data" / "classifiers" and path.suffix == ".npz"
    library = Library(load_config(config))
    with library.session() as session:
        (row,) = session.scalars(select(Classifier)).all()
    import hashlib

    assert row.sha256 == hashlib.sha256(path.read_bytes()).hexdigest() and row.file == path.name
    assert row.report["accuracy"] == 1.0 and row.versions["scikit-learn"]
    status = run.json("status")
    assert status["trained"]["people"] == 3 and status["people"] == 3


def test_train_names_the_library_one_name_per_photo_and_a_stranger_stays_unknown(trained, config):
    found = labels(config)
    assert found["p1.jpg"] == [("ann", "auto"), ("bob", "auto")]
    assert found["p2.jpg"] == [("cy", "auto")]
    assert found["p3.jpg"] == [(None, None)]
    assert sorted(found["p4.jpg"], key=str) == [("ann", "auto"), (None, None)]
    assert json.loads(trained.stdout)["relabelled"] == {"faces": 6, "named": 4, "changed": 4}


def test_the_nightly_index_names_new_faces_once_trained(trained, run, photos, config):
    make_photo(photos / "new.jpg", faces=["dee", "bob"], seed=105)
    summary = run.json("index", str(photos))
    assert (summary["faces_added"], summary["faces_named"]) == (2, 1)
    assert labels(config)["new.jpg"] == [(None, None), ("bob", "auto")]


def test_who_is_answers_any_photo_one_json_object_per_line(trained, run, tmp_path):
    outside = make_photo(tmp_path / "elsewhere" / "x.jpg", faces=["dee", "cy"], seed=200)
    nothing = make_photo(tmp_path / "elsewhere" / "nothing.jpg", faces=0, seed=201)
    result = run("who-is", str(outside), str(nothing), "--json")
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert first["photo"] == str(outside)
    assert [(f["box"], f["person"]) for f in first["faces"]] == [([10, 10, 40, 40], None), ([70, 10, 40, 40], "cy")]
    assert first["faces"][0]["score"] is None and 0.5 <= first["faces"][1]["score"] <= 1
    assert set(first["faces"][1]) == {"box", "detection", "person", "score"}
    assert second == {"photo": str(nothing), "faces": []}


def test_who_is_on_a_library_photo_answers_from_the_index_with_face_ids(trained, run, photos):
    result = run("who-is", str(photos / "p1.jpg"), "--json")
    faces = json.loads(result.stdout)["faces"]
    assert [(f["person"], f["source"]) for f in faces] == [("ann", "auto"), ("bob", "auto")]
    assert all(isinstance(f["face_id"], int) for f in faces)
    text = run("who-is", str(photos / "p1.jpg")).stdout.splitlines()
    assert text[0].startswith(f"{photos / 'p1.jpg'}\tann\t") and text[0].split("\t")[3] == "10,10,40,40"


def test_who_is_reports_an_unreadable_photo_answers_the_rest_and_exits_1(trained, run, photos, tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8 nope")
    result = run("who-is", str(broken), str(tmp_path / "missing.jpg"), str(photos / "p2.jpg"), expect=1)
    assert result.stdout.count("\n") == 1 and "\tcy\t" in result.stdout
    assert f"indexer: error: {broken}: " in result.stderr
    assert f"indexer: error: {tmp_path / 'missing.jpg'}: no such file" in result.stderr


def test_who_is_annotate_draws_boxes_on_a_copy_for_one_photo_or_into_a_folder_for_several(trained, run, photos, tmp_path):
    out = tmp_path / "annotated.png"
    run("who-is", str(photos / "p1.jpg"), "--annotate", str(out))
    with Image.open(out) as image:
        assert image.size == (400, 200) and image.format == "PNG"
        assert image.getpixel((10, 30)) != image.getpixel((30, 30))  # a box edge drawn over the face's border
    folder = tmp_path / "many"
    folder.mkdir()
    run("who-is", str(photos / "p1.jpg"), str(photos / "p2.jpg"), "--annotate", str(folder))
    assert sorted(p.name for p in folder.iterdir()) == ["p1.jpg", "p2.jpg"]


def test_find_lists_the_photos_of_a_person_best_first_and_ignores_case(trained, run, enrol, photos):
    lines = run.json_lines("find", "ANN", "--sort", "best")
    paths = [line["photo"] for line in lines]
    assert sorted(paths) == sorted([str(enrol / "ann" / f"ann{n}.jpg") for n in range(4)]
                                   + [str(photos / "p1.jpg"), str(photos / "p4.jpg")])
    assert [line["matches"][0]["source"] for line in lines[:4]] == ["manual"] * 4  # named by hand: score 1
    scores = [line["matches"][0]["score"] for line in lines]
    assert scores == sorted(scores, reverse=True)
    assert set(lines[0]["matches"][0]) == {"face_id", "person", "box", "score", "source"}
    text = run("find", "ann", "--sort", "best").stdout.splitlines()
    assert len(text) == 6 and text[0].split("\t")[1:4] == ["10,10,40,40", "1.00", "manual"] and text[0].endswith("\tann")


def test_find_min_score_leaves_out_weaker_faces(trained, run):
    assert len(run("find", "ann", "--min-score", "1").stdout.splitlines()) == 4


def test_find_of_an_unknown_name_exits_1_and_suggests_the_closest(trained, run):
    result = run("find", "anne", expect=1)
    assert result.stderr == "indexer: error: no person named 'anne' (closest: ann)\n"


def test_a_name_given_by_hand_and_a_cleared_name_survive_training(trained, run, config):
    p1_ann, p4_ann = face_id_of(config, "p1.jpg", 0), face_id_of(config, "p4.jpg", 0)
    stranger = face_id_of(config, "p3.jpg")
    run("label", str(stranger), "Dee")
    assert run("label", str(p1_ann), "--clear").stdout.startswith(f"face {p1_ann} in ")
    run("train")
    found = labels(config)
    assert found["p3.jpg"] == [("Dee", "manual")]
    assert found["p1.jpg"] == [(None, "manual"), ("bob", "auto")]
    # ann twice in one photo: the rule names one face of the two, never both (one name per photo)
    assert sorted(labels(config)["p4.jpg"], key=str) == [("ann", "auto"), (None, None)]
    result = run.json("label", str(p4_ann), "bob")
    assert (result["person"], result["face_id"]) == ("bob", p4_ann)
    run("train")
    assert labels(config)["p4.jpg"][0] == ("bob", "manual")


def test_naming_a_face_by_hand_takes_the_name_from_another_face_of_the_photo_that_had_it_automatically(trained, run, config):
    slot = labels(config)["p4.jpg"].index((None, None))  # the face recognition left unknown
    run("label", str(face_id_of(config, "p4.jpg", slot)), "ann")
    found = labels(config)["p4.jpg"]
    assert found[slot] == ("ann", "manual") and found[1 - slot] == (None, None)


def test_label_needs_a_name_or_clear_and_an_existing_face(trained, run):
    assert run("label", "1", expect=2).exit_code == 2
    assert run("label", "999999", "ann", expect=1).stderr.startswith("indexer: error: no face with id 999999")


def test_rename_keeps_every_face_and_refuses_a_name_taken_by_someone_else(trained, run):
    before = run("find", "bob", "--json").stdout
    assert run("rename", "bob", "Robert").stdout == "renamed bob to Robert\n"
    assert run("find", "Robert", "--json").stdout == before.replace('"bob"', '"Robert"')
    result = run("rename", "Robert", "ANN", expect=1)
    assert "'ann' already exists: to make them one person, use `indexer merge 'Robert' 'ann'`" in result.stderr


def test_merge_moves_every_face_and_removes_the_first_person(trained, run):
    count = {p["name"]: p["faces"] for p in map(json.loads, run("people", "--json").stdout.splitlines())}
    result = run.json("merge", "cy", "bob")
    assert result == {"from": "cy", "into": "bob", "faces_moved": count["cy"], "faces": count["cy"] + count["bob"]}
    names = [p["name"] for p in map(json.loads, run("people", "--json").stdout.splitlines())]
    assert names == ["ann", "bob"]
    assert run("find", "cy", expect=1).exit_code == 1


def test_people_text_lists_each_person_with_counts(trained, run):
    lines = run("people").stdout.splitlines()
    assert lines[0].split() == ["name", "faces", "photos", "by", "hand", "seen"]
    year = run.json_lines("find", "ann")[0]["taken"][:4]  # the photos' file times: they have no EXIF
    assert lines[1].split() == ["ann", "6", "6", "4", year]


def test_train_with_nobody_named_is_one_line_and_exit_1(run, photos, use_people_models):
    run("index", str(photos))
    result = run("train", expect=1)
    assert result.stderr == "indexer: error: nothing to train on: no face is named yet (use `indexer enroll` or `indexer label`)\n"


def test_a_person_with_too_few_named_faces_is_reported_and_not_named_automatically(run, enrol, photos, use_people_models, config):
    run("index", str(photos))
    run("enroll", "--folders", str(enrol))
    run("label", str(face_id_of(config, "p3.jpg")), "dee")
    report = run.json("train")
    assert report["left_out"] == [{"name": "dee", "faces": 1}]
    assert labels(config)["p3.jpg"] == [("dee", "manual")]


def test_a_tampered_classifier_is_refused_by_who_is_and_skipped_by_the_nightly_run(trained, run, photos):
    path = Path(json.loads(trained.stdout)["classifier"])
    path.write_bytes(path.read_bytes() + b"x")
    make_photo(photos / "p3.jpg", faces=["dee", "ann"], seed=300)  # changed: must be read again
    result = run("who-is", str(photos / "p3.jpg"), expect=1)
    assert "does not match its recorded checksum; run `indexer train`" in result.stderr
    summary = run.json("index", str(photos))
    assert summary["changed"] == 1 and summary["faces_named"] == 0 and summary["errors"] == 0


def test_a_changed_photo_keeps_the_names_given_by_hand_on_the_same_faces(trained, run, photos, config):
    run("label", str(face_id_of(config, "p2.jpg")), "Cyrus")
    make_photo(photos / "p2.jpg", faces=["cy", "dee"], seed=400)  # edited: a second face appears
    run("index", str(photos))
    assert labels(config)["p2.jpg"] == [("Cyrus", "manual"), (None, None)]


def test_find_and_people_never_load_tensorflow_scikit_learn_or_faiss(trained, config):
    code = (
        "import sys\n"
        "from indexer.cli import app\n"
        "for args in (['find', 'ann'], ['people']):\n"
        f"    try: app(['--config', {str(config)!r}, *args])\n"
        "    except SystemExit as e: assert e.code == 0, e.code\n"
        "loaded = [m for m in ('tensorflow', 'keras', 'sklearn', 'faiss', 'mtcnn') if m in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "\tmanual" in done.stdout and "ann" in done.stdout


def test_similar_lists_the_nearest_faces_first_and_they_are_the_same_person(trained, run, config):
    face = face_id_of(config, "p2.jpg")  # cy
    lines = run.json_lines("similar", str(face), "--limit", "4")
    assert len(lines) == 4 and face not in [line["face_id"] for line in lines]
    assert [line["person"] for line in lines] == ["cy"] * 4
    assert [line["distance"] for line in lines] == sorted(line["distance"] for line in lines)
    assert set(lines[0]) == {"face_id", "distance", "photo", "box", "person"}
    assert run("similar", "999999", expect=1).stderr == "indexer: error: no face with id 999999\n"


def test_a_name_typed_in_nfd_or_another_case_is_the_same_person(trained, run, photos):
    import unicodedata

    face = run.json("show", str(photos / "p3.jpg"))["faces"][0]["face_id"]
    run("label", str(face), "Zoë")  # NFC, as typed on most systems
    decomposed = unicodedata.normalize("NFD", "ZOË")  # as macOS spells folder names, in capitals
    assert decomposed != "ZOË"
    assert run.json("find", decomposed)["photo"] == str(photos / "p3.jpg")
    other = run.json("show", str(photos / "p2.jpg"))["faces"][0]["face_id"]
    run("label", str(other), unicodedata.normalize("NFD", "zoë"))
    people = [line["name"] for line in run.json_lines("people")]
    assert people.count("Zoë") == 1 and not any(unicodedata.normalize("NFC", p) != p for p in people)
    assert len(run("find", "zoë").stdout.splitlines()) == 2
