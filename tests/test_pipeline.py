"""The indexing run with fake models, a real SQLite file and a real FAISS file."""

import os

import numpy as np
import pytest
from sqlalchemy import select

import indexer.indexing.analyse
from indexer.db.models import Face, Photo, Run
from indexer.errors import IndexerError, RootNotFound
from indexer.indexing.run import index_library, resolve_roots

from support.fakes import FakeEmbedder
from support.photos import make_photo, refuse_to_list


def status_of(library):
    """What `indexer status` says of the library (``answers.status``), read in its own session."""
    from indexer.answers.status import status as library_status
    from indexer.db.reader import Reader

    with library.session() as session:
        return library_status(Reader.of_session(session), library.config)


def faces_by_photo(library) -> dict[str, list[Face]]:
    with library.session() as session:
        result: dict[str, list[Face]] = {}
        for face, path in session.execute(select(Face, Photo.path).join(Photo)):
            result.setdefault(os.path.basename(path), []).append(face)
        return result


def assert_vectors_match_database(library):
    vectors = library.checked_vectors("facenet128", 128)
    with library.session() as session:
        face_ids = sorted(session.scalars(select(Face.id)))
    assert sorted(vectors.ids()) == face_ids
    assert status_of(library).vectors == len(face_ids)


@pytest.fixture
def photos(tmp_path):
    root = tmp_path / "photos"
    make_photo(root / "one.jpg", faces=1, seed=1)
    make_photo(root / "two.jpg", faces=2, seed=2)
    make_photo(root / "trip" / "three.jpg", faces=3, seed=3)
    make_photo(root / "trip" / "empty.jpg", faces=0, seed=4)
    return root


@pytest.fixture
def count_decodes(monkeypatch):
    decoded = []
    real = indexer.indexing.analyse.load_upright

    def load_photo(path, max_megapixels, formats):
        decoded.append(os.path.basename(path))
        return real(path, max_megapixels, formats)

    monkeypatch.setattr(indexer.indexing.analyse, "load_upright", load_photo)
    return decoded


def test_a_first_run_stores_every_face_with_its_box_landmarks_and_model(fake_library, photos):
    library = fake_library()
    summary = index_library(library, [photos], progress=False)
    assert (summary.scanned, summary.new, summary.faces_added, summary.errors) == (4, 4, 6, 0)
    faces = faces_by_photo(library)
    assert {name: len(f) for name, f in faces.items()} == {"one.jpg": 1, "two.jpg": 2, "three.jpg": 3}
    face = faces["two.jpg"][1]
    assert face.box == [70, 10, 40, 40] and face.detection == pytest.approx(0.99)
    assert face.landmarks["left_eye"] == [80, 20] and face.embedding_model == "facenet128"
    assert np.linalg.norm(np.frombuffer(face.embedding, dtype="<f4")) == pytest.approx(1.0, abs=1e-5)
    with library.session() as session:
        photo = session.scalars(select(Photo).where(Photo.path.endswith("two.jpg"))).one()
        assert (photo.width, photo.height, photo.error) == (400, 200, None)
        assert photo.size == os.path.getsize(photos / "two.jpg")
    assert_vectors_match_database(library)


def test_a_second_run_decodes_nothing_and_changes_nothing(fake_library, photos, count_decodes):
    library = fake_library()
    index_library(library, [photos], progress=False)
    count_decodes.clear()
    summary = index_library(library, [photos], progress=False)
    assert count_decodes == []
    assert (summary.unchanged, summary.new, summary.changed, summary.faces_added) == (4, 0, 0, 0)


def test_a_changed_photo_has_its_faces_replaced(fake_library, photos):
    library = fake_library()
    index_library(library, [photos], progress=False)
    old_ids = {f.id for f in faces_by_photo(library)["one.jpg"]}
    make_photo(photos / "one.jpg", faces=4, seed=9)
    os.utime(photos / "one.jpg", ns=(0, 1_000_000_000))
    summary = index_library(library, [photos], progress=False)
    assert (summary.changed, summary.unchanged, summary.faces_added) == (1, 3, 4)
    new_faces = faces_by_photo(library)["one.jpg"]
    assert len(new_faces) == 4 and not old_ids & {f.id for f in new_faces}
    assert_vectors_match_database(library)


def test_a_deleted_photo_loses_its_faces_and_vectors(fake_library, photos):
    library = fake_library()
    index_library(library, [photos], progress=False)
    (photos / "trip" / "three.jpg").unlink()
    summary = index_library(library, [photos], progress=False)
    assert summary.removed == 1 and summary.scanned == 3
    assert "three.jpg" not in faces_by_photo(library)
    assert status_of(library).faces == 3
    assert_vectors_match_database(library)


def test_a_bad_file_is_recorded_counted_and_skipped_and_the_run_goes_on(fake_library, photos, count_decodes):
    (photos / "notes.jpg").write_text("not a photo")
    library = fake_library()
    summary = index_library(library, [photos], progress=False)
    assert (summary.scanned, summary.errors, summary.faces_added) == (5, 1, 6)
    with library.session() as session:
        bad = session.scalars(select(Photo).where(Photo.error.is_not(None))).one()
    assert bad.path.endswith("notes.jpg") and bad.error == "not an image (no decoder recognises its content)"
    status = status_of(library)
    assert (status.photos, status.errors) == (4, 1)
    # it is tried again on every run (alone), and once it is fixed it is indexed
    count_decodes.clear()
    summary = index_library(library, [photos], progress=False)
    assert (summary.unchanged, summary.errors) == (5, 1) and count_decodes == ["notes.jpg"]
    assert status_of(library).errors == 1
    make_photo(photos / "notes.jpg", faces=1, seed=5)
    summary = index_library(library, [photos], progress=False)
    assert (summary.changed, summary.errors, summary.faces_added) == (1, 0, 1)
    assert status_of(library).errors == 0


def test_a_detector_crash_on_one_photo_does_not_stop_the_run(fake_library, photos):
    library = fake_library()
    real_detect = library.detector().detect

    def detect(photo):
        if photo.pixels.shape[1] == 401:
            raise RuntimeError("boom")
        return real_detect(photo)

    library.detector().detect = detect
    make_photo(photos / "odd.jpg", faces=1, size=(401, 200))
    summary = index_library(library, [photos], progress=False)
    assert (summary.errors, summary.faces_added) == (1, 6)
    with library.session() as session:
        error = session.scalar(select(Photo.error).where(Photo.path.endswith("odd.jpg")))
    assert error == "face detection failed: RuntimeError: boom"


def test_indexing_one_root_leaves_the_photos_of_another_alone(fake_library, photos, tmp_path):
    other = tmp_path / "other"
    make_photo(other / "x.jpg", faces=1, seed=7)
    library = fake_library()
    index_library(library, [photos], progress=False)
    summary = index_library(library, [other], progress=False)
    assert (summary.new, summary.removed) == (1, 0)
    assert status_of(library).photos == 5


def test_photos_under_a_folder_that_cannot_be_listed_are_not_taken_for_deleted(fake_library, photos, monkeypatch):
    library = fake_library()
    index_library(library, [photos], progress=False)
    refuse_to_list(monkeypatch, "trip")
    summary = index_library(library, [photos], progress=False)
    assert summary.removed == 0
    assert "three.jpg" in faces_by_photo(library)


def test_a_lost_or_stale_vector_file_is_rebuilt_from_the_database(fake_library, photos):
    library = fake_library()
    index_library(library, [photos], progress=False)
    path = library.vectors_path("facenet128")
    path.unlink()
    assert status_of(library).vectors == 0  # status shows the mismatch ...
    summary = index_library(library, [photos], progress=False)  # ... and the next run repairs it,
    assert summary.unchanged == 4  # even one with nothing else to do
    assert status_of(library).vectors == 6
    assert_vectors_match_database(library)


def test_photos_indexed_by_another_model_are_indexed_again(fake_library, photos):
    library = fake_library()
    index_library(library, [photos], progress=False)
    other = fake_library('[embedding]\nmodel = "keras-facenet-20180402-114759"\n')
    other._embedder = FakeEmbedder("keras-facenet-20180402-114759", 512)
    summary = index_library(other, [photos], progress=False)
    assert (summary.changed, summary.unchanged, summary.faces_added) == (4, 0, 6)
    with other.session() as session:
        assert set(session.scalars(select(Face.embedding_model))) == {"keras-facenet-20180402-114759"}
    assert len(other.checked_vectors("keras-facenet-20180402-114759", 512)) == 6


def test_an_interrupted_run_keeps_what_it_committed_and_the_next_run_finishes(fake_library, tmp_path):
    root = tmp_path / "many"
    for i in range(80):
        make_photo(root / f"p{i:03}.jpg", faces=1, seed=i)
    library = fake_library()
    real_detect = library.detector().detect
    seen = []

    def detect(photo):
        seen.append(1)
        if len(seen) == 50:
            raise KeyboardInterrupt
        return real_detect(photo)

    library.detector().detect = detect
    with pytest.raises(KeyboardInterrupt):
        index_library(library, [root], progress=False)
    with library.session() as session:
        run = session.scalars(select(Run)).one()
    assert run.status == "interrupted" and run.finished_at is not None
    committed = status_of(library).faces
    assert committed == 32  # one full batch of photos
    assert_vectors_match_database(library)
    library.detector().detect = real_detect
    summary = index_library(library, [root], progress=False)
    assert (summary.unchanged, summary.new, summary.faces_added) == (32, 48, 48)
    assert status_of(library).faces == 80
    assert_vectors_match_database(library)


def test_roots_are_split_into_present_and_missing_and_nested_roots_are_walked_once(tmp_path, photos):
    assert resolve_roots([tmp_path / "nowhere", photos]) == ((photos.resolve(),), ((tmp_path / "nowhere").resolve(),))
    with pytest.raises(RootNotFound, match="not a folder"):
        resolve_roots([photos / "one.jpg"])
    assert resolve_roots([photos / "trip", photos, photos / "trip"]) == ((photos.resolve(),), ())


def test_a_missing_root_the_index_knows_nothing_of_is_an_error(fake_library, tmp_path):
    with pytest.raises(RootNotFound, match="folder to index does not exist: .*nowhere"):
        index_library(fake_library(), [tmp_path / "nowhere"], progress=False)


def test_with_no_roots_anywhere_the_run_says_what_to_do(fake_library):
    library = fake_library("[library]\nroots = []\n")
    with pytest.raises(IndexerError, match=r"no folders to index: name one, or set \[library\] roots in"):
        index_library(library, None, progress=False)


def test_every_run_is_recorded_with_its_summary(fake_library, photos):
    library = fake_library()
    index_library(library, [photos], progress=False)
    last = status_of(library).last_run
    assert last.status == "completed" and last.summary["new"] == 4 and last.finished_at >= last.started_at


def test_a_file_that_could_not_be_read_is_indexed_once_it_can_be_even_if_unchanged(fake_library, photos, monkeypatch):
    library = fake_library()
    real = indexer.indexing.analyse.load_upright

    def unreadable(path, max_megapixels, formats):
        if path.endswith("two.jpg"):
            raise indexer.indexing.analyse.UnreadablePhoto("cannot read file: permission denied")
        return real(path, max_megapixels, formats)

    monkeypatch.setattr(indexer.indexing.analyse, "load_upright", unreadable)
    assert index_library(library, [photos], progress=False).errors == 1
    monkeypatch.setattr(indexer.indexing.analyse, "load_upright", real)  # chmod does not change size or mtime
    summary = index_library(library, [photos], progress=False)
    assert (summary.unchanged, summary.errors, summary.faces_added) == (4, 0, 2)
    assert status_of(library).errors == 0


def test_photos_are_indexed_again_when_a_detection_setting_changes_but_not_for_batch_size(fake_library, photos, count_decodes):
    index_library(fake_library(), [photos], progress=False)
    count_decodes.clear()
    summary = index_library(fake_library("[embedding]\nbatch_size = 4\n"), [photos], progress=False)
    assert (summary.unchanged, summary.changed) == (4, 0) and count_decodes == []
    summary = index_library(fake_library("[detection]\nmin_face_size = 30\n"), [photos], progress=False)
    assert (summary.unchanged, summary.changed, summary.faces_added) == (0, 4, 6)
    summary = index_library(fake_library("[detection]\nmin_face_size = 30\n"), [photos], progress=False)
    assert (summary.unchanged, summary.changed) == (4, 0)
