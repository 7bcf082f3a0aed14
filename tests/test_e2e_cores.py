"""End to end, the number of workers with the real models: one worker and three read the same library —
portraits, the group photo, a 12 MP composite, a RAW file and a video — into the same faces, boxes and
vectors, stored in the same order, and the nightly rerun reads nothing whatever the number."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from indexer.sample import composite_photo
from support.e2e import Indexer, copy_photos
from support.raw import write_dng
from support.videos import make_video

pytestmark = pytest.mark.e2e

FACES = ("SELECT photos.path, faces.box_x, faces.box_y, faces.box_w, faces.box_h, faces.video_time, faces.embedding "
         "FROM faces JOIN photos ON photos.id = faces.photo_id ORDER BY faces.id")


@pytest.fixture(scope="module")
def library(sample, tmp_path_factory):
    root = tmp_path_factory.mktemp("cores")
    portraits = sample.photos("val")
    folder = copy_photos([*portraits[:12], sample.group_photo], root / "library")
    composite_photo(portraits[3], portraits[12:16], [60, 120, 320, 640], (4000, 3000), np.random.default_rng(7),
                    folder / "12mp.jpg", blur=2)
    with Image.open(sample.photos("val", "madonna")[1]) as image:
        write_dng(folder / "madonna.dng", image.convert("RGB"), None)
    with Image.open(sample.photos("val", "jerry_seinfeld")[0]) as image:
        still = np.asarray(image.convert("RGB").resize((240, 240)))
    frames = []
    for i in range(20):
        frame = np.full((300, 400, 3), 90, dtype=np.uint8)
        frame[30:270, 20 + 2 * i: 260 + 2 * i] = still
        frames.append(frame)
    make_video(folder / "clip.mp4", frames, 10)
    return root, folder


def test_one_worker_and_three_store_the_same_faces_in_the_same_order(library):
    root, folder = library
    stored = {}
    for workers in (1, 3):
        indexer = Indexer(root / f"home{workers}")
        summary = indexer.json("index", str(folder), "--workers", str(workers))
        assert summary["new"] == 16 and summary["errors"] == 0, summary
        stored[workers] = indexer.query(FACES)
        again = indexer.json("index", str(folder), "--workers", str(workers))
        assert again["unchanged"] == 16 and again["faces_added"] == 0
    one, three = stored[1], stored[3]
    assert len(one) == len(three) >= 20
    assert any(row[5] is not None for row in one) and any(row[0].endswith(".dng") for row in one)  # video, RAW
    for a, b in zip(one, three):
        assert a[:6] == b[:6]
        assert float(np.max(np.abs(np.frombuffer(a[6], np.float32) - np.frombuffer(b[6], np.float32)))) <= 1e-5
