import os
from pathlib import Path

from indexer.indexing.scan import LibraryScan, is_excluded

from support.photos import refuse_to_list

EXTENSIONS = frozenset({"jpg", "jpeg", "png"})


def touch(path: Path, data: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def scan(*roots: Path, exclude=()) -> tuple[list, LibraryScan]:
    walk = LibraryScan(tuple(roots), EXTENSIONS, tuple(exclude))
    return list(walk), walk


def test_image_files_are_found_recursively_by_extension_whatever_its_case(tmp_path):
    touch(tmp_path / "a.jpg")
    touch(tmp_path / "sub" / "deeper" / "B.JPEG", b"12345")
    touch(tmp_path / "c.PNG")
    touch(tmp_path / "notes.txt")
    touch(tmp_path / "movie.mp4")
    found, _ = scan(tmp_path)
    assert sorted(Path(f.path).name for f in found) == ["B.JPEG", "a.jpg", "c.PNG"]
    deep = next(f for f in found if f.path.endswith("B.JPEG"))
    assert deep.size == 5 and deep.mtime_ns == os.stat(deep.path).st_mtime_ns and deep.problem is None


def test_hidden_files_and_folders_are_skipped(tmp_path):
    touch(tmp_path / ".thumbnails" / "a.jpg")
    touch(tmp_path / "._b.jpg")
    touch(tmp_path / "c.jpg")
    found, _ = scan(tmp_path)
    assert [Path(f.path).name for f in found] == ["c.jpg"]


def test_exclude_patterns_match_names_anywhere_or_paths_below_the_root(tmp_path):
    touch(tmp_path / "2019" / "@eaDir" / "a.jpg")
    touch(tmp_path / "2019" / "scans" / "b.jpg")
    touch(tmp_path / "2020" / "scans" / "c.jpg")
    touch(tmp_path / "2020" / "d.jpg")
    found, _ = scan(tmp_path, exclude=["@eaDir", "2019/scans"])
    assert sorted(Path(f.path).name for f in found) == ["c.jpg", "d.jpg"]
    assert is_excluded("x/@eaDir", "@eaDir", ["@eaDir"])
    assert not is_excluded("x/eaDir", "eaDir", ["@eaDir"])


def test_a_broken_link_is_reported_as_a_problem_and_a_link_to_a_file_is_followed(tmp_path):
    real = touch(tmp_path / "real.jpg", b"abc")
    (tmp_path / "link.jpg").symlink_to(real)
    (tmp_path / "broken.jpg").symlink_to(tmp_path / "gone.jpg")
    found = {Path(f.path).name: f for f in scan(tmp_path)[0]}
    assert found["link.jpg"].size == 3 and found["link.jpg"].problem is None
    assert found["broken.jpg"].problem == "broken symbolic link: its target does not exist"


def test_links_to_folders_are_not_followed_so_a_loop_ends(tmp_path):
    touch(tmp_path / "photos" / "a.jpg")
    (tmp_path / "photos" / "loop").symlink_to(tmp_path / "photos")
    found, _ = scan(tmp_path / "photos")
    assert [Path(f.path).name for f in found] == ["a.jpg"]


def test_a_file_name_that_is_not_utf8_is_reported_not_crashed_on(tmp_path):
    name = os.fsdecode(b"caf\xe9.jpg")
    touch(tmp_path / name)
    [found], _ = scan(tmp_path)
    assert found.problem == "file name is not valid UTF-8; rename it"
    assert found.path.endswith("caf\\xe9.jpg")
    found.path.encode("utf-8")  # storable


def test_a_folder_that_cannot_be_listed_is_remembered(tmp_path, monkeypatch):
    touch(tmp_path / "ok" / "a.jpg")
    touch(tmp_path / "locked" / "b.jpg")
    refuse_to_list(monkeypatch, "locked")
    found, walk = scan(tmp_path)
    assert [Path(f.path).name for f in found] == ["a.jpg"]
    assert walk.unlisted_dirs == [str(tmp_path / "locked")]
