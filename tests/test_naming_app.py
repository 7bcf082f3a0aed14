"""Naming the whole library in the app (`indexer serve`), through Starlette's test client with the fake
models (faces are coloured squares: support/photos.py), on SQLite and PostgreSQL: the faces nobody named
with their guesses, named together or given their guesses; naming flowing from cluster to cluster; a face
left out remembered as "not NAME"; "not a face"; a rename to a taken name offering the merge; who may be the
same person; the photos by date with the faceless ones, a photo's neighbours in the list it was opened
from; people searched, sorted, hidden, shown by a chosen face; training from the app; any change undone
from the history; plain words. tests/test_e2e_naming_app.py drives the same in Chromium with the real
models."""

from __future__ import annotations

import re
import time

import pytest

from support.app import app_client, done_event, named_unsorted_library, post
from support.cli import faces as faces_of
from support.photos import make_photo


@pytest.fixture
def run(run_on_both):
    return run_on_both


@pytest.fixture
def library(run, tmp_path, use_people_models):
    """The unsorted library (ann in 4 photos, bob in 3 — once with ann —, cy in 1) and a photo with no face,
    indexed; one face of ann's named Ann by hand. Returns (folder, {photo stem: [face ids]})."""
    return named_unsorted_library(run, tmp_path / "photos", faceless=True)


@pytest.fixture
def client(library, run):
    with app_client(run.config) as client:
        yield client


def settled(client, path: str, waiting: str, seconds: float = 30) -> str:
    """The page at ``path`` once it no longer says ``waiting`` (the look at the library is computed in the
    background)."""
    deadline = time.monotonic() + seconds
    while waiting in (page := client.get(path).text):
        assert time.monotonic() < deadline, page
        time.sleep(0.05)
    return page


def person_id(client, name: str) -> int:
    return int(re.search(rf'href="/people/(\d+)">\s*<img[^>]*alt="{re.escape(name)}"', client.get("/people?hidden=1").text).group(1))


def unnamed_ids(page: str) -> list[int]:
    return [int(face) for face in re.findall(r'<li class="face pick" data-face-id="(\d+)"', page)]


def test_the_faces_nobody_named_are_listed_largest_first_with_a_guess_and_named_together(client, library, run):
    root, faces = library
    page = settled(client, "/faces/unnamed", "being worked out")
    listed = unnamed_ids(page)
    assert sorted(listed) == sorted(f for stem, ids in faces.items() for f in ids if f != faces["p0"][0])
    assert f'data-face-id="{faces["p1"][0]}" data-guess="Ann" data-sure="sure"' in page  # ann's faces look like Ann
    assert "looks like Ann (sure)" in page and "distance" not in page
    assert "looks like nobody named" in page or 'data-sure="unsure"' in page  # bob and cy: nobody named like them yet
    # Two of bob's faces, ticked, named together: one event, undone from the page that follows.
    named = post(client, "/faces/unnamed", {"face": [str(faces["p4"][0]), str(faces["p5"][0])], "name": "Bob", "do": "name"})
    assert named.headers["location"].startswith("/faces/unnamed?page=1&done=")
    assert [f["person"] for f in faces_of(run, root / "p4.jpg")] == ["Bob"] == [f["person"] for f in faces_of(run, root / "p5.jpg")]
    assert run.json_lines("history")[0]["id"] == done_event(named)
    # Ann's other faces, given their guesses: each named as it looks, one event.
    settled(client, "/faces/unnamed", "being worked out")
    accepted = post(client, "/faces/unnamed", {"face": [str(faces["p1"][0]), str(faces["p3"][0])], "do": "accept"})
    assert {f["person"] for photo in ("p1", "p3") for f in faces_of(run, root / f"{photo}.jpg")} == {"Ann"}
    post(client, "/undo", {"event": str(done_event(accepted))})
    assert {f["person"] for photo in ("p1", "p3") for f in faces_of(run, root / f"{photo}.jpg")} == {None}
    refused = post(client, "/faces/unnamed", {"do": "name", "name": "Bob"}, expect=400)
    assert "tick the faces first" in refused.text


def test_naming_a_cluster_goes_on_to_the_next_and_the_faces_left_out_are_not_that_person(client, library, run):
    root, faces = library
    clusters = run.json_lines("clusters")
    assert len(clusters) == 2  # ann's three unnamed faces, bob's three
    first, second = clusters
    left_out = first["faces"][-1]["face_id"]
    named = post(client, f"/clusters/{first['cluster']}/name", {"name": "First", "except": [str(left_out)]})
    assert named.headers["location"].startswith(f"/clusters/{second['cluster']}?done=")  # the next cluster
    last = post(client, f"/clusters/{second['cluster']}/name", {"name": "Second"})
    assert last.headers["location"].startswith("/faces/unnamed?done=")  # after the last: the faces left over
    # The face left out is "not First" (the store `reject` uses): never suggested as First, here or in review.
    rejected = run.query("SELECT face_id FROM rejections WHERE person_id = (SELECT id FROM people WHERE name = 'First')")
    assert rejected == [(left_out,)]
    assert all(s["face_id"] != left_out or s["person"] != "First" for s in run.json_lines("review", "--limit", "100"))
    review = settled(client, "/review", "Looking for unnamed faces")
    assert f'data-face-id="{left_out}"' not in review or "First?" not in review
    assert "left out (not First)" in run.json_lines("history")[1]["description"]


def test_not_a_face_leaves_every_list_and_count_and_comes_back_with_undo(client, library, run):
    root, faces = library
    cy = faces["p6"][0]
    dismissed = post(client, f"/faces/{cy}/name", {"do": "dismiss"})
    assert dismissed.headers["location"].endswith(f"#face-{cy}")
    assert cy not in unnamed_ids(settled(client, "/faces/unnamed", "being worked out"))
    assert all(cy not in {f["face_id"] for f in c["faces"]} for c in run.json_lines("clusters"))
    assert run.json_lines("find", "--faces", "0") and str(root / "p6.jpg") in {line["photo"] for line in run.json_lines("find", "--faces", "0")}
    photo = re.match(r"/photos/(\d+)\?", dismissed.headers["location"]).group(1)
    assert 'class="box not-a-face"' in client.get(f"/photos/{photo}").text
    home = client.get("/").text
    assert f'<span id="faces-count">{sum(len(ids) for ids in faces.values()) - 1}</span>' in home
    # Read anew (the same picture saved again: another file, the same place): still not a face.
    make_photo(root / "p6.jpg", faces=["cy"], seed=6, taken="2001:01:01 00:00:00")
    run("index", str(root))
    (again,) = faces_of(run, root / "p6.jpg")
    assert again["face_id"] != cy and again["source"] == "not a face" and again["person"] is None
    post(client, "/undo", {"event": str(done_event(dismissed))})
    assert faces_of(run, root / "p6.jpg")[0]["source"] is None  # a face again, where the word went


def test_a_rename_to_a_name_somebody_has_offers_the_merge_and_warns_of_a_person_twice_in_a_photo(client, library, run):
    root, faces = library
    run("label", str(faces["p2"][0]), "Annie")  # ann's face in p2, beside bob's
    run("label", str(faces["p2"][1]), "Ann")  # bob's face in p2, named Ann by mistake
    annie = person_id(client, "Annie")
    offered = post(client, f"/people/{annie}/rename", {"name": "ann"})
    ann = person_id(client, "Ann")
    assert offered.headers["location"] == f"/people/{annie}/merge?into={ann}"
    page = client.get(offered.headers["location"]).text
    assert "<h1>Ann already exists</h1>" in page and "Merging moves 1 face of Annie to Ann" in page
    assert "both are named" in page and str(root / "p2.jpg") in page  # Ann would be twice in p2
    merged = post(client, f"/people/{annie}/merge", {"into_id": str(ann)})
    assert merged.headers["location"].startswith(f"/people/{ann}?done=")
    assert [p["name"] for p in run.json_lines("people")] == ["Ann"]
    assert client.get(f"/people/{annie}/merge?into={ann}").status_code == 404  # Annie is gone


def test_a_persons_page_lists_who_may_be_the_same_person_and_names_or_merges_them(client, library, run):
    root, faces = library
    run("label", str(faces["p1"][0]), "Ann too")  # ann again, under another name
    ann = person_id(client, "Ann")
    page = settled(client, f"/people/{ann}", "Looking for people and clusters")
    listed = re.findall(r'<li data-kind="(\w+)" data-id="(\d+)">', page)
    assert ("person", str(person_id(client, "Ann too"))) in listed[:2]
    assert all(int(percent) >= 90 for percent in re.findall(r"looks alike (\d+)%", page)[:2])
    ann_cluster = next(c for c in run.json_lines("clusters") if faces["p3"][0] in {f["face_id"] for f in c["faces"]})
    assert ("cluster", str(ann_cluster["cluster"])) in listed
    bob_cluster = next(c for c in run.json_lines("clusters") if faces["p4"][0] in {f["face_id"] for f in c["faces"]})
    assert ("cluster", str(bob_cluster["cluster"])) not in listed  # bob looks like somebody else
    named = post(client, f"/clusters/{ann_cluster['cluster']}/name", {"name": "Ann", "back": "person"})
    assert named.headers["location"].startswith(f"/people/{ann}?done=")
    post(client, f"/people/{person_id(client, 'Ann too')}/merge", {"into_id": str(ann)})
    assert [p["name"] for p in run.json_lines("people")] == ["Ann"]


def test_every_photo_by_date_faceless_ones_too_and_a_photos_neighbours_in_the_list_it_came_from(client, library, run):
    root, faces = library
    page = client.get("/photos").text
    shown = re.findall(r'data-photo-id="(\d+)" data-path="([^"]+)"', page)
    assert {path for _, path in shown} == {str(p) for p in root.glob("*.jpg")}  # empty.jpg too
    empty = next(photo_id for photo_id, path in shown if path.endswith("empty.jpg"))
    faceless = client.get(f"/photos/{empty}?in=photos").text
    assert '<h1 class="path" title="' in faceless and ">photos/empty.jpg</h1>" in faceless  # from its root
    assert 'id="draw-face"' in faceless and "No face was found in it" in faceless
    drawn = post(client, f"/photos/{empty}/draw", {"x": "10", "y": "10", "w": "40", "h": "40", "name": "Dee"})
    assert "#face-" in drawn.headers["location"] and [f["person"] for f in faces_of(run, root / "empty.jpg")] == ["Dee"]
    # Neighbours in the list the photo was opened from, in its order.
    order = [int(photo_id) for photo_id, _ in shown]
    middle = client.get(f"/photos/{order[1]}?in=photos").text
    assert f'href="/photos/{order[0]}?in=photos" id="previous"' in middle and f'href="/photos/{order[2]}?in=photos" id="next"' in middle
    assert "all photos</a>: 2 of 8" in middle
    ann = person_id(client, "Ann")
    person_page = client.get(f"/people/{ann}").text
    first = int(re.search(r'href="/photos/(\d+)\?in=person:(\d+)#face-', person_page).group(1))
    lone = client.get(f"/photos/{first}?in=person:{ann}").text
    assert "Ann&#39;s photos</a>: 1 of 1" in lone and 'class="end">← previous' in lone
    found = client.get("/search?faces=1-&sort=newest").text
    listed = [int(p) for p in re.findall(r'data-photo-id="(\d+)"', found)]
    link = re.search(rf'href="(/photos/{listed[1]}\?in=search:[^"]+)"', found).group(1)
    inside = client.get(link.replace("&amp;", "&")).text
    assert f'/photos/{listed[0]}?in=search:' in inside and f"the search</a>: 2 of {len(listed)}" in inside
    assert client.get(f"/photos/{first}?in=nonsense").status_code == 200  # an unknown list: no neighbours


def test_people_searched_sorted_hidden_and_shown_by_a_chosen_face(client, library, run):
    root, faces = library
    run("label", str(faces["p4"][0]), "Bob")
    run("label", str(faces["p5"][0]), "Bob")
    run("label", str(faces["p6"][0]), "Cy")
    names = lambda page: re.findall(r'<span class="name">([^<]+)</span>', page)  # noqa: E731
    assert names(client.get("/people?sort=faces").text) == ["Bob", "Ann", "Cy"]
    assert names(client.get("/people?q=B").text) == ["Bob"] and 'id="people-filter"' in client.get("/people").text
    bob = person_id(client, "Bob")
    post(client, f"/people/{bob}/shown", {"shown": "0"})
    assert names(client.get("/people").text) == ["Ann", "Cy"] and "1 hidden" in client.get("/people").text
    assert "Bob" not in client.get("/").text.split('id="people-heading"')[1].split("</section>")[0]
    assert names(client.get("/people?hidden=1").text) == ["Ann", "Bob (hidden)", "Cy"]
    assert len(run.json_lines("find", "Bob")) == 2  # still found
    post(client, f"/people/{bob}/shown", {"shown": "1"})
    assert names(client.get("/people").text) == ["Ann", "Bob", "Cy"]
    post(client, f"/people/{bob}/cover", {"face": str(faces["p5"][0])})
    tile = re.search(rf'data-person-id="{bob}">\s*<a[^>]*>\s*<img src="/faces/(\d+)\.jpg"', client.get("/people").text)
    assert int(tile.group(1)) == faces["p5"][0]
    assert post(client, f"/people/{bob}/cover", {"face": str(faces["p6"][0])}, expect=400)  # not one of Bob's


def test_training_from_the_app_shows_its_stage_then_its_report_and_the_home_page_says_when(client, library, run):
    root, faces = library
    run("label", str(faces["p4"][0]), "Bob")
    assert "Never trained" in client.get("/").text
    started = post(client, "/train")
    assert started.headers["location"] == "/train"
    page = settled(client, "/train", "This page reloads itself")
    assert "nothing to train on: each person needs at least 3 named faces" in page  # said on the page
    for face, name in ((faces["p1"][0], "Ann"), (faces["p2"][0], "Ann"), (faces["p2"][1], "Bob"), (faces["p5"][0], "Bob")):
        run("label", str(face), name)
    post(client, "/train")
    page = settled(client, "/train", "This page reloads itself")
    assert 'id="training-done"' in page and "2 people learned" in page and "faces named automatically" in page
    assert "% of the faces named by hand recognised in cross-validation" in page
    home = client.get("/").text
    assert "Last trained" in home and "0 changes of names since" in home
    run("label", str(faces["p6"][0]), "Cy")
    assert "1 change of names since" in client.get("/").text


def test_any_change_can_be_undone_from_the_history_unless_a_later_one_touched_its_names(client, library, run):
    root, faces = library
    first = done_event(post(client, f"/faces/{faces['p4'][0]}/name", {"name": "Bob", "do": "name"}))
    later = done_event(post(client, f"/faces/{faces['p6'][0]}/name", {"name": "Cy", "do": "name"}))
    history = client.get("/history").text
    assert history.count('<button type="submit"') >= 3  # every change in force, not only the newest
    post(client, "/undo", {"event": str(first)})  # older than `later`, which touched other faces
    assert faces_of(run, root / "p4.jpg")[0]["person"] is None and faces_of(run, root / "p6.jpg")[0]["person"] == "Cy"
    post(client, f"/faces/{faces['p6'][0]}/name", {"name": "Cyrus", "do": "name"})
    refused = post(client, "/undo", {"event": str(later)}, expect=400)
    assert "no longer the newest change" in refused.text


def test_the_review_speaks_plainly_and_shows_a_face_of_the_person_it_suggests(client, library, run):
    page = settled(client, "/review", "Looking for unnamed faces")
    assert "Is this Ann?" in page and "looks like Ann (sure)" in page and "distance" not in page
    assert re.search(r'class="known"><img src="/faces/\d+\.jpg"[^>]*alt="Ann, for comparison"', page)


def test_the_cli_says_not_a_face_too_and_the_gallery_leaves_out_those_faces_and_the_hidden_people(client, library, run, tmp_path):
    root, faces = library
    assert run("not-a-face", str(faces["p6"][0])).stdout == f"not a face: {faces['p6'][0]}\n"
    assert faces_of(run, root / "p6.jpg")[0]["source"] == "not a face"
    assert "no face with id 999999" in run("not-a-face", "999999", expect=1).stderr
    refused = run("not-a-face", str(faces["p0"][0]), expect=1)  # named Ann by hand
    assert "clear its name first" in refused.stderr
    post(client, f"/people/{person_id(client, 'Ann')}/shown", {"shown": "0"})
    site = tmp_path / "site"
    run("gallery", str(site))
    index = (site / "index.html").read_text()
    assert '<span class="name">Ann</span>' not in index and any(site.glob("people/*.html"))  # her page stays
    assert not any("p6.jpg" in page.read_text() for page in (site / "photos").glob("*.html"))  # its one face is none
    assert not (site / "faces" / f"{faces['p6'][0]}.jpg").exists()
    run("undo")
    assert faces_of(run, root / "p6.jpg")[0]["source"] is None
