"""Why the default detection and crop settings are what they are, measured on the sample library:

    .venv/bin/python bench/detection_settings.py

1. Detection: with MTCNN's own second-stage threshold (0.7) and with indexer's (0.6), how many of the
   118 celebrity photos yield no face, and what the group photo yields (6 real faces; MTCNN also
   reports a small false box), before and after the minimum-size cut.
2. Crop margin: for each margin, how many of the 25 val photos find a train photo of the same person
   nearest, and the mean same-person and different-person distances (largest face of each photo).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from indexer.config import Config
from indexer.vision.detect import mtcnn_detector
from indexer.vision.embed import facenet_embedder
from indexer.vision.imaging import crop_face, load_photo
from indexer.sample import cached_sample_library
from indexer.vision.weights import get_model


def describe(faces) -> str:
    return ", ".join(f"{f.box[2]}×{f.box[3]}px@{f.confidence:.2f}" for f in faces)


def main() -> None:
    sample = cached_sample_library()
    config = Config()
    engine, models_dir = config.runtime.engine, config.embedding.models_dir
    photos = sample.photos("train") + sample.photos("val")
    pixels = {path: load_photo(path, config.library.max_megapixels) for path in [*photos, sample.group_photo]}

    print(f"{'detection':<52}{'faceless photos':<18}group photo")
    for name, rnet in [("MTCNN's rnet_threshold 0.7", 0.7), ("indexer's rnet_threshold 0.6", 0.6)]:
        # min_face_fraction 0: the photo's own size does not raise the minimum (as when these figures were made)
        detector = mtcnn_detector(replace(config.detection, rnet_threshold=rnet, min_face_fraction=0), engine, models_dir)
        for cut in (False, True):
            found = {p: detector.candidates(pixels[p]) for p in [*photos, sample.group_photo]}
            if cut:
                found = {p: [f for f in faces if detector.keeps(f, config.detection.min_face_size)] for p, faces in found.items()}
            faceless = sum(1 for p in photos if not found[p])
            group = found[sample.group_photo]
            label = f"{name}, {'with' if cut else 'without'} the {config.detection.min_face_size} px cut"
            print(f"{label:<52}{faceless:>3} of {len(photos):<11}{len(group)} faces: {describe(group)}")

    detector = mtcnn_detector(config.detection, engine, models_dir)
    spec = get_model(config.embedding.model)
    embedder = facenet_embedder(spec, engine, models_dir)
    largest = {}
    for path in photos:
        faces = detector.detect(pixels[path])
        if faces:
            largest[path] = max(faces, key=lambda f: f.box[2] * f.box[3]).box
    paths = list(largest)
    person = np.array([p.parent.name for p in paths])
    is_val = np.array([p.parent.parent.name == "val" for p in paths])
    pairs = np.triu(np.ones((len(paths), len(paths)), dtype=bool), 1)
    same = (person[:, None] == person[None]) & pairs
    different = (person[:, None] != person[None]) & pairs

    print(f"\n{'margin per side':<18}{'val right':<12}{'same-person L2':<17}different-person L2")
    for margin in (0.0, 0.1, 0.2, 0.3):
        vectors = embedder.embed([crop_face(pixels[p], largest[p], margin, spec.input_size) for p in paths])
        distances = np.linalg.norm(vectors[:, None] - vectors[None], axis=2)
        nearest = np.argmin(distances[is_val][:, ~is_val], axis=1)
        right = int(np.sum(person[~is_val][nearest] == person[is_val]))
        print(f"{margin:<18}{right:>2} of {is_val.sum():<6}{distances[same].mean():<17.3f}{distances[different].mean():.3f}")


if __name__ == "__main__":
    main()
