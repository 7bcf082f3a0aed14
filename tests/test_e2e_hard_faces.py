"""End to end, hard faces with the real models, added to (a copy of) the trained sample library and indexed
by the real command: val portraits turned 30° are read upright and named; upright faces keep the vector
they always had; a face drawn on its side lands next to the same face upright; faces of 14–25 px in
150×104 photos are found and named right or not at all; a face hidden by a flash and by another picture
in a clip stays one appearance."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from indexer.vision.upright import roll_of

from support.e2e import own_copy
from support.videos import make_video

pytestmark = pytest.mark.e2e

PERSON = "jerry_seinfeld"
TURN = 30  # degrees
TINY_SIDES = (14, 18, 25)
FPS = 10


def turned(photo, angle: float) -> Image.Image:
    with Image.open(photo) as image:
        upright = image.convert("RGB")
    canvas = Image.new("RGB", (upright.width * 2, upright.height * 2))
    canvas.paste(upright, (upright.width // 2, upright.height // 2))
    return canvas.rotate(angle, resample=Image.Resampling.BICUBIC)


def tiny_photo(photo, box: list[int], side: int, backdrop: Image.Image) -> tuple[Image.Image, list[int]]:
    """``photo`` shrunk so its face (``box``) is ``side`` px, pasted on ``backdrop``: (the photo, the face's box)."""
    with Image.open(photo) as image:
        scale = side / max(box[2:])
        small = image.convert("RGB").resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS)
    canvas = backdrop.copy()
    x, y = 60 - round(box[0] * scale), 40 - round(box[1] * scale)
    canvas.paste(small, (x, y))
    return canvas, [60, 40, round(box[2] * scale), round(box[3] * scale)]


def flash_clip(photo, seconds: int = 12) -> list[np.ndarray]:
    """A portrait on a still frame, hidden by a white flash at 3.2–3.8 s and by a plain picture at 7.3–8.2 s."""
    with Image.open(photo) as image:
        portrait = np.asarray(image.convert("RGB").resize((240, 240)))
    still = np.full((300, 480, 3), 90, dtype=np.uint8)
    still[30:270, 120:360] = portrait
    white = np.full_like(still, 255)
    other = np.full_like(still, 20)
    other[:, :240] = (200, 120, 40)
    frames = []
    for i in range(seconds * FPS):
        at = i / FPS
        frames.append(white if 3.2 <= at < 3.8 else other if 7.3 <= at < 8.2 else still)
    return frames


@pytest.fixture(scope="module")
def hard(trained_sample, sample, tmp_path_factory):
    indexer, library = own_copy(trained_sample("onnx"), tmp_path_factory.mktemp("hard") / "home")
    upright = sample.photos("val", PERSON)
    turned(upright[0], TURN).save(library / "turned-left.jpg", quality=95)
    turned(upright[1], -TURN).save(library / "turned-right.jpg", quality=95)
    turned(upright[2], 45).save(library / "turned-45.jpg", quality=95)
    group = Image.open(sample.group_photo).convert("RGB").resize((150, 104), Image.Resampling.LANCZOS)
    tiny = {}
    for photo in sample.photos("val")[::3]:
        (answer,) = indexer.json_lines("who-is", str(photo))
        face = max(answer["faces"], key=lambda f: f["box"][2] * f["box"][3])
        for side in TINY_SIDES:
            picture, box = tiny_photo(photo, face["box"], side, group)
            path = library / "tiny" / f"{photo.parent.name}-{photo.stem[-8:]}-{side}.png"
            path.parent.mkdir(exist_ok=True)
            picture.save(path)
            tiny[path] = (photo.parent.name, box)
    make_video(library / "flash.mp4", flash_clip(sample.photos("val", "madonna")[1]), FPS)
    done = indexer.json("index", str(library))
    assert done["errors"] == 0
    return indexer, library, tiny


def stored(indexer, path) -> list[tuple[list[int], dict, np.ndarray, str | None]]:
    """Each face of the photo at ``path`` as the index holds it: box, landmarks, vector, person."""
    rows = indexer.query(
        "SELECT box_x, box_y, box_w, box_h, landmarks, embedding, people.name FROM faces JOIN photos ON photos.id = faces.photo_id "
        "LEFT JOIN people ON people.id = faces.person_id WHERE photos.path = ?", str(path))
    return [(list(r[:4]), json.loads(r[4]), np.frombuffer(r[5], dtype="<f4"), r[6]) for r in rows]


def test_a_face_turned_30_degrees_is_read_upright_named_and_next_to_the_same_face_upright(hard, sample):
    indexer, library, _ = hard
    for name, photo in (("turned-left.jpg", sample.photos("val", PERSON)[0]), ("turned-right.jpg", sample.photos("val", PERSON)[1])):
        upright = max(stored(indexer, library / "val" / PERSON / photo.name), key=lambda f: f[0][2])
        face = max(stored(indexer, library / name), key=lambda f: f[0][2])
        assert abs(abs(roll_of(face[1])) - TURN) < 8  # it is turned
        assert face[3] == PERSON.replace("_", " ").title() or face[3] == PERSON
        # cut as it lies, it embedded 0.90 and 0.68 from the same face upright (0.63–1.31 for the val photos
        # of three people turned ±30°; turned upright 0.15–0.61)
        assert np.linalg.norm(face[2] - upright[2]) < 0.6, name


def test_an_upright_face_keeps_the_vector_it_had_before_faces_were_turned(hard, sample):
    from indexer.config import Config
    from indexer.vision import models
    from indexer.vision.imaging import crop_face, load_photo

    indexer, library, _ = hard
    embedder = models.embedder(Config())
    upright = tilted = 0
    for photo in sample.photos("val"):
        for box, landmarks, vector, _ in stored(indexer, library / "val" / photo.parent.name / photo.name):
            as_before = embedder.embed([crop_face(load_photo(photo, 100), box, 0.1, embedder.input_size)])[0]
            if abs(roll_of(landmarks)) < 8:
                upright += 1
                assert np.abs(vector - as_before).max() < 1e-3
            else:
                tilted += 1
                assert np.abs(vector - as_before).max() > 1e-3  # this one is turned upright
    assert upright >= 20 and tilted >= 1, (upright, tilted)


def test_an_index_made_before_faces_were_turned_is_read_again_and_keeps_the_name_on_a_turned_face(hard, sample):
    """As an earlier version left it: a face turned 45° embedded as it lies, named by hand. The next run
    reads the photo again (other face settings) and the name stays on it, though its vector moved farther
    than a name follows a face whose photo changed (0.9)."""
    from indexer.config import Config
    from indexer.vision import models
    from indexer.vision.imaging import crop_face, load_photo

    indexer, library, _ = hard
    photo = library / "turned-45.jpg"
    box, _, vector, _ = max(stored(indexer, photo), key=lambda f: f[0][2])
    (face_id,) = [f["face_id"] for f in indexer.json("show", str(photo))["faces"] if f["box"] == box]
    indexer("label", str(face_id), "Jerry by hand")
    embedder = models.embedder(Config())
    as_it_lies = embedder.embed([crop_face(load_photo(photo, 100), box, 0.1, embedder.input_size)])[0]
    assert np.linalg.norm(as_it_lies - vector) > 0.9
    settings_before = ("model=facenet128 margin=0.1 min_face_size=20 min_face_fraction=0.025 min_confidence=0.8 "
                       "pnet=0.6 rnet=0.6 engine=onnx")
    indexer.query("UPDATE faces SET embedding = ? WHERE id = ?", np.asarray(as_it_lies, "<f4").tobytes(), face_id)
    indexer.query("UPDATE photos SET analysis = ? WHERE path = ?", settings_before, str(photo))
    done = indexer.json("index", str(library))
    assert (done["changed"], done["names_lost"]) == (1, 0)
    (again,) = [f for f in indexer.json("show", str(photo))["faces"] if f["box"] == box]
    assert (again["person"], again["source"]) == ("Jerry by hand", "manual")


def test_tiny_faces_in_small_photos_are_found_and_named_right_or_not_at_all(hard):
    indexer, library, tiny = hard
    found, named = 0, 0
    for path, (person, (x, y, w, h)) in tiny.items():
        for box, _, _, name in stored(indexer, path):
            cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
            if x <= cx <= x + w and y <= cy <= y + h:
                found += 1
                assert name in (None, person.replace("_", " ").title(), person), (path.name, name)
                named += name is not None
            else:
                assert name is None, (path.name, name, box)  # nobody else is named in them
    assert found >= len(tiny) - 1  # 14 px faces were not looked for before
    assert named >= 2


def test_a_face_hidden_by_a_flash_and_by_another_picture_is_one_appearance(hard):
    indexer, library, _ = hard
    faces = indexer.json("show", str(library / "flash.mp4"))["faces"]
    assert len(faces) == 1, faces  # it was three: each cut ended it
    (face,) = faces
    assert face["span"][0] < 1 and face["span"][1] > 11, face
