"""Hard faces without the real models: upright crops (indexer.vision.upright), the smallest face looked for
in small photos (vision.detect), and tracks that go on across a moment's loss (indexing.tracks). The real
models on real photos: tests/test_e2e_hard_faces.py."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from indexer.config import ConfigError, load_config, parse_config, same_face_settings
from indexer.indexing.tracks import LINK_DISTANCE, NEAR_LINK_DISTANCE, FrameFace, Tracker
from indexer.vision.detect import DetectedFace, MtcnnDetector
from indexer.vision.imaging import crop_face
from indexer.vision.upright import ROLL_LEFT_ALONE, TurnedBox, find_upright, roll_of, turned_box, upright_crop


def eyes(left: tuple[float, float], right: tuple[float, float]) -> dict[str, tuple[float, float]]:
    return {"left_eye": left, "right_eye": right, "nose": (0, 0), "mouth_left": (0, 0), "mouth_right": (0, 0)}


def test_a_face_s_roll_is_the_slope_of_its_eyes_clockwise_as_seen():
    assert roll_of(eyes((10, 10), (20, 10))) == 0
    assert roll_of(eyes((10, 10), (20, 20))) == pytest.approx(45)  # the right eye lower: turned clockwise
    assert roll_of(eyes((10, 20), (20, 10))) == pytest.approx(-45)


def test_a_face_tilted_less_than_the_landmarks_jitter_is_cropped_exactly_as_before():
    picture = np.random.default_rng(0).integers(0, 255, (120, 160, 3), dtype=np.uint8)
    slight = DetectedFace((40, 30, 50, 60), 0.99, eyes((50, 50), (80, 50 + 30 * np.tan(np.radians(ROLL_LEFT_ALONE - 1)))))
    assert turned_box(slight).roll == 0.0
    assert np.array_equal(upright_crop(picture, turned_box(slight), 0.1, 32), crop_face(picture, slight.box, 0.1, 32))
    tilted = DetectedFace((40, 30, 50, 60), 0.99, eyes((50, 50), (80, 65)))
    assert turned_box(tilted).roll == pytest.approx(26.57, abs=0.01)


def pattern(side: int = 200) -> Image.Image:
    """A picture with no symmetry: a bright bar across the top of a square, a dot at its lower left."""
    pixels = np.full((side, side, 3), 30, dtype=np.uint8)
    pixels[60:75, 60:140] = 250
    pixels[120:135, 65:80] = (250, 60, 60)
    return Image.fromarray(pixels)


@pytest.mark.parametrize("angle", [-40, -15, 25, 90])
def test_a_turned_crop_of_a_turned_face_is_the_upright_crop_of_the_face(angle):
    upright = pattern()
    box = (50, 50, 100, 100)
    expected = crop_face(upright, box, 0.1, 64).astype(float)
    turned = upright.rotate(angle, resample=Image.Resampling.BICUBIC)  # counter-clockwise about the centre
    plain = crop_face(turned, box, 0.1, 64).astype(float)
    made_upright = upright_crop(np.asarray(turned), TurnedBox(box, -angle), 0.1, 64).astype(float)
    assert np.abs(made_upright - expected).mean() < 6 < np.abs(plain - expected).mean()


class TurnSeer:
    """A detector that finds the pattern as MTCNN finds a face: only when it is within 50° of upright, its
    eyes at its tilt (the bar is its forehead); ``fooled``, it also reports, at its second turn, a surer
    face with its eyes level whatever it saw (as MTCNN now and then finds a face on its side)."""

    def __init__(self, fooled: bool = False):
        self.fooled, self.turns = fooled, 0

    def detect(self, pixels: np.ndarray) -> list[DetectedFace]:
        self.turns += 1
        side = pixels.shape[0]
        rows, cols = np.nonzero(pixels.min(axis=2) > 200)
        if not len(rows):
            return []
        up_x, up_y = cols.mean() - side / 2, rows.mean() - side / 2  # towards the forehead
        roll = np.degrees(np.arctan2(up_x, -up_y))
        box = (side // 4, side // 4, side // 2, side // 2)
        found = []
        if abs(roll) <= 50:
            a, c, d = np.radians(roll), side / 2, side / 10
            found.append(DetectedFace(box, 0.95, eyes((c - d * np.cos(a), c - d * np.sin(a)), (c + d * np.cos(a), c + d * np.sin(a)))))
        if self.fooled and self.turns == 2:
            found.append(DetectedFace(box, 0.99, eyes((side * 0.4, side * 0.45), (side * 0.6, side * 0.45))))
        return found


@pytest.mark.parametrize("angle", [0, 30, 90, -90, 180])
def test_a_face_drawn_turned_is_found_upright_inside_its_box(angle):
    turned = np.asarray(pattern().rotate(angle))
    found = find_upright(turned, (50, 50, 100, 100), TurnSeer())
    assert abs((found.roll + angle + 180) % 360 - 180) < 3  # turned back by as much as it was turned
    assert abs(found.box[0] + found.box[2] / 2 - 100) < 2 and abs(found.box[1] + found.box[3] / 2 - 100) < 2


def test_the_roll_most_turns_agree_on_wins_over_one_sure_guess():
    turned = np.asarray(pattern().rotate(-90))  # on its side: seen at the 45° and 90° turns
    assert find_upright(turned, (50, 50, 100, 100), TurnSeer(fooled=True)).roll == pytest.approx(90, abs=3)


def test_no_face_inside_the_box_leaves_the_box_as_drawn():
    blank = np.zeros((200, 200, 3), dtype=np.uint8)
    assert find_upright(blank, (50, 50, 100, 100), TurnSeer()) is None


def detector(text: str = "") -> MtcnnDetector:
    """The detector's size rules under the [detection] settings of ``text`` (no network is loaded)."""
    return MtcnnDetector(parse_config(tomllib.loads(text), base_dir=Path("/")).detection, lambda: None)


def test_small_photos_are_searched_for_faces_down_to_12_px_enlarged_to_250_by_250_at_most_larger_ones_as_before():
    plain = detector()
    assert plain.min_face_px(150, 104) == 12  # searched at 1.67×: 250×173
    assert plain.working_size(150, 104) == (250, 173)
    assert plain.min_face_px(150, 200) == pytest.approx(13.86, abs=0.01)  # enlarged to 250 × 250 pixels, no more
    assert plain.working_size(150, 200) == (217, 289)
    assert plain.min_face_px(250, 250) == 20 and plain.working_size(300, 300) == (300, 300)  # as before
    assert plain.min_face_px(4000, 3000) == 75  # as before: 1/40 of the shorter side
    assert detector("[detection]\ntiny_face_size = 20\n").min_face_px(150, 104) == 20  # the user's choice: no tiny faces
    assert detector("[detection]\nmin_face_size = 12\nmin_face_fraction = 0\n").min_face_px(1280, 886) == 12


def test_tiny_face_size_is_checked_and_is_one_of_the_face_settings(write_config):
    with pytest.raises(ConfigError, match="tiny_face_size must be a whole number from 10"):
        load_config(write_config("[detection]\ntiny_face_size = 4\n"))
    today = load_config(write_config("")).face_settings
    assert "crop=upright" in today and "tiny=12" in today
    # an index made before upright crops and tiny faces is read again (names are carried over by place)
    before = "model=facenet128 margin=0.1 min_face_size=20 min_face_fraction=0.025 min_confidence=0.8 pnet=0.6 rnet=0.6 engine=onnx"
    assert not same_face_settings(before, today)


def person(seed: int) -> np.ndarray:
    vector = np.random.default_rng(seed).normal(size=128)
    return (vector / np.linalg.norm(vector)).astype(np.float32)


def at_distance(base: np.ndarray, distance: float, seed: int) -> np.ndarray:
    """A unit vector ``distance`` (L2) from the unit vector ``base``."""
    other = np.random.default_rng(seed).normal(size=base.shape)
    other -= other.dot(base) * base
    other /= np.linalg.norm(other)
    cos = 1 - distance**2 / 2
    return (cos * base + np.sqrt(1 - cos**2) * other).astype(np.float32)


def face(time: float, box, vector) -> FrameFace:
    return FrameFace(time, tuple(box), 0.99, {}, vector, 100.0)


def test_a_face_lost_across_a_flash_goes_on_where_it_was_and_only_there():
    ann, bob = person(1), person(2)
    tracker = Tracker(1.0)
    tracker.add([face(0.0, (100, 100, 50, 50), ann), face(0.0, (400, 100, 50, 50), bob)], after_cut=False)
    tracker.add([], after_cut=True)  # 0.4 s: a white flash
    # 0.9 s, cut back: Ann where she was; Bob's look now at Ann's old place would be someone else's
    tracker.add([face(0.9, (104, 98, 50, 52), at_distance(ann, 0.5, 3)), face(0.9, (300, 300, 50, 50), bob)], after_cut=True)
    tracks = tracker.tracks()
    assert [(t.span, t.faces[0].box[0]) for t in tracks] == [((0.0, 0.9), 100), ((0.0, 0.0), 400), ((0.9, 0.9), 300)]


def test_after_a_cut_a_face_lost_longer_than_a_second_is_a_new_appearance():
    ann = person(1)
    tracker = Tracker(1.0)
    tracker.add([face(0.0, (100, 100, 50, 50), ann)], after_cut=False)
    tracker.add([], after_cut=True)
    tracker.add([], after_cut=False)
    tracker.add([face(2.6, (100, 100, 50, 50), ann)], after_cut=True)
    assert len(tracker.tracks()) == 2


def test_within_a_shot_a_face_whose_look_changed_goes_on_where_it_was_and_not_elsewhere():
    ann = person(1)
    changed = at_distance(ann, (LINK_DISTANCE + NEAR_LINK_DISTANCE) / 2, 4)
    here = Tracker(1.0)
    here.add([face(0.0, (100, 100, 50, 50), ann)], after_cut=False)
    here.add([face(1.0, (110, 100, 50, 50), changed)], after_cut=False)
    assert len(here.tracks()) == 1
    elsewhere = Tracker(1.0)
    elsewhere.add([face(0.0, (100, 100, 50, 50), ann)], after_cut=False)
    elsewhere.add([face(1.0, (400, 300, 50, 50), changed)], after_cut=False)
    assert len(elsewhere.tracks()) == 2
    # two people side by side in both frames stay two tracks, each with its own faces
    two = Tracker(1.0)
    bob = person(2)
    two.add([face(0.0, (100, 100, 50, 50), ann), face(0.0, (160, 100, 50, 50), bob)], after_cut=False)
    two.add([face(1.0, (100, 100, 50, 50), at_distance(ann, 0.3, 5)), face(1.0, (160, 100, 50, 50), at_distance(bob, 0.3, 6))],
            after_cut=False)
    assert sorted(len(t.faces) for t in two.tracks()) == [2, 2]
    assert all(np.linalg.norm(t.faces[0].vector - t.faces[1].vector) < 0.5 for t in two.tracks())
