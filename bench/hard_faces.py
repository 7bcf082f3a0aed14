"""Hard faces — tilted, drawn sideways, tiny, and lost for a moment in a video — run by hand:

    .venv/bin/python bench/hard_faces.py

It runs on any version of indexer (run it from a checkout of an older commit, with that checkout first
on PYTHONPATH, for the "before" figures: docs/performance.md, "Hard faces").

- **Tilted**: each `val` photo of the sample, turned by ±10, 20, 30 and 45° on a canvas twice its size.
  In one process (ONNX): the largest face found near the canvas's centre, embedded as `index` embeds it,
  and its distance to the nearest of the same person's `train` faces and to the nearest other person's;
  then, through the real commands, `enroll` the `train` folders, `train`, and `who-is` on every turned
  photo: named right, wrong, unknown.
- **Drawn sideways**: the same photos turned by ±90° (MTCNN finds none of those faces), the face's box
  drawn by hand where it now is: the distance of its crop, as `add-face` embeds it, to the same person.
- **Tiny**: each `val` face made 12–25 px (longer side of its box), pasted on a 150×104 backdrop (the
  group photo, shrunk: its own faces are too small to find); `who-is` on each: found, named right, wrong.
  And the detector's time a photo on 150-px photos and on the sample's small portraits.
- **Lost for a moment**: a 24 s clip (640×360, 25 fps) of one portrait on a still background, the face
  hidden three times — by a white flash (0.6 s: two cuts), by another picture (0.9 s: two cuts) and by a
  grey patch over the face alone (1.0 s) —: the appearances `index` keeps (one is right).
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from indexer.config import Config
from indexer.indexing.analyse import FaceAnalyser
from indexer.sample import cached_sample_library
from indexer.vision import imaging

from commands import indexer_in

ANGLES = (-45, -30, -20, -10, 10, 20, 30, 45)
SIDEWAYS = (-90, 90)
TINY_SIDES = (12, 14, 16, 18, 20, 22, 25)
BACKDROP = (150, 104)


def turned(image: Image.Image, angle: float) -> Image.Image:
    """``image`` in the middle of a black canvas twice its size, turned by ``angle`` degrees (counter-clockwise)."""
    canvas = Image.new("RGB", (image.width * 2, image.height * 2))
    canvas.paste(image, (image.width // 2, image.height // 2))
    return canvas.rotate(angle, resample=Image.Resampling.BICUBIC)


def central(faces, width: int, height: int):
    """The largest face whose centre lies in the middle third of a canvas, or None."""
    middle = [f for f in faces if abs(f.box[0] + f.box[2] / 2 - width / 2) < width / 6
              and abs(f.box[1] + f.box[3] / 2 - height / 2) < height / 6]
    return max(middle, key=lambda f: f.box[2] * f.box[3], default=None)


def distances(vector: np.ndarray, person: str, known: dict[str, np.ndarray]) -> tuple[float, float]:
    """(nearest face of ``person``, nearest face of anyone else) from ``vector``, L2."""
    same = float(np.min(np.linalg.norm(known[person] - vector, axis=1)))
    other = min(float(np.min(np.linalg.norm(v - vector, axis=1))) for p, v in known.items() if p != person)
    return same, other


def drawn_crop(pixels: np.ndarray, box, analyser: FaceAnalyser) -> np.ndarray:
    """A box drawn by hand cropped as this version's `add-face` crops it."""
    try:
        from indexer.vision.upright import drawn_face_crop
    except ImportError:  # before hard faces: the box as drawn
        return imaging.crop_face(pixels, box, analyser.margin, analyser.embedder.input_size)
    return drawn_face_crop(pixels, box, analyser.detector, analyser.margin, analyser.embedder.input_size)


def rotated_box(box, angle: float, width: int, height: int) -> tuple[int, int, int, int]:
    """Where the face in ``box`` ([x, y, w, h] on the canvas of a width × height photo ``turned`` by 0°) is
    after a quarter turn (±90°), framed as one would draw it: [x, y, w, h] on that canvas."""
    x, y, w, h = box
    dx, dy = x + w / 2 - width, y + h / 2 - height  # from the canvas's centre
    a = np.radians(angle)
    rx, ry = dx * np.cos(a) + dy * np.sin(a), -dx * np.sin(a) + dy * np.cos(a)
    return round(rx + width - h / 2), round(ry + height - w / 2), h, w


def who_is(indexer, paths: list[Path]) -> dict[str, list[dict]]:
    _, out = indexer("who-is", *map(str, paths), "--json")
    return {answer["photo"]: answer["faces"] for answer in map(json.loads, out.splitlines())}


def tilted(sample, analyser, known, indexer, tmp: Path) -> None:
    print("Tilted faces (val photos turned on a canvas):")
    truth, rows = {}, {}
    for photo in sample.photos("val"):
        person = photo.parent.name
        image = Image.open(photo).convert("RGB")
        for angle in ANGLES:
            canvas = turned(image, angle)
            path = tmp / "tilted" / f"{person}-{photo.stem[-12:]}-{angle:+d}.jpg"
            path.parent.mkdir(parents=True, exist_ok=True)
            canvas.save(path, quality=95)
            truth[str(path)] = person
            face = central(analyser.faces_of(np.asarray(canvas)), *canvas.size)
            rows.setdefault(abs(angle), []).append(None if face is None else distances(face.vector, person, known))
    for size, found in sorted(rows.items()):
        measured = [r for r in found if r is not None]
        same = np.array([r[0] for r in measured])
        other = np.array([r[1] for r in measured])
        print(f"  ±{size:>2}°: found {len(measured)}/{len(found)}; same person median {np.median(same):.3f} "
              f"(mean {same.mean():.3f}), nearest other median {np.median(other):.3f}; nearer the same person in "
              f"{int((same < other).sum())}/{len(measured)}")
    answers = who_is(indexer, list(map(Path, truth)))
    right = wrong = unknown = 0
    for path, person in truth.items():
        canvas = Image.open(path)
        middle = [f for f in answers[path] if abs(f["box"][0] + f["box"][2] / 2 - canvas.width / 2) < canvas.width / 6
                  and abs(f["box"][1] + f["box"][3] / 2 - canvas.height / 2) < canvas.height / 6]
        face = max(middle, key=lambda f: f["box"][2] * f["box"][3], default=None)
        named = face and face["person"]
        right += named == person
        wrong += bool(named) and named != person
        unknown += not named
    print(f"  who-is on {len(truth)} turned photos: {right} named right, {wrong} wrong, {unknown} unknown or not found")


def sideways(sample, analyser, known) -> None:
    print("Faces drawn on their side (±90°, boxes drawn by hand):")
    same, other, nearer = [], [], 0
    for photo in sample.photos("val"):
        person = photo.parent.name
        image = Image.open(photo).convert("RGB")
        upright = central(analyser.detector.detect(np.asarray(turned(image, 0))), image.width * 2, image.height * 2)
        if upright is None:
            continue
        for angle in SIDEWAYS:
            canvas = np.asarray(turned(image, angle))
            box = rotated_box(upright.box, angle, image.width, image.height)
            vector = analyser.embedder.embed([drawn_crop(canvas, box, analyser)])[0]
            s, o = distances(vector, person, known)
            same.append(s)
            other.append(o)
            nearer += s < o
    print(f"  {len(same)} faces: same person median {np.median(same):.3f} (mean {np.mean(same):.3f}), nearest other "
          f"median {np.median(other):.3f}; nearer the same person in {nearer}/{len(same)}")


def tiny(sample, analyser, indexer, tmp: Path) -> None:
    print(f"Tiny faces ({BACKDROP[0]}×{BACKDROP[1]} photos):")
    backdrop = Image.open(sample.group_photo).convert("RGB").resize(BACKDROP, Image.Resampling.LANCZOS)
    truth = {}
    for number, photo in enumerate(sample.photos("val")):
        image = Image.open(photo).convert("RGB")
        face = max(analyser.detector.detect(np.asarray(image)), key=lambda f: f.box[2] * f.box[3])
        for side in TINY_SIDES:
            scale = side / max(face.box[2:])
            small = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))),
                                 Image.Resampling.LANCZOS)
            canvas = backdrop.copy()
            fx, fy = round(face.box[0] * scale), round(face.box[1] * scale)
            at = (20 + (number * 37) % 90 - fx, 20 + (number * 23) % 50 - fy)  # the face 20–110, 20–70 px in
            canvas.paste(small, at)
            path = tmp / "tiny" / f"{photo.parent.name}-{photo.stem[-12:]}-{side}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            canvas.save(path)
            truth[str(path)] = (photo.parent.name, side, (at[0] + fx, at[1] + fy, round(face.box[2] * scale), round(face.box[3] * scale)))
    answers = who_is(indexer, list(map(Path, truth)))
    by_side: dict[int, list[int]] = {}
    strangers = []
    for path, (person, side, (x, y, w, h)) in truth.items():
        found = named = wrong = 0
        for face in answers[path]:
            cx, cy = face["box"][0] + face["box"][2] / 2, face["box"][1] + face["box"][3] / 2
            if x <= cx <= x + w and y <= cy <= y + h:
                found = 1
                named += face["person"] == person
                wrong += bool(face["person"]) and face["person"] != person
            elif face["person"]:
                strangers.append(f"{Path(path).name}: {face['person']} at {face['box']}")
        counts = by_side.setdefault(side, [0, 0, 0, 0])
        for i, value in enumerate((1, found, named, wrong)):
            counts[i] += value
    for side, (total, found, named, wrong) in sorted(by_side.items()):
        print(f"  {side:>2} px: found {found}/{total}, named right {named}, wrong {wrong}")
    total = np.sum(list(by_side.values()), axis=0)
    print(f"  all: found {total[1]}/{total[0]} ({total[1] / total[0]:.0%}), named right {total[2]} ({total[2] / total[0]:.0%}), "
          f"wrong {total[3]}; other faces named: {len(strangers)}")
    for stranger in strangers:
        print(f"    {stranger}")
    for label, pictures in (("150-px photos", [np.asarray(Image.open(p).convert("RGB")) for p in truth]),
                            ("the sample's portraits", [np.asarray(Image.open(p).convert("RGB"))
                                                        for p in sorted(sample.celebrities.rglob("*.jpg"))])):
        for picture in pictures[:5]:
            analyser.detector.detect(picture)
        times = []
        for _ in range(3):
            start = time.perf_counter()
            for picture in pictures:
                analyser.detector.detect(picture)
            times.append((time.perf_counter() - start) / len(pictures))
        print(f"  detector on {label}: {1000 * min(times):.1f} ms a photo (best of 3, {len(pictures)} photos)")


def clip_with_gaps(sample, analyser, tmp: Path) -> None:
    import av

    portrait = Image.open(next(iter(sample.photos("val")))).convert("RGB")
    face = max(analyser.detector.detect(np.asarray(portrait)), key=lambda f: f.box[2] * f.box[3])
    background = Image.new("RGB", (640, 360), (90, 110, 100))
    scale = 240 / portrait.height
    small = portrait.resize((round(portrait.width * scale), 240))
    background.paste(small, (200, 60))
    fx, fy, fw, fh = (round(v * scale) for v in face.box)
    covered = background.copy()
    ImageDraw.Draw(covered).rectangle((200 + fx - 4, 60 + fy - 4, 200 + fx + fw + 4, 60 + fy + fh + 4), fill=(128, 128, 128))
    other = Image.open(sample.group_photo).convert("RGB").resize((640, 360))
    white = Image.new("RGB", (640, 360), (255, 255, 255))
    hidden = [(5.3, 5.9, white), (11.4, 12.3, other), (17.5, 18.5, covered)]
    path = tmp / "gaps.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 640, 360, "yuv420p"
        for i in range(24 * 25):
            at = i / 25
            picture = next((p for start, stop, p in hidden if start <= at < stop), background)
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.asarray(picture), format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    faces = analyser.read_video(str(path)).faces
    place = (200 + fx, 60 + fy, fw, fh)
    reference = max(analyser.faces_of(np.asarray(background)), key=lambda f: f.box[2] * f.box[3]).vector
    found = [f for f in faces if place[0] <= f.box[0] + f.box[2] / 2 <= place[0] + place[2]
             and place[1] <= f.box[1] + f.box[3] / 2 <= place[1] + place[3] and np.linalg.norm(f.vector - reference) < 1.0]
    print("A clip with the face hidden three times (a flash, another picture, a patch; 0.6–1.0 s each):")
    print(f"  its face: {len(found)} appearances (1 is right): " + ", ".join(f"{f.span[0]:.1f}–{f.span[1]:.1f} s" for f in found)
          + f"; {len(faces) - len(found)} others (the other picture's faces)")


def main() -> None:
    sample = cached_sample_library()
    analyser = FaceAnalyser.for_config(Config())
    known: dict[str, list[np.ndarray]] = {}
    for photo in sample.photos("train"):
        faces = analyser.faces_of(imaging.load_photo(photo, 100))
        if faces:
            known.setdefault(photo.parent.name, []).append(max(faces, key=lambda f: f.box[2] * f.box[3]).vector)
    known = {person: np.stack(vectors) for person, vectors in known.items()}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        indexer = indexer_in(tmp / "data")
        indexer("enroll", "--folders", str(sample.celebrities / "train"))
        indexer("train")
        tilted(sample, analyser, known, indexer, tmp)
        sideways(sample, analyser, known)
        tiny(sample, analyser, indexer, tmp)
        clip_with_gaps(sample, analyser, tmp)


if __name__ == "__main__":
    main()
