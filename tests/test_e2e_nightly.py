"""End to end, the nightly run: the real command and models on real photos, run after run on one library
— bad files, every pixel format, moves, kill -9, two runs at once, a time budget, an unmounted root,
named photos truncated, swapped and edited.

The library is indexed once; every test starts from that state (restored from a copy), so each can run
alone (`-k`) and in any order.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from support.e2e import Indexer
from support.photos import BAD_FILE_REASONS, assert_reasons, bomb_png

pytestmark = pytest.mark.e2e


def reencoded(photos: list[Path], dest: Path, quality: int, scale: int = 1) -> list[Path]:
    """Copies of ``photos`` saved again as JPEG at ``quality`` (blown up ``scale`` times): new files, new
    content, same faces."""
    dest.mkdir(parents=True)
    made = []
    for i, photo in enumerate(photos):
        target = dest / f"{i:03d}-{photo.parent.name}.jpg"
        image = Image.open(photo).convert("RGB")
        image.resize((image.width * scale, image.height * scale)).save(target, quality=quality)
        made.append(target)
    return made


@pytest.fixture(scope="module")
def indexed_night(sample, tmp_path_factory, backend):
    """A library of celebrity photos in two folders, the group photo, a photo of every pixel format,
    odd file names and broken files; indexed once, with two faces named by hand; and a copy of it all."""
    home = tmp_path_factory.mktemp("night")
    library = home / "library"
    people = sorted(p.name for p in (sample.celebrities / "val").iterdir())
    for person in people:
        for photo in sample.photos("val", person)[:2]:
            target = library / ("a" if person < "j" else "b") / f"{person}-{photo.name[-12:]}"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(photo, target)
    shutil.copy2(sample.group_photo, library / "group.jpg")
    portrait = Image.open(sample.photos("val", "madonna")[1]).convert("RGB")
    formats = library / "formats"
    formats.mkdir()
    portrait.convert("RGBA").save(formats / "rgba.png")
    portrait.convert("P", palette=Image.Palette.ADAPTIVE).save(formats / "palette.png")
    portrait.convert("L").save(formats / "gray.jpg")
    Image.fromarray(np.asarray(portrait.convert("L")).astype(np.uint16) * 257).save(formats / "gray16.png")
    portrait.convert("CMYK").save(formats / "cmyk.jpg")
    exif = Image.Exif()
    exif[0x0112] = 8  # stored turned; shown after rotating 90° counter-clockwise
    portrait.rotate(-90, expand=True).save(formats / "rotated.jpg", exif=exif)
    shutil.copy2(sample.photos("val", "ben_afflek")[0], library / "'; DROP TABLE photos; --.jpg")
    bad = library / "bad"
    bad.mkdir()
    (bad / "empty.jpg").write_bytes(b"")
    whole = sample.group_photo.read_bytes()
    (bad / "truncated.jpg").write_bytes(whole[: len(whole) // 3])
    (bad / "notes.jpg").write_text("not a photo at all")
    (bad / "folder.jpg").mkdir()
    os.symlink(home / "nowhere.jpg", bad / "broken-link.jpg")
    os.symlink(bad / "loop-b.jpg", bad / "loop-a.jpg")
    os.symlink(bad / "loop-a.jpg", bad / "loop-b.jpg")
    bomb_png(bad / "bomb.png")
    bad_names = "\udcff\udcfe.jpg"  # bytes that are not UTF-8
    shutil.copy2(sample.group_photo, os.fsencode(str(bad)) + b"/" + os.fsencode(bad_names))
    indexer = Indexer(home, backend=backend)
    summary = indexer.json("index", str(library))
    faces_of = "SELECT faces.id FROM faces JOIN photos ON photos.id = photo_id WHERE path LIKE ? ORDER BY box_x, faces.id"
    group, madonna = indexer.query(faces_of, "%/group.jpg"), indexer.query(faces_of, "%/madonna-%")
    indexer("label", str(group[0][0]), "Guest")
    indexer("label", str(madonna[0][0]), "Madonna")
    copy = tmp_path_factory.mktemp("night-copy") / "home"
    shutil.copytree(home, copy, symlinks=True)
    indexer.snapshot()
    return indexer, library, summary, copy


@pytest.fixture
def night(indexed_night):
    """The indexed library as it was right after indexing (the index and the files): (indexer, library
    folder, the first run's summary)."""
    indexer, library, summary, copy = indexed_night
    shutil.rmtree(indexer.home)
    shutil.copytree(copy, indexer.home, symlinks=True)  # same paths, same modification times
    indexer.restore_database()
    return indexer, library, summary


def named(indexer: Indexer) -> dict[int, str]:
    return dict(indexer.query("SELECT faces.id, people.name FROM faces JOIN people ON people.id = faces.person_id"))


def assert_consistent(indexer: Indexer) -> dict:
    report = indexer.json("check")
    assert report["consistent"] and report["problems"] == []
    [(duplicates,)] = indexer.query(
        "SELECT count(*) FROM (SELECT photo_id, box_x, box_y, box_w, box_h FROM faces GROUP BY 1, 2, 3, 4, 5 HAVING count(*) > 1) AS repeated"
    )
    assert duplicates == 0
    return report


def test_every_bad_file_is_recorded_with_a_reason_and_the_run_exits_0(night):
    indexer, library, summary = night
    assert summary["errors"] == 9
    reasons = {os.path.basename(e["path"]): e["reason"] for e in indexer.json("errors")}
    assert_reasons(reasons, {**BAD_FILE_REASONS, "\\xff\\xfe.jpg": "file name is not valid UTF-8; rename it"})


def test_photos_in_every_pixel_format_and_orientation_have_their_face_found(night):
    indexer, library, _ = night
    for name in ("rgba.png", "palette.png", "gray.jpg", "gray16.png", "cmyk.jpg", "rotated.jpg"):
        shown = indexer.json("show", str(library / "formats" / name))
        assert shown["error"] is None and len(shown["faces"]) >= 1, name
    upright = indexer.json("show", str(library / "formats" / "gray.jpg"))
    rotated = indexer.json("show", str(library / "formats" / "rotated.jpg"))
    assert (rotated["width"], rotated["height"]) == (upright["width"], upright["height"])
    largest = [max(s["faces"], key=lambda f: f["box"][2] * f["box"][3])["box"] for s in (upright, rotated)]
    assert max(abs(a - b) for a, b in zip(*largest, strict=True)) < 15  # boxes in upright coordinates


def test_a_file_name_with_sql_in_it_is_just_a_name(night):
    indexer, library, _ = night
    shown = indexer.json("show", str(library / "'; DROP TABLE photos; --.jpg"))
    assert len(shown["faces"]) >= 1 and indexer.json("status")["photos"] > 10


def test_moved_and_renamed_photos_keep_their_faces_ids_and_names_and_nothing_is_embedded_again(night):
    indexer, library, _ = night
    before_named, before_faces = named(indexer), indexer.query("SELECT id, embedding FROM faces ORDER BY id")
    (library / "a").rename(library / "a-moved")
    first_b = sorted((library / "b").iterdir())[0]
    first_b.rename(library / "b" / "renamed.jpg")
    (library / "group.jpg").rename(library / "b" / "group-moved.jpg")
    summary = indexer.json("index", str(library))
    assert summary["moved"] == 4 + 1 + 1 and (summary["new"], summary["removed"], summary["faces_added"]) == (0, 0, 0)
    assert named(indexer) == before_named and set(before_named.values()) == {"Guest", "Madonna"}
    assert indexer.query("SELECT id, embedding FROM faces ORDER BY id") == before_faces
    assert indexer.json("show", str(library / "b" / "group-moved.jpg"))["faces"][0]["person"] == "Guest"
    assert_consistent(indexer)


def test_kill_9_in_the_middle_of_a_run_then_the_next_run_finishes_with_no_duplicate_and_no_name_lost(night, sample):
    indexer, library, _ = night
    names = named(indexer)
    added = reencoded(sample.photos("train")[:60], library / "c", quality=90)
    [(faces_before,)] = indexer.query("SELECT count(*) FROM faces")
    process = subprocess.Popen(
        [sys.executable, "-m", "indexer", "--config", str(indexer.config), "index", str(library)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=indexer.env, cwd=indexer.home,
    )
    for _ in range(1200):  # until the first batch of new faces is committed
        time.sleep(0.1)
        counted = indexer.query_when_ready("SELECT count(*) FROM faces")
        if counted and counted[0][0] > faces_before:
            break
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=60) == -signal.SIGKILL
    [(indexed,)] = indexer.query("SELECT count(*) FROM photos WHERE path LIKE ?", f"{library}/c/%")
    assert 0 < indexed < len(added)  # killed half-way
    summary = indexer.json("index", str(library))
    assert summary["new"] == len(added) - indexed
    [(indexed,)] = indexer.query("SELECT count(*) FROM photos WHERE path LIKE ? AND error IS NULL", f"{library}/c/%")
    assert indexed == len(added)
    assert named(indexer) == names
    report = assert_consistent(indexer)
    assert report["vectors"]["facenet128"] == sum(report["faces"].values())


def test_a_second_run_exits_75_at_once_while_queries_keep_working(night, sample):
    indexer, library, _ = night
    # Blown up 4 times (~1100 px), so that the run outlasts the five commands below on either database.
    reencoded(sample.photos("train")[:60], library / "d", quality=85, scale=4)
    process = subprocess.Popen(
        [sys.executable, "-m", "indexer", "--config", str(indexer.config), "index", str(library)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=indexer.env, cwd=indexer.home,
    )
    lock = indexer.home / "data" / "writer.lock"
    for _ in range(300):
        time.sleep(0.1)
        if lock.exists() and f'"pid": {process.pid}' in lock.read_text():
            break
    second = indexer("index", str(library), expect=75)
    assert f"another indexer index is writing to this index (pid {process.pid}, since " in second.stderr
    indexer("status")
    indexer("people")
    assert indexer("find", "Guest").stdout.count("\t") == 5
    assert [f["person"] for f in indexer.json("who-is", str(library / "group.jpg"))["faces"]][0] == "Guest"
    assert process.poll() is None  # all of that happened while the run was going
    assert process.wait(timeout=300) == 0
    assert_consistent(indexer)


def test_a_time_budget_stops_the_run_cleanly_and_the_next_run_goes_on(night, sample):
    indexer, library, _ = night
    # Two copies blown up 12 times (~3600 px): reading them takes about twice the 6 s budget, and starting
    # up well under it, even on a busy machine (with 3 s and 25 photos of 2400 px, a run read 23 of them in
    # time, and another, slow to start, none).
    added = [*reencoded(sample.photos("val"), library / "e" / "a", quality=80, scale=12),
             *reencoded(sample.photos("val"), library / "e" / "b", quality=70, scale=12)]
    first = indexer.json("index", str(library), "--max-minutes", "0.1")
    assert first["remaining"] > 0 and first["new"] == len(added)
    assert indexer.json("status")["last_run"]["status"] == "out of time"
    second = indexer.json("index", str(library))
    assert second["remaining"] == 0 and second["new"] == first["remaining"]
    [(indexed,)] = indexer.query("SELECT count(*) FROM photos WHERE path LIKE ?", f"{library}/e/%")
    assert indexed == len(added)
    assert_consistent(indexer)


def test_an_unmounted_root_deletes_nothing_and_comes_back_as_it_was(night):
    indexer, library, _ = night
    status = indexer.json("status")
    away = library.with_name("library-unmounted")
    library.rename(away)
    try:
        done = indexer("index", str(library), "--json")
        assert "is missing (a disk not mounted?)" in done.stderr and json.loads(done.stdout)["removed"] == 0
        assert indexer.json("status")["faces"] == status["faces"]
        assert not indexer.json("check", expect=1)["consistent"]
    finally:
        away.rename(library)
    summary = indexer.json("index", str(library))
    assert (summary["new"], summary["removed"], summary["faces_added"]) == (0, 0, 0)
    assert_consistent(indexer)


def test_a_deleted_photo_loses_its_faces_and_check_repairs_a_damaged_vector_file(night):
    indexer, library, _ = night
    victim = sorted((library / "b").iterdir())[0]
    victim.unlink()
    assert indexer.json("index", str(library))["removed"] == 1
    assert_consistent(indexer)
    vectors = indexer.home / "data" / "vectors" / "facenet128.faiss"
    vectors.write_bytes(b"garbage")
    assert not indexer.json("check", expect=1)["consistent"]
    assert indexer.json("check", "--repair")["consistent"]
    assert_consistent(indexer)


def test_named_photos_truncated_swapped_and_re_encoded_keep_every_name_on_the_right_face(night):
    indexer, library, _ = night
    names = named(indexer)
    path_of = "SELECT photos.path FROM faces JOIN photos ON photos.id = photo_id JOIN people ON people.id = person_id WHERE people.name = ?"
    [(madonna,)], [(group,)] = indexer.query(path_of, "Madonna"), indexer.query(path_of, "Guest")
    madonna, group = Path(madonna), Path(group)
    whole = madonna.read_bytes()
    madonna.write_bytes(whole[: len(whole) // 2])  # half-synced for a night
    night_run = indexer.json("index", str(library))
    assert night_run["removed"] == 0 and named(indexer) == names
    assert indexer.json("show", str(madonna))["error"].startswith("damaged or truncated image")
    madonna.write_bytes(whole)
    assert indexer.json("index", str(library))["faces_added"] == 0 and named(indexer) == names
    other = next(p for p in sorted(madonna.parent.iterdir()) if p not in (madonna, group) and p.suffix == ".jpg")
    madonna.rename(library / "swap.tmp")
    other.rename(madonna)
    (library / "swap.tmp").rename(other)
    swapped = indexer.json("index", str(library))
    assert (swapped["moved"], swapped["faces_added"]) == (2, 0)
    assert "Madonna" in [f["person"] for f in indexer.json("show", str(other))["faces"]]
    assert "Madonna" not in [f["person"] for f in indexer.json("show", str(madonna))["faces"]]
    edit = Image.open(group)
    edit.load()
    edit.save(group, quality=80)  # edited: new bytes, the same faces
    edited = indexer.json("index", str(library))
    assert (edited["changed"], edited["names_lost"]) == (1, 0)
    assert sorted(named(indexer).values()) == sorted(names.values())
    assert indexer.json("show", str(group))["faces"][0]["person"] == "Guest"
    assert indexer("lost-names").stdout == ""
    assert_consistent(indexer)
