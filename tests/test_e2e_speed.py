"""End to end, the speed levers keep the results: detection on a downscaled copy finds the faces that
detection at full size finds (those at least 1/40 of the shorter side), on large photos made from the
sample's real portraits. (How much faster is measured by bench/speed.py, not asserted here.)"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from indexer.config import Config
from indexer.vision.detect import mtcnn_detector
from indexer.vision.imaging import load_photo
from indexer.geometry import same_face
from indexer.sample import composite_photo

pytestmark = pytest.mark.e2e

SIZE = (2400, 1800)  # 1/40 of the shorter side: 45 px


def canvas(portraits, face_heights, path, seed):
    """A SIZE photo: a portrait blown up as the backdrop, and portraits pasted so that their faces are
    about ``face_heights`` px tall."""
    pasted = [portraits[(seed + 1 + slot) % len(portraits)] for slot in range(len(face_heights))]
    return composite_photo(portraits[seed % len(portraits)], pasted, face_heights, SIZE, np.random.default_rng(seed), path)


@pytest.fixture(scope="module")
def detectors():
    config = Config()
    downscaled = mtcnn_detector(config.detection, config.runtime.engine, config.embedding.models_dir)
    full_size = mtcnn_detector(replace(config.detection, min_face_fraction=0), config.runtime.engine, config.embedding.models_dir)
    return downscaled, full_size


@pytest.mark.parametrize("seed, heights", [(0, [30, 50, 120, 300]), (1, [46, 80, 200]), (2, [40, 60, 90, 150])])
def test_downscaled_detection_finds_every_face_full_size_detection_finds_above_the_cut(sample, tmp_path, detectors, seed, heights):
    downscaled, full_size = detectors
    portraits = sample.photos("val") + sample.photos("train")
    pixels = load_photo(canvas(portraits, heights, tmp_path / "photo.jpg", seed), 120)
    cut = downscaled.min_face_px(SIZE[0], SIZE[1])
    assert cut == 45
    full = [f for f in full_size.detect(pixels) if max(f.box[2:]) >= cut]
    fast = downscaled.detect(pixels)
    assert full  # the test photo does hold faces above the cut
    missing = [f.box for f in full if not any(same_face(f.box, g.box) for g in fast)]
    assert missing == []
    assert all(max(f.box[2:]) >= cut for f in fast)
