"""History and undo of names given by hand, through the CLI (fake models, real SQLite): every change by
hand is one event; `undo` puts back exactly what was there before, newest first, and is an event too."""

from __future__ import annotations

import sqlite3

import pytest

from support.e2e import name_rows
from support.photos import make_photo


@pytest.fixture
def library(run, tmp_path, use_people_models):
    """Indexed: ann and bob together, ann alone, cy alone; nobody named yet."""
    root = tmp_path / "photos"
    make_photo(root / "p1.jpg", faces=["ann", "bob"], seed=1)
    make_photo(root / "p2.jpg", faces=["ann"], seed=2)
    make_photo(root / "p3.jpg", faces=["cy"], seed=3)
    run("index", str(root))
    return root


def face_ids(run, photo) -> list[int]:
    return [face["face_id"] for face in run.json("show", str(photo))["faces"]]


def state(tmp_path) -> tuple[list, list, list]:
    return name_rows(tmp_path / "data" / "indexer.db")


def history(run) -> list[dict]:
    return run.json_lines("history")


def test_each_change_by_hand_is_one_event_newest_first(run, library):
    ann, bob = face_ids(run, library / "p1.jpg")
    run("label", str(ann), "Ann")
    run("label", str(bob), "Bob")
    run("rename", "Bob", "Robert")
    run("merge", "Robert", "Ann")
    events = history(run)
    assert [e["action"] for e in events] == ["merge", "rename", "label", "label"]
    assert events[0]["description"] == "merged 'Robert' into 'Ann' (1 faces)" and events[0]["faces"] == 1
    assert events[1]["description"] == "renamed 'Bob' to 'Robert'"
    assert events[3]["description"].startswith(f"face {ann}: unnamed → Ann, in ")
    assert all(e["undone_by"] is None for e in events)
    text = run("history").stdout.splitlines()
    assert text[0].startswith(f"#{events[0]['id']}\t") and "\tmerge\tmerged 'Robert' into 'Ann'" in text[0]


def test_undo_puts_back_exactly_what_was_there_before_newest_first(run, library, tmp_path):
    ann, bob = face_ids(run, library / "p1.jpg")
    (alone,) = face_ids(run, library / "p2.jpg")
    run("label", str(ann), "Ann")
    run("label", str(alone), "Ann")
    run("label", str(bob), "Bob")
    before_merge = state(tmp_path)
    run("merge", "Bob", "Ann")
    assert state(tmp_path) != before_merge
    assert run("undo").stdout.startswith("undone #4: merged 'Bob' into 'Ann'")
    assert state(tmp_path) == before_merge  # Bob is back, with his id, name, time and face
    run("undo", "2")  # Bob's label, then the second face of Ann
    faces, people, _ = state(tmp_path)
    assert [p[1] for p in people] == ["Ann"]
    assert [f[1:] for f in faces if f[0] in (bob, alone)] == [(None, None, None)] * 2
    events = history(run)
    assert [e["action"] for e in events[:3]] == ["undo"] * 3 and events[0]["description"].startswith("undo #2: face")
    assert [e["undone_by"] for e in events[3:]] == [events[2]["id"], events[1]["id"], events[0]["id"], None]


def test_undo_of_a_rename_and_of_a_clear(run, library, tmp_path):
    (cy,) = face_ids(run, library / "p3.jpg")
    run("label", str(cy), "Cy")
    named = state(tmp_path)
    run("label", str(cy), "--clear")
    run("rename", "Cy", "Cyrus")
    run("undo", "2")
    assert state(tmp_path) == named


def test_undo_of_an_enrolment_unnames_its_faces_and_removes_the_people_it_created(run, tmp_path, use_people_models):
    root = tmp_path / "enrol"
    for name in ("ann", "bob"):
        for n in range(3):
            make_photo(root / name / f"{name}{n}.jpg", faces=[name], seed=10 * len(name) + n)
    run("enroll", "--folders", str(root))
    assert [e["action"] for e in history(run)] == ["enroll"]
    assert history(run)[0]["faces"] == 6
    run("undo")
    faces, people, _ = state(tmp_path)
    assert people == [] and all(f[1:] == (None, None, None) for f in faces) and len(faces) == 6


def test_undo_never_takes_a_name_somebody_else_has_now(run, library, tmp_path):
    ann, _ = face_ids(run, library / "p1.jpg")
    run("label", str(ann), "Ann")
    run("rename", "Ann", "Annie")
    # Undo goes newest first, so its own events cannot get in its way; a person made outside the history
    # (by an earlier version of indexer, or by hand in SQL) can.
    with sqlite3.connect(tmp_path / "data" / "indexer.db") as db:
        db.execute("INSERT INTO people (name, created_at) VALUES ('Ann', '2026-01-01 00:00:00')")
    before = state(tmp_path)
    result = run("undo", expect=1)
    assert "cannot undo: the name 'Ann' belongs to another person now (rename them first)" in result.stderr
    assert state(tmp_path) == before and history(run)[0]["undone_by"] is None


def test_undo_with_nothing_to_undo_is_one_line_and_exit_1(run, library):
    result = run("undo", expect=1)
    assert result.stderr.strip() == "indexer: error: nothing to undo: no name has been given by hand since the history began"
    (cy,) = face_ids(run, library / "p3.jpg")
    run("label", str(cy), "Cy")
    assert "1 change(s) of names can be undone, not 2" in run("undo", "2", expect=1).stderr
    run("undo", "0", expect=2)


def test_split_moves_faces_to_another_person_and_undo_takes_it_back(run, library, tmp_path):
    ann, bob = face_ids(run, library / "p1.jpg")
    (alone,) = face_ids(run, library / "p2.jpg")
    run("label", str(ann), "Ann")
    run("label", str(alone), "Ann")
    before = state(tmp_path)
    result = run.json("split", "ann", "--faces", str(alone), "--into", "Annika")
    assert result == {"from": "Ann", "into": "Annika", "faces_moved": 1, "created": True}
    assert run.json("show", str(library / "p2.jpg"))["faces"][0]["person"] == "Annika"
    assert "face 999 is not one of Ann's faces" in run("split", "Ann", "--faces", "999", expect=1).stderr
    assert "is not one of Ann's faces" in run("split", "Ann", "--faces", str(bob), expect=1).stderr
    run("undo")
    assert state(tmp_path) == before
