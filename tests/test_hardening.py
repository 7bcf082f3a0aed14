"""Hostile files and faults at the edges, each reproduced first (the fake models, a real SQLite, real
links, FIFOs, immutable folders): sidecars and backups are never followed out of the library, nor read
when they are not regular files of a sidecar's size; one bad region or folder is reported and skipped;
indexer's own output and data folders are never indexed; undo after a re-read is exact; temporary files
go; one line, never "unexpected", for every bad input."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from indexer.outputs.xmp.sidecar import RegionToWrite, new_sidecar
from support.photos import make_photo
from support.cli import faces


@pytest.fixture
def library(run, tmp_path, use_people_models):
    """Photos in three folders (ann; bob; cy with dee), indexed; ann named by hand."""
    root = tmp_path / "photos"
    make_photo(root / "a" / "ann.jpg", faces=["ann"], seed=1)
    make_photo(root / "b" / "bob.jpg", faces=["bob"], seed=2)
    make_photo(root / "c" / "cy.jpg", faces=["cy", "dee"], seed=3)
    run("index", str(root))
    run("label", str(faces(run, root / "a" / "ann.jpg")[0]["face_id"]), "Ann")
    return root



def sidecar_naming(photo: Path, name: str, face_id: str | None = None) -> bytes:
    """An XMP sidecar (as another tool writes it) with one region over the photo's first face, named ``name``."""
    packet = new_sidecar([RegionToWrite(0, (0.075, 0.15, 0.1, 0.2), name)], (400, 200))
    return packet.replace(b"<indexer:FaceId>0</indexer:FaceId>", b"" if face_id is None else
                          f"<indexer:FaceId>{face_id}</indexer:FaceId>".encode())


def in_subprocess(config: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """The command in a process of its own, killed after ``timeout`` s (a hang is a failure, not a stuck suite)."""
    try:
        return subprocess.run([sys.executable, "-m", "indexer", "--config", str(config), *args],
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"indexer {' '.join(args)} did not finish within {timeout} s")


# 1. Nothing outside the library is read or written because of a file inside it.

def test_export_never_writes_through_a_planted_link_at_the_backup_path(run, library, tmp_path):
    photo = library / "a" / "ann.jpg"
    Path(f"{photo}.xmp").write_bytes(sidecar_naming(photo, "Annie"))  # another tool's sidecar: a backup is due
    outside = tmp_path / "outside" / "planted"
    outside.parent.mkdir()
    Path(f"{photo}.xmp.before-indexer").symlink_to(outside)  # dangling
    report = run.json("export-xmp")
    assert not outside.exists()
    assert {"photo": str(photo), "reason": "ann.jpg.xmp.before-indexer is a symbolic link: left alone"} in report["skipped"]
    assert len(report["sidecars_written"]) == 2  # the other photos' sidecars


def test_a_sidecar_that_is_a_link_is_neither_read_nor_written_through_nor_imported(run, library, tmp_path):
    secret = tmp_path / "outside.xmp"
    secret.write_bytes(sidecar_naming(library / "b" / "bob.jpg", "Mallory"))
    before = secret.read_bytes()
    Path(f"{library / 'b' / 'bob.jpg'}.xmp").symlink_to(secret)
    imported = run.json("import-xmp")
    assert imported["named"] == 0 and faces(run, library / "b" / "bob.jpg")[0]["person"] is None
    assert {"file": f"{library / 'b' / 'bob.jpg'}.xmp", "reason": "a symbolic link: left alone"} in imported["unreadable"]
    exported = run.json("export-xmp")
    assert secret.read_bytes() == before and not (library / "b" / "bob.jpg.xmp.before-indexer").exists()
    assert {"photo": str(library / "b" / "bob.jpg"), "reason": "bob.jpg.xmp is a symbolic link: left alone"} in exported["skipped"]


def test_a_fifo_a_device_or_a_huge_file_as_a_sidecar_is_skipped_and_nothing_hangs(run, library, config):
    os.mkfifo(f"{library / 'a' / 'ann.jpg'}.xmp")
    Path(f"{library / 'b' / 'bob.jpg'}.xmp").symlink_to("/dev/zero")
    with open(f"{library / 'c' / 'cy.jpg'}.xmp", "wb") as huge:
        huge.truncate(64 * 1024 * 1024)  # 64 MB of nothing (sparse)
    for command in ("import-xmp", "export-xmp"):
        done = in_subprocess(config, command, "--json")
        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout)
        problems = json.dumps(report)
        assert "not a regular file" in problems and "symbolic link" in problems and "larger than" in problems


# 3. indexer's own folders are never indexed.

def test_the_gallery_and_data_folders_inside_a_root_are_never_indexed(run, tmp_path, write_config, use_people_models):
    root = tmp_path / "photos"
    make_photo(root / "p.jpg", faces=["ann", "bob"], seed=1)
    config = write_config(f'[storage]\ndata_dir = "{root / "indexer-data"}"\n[gallery]\ndir = "{root / "gallery"}"\n')
    from support.cli import Cli

    inside = Cli(config, data_dir=root / "indexer-data")
    counts = []
    for _ in range(3):
        inside("index", str(root))
        counts.append(inside.json("status")["photos"])
    run("gallery", str(root / "by-hand"))  # a gallery made by hand into the root, elsewhere
    inside("index", str(root))
    counts.append(inside.json("status")["photos"])
    assert counts == [1, 1, 1, 1]


# 4. One bad region or folder is reported and skipped; the rest is done.

def test_bad_regions_are_reported_with_their_photo_and_sidecar_and_the_good_ones_imported(run, library):
    for photo, name in (("b/bob.jpg", "\u202eevil"), ("c/cy.jpg", "Tab\tName")):
        Path(f"{library / photo}.xmp").write_bytes(sidecar_naming(library / photo, name))
    (library / "a" / "ann.jpg.xmp").write_bytes(sidecar_naming(library / "a" / "ann.jpg", "   "))
    (library / "new").mkdir()
    make_photo(library / "new" / "eve.jpg", faces=["dee"], seed=4)
    run("index", str(library))
    Path(f"{library / 'new' / 'eve.jpg'}.xmp").write_bytes(sidecar_naming(library / "new" / "eve.jpg", "Eve"))
    result = run("import-xmp", "--json")
    report = json.loads(result.stdout)
    assert report["named"] == 1 and faces(run, library / "new" / "eve.jpg")[0]["person"] == "Eve"
    bad = {(r["photo"], r["sidecar"]) for r in report["bad_regions"]}
    assert bad == {(str(library / p), f"{library / p}.xmp") for p in ("a/ann.jpg", "b/bob.jpg", "c/cy.jpg")}
    assert "unexpected" not in result.stderr


def test_a_face_id_that_is_not_a_plain_number_is_another_tools_region_not_a_crash(run, library):
    Path(f"{library / 'b' / 'bob.jpg'}.xmp").write_bytes(sidecar_naming(library / "b" / "bob.jpg", "Bob", face_id="²"))
    for command in ("import-xmp", "export-xmp"):
        result = run(command, "--json")
        assert "unexpected" not in result.stderr
    assert faces(run, library / "b" / "bob.jpg")[0]["person"] == "Bob"


@pytest.mark.skipif(shutil.which("chattr") is None, reason="no chattr here (e2fsprogs) to make a folder unwritable even for root")
def test_export_goes_on_past_a_folder_it_cannot_write_and_leaves_no_backup_behind(run, library):
    blocked = library / "b"
    kept = library / "c" / "cy.jpg.xmp"
    kept.write_bytes(sidecar_naming(library / "c" / "cy.jpg", "Cy"))
    if subprocess.run(["chattr", "+i", str(blocked)], capture_output=True).returncode != 0:
        pytest.skip("this file system does not take chattr +i")
    subprocess.run(["chattr", "+i", str(kept)], check=True)
    try:
        result = run("export-xmp", "--json")
        report = json.loads(result.stdout)
    finally:
        subprocess.run(["chattr", "-i", str(blocked), str(kept)], check=True)
    assert report["sidecars_written"] == [f"{library / 'a' / 'ann.jpg'}.xmp"]
    assert {s["photo"] for s in report["skipped"]} == {str(library / "b" / "bob.jpg"), str(library / "c" / "cy.jpg")}
    assert not (library / "c" / "cy.jpg.xmp.before-indexer").exists() and "unexpected" not in result.stderr


def test_many_regions_with_the_same_trouble_are_counted_not_repeated(run, library):
    regions = [RegionToWrite(0, (0.9, 0.9, 0.01, 0.01), f"Ghost {i}") for i in range(2000)]
    Path(f"{library / 'a' / 'ann.jpg'}.xmp").write_bytes(new_sidecar(regions, (400, 200)).replace(
        b"<indexer:FaceId>0</indexer:FaceId>", b""))
    result = run("import-xmp")
    warnings = [line for line in result.stderr.splitlines() if "warning" in line]
    assert len(warnings) <= 6 and any("1995 more" in line for line in warnings), warnings


# 5. Passwords never appear.

def test_a_password_in_the_database_url_is_never_shown(write_config, tmp_path):
    from support.cli import Cli

    config = write_config('[storage]\ndatabase_url = "postgresql+psycopg://bob:s3cret@127.0.0.1:9/db?password=s3cret2"\n')
    cli = Cli(config)
    for command in (["init"], ["status"], ["people"], ["index", str(tmp_path)]):
        result = cli(*command, expect=1)
        assert "s3cret" not in result.stderr + result.stdout and "***" in result.stderr, result.stderr
        assert "unexpected" not in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr


# 6. Undo is exact or refused.

def test_undo_of_a_label_after_its_photo_was_read_anew_takes_the_name_off_the_face_it_went_to(run, library):
    from PIL import Image

    photo = library / "c" / "cy.jpg"
    run("label", str(faces(run, photo)[0]["face_id"]), "Cyrus")
    with Image.open(photo) as image:
        image.convert("RGB").save(photo, quality=80)  # re-encoded: new bytes, the same faces
    run("index", str(library))
    assert faces(run, photo)[0]["person"] == "Cyrus"
    run("undo")
    assert [(f["person"], f["source"]) for f in faces(run, photo)] == [(None, None), (None, None)]
    assert "Cyrus" not in run("people").stdout


def test_undo_of_an_enrolment_after_train_leaves_no_face_with_a_source_but_no_person(run, tmp_path, use_people_models):
    enrol = tmp_path / "enrol"
    for name in ("ann", "bob"):
        for n in range(3):
            make_photo(enrol / name / f"{name}{n}.jpg", faces=[name], seed=10 * len(name) + n)
    make_photo(tmp_path / "photos" / "both.jpg", faces=["ann", "bob"], seed=99)
    run("index", str(tmp_path / "photos"))
    run("enroll", "--folders", str(enrol))
    run("train")
    assert [f["source"] for f in faces(run, tmp_path / "photos" / "both.jpg")] == ["auto", "auto"]
    run("undo")
    assert [(f["person"], f["source"], f["score"]) for f in faces(run, tmp_path / "photos" / "both.jpg")] == [(None, None, None)] * 2
    assert run.json("check")["problems"] == []


# 8. Temporary files go when the command ends.

def test_review_open_removes_the_face_crops_it_showed(run, library, tmp_path, monkeypatch):
    viewer = tmp_path / "bin" / "xdg-open"
    viewer.parent.mkdir()
    shown = tmp_path / "shown.txt"
    viewer.write_text(f"#!/bin/sh\necho \"$1\" >> {shown}\n")
    viewer.chmod(0o755)
    monkeypatch.setenv("PATH", f"{viewer.parent}:{os.environ['PATH']}")
    make_photo(library / "a" / "ann2.jpg", faces=["ann"], seed=7)  # unnamed, like Ann named by hand: a suggestion
    run("index", str(library))
    result = run("review", "--ask", "--open", input="s\n")
    assert "is this Ann?" in result.stdout
    for _ in range(100):  # the viewer runs on its own: wait for its whole line, not only its file
        if shown.exists() and shown.read_text().endswith("\n"):
            break
        time.sleep(0.05)
    crops = [Path(line) for line in shown.read_text().splitlines()]
    assert len(crops) == 1 and not crops[0].exists() and not crops[0].parent.exists()


# 10. One line, no traceback, never "unexpected".

@pytest.mark.parametrize("args, message", [
    (["label", "99999999999999999999", "X"], "no face with id 99999999999999999999"),
    (["confirm", "99999999999999999999", "X"], "no face with id 99999999999999999999"),
    (["similar", "99999999999999999999"], "no face with id 99999999999999999999"),
    (["index", "--max-minutes", "nan", "."], "--max-minutes must be a finite number of minutes"),
    (["index", "--scheduler", "not a url", "."], "not a Dask scheduler address"),
    (["label", "²", "X"], "FACE_ID must be a face's id (a whole number), not '²'"),  # a digit to str.isdigit, not to int
    (["add-face", "photo.jpg", "²,0,30,30"], "a box is X,Y,W,H in whole pixels"),
])
def test_bad_values_on_the_command_line_are_one_line(run, args, message, tmp_path):
    result = run(*args, expect=None)
    assert result.exit_code in (1, 2) and message in result.stderr and "unexpected" not in result.stderr, result.stderr


@pytest.mark.parametrize("text, message", [
    ('[storage]\ndata_dir = "{file}"\n', "is a file, not a folder"),
    ('[library]\nroots = ["/a\\u0000b"]\n', "must be a path"),
    ('[storage]\ndatabase_url = "mysql://u@h/db"\n', "only SQLite and PostgreSQL"),
    ('[storage]\ndatabase_url = "postgresql+psycopg://u@h:notaport/db"\n', "a database URL"),
    ('[detection]\nmin_face_size = 100000\n', "min_face_size must be a whole number from 10 to"),
])
def test_bad_settings_are_one_line(write_config, tmp_path, text, message):
    from support.cli import Cli

    (tmp_path / "a-file").write_text("")
    config = write_config(text.replace("{file}", str(tmp_path / "a-file")), name="bad.toml", data_dir="[storage]" not in text)
    result = Cli(config)("status", expect=1)
    assert message in result.stderr and "unexpected" not in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_label_and_confirm_print_a_path_with_a_newline_on_one_line(run, tmp_path, use_people_models):
    root = tmp_path / "photos"
    make_photo(root / "two\nlines.jpg", faces=["ann"], seed=1)
    run("index", str(root))
    face_id = json.loads(run("export", "--format", "jsonl").stdout.splitlines()[0])["face_id"]
    for command in (["label", str(face_id), "Ann"], ["confirm", str(face_id), "Ann"]):
        out = run(*command).stdout
        assert out.count("\n") == 1 and "two\\nlines.jpg" in out
