"""The engine setting and the ONNX files' checks, without running a network: the record beside each file
decides whether it is used, made again, or refused with the command that fixes it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from indexer.config import ConfigError, load_config, parse_config, same_face_settings
from indexer.vision.engines.onnx_files import CASCADE_NETWORKS, CONVERTER, FIX, OPSET, facenet_network, state, verified_onnx
from indexer.errors import ModelUnavailable
from indexer.files import sha256_file
from indexer.vision.weights import get_model


def test_the_engine_is_onnx_unless_the_config_says_tensorflow(write_config):
    assert parse_config({}, base_dir=Path("/")).runtime.engine == "onnx"
    assert load_config(write_config('[runtime]\nengine = "tensorflow"\n')).runtime.engine == "tensorflow"
    with pytest.raises(ConfigError, match=r"\[runtime\] engine = 'torch' is not an engine; choose 'onnx' or 'tensorflow'"):
        load_config(write_config('[runtime]\nengine = "torch"\n'))


def test_the_engine_is_recorded_with_a_photo_but_another_engine_is_not_other_settings():
    onnx = parse_config({}, base_dir=Path("/"))
    tensorflow = parse_config({"runtime": {"engine": "tensorflow"}}, base_dir=Path("/"))
    smaller = parse_config({"detection": {"min_face_size": 30}}, base_dir=Path("/"))
    assert onnx.face_settings.endswith(" engine=onnx") and tensorflow.face_settings.endswith(" engine=tensorflow")
    assert same_face_settings(tensorflow.face_settings, onnx.face_settings)
    assert not same_face_settings(smaller.face_settings, onnx.face_settings)
    before_engines = onnx.face_settings.split(" engine=")[0]  # what earlier versions recorded (TensorFlow)
    assert same_face_settings(before_engines, onnx.face_settings)
    assert not same_face_settings(None, onnx.face_settings)


def converted(models_dir: Path, network, content: bytes = b"onnx bytes", **record) -> Path:
    """A stand-in ONNX file for ``network`` with its record, as `models fetch` writes them."""
    models_dir.mkdir(exist_ok=True)
    path = network.path(models_dir)
    path.write_bytes(content)
    fields = {"network": network.name, "sha256": sha256_file(path), "made_from": network.made_from,
              "converter": f"{CONVERTER} 1.17.0", "opset": OPSET} | record
    network.record_path(models_dir).write_text(json.dumps(fields))
    return path


def test_a_file_that_matches_its_record_is_used(tmp_path):
    network = facenet_network(get_model("facenet128"))
    path = converted(tmp_path, network)
    assert verified_onnx(network, tmp_path) == path
    assert state(network, tmp_path, "1.17.0") == "current"


@pytest.mark.parametrize("damage, message, found", [
    (lambda path, record: path.unlink(), "is missing", "missing"),
    (lambda path, record: record.unlink(), "is missing", "missing"),
    (lambda path, record: path.write_bytes(b"other bytes"), "does not match its sha256 (changed or damaged)", "damaged"),
    (lambda path, record: record.write_text(json.dumps(json.loads(record.read_text()) | {"made_from": "0" * 64})),
     "was made from other weights than the verified ones", "stale"),
])
def test_a_missing_changed_or_stale_file_is_refused_with_the_command_that_fixes_it(tmp_path, damage, message, found):
    network = CASCADE_NETWORKS[1]
    path = converted(tmp_path, network)
    damage(path, network.record_path(tmp_path))
    with pytest.raises(ModelUnavailable) as error:
        verified_onnx(network, tmp_path)
    assert message in str(error.value) and FIX in str(error.value) and "indexer models fetch" in FIX
    assert state(network, tmp_path, "1.17.0") == found


def test_another_converter_version_or_opset_makes_a_file_stale_for_models_fetch_but_still_usable(tmp_path):
    network = CASCADE_NETWORKS[0]
    converted(tmp_path, network)
    assert state(network, tmp_path, "1.18.0") == "stale"
    assert verified_onnx(network, tmp_path)  # a nightly run is not stopped by a pip upgrade
    converted(tmp_path, network, opset=13)
    assert state(network, tmp_path, "1.17.0") == "stale"


def test_each_network_is_made_from_its_own_pinned_weights():
    assert [n.name for n in CASCADE_NETWORKS] == ["mtcnn-propose", "mtcnn-refine", "mtcnn-output"]
    assert [n.input_side for n in CASCADE_NETWORKS] == [None, 24, 48]
    assert len({n.made_from for n in CASCADE_NETWORKS}) == 3
    assert facenet_network(get_model("facenet128")).made_from == get_model("facenet128").sha256


def test_an_index_run_with_the_onnx_engine_and_no_onnx_files_says_which_command_makes_them(run, tmp_path, write_config):
    from support.photos import make_photo

    write_config(f'[embedding]\nmodels_dir = "{tmp_path / "no-models"}"\n')
    make_photo(tmp_path / "photos" / "a.jpg", faces=1)
    result = run("index", str(tmp_path / "photos"), expect=1)
    assert "mtcnn-propose.onnx is missing: run `indexer models fetch`" in result.stderr
