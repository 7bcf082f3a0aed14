"""Faces in videos, with the fake models: sampled frames, one face per appearance (a track) with its time
and span, upright by the rotation a phone writes, named a person once per moment, found, shown, answered,
exported, drawn on, reviewed and shown in the gallery; read once, again when changed, never in part;
a Live Photo's MOV one shot with its photo. Clips are encoded by PyAV (support/videos.py) from frames
holding make_photo's squares, which the fake detector finds."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from support.photos import make_photo, saved_as
from support.videos import make_video, scene
from support.cli import faces

FPS = 10


def seconds(people: dict[str, tuple[int, int]], duration: float, seed: int = 0, shade: int = 40) -> list[np.ndarray]:
    """``duration`` seconds of frames showing ``people`` where they are (a little noise per frame), on a
    background of ``shade``."""
    return [scene(people, seed=seed + i, shade=shade) for i in range(round(duration * FPS))]



@pytest.fixture
def models(use_people_models):
    return use_people_models


@pytest.fixture
def clip(tmp_path, models) -> Path:
    """clip.mp4: ann for 2.5 s (moving one place to the right each second), a cut (another scene), bob for 2.5 s."""
    frames = (seconds({"ann": (10, 10)}, 1) + seconds({"ann": (70, 10)}, 1, 10) + seconds({"ann": (130, 10)}, 0.5, 20)
              + seconds({"bob": (190, 10)}, 2.5, 30, shade=120))
    return make_video(tmp_path / "videos" / "clip.mp4", frames, FPS)


def test_each_appearance_is_one_face_with_its_time_and_span(run, clip, models):
    detector, _ = models
    done = run.json("index", str(clip.parent))
    assert (done["new"], done["faces_added"], done["errors"]) == (1, 2, 0)
    assert detector.calls == 6  # a frame a second (0, 1, 2 s), the first after the cut at 2.5 s, then 3.5, 4.5 s
    ann, bob = faces(run, clip)
    assert ann["span"] == [0.0, 2.0] and ann["time"] in (0.0, 1.0, 2.0) and ann["box"][1:] == [10, 40, 40]
    assert bob["span"] == [2.5, 4.5] and bob["box"] == [190, 10, 40, 40]
    shown = run.json("show", str(clip))
    assert shown["duration"] == pytest.approx(5.0, abs=0.2)
    text = run("show", str(clip)).stdout
    assert "a video of 00:05" in text and "(00:02–00:04)" in text


def test_a_video_is_read_whole_when_min_face_fraction_is_zero(run, clip, models, config):
    config.write_text(config.read_text() + "[detection]\nmin_face_fraction = 0\n")
    done = run.json("index", str(clip.parent))
    assert (done["new"], done["faces_added"], done["errors"]) == (1, 2, 0)


def test_two_people_in_one_frame_are_never_one_track(run, tmp_path, models):
    video = make_video(tmp_path / "v" / "two.mp4", seconds({"ann": (10, 10), "cy": (70, 10)}, 3), FPS)
    run("index", str(video.parent))
    assert [(f["box"][0], f["span"]) for f in faces(run, video)] == [(10, [0.0, 2.0]), (70, [0.0, 2.0])]


def test_a_portrait_clip_stored_sideways_is_read_upright(run, tmp_path, models):
    upright = seconds({"ann": (10, 10), "bob": (70, 10)}, 2)
    video = make_video(tmp_path / "v" / "portrait.mp4", [np.rot90(f, k=1) for f in upright], FPS, rotation=-90)
    run("index", str(video.parent))
    shown = run.json("show", str(video))
    assert (shown["width"], shown["height"]) == (400, 200)
    assert [f["box"] for f in shown["faces"]] == [[10, 10, 40, 40], [70, 10, 40, 40]]


def test_a_damaged_video_or_a_file_that_is_not_one_is_a_bad_file_with_its_reason(run, clip, models):
    data = clip.read_bytes()
    (clip.parent / "cut.mp4").write_bytes(data[: len(data) // 3])
    (clip.parent / "notes.mp4").write_text("not a video at all\n" * 20)
    result = run("index", str(clip.parent), "--json")
    assert json.loads(result.stdout)["errors"] == 2
    reasons = {Path(e["path"]).name: e["reason"] for e in run.json("errors")}
    assert reasons == {"cut.mp4": "not a video FFmpeg can read (damaged, or not a video at all)",
                       "notes.mp4": "not a video FFmpeg can read (damaged, or not a video at all)"}
    assert len(faces(run, clip)) == 2  # the good one is indexed


def test_found_answered_and_exported_with_times_and_a_person_is_named_once_per_moment(run, tmp_path, models):
    root = tmp_path / "library"
    for i in range(3):  # ann and bob named by hand in photos, then learnt
        for person in ("ann", "bob"):
            photo = make_photo(root / f"{person}{i}.jpg", faces=[person], seed=10 * i + len(person))
            run("index", str(photo.parent))
            run("label", str(faces(run, photo)[0]["face_id"]), person.title())
    run("train")
    # ann, a cut, bob, a cut, ann again: two moments of Ann; and a clip of two faces of ann's look at once
    video = make_video(root / "party.mp4", seconds({"ann": (10, 10)}, 2) + seconds({"bob": (10, 10)}, 2, 20, shade=120)
                       + seconds({"ann": (70, 10)}, 2, 40), FPS)
    twins = make_video(root / "twins.mp4", [_two_of_ann(i) for i in range(2 * FPS)], FPS)
    run("index", str(root))
    named = [(f["person"], f["source"], f["span"]) for f in faces(run, video)]
    assert named == [("Ann", "auto", [0.0, 1.0]), ("Bob", "auto", [2.0, 3.0]), ("Ann", "auto", [4.0, 5.0])]
    assert [f["person"] for f in faces(run, twins)].count("Ann") == 1  # two of ann at one moment: one is Ann

    lines = [line for line in run("find", "Ann").stdout.splitlines() if "party.mp4" in line]
    assert [line.split("\t")[4] for line in lines] == [f"at 00:0{int(f['time'])}" for f in faces(run, video) if f["person"] == "Ann"]
    found = [line for line in run("find", "Ann", "--json").json_lines() if line["photo"] == str(video)]
    assert sorted(f["time"] for f in found[0]["matches"]) == [faces(run, video)[0]["time"], faces(run, video)[2]["time"]]
    answer = run.json("who-is", str(video))
    assert [(f["person"], f["span"]) for f in answer["faces"]] == [("Ann", [0.0, 1.0]), ("Bob", [2.0, 3.0]), ("Ann", [4.0, 5.0])]
    elsewhere = tmp_path / "elsewhere" / "copy.mp4"  # a video the index has not seen: read, tracked and named
    elsewhere.parent.mkdir()
    shutil.copy2(video, elsewhere)
    fresh = run.json("who-is", str(elsewhere))
    assert [(f["person"], f["span"], "face_id" in f) for f in fresh["faces"]] == [
        ("Ann", [0.0, 1.0], False), ("Bob", [2.0, 3.0], False), ("Ann", [4.0, 5.0], False)]
    assert "\tat 00:02" in run("who-is", str(elsewhere)).stdout
    assert run("who-is", str(video), "--annotate", str(tmp_path / "out.jpg"), expect=1).stderr.strip().endswith(
        "a video: --annotate draws on copies of photos only")
    rows = [r for r in run("export", "--format", "jsonl").json_lines() if r["photo"] == str(video)]
    assert [r["time"] is not None for r in rows] == [True] * 3
    assert run.json("export-xmp")["skipped"] == [] and not list(root.glob("*.mp4.xmp"))


def _two_of_ann(seed: int) -> np.ndarray:
    """A frame with two squares of ann's colour: two faces of one look at one moment."""
    frame = scene({"ann": (10, 10)}, seed=seed)
    frame[10:50, 70:110] = frame[10:50, 10:50]
    return frame


def test_a_video_is_read_once_again_when_changed_keeping_its_names_and_never_in_part(run, clip, models, monkeypatch):
    detector, _ = models
    run("index", str(clip.parent))
    bob = faces(run, clip)[1]
    run("label", str(bob["face_id"]), "Bob")
    calls = detector.calls
    assert run.json("index", str(clip.parent))["unchanged"] == 1 and detector.calls == calls
    # The clip edited: a second of nobody at the start; bob is still bob, a second later.
    frames = seconds({}, 1, 90) + seconds({"ann": (10, 10)}, 2.5) + seconds({"bob": (190, 10)}, 2.5, 30, shade=120)
    make_video(clip, frames, FPS)
    done = run.json("index", str(clip.parent))
    assert (done["changed"], done["names_lost"]) == (1, 0)
    assert [(f["person"], f["source"], f["span"]) for f in faces(run, clip)][1] == ("Bob", "manual", [3.5, 5.5])

    make_video(clip, frames + seconds({"cy": (10, 10)}, 2, 50), FPS)  # changed again; time runs out inside it
    import indexer.indexing.run as running

    asked, in_time = [], running._Writer.out_of_time
    monkeypatch.setattr(running._Writer, "out_of_time", lambda self: asked.append(1) or len(asked) > 4)
    done = run.json("index", str(clip.parent))
    assert done["remaining"] == 1 and faces(run, clip)[1]["person"] == "Bob"  # as it was: nothing kept in part
    monkeypatch.setattr(running._Writer, "out_of_time", in_time)
    done = run.json("index", str(clip.parent))
    assert done["changed"] == 1 and len(faces(run, clip)) == 3  # read again, whole, by the next run


def test_a_live_photos_video_is_one_shot_with_its_photo_and_a_longer_video_is_its_own(run, tmp_path, models):
    detector, _ = models
    root = tmp_path / "phone"
    saved_as(make_photo(root / "IMG_7.HEIC.jpg", faces=["ann"], seed=1), root / "IMG_7.HEIC", quality=90)
    (root / "IMG_7.HEIC.jpg").unlink()
    make_video(root / "IMG_7.MOV", seconds({"ann": (10, 10)}, 2), FPS)  # the Live Photo's 2 s
    make_photo(root / "party.jpg", faces=["bob"], seed=2)
    make_video(root / "party.mp4", seconds({"cy": (10, 10)}, 7), FPS)  # a video of its own, named like a photo
    done = run.json("index", str(root))
    assert done["companions"] == 1 and detector.calls == 2 + 7  # two photos; the 7 s video's frames, not the MOV's
    assert run.json("show", str(root / "IMG_7.MOV"))["faces_from"] == str(root / "IMG_7.HEIC")
    assert [f["span"] for f in faces(run, root / "party.mp4")] == [[0.0, 6.0]]


def test_a_face_drawn_on_a_video_is_at_a_moment_and_the_gallery_and_review_show_video_faces(run, clip, tmp_path, models):
    run("index", str(clip.parent))
    result = run("add-face", str(clip), "250,120,40,40", expect=1)
    assert "a video of 5.0 s: say at which moment the face is, --at SECONDS (0 to 5.0)" in result.stderr
    photo = make_photo(clip.parent / "p.jpg", faces=1)
    run("index", str(clip.parent))
    assert "is a photo: --at is for a moment of a video" in run("add-face", str(photo), "10,10,40,40", "--at", "1",
                                                               expect=1).stderr
    drawn = run.json("add-face", str(clip), "250,120,40,40", "--at", "3.5", "--name", "Dee")
    assert (drawn["time"], drawn["span"], drawn["origin"]) == (3.5, [3.5, 3.5], "drawn")
    ann = faces(run, clip)[0]
    run("label", str(ann["face_id"]), "Ann")
    report = run.json("gallery", str(tmp_path / "site"))
    assert report["unreadable"] == [] and report["previews_made"] >= 1
    (page,) = [p for p in (tmp_path / "site" / "photos").glob("*.html") if str(clip) in p.read_text()]
    text = page.read_text()
    assert "at 00:03" in text and f'id="face-{ann["face_id"]}"' in text  # the first face is on the preview
    assert f'id="face-{drawn["face_id"]}"' not in text  # drawn at 3.5 s: not on the preview of 0 s, in the table
    thumbnails = list((tmp_path / "site" / "faces").glob("*.jpg"))
    assert len(thumbnails) == 4  # the clip's three faces and the photo's
    suggestion = run("review", "--json", "--no-ask").json_lines()
    assert all("time" in s for s in suggestion if s["photo"] == str(clip))
