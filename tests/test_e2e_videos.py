"""End to end, faces in a video with the real models: a clip made from sample photos (Madonna, a cut to
Jerry Seinfeld, a cut back to Madonna) added to the trained sample library. `find` gives the right person
at the right times, one face per appearance; `who-is` answers the clip; a nightly rerun reads nothing;
the clip changed is read again and the name given by hand goes to the same appearance."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from support.e2e import own_copy
from support.videos import make_video

pytestmark = pytest.mark.e2e

FPS = 10
SIZE = (480, 360)


def shot(photo, seconds: float, pan: int = 2) -> list[np.ndarray]:
    """``seconds`` of a slow pan over ``photo`` (placed on a grey frame of SIZE)."""
    with Image.open(photo) as image:
        picture = np.asarray(image.convert("RGB").resize((300, 300)))
    frames = []
    for i in range(round(seconds * FPS)):
        frame = np.full((SIZE[1], SIZE[0], 3), 90, dtype=np.uint8)
        x = 20 + pan * i
        frame[30:330, x : x + 300] = picture
        frames.append(frame)
    return frames


@pytest.fixture(scope="module")
def clip(trained_sample, sample, tmp_path_factory):
    """(indexer, library, the clip) in a home of its own, the clip indexed."""
    indexer, library = own_copy(trained_sample("onnx"), tmp_path_factory.mktemp("videos") / "home")
    madonna = sample.photos("val", "madonna")[1]
    jerry = sample.photos("val", "jerry_seinfeld")[1]
    video = make_video(library / "videos" / "party.mp4", shot(madonna, 3) + shot(jerry, 3) + shot(madonna, 2), FPS)
    done = indexer.json("index", str(library))
    assert (done["new"], done["errors"]) == (1, 0)
    return indexer, library, video


def test_find_gives_the_right_person_at_the_right_times_one_face_per_appearance(clip):
    indexer, _, video = clip
    faces = indexer.json("show", str(video))["faces"]
    assert [(f["person"], f["span"]) for f in faces] == [("madonna", [0.0, 2.0]), ("jerry_seinfeld", [3.0, 5.0]),
                                                         ("madonna", [6.0, 7.0])]
    (line,) = [line for line in indexer.json_lines("find", "madonna") if line["photo"] == str(video)]
    assert sorted(f["time"] for f in line["matches"]) == [faces[0]["time"], faces[2]["time"]]
    text = [row for row in indexer("find", "jerry_seinfeld").stdout.splitlines() if "party.mp4" in row]
    assert len(text) == 1 and text[0].split("\t")[4] == f"at 00:0{int(faces[1]['time'])}"
    answer = indexer.json("who-is", str(video))
    assert [f["person"] for f in answer["faces"]] == ["madonna", "jerry_seinfeld", "madonna"]


def test_a_nightly_rerun_reads_nothing_and_a_changed_clip_keeps_its_hand_given_name(clip, sample):
    indexer, library, video = clip
    again = indexer.json("index", str(library))
    assert (again["new"], again["changed"], again["faces_added"]) == (0, 0, 0)
    jerry = indexer.json("show", str(video))["faces"][1]
    indexer("label", str(jerry["face_id"]), "Jerry S.")
    # Edited: a second of an empty frame at the start; everything comes a second later.
    blank = [np.full((SIZE[1], SIZE[0], 3), 90, dtype=np.uint8)] * FPS
    make_video(video, blank + shot(sample.photos("val", "madonna")[1], 3) + shot(sample.photos("val", "jerry_seinfeld")[1], 3)
               + shot(sample.photos("val", "madonna")[1], 2), FPS)
    done = indexer.json("index", str(library))
    assert (done["changed"], done["names_lost"]) == (1, 0)
    faces = indexer.json("show", str(video))["faces"]
    assert [(f["person"], f["source"], f["span"]) for f in faces][1] == ("Jerry S.", "manual", [4.0, 6.0])
