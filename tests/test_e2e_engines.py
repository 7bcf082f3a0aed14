"""End to end, the two engines: ONNX Runtime (the default) finds the same faces, the same vectors and the
same names as TensorFlow (the reference) on real photos, switching engines re-indexes nothing, the ONNX
engine never imports TensorFlow, and its files are checked before they are used."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from indexer.config import Config
from indexer.vision.cascade import propose_in_strips
from indexer.vision.detect import mtcnn_detector
from indexer.vision.embed import facenet_embedder
from indexer.geometry import box_overlap
from indexer.vision.imaging import crop_face, load_photo, load_upright
from indexer.sample import composite_photo
from indexer.vision.weights import get_model
from support.e2e import Indexer

pytestmark = pytest.mark.e2e

ENGINES = ("onnx", "tensorflow")
MIN_IOU = 0.95
MIN_COSINE = 0.9999


@pytest.fixture(scope="module")
def real_photos(sample, tmp_path_factory):
    """Every sample photo, the group photo, and a 12 MP composite of portraits with faces of 60–640 px."""
    portraits = sample.photos("val") + sample.photos("train")
    big = composite_photo(portraits[3], portraits[10:14], [60, 120, 320, 640], (4000, 3000), np.random.default_rng(7),
                          tmp_path_factory.mktemp("composite") / "12mp.jpg", blur=2)
    return [*portraits, sample.group_photo, big]


def analysed(engine: str, photos) -> dict[str, tuple[list, np.ndarray]]:
    """Each photo's boxes and unit vectors, as the index run finds them with ``engine``."""
    config = Config()
    models_dir = config.embedding.models_dir
    detector = mtcnn_detector(config.detection, engine, models_dir)
    embedder = facenet_embedder(get_model(config.embedding.model), engine, models_dir)
    found = {}
    for photo in photos:
        pixels = load_photo(photo, 120)
        boxes = [face.box for face in detector.detect(pixels)]
        crops = [crop_face(pixels, box, config.embedding.margin, embedder.input_size) for box in boxes]
        found[str(photo)] = (boxes, embedder.embed(crops))
    return found


def test_onnx_finds_the_same_boxes_and_vectors_as_tensorflow_on_real_photos(real_photos):
    onnx, tensorflow = analysed("onnx", real_photos), analysed("tensorflow", real_photos)
    worst_iou, worst_cosine, faces = 1.0, 1.0, 0
    for photo in map(str, real_photos):
        (boxes, vectors), (reference_boxes, reference_vectors) = onnx[photo], tensorflow[photo]
        assert len(boxes) == len(reference_boxes), photo
        for box, reference in zip(boxes, reference_boxes):
            worst_iou = min(worst_iou, box_overlap(box, reference))
        if len(vectors):
            worst_cosine = min(worst_cosine, float(np.min(np.sum(vectors * reference_vectors, axis=1))))
        faces += len(boxes)
    assert faces >= 133 + 4  # the sample's faces and the composite's (some portraits hold more than one)
    assert worst_iou >= MIN_IOU and worst_cosine >= MIN_COSINE, (worst_iou, worst_cosine)


@pytest.mark.parametrize("engine", ENGINES)
def test_the_proposal_network_in_strips_gives_exactly_the_whole_levels_outputs(engine):
    config = Config()
    networks = mtcnn_detector(config.detection, engine, config.embedding.models_dir)._load()
    rng = np.random.default_rng(3)
    for height, width in [(480, 640), (341, 453), (241, 320), (13, 700), (120, 161)]:
        level = rng.uniform(-1, 1, (height, width, 3)).astype(np.float32)
        offsets, probabilities = networks.propose(level[np.newaxis])
        for strip_pixels in (1, 5_000, 20_001, 80_000):
            in_strips = propose_in_strips(networks, level, strip_pixels)
            assert np.array_equal(in_strips[0], offsets[0]), (height, width, strip_pixels)
            assert np.array_equal(in_strips[1], probabilities[0]), (height, width, strip_pixels)


def test_a_photo_kept_as_decoded_gives_exactly_the_faces_and_crops_of_its_array(real_photos):
    """The index run keeps a photo as Pillow decoded it, prepared for the detector (scaled, its pyramid
    made) in the reading thread; `who-is` and the tests use its array. The same faces, pixel for pixel."""
    config = Config()
    detector = mtcnn_detector(config.detection, "onnx", config.embedding.models_dir)
    for photo in [real_photos[0], real_photos[-2], real_photos[-1]]:  # a portrait, the group, 12 MP
        image, pixels = load_upright(photo, 120), load_photo(photo, 120)
        faces = detector.detect(detector.prepare(image))
        assert faces == detector.detect(pixels) and faces, photo
        for face in faces:
            assert np.array_equal(crop_face(image, face.box, 0.2, 160), crop_face(pixels, face.box, 0.2, 160))


def labels(indexer: Indexer) -> dict[tuple[str, int], str | None]:
    rows = indexer.query(
        "SELECT photos.path, faces.box_x, people.name FROM faces JOIN photos ON photos.id = faces.photo_id "
        "LEFT JOIN people ON people.id = faces.person_id"
    )
    return {(path, x): name for path, x, name in rows}


def who_is(indexer: Indexer, *photos) -> list[dict]:
    answers = [json.loads(line) for line in indexer("who-is", *map(str, photos), "--json").stdout.splitlines()]
    return [{"photo": a["photo"], "faces": [(f["box"], f["person"]) for f in a["faces"]]} for a in answers]


def test_both_engines_name_the_same_faces_and_switching_engines_reads_nothing_again(trained_sample, sample, tmp_path):
    (onnx, library, onnx_report, _), (tensorflow, tf_library, tf_report, _) = (
        trained_sample("onnx"), trained_sample("tensorflow"))
    assert [p["name"] for p in onnx_report["people"]] == [p["name"] for p in tf_report["people"]]
    assert onnx_report["accuracy"] == tf_report["accuracy"]
    onnx_labels = {(path.replace(str(library), ""), x): name for (path, x), name in labels(onnx).items()}
    tf_labels = {(path.replace(str(tf_library), ""), x): name for (path, x), name in labels(tensorflow).items()}
    assert len(onnx_labels) >= 133 and onnx_labels == tf_labels
    outside = [shutil.copy2(p, tmp_path / f"{i}.jpg") for i, p in enumerate([sample.group_photo, *sample.photos("val")[:5]])]
    assert who_is(onnx, *outside) == who_is(tensorflow, *outside)

    data = tmp_path / "switched"
    shutil.copytree(tensorflow.home / "data", data / "data")
    switched = Indexer(data, engine="onnx")
    summary = switched.json("index", str(tf_library))
    assert summary["scanned"] == 26 and summary["unchanged"] == 26 and summary["faces_added"] == 0
    engines = {row[0].rsplit(" engine=", 1)[1] for row in switched.query("SELECT analysis FROM photos")}
    assert engines == {"tensorflow"}  # each photo still records the engine that read it


LOADED = (
    "import json, sys\n"
    "from indexer.cli import main\n"
    "sys.argv = ['indexer', *sys.argv[1:]]\n"
    "code = 0\n"
    "try:\n    main()\n"
    "except SystemExit as e:\n    code = e.code\n"
    "print(json.dumps([code, [m for m in {modules} if m in sys.modules]]), file=sys.stderr)\n"
)


def modules_loaded(indexer: Indexer, modules: tuple[str, ...], *args: str) -> list[str]:
    """Which of ``modules`` the command ``args`` imported, run through the CLI in a new process (which
    must succeed)."""
    script = LOADED.format(modules=repr(list(modules)))
    done = subprocess.run([sys.executable, "-c", script, "--config", str(indexer.config), *args],
                          capture_output=True, text=True, env=indexer.env, cwd=indexer.home)
    code, loaded = json.loads(done.stderr.strip().splitlines()[-1])
    assert code in (0, None), done.stderr
    return loaded


def test_who_is_index_and_enroll_never_import_tensorflow_with_the_onnx_engine(sample, tmp_path):
    indexer = Indexer(tmp_path, engine="onnx")
    library = tmp_path / "library"
    library.mkdir()
    shutil.copy2(sample.group_photo, library / "group.jpg")
    people = tmp_path / "people" / "madonna"
    people.mkdir(parents=True)
    shutil.copy2(sample.photos("train", "madonna")[0], people)
    heavy = ("tensorflow", "keras", "mtcnn", "keras_facenet", "tf2onnx")
    for args in (["index", str(library)], ["enroll", "--folders", str(people.parent)], ["who-is", str(sample.group_photo)]):
        assert modules_loaded(indexer, heavy, *args) == [], args
    assert len(indexer.faces_of("group.jpg")) == 6  # the runs did their work


def test_the_query_path_imports_neither_models_nor_pydantic_nor_sqlalchemy(trained_sample):
    indexer, library, _, _ = trained_sample()
    heavy = ("pydantic", "tensorflow", "onnxruntime", "sklearn", "faiss", "numpy", "PIL", "sqlalchemy", "alembic")
    for args in (["find", "madonna"], ["people"], ["show", str(library / "group.jpg")], ["errors"], ["status"],
                 ["history"], ["clusters"]):
        assert modules_loaded(indexer, heavy, *args) == [], args


def test_a_missing_or_changed_onnx_file_is_an_error_that_names_the_command_that_fixes_it(sample, tmp_path):
    models = tmp_path / "models"
    shutil.copytree(Config().embedding.models_dir, models, ignore=shutil.ignore_patterns("*.h5"))
    indexer = Indexer(tmp_path, models_dir=models, engine="onnx")
    photo = str(sample.group_photo)
    assert len(indexer.json("who-is", photo)["faces"]) == 6
    with open(models / "facenet128.onnx", "r+b") as onnx:
        onnx.seek(-100, 2)
        onnx.write(b"\0" * 8)
    done = indexer("who-is", photo, expect=1)
    assert "facenet128.onnx does not match its sha256" in done.stderr and "indexer models fetch" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    (models / "mtcnn-refine.onnx").unlink()
    done = indexer("who-is", photo, expect=1)
    assert "mtcnn-refine.onnx is missing" in done.stderr and "indexer models fetch" in done.stderr


def test_models_fetch_makes_again_only_the_files_that_are_stale_or_damaged(tmp_path):
    models = tmp_path / "models"
    shutil.copytree(Config().embedding.models_dir, models)
    record = models / "mtcnn-propose.onnx.json"
    stale = json.loads(record.read_text()) | {"converter": "tf2onnx 1.16.0"}
    record.write_text(json.dumps(stale))
    (models / "mtcnn-output.onnx").write_bytes(b"not a network")
    indexer = Indexer(tmp_path, models_dir=models)
    result = indexer.json("models", "fetch")
    states = {item["path"].rsplit("/", 1)[1]: item["state"] for item in result["onnx"]}
    assert states == {"mtcnn-propose.onnx": "made", "mtcnn-refine.onnx": "current", "mtcnn-output.onnx": "made",
                      "facenet128.onnx": "current"}
    assert json.loads(record.read_text())["converter"] != "tf2onnx 1.16.0"
    assert json.loads(record.read_text())["max_difference_from_tensorflow"] < 1e-5
