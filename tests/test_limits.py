"""Files built to hurt, and what one file may cost: each limit a setting with a sane default, each hit said
once (in the run's summary and in `indexer errors`, or in the command's report), and no file that can
hang a command, starve a night's run or make the index take one picture for another. Each was reproduced
first (fake models, a real SQLite, real FIFOs and videos)."""

from __future__ import annotations

import json

from support.photos import make_photo
from support.xmp import region_item, regions_packet


def test_a_sidecar_has_at_most_max_drawn_faces_drawn_and_the_rest_is_said_once(run, tmp_path, use_people_models):
    root = tmp_path / "photos"
    photo = make_photo(root / "crowd.jpg", faces=0, size=(1600, 800), seed=1)
    run("index", str(root))
    spots = [(x, y) for y in range(0, 780, 25) for x in range(0, 1580, 25)][:1000]  # 1000 regions of 20 px
    regions = [region_item(f"P{n}", ((x + 10) / 1600, (y + 10) / 800, 20 / 1600, 20 / 800)) for n, (x, y) in enumerate(spots)]
    (root / "crowd.jpg.xmp").write_bytes(regions_packet(*regions, dimensions=(1600, 800)))
    _, embedder = use_people_models

    dry = run.json("import-xmp", "--dry-run")
    assert len(dry["drawn"]) == 200 and run.query("SELECT count(*) FROM faces") == [(0,)]
    assert dry["limited"] == [{"file": f"{photo}.xmp", "reason": "asks for 1000 faces to be drawn, more than [xmp] "
                               "max_drawn_faces (200) allows from one file: the other 800 left out"}]
    result = run("import-xmp", "--json")
    report = json.loads(result.stdout)
    assert len(report["drawn"]) == 200 and len(report["limited"]) == 1
    assert result.stderr.count("max_drawn_faces") == 1
    assert run.query("SELECT count(*), count(DISTINCT person_id) FROM faces") == [(200, 200)]
    assert embedder.largest <= 32  # embedded a batch at a time ([embedding] batch_size)
    assert run.json("check")["problems"] == []


def test_max_drawn_faces_is_a_setting(run, tmp_path, use_people_models, write_config):
    from support.cli import Cli

    root = tmp_path / "photos"
    make_photo(root / "crowd.jpg", faces=0, size=(800, 400), seed=1)
    cli = Cli(write_config("[xmp]\nmax_drawn_faces = 3\n"), data_dir=tmp_path / "data")
    cli("index", str(root))
    regions = [region_item(f"P{n}", ((40 + 50 * n) / 800, 0.5, 30 / 800, 30 / 400)) for n in range(5)]
    (root / "crowd.jpg.xmp").write_bytes(regions_packet(*regions, dimensions=(800, 400)))
    assert [d["name"] for d in cli.json("import-xmp")["drawn"]] == ["P0", "P1", "P2"]
    refused = Cli(write_config("[xmp]\nmax_drawn_faces = 0\n", name="zero.toml"))("status", expect=1).stderr
    assert refused.endswith("zero.toml: max_drawn_faces must be a whole number from 1 to 100000, not 0\n")


# A video whose header holds no length (a browser's MediaRecorder WebM, a cut stream).

def test_a_video_with_no_length_in_its_header_is_measured_and_not_taken_for_a_live_photo(run, tmp_path, use_people_models):
    from support.videos import make_video, scene

    root = tmp_path / "videos"
    make_photo(root / "talk.jpg", faces=["bob"], seed=1)
    # Seven seconds of ann beside a photo of its name: once taken for a Live Photo's part (length 0) and never read.
    long_one = make_video(root / "talk.webm", [scene({"ann": (10, 10)}, seed=i) for i in range(70)], 10)
    alone = make_video(root / "alone.webm", [scene({"cy": (10, 10)}, seed=i) for i in range(40)], 10)
    done = run.json("index", str(root))
    assert (done["companions"], done["errors"]) == (0, 0)
    talk = run.json("show", str(long_one))
    assert talk["duration"] == 7.0 and talk.get("faces_from") is None and [f["person"] for f in talk["faces"]] == [None]
    shown = run("show", str(alone)).stdout
    assert shown.split(": ", 1)[1].startswith("a video of 00:04, ")
    drawn = run.json("add-face", str(alone), "200,100,40,40", "--at", "3")
    assert (drawn["time"], drawn["origin"]) == (3.0, "drawn")


# A FIFO put where an indexed photo was: every open of a photo goes through one regular-file check.

def in_subprocess(config, *args: str, timeout: float = 30):
    """The command in a process of its own, killed after ``timeout`` s (a hang is a failure, not a stuck suite)."""
    import subprocess
    import sys

    import pytest

    try:
        return subprocess.run([sys.executable, "-m", "indexer", "--config", str(config), *args],
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"indexer {' '.join(args)} did not finish within {timeout} s")


def test_a_fifo_where_an_indexed_photo_was_hangs_no_command(run, config, tmp_path, use_people_models):
    import os

    root = tmp_path / "photos"
    photo = make_photo(root / "p.jpg", faces=["ann"], seed=1)
    run("index", str(root))
    face = run.json("show", str(photo))["faces"][0]["face_id"]
    photo.unlink()
    os.mkfifo(photo)  # nobody will ever write to it: an open that waits waits for ever
    who = in_subprocess(config, "who-is", str(photo))
    assert who.returncode == 1 and "not a regular file" in who.stderr
    drawn = in_subprocess(config, "add-face", str(photo), "100,100,40,40")
    assert drawn.returncode == 1 and "not a regular file" in drawn.stderr and len(drawn.stderr.splitlines()) == 1
    gallery = in_subprocess(config, "gallery", str(tmp_path / "site"), "--json")
    assert gallery.returncode == 0 and json.loads(gallery.stdout)["unreadable"] == [str(photo)]
    exported = in_subprocess(config, "export-xmp", "--json")
    assert exported.returncode == 0 and "not a regular file" in exported.stdout
    assert in_subprocess(config, "index", str(root)).returncode == 0
    assert run.json("show", str(photo))["faces"][0]["face_id"] == face  # kept: what could not be read is not gone


def test_the_apps_pictures_of_a_photo_that_became_a_fifo_answer_at_once(run, config, tmp_path, use_people_models):
    import os
    import threading

    from starlette.testclient import TestClient

    from indexer.config import load_config
    from indexer.library import Library
    from indexer.web.app import make_app

    root = tmp_path / "photos"
    photo = make_photo(root / "p.jpg", faces=["ann"], seed=1)
    run("index", str(root))
    shown = run.json("show", str(photo))
    photo_id = run.query("SELECT id FROM photos")[0][0]
    photo.unlink()
    os.mkfifo(photo)
    app = make_app(Library(load_config(config)), "token", ["testserver"])
    answers = {}

    def ask() -> None:
        with TestClient(app) as client:
            client.get("/?token=token")
            for path in (f"/photos/{photo_id}/preview.jpg", f"/faces/{shown['faces'][0]['face_id']}.jpg"):
                answers[path] = client.get(path).status_code

    asking = threading.Thread(target=ask, daemon=True)
    asking.start()
    asking.join(30)
    assert not asking.is_alive(), "a picture request waited on the FIFO"
    assert set(answers.values()) == {404}


SERVE_WITH_A_STUCK_PAGE = """
import sys, threading, time
import indexer.web.app as app
stuck = threading.Event()
def home(served, request):  # a page whose reading never ends (a disk that stopped answering, say)
    stuck.set()
    time.sleep(3600)
app.home = home
from indexer.cli import main
sys.argv = ["indexer", "--config", sys.argv[1], "serve", "--port", "0"]
main()
"""


def test_serve_stops_on_sigterm_within_five_seconds_even_with_a_request_stuck(run, config):
    import signal
    import subprocess
    import sys
    import time

    run("init")
    server = subprocess.Popen([sys.executable, "-c", SERVE_WITH_A_STUCK_PAGE, str(config)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        link = server.stdout.readline().strip()
        threading_request = subprocess.Popen([sys.executable, "-c", f"import urllib.request; urllib.request.urlopen({link!r}, "
                                              "timeout=60)"], stderr=subprocess.DEVNULL)
        time.sleep(1.5)  # the request is in its worker thread, stuck
        started = time.monotonic()
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=20) == 0
        assert time.monotonic() - started < 5.5
        threading_request.kill()
    finally:
        server.kill()
        server.wait()


# What one file may cost a night's run: the seconds it may take, the cuts a video may have sampled.

def slow_detector(detector, seconds: float):
    """Make the fake detector take ``seconds`` a frame (as MTCNN on a 4K frame of a slow NAS might); returns
    what makes it quick again."""
    import time

    real = detector.detect
    detector.detect = lambda photo: time.sleep(seconds) or real(photo)
    return lambda: setattr(detector, "detect", real)


def test_a_file_over_max_seconds_per_file_is_stopped_and_left_alone_until_it_changes(tmp_path, write_config, use_people_models):
    from support.cli import Cli
    from support.videos import make_video, scene

    run = Cli(write_config("[library]\nmax_seconds_per_file = 1\n"), data_dir=tmp_path / "data")
    detector, _ = use_people_models
    root = tmp_path / "videos"
    video = make_video(root / "long.mp4", [scene({"ann": (10, 10)}, seed=i) for i in range(100)], 10)  # 10 s
    make_photo(root / "z.jpg", faces=["bob"], seed=1)
    quick_again = slow_detector(detector, 0.3)
    done = run.json("index", str(root))
    assert (done["new"], done["limited"], done["faces_added"]) == (2, 1, 1)  # the photo after it is read
    (listed,) = run.json("errors")
    assert listed["path"] == str(video) and "longer than 1 s ([library] max_seconds_per_file)" in listed["reason"]
    calls = detector.calls
    again = run.json("index", str(root))
    assert (again["unchanged"], again["limited"], detector.calls) == (2, 0, calls)  # not started again
    assert run.json("index", str(root), "--retry-stopped")["limited"] == 1 and detector.calls > calls
    quick_again()
    make_video(video, [scene({"ann": (10, 10)}, seed=i) for i in range(20)], 10)  # changed: read again
    assert run.json("index", str(root))["changed"] == 1 and len(run.json("show", str(video))["faces"]) == 1
    assert run.json("errors") == []


def test_a_time_budget_never_lets_one_file_take_a_night_twice_and_the_next_run_reads_the_others_first(
        run, tmp_path, use_people_models, monkeypatch):
    import indexer.indexing.run as running
    from support.videos import make_video, scene

    detector, _ = use_people_models
    root = tmp_path / "library"
    video = make_video(root / "a-long-video.mp4", [scene({"ann": (10, 10)}, seed=i) for i in range(100)], 10)
    photos = [make_photo(root / f"p{n}.jpg", faces=["bob"], seed=n) for n in range(3)]
    asked = []
    # The budget runs out while the video is read: on its 4th question (before it, between its frames).
    monkeypatch.setattr(running._Writer, "out_of_time", lambda self: asked.append(1) or len(asked) > 4)
    first = run.json("index", str(root))
    assert (first["remaining"], first["faces_added"], first["limited"]) == (4, 0, 1)
    asked.clear()
    second = run.json("index", str(root))  # the photos first, then the video, cut again: stopped
    assert (second["faces_added"], second["limited"]) == (3, 1)
    assert all(run.json("show", str(photo))["faces"] for photo in photos)
    assert "stopped" in run.json("errors")[0]["reason"]
    asked.clear()
    calls = detector.calls
    third = run.json("index", str(root))
    assert (third["unchanged"], third["remaining"], detector.calls) == (4, 0, calls)  # the video is left alone
    assert run.json("show", str(video))["faces"] == []


def test_a_video_cutting_at_every_frame_samples_at_most_max_cut_samples_per_minute(tmp_path, write_config, use_people_models):
    from support.cli import Cli
    from support.videos import make_video, scene

    run = Cli(write_config("[library]\nmax_cut_samples_per_minute = 5\n"), data_dir=tmp_path / "data")
    detector, _ = use_people_models
    # Ten seconds at ten frames a second, each frame another scene: a hundred cuts.
    frames = [scene({"ann": (10, 10)}, seed=i, shade=40 if i % 2 else 200) for i in range(100)]
    video = make_video(tmp_path / "videos" / "flicker.mp4", frames, 10)
    done = run.json("index", str(video.parent))
    assert (done["limited"], done["errors"]) == (1, 0)
    assert detector.calls <= 10 + 5  # a frame a second, and the first five cuts of the minute
    assert run.json("show", str(video))["faces"]  # indexed
    (noted,) = run.json("errors")
    assert "more cuts than [library] max_cut_samples_per_minute (5)" in noted["reason"] and noted["indexed"] is True


# Smaller things the audit found.

def test_names_of_combining_marks_alone_or_holding_a_line_separator_are_refused(run, tmp_path, use_people_models):
    root = tmp_path / "photos"
    photo = make_photo(root / "p.jpg", faces=["ann"], seed=1)
    run("index", str(root))
    face = str(run.json("show", str(photo))["faces"][0]["face_id"])
    for name in ("\u0301", "\u0301\u0302", "Ann\u2028Bob", "Ann\u2029Bob", "\u0301Ann", " \u0301 "):
        refused = run("label", face, name, expect=1)
        assert "a person's name" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1, name
    assert run("label", face, "Zoe\u0301").exit_code == 0  # a mark on a letter is a letter (Zoé)
    assert [row[0] for row in run.query("SELECT name FROM people")] == ["Zoé"]


def test_libraw_writes_nothing_of_its_own_on_the_terminal(run, config, tmp_path):
    from PIL import Image

    from support.raw import write_dng

    root = tmp_path / "photos"
    whole = write_dng(tmp_path / "whole.dng", Image.new("RGB", (400, 200), (40, 40, 40)), None).read_bytes()
    (root).mkdir()
    (root / "cut.dng").write_bytes(whole[: len(whole) // 2])
    result = in_subprocess(config, "index", str(root), "--json")  # LibRaw writes to the process's stderr itself
    assert [line for line in result.stderr.splitlines() if not line.startswith("indexer: ")] == []
    assert "cut.dng" in result.stderr and run.json("errors")[0]["reason"].startswith("damaged RAW file: ")


def test_xmp_that_declares_a_dtd_is_refused_in_words_not_a_repr(run, tmp_path, use_people_models):
    root = tmp_path / "photos"
    photo = make_photo(root / "p.jpg", faces=["ann"], seed=1)
    run("index", str(root))
    (root / "p.jpg.xmp").write_bytes(b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x:xmpmeta '
                                     b'xmlns:x="adobe:ns:meta/">&a;</x:xmpmeta>')
    report = run.json("import-xmp")
    assert report["unreadable"] == [{"file": f"{photo}.xmp", "reason": "it declares a DTD or entities, which XMP never "
                                     "needs (refused unread)"}]


def test_a_companion_whose_size_is_not_known_says_so_not_none(run, tmp_path, use_people_models):
    root = tmp_path / "photos"
    make_photo(root / "IMG_1.jpg", faces=["ann"], seed=1)
    import shutil

    shutil.copy(root / "IMG_1.jpg", root / "IMG_1.heic")  # a JPEG under a HEIC's name: its header is unreadable
    run("index", str(root))
    import sqlite3

    with sqlite3.connect(tmp_path / "data" / "indexer.db") as db:
        db.execute("UPDATE photos SET width = NULL, height = NULL WHERE path LIKE '%.heic'")
    shown = run("show", str(root / "IMG_1.heic")).stdout
    assert "None" not in shown and "size not known" in shown.splitlines()[0]
