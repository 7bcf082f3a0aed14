"""The run's decisions (indexer.indexing.plan) on tables of files and known photos, with a fake disk."""

import pytest

from indexer.db.queries import KnownPhoto
from indexer.indexing.plan import FileState, FolderState, file_state, plan_run
from indexer.indexing.scan import ScannedFile

ROOT = "/lib"
SETTINGS = "model=facenet128"


class FakeDisk:
    """Files by path with their content hashes; folders seen unless listed as empty or missing."""

    def __init__(self, contents: dict[str, str], folders: dict[str, FolderState] | None = None):
        self.contents, self.folders = contents, folders or {}

    def sha256(self, path):
        return self.contents.get(path)

    def exists(self, path):
        return path in self.contents

    def folder(self, path):
        return self.folders.get(path, FolderState.SEEN)


def known(photo_id, path, content, size=100, mtime=1, failed=False, settings=SETTINGS):
    return KnownPhoto(photo_id, path, size, mtime, failed, settings, content)


def found(path, size=100, mtime=1, problem=None):
    return ScannedFile(path, size, mtime, problem)


@pytest.mark.parametrize("file, before, state", [
    (found("/lib/a.jpg"), None, FileState.NEW),
    (found("/lib/a.jpg", size=5), known(1, "/lib/a.jpg", "h"), FileState.CHANGED),
    (found("/lib/a.jpg", mtime=2), known(1, "/lib/a.jpg", "h"), FileState.CHANGED),
    (found("/lib/a.jpg"), known(1, "/lib/a.jpg", "h", failed=True), FileState.RETRY),
    (found("/lib/a.jpg"), known(1, "/lib/a.jpg", "h", settings="other"), FileState.OUTDATED),
    (found("/lib/a.jpg"), known(1, "/lib/a.jpg", "h"), FileState.UNCHANGED),
])
def test_file_state_says_whether_a_file_is_read_again(file, before, state):
    assert file_state(file, before, SETTINGS) is state


def plan(files, photos, disk, **options):
    return plan_run(files, {p.path: p for p in photos}, [ROOT], SETTINGS, disk, **options)


def test_a_swap_of_two_files_is_two_moves_and_nothing_is_read():
    a, b = known(1, "/lib/a.jpg", "ha"), known(2, "/lib/b.jpg", "hb")
    result = plan([found("/lib/a.jpg", mtime=2), found("/lib/b.jpg", mtime=2)], [a, b],
                  FakeDisk({"/lib/a.jpg": "hb", "/lib/b.jpg": "ha"}))
    assert sorted((f.path, p.id) for f, p in result.moves) == [("/lib/a.jpg", 2), ("/lib/b.jpg", 1)]
    assert (result.read, result.remove) == ([], [])


def test_a_file_with_its_own_content_under_a_new_time_is_touched_not_read():
    result = plan([found("/lib/a.jpg", mtime=9)], [known(1, "/lib/a.jpg", "ha")], FakeDisk({"/lib/a.jpg": "ha"}))
    assert [p.id for _, p in result.touched] == [1] and result.read == [] and result.unchanged == 1


def test_a_file_moved_over_another_moves_its_photo_and_the_overwritten_one_goes():
    a, b = known(1, "/lib/a.jpg", "ha"), known(2, "/lib/b.jpg", "hb")
    result = plan([found("/lib/a.jpg", mtime=2)], [a, b], FakeDisk({"/lib/a.jpg": "hb"}))
    assert [(f.path, p.id) for f, p in result.moves] == [("/lib/a.jpg", 2)]
    assert [p.id for p in result.remove] == [1]


def test_a_copy_over_another_file_is_read_as_a_change_of_it():
    a, b = known(1, "/lib/a.jpg", "ha"), known(2, "/lib/b.jpg", "hb")
    result = plan([found("/lib/a.jpg", mtime=2), found("/lib/b.jpg")], [a, b], FakeDisk({"/lib/a.jpg": "hb", "/lib/b.jpg": "hb"}))
    assert result.moves == [] and [(t.file.path, t.before.id) for t in result.read] == [("/lib/a.jpg", 1)]


def test_photos_under_an_empty_or_missing_folder_are_kept_by_their_top_most_unseen_folder():
    photos = [known(1, "/lib/nas/x/a.jpg", "ha"), known(2, "/lib/nas/b.jpg", "hb"), known(3, "/lib/old/c.jpg", "hc")]
    disk = FakeDisk({}, {"/lib/nas": FolderState.EMPTY, "/lib/nas/x": FolderState.MISSING, "/lib/old": FolderState.MISSING})
    result = plan([], photos, disk)
    assert {folder: [p.id for p in kept] for folder, kept in result.unseen.items()} == {"/lib/nas": [1, 2], "/lib/old": [3]}
    assert result.remove == [] and result.kept == 3
    assert [p.id for p in plan([], photos, disk, prune=True).remove] == [1, 2, 3]


def test_a_file_still_on_disk_but_not_scanned_is_out_of_scope_and_kept():
    result = plan([], [known(1, "/lib/@eaDir/a.jpg", "ha")], FakeDisk({"/lib/@eaDir/a.jpg": "ha"}))
    assert [p.id for p in result.out_of_scope] == [1] and result.remove == []


def test_photos_under_an_unlisted_folder_are_kept_even_by_prune():
    result = plan([], [known(1, "/lib/locked/a.jpg", "ha")], FakeDisk({}), unlisted=["/lib/locked"], prune=True)
    assert (result.remove, result.kept) == ([], 0)


@pytest.mark.parametrize("held, gone, removed", [(10, 10, 10), (50, 10, 10), (50, 11, 0), (100, 20, 20), (100, 21, 0)])
def test_many_photos_gone_at_once_are_held_back(held, gone, removed):
    photos = [known(i, f"/lib/{i}.jpg", f"h{i}") for i in range(held)]
    result = plan([found(p.path) for p in photos[gone:]], photos, FakeDisk({}))
    assert len(result.remove) == removed and len(result.held_back) == (gone if not removed else 0)
