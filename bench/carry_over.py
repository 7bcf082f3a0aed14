"""Figures behind SAME_FACE_DISTANCE (indexer/indexing/store.py), run by hand:

    .venv/bin/python bench/carry_over.py

A name given by hand moves to a face of a re-read photo only when that face is at the same place and its
embedding is within SAME_FACE_DISTANCE of the named face's. This measures, with the real models on the
sample library's 118 celebrity photos and the group photo, the distance between each photo's faces and
the same faces after what happens to photos in real life — re-encoded as JPEG at quality 70, brightened
by 20 %, downscaled to 60 %, cropped by 5 % on each side — and after a change of settings (crop margin
0.2, detection minimum 40 px); and, against that, the distance between different people (every face of
one celebrity against every face of another, and the group photo's six strangers against each other).
"""

from __future__ import annotations

import io
import statistics
import sys
from itertools import combinations

import numpy as np
from PIL import Image, ImageEnhance

from indexer.config import DetectionConfig
from indexer.vision.detect import mtcnn_detector
from indexer.vision.embed import facenet_embedder
from indexer.geometry import box_overlap, same_face
from indexer.vision.imaging import crop_face, load_photo
from indexer.naming.labels import SAME_FACE_DISTANCE
from indexer.sample import PEOPLE, cached_sample_library
from indexer.config import load_config
from indexer.vision.weights import get_model


def jpeg(image: Image.Image) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=70)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


EDITS = {
    "jpeg q70": (jpeg, 1.0, (0, 0)),
    "brighter 20%": (lambda im: ImageEnhance.Brightness(im).enhance(1.2), 1.0, (0, 0)),
    "downscaled 60%": (lambda im: im.resize((round(im.width * 0.6), round(im.height * 0.6))), 0.6, (0, 0)),
    "cropped 5%": (lambda im: im.crop((im.width // 20, im.height // 20, im.width - im.width // 20, im.height - im.height // 20)),
                   1.0, None),
}


def main() -> int:
    config = load_config()
    sample = cached_sample_library()
    spec = get_model(config.embedding.model)
    engine, models_dir = config.runtime.engine, config.embedding.models_dir
    embedder = facenet_embedder(spec, engine, models_dir)
    detector = mtcnn_detector(config.detection, engine, models_dir)
    margin = config.embedding.margin

    def faces(pixels: np.ndarray, detect=detector, crop_margin=margin):
        found = detect.detect(pixels)
        vectors = embedder.embed([crop_face(pixels, f.box, crop_margin, embedder.input_size) for f in found]) if found else []
        return [(list(f.box), v) for f, v in zip(found, vectors)]

    photos = [p for person in PEOPLE for split in ("train", "val") for p in sample.photos(split, person)] + [sample.group_photo]
    same: dict[str, list[float]] = {name: [] for name in [*EDITS, "margin 0.2", "min_face_size 40"]}
    unmatched = {name: 0 for name in same}
    by_person: dict[str, list[np.ndarray]] = {}
    larger = mtcnn_detector(DetectionConfig(**{**config.detection.__dict__, "min_face_size": 40}), engine, models_dir)
    for photo in photos:
        pixels = load_photo(photo, 120)
        original = faces(pixels)
        if photo != sample.group_photo and original:
            largest = max(original, key=lambda f: f[0][2] * f[0][3])
            by_person.setdefault(photo.parent.name, []).append(largest[1])
        image = Image.fromarray(pixels)
        variants = {}
        for name, (edit, scale, _) in EDITS.items():
            offset = (image.width // 20, image.height // 20) if name == "cropped 5%" else (0, 0)
            variants[name] = (faces(np.asarray(edit(image))), scale, offset)
        variants["margin 0.2"] = (faces(pixels, crop_margin=0.2), 1.0, (0, 0))
        variants["min_face_size 40"] = (faces(pixels, detect=larger), 1.0, (0, 0))
        for name, (found, scale, (dx, dy)) in variants.items():
            for box, vector in original:
                if box[2] < 40 and name == "min_face_size 40":
                    continue
                back = [([(b[0] / scale) + dx, (b[1] / scale) + dy, b[2] / scale, b[3] / scale], v) for b, v in found]
                at_place = [float(np.linalg.norm(vector - v)) for b, v in back if box_overlap(box, b) >= 0.5 or same_face(box, b)]
                if at_place:
                    same[name].append(min(at_place))
                else:
                    unmatched[name] += 1
    print(f"same face, after an edit or a setting change (L2 between unit vectors; SAME_FACE_DISTANCE = {SAME_FACE_DISTANCE}):")
    for name, distances in same.items():
        d = sorted(distances)
        print(f"  {name:<17} {len(d):>3} faces: median {statistics.median(d):.3f}, 95% {d[int(0.95 * (len(d) - 1))]:.3f}, "
              f"max {d[-1]:.3f}; above the limit {sum(x > SAME_FACE_DISTANCE for x in d)}; no face at the place {unmatched[name]}")
    different = [float(np.linalg.norm(a - b)) for p, q in combinations(by_person, 2) for a in by_person[p] for b in by_person[q]]
    group = [v for _, v in faces(load_photo(sample.group_photo, 120))]
    strangers = [float(np.linalg.norm(a - b)) for a, b in combinations(group, 2)]
    for name, d in (("different celebrities", sorted(different)), ("group photo strangers", sorted(strangers))):
        print(f"{name}: {len(d)} pairs, min {d[0]:.3f}, 1% {d[int(0.01 * (len(d) - 1))]:.3f}, median {statistics.median(d):.3f}; "
              f"within the limit {sum(x <= SAME_FACE_DISTANCE for x in d)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
