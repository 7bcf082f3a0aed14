"""Suggestions, confirmed and rejected, through the CLI with the fake models (faces coloured per person):
a rejected pair is never suggested again nor named automatically, and both answers can be undone."""

from __future__ import annotations

import json

import pytest

from support.photos import make_photo


@pytest.fixture
def library(run, tmp_path, use_people_models):
    """ann in five photos, bob in three; three of ann's faces and one of bob's named by hand, no training."""
    root = tmp_path / "photos"
    for i in range(5):
        make_photo(root / f"ann{i}.jpg", faces=["ann"], seed=i)
    for i in range(3):
        make_photo(root / f"bob{i}.jpg", faces=["bob"], seed=10 + i)
    run("index", str(root))
    ids = {}
    for photo in sorted(root.iterdir()):
        (face,) = run.json("show", str(photo))["faces"]
        ids[photo.stem] = face["face_id"]
    for stem, name in (("ann0", "Ann"), ("ann1", "Ann"), ("ann2", "Ann"), ("bob0", "Bob")):
        run("label", str(ids[stem]), name)
    return root, ids


def suggested(run, *args) -> list[dict]:
    return [json.loads(line) for line in run("review", *args, "--json").stdout.splitlines()]


def test_review_suggests_the_unnamed_faces_near_somebody_named_nearest_first(run, library):
    root, ids = library
    found = suggested(run)
    assert {(s["face_id"], s["person"]) for s in found} == {(ids["ann3"], "Ann"), (ids["ann4"], "Ann"),
                                                            (ids["bob1"], "Bob"), (ids["bob2"], "Bob")}
    assert [s["distance"] for s in found] == sorted(s["distance"] for s in found) and found[0]["distance"] < 0.5
    assert {s["face_id"] for s in suggested(run, "bob")} == {ids["bob1"], ids["bob2"]}
    assert len(suggested(run, "--limit", "1")) == 1
    lines = run("review", "--no-ask").stdout.splitlines()
    assert len(lines) == 4 and lines[0].startswith(f"face {found[0]['face_id']}\t{found[0]['person']}\t")


def test_a_rejected_face_is_never_suggested_again_nor_named_so_by_train(run, library):
    root, ids = library
    assert run("reject", str(ids["ann4"]), "ann").stdout.strip() == f"face {ids['ann4']}: not Ann"
    assert ids["ann4"] not in {s["face_id"] for s in suggested(run)}
    run("train")
    faces = {stem: run.json("show", str(root / f"{stem}.jpg"))["faces"][0] for stem in ("ann3", "ann4")}
    assert faces["ann3"]["person"] == "Ann" and faces["ann3"]["source"] == "auto"  # the rule names the other one
    assert faces["ann4"]["person"] is None
    run("reject", str(ids["ann3"]), "Ann")  # now named automatically: the name comes off at once
    assert run.json("show", str(root / "ann3.jpg"))["faces"][0]["person"] is None
    refused = run("reject", str(ids["ann0"]), "Ann", expect=1)
    assert f"face {ids['ann0']} was named Ann by hand" in refused.stderr


def test_answers_in_the_terminal_name_reject_skip_and_stop(run, library):
    root, ids = library
    order = [s["face_id"] for s in suggested(run)]
    result = run("review", "--ask", input="y\nn\ns\nq\n")
    assert result.stdout.count("[y/n/s/q]") == 4
    named = run.json("show", str(next(p for p in root.iterdir() if ids[p.stem] == order[0])))
    assert named["faces"][0]["source"] == "manual"
    left = [s["face_id"] for s in suggested(run)]
    assert order[0] not in left and order[1] not in left and order[2] in left and order[3] in left
    actions = [line["action"] for line in run.json_lines("history")]
    assert actions[:2] == ["reject", "confirm"]
    run("undo", "2")
    assert [s["face_id"] for s in suggested(run)] == order


def test_confirm_names_the_face_by_hand(run, library):
    root, ids = library
    assert run("confirm", str(ids["bob2"]), "bob").stdout.startswith(f"face {ids['bob2']} in ")
    assert run.json("show", str(root / "bob2.jpg"))["faces"][0]["source"] == "manual"
    run("confirm", "999", "Bob", expect=1)
    run("reject", str(ids["bob1"]), "Nobody", expect=1)


def test_a_rejection_stays_with_its_face_when_the_photo_is_read_again(run, library):
    root, ids = library
    run("train")
    run("reject", str(ids["ann4"]), "Ann")
    make_photo(root / "ann4.jpg", faces=["ann"], seed=4, shade=45)  # edited: read again, the face gets a new id
    run("index", str(root))
    (face,) = run.json("show", str(root / "ann4.jpg"))["faces"]
    assert face["face_id"] != ids["ann4"] and face["person"] is None  # not named Ann by the nightly run
    assert face["face_id"] not in {s["face_id"] for s in suggested(run)}
    run("train")
    assert run.json("show", str(root / "ann4.jpg"))["faces"][0]["person"] is None
