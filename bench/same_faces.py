"""Whether two versions of indexer find the same faces with the same embeddings, run by hand (~1 min each):

    PYTHONPATH=<checkout A> .venv/bin/python bench/same_faces.py dump /tmp/a.npz
    PYTHONPATH=<checkout B> .venv/bin/python bench/same_faces.py dump /tmp/b.npz
    .venv/bin/python bench/same_faces.py compare /tmp/a.npz /tmp/b.npz

``dump`` runs the version it imports (ONNX Runtime) on the sample library's 118 celebrity photos, its group
photo and 8 composites of 12 MP (as bench/speed.py makes them): each photo decoded, its faces detected,
cropped and embedded; it saves every box, detection score and embedding. ``compare`` prints how many photos
have other boxes, the largest change of a detection score and the largest L2 distance between the two
embeddings of a face (unit vectors; bench/carry_over.py shows which distances are harmless).
(A checkout other than this one needs its ``indexer/migrations`` linked to the top-level ``migrations``.)
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from speed import make_canvases

from indexer.config import Config
from indexer.sample import cached_sample_library
from indexer.vision.detect import mtcnn_detector
from indexer.vision.embed import facenet_embedder
from indexer.vision.imaging import crop_face, load_photo
from indexer.vision.weights import get_model


def dump(out: Path) -> None:
    sample = cached_sample_library()
    portraits = sample.photos("val") + sample.photos("train")
    config = Config()
    detector = mtcnn_detector(config.detection, "onnx", config.embedding.models_dir)
    embedder = facenet_embedder(get_model(config.embedding.model), "onnx", config.embedding.models_dir)
    found = {}
    with tempfile.TemporaryDirectory() as folder:
        canvases = make_canvases(portraits, Path(folder) / "canvases", 8)
        for number, photo in enumerate([*portraits, sample.group_photo, *canvases]):
            pixels = load_photo(photo, 120)
            faces = detector.detect(pixels)
            crops = [crop_face(pixels, face.box, config.embedding.margin, embedder.input_size) for face in faces]
            found[f"boxes{number}"] = np.array([face.box for face in faces], dtype=np.int64).reshape(-1, 4)
            found[f"scores{number}"] = np.array([face.confidence for face in faces], dtype=np.float64)
            found[f"vectors{number}"] = embedder.embed(crops)
    np.savez(out, **found)
    print(f"{len(found) // 3} photos, {sum(len(v) for k, v in found.items() if k.startswith('boxes'))} faces: {out}")


def compare(first: Path, second: Path) -> None:
    a, b = np.load(first), np.load(second)
    photos = len([k for k in a.files if k.startswith("boxes")])
    other_boxes, faces, worst_score, worst_distance = 0, 0, 0.0, 0.0
    for number in range(photos):
        boxes = a[f"boxes{number}"]
        if boxes.shape != b[f"boxes{number}"].shape or not np.array_equal(boxes, b[f"boxes{number}"]):
            other_boxes += 1
            print(f"photo {number}: boxes {boxes.tolist()} against {b[f'boxes{number}'].tolist()}")
            continue
        faces += len(boxes)
        if len(boxes):
            worst_score = max(worst_score, float(np.abs(a[f"scores{number}"] - b[f"scores{number}"]).max()))
            distances = np.linalg.norm(a[f"vectors{number}"] - b[f"vectors{number}"], axis=1)
            worst_distance = max(worst_distance, float(distances.max()))
    print(f"{photos} photos; {other_boxes} with other boxes; on the other {faces} faces the largest change of a "
          f"detection score is {worst_score:.2g} and of an embedding {worst_distance:.2g} (L2)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("dump").add_argument("out", type=Path)
    both = commands.add_parser("compare")
    both.add_argument("first", type=Path)
    both.add_argument("second", type=Path)
    args = parser.parse_args()
    dump(args.out) if args.command == "dump" else compare(args.first, args.second)


if __name__ == "__main__":
    main()
