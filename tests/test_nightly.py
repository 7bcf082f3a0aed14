"""Nightly-run reliability through the command line, with the fake models on real files: moves, missing
and empty roots, the writer lock, the time budget, bad files, and the check, errors and show commands.
(tests/test_e2e_nightly.py does the same with the real models, and really kills a run.)"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select
import indexer.vision.imaging
import indexer.indexing.analyse
from indexer.config import load_config
from indexer.db.models import Face, Person, Photo
from indexer.library import Library
from indexer.db.lock import writer_lock

from support.photos import BAD_FILE_REASONS, assert_reasons, bomb_png, make_photo


@pytest.fixture(autouse=True)
def fake_models(use_fake_models):
    return use_fake_models


@pytest.fixture
def photos(tmp_path):
    root = tmp_path / "photos"
    make_photo(root / "2019" / "beach.jpg", faces=2, seed=1)
    make_photo(root / "2019" / "dinner.jpg", faces=1, seed=2)
    make_photo(root / "2020" / "party.jpg", faces=3, seed=3)
    return root


def faces_of(config) -> dict[str, list[tuple[int, str | None]]]:
    """file name -> [(face id, person name)] left to right."""
    library = Library(load_config(config))
    with library.session() as session:
        rows = session.execute(
            select(Photo.path, Face.id, Person.name).join(Face, Face.photo_id == Photo.id)
            .join(Person, Person.id == Face.person_id, isouter=True).order_by(Photo.path, Face.box_x)
        )
        found: dict[str, list] = {}
        for path, face_id, name in rows:
            found.setdefault(os.path.basename(path), []).append((face_id, name))
        return found


def summary_of(result) -> dict:
    return json.loads(result.stdout)


def test_a_moved_photo_and_a_renamed_folder_keep_their_faces_ids_and_names_and_nothing_is_read_again(run, photos, config, fake_models):
    run("index", str(photos))
    beach = faces_of(config)["beach.jpg"]
    run("label", str(beach[0][0]), "Ann")
    before = faces_of(config)
    detector, _ = fake_models
    calls = detector.calls
    (photos / "2020" / "party.jpg").rename(photos / "2019" / "party-renamed.jpg")
    (photos / "2019").rename(photos / "holidays-2019")
    summary = summary_of(run("index", str(photos), "--json"))
    assert (summary["moved"], summary["new"], summary["removed"], summary["faces_added"]) == (3, 0, 0, 0)
    assert detector.calls == calls
    after = faces_of(config)
    assert after["beach.jpg"] == before["beach.jpg"] and after["beach.jpg"][0][1] == "Ann"
    assert after["party-renamed.jpg"] == before["party.jpg"]
    assert run.json("show", str(photos / "holidays-2019" / "beach.jpg"))["faces"][0]["person"] == "Ann"
    assert run("check").stdout.endswith("consistent\n")


def test_a_copy_is_a_new_photo_and_the_original_keeps_its_faces(run, photos, config):
    run("index", str(photos))
    shutil.copy2(photos / "2019" / "beach.jpg", photos / "2020" / "beach-copy.jpg")
    summary = summary_of(run("index", str(photos), "--json"))
    assert (summary["moved"], summary["new"], summary["faces_added"]) == (0, 1, 2)
    assert len(faces_of(config)["beach.jpg"]) == 2


def test_a_missing_root_is_a_warning_and_its_photos_are_left_alone(run, photos, tmp_path, config):
    other = tmp_path / "other"
    make_photo(other / "x.jpg", faces=1, seed=7)
    run("index", str(photos), str(other))
    photos.rename(tmp_path / "unmounted")
    result = run("index", str(photos), str(other), "--json")
    assert f"folder {photos} is missing (a disk not mounted?): its 3 photo(s) in the index are left alone" in result.stderr
    assert summary_of(result)["removed"] == 0 and len(faces_of(config)) == 4
    checked = run("check", "--json", expect=1)
    expected = sorted(str(photos / p) for p in ["2019/beach.jpg", "2019/dinner.jpg", "2020/party.jpg"])
    assert json.loads(checked.stdout)["missing_files"] == expected


def test_an_empty_root_is_taken_for_an_unmounted_disk_and_nothing_is_deleted(run, photos, config):
    run("index", str(photos))
    for child in list(photos.iterdir()):
        shutil.rmtree(child)
    result = run("index", str(photos), "--json")
    assert "is empty (a disk not mounted?): its 3 photo(s) in the index are left alone" in result.stderr
    assert summary_of(result)["removed"] == 0 and len(faces_of(config)) == 3


def test_a_second_writer_exits_75_at_once_while_readers_keep_working(run, photos, tmp_path):
    run("index", str(photos))
    with writer_lock(tmp_path / "data", "index"):
        result = run("index", str(photos), expect=75)
        assert result.stderr.startswith(f"indexer: error: another indexer index is writing to this index (pid {os.getpid()}, since ")
        assert run("train", expect=75).exit_code == 75
        assert run("enroll", "ann", str(photos / "2019" / "beach.jpg"), expect=75).exit_code == 75
        for reader in (["status"], ["people"], ["errors"], ["show", str(photos / "2019" / "beach.jpg")],
                       ["who-is", str(photos / "2019" / "beach.jpg")]):
            run(*reader)
    run("index", str(photos))


def test_a_time_budget_stops_the_run_cleanly_and_the_next_run_goes_on(run, photos, config):
    result = run("index", str(photos), "--max-minutes", "0", "--json")
    assert (summary_of(result)["remaining"], summary_of(result)["faces_added"]) == (3, 0)
    assert run.json("status")["last_run"]["status"] == "out of time"
    summary = summary_of(run("index", str(photos), "--json"))
    assert (summary["new"], summary["faces_added"], summary["remaining"]) == (3, 6, 0)
    assert run("check").exit_code == 0


def test_bad_files_are_recorded_with_reasons_a_person_understands_and_the_run_exits_0(run, photos, tmp_path):
    bad = photos / "bad"
    bad.mkdir()
    (bad / "empty.jpg").write_bytes(b"")
    good = (photos / "2019" / "beach.jpg").read_bytes()
    (bad / "truncated.jpg").write_bytes(good[: len(good) // 3])
    (bad / "notes.jpg").write_text("shopping list")
    (bad / "folder.jpg").mkdir()
    make_photo(bad / "folder.jpg" / "inside.jpg", faces=1, seed=8)
    os.symlink(tmp_path / "nowhere.jpg", bad / "broken-link.jpg")
    os.symlink(bad / "loop-b.jpg", bad / "loop-a.jpg")
    os.symlink(bad / "loop-a.jpg", bad / "loop-b.jpg")
    bomb_png(bad / "bomb.png")
    result = run("index", str(photos), "--json")
    assert summary_of(result)["errors"] == 8 and summary_of(result)["faces_added"] == 7
    reasons = {os.path.basename(e["path"]): e["reason"] for e in run.json("errors")}
    assert_reasons(reasons, BAD_FILE_REASONS)
    text = run("errors").stdout.splitlines()
    assert len(text) == 8 and text[0].split("\t")[:2] == [str(bad / "bomb.png"), reasons["bomb.png"]]


def test_a_decompression_bomb_is_refused_before_decoding_so_memory_stays_flat(tmp_path):
    bomb = bomb_png(tmp_path / "bomb.png")
    code = (
        "import resource, sys\n"
        "from indexer.vision.imaging import UnreadablePhoto, load_photo\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "try:\n"
        f"    load_photo({str(bomb)!r}, 120)\n"
        "except UnreadablePhoto as e:\n"
        "    print(e)\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    message, grown_kib = done.stdout.splitlines()
    assert message.startswith("image too large: 30000×30000")
    assert int(grown_kib) < 50_000  # decoding would take 2.7 GB


def test_a_file_that_changes_while_being_read_is_recorded_and_read_again_next_run(run, photos, monkeypatch):
    real = indexer.indexing.analyse.load_upright

    def load_photo_while_it_is_copied(path, max_megapixels, formats):
        pixels = real(path, max_megapixels, formats)
        if path.endswith("dinner.jpg"):
            with open(path, "ab") as f:
                f.write(b"more bytes arriving")
        return pixels

    monkeypatch.setattr(indexer.indexing.analyse, "load_upright", load_photo_while_it_is_copied)
    summary = summary_of(run("index", str(photos), "--json"))
    assert summary["errors"] == 1
    (error,) = run.json("errors")
    assert error["reason"] == "the file changed while it was being read (still being copied?); it is read again next run"
    monkeypatch.setattr(indexer.indexing.analyse, "load_upright", real)
    summary = summary_of(run("index", str(photos), "--json"))
    assert (summary["errors"], summary["faces_added"]) == (0, 1)


def test_an_unreadable_file_is_recorded_as_permission_denied(run, photos, monkeypatch):
    real_open = indexer.vision.imaging.regular_file  # every open of a photo goes through it (root reads any file)

    def refuse(path, *args, **kwargs):
        if str(path).endswith("party.jpg"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(indexer.vision.imaging, "regular_file", refuse)
    run("index", str(photos))
    (error,) = run.json("errors")
    assert (os.path.basename(error["path"]), error["reason"]) == ("party.jpg", "cannot read file: permission denied")


def test_file_names_never_reach_a_shell_or_raw_sql(run, photos, tmp_path):
    odd = ["'; DROP TABLE photos; --.jpg", "$(touch PWNED).jpg", "`touch PWNED2`.jpg", 'quote " and \\ slash.jpg']
    for i, name in enumerate(odd):
        make_photo(photos / name, faces=1, seed=20 + i)
    summary = summary_of(run("index", str(photos), "--json"))
    assert (summary["new"], summary["errors"]) == (7, 0)
    for name in odd:
        assert run.json("show", str(photos / name))["photo"] == str(photos / name)
    assert not list(tmp_path.rglob("PWNED*")) and not list(Path.cwd().glob("PWNED*"))


def test_check_finds_a_damaged_vector_file_and_repair_rebuilds_it(run, photos, tmp_path):
    run("index", str(photos))
    assert run("check").stdout.splitlines()[-1] == "consistent"
    vectors = tmp_path / "data" / "vectors" / "facenet128.faiss"
    vectors.write_bytes(vectors.read_bytes()[:100])
    result = run("check", "--json", expect=1)
    assert json.loads(result.stdout)["problems"] == [f"{vectors} is missing or unreadable; the database has 6 facenet128 faces"]
    repaired = run.json("check", "--repair")
    assert repaired["consistent"] and repaired["vectors"] == {"facenet128": 6} and len(repaired["repaired"]) == 1


def test_check_finds_a_tampered_classifier(run, photos, config, use_people_models, tmp_path):
    for person in ("ann", "bob"):
        for n in range(3):
            make_photo(tmp_path / "people" / person / f"{n}.jpg", faces=[person], seed=40 + n + (10 if person == "bob" else 0))
    run("enroll", "--folders", str(tmp_path / "people"))
    classifier = Path(run.json("train")["classifier"])
    assert run("check").exit_code == 0
    classifier.write_bytes(b"tampered")
    problems = run.json("check", expect=1)["problems"]
    assert problems == [f"the classifier {classifier} does not match its recorded checksum; run `indexer train`"]


def test_show_prints_what_the_index_knows_of_one_photo(run, photos):
    run("index", str(photos))
    shown = run.json("show", str(photos / "2019" / "beach.jpg"))
    assert shown["photo"] == str(photos / "2019" / "beach.jpg") and (shown["width"], shown["height"]) == (400, 200)
    assert [set(f) for f in shown["faces"]] == [{"face_id", "box", "detection", "person", "score", "source", "origin"}] * 2
    assert [f["box"] for f in shown["faces"]] == [[10, 10, 40, 40], [70, 10, 40, 40]]
    text = run("show", str(photos / "2019" / "beach.jpg")).stdout.splitlines()
    assert text[0].startswith(f"{photos / '2019' / 'beach.jpg'}: 400×200, 2 face(s); read ") and len(text) == 3
    assert run("show", str(photos / "nope.jpg"), expect=1).stderr.startswith("indexer: error: not in the index: ")


def test_a_database_of_an_older_version_is_upgraded_after_a_backup_and_a_newer_one_refused(run, tmp_path):
    from alembic import command
    from sqlalchemy import text

    from indexer.db.session import _alembic_config, make_engine

    (tmp_path / "data").mkdir()
    engine = make_engine(f"sqlite:///{tmp_path / 'data' / 'indexer.db'}")
    with engine.begin() as connection:
        command.upgrade(_alembic_config(connection), "0001")
    refused = run("status", expect=1)  # reading never upgrades: it says which command does
    assert "has schema revision 0001 and this indexer needs" in refused.stderr and "run `indexer init`" in refused.stderr
    assert not list((tmp_path / "data").glob("indexer.db.before-*.bak"))
    result = run("init")
    (backup,) = (tmp_path / "data").glob("indexer.db.before-*.bak")
    assert f"a copy of it as it was is in {backup}" in result.stderr
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    result = run("status", expect=1)
    assert "was made by a newer version of indexer (schema revision 9999); upgrade indexer to use it" in result.stderr
