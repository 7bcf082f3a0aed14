"""Asking the index what people ask (``indexer find``, ``people --with``), with the fake models: several
people (all, any, only them, not them), how many faces, when taken (EXIF dates and offsets written by
Pillow, an XMP sidecar's, a video's creation_time, a RAW's, the file's time), under which folder, in which
order; the dates read during `index` (headers only), the impossible ones counted; the questions that cannot
be asked refused in one line."""

from __future__ import annotations

import json
import os
import re
from datetime import datetime
from pathlib import Path

import pytest

from indexer.answers.query import Query, QueryError, period
from support.app import app_client
from support.cli import faces
from support.photos import make_photo
from support.raw import write_dng
from support.schema import before_dates
from support.videos import make_video, scene

XMP_DATE = ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
            '<rdf:Description xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" photoshop:DateCreated="{}"/>'
            '</rdf:RDF></x:xmpmeta>')


@pytest.fixture
def run(run_on_both):
    """Every question asked of a SQLite index and of a PostgreSQL one."""
    return run_on_both


@pytest.fixture
def library(tmp_path, run, use_people_models) -> Path:
    """Photos of ann, bob and cy (dee's face is a stranger: never named), dated every way, indexed and
    named by hand."""
    root = tmp_path / "photos"
    make_photo(root / "a1.jpg", ["ann", "bob"], taken="2019:06:01 14:03:07", offset="+02:00", seed=1)
    make_photo(root / "a2.jpg", ["ann"], taken="2019:07:15 09:00:00", seed=2)
    make_photo(root / "a3.jpg", ["ann", "bob", "dee"], taken="2020:01:02 10:00:00", offset="-05:00", seed=3)
    make_photo(root / "b1.jpg", ["bob"], taken="2018:12:31 23:59:59", seed=4)
    make_photo(root / "c1.jpg", ["ann", "cy"], seed=5)  # no EXIF date: its sidecar's
    (root / "c1.xmp").write_text(XMP_DATE.format("2017-05-04"))
    make_photo(root / "n1.jpg", 0, taken="2019:03:03 12:00:00", seed=6)
    make_photo(root / "sub" / "x1.jpg", ["ann"], taken="0000:00:00 00:00:00", seed=7)  # no date: the file's
    make_photo(root / "z1.jpg", ["cy"], taken="1970:01:01 00:00:00", seed=8)  # no clock set: the file's
    make_video(root / "party.mp4", [scene({"ann": (10, 10)}, seed=i) for i in range(20)], 10,
               metadata={"creation_time": "2016-02-03T04:05:06.000000Z"})
    old = datetime(2021, 8, 9, 10, 11, 12).timestamp()
    for name in ("sub/x1.jpg", "z1.jpg"):
        os.utime(root / name, (old, old))
    summary = run.json("index", str(root))
    assert summary["dates_ignored"] == 2 and summary["errors"] == 0
    for photo in root.rglob("*"):
        for face in faces(run, photo) if photo.suffix in (".jpg", ".mp4") else []:
            name = {(10, 10): 0, (70, 10): 1, (130, 10): 2}[tuple(face["box"][:2])]
            who = {"a1.jpg": ["Ann", "Bob"], "a2.jpg": ["Ann"], "a3.jpg": ["Ann", "Bob", None], "b1.jpg": ["Bob"],
                   "c1.jpg": ["Ann", "Cy"], "x1.jpg": ["Ann"], "z1.jpg": ["Cy"], "party.mp4": ["Ann"]}[photo.name][name]
            if who is not None:
                run("label", str(face["face_id"]), who)
    return root


def found(run, *args: str) -> list[str]:
    """The names of the files `find` lists (once each, in its order)."""
    return [Path(line["photo"]).name for line in run.json_lines("find", *args)]


def test_several_people_all_any_only_and_not(library, run):
    assert found(run, "ann", "bob") == ["a1.jpg", "a3.jpg"]  # both, oldest first
    assert found(run, "Ann", "Bob", "--only") == ["a1.jpg"]  # a3 shows a stranger too
    assert found(run, "ann", "--only") == ["party.mp4", "a2.jpg", "x1.jpg"]
    assert found(run, "ann", "bob", "--any") == ["party.mp4", "c1.jpg", "b1.jpg", "a1.jpg", "a2.jpg", "a3.jpg", "x1.jpg"]
    assert found(run, "ann", "--not", "bob") == ["party.mp4", "c1.jpg", "a2.jpg", "x1.jpg"]
    assert found(run, "ann", "--not", "bob", "--not", "cy") == ["party.mp4", "a2.jpg", "x1.jpg"]
    assert found(run, "ann") == ["party.mp4", "c1.jpg", "a1.jpg", "a2.jpg", "a3.jpg", "x1.jpg"]  # today's question


def test_faces_dates_folders_and_their_combinations(library, run, monkeypatch):
    assert found(run, "--faces", "0") == ["n1.jpg"]
    assert found(run, "--faces", "2-") == ["c1.jpg", "a1.jpg", "a3.jpg"]
    assert found(run, "--faces", "2-2") == ["c1.jpg", "a1.jpg"]
    assert found(run, "--faces", "1", "--year", "2019") == ["a2.jpg"]
    assert found(run, "--year", "2019") == ["n1.jpg", "a1.jpg", "a2.jpg"]
    assert found(run, "ann", "--from", "2019-06", "--to", "2019-07") == ["a1.jpg", "a2.jpg"]
    assert found(run, "ann", "--to", "2019-06") == ["party.mp4", "c1.jpg", "a1.jpg"]  # to the end of June
    assert found(run, "ann", "--to", "2019-06-01") == ["party.mp4", "c1.jpg", "a1.jpg"]  # the whole day
    assert found(run, "ann", "--to", "2019-05-31") == ["party.mp4", "c1.jpg"]
    assert found(run, "--from", "2019-12-31", "--to", "2020") == ["a3.jpg"]
    assert found(run, "--in", str(library / "sub")) == ["x1.jpg"]
    assert found(run, "ann", "--in", str(library / "sub") + "/") == ["x1.jpg"]
    assert found(run, "bob", "--faces", "1-", "--not", "ann", "--year", "2018") == ["b1.jpg"]
    monkeypatch.chdir(library)
    assert found(run, "--in", "sub") == found(run, "--in", "./sub/") == ["x1.jpg"]  # relative to here


def test_order_oldest_newest_best_and_unknown_dates_last(library, run):
    assert found(run, "ann", "--sort", "newest") == ["x1.jpg", "a3.jpg", "a2.jpg", "a1.jpg", "c1.jpg", "party.mp4"]
    run.query("UPDATE photos SET taken_at = NULL, taken_from = NULL WHERE path LIKE '%a2.jpg'")  # not dated yet
    assert found(run, "ann")[-1] == "a2.jpg" and found(run, "ann", "--sort", "newest")[-1] == "a2.jpg"
    best = run.json_lines("find", "ann", "--sort", "best")
    assert [line["matches"][0]["score"] for line in best] == [1.0] * 6  # named by hand: then oldest first
    assert [Path(line["photo"]).name for line in best][:2] == ["party.mp4", "c1.jpg"]


def test_what_find_prints_json_text_and_nul_separated(library, run):
    lines = {Path(line["photo"]).name: line for line in run.json_lines("find", "ann", "bob", "--any")}
    a1, a3 = lines["a1.jpg"], lines["a3.jpg"]
    assert a1["taken"] == "2019-06-01T14:03:07+02:00" and a1["taken_from"] == "exif"
    assert a3["taken"] == "2020-01-02T10:00:00-05:00" and a3["people"] == ["Ann", "Bob"] and a3["faces"] == 3
    assert [face["person"] for face in a3["matches"]] == ["Ann", "Bob"] and a3["files"] == [str(library / "a3.jpg")]
    assert lines["a2.jpg"]["taken"] == "2019-07-15T09:00:00"  # no offset written: none said
    assert (lines["c1.jpg"]["taken"], lines["c1.jpg"]["taken_from"]) == ("2017-05-04T00:00:00", "xmp")
    assert lines["x1.jpg"]["taken"].startswith("2021-08-09T10:11:12") and lines["x1.jpg"]["taken_from"] == "file"
    video = lines["party.mp4"]
    assert video["taken_from"] == "video" and video["taken"].startswith("2016-02-03") and video["together"] == [faces(run, library / "party.mp4")[0]["span"]]
    text = run("find", "ann", "bob").stdout.splitlines()
    assert [line.split("\t") for line in text] == [
        [str(library / "a1.jpg"), "10,10,40,40", "1.00", "manual", "2019-06-01 14:03", "Ann"],
        [str(library / "a1.jpg"), "70,10,40,40", "1.00", "manual", "2019-06-01 14:03", "Bob"],
        [str(library / "a3.jpg"), "10,10,40,40", "1.00", "manual", "2020-01-02 10:00", "Ann"],
        [str(library / "a3.jpg"), "70,10,40,40", "1.00", "manual", "2020-01-02 10:00", "Bob"]]
    assert run("find", "--faces", "0").stdout == f"{library / 'n1.jpg'}\t2019-03-03 12:00\n"
    assert run("find", "--in", str(library / "sub")).stdout == f"{library / 'sub' / 'x1.jpg'}\t2021-08-09 10:11 (file time)\n"
    assert run("find", "ann", "bob", "-0").stdout == f"{library / 'a1.jpg'}\0{library / 'a3.jpg'}\0"
    assert run("find", "ann", "--print0", "--year", "2020").stdout == f"{library / 'a3.jpg'}\0"
    assert run("find", "dee", expect=1).stderr.startswith("indexer: error: no person named 'dee'")
    assert run("find", "ann", "--year", "1999").stdout == ""  # no photo: nothing printed, exit 0


@pytest.mark.parametrize("args, message", [
    (["ann", "--from", "2019-13"], "--from '2019-13' is no date: there is no month 13"),
    (["ann", "--from", "2019-02-30"], "--from '2019-02-30' is no date: February 2019 has no day 30"),
    (["ann", "--to", "19"], "--to '19' is no date: give YYYY, YYYY-MM or YYYY-MM-DD"),
    (["ann", "--from", "2019/06"], "--from '2019/06' is no date"),
    (["ann", "--year", "0000"], "--year '0000' is no date: no year 0 is kept"),
    (["ann", "--from", "2020", "--to", "2019"], "--from 2020 is after --to 2019"),
    (["ann", "--year", "2019", "--from", "2019"], "--year is a period of its own"),
    (["ann", "--faces", "x"], "--faces 'x' is no number of faces: give N, N-M or N-"),
    (["ann", "--faces", "3-1"], "--faces '3-1': 1 is fewer than 3"),
    (["ann", "--faces", "-1"], "--faces '-1' is no number of faces"),
    (["ann", "bob", "--any", "--only"], "--any and --only ask two things: give one"),
    (["--only"], "--only needs the names of the people to show"),
    ([], "name someone, or give a filter"),
    (["anne"], "no person named 'anne' (closest: Ann)"),
    (["ann", "--not", "ANN"], "Ann is both asked for and left out (--not)"),
    (["ann", "--sort", "random"], "--sort 'random' is none of oldest, newest, best"),
    (["--in", "/no/such/folder"], "no folder /no/such/folder, and no photos in the index under it"),
])
def test_a_question_that_cannot_be_asked_is_one_line_and_exit_1(library, run, args, message):
    ran = run("find", *args, expect=1)
    assert ran.stderr.startswith(f"indexer: error: {message}") and ran.stderr.count("\n") == 1 and ran.stdout == ""


def test_who_is_with_whom_and_the_years_each_person_was_seen(library, run):
    assert run.json_lines("people", "--with", "ann") == [{"person": "Bob", "photos": 2}, {"person": "Cy", "photos": 1}]
    assert run("people", "--with", "BOB").stdout == "Ann\t2\n"
    assert run("people", "--with", "anne", expect=1).stderr.startswith("indexer: error: no person named 'anne'")
    seen = {p["name"]: (p["first_seen"], p["last_seen"]) for p in run.json_lines("people", "--json")}
    assert seen == {"Ann": (2016, 2021), "Bob": (2018, 2020), "Cy": (2017, 2021)}
    assert run("people").stdout.splitlines()[2].split()[-1] == "2018–2020"


def test_periods_and_face_counts_as_typed():
    assert period("2019") == (datetime(2019, 1, 1), datetime(2020, 1, 1))
    assert period("2019-02") == (datetime(2019, 2, 1), datetime(2019, 3, 1))
    assert period("2020-02") == (datetime(2020, 2, 1), datetime(2020, 3, 1))  # a leap year's February
    assert period("2019-12-31") == (datetime(2019, 12, 31), datetime(2020, 1, 1))
    for bad in ("", "2019-1", "2019-01-1", "٢٠١٩", "2019-06-01T10:00", " 2019x", "9999-12-31"):
        with pytest.raises(QueryError):
            period(bad)
    assert Query.of(["a"], faces="2").faces == (2, 2) and Query.of(["a"], faces="1-3").faces == (1, 3)
    assert Query.of(["a"], faces="3-").faces == (3, None) and Query.of(["a"], faces="0").faces == (0, 0)
    question = Query.of(["a", "a", "b"], taken_from="2019-06", taken_to="2019-06")
    assert question.people == ("a", "b") and (question.start, question.end) == (datetime(2019, 6, 1), datetime(2019, 7, 1))
    assert not Query.of().asks() and Query.of(faces="0").asks() and Query.of(year="2019").asks()


def test_the_search_page_asks_what_find_asks_and_shows_the_same_photos(library, run):
    from html import unescape

    with app_client(run.config) as client:
        for question, args in ((("person", "Ann"), ("person", "Bob")), ["ann", "bob"]), \
                              (((("person", "ann"), ("match", "any"), ("person", "bob"), ("not", "Cy"))), ["ann", "bob", "--any", "--not", "Cy"]), \
                              (((("faces", "2-"), ("from", "2019"), ("to", "2020-01"))), ["--faces", "2-", "--from", "2019", "--to", "2020-01"]), \
                              (((("person", "Ann"), ("person", "Bob"), ("match", "only"))), ["Ann", "Bob", "--only"]):
            page = client.get("/search", params=list(question))
            assert page.status_code == 200
            shown = [unescape(path) for path in re.findall(r'data-path="([^"]+)"', page.text)]
            assert shown == [line["photo"] for line in run.json_lines("find", *args)] and shown
            assert f'<span class="total">{len(shown)}</span>' in page.text
        page = client.get("/search", params={"person": ["Ann", "Bob"]}).text
        assert re.findall(r'<h2 class="year">(\w+)</h2>', page) == ["2019", "2020"]  # a heading a year
        assert "2019-06-01 14:03" in page and "<code>indexer find Ann Bob</code>" in page
        refused = client.get("/search", params={"person": "Ann", "from": "2019-13"})
        assert refused.status_code == 400 and "--from &#39;2019-13&#39; is no date: there is no month 13" in refused.text
        unknown = client.get("/search", params={"person": "Anne"})
        assert unknown.status_code == 400 and "no person named &#39;Anne&#39; (closest: Ann)" in unknown.text
        assert 'name="person"' in client.get("/search").text  # the empty form
        ann = re.search(r'href="/people/(\d+)"', client.get("/people").text).group(1)
        person = client.get(f"/people/{ann}").text
        assert re.findall(r'<h2 class="year">(\w+)</h2>', person) == ["2021", "2020", "2019", "2017", "2016"]  # newest first
        assert re.findall(r'href="(/search\?[^"]+)"[^>]*>(\w+)</a> <span class="count">\((\d+)\)', person) == [
            ("/search?person=Ann&amp;person=Bob", "Bob", "2"), ("/search?person=Ann&amp;person=Cy", "Cy", "1")]
        nothing = re.search(r'data-photo-id="(\d+)"', client.get("/search", params={"faces": "0"}).text).group(1)
        assert client.get(f"/photos/{nothing}").status_code == 200  # a photo with no face has its page
        assert client.get(f"/photos/{nothing}/preview.jpg").headers["content-type"] == "image/jpeg"


def test_the_gallery_lists_a_persons_faces_by_date_under_year_headings(library, run, tmp_path):
    site = tmp_path / "site"
    run("gallery", str(site))
    ann = next(p for p in (site / "people").glob("*.html") if "<h1>Ann</h1>" in p.read_text())
    page = ann.read_text()
    assert re.findall(r'<h2 class="year">(\w+)</h2>', page) == ["2021", "2020", "2019", "2017", "2016"]
    with_links = re.findall(r'<a href="\.\./people/\d+\.html" data-person-id="\d+">(\w+)</a> <span class="count">\((\d+)\)', page)
    assert with_links == [("Bob", "2"), ("Cy", "1")]  # the static gallery cannot search: their pages


def test_a_video_shows_when_the_people_asked_are_in_it_together(tmp_path, run, use_people_models):
    frames = ([scene({"ann": (10, 10)}, seed=i) for i in range(20)] + [scene({"ann": (10, 10), "bob": (70, 10)}, seed=i) for i in range(20)]
              + [scene({"bob": (70, 10)}, seed=i) for i in range(20)])
    video = make_video(tmp_path / "v" / "both.mp4", frames, 10)
    run("index", str(video.parent))
    for face in faces(run, video):
        run("label", str(face["face_id"]), "Ann" if face["box"][0] == 10 else "Bob")
    spans = {f["person"]: f["span"] for f in faces(run, video)}
    (both,) = run.json_lines("find", "Ann", "Bob")
    assert both["together"] == [[spans["Bob"][0], spans["Ann"][1]]] and spans["Bob"][0] < spans["Ann"][1]
    (either,) = run.json_lines("find", "Ann", "Bob", "--any")
    assert either["together"] == [[spans["Ann"][0], spans["Bob"][1]]]
    times = sorted(f"at 00:0{int(f['time'])}" for f in faces(run, video))
    assert [line.split("\t")[4] for line in run("find", "Ann", "Bob").stdout.splitlines()] == times


def test_a_shot_has_one_date_the_best_any_of_its_files_says(tmp_path, run, use_people_models):
    root = tmp_path / "shot"
    jpeg = make_photo(root / "IMG_1.jpg", ["ann"], seed=1)  # no date of its own
    from PIL import Image

    with Image.open(jpeg) as picture:
        write_dng(root / "IMG_1.dng", picture, taken="2015:04:03 02:01:00")
    assert run.json("index", str(root))["companions"] == 1
    run("label", str(faces(run, jpeg)[0]["face_id"]), "Ann")
    (line,) = run.json_lines("find", "Ann")
    assert (line["photo"], line["taken"], line["taken_from"]) == (str(jpeg), "2015-04-03T02:01:00", "exif")
    assert run.query("SELECT count(*) FROM photos WHERE taken_from = 'exif'") == [(2,)]  # both files


def test_an_index_made_before_dates_gets_them_on_the_next_run_reading_headers_only(tmp_path, run, use_people_models):
    root = tmp_path / "old"
    make_photo(root / "a.jpg", ["ann", "bob"], taken="2019:06:01 14:03:07", seed=1)
    make_photo(root / "b.jpg", ["bob"], seed=2)
    run("index", str(root))
    before = run.query("SELECT id, photo_id FROM faces ORDER BY id")
    before_dates(run)  # as this index was before this change
    assert "schema revision 0015 and this indexer needs" in run("find", "--year", "2019", expect=1).stderr
    run("init")  # the upgrade (on SQLite `index` would make it too)
    detector, _ = use_people_models
    calls = detector.calls
    ran = run("index", str(root), "--json", "--progress")
    again = json.loads(ran.stdout)
    assert re.search(r"dating: .*\b0/2\b", ran.stderr)  # its progress bar, over the two photos
    assert (again["new"], again["changed"], again["faces_added"], detector.calls) == (0, 0, 0, calls)  # no face found again
    assert run.query("SELECT id, photo_id FROM faces ORDER BY id") == before
    assert [Path(line["photo"]).name for line in run.json_lines("find", "--year", "2019")] == ["a.jpg"]
    assert run.query("SELECT count(*) FROM photos WHERE taken_from = 'file'") == [(1,)]


def test_a_photo_changed_or_touched_is_dated_again(tmp_path, run, use_people_models):
    root = tmp_path / "changing"
    photo = make_photo(root / "a.jpg", ["ann"], seed=1)
    old = datetime(2012, 1, 2, 3, 4, 5).timestamp()
    os.utime(photo, (old, old))
    run("index", str(root))
    assert run.json_lines("find", "--in", str(root))[0]["taken"].startswith("2012-01-02T03:04:05")
    newer = datetime(2013, 1, 2, 3, 4, 5).timestamp()
    os.utime(photo, (newer, newer))  # the same content, another time: touched
    run("index", str(root))
    assert run.json_lines("find", "--in", str(root))[0]["taken"].startswith("2013-01-02T03:04:05")
    make_photo(root / "a.jpg", ["ann"], seed=1, taken="2011:11:11 11:11:11")  # its EXIF written
    run("index", str(root))
    assert run.json_lines("find", "--in", str(root))[0]["taken"] == "2011-11-11T11:11:11"
