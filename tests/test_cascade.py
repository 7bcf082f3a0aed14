"""MTCNN's cascade around the networks (indexer.vision.cascade), which both engines share: the pyramid, the
resizing, suppression and box arithmetic, checked against direct computations; and the stages' plumbing
with small fake networks. (That it matches the networks' own package on real photos is tested end to
end in tests/test_e2e_engines.py.)"""

from __future__ import annotations

import numpy as np
import pytest

from indexer.vision.cascade import (
    CascadeThresholds, crop_and_resize, find_faces, pyramid_scales, resize_area, suppress, to_square,
)


def test_area_resizing_is_the_mean_of_the_input_area_each_output_pixel_covers():
    image = np.random.default_rng(0).random((9, 7, 3))
    # Whole blocks: 9×6 → 3×2 averages 3×3 blocks exactly.
    blocks = resize_area(image[:, :6], 3, 2)
    assert np.allclose(blocks[1, 1], image[3:6, 3:6].mean(axis=(0, 1)), atol=1e-6)
    # Fractional: 7 columns → 2, each output pixel covers 3.5 input pixels, the middle one half in each.
    halves = resize_area(image[:1], 1, 2)
    left = (image[0, 0:3].sum(axis=0) + 0.5 * image[0, 3]) / 3.5
    assert np.allclose(halves[0, 0], left, atol=1e-6)
    assert resize_area(image, 4, 3).dtype == np.float32


def test_crop_and_resize_samples_the_box_bilinearly_and_zero_outside_the_image():
    ramp = np.tile(np.arange(10, dtype=np.float32)[None, :, None], (10, 1, 3))  # value = x
    patch = crop_and_resize(ramp, np.array([[0.0, 0.0, 10.0, 10.0, 1.0]]), 4)
    # The box's edges map to 0 and (10 − 1) · 10 / 10 = 9: samples at x = 0, 3, 6, 9.
    assert np.allclose(patch[0, 0, :, 0], [0, 3, 6, 9])
    outside = crop_and_resize(ramp, np.array([[-20.0, 0.0, -10.0, 10.0, 1.0]]), 4)
    assert not outside.any()


def test_a_suppressed_box_still_suppresses_the_boxes_below_it():
    # Sorted best first: b overlaps a, c overlaps b but not a. Greedy suppression would keep c;
    # MTCNN's rule does not (its package behaves so, and both engines must find the same faces).
    boxes = np.array([[0, 0, 10, 10, 0.9], [4, 0, 14, 10, 0.8], [9, 0, 19, 10, 0.7], [40, 40, 50, 50, 0.6]], float)
    assert suppress(boxes, 0.2).tolist() == [0, 3]
    assert suppress(boxes, 0.2, block=2).tolist() == [0, 3]  # the same in blocks
    assert suppress(boxes[:0], 0.5).tolist() == []


def test_boxes_become_squares_of_their_longer_side_around_the_same_centre():
    square = to_square(np.array([[10, 20, 30, 60, 0.5]], float))[0]
    assert square.tolist() == [0, 20, 40, 60, 0.5]


def test_the_pyramid_starts_at_12_20_and_shrinks_by_0_709_down_to_about_12_px():
    scales = pyramid_scales(400, 300)
    assert scales[0] == pytest.approx(0.6)
    assert np.allclose(np.array(scales[1:]) / np.array(scales[:-1]), 0.709)
    assert 300 * scales[-1] >= 12 * 0.709 and 300 * scales[-1] * 0.709 < 12
    assert pyramid_scales(11, 11) == []


class OneFace:
    """Fake networks: the proposal network sees a face in one window of the first pyramid level only,
    the other two agree, with no corrections; landmarks at fixed places of the patch."""

    def propose(self, level):
        height, width = (level.shape[1] - 12) // 2 + 1, (level.shape[2] - 12) // 2 + 1
        offsets = np.zeros((1, height, width, 4), np.float32)
        probabilities = np.zeros((1, height, width, 2), np.float32)
        probabilities[..., 0] = 1
        if level.shape[1] == 60:  # the first level of a 100 px image
            probabilities[0, 5, 7] = [0.1, 0.9]
        return offsets, probabilities

    def refine(self, patches):
        assert patches.shape[1:] == (24, 24, 3)
        return np.zeros((len(patches), 4), np.float32), np.tile([[0.05, 0.95]], (len(patches), 1))

    def output(self, patches):
        assert patches.shape[1:] == (48, 48, 3)
        marks = np.tile([[0.3, 0.7, 0.5, 0.35, 0.65, 0.4, 0.4, 0.6, 0.8, 0.8]], (len(patches), 1))
        return np.zeros((len(patches), 4), np.float32), marks, np.tile([[0.01, 0.99]], (len(patches), 1))


def test_the_stages_turn_one_window_of_the_first_level_into_one_face_in_image_pixels():
    image = np.zeros((100, 100, 3), np.uint8)
    (face,) = find_faces(image, OneFace(), CascadeThresholds())
    # The window at row 5, column 7 of the level scaled by 0.6: x 15..26, y 11..22 there, /0.6 here.
    x1, y1, x2, y2 = face.box
    assert (x1, y1, x2, y2) == pytest.approx((15 / 0.6, 11 / 0.6, 26 / 0.6, 22 / 0.6), abs=1e-4)
    assert face.confidence == pytest.approx(0.99)
    side = x2 - x1 + 1
    left_eye = face.landmarks[0]
    assert left_eye == pytest.approx((x1 - 1 + 0.3 * side, y1 - 1 + 0.4 * side), abs=1e-4)


def test_nothing_passes_a_stage_whose_threshold_is_not_met():
    image = np.zeros((100, 100, 3), np.uint8)
    assert find_faces(image, OneFace(), CascadeThresholds(output=0.995)) == []
    assert find_faces(image, OneFace(), CascadeThresholds(propose=0.95)) == []


def test_the_copy_for_the_detector_is_no_copy_when_the_pixels_are_that_size_already():
    from PIL import Image

    from indexer.vision.detect import scaled_for_detection

    pixels = np.arange(30 * 40 * 3, dtype=np.uint8).reshape(30, 40, 3)
    assert scaled_for_detection(pixels, (40, 30)) is pixels  # a small photo, a video frame: not copied twice
    assert scaled_for_detection(pixels, (20, 15)).shape == (15, 20, 3)
    assert np.array_equal(scaled_for_detection(Image.fromarray(pixels), (40, 30)), pixels)
