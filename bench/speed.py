"""Indexing speed against the seed's loop, side by side on the same photos, run by hand:

    .venv/bin/python bench/speed.py [--large 8] [--small 118]

The seed's loop: for each photo, MTCNN (mtcnn's defaults) on the full image, then one Keras
`model.predict` per face on the same FaceNet weights. indexer: `index_library` on the same folder, into a
throw-away data folder (decoding, hashing, detection, embedding and database writes all included).
indexer runs once per engine (ONNX Runtime and TensorFlow), each on a fresh data folder. All run in this
process after a warm-up photo, so the figures are steady state; the warm-up (runtime and model start-up)
is printed on its own.

Large photos: 4000×3000 canvases made from the sample's real portraits, faces at several sizes (one
below 1/40 of the shorter side on every canvas, to show what `min_face_fraction` trades). Small photos:
the 5-celebrity photos (~300 px). For the large photos it also checks that indexer finds every face the
seed's loop finds that is at least 1/40 of the shorter side tall (75 px) (`same_face`: each box's centre
within the middle half of the other).
Prints photos/s, the ratio, and the peak memory (RSS) of the process. And the floor, measured in the
same run on the same photos: decoding each at the size the detector looks at (JPEG's own scaling) plus
the time of the networks alone on it — MTCNN's three networks on exactly the inputs the cascade gives
them, FaceNet on the photo's faces — with indexer's ratio to it (ONNX Runtime).
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from PIL import Image

from indexer.config import Config, IndexConfig, RuntimeConfig, StorageConfig, downloads_dir
from indexer.vision.engines import ENGINES
from indexer.vision.embed import standardize
from indexer.vision.imaging import load_photo
from indexer.library import Library
from indexer.geometry import same_face
from indexer.indexing.run import index_library
from indexer.sample import cached_sample_library, composite_photo
from indexer.vision.weights import get_model, verified_weights

CANVAS = (4000, 3000)
FACE_HEIGHTS = [60, 90, 160, 320, 640]  # px; 60 is below 1/40 of 3000 (75 px)


def make_canvases(portraits: list[Path], dest: Path, count: int) -> list[Path]:
    """``count`` 4000×3000 JPEGs, each with three portraits scaled so their faces are about 60 px and two
    of the larger FACE_HEIGHTS tall, over a backdrop made from another portrait blown up to the whole
    canvas (its face, over 1000 px, is a face too)."""
    rng = np.random.default_rng(0)
    dest.mkdir(parents=True)
    made = []
    for i in range(count):
        heights = [FACE_HEIGHTS[0], *rng.choice(FACE_HEIGHTS[1:], 2, replace=False)]
        pasted = [portraits[(3 * i + slot) % len(portraits)] for slot in range(3)]
        backdrop = portraits[(i + 7) % len(portraits)]
        made.append(composite_photo(backdrop, pasted, heights, CANVAS, rng, dest / f"canvas-{i:02d}.jpg", blur=2))
    return made


class SeedLoop:
    """The seed's per-photo loop: full-image MTCNN, one `predict` per face."""

    def __init__(self, config: Config):
        from indexer.vision.engines.tensorflow import load_tensorflow

        load_tensorflow()
        from keras_facenet.inception_resnet_v1 import InceptionResNetV1
        from mtcnn import MTCNN

        spec = get_model(config.embedding.model)
        self.detector = MTCNN()
        self.network = InceptionResNetV1(input_shape=(160, 160, 3), classes=spec.dimensions)
        self.network.load_weights(str(verified_weights(spec, config.embedding.models_dir, downloads_dir())))

    def __call__(self, path: Path) -> list[list[int]]:
        pixels = np.asarray(Image.open(path).convert("RGB"))
        boxes = []
        for face in self.detector.detect_faces(pixels):
            x, y, w, h = face["box"]
            x, y = max(0, x), max(0, y)
            crop = np.asarray(Image.fromarray(pixels[y : y + h, x : x + w]).resize((160, 160)))
            self.network.predict(standardize(crop[None], "per_image"), verbose=0)
            boxes.append([x, y, w, h])
        return boxes


WORKERS: list[int | None] = [None]  # indexer's [index] workers (--workers; None: "auto")


def timed_seed(seed: SeedLoop, photos: list[Path]) -> tuple[float, dict[str, list[list[int]]]]:
    start = time.perf_counter()
    found = {str(p): seed(p) for p in photos}
    return time.perf_counter() - start, found


def timed_indexer(config: Config, warmup: Path, folder: Path) -> tuple[float, float, Library]:
    """(warm-up seconds, seconds for the folder, the library) with a fresh data folder."""
    library = Library(config)
    start = time.perf_counter()
    index_library(library, [warmup], progress=False)
    warm = time.perf_counter() - start
    start = time.perf_counter()
    index_library(library, [folder], progress=False)
    return warm, time.perf_counter() - start, library


def indexed_boxes(library: Library) -> dict[str, list[list[int]]]:
    from sqlalchemy import select

    from indexer.db.models import Face, Photo

    found: dict[str, list[list[int]]] = {}
    with library.session() as session:
        for path, face in session.execute(select(Photo.path, Face).join(Face, Face.photo_id == Photo.id)):
            found.setdefault(path, []).append(face.box)
    return found


def compare(seed: dict[str, list[list[int]]], ours: dict[str, list[list[int]]], fraction: float) -> tuple[int, int, int]:
    """(seed faces at least ``fraction`` of the shorter side tall, of those found by indexer, faces indexer
    found that the seed did not)."""
    wanted = found = extra = 0
    for path, boxes in seed.items():
        shorter = min(Image.open(path).size)
        mine = ours.get(path, [])
        for box in boxes:
            if box[3] >= fraction * shorter:
                wanted += 1
                found += any(same_face(box, other) for other in mine)
        extra += sum(not any(same_face(box, other) for other in boxes) for box in mine)
    return wanted, found, extra


class TimedNetworks:
    """MTCNN's networks (``cascade.CascadeNetworks``), adding up the seconds spent inside them."""

    def __init__(self, networks):
        self.networks, self.seconds = networks, 0.0

    def _timed(self, method, batch):
        start = time.perf_counter()
        result = method(batch)
        self.seconds += time.perf_counter() - start
        return result

    def propose(self, level):
        return self._timed(self.networks.propose, level)

    def refine(self, patches):
        return self._timed(self.networks.refine, patches)

    def output(self, patches):
        return self._timed(self.networks.output, patches)


def floor_seconds(photos: list[Path], work: Path) -> float:
    """The floor per photo (see the module), ONNX Runtime, warm."""
    from indexer.vision.cascade import FACE_PX
    from indexer.vision.imaging import crop_face, load_upright

    library = Library(replace(Config(), storage=StorageConfig(data_dir=work / "floor-data")))
    detector, embedder = library.detector(), library.embedder()
    detector.detect(load_photo(photos[0], 120))
    embedder.embed([np.zeros((embedder.input_size,) * 2 + (3,), np.uint8)])
    networks = detector._networks = TimedNetworks(detector._load())  # the detector's own networks, timed
    decoding = facenet = 0.0
    for path in photos:
        with Image.open(path) as image:
            width, height = image.size
        scale = FACE_PX / detector.min_face_px(width, height)
        start = time.perf_counter()
        load_upright(path, 120, scale=min(1.0, scale))  # what decoding costs at the detector's size
        decoding += time.perf_counter() - start
        pixels = load_photo(path, 120)
        crops = [crop_face(pixels, face.box, library.config.embedding.margin, embedder.input_size)
                 for face in detector.detect(pixels)]
        if crops:
            start = time.perf_counter()
            embedder.embed(crops)
            facenet += time.perf_counter() - start
    return (decoding + networks.seconds + facenet) / len(photos)


def run_set(label: str, photos: list[Path], warmup: Path, seed: SeedLoop, work: Path, check_faces: bool) -> None:
    folder = work / f"{label}-photos"
    folder.mkdir()
    for photo in photos:
        shutil.copy2(photo, folder / photo.name)
    photos = sorted(folder.iterdir())
    seed(warmup)
    seed_seconds, seed_found = timed_seed(seed, photos)
    n = len(photos)
    print(f"{label}: {n} photos")
    print(f"  seed loop            {n / seed_seconds:7.3f} photos/s  ({seed_seconds / n:.2f} s per photo)")
    floor = floor_seconds(photos, work / label)
    print(f"  the floor            {1 / floor:7.3f} photos/s  ({floor:.3f} s per photo: decoding at the detector's size "
          f"and the networks alone, ONNX Runtime); {seed_seconds / n / floor:.1f}× the seed loop")
    for engine in ENGINES:
        config = replace(Config(), storage=StorageConfig(data_dir=work / f"{label}-{engine}-data"), runtime=RuntimeConfig(engine),
                         index=IndexConfig(workers=WORKERS[0]))
        warm, ours_seconds, library = timed_indexer(config, warmup.parent, folder)
        to_floor = f"; {ours_seconds / n / floor:.2f}× the floor" if engine == "onnx" else ""
        print(f"  indexer, {engine:<11} {n / ours_seconds:7.3f} photos/s  ({ours_seconds / n:.3f} s per photo); "
              f"{seed_seconds / ours_seconds:.1f}× the seed loop{to_floor}; start-up and warm-up photo {warm:.1f} s")
        if check_faces:
            fraction = config.detection.min_face_fraction
            wanted, found, extra = compare(seed_found, indexed_boxes(library), fraction)
            smaller = sum(len(b) for b in seed_found.values()) - wanted
            print(f"    faces at least 1/{1 / fraction:.0f} of the shorter side found by the seed: {wanted}; "
                  f"indexer finds {found} of them; {smaller} smaller seed faces are not looked for; "
                  f"{extra} indexer faces the seed did not report")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--large", type=int, default=8, help="how many 4000×3000 canvases (default 8)")
    parser.add_argument("--small", type=int, default=118, help="how many celebrity photos (default all 118)")
    parser.add_argument("--workers", type=int, default=None, help="indexer's [index] workers (default: auto)")
    args = parser.parse_args()
    WORKERS[0] = args.workers
    sample = cached_sample_library()
    portraits = sample.photos("val") + sample.photos("train")
    seed = SeedLoop(Config())
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        large = make_canvases(portraits, work / "canvases", args.large + 1)
        warm_dir = work / "warmup-large"
        warm_dir.mkdir()
        shutil.move(large[-1], warm_dir / large[-1].name)
        print("decode of one 12 MP JPEG: ", end="")
        start = time.perf_counter()
        load_photo(large[0], 120)
        print(f"{time.perf_counter() - start:.2f} s")
        run_set("large", large[:-1], warm_dir / large[-1].name, seed, work, check_faces=True)
        small = portraits[: args.small]
        warm_small = work / "warmup-small"
        warm_small.mkdir()
        shutil.copy2(sample.group_photo, warm_small / "warmup.jpg")
        run_set("small", small, warm_small / "warmup.jpg", seed, work, check_faces=False)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process (all pipelines; bench/memory.py measures each engine alone): {peak:.0f} MB")


if __name__ == "__main__":
    main()
