"""One shot in several files (a RAW beside its JPEG, a HEIC beside a JPEG copy): read once, from the file
fastest to read well; counted once by find, people, clusters and train; shown, answered and exported per
file; a file added later changes nothing; a file deleted leaves the shot in the other with its names.
With the fake models (the fake detector finds make_photo's squares in a DNG's preview as in a JPEG)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from indexer.db.queries import KnownPhoto
from indexer.indexing.plan import Plan, ToRead
from indexer.indexing.scan import ScannedFile
from indexer.indexing.shots import lead_rank, plan_shots, shot_key
from support.photos import make_photo, saved_as
from support.raw import write_dng
from support.cli import faces


def raw_of(jpeg: Path, ending: str = "dng", **options) -> Path:
    """A DNG of the same picture as ``jpeg`` beside it (full-size JPEG preview unless said otherwise)."""
    with Image.open(jpeg) as image:
        return write_dng(jpeg.with_suffix(f".{ending}"), image.convert("RGB"), **options)



def summary(run, folder: Path) -> dict:
    return run.json("index", str(folder))


@pytest.fixture
def models(use_people_models):
    return use_people_models


@pytest.fixture
def pair(tmp_path, models) -> Path:
    """IMG_1.jpg (ann and bob) with IMG_1.dng beside it, and p.jpg (ann alone)."""
    root = tmp_path / "photos"
    raw_of(make_photo(root / "IMG_1.jpg", faces=["ann", "bob"], seed=1))
    make_photo(root / "p.jpg", faces=["ann"], seed=2)
    return root


def test_a_raw_beside_its_jpeg_is_one_shot_read_once_from_the_jpeg(run, pair, models):
    detector, _ = models
    done = summary(run, pair)
    assert (done["new"], done["companions"], done["faces_added"], detector.calls) == (3, 1, 3, 2)  # the DNG is not read
    jpeg, raw = faces(run, pair / "IMG_1.jpg"), faces(run, pair / "IMG_1.dng")
    assert raw == jpeg and len(jpeg) == 2  # show works on each file: the shot's faces
    shown = run.json("show", str(pair / "IMG_1.dng"))
    assert shown["shot"] == [str(pair / "IMG_1.jpg"), str(pair / "IMG_1.dng")] and shown["faces_from"] == str(pair / "IMG_1.jpg")
    assert run.json("status")["faces"] == 3

    ann = next(f for f in jpeg if f["box"][0] == 10)
    run("label", str(ann["face_id"]), "Ann")
    found = run("find", "Ann", "--json").json_lines()
    assert [line["photo"] for line in found] == [str(pair / "IMG_1.jpg")]  # once, with all its files
    assert found[0]["files"] == [str(pair / "IMG_1.jpg"), str(pair / "IMG_1.dng")]
    assert run("find", "Ann").stdout.strip().endswith(f"also {pair / 'IMG_1.dng'}")
    people = run.json_lines("people")[0]
    assert (people["name"], people["faces"], people["photos"]) == ("Ann", 1, 1)
    answer = run.json("who-is", str(pair / "IMG_1.dng"))
    assert [f["person"] for f in answer["faces"]] == ["Ann", None]  # from the index, as for the JPEG
    assert summary(run, pair)["unchanged"] == 3 and detector.calls == 2


def test_a_raw_added_later_joins_the_named_jpeg_and_nothing_is_read_again(run, tmp_path, models):
    detector, _ = models
    root = tmp_path / "photos"
    jpeg = make_photo(root / "IMG_2.jpg", faces=["ann"], seed=3)
    run("index", str(root))
    (face,) = faces(run, jpeg)
    run("label", str(face["face_id"]), "Ann")
    calls = detector.calls
    raw_of(jpeg, "nef")
    done = summary(run, root)
    assert (done["new"], done["companions"], done["faces_added"], detector.calls) == (1, 1, 0, calls)
    assert faces(run, jpeg) == [{**face, "person": "Ann", "source": "manual", "score": 1.0}]
    assert faces(run, root / "IMG_2.nef") == faces(run, jpeg)


def test_deleting_the_jpeg_leaves_the_shot_in_the_raw_with_its_names(run, pair, models):
    run("index", str(pair))
    jpeg = faces(run, pair / "IMG_1.jpg")
    run("label", str(jpeg[0]["face_id"]), "Ann")
    run("label", str(jpeg[1]["face_id"]), "Bob")
    (pair / "IMG_1.jpg").unlink()
    done = summary(run, pair)  # the DNG is read under the JPEG's record, and the names go to its faces
    assert (done["removed"], done["names_lost"], done["faces_added"]) == (0, 0, 2)
    now = faces(run, pair / "IMG_1.dng")
    assert [(f["box"], f["person"], f["source"]) for f in now] == [([10, 10, 40, 40], "Ann", "manual"),
                                                                  ([70, 10, 40, 40], "Bob", "manual")]
    assert run("show", str(pair / "IMG_1.jpg"), expect=1).stderr
    assert [line["photo"] for line in run("find", "Bob", "--json").json_lines()] == [str(pair / "IMG_1.dng")]
    run("undo")  # the label of Bob: undo follows it to the RAW's face
    assert [f["person"] for f in faces(run, pair / "IMG_1.dng")] == ["Ann", None]


def test_deleting_the_raw_leaves_the_jpeg_as_it_was(run, pair, models):
    detector, _ = models
    run("index", str(pair))
    before, calls = faces(run, pair / "IMG_1.jpg"), detector.calls
    (pair / "IMG_1.dng").unlink()
    done = summary(run, pair)
    assert done["removed"] == 1 and detector.calls == calls and faces(run, pair / "IMG_1.jpg") == before
    assert run.json("status")["photos"] == 2


def test_a_jpeg_that_cannot_be_read_leaves_its_raw_to_be_read_by_the_next_run(run, tmp_path, models):
    root = tmp_path / "photos"
    raw_of(make_photo(root / "IMG_5.jpg", faces=["ann", "bob"], seed=8))
    (root / "IMG_5.jpg").write_bytes(b"\xff\xd8 a JPEG cut short")
    first = summary(run, root)
    assert (first["errors"], first["companions"]) == (1, 0)
    assert run("show", str(root / "IMG_5.dng"), expect=1).stderr  # not recorded yet: its lead failed
    second = summary(run, root)
    assert (second["errors"], second["faces_added"]) == (1, 2)  # the JPEG is tried again, the DNG read
    assert len(faces(run, root / "IMG_5.dng")) == 2


def test_a_heic_beside_a_jpeg_is_one_shot_read_from_the_jpeg(run, tmp_path, models):
    detector, _ = models
    root = tmp_path / "photos"
    jpeg = make_photo(root / "IMG_3.JPG", faces=["bob"], seed=4)
    saved_as(jpeg, root / "IMG_3.HEIC", quality=90)
    done = summary(run, root)
    assert (done["companions"], detector.calls) == (1, 1)
    assert run.json("show", str(root / "IMG_3.HEIC"))["faces_from"] == str(jpeg)


def test_a_raw_alone_is_read_upright_and_a_bad_one_is_skipped_with_its_reason(run, tmp_path, models):
    root = tmp_path / "photos"
    with Image.open(make_photo(tmp_path / "src.jpg", faces=["ann", "bob"], seed=5)) as image:
        write_dng(root / "turned.dng", image.convert("RGB").transpose(Image.Transpose.ROTATE_90), orientation=6)
    whole = (root / "turned.dng").read_bytes()
    (root / "cut.cr2").write_bytes(whole[:2000])
    (root / "fake.arw").write_bytes(b"not a raw file at all" * 50)
    result = run("index", str(root), "--json")
    assert json.loads(result.stdout)["errors"] == 2 and "cut.cr2" in result.stderr
    assert [f["box"] for f in faces(run, root / "turned.dng")] == [[10, 10, 40, 40], [70, 10, 40, 40]]
    errors = {Path(line["path"]).name: line["reason"] for line in run.json("errors")}
    assert errors["fake.arw"] == "not a camera RAW file LibRaw can read (an unknown camera, or not RAW at all)"
    assert "RAW" in errors["cut.cr2"] and "\n" not in errors["cut.cr2"]


def test_with_raw_left_out_of_the_extensions_a_raw_is_not_even_listed(run, tmp_path, write_config, models):
    root = tmp_path / "photos"
    raw_of(make_photo(root / "IMG_4.jpg", faces=["ann"], seed=6))
    config = write_config('[library]\nextensions = ["jpg"]\n', name="narrow.toml")
    from support.cli import Cli

    narrow = Cli(config, data_dir=tmp_path / "data")
    done = narrow.json("index", str(root))
    assert (done["scanned"], done["companions"]) == (1, 0)


def test_a_shot_is_exported_to_a_sidecar_per_file_and_imported_from_any_of_them(run, pair, models):
    from indexer.outputs.xmp.regions import read_regions
    from indexer.outputs.xmp.sidecar import RegionToWrite, new_sidecar

    run("index", str(pair))
    jpeg = faces(run, pair / "IMG_1.jpg")
    run("label", str(jpeg[0]["face_id"]), "Ann")
    report = run.json("export-xmp")
    assert sorted(Path(s).name for s in report["sidecars_written"]) == ["IMG_1.dng.xmp", "IMG_1.jpg.xmp", "p.jpg.xmp"]
    regions = {name: sorted((r.name or "", tuple(round(v, 4) for v in r.area)) for r in read_regions((pair / name).read_bytes()))
               for name in ("IMG_1.dng.xmp", "IMG_1.jpg.xmp")}
    assert regions["IMG_1.dng.xmp"] == regions["IMG_1.jpg.xmp"] and len(regions["IMG_1.dng.xmp"]) == 2

    # Lightroom names the RAW's sidecar IMG_1.xmp: its region names the shot's face, once.
    for name in ("IMG_1.dng.xmp", "IMG_1.jpg.xmp"):
        (pair / name).unlink()
    (pair / "IMG_1.xmp").write_bytes(new_sidecar([RegionToWrite(0, (0.225, 0.15, 0.1, 0.2), "Bob")], (400, 200)).replace(
        b"<indexer:FaceId>0</indexer:FaceId>", b""))
    imported = run.json("import-xmp")
    assert (imported["named"], imported["drawn"], imported["conflicts"]) == (1, [], [])
    assert [f["person"] for f in faces(run, pair / "IMG_1.jpg")] == ["Ann", "Bob"]


def test_a_lead_that_moved_to_another_folder_leaves_its_companion_a_shot_of_its_own(run, pair, models):
    detector, _ = models
    run("index", str(pair))
    calls = detector.calls
    (pair / "elsewhere").mkdir()
    (pair / "IMG_1.jpg").rename(pair / "elsewhere" / "IMG_1.jpg")
    done = summary(run, pair)
    assert done["moved"] == 1 and detector.calls == calls + 1  # the DNG is read for its own faces now
    assert len(faces(run, pair / "IMG_1.dng")) == 2 and len(faces(run, pair / "elsewhere" / "IMG_1.jpg")) == 2
    assert "faces_from" not in run.json("show", str(pair / "IMG_1.dng")) or \
        run.json("show", str(pair / "IMG_1.dng"))["faces_from"] is None


# --- the rule itself -----------------------------------------------------------------------------------

def known(photo_id: int, path: str, lead_id: int | None = None, failed: bool = False) -> KnownPhoto:
    return KnownPhoto(photo_id, path, 100, 1, failed, "settings", f"hash{photo_id}", lead_id)


def found(path: str) -> ScannedFile:
    return ScannedFile(path, 100, 1)


def test_the_files_of_a_shot_share_their_folder_and_name_and_the_jpeg_leads():
    assert shot_key("/p/IMG_1.CR2") == shot_key("/p/img_1.jpg") != shot_key("/q/IMG_1.jpg")
    assert shot_key("/p/IMG_1.jpg") != shot_key("/p/IMG_10.jpg")
    assert sorted(["/p/a.cr2", "/p/a.png", "/p/a.heic", "/p/a.JPG", "/p/a.xyz"], key=lead_rank) == [
        "/p/a.JPG", "/p/a.heic", "/p/a.png", "/p/a.xyz", "/p/a.cr2"]


def test_two_photos_read_on_their_own_join_only_when_the_one_left_unread_holds_nothing_of_the_users():
    jpeg, raw = known(1, "/p/a.jpg"), known(2, "/p/a.dng")
    for holding, expected in (({2}, ("/p/a.dng", ["/p/a.jpg"])), (set(), ("/p/a.jpg", ["/p/a.dng"])), ({1, 2}, ("/p/a.jpg", []))):
        plan = Plan()
        companions = plan_shots(plan, [found("/p/a.jpg"), found("/p/a.dng")], {"/p/a.jpg": jpeg, "/p/a.dng": raw},
                                lambda ids, holding=holding: holding & set(ids))
        leads = {c.lead for c in companions}
        assert (leads.pop() if leads else expected[0], [c.file.path for c in companions]) == expected
        assert all(c.demoted for c in companions)


def test_a_shot_whose_lead_is_not_seen_waits_for_it():
    plan = Plan()
    companion = known(2, "/p/a.dng", lead_id=1)
    companions = plan_shots(plan, [found("/p/a.dng")], {"/p/a.dng": companion, "/q/a.jpg": known(1, "/q/a.jpg")},
                            lambda ids: set())
    assert [(c.file.path, c.lead) for c in companions] == [("/p/a.dng", "/q/a.jpg")] and plan.read == []


def test_a_shot_whose_lead_was_deleted_is_read_from_its_next_file_under_the_leads_record():
    lead = known(1, "/p/a.jpg")
    plan = Plan(remove=[lead])
    companions = plan_shots(plan, [found("/p/a.dng"), found("/p/a.heic")],
                            {"/p/a.dng": known(2, "/p/a.dng", 1), "/p/a.heic": known(3, "/p/a.heic", 1), "/p/a.jpg": lead},
                            lambda ids: set())
    assert plan.remove == [] and plan.released == [3] and plan.read == [ToRead(found("/p/a.heic"), lead)]
    assert [(c.file.path, c.lead) for c in companions] == [("/p/a.dng", "/p/a.heic")]


def test_the_gallery_and_who_is_copies_show_a_raw_from_its_preview_or_its_mosaic(run, tmp_path, models):
    root = tmp_path / "photos"
    with Image.open(make_photo(tmp_path / "a.jpg", faces=["ann"], seed=7)) as image:
        write_dng(root / "preview.dng", image.convert("RGB"), "jpeg")
        write_dng(root / "mosaic.dng", image.convert("RGB"), None)
    run("index", str(root))
    report = run.json("gallery", str(tmp_path / "site"))
    assert (report["previews_made"], report["unreadable"]) == (2, [])
    for name in ("preview.dng", "mosaic.dng"):
        (page,) = [p for p in (tmp_path / "site" / "photos").glob("*.html") if str(root / name) in p.read_text()]
        assert "previews/" in page.read_text()
    out = tmp_path / "copies"
    run("who-is", str(root / "preview.dng"), str(root / "mosaic.dng"), "--annotate", str(out))
    for name in ("preview.dng.jpg", "mosaic.dng.jpg"):
        with Image.open(out / name) as copy:
            assert (copy.format, copy.size) == ("JPEG", (400, 200))


# --- only files that really are one picture ---------------------------------------------------------------

def test_only_kinds_cameras_pair_are_one_shot_and_never_two_files_of_one_kind():
    from indexer.indexing.shots import pairable

    for a, b in (("a.CR2", "a.JPG"), ("a.dng", "a.heic"), ("a.HEIC", "a.jpeg"), ("a.heic", "a.MOV"), ("a.jpg", "a.mov")):
        assert pairable(a, b) and pairable(b, a), (a, b)
    for a, b in (("a.jpg", "a.png"), ("a.JPG", "a.jpg"), ("a.jpg", "a.jpeg"), ("a.cr2", "a.dng"), ("a.mov", "a.mp4"),
                 ("a.png", "a.webp"), ("a.tif", "a.cr2")):
        assert not pairable(a, b) and not pairable(b, a), (a, b)


def test_two_pictures_whose_names_differ_only_by_case_are_two_photos_each_with_its_own_regions(run, tmp_path, models):
    root = tmp_path / "photos"
    upper = make_photo(root / "IMG_1.JPG", faces=["ann"], seed=1)
    lower = make_photo(root / "IMG_1.jpg", faces=["bob", "cy"], seed=2)
    done = summary(run, root)
    assert (done["new"], done["companions"], done["faces_added"]) == (2, 0, 3)
    assert len(faces(run, upper)) == 1 and len(faces(run, lower)) == 2
    run("label", str(faces(run, upper)[0]["face_id"]), "Madonna")
    run("export-xmp")
    from indexer.outputs.xmp.regions import read_regions

    assert [r.name for r in read_regions((root / "IMG_1.JPG.xmp").read_bytes())] == ["Madonna"]
    assert [r.name for r in read_regions((root / "IMG_1.jpg.xmp").read_bytes())] == [None, None]


def test_a_png_beside_a_jpeg_of_its_name_is_its_own_photo(run, tmp_path, models):
    root = tmp_path / "photos"
    jpeg = make_photo(root / "party.jpg", faces=["ann"], seed=1)
    with Image.open(jpeg) as image:
        image.save(root / "party.png")  # even the same picture: no camera writes a PNG beside its JPEG
    done = summary(run, root)
    assert (done["companions"], done["faces_added"]) == (0, 2)
    assert run.json("show", str(root / "party.png"))["shot"] == [str(root / "party.png")]


def test_a_raw_of_another_picture_beside_a_jpeg_of_its_name_is_its_own_photo(run, tmp_path, models):
    root = tmp_path / "photos"
    jpeg = make_photo(root / "IMG_9.jpg", faces=["ann", "bob"], seed=1)  # two cameras, one folder, one counter
    with Image.open(make_photo(tmp_path / "other.jpg", faces=0, seed=2, size=(400, 300), elsewhere={"cy": (300, 200)})) as image:
        write_dng(root / "IMG_9.dng", image.convert("RGB"), preview_scale=1.0)
    done = summary(run, root)
    assert (done["new"], done["companions"]) == (2, 0)
    assert len(faces(run, jpeg)) == 2 and faces(run, root / "IMG_9.dng") == []


def test_an_index_made_before_this_rule_is_corrected_by_the_next_run_and_no_name_is_lost(run, tmp_path, models):
    root = tmp_path / "photos"
    jpeg = make_photo(root / "party.jpg", faces=["ann"], seed=1)
    with Image.open(make_photo(tmp_path / "other.jpg", faces=["bob", "cy"], seed=2)) as image:
        image.save(root / "party.png")  # a PNG holding another picture
    raw_of(make_photo(root / "IMG_1.jpg", faces=["ann", "bob"], seed=3))
    run("index", str(root))
    run("label", str(faces(run, jpeg)[0]["face_id"]), "Ann")
    # As the rule before this one left it: the PNG a companion of the JPEG, its own faces gone; nothing checked.
    png_id = run.query("SELECT id FROM photos WHERE path = ?", str(root / "party.png"))[0][0]
    jpeg_id = run.query("SELECT id FROM photos WHERE path = ?", str(jpeg))[0][0]
    import sqlite3

    with sqlite3.connect(tmp_path / "data" / "indexer.db") as db:
        db.execute("DELETE FROM faces WHERE photo_id = ?", (png_id,))
        db.execute("UPDATE photos SET shot_lead_id = ? WHERE id = ?", (jpeg_id, png_id))
        db.execute("UPDATE photos SET shot_checked = NULL")
    assert run.json("show", str(root / "party.png"))["faces_from"] == str(jpeg)
    done = summary(run, root)
    assert (done["changed"], done["faces_added"], done["companions"]) == (1, 2, 0)  # the PNG read for its own faces
    assert [f["person"] for f in faces(run, jpeg)] == ["Ann"] and len(faces(run, root / "party.png")) == 2
    assert run.json("show", str(root / "IMG_1.dng"))["faces_from"] == str(root / "IMG_1.jpg")


def test_a_shot_is_looked_at_once_not_every_night(run, pair, models, monkeypatch):
    import indexer.vision.glance as glance

    looked = []
    real = glance.glance
    monkeypatch.setattr(glance, "glance", lambda *args, **kwargs: looked.append(args[0]) or real(*args, **kwargs))
    from indexer.indexing.plan import LocalDisk

    hashed, real_hash = [], LocalDisk.sha256
    monkeypatch.setattr(LocalDisk, "sha256", lambda self, path: hashed.append(path) or real_hash(self, path))
    summary(run, pair)
    assert sorted(looked) == [str(pair / "IMG_1.dng"), str(pair / "IMG_1.jpg")]
    looked.clear(), hashed.clear()
    assert summary(run, pair)["unchanged"] == 3
    assert looked == [] and hashed == []  # the RAW is neither looked at nor hashed again
