"""Faces the detector misses, drawn by hand (`add-face`) and kept as the user's work: shown, named, found
and searched like any face, undone as one event, carried through a photo read anew, and handed to the
face the detector finds there later. With the fake models: the fake detector finds the squares in the
slots along the top of a photo, not one placed elsewhere (``make_photo(elsewhere=...)``), and is made
blind to a slot where a test needs a face it misses. tests/test_e2e_drawn.py does it with the real models."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from support.photos import make_photo
from support.cli import faces

DEE_BOX = [200, 120, 40, 40]  # where make_photo(elsewhere={"dee": (200, 120)}) puts dee's face


@pytest.fixture
def models(use_people_models):
    return use_people_models


@pytest.fixture
def library(run, tmp_path, models):
    """p.jpg: ann in a slot (found) and dee elsewhere (missed); q.jpg: dee in a slot (found)."""
    root = tmp_path / "photos"
    make_photo(root / "p.jpg", faces=["ann"], seed=1, elsewhere={"dee": tuple(DEE_BOX[:2])})
    make_photo(root / "q.jpg", faces=["dee"], seed=2)
    run("index", str(root))
    return root



def re_encode(photo: Path, quality: int) -> None:
    """The same picture in new bytes (as an editor saving it again does)."""
    with Image.open(photo) as image:
        image.load()
        image.save(photo, quality=quality)


def test_a_face_drawn_by_hand_is_shown_named_found_searched_and_undone_as_one_event(run, library, tmp_path):
    photo = library / "p.jpg"
    assert [f["box"] for f in faces(run, photo)] == [[10, 10, 40, 40]]  # dee is missed
    added = run.json("add-face", str(photo), ",".join(map(str, DEE_BOX)), "--name", "Dee")
    assert (added["box"], added["person"], added["source"], added["origin"], added["detection"]) == (
        DEE_BOX, "Dee", "manual", "drawn", 1.0)
    assert added in faces(run, photo)  # --json prints it as show --json does
    assert [f["origin"] for f in faces(run, photo)] == ["detected", "drawn"]
    assert "drawn" in run("show", str(photo)).stdout
    assert str(photo) in run("find", "Dee").stdout
    dee_in_q = faces(run, library / "q.jpg")[0]["face_id"]
    nearest = run("similar", str(added["face_id"]), "--json").json_lines()
    assert nearest[0]["face_id"] == dee_in_q  # the drawn face is in the vector file
    rows = run("export", "--format", "jsonl").json_lines()
    assert {(r["face_id"], r["origin"]) for r in rows} >= {(added["face_id"], "drawn")}
    event = run.json_lines("history")[0]
    assert event["action"] == "add-face" and "drawn" in event["description"]

    undone = run.json("undo")
    assert undone["faces_removed"] == [added["face_id"]]
    assert [f["origin"] for f in faces(run, photo)] == ["detected"]
    assert run("similar", str(added["face_id"]), expect=1).stderr.strip()
    check = run.json("check")
    assert check["problems"] == []  # the vector file lost the face with the database


def test_a_drawn_face_is_learnt_from_and_names_others_like_any_face(run, library, tmp_path):
    root = library
    make_photo(root / "r.jpg", faces=["dee"], seed=3)
    make_photo(root / "s.jpg", faces=["dee"], seed=4)
    run("index", str(root))
    q, r = faces(run, root / "q.jpg")[0], faces(run, root / "r.jpg")[0]
    run("label", str(q["face_id"]), "Dee")
    run("label", str(r["face_id"]), "Dee")
    run("add-face", str(root / "p.jpg"), ",".join(map(str, DEE_BOX)), "--name", "Dee")  # the third face of Dee
    report = run.json("train")
    assert "Dee" in json.dumps(report) and faces(run, root / "s.jpg")[0]["person"] == "Dee"


@pytest.mark.parametrize("box, why", [
    ("380,10,40,40", "not inside the 400×200 photo"),
    ("0,-1,40,40", "not inside"),
    ("0,0,0,40", "not inside"),
    ("10,100,12,15", "too small to embed"),
    ("10,10,40", "X,Y,W,H"),
    ("a,b,c,d", "X,Y,W,H"),
])
def test_a_box_outside_the_photo_or_too_small_to_embed_is_one_line_and_nothing_is_drawn(run, library, box, why):
    result = run("add-face", str(library / "p.jpg"), box, "--name", "Dee", expect=1)
    assert why in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert len(faces(run, library / "p.jpg")) == 1
    assert "Dee" not in run("people").stdout


def test_add_face_on_a_photo_not_in_the_index_or_changed_since_is_one_line(run, library, tmp_path):
    stranger = make_photo(tmp_path / "elsewhere" / "x.jpg", faces=1)
    result = run("add-face", str(stranger), "10,10,40,40", expect=1)
    assert "not in the index" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    make_photo(library / "p.jpg", faces=["ann"], size=(300, 200), seed=1)  # changed, not indexed again yet
    result = run("add-face", str(library / "p.jpg"), "10,10,40,40", expect=1)
    assert "changed since it was indexed" in result.stderr


def test_drawn_faces_outlive_every_re_read_and_become_the_face_the_detector_finds_there_later(run, library, models):
    detector, _ = models
    photo = library / "b.jpg"
    make_photo(photo, faces=["ann", "bob"], seed=5)
    detector.blind_to = {1}  # bob's face is missed
    run("index", str(library))
    assert len(faces(run, photo)) == 1
    bob = run.json("add-face", str(photo), "70,10,40,40", "--name", "Bob")
    run("index", str(library))  # the nightly run, nothing changed
    assert [(f["face_id"], f["person"]) for f in faces(run, photo) if f["origin"] == "drawn"] == [(bob["face_id"], "Bob")]

    re_encode(photo, quality=80)  # new bytes, the same picture: read anew; the detector still misses bob
    run("index", str(library))
    drawn = [f for f in faces(run, photo) if f["origin"] == "drawn"]
    assert [(f["box"], f["person"], f["source"]) for f in drawn] == [([70, 10, 40, 40], "Bob", "manual")]
    assert len(faces(run, photo)) == 2 and run.json("check")["problems"] == []

    detector.blind_to = set()  # other settings: the detector finds bob's face now
    re_encode(photo, quality=85)
    run("index", str(library))
    now = faces(run, photo)
    # never two faces for one: bob's is the detected face now, named as the drawn one was
    assert [(f["box"], f["person"], f["source"], f["origin"]) for f in now][1:] == [([70, 10, 40, 40], "Bob", "manual", "detected")]
    assert len(now) == 2 and run("lost-names", "--json").stdout.strip() == ""

    run("undo")  # the add-face: the detected face stays, the name the drawn face gave it goes
    after = faces(run, photo)
    assert [(f["box"], f["origin"]) for f in after] == [([10, 10, 40, 40], "detected"), ([70, 10, 40, 40], "detected")]
    assert after[1]["person"] is None


def test_undo_after_a_re_read_removes_the_drawn_face_wherever_it_went(run, library):
    photo = library / "p.jpg"
    run("add-face", str(photo), ",".join(map(str, DEE_BOX)), "--name", "Dee")
    re_encode(photo, quality=80)
    run("index", str(library))
    assert [f["origin"] for f in faces(run, photo)] == ["detected", "drawn"]
    run("undo")
    assert [f["origin"] for f in faces(run, photo)] == ["detected"]
    assert run.json("check")["problems"] == []


def test_a_drawn_face_on_a_photo_saved_smaller_keeps_its_place(run, library):
    photo = library / "p.jpg"
    run("add-face", str(photo), ",".join(map(str, DEE_BOX)), "--name", "Dee")
    with Image.open(photo) as image:
        image.resize((200, 100)).save(photo, quality=95)
    run("index", str(library))
    drawn = [f for f in faces(run, photo) if f["origin"] == "drawn"]
    assert [(f["box"], f["person"]) for f in drawn] == [([100, 60, 20, 20], "Dee")]


def test_the_gallery_marks_a_drawn_face(run, library, tmp_path):
    photo = library / "p.jpg"
    added = run.json("add-face", str(photo), ",".join(map(str, DEE_BOX)), "--name", "Dee")
    run("gallery", str(tmp_path / "gallery"))
    (page,) = [p for p in (tmp_path / "gallery" / "photos").glob("*.html") if str(photo) in p.read_text()]
    text = page.read_text()
    assert f'class="box named drawn" id="face-{added["face_id"]}"' in text
    assert f"#{added['face_id']} (drawn by hand)" in text and text.count("drawn by hand") == 1


def test_add_face_refuses_a_photo_edited_since_it_was_indexed_even_at_the_same_size(run, library):
    photo = library / "p.jpg"
    with Image.open(photo) as image:
        edited = image.convert("RGB").transpose(Image.Transpose.FLIP_LEFT_RIGHT)  # the same size, faces elsewhere
    edited.save(photo, quality=95)
    result = run("add-face", str(photo), ",".join(map(str, DEE_BOX)), expect=1)
    assert "changed since it was indexed" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert len(faces(run, photo)) == 1


def test_add_face_refuses_a_box_on_a_face_the_index_has_and_names_that_face(run, library):
    (ann,) = faces(run, library / "p.jpg")
    x, y, w, h = ann["box"]
    result = run("add-face", str(library / "p.jpg"), f"{x + 5},{y + 5},{w},{h}", "--name", "Ann", expect=1)
    assert result.stderr.strip() == (f"indexer: error: the box {x + 5},{y + 5},{w},{h} lies on face {ann['face_id']} "
                                     f"(they overlap by 62 %): name that face instead (`indexer label {ann['face_id']} NAME`)")
    assert len(faces(run, library / "p.jpg")) == 1
    run("add-face", str(library / "p.jpg"), ",".join(map(str, DEE_BOX)))  # beside it: drawn
    assert len(faces(run, library / "p.jpg")) == 2
