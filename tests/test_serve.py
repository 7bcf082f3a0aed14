"""`indexer serve`'s app through Starlette's test client, with the fake models (faces are coloured squares,
support/photos.py): the access token and CSRF, escaping, every action as one event of the history and its
undo, the review queue, pagination, and ids that name nothing. tests/test_e2e_serve.py drives the real
server in a real browser with the real models."""

from __future__ import annotations

import json
import stat
import re

import pytest

from support.app import HOST, TOKEN, app_client, done_event, named_unsorted_library, post



@pytest.fixture
def run(run_on_both):
    """The CLI (in this process) on the index the app serves: a SQLite file, or a new database on the
    session's PostgreSQL server."""
    return run_on_both


@pytest.fixture
def library(run, tmp_path, use_people_models):
    """The unsorted library (ann in 4 photos, bob in 3, cy in 1) indexed; one face of ann's named Ann by
    hand. Returns the photo folder and each photo's faces (stem → [face ids])."""
    return named_unsorted_library(run, tmp_path / "photos")


@pytest.fixture
def client(library, run):
    """The app over the library, its cookie set from the link (as a browser opening it)."""
    with app_client(run.config) as client:
        yield client


def review(client, until=lambda page: True) -> str:
    """The review page once its queue is computed (in the background) and ``until`` holds for it."""
    import time

    for _ in range(200):
        page = client.get("/review").text
        if "Looking for unnamed faces" not in page and "being brought up to date" not in page and until(page):
            return page
        time.sleep(0.05)
    raise AssertionError(f"the review page never settled: {page}")


def show(run, photo) -> list[dict]:
    return run.json("show", str(photo))["faces"]


def cluster_of(run, face_id: int) -> dict:
    return next(c for c in map(json.loads, run("clusters", "--json").stdout.splitlines())
                if face_id in {f["face_id"] for f in c["faces"]})


def test_every_request_needs_the_access_token_which_the_link_turns_into_a_private_cookie(library, run):
    from starlette.testclient import TestClient

    from indexer.config import load_config
    from indexer.library import Library
    from indexer.web.app import make_app

    app = make_app(Library(load_config(run.config)), TOKEN, ["127.0.0.1"])
    with TestClient(app, base_url=HOST, follow_redirects=False) as browser:
        for path in ("/", "/people", "/faces/1.jpg", "/static/gallery.css", "/names?q=a"):
            refused = browser.get(path)
            assert refused.status_code == 403 and "access token" in refused.text and "Ann" not in refused.text
        assert browser.get("/?token=wrong").status_code == 403
        browser.cookies.set("indexer-token", "wrong")
        assert browser.get("/").status_code == 403
        browser.cookies.clear()
        opened = browser.get(f"/people?page=2&token={TOKEN}")
        assert opened.status_code == 303 and opened.headers["location"] == "/people?page=2"  # out of the address bar
        cookie = opened.headers["set-cookie"]
        assert cookie.startswith(f"indexer-token={TOKEN};") and "HttpOnly" in cookie and "SameSite=strict" in cookie
        page = browser.get("/")
        assert page.status_code == 200 and "Ann" in page.text
        for header, value in (("x-content-type-options", "nosniff"), ("cache-control", "no-store")):
            assert page.headers[header] == value
        assert "default-src 'none'" in page.headers["content-security-policy"]
        # Another name for this machine (a rebinding attack's) is refused, token or not.
        assert browser.get("/", headers={"host": "attacker.example:8765"}).status_code == 400


def test_a_change_needs_the_pages_csrf_token_and_is_refused_from_another_origin(run, client, library):
    root, faces = library
    bob = faces["p4"][0]
    for data, headers in (({"name": "Bob"}, {"origin": HOST}),  # no CSRF token
                          ({"name": "Bob", "csrf": "forged"}, {"origin": HOST}),
                          ({"name": "Bob", "csrf": client.csrf}, {"origin": "http://evil.example"}),
                          ({"name": "Bob", "csrf": client.csrf}, {"sec-fetch-site": "cross-site"})):
        refused = client.post(f"/faces/{bob}/name", data=data, headers=headers)
        assert refused.status_code == 403
    assert show(run, root / "p4.jpg")[0]["person"] is None
    assert client.get(f"/faces/{bob}/name").status_code == 405  # a change is never a GET


def test_the_pages_show_people_clusters_photos_review_and_history(client, library, run):
    root, faces = library
    home = client.get("/").text
    assert 'href="/people/' in home and 'href="/clusters/' in home and "Ann" in home
    bob_cluster = cluster_of(run, faces["p4"][0])["cluster"]
    cluster = client.get(f"/clusters/{bob_cluster}").text
    assert cluster.count('<li class="face pick">') == 3 and 'name="except"' in cluster and 'name="csrf"' in cluster
    person_id = int(re.search(r'href="/people/(\d+)"', home).group(1))
    person = client.get(f"/people/{person_id}").text
    assert "<h1>Ann</h1>" in person and "indexer find Ann" in person
    photo_id = int(re.search(r'href="/photos/(\d+)(?:\?in=[^"#]*)?#face-', person).group(1))
    photo = client.get(f"/photos/{photo_id}").text
    assert f'src="/photos/{photo_id}/preview.jpg?v=' in photo and 'id="draw-face"' in photo
    preview = client.get(re.search(r'src="(/photos/\d+/preview.jpg\?v=\w+)"', photo).group(1))
    assert preview.status_code == 200 and preview.content[:2] == b"\xff\xd8"
    thumbnail = client.get(f"/faces/{faces['p0'][0]}.jpg")
    assert thumbnail.status_code == 200 and thumbnail.headers["content-type"] == "image/jpeg"
    assert "Is this Ann?" in review(client)
    assert "face " in client.get("/history").text and "Undo" in client.get("/history").text
    assert client.get("/names?q=AN").json() == ["Ann"]


def test_ids_that_name_nothing_and_paths_are_refused_without_reaching_the_disk(client):
    for path in ("/faces/999999.jpg", "/people/999999", "/clusters/999999", "/photos/999999",
                 "/photos/999999/preview.jpg", f"/faces/{2**70}.jpg", "/static/..%2F..%2Fetc%2Fpasswd",
                 "/static/config.toml", "/faces/..%2F..%2Findexer.db"):
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert b"root:" not in answer.content and b"SQLite" not in answer.content


def test_naming_a_cluster_leaves_out_the_faces_clicked_and_is_one_event_undone_from_the_page(client, library, run):
    root, faces = library
    bob_faces = sorted(faces["p4"] + faces["p5"] + faces["p2"][1:])
    cluster = cluster_of(run, faces["p4"][0])["cluster"]
    named = post(client, f"/clusters/{cluster}/name", {"name": "Bob", "except": [str(faces["p5"][0])]})
    event = done_event(named)
    # On to the next cluster (the largest left), or the faces nobody named after the last (#35).
    assert re.fullmatch(r"/(clusters/\d+|faces/unnamed)\?done=\d+", named.headers["location"])
    page = client.get(named.headers["location"]).text
    assert "Done: cluster" in page and f'name="event" value="{event}"' in page
    found = {f["face_id"] for line in run("find", "Bob", "--json").stdout.splitlines() for f in json.loads(line)["matches"]}
    assert found == set(bob_faces) - {faces["p5"][0]}
    assert show(run, root / "p5.jpg")[0]["person"] is None
    history = run.json_lines("history")[0]
    assert history["id"] == event and history["action"] == "label"
    undone = post(client, "/undo", {"event": str(event)})
    assert undone.headers["location"].startswith("/history?done=")
    assert run("find", "Bob", expect=1).returncode == 1 and all(show(run, root / "p4.jpg")[0][k] is None for k in ("person", "source"))


def test_a_name_typed_in_another_case_or_unicode_form_is_the_same_person(client, library, run):
    root, faces = library
    post(client, f"/faces/{faces['p1'][0]}/name", {"name": " ANN ", "do": "name"})
    post(client, f"/faces/{faces['p6'][0]}/name", {"name": "Zoe\u0308", "do": "name"})
    post(client, f"/faces/{faces['p4'][0]}/name", {"name": "ZO\u00cb", "do": "name"})
    people = {json.loads(line)["name"]: json.loads(line)["faces"] for line in run("people", "--json").stdout.splitlines()}
    assert people == {"Ann": 2, "Zo\u00eb": 2}


def test_one_face_named_and_cleared_rename_merge_and_split_are_each_one_event_undone_by_the_cli(client, library, run):
    root, faces = library
    bob = faces["p4"][0]
    named = post(client, f"/faces/{bob}/name", {"name": "Bob", "do": "name"})
    assert named.headers["location"].endswith(f"#face-{bob}")
    assert show(run, root / "p4.jpg")[0]["person"] == "Bob"
    people = {json.loads(line)["name"]: line for line in run("people", "--json").stdout.splitlines()}
    ids = {name: int(re.search(rf'href="/people/(\d+)"[^<]*>\s*<img[^>]*alt="{name}"', client.get("/people").text).group(1))
           for name in people}
    post(client, f"/people/{ids['Bob']}/rename", {"name": "Robert"})
    post(client, f"/people/{ids['Bob']}/merge", {"into": "ann"})
    assert show(run, root / "p4.jpg")[0]["person"] == "Ann"
    post(client, f"/people/{ids['Ann']}/split", {"face": [str(bob)], "into": "Bob again"})
    assert show(run, root / "p4.jpg")[0]["person"] == "Bob again"
    post(client, f"/faces/{faces['p5'][0]}/name", {"do": "clear"})
    assert show(run, root / "p5.jpg")[0]["source"] == "manual" and show(run, root / "p5.jpg")[0]["person"] is None
    actions = [line["action"] for line in run.json_lines("history")]
    assert actions[:5] == ["label", "split", "merge", "rename", "label"]
    run("undo", "5")
    assert show(run, root / "p4.jpg")[0]["person"] is None and show(run, root / "p5.jpg")[0]["source"] is None
    assert [line["name"] for line in run.json_lines("people")] == ["Ann"]


def test_a_bad_name_or_a_stale_undo_is_a_page_saying_why_and_changes_nothing(client, library, run):
    root, faces = library
    bad = post(client, f"/faces/{faces['p4'][0]}/name", {"name": "a\tb", "do": "name"}, expect=400)
    assert "control characters" in bad.text and 'href="/"' in bad.text
    first = done_event(post(client, f"/faces/{faces['p4'][0]}/name", {"name": "Bob", "do": "name"}))
    post(client, f"/faces/{faces['p5'][0]}/name", {"name": "Bob", "do": "name"})
    stale = post(client, "/undo", {"event": str(first)}, expect=400)
    assert "no longer the newest change" in stale.text
    assert show(run, root / "p4.jpg")[0]["person"] == "Bob" and show(run, root / "p5.jpg")[0]["person"] == "Bob"
    unknown = post(client, "/people/999999/merge", {"into": "Ann"}, expect=400)
    assert "no person 999999" in unknown.text


def test_hostile_names_show_as_text(client, library, run):
    root, faces = library
    hostile = '<script>alert(1)</script>"\'&'
    post(client, f"/faces/{faces['p4'][0]}/name", {"name": hostile, "do": "name"})
    home = client.get("/").text
    person_id = re.search(r'href="/people/(\d+)">\s*<img[^>]*alt="&lt;script', home).group(1)
    person = client.get(f"/people/{person_id}").text
    photo = client.get(re.search(r'href="(/photos/\d+)(?:\?in=[^"#]*)?#face-', person).group(1)).text
    for page in (home, client.get("/people").text, person, photo, client.get("/history").text):
        assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_review_confirms_with_yes_rejects_with_no_and_both_undo(client, library, run):
    root, faces = library
    page = review(client)
    total = int(re.search(r"<p>(\d+) unnamed face", page).group(1))
    first = int(re.search(r'name="face" value="(\d+)"', page).group(1))
    assert total == 3 and 'id="yes"' in page and 'id="no"' in page and 'id="skip"' in page
    yes = post(client, "/review/answer", {"face": str(first), "person": "Ann", "answer": "yes", "offset": "0"})
    assert yes.headers["location"].startswith("/review?offset=0&done=")
    page = client.get(yes.headers["location"]).text  # the queue kept up to date in place: no wait
    second = int(re.search(r'name="face" value="(\d+)"', page).group(1))
    assert second != first and "<p>2 unnamed faces" in page and "Done: face" in page
    post(client, "/review/answer", {"face": str(second), "person": "Ann", "answer": "no", "offset": "0"})
    assert "<p>1 unnamed face " in client.get("/review").text
    skipped = client.get("/review?offset=1").text
    assert "You skipped the last" in skipped
    assert [line["action"] for line in run.json_lines("history")][:2] == ["reject", "confirm"]
    run("undo", "2")
    assert "<p>3 unnamed faces" in review(client, lambda page: "<p>3 " in page)  # the CLI changed the index: computed again


def test_a_face_drawn_on_the_photo_page_is_named_and_undone(client, library, run):
    root, faces = library
    photo_id = int(re.search(r'href="/photos/(\d+)(?:\?in=[^"#]*)?#face-' + str(faces["p0"][0]), client.get(f"/people/{_ann(client)}").text).group(1))
    drawn = post(client, f"/photos/{photo_id}/draw", {"x": "300", "y": "100", "w": "60", "h": "60", "name": "Dee"})
    assert "#face-" in drawn.headers["location"]
    added = [f for f in show(run, root / "p0.jpg") if f["origin"] == "drawn"]
    assert len(added) == 1 and added[0]["person"] == "Dee" and added[0]["box"] == [300, 100, 60, 60]
    outside = post(client, f"/photos/{photo_id}/draw", {"x": "390", "y": "190", "w": "60", "h": "60"}, expect=400)
    assert "is not inside the 400×200 photo" in outside.text
    run("undo")
    assert [f["origin"] for f in show(run, root / "p0.jpg")] == ["detected"]


def test_pages_are_paginated(client, library, run, monkeypatch):
    from indexer.answers import browse as content  # the page size of the app and the gallery

    monkeypatch.setattr(content, "PAGE_SIZE", 2)
    root, faces = library
    cluster = cluster_of(run, faces["p4"][0])["cluster"]
    first = client.get(f"/clusters/{cluster}").text
    second = client.get(f"/clusters/{cluster}?page=2").text
    assert first.count('<li class="face pick">') == 2 and second.count('<li class="face pick">') == 1
    assert "page 1 of 2" in first and f'href="/clusters/{cluster}?page=2"' in first and "page 2 of 2" in second
    assert client.get(f"/clusters/{cluster}?page=abc").status_code == 200  # read as the first page


def _ann(client) -> int:
    return int(re.search(r'href="/people/(\d+)"', client.get("/").text).group(1))


def _serving(run, tmp_path, *args: str):
    """`indexer serve --port 0 ARGS` in a subprocess, and the link it printed."""
    import subprocess

    from support.cli import Cli

    server = Cli(run.config, in_process=False).popen(
        "serve", "--port", "0", *args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return server, server.stdout.readline().strip()


def test_indexer_serve_prints_a_link_with_its_token_answers_only_with_it_and_stops_cleanly_on_sigterm(run, tmp_path):
    import http.cookiejar
    import signal
    import urllib.error
    import urllib.request

    run("init")
    server, link = _serving(run, tmp_path)
    try:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/\?token=[\w-]{32}", link), link
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(link.split("?")[0], timeout=10)
        assert refused.value.code == 403
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        with browser.open(link, timeout=10) as page:  # redirected to / with the cookie
            assert page.status == 200 and page.url == link.split("?")[0] and "Faces in the library" in page.read().decode()
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
    finally:
        server.kill()
        server.wait()


def test_serving_beyond_this_machine_warns_and_a_port_in_use_is_one_line(run, tmp_path):
    import socket

    run("init")
    server, link = _serving(run, tmp_path, "--host", "0.0.0.0")
    try:
        assert re.fullmatch(r"http://[^/]+:\d+/\?token=[\w-]{32}", link)
        assert "faces and names are biometric data" in server.stderr.readline()
    finally:
        server.terminate()
        server.wait(timeout=30)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        failed = run("serve", "--port", str(port), expect=1)
        assert failed.stderr.strip() == (f"indexer: error: cannot serve on 127.0.0.1:{port}: Address already in use "
                                         "(another program has it: choose another --port)")
    assert run("serve", "--port", "70000", expect=1).stderr.strip().endswith("port 70000 is not a port (0 to 65535; 0 picks a free one)")


def test_pictures_of_faces_no_longer_in_the_index_are_removed_when_it_starts(client, library, run):
    root, faces = library
    for face_id in faces["p6"] + faces["p5"]:
        assert client.get(f"/faces/{face_id}.jpg").status_code == 200
    pictures = client.app.state.served.pictures.folder
    assert {p.name for p in (pictures / "faces").iterdir()} == {f"{f}.jpg" for f in faces["p6"] + faces["p5"]}
    assert stat.S_IMODE(pictures.stat().st_mode) == 0o700
    (root / "p6.jpg").unlink()
    run("index", str(root), "--prune")
    assert client.app.state.served.prune_pictures() == 1
    assert {p.name for p in (pictures / "faces").iterdir()} == {f"{f}.jpg" for f in faces["p5"]}


def test_numbers_in_the_query_or_the_form_that_are_not_plain_digits_are_refused_or_ignored(client, library, run):
    root, faces = library
    for path in ("/people?page=²", "/review?offset=²", "/history?page=٣", "/?done=²", "/clusters?page=-1"):
        assert client.get(path).status_code == 200, path
    cluster = cluster_of(run, faces["p4"][0])["cluster"]
    refused = post(client, f"/clusters/{cluster}/name", {"name": "Bob", "except": ["²"]}, expect=400)
    assert "not a face id: &#39;²&#39;" in refused.text
    assert "no longer the newest change" in post(client, "/undo", {"event": "²"}, expect=400).text


def test_ids_out_of_range_are_404_and_bodies_over_the_limit_413_never_a_500(client, library):
    from indexer.web.app import MAX_BODY

    huge = "9" * 20
    for path in (f"/people/{huge}/rename", f"/people/{huge}/merge", f"/people/{huge}/split", f"/photos/{huge}/draw",
                 f"/clusters/{huge}/name", f"/faces/{huge}/name"):
        assert post(client, path, {"name": "Bob", "into": "Ann"}, expect=404).status_code == 404, path
    body = b"csrf=" + client.csrf.encode() + b"&name=" + b"a" * (MAX_BODY + 1)
    headers = {"origin": HOST, "content-type": "application/x-www-form-urlencoded"}
    too_big = client.post("/undo", content=body, headers=headers)
    assert too_big.status_code == 413 and "too large" in too_big.text
    assert "default-src 'none'" in too_big.headers["content-security-policy"]

    def chunks():
        yield body[:1000]
        for start in range(1000, len(body), 4096):
            yield body[start : start + 4096]

    streamed = client.post("/undo", content=chunks(), headers=headers)  # no length said: sent chunked
    assert streamed.status_code == 413 and "too large" in streamed.text
