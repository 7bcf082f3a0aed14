"""End to end, the light install: the runtime alone — no TensorFlow, keras-facenet, mtcnn, tf2onnx, onnx,
OpenCV, psycopg or Dask — builds its ONNX files from the weights with `models fetch`, indexes and names faces on
them, and answers a one-line error naming the extra where a command needs one it lacks. The outputs the
ONNX files are checked against are what TensorFlow gives.

The runtime is this virtualenv's packages less the extras' (``runtime_python``): a virtualenv of its own
whose one site folder holds links to every installed package but those, so that for the command they are
not installed at all (as `pip install .` leaves them); bench/install.py measures a real fresh install.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import numpy as np
import pytest

from indexer.config import Config
from indexer.files import sha256_file
from indexer.vision.engines import reference
from indexer.vision.engines.onnx_files import CASCADE_NETWORKS, facenet_network
from indexer.vision.weights import get_model, weights_file
from support.e2e import Indexer

pytestmark = pytest.mark.e2e

# What the extras bring (the distributions and the modules they install), left out of the runtime.
EXTRAS_ONLY = re.compile(
    r"^(_?tensorflow|tensorboard|tf_keras|keras|keras_facenet|mtcnn|tf2onnx|onnx|ml_dtypes|cv2|opencv|psycopg|"
    r"distributed|dask)"
    r"([-_.].*)?$", re.IGNORECASE)


@pytest.fixture(scope="module")
def runtime_python(tmp_path_factory) -> Path:
    """A Python whose packages are the runtime's alone."""
    root = tmp_path_factory.mktemp("runtime")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root / "venv")], check=True)
    links = root / "site"
    links.mkdir()
    installed = Path(sysconfig.get_paths()["purelib"])
    for entry in installed.iterdir():
        if not EXTRAS_ONLY.match(entry.name) and entry.name != "__pycache__":
            (links / entry.name).symlink_to(entry)
    python = root / "venv" / "bin" / "python"
    own_site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                              capture_output=True, text=True, check=True).stdout.strip()
    Path(own_site, "runtime.pth").write_text(f"import site; site.addsitedir({str(links)!r})\n")
    return python


def runtime_indexer(home: Path, python: Path, models_dir: Path | None = None, **options) -> Indexer:
    indexer = Indexer(home, models_dir=models_dir, **options)
    indexer.python = str(python)
    return indexer


def test_the_runtime_has_none_of_the_extras(runtime_python):
    probe = ("import importlib.util as u, json; print(json.dumps({m: u.find_spec(m) is not None for m in "
             "['tensorflow', 'keras_facenet', 'mtcnn', 'tf2onnx', 'cv2', 'psycopg', 'distributed', "
             "'onnxruntime', 'onnx', 'h5py', 'joblib', 'indexer']}))")
    found = json.loads(subprocess.run([str(runtime_python), "-c", probe], capture_output=True, text=True,
                                      check=True).stdout)
    assert found == {"tensorflow": False, "keras_facenet": False, "mtcnn": False, "tf2onnx": False, "cv2": False,
                     "psycopg": False, "distributed": False, "onnxruntime": True, "onnx": False, "h5py": True,
                     "joblib": True, "indexer": True}


def test_models_fetch_builds_every_onnx_file_without_tensorflow_and_a_library_is_indexed_on_them(
        runtime_python, sample, tmp_path):
    shared = Config().embedding.models_dir
    spec = get_model("facenet128")
    models = tmp_path / "models"
    models.mkdir()
    shutil.copy2(weights_file(spec, shared), weights_file(spec, models))  # the weights alone, no ONNX, no MTCNN
    indexer = runtime_indexer(tmp_path, runtime_python, models_dir=models)

    result = indexer.json("models", "fetch")
    assert [item["state"] for item in result["onnx"]] == ["made"] * 4
    for network in [*CASCADE_NETWORKS, facenet_network(spec)]:
        record = json.loads(network.record_path(models).read_text())
        assert record["converter"].startswith("indexer-graphs ") and record["max_difference_from_tensorflow"] <= 1e-6
        # the same bytes as the files the engine tests compare with TensorFlow on real photos
        assert sha256_file(network.path(models)) == sha256_file(network.path(shared)), network.name
    assert sorted(p.name for p in models.glob("mtcnn-*.lz4")) == ["mtcnn-onet.lz4", "mtcnn-pnet.lz4", "mtcnn-rnet.lz4"]
    assert indexer.json("models", "fetch")["onnx"][0]["state"] == "current"

    library = tmp_path / "library"
    library.mkdir()
    shutil.copy2(sample.group_photo, library / "group.jpg")
    for photo in sample.photos("val", "madonna")[:2]:
        shutil.copy2(photo, library)
    summary = indexer.json("index", str(library))
    assert summary["faces_added"] >= 8 and summary["errors"] == 0
    assert len(indexer.faces_of("group.jpg")) == 6
    answers = [json.loads(line) for line in indexer("who-is", str(sample.group_photo), "--json").stdout.splitlines()]
    assert len(answers[0]["faces"]) == 6


def test_a_command_that_needs_an_extra_says_which_in_one_line(runtime_python, tmp_path):
    indexer = runtime_indexer(tmp_path, runtime_python)
    photo = tmp_path / "nobody.jpg"
    from support.photos import make_photo

    make_photo(photo, faces=0)
    done = indexer("--engine", "tensorflow", "who-is", str(photo), expect=1)
    assert done.stderr.strip() == ("indexer: error: the TensorFlow engine needs the reference extra: "
                                   "pip install 'indexer[reference]'")
    done = indexer("index", str(tmp_path), "--scheduler", "tcp://127.0.0.1:8786", expect=1)
    assert done.stderr.strip() == ("indexer: error: --scheduler needs Dask's distributed package: "
                                   "pip install 'indexer[cluster]'")
    with_postgres = runtime_indexer(tmp_path / "pg", runtime_python)
    with_postgres.env["INDEXER_DATABASE_URL"] = "postgresql+psycopg://indexer@/indexer?host=/nowhere"
    done = with_postgres("status", expect=1)
    assert done.stderr.strip() == ("indexer: error: database_url names PostgreSQL, whose driver (psycopg) is not "
                                   "installed: pip install 'indexer[postgres]'")


@pytest.mark.parametrize("network", [*CASCADE_NETWORKS, facenet_network(get_model("facenet128"))], ids=lambda n: n.name)
def test_the_recorded_reference_outputs_are_what_tensorflow_gives(network):
    spec = get_model("facenet128")
    recorded = reference.recorded_outputs(network.name, network.made_from)
    assert recorded is not None
    now = reference.tensorflow_outputs(network.role, weights_file(spec, Config().embedding.models_dir),
                                       spec.input_size, spec.dimensions)
    assert reference.largest_difference(now, recorded) <= 1e-6
    assert all(np.ptp(output) > 0 for output in now)  # the fixed inputs give outputs that vary
