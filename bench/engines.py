"""The two engines side by side on real photos, run by hand:

    .venv/bin/python bench/engines.py

On the 118 sample photos, the group photo and a 12-megapixel composite: faces found, the worst box
IoU and the worst vector cosine of the ONNX engine against TensorFlow, and the time each takes
(detection and embedding, models loaded, after one warm-up photo). Also compares indexer's cascade
(indexer/cascade.py) with the `mtcnn` package's own pipeline, which indexer ran before it, on the same
photos and settings: faces found and the worst box IoU.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from indexer.config import Config
from indexer.vision.detect import _box_in_original, mtcnn_detector, scaled_for_detection
from indexer.vision.embed import facenet_embedder
from indexer.vision.engines import ENGINES
from indexer.geometry import box_overlap
from indexer.vision.imaging import crop_face, load_photo
from indexer.sample import cached_sample_library, composite_photo
from indexer.vision.weights import get_model


def analyse(engine: str, pixels: dict) -> tuple[dict, float]:
    """Boxes and vectors per photo with ``engine``, and the seconds it took (after a warm-up photo)."""
    config = Config()
    detector = mtcnn_detector(config.detection, engine, config.embedding.models_dir)
    embedder = facenet_embedder(get_model(config.embedding.model), engine, config.embedding.models_dir)

    def faces(image):
        boxes = [f.box for f in detector.detect(image)]
        return boxes, embedder.embed([crop_face(image, box, config.embedding.margin, 160) for box in boxes])

    faces(next(iter(pixels.values())))
    start = time.perf_counter()
    found = {path: faces(image) for path, image in pixels.items()}
    return found, time.perf_counter() - start


def package_pipeline(pixels: dict) -> dict:
    """Boxes as the `mtcnn` package's detect_faces finds them, with indexer's settings and scaling."""
    from indexer.vision.engines.tensorflow import load_tensorflow

    load_tensorflow()
    from mtcnn import MTCNN

    config = Config()
    detector = mtcnn_detector(config.detection, "tensorflow", config.embedding.models_dir)
    package = MTCNN()
    found = {}
    for path, image in pixels.items():
        height, width = image.shape[:2]
        min_face = detector.min_face_px(width, height)
        scale = 20 / min_face
        raw = package.detect_faces(scaled_for_detection(image, detector.working_size(width, height)), min_face_size=20,
                                   threshold_pnet=config.detection.pnet_threshold, threshold_rnet=config.detection.rnet_threshold,
                                   threshold_onet=config.detection.min_confidence)
        boxes = [_box_in_original((x, y, x + w, y + h), scale, width, height) for x, y, w, h in (r["box"] for r in raw)]
        found[path] = sorted(b for b in boxes if max(b[2:]) >= min_face)
    return found


def main() -> None:
    sample = cached_sample_library()
    portraits = sample.photos("val") + sample.photos("train")
    with tempfile.TemporaryDirectory() as tmp:
        big = composite_photo(portraits[3], portraits[10:14], [60, 120, 320, 640], (4000, 3000), np.random.default_rng(7),
                              Path(tmp) / "12mp.jpg", blur=2)
        photos = [*portraits, sample.group_photo, big]
        pixels = {str(p): load_photo(p, 120) for p in photos}
    results = {}
    for engine in ENGINES:
        results[engine], seconds = analyse(engine, pixels)
        faces = sum(len(boxes) for boxes, _ in results[engine].values())
        print(f"{engine:<11} {len(photos)} photos, {faces} faces, {seconds:.1f} s ({seconds / len(photos) * 1000:.0f} ms a photo)")
    worst_iou = worst_cosine = 1.0
    same_count = 0
    for path in pixels:
        (boxes, vectors), (reference, reference_vectors) = results["onnx"][path], results["tensorflow"][path]
        if len(boxes) != len(reference):
            continue
        same_count += 1
        worst_iou = min([worst_iou, *(box_overlap(a, b) for a, b in zip(boxes, reference))])
        if len(vectors):
            worst_cosine = min(worst_cosine, float(np.min(np.sum(vectors * reference_vectors, axis=1))))
    print(f"onnx against tensorflow: same number of faces in {same_count} of {len(photos)} photos; "
          f"worst box IoU {worst_iou:.4f}; worst vector cosine {worst_cosine:.7f}")
    package = package_pipeline(pixels)
    ours = {path: sorted(boxes) for path, (boxes, _) in results["tensorflow"].items()}
    same = sum(package[path] == ours[path] for path in pixels)
    print(f"indexer's cascade against the mtcnn package's pipeline: identical boxes in {same} of {len(photos)} photos "
          f"({sum(map(len, package.values()))} faces against {sum(map(len, ours.values()))})")


if __name__ == "__main__":
    main()
