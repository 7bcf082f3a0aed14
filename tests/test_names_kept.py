"""Names given by hand are never lost or put on the wrong face, nothing is removed because it could not
be seen, and the index stays private — through the command line, with the fake models on real files.
(tests/test_e2e_nightly.py does the truncated photo and the swap with the real models.)"""

import json
import shutil
import stat

import pytest

import indexer.naming.labels
from indexer.config import load_config
from indexer.library import Library
from indexer.naming.people import label_face, merge, rename

from support.photos import make_photo


@pytest.fixture(autouse=True)
def models(use_people_models):
    return use_people_models


@pytest.fixture
def root(tmp_path):
    """a.jpg shows ann, b.jpg bob; nas/c.jpg cy and nas/2019/d.jpg dee (nas: a mounted share)."""
    root = tmp_path / "photos"
    make_photo(root / "a.jpg", ["ann"], seed=1)
    make_photo(root / "b.jpg", ["bob"], seed=2)
    make_photo(root / "nas" / "c.jpg", ["cy"], seed=3)
    make_photo(root / "nas" / "2019" / "d.jpg", ["dee"], seed=4)
    return root


NAMES = {"a.jpg": "Ann", "b.jpg": "Bob", "c.jpg": "Cy", "d.jpg": "Dee"}


def shown(run, path) -> dict:
    return run.json("show", str(path))


def names(run, root) -> dict[str, list[tuple[str | None, str | None]]]:
    """file name -> [(person, source)] of every photo of the index under ``root``, from `show`."""
    found = {}
    for path in sorted(root.rglob("*.jpg")):
        result = run("show", str(path), "--json", expect=None)
        if result.exit_code == 0:
            found[path.name] = [(f["person"], f["source"]) for f in json.loads(result.stdout)["faces"]]
    return found


@pytest.fixture
def named(run, root):
    """The library indexed, and each photo's face named by hand."""
    run("index", str(root))
    for path in root.rglob("*.jpg"):
        (face,) = shown(run, path)["faces"]
        run("label", str(face["face_id"]), NAMES[path.name])
    return {name: [(person, "manual")] for name, person in NAMES.items()}


def index(run, root, *options) -> tuple[dict, str]:
    result = run(*[o for o in options if o == "--quiet"], "index", str(root), "--json", *[o for o in options if o != "--quiet"])
    return json.loads(result.stdout), result.stderr


@pytest.mark.parametrize("damage", ["truncated", "emptied"])
def test_a_named_photo_that_fails_to_read_for_a_night_keeps_its_name_and_has_it_when_restored(run, root, named, models, damage):
    photo = root / "a.jpg"
    good = photo.read_bytes()
    photo.write_bytes(good[: len(good) // 2] if damage == "truncated" else b"")
    summary, _ = index(run, root)
    assert summary["errors"] == 1 and summary["removed"] == 0
    night = shown(run, photo)
    assert night["error"] and [(f["person"], f["source"]) for f in night["faces"]] == [("Ann", "manual")]
    detector, _ = models
    calls = detector.calls
    photo.write_bytes(good)  # restored: the same content, a new modification time
    summary, _ = index(run, root)
    assert summary["errors"] == 0 and detector.calls == calls  # its content is the one indexed: nothing read
    assert names(run, root) == named and shown(run, photo)["error"] is None
    assert run("errors").stdout == "" and run("lost-names").stdout == ""


def test_a_detector_crash_on_an_edited_named_photo_keeps_its_faces_and_names(run, root, named, models, monkeypatch):
    detector, _ = models
    make_photo(root / "a.jpg", ["ann"], seed=11)
    monkeypatch.setattr(detector, "detect", lambda *_: 1 / 0)
    summary, _ = index(run, root)
    assert summary["errors"] == 1
    assert names(run, root)["a.jpg"] == [("Ann", "manual")]
    monkeypatch.delattr(detector, "detect")  # the class's own again
    summary, _ = index(run, root)
    assert summary["errors"] == 0 and summary["changed"] == 1
    assert names(run, root) == named  # the edited photo's face is still ann: the name carried over


def test_an_empty_sub_folder_is_an_unmounted_share_nothing_under_it_is_removed_and_a_quiet_run_says_so(run, root, named, tmp_path):
    away = tmp_path / "disk"
    shutil.move(root / "nas", away)
    (root / "nas").mkdir()  # the mount point, without its disk
    summary, stderr = index(run, root, "--quiet")
    assert (summary["removed"], summary["kept"]) == (0, 2)
    assert f"folder {root / 'nas'} is empty (a disk not mounted?): its 2 photo(s) in the index are left alone" in stderr
    assert names(run, away) == {}  # nothing was read from elsewhere
    (root / "nas").rmdir()
    shutil.move(away, root / "nas")
    summary, _ = index(run, root)
    assert (summary["new"], summary["moved"], summary["unchanged"], summary["kept"]) == (0, 0, 4, 0)
    assert names(run, root) == named


def test_a_missing_sub_folder_is_kept_until_prune(run, root, named):
    shutil.rmtree(root / "nas")
    summary, stderr = index(run, root)
    assert (summary["removed"], summary["kept"]) == (0, 2)
    assert f"folder {root / 'nas'} is missing" in stderr and "--prune" in stderr
    assert run.json("status")["photos"] == 4
    assert "0 removed, 0 moved, 2 kept though not found;" in run("status").stdout
    summary, stderr = index(run, root, "--prune")
    assert (summary["removed"], summary["kept"]) == (0 + 2, 0)
    assert "2 of them named by hand" in stderr
    assert run.json("status")["photos"] == 2


@pytest.mark.parametrize("setting", ['exclude = ["nas"]', 'extensions = ["png"]'])
def test_photos_a_setting_change_leaves_out_are_kept_and_come_back_without_being_read(run, root, named, write_config, models, setting):
    write_config(f"[library]\n{setting}\n")
    summary, stderr = index(run, root)
    assert summary["removed"] == 0 and summary["kept"] in (2, 4)
    assert "no longer taken by the settings" in stderr and "--prune" in stderr
    write_config("")
    detector, _ = models
    calls = detector.calls
    summary, _ = index(run, root)
    assert (summary["new"], summary["unchanged"], summary["kept"]) == (0, 4, 0) and detector.calls == calls
    assert names(run, root) == named


def test_more_than_a_fifth_of_the_library_gone_at_once_is_removed_only_with_prune(run, root, named):
    for n in range(12):
        make_photo(root / "many" / f"{n}.jpg", ["cy"], seed=50 + n)
    index(run, root)
    for n in range(12):
        (root / "many" / f"{n}.jpg").unlink()
    (root / "many" / "notes.txt").write_text("the folder is still there, with something in it")
    summary, stderr = index(run, root)
    assert (summary["removed"], summary["kept"]) == (0, 12)
    assert "12 of the 16 photo(s) in the index under these folders are gone from disk" in stderr
    summary, _ = index(run, root, "--prune")
    assert summary["removed"] == 12 and names(run, root) == named


def test_two_named_photos_swapped_keep_their_own_names_by_content_and_nothing_is_read(run, root, named, models):
    detector, _ = models
    calls = detector.calls
    (root / "a.jpg").rename(root / "swap.tmp")
    (root / "b.jpg").rename(root / "a.jpg")
    (root / "swap.tmp").rename(root / "b.jpg")
    summary, _ = index(run, root)
    assert (summary["moved"], summary["changed"], summary["new"], summary["faces_added"]) == (2, 0, 0, 0)
    assert detector.calls == calls
    assert names(run, root)["a.jpg"] == [("Bob", "manual")] and names(run, root)["b.jpg"] == [("Ann", "manual")]
    assert run("check").stdout.endswith("consistent\n")


def test_a_named_photo_overwritten_by_a_photo_of_somebody_else_does_not_give_them_its_name(run, root, named):
    shutil.copyfile(root / "b.jpg", root / "a.jpg")  # bob's photo over ann's; bob's stays where it was
    summary, stderr = index(run, root)
    assert (summary["changed"], summary["names_lost"]) == (1, 1)
    assert "1 names lost (`indexer lost-names`)" in run("status").stdout
    assert names(run, root)["a.jpg"] != [("Ann", "manual")]
    assert "1 name(s) given by hand no longer match a face in it (Ann)" in stderr
    (lost,) = [line.split("\t") for line in run("lost-names").stdout.splitlines()]
    assert lost[0] == str(root / "a.jpg") and lost[1] == "Ann" and "the photo changed" in lost[4]
    (face,) = shown(run, root / "a.jpg")["faces"]
    run("label", str(face["face_id"]), "Ann")  # the user says it is Ann after all: the lost name is found
    assert run("lost-names").stdout == ""


def test_a_photo_moved_out_of_a_folder_it_leaves_empty_is_a_move_not_a_new_photo(run, root, named):
    (root / "nas" / "2019" / "d.jpg").rename(root / "d.jpg")
    summary, _ = index(run, root)
    assert (summary["moved"], summary["new"], summary["kept"]) == (1, 0, 0)
    assert names(run, root)["d.jpg"] == [("Dee", "manual")]


def test_a_margin_change_reads_every_photo_again_and_keeps_every_name(run, root, named, write_config):
    write_config("[embedding]\nmargin = 0.2\n")
    summary, _ = index(run, root)
    assert (summary["changed"], summary["names_lost"]) == (4, 0)
    assert names(run, root) == named


def test_a_setting_change_that_embeds_faces_far_from_before_keeps_every_name_by_place(run, root, named, write_config,
                                                                                        models, monkeypatch):
    """Turning tilted faces upright moved their vectors 0.9–1.3 from the old ones (bench: 21 of 48 faces
    turned 30°, 36 of 38 turned 45°): the photo's bytes are the ones it was named on, so a name stays with
    the face at its place however differently that face is embedded now."""
    _, embedder = models
    embed = type(embedder).embed
    monkeypatch.setattr(embedder, "embed", lambda crops: -embed(embedder, crops))  # 2.0 from before: as far as can be
    write_config("[embedding]\nmargin = 0.2\n")
    summary, _ = index(run, root)
    assert (summary["changed"], summary["names_lost"]) == (4, 0)
    assert names(run, root) == named


@pytest.fixture
def trained(run, root, named, tmp_path):
    """ann, bob and cy enrolled with three photos each, and trained; the library's faces named by hand."""
    for person in ("ann", "bob", "cy"):
        for n in range(3):
            make_photo(tmp_path / "people" / person / f"{n}.jpg", [person], seed=100 + 10 * n + len(person))
    run("enroll", "--folders", str(tmp_path / "people"))
    run("train")
    make_photo(root / "group.jpg", ["ann", "bob", "cy"], seed=200)
    index(run, root)
    return {person: face["person"] for person, face in zip(("ann", "bob", "cy"), shown(run, root / "group.jpg")["faces"])}


def person_id(config, name: str) -> int:
    """The id of the person called ``name`` (the naming commands take ids; the CLI looks them up so)."""
    from indexer.answers.people import person_called
    from indexer.db.reader import Reader

    with Reader.open(load_config(config)) as reader:
        return person_called(reader, name)[0]


def unname_automatic_names(config) -> None:
    """As if train had never named the library (faces indexed before the first train)."""
    from sqlalchemy import update

    from indexer.db.models import Face

    library = Library(load_config(config))
    with library.transaction() as session:
        session.execute(update(Face).where(Face.label_source == "auto").values(person_id=None, label_source=None, label_score=None))


def test_label_rename_and_merge_while_train_computes_are_not_undone_by_it(run, root, trained, config, monkeypatch):
    assert trained == {"ann": "Ann", "bob": "Bob", "cy": "Cy"}  # named automatically
    unname_automatic_names(config)  # so that this train names them: it writes all three faces
    group = shown(run, root / "group.jpg")["faces"]
    real = indexer.naming.labels.one_name_per_photo

    def meanwhile(*args, **kwargs):  # another process, while train has read the faces and computes
        library = Library(load_config(config))
        label_face(library, group[0]["face_id"], "Zed")
        rename(library, person_id(config, "Cy"), "Cyrus")
        merge(library, person_id(config, "Bob"), person_id(config, "Ann"))
        return real(*args, **kwargs)

    monkeypatch.setattr(indexer.naming.labels, "one_name_per_photo", meanwhile)
    run("train")
    faces = shown(run, root / "group.jpg")["faces"]
    assert (faces[0]["person"], faces[0]["source"]) == ("Zed", "manual")
    assert faces[1]["person"] is None  # train computed Bob, who was merged away meanwhile
    assert (faces[2]["person"], faces[2]["source"]) == ("Cyrus", "auto")
    assert names(run, root)["b.jpg"] == [("Ann", "manual")]  # merged, by hand


def test_a_merge_while_index_names_new_faces_does_not_break_the_run(run, root, trained, config, models, write_config, monkeypatch):
    write_config("[embedding]\nbatch_size = 1\n")  # a transaction per photo: the rule is loaded by the first
    _, embedder = models
    real, calls = embedder.embed, []

    def meanwhile(crops):
        calls.append(len(crops))
        if len(calls) == 2:  # after the first photo was stored and named with the trained rule
            merge(Library(load_config(config)), person_id(config, "Bob"), person_id(config, "Ann"))
        return real(crops)

    monkeypatch.setattr(embedder, "embed", meanwhile)
    make_photo(root / "first.jpg", ["cy"], seed=300)
    make_photo(root / "second.jpg", ["bob", "cy"], seed=301)
    summary, _ = index(run, root)
    assert (summary["new"], summary["errors"], len(calls)) == (2, 0, 2)
    assert [f["person"] for f in shown(run, root / "first.jpg")["faces"]] == ["Cy"]
    assert [f["person"] for f in shown(run, root / "second.jpg")["faces"]] == [None, "Cy"]


def test_the_index_is_private_whatever_modes_its_files_had(run, root, named, tmp_path):
    run("train", expect=None)
    data = tmp_path / "data"
    for path in [data, *data.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    result = run("status")
    assert "readable by their owner only" in result.stderr
    for path in [data, *data.rglob("*")]:
        assert stat.S_IMODE(path.stat().st_mode) == (0o700 if path.is_dir() else 0o600), path
    assert {p.name for p in data.iterdir()} >= {"indexer.db", "vectors", "writer.lock"}
    assert "readable by their owner only" not in run("status").stderr  # said once


def test_a_new_index_in_an_existing_folder_is_private_from_the_start(run, root, tmp_path):
    (tmp_path / "data").mkdir(mode=0o755)
    (tmp_path / "data").chmod(0o755)
    run("index", str(root))
    for path in [tmp_path / "data", *(tmp_path / "data").rglob("*")]:
        assert not stat.S_IMODE(path.stat().st_mode) & 0o077, path


def test_only_photo_formats_are_decoded_whatever_the_name(run, root):
    (root / "script.jpg").write_bytes(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n%%EOF\n")
    make_photo(root / "png-inside.png", ["ann"], seed=7)
    (root / "png-inside.png").rename(root / "png-inside.jpg")
    summary, _ = index(run, root)
    assert summary["errors"] == 1
    (error,) = run.json("errors")
    assert error["path"].endswith("script.jpg") and error["reason"] == "not an image (no decoder recognises its content)"
    assert len(shown(run, root / "png-inside.jpg")["faces"]) == 1  # a PNG named .jpg is still a photo


@pytest.mark.parametrize("text, message", [
    ("[detection]\nmin_confidence = nan\n", "min_confidence must be a number from 0 to 1, not nan"),
    ("[library]\nmax_removed_share = inf\n", "max_removed_share must be a number from 0 to 1, not inf"),
    ('[library]\nextensions = ["jpg", "."]\n', 'extensions must be a list of file endings of letters and digits'),
])
def test_config_values_that_are_not_sane_are_refused(run, write_config, text, message):
    write_config(text)
    result = run("status", expect=1)
    assert message in result.stderr


def test_a_relative_database_url_is_relative_to_the_config_file_not_the_working_folder(run, write_config, tmp_path):
    write_config('[storage]\ndata_dir = "data"\ndatabase_url = "sqlite:///db/faces.db"\n')
    assert run.json("init")["database"] == f"sqlite:///{tmp_path / 'db' / 'faces.db'}"
    assert (tmp_path / "db" / "faces.db").is_file() and not (tmp_path / "work" / "db").exists()


def test_a_newline_or_tab_in_a_file_name_cannot_forge_a_line_of_output(run, root, named):
    forged = root / "x.jpg\nfake.jpg\tAnn.jpg"
    forged.write_text("not a photo")
    (root / "a.jpg").rename(root / "tab\there.jpg")  # moved: it keeps its name
    run("index", str(root))
    assert run("errors").stdout.count("\n") == 1 and "x.jpg\\nfake.jpg\\tAnn.jpg" in run("errors").stdout
    lines = run("find", "Ann").stdout.splitlines()
    assert all(line.count("\t") == 5 for line in lines) and any("tab\\there.jpg" in line for line in lines)
    assert run("who-is", str(root / "tab\there.jpg")).stdout.count("\t") == 4
