"""How far apart a picture's files are from other pictures, as ``vision.glance`` sees them, run by hand:

    .venv/bin/python bench/shots.py

For each of the sample library's 119 photos (indexer.sample), writes the files a camera or a phone would
write beside it — a DNG with its JPEG preview, a DNG with no preview (demosaiced), a HEIC, a JPEG
re-encoded at quality 70 — and glances at each (``vision.glance.glance``). Prints the correlation of each
photo's thumbnail with its own copies (the least and the median: must stay above SAME_PICTURE), and with
every other photo of the same shape (the largest and the median: must stay below it), the shapes that
differ by more than SAME_ASPECT (never one picture whatever the thumbnails), and the time of a glance at
each kind of file.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from indexer.sample import cached_sample_library
from indexer.vision.glance import SAME_ASPECT, SAME_PICTURE, glance
from indexer.vision.imaging import DEFAULT_FORMATS

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from support.raw import write_dng  # noqa: E402


def main() -> None:
    sample = cached_sample_library()
    photos = sorted(sample.celebrities.rglob("*.jpg")) + [sample.group_photo]
    own: list[float] = []
    times: dict[str, list[float]] = {}
    glances = []
    with tempfile.TemporaryDirectory() as folder:
        for number, photo in enumerate(photos):
            with Image.open(photo) as image:
                picture = image.convert("RGB")
            copies = {"dng, jpeg preview": write_dng(Path(folder) / f"{number}.dng", picture),
                      "dng, no preview": write_dng(Path(folder) / f"{number}-mosaic.dng", picture, None)}
            picture.save(Path(folder) / f"{number}.heic", quality=80)
            picture.save(Path(folder) / f"{number}-q70.jpg", quality=70)
            copies |= {"heic": Path(folder) / f"{number}.heic", "jpeg q70": Path(folder) / f"{number}-q70.jpg"}
            mine = timed(times, "jpeg", photo)
            glances.append(mine)
            for kind, path in copies.items():
                other = timed(times, kind, path)
                own.append(float(np.sum(mine.grey * other.grey)))
    others, shapes = [], 0
    for i, a in enumerate(glances):
        for b in glances[i + 1:]:
            if abs(a.aspect - b.aspect) > SAME_ASPECT * max(a.aspect, b.aspect):
                shapes += 1
            else:
                others.append(float(np.sum(a.grey * b.grey)))
    print(f"{len(photos)} photos; SAME_PICTURE {SAME_PICTURE}, SAME_ASPECT {SAME_ASPECT}")
    print(f"a photo and its own RAW, HEIC and re-encoded copies ({len(own)} pairs): least {min(own):.3f}, "
          f"median {statistics.median(own):.3f}")
    print(f"two photos of the same shape ({len(others)} pairs): largest {max(others):.3f}, "
          f"median {statistics.median(others):.3f}, above SAME_PICTURE {sum(c >= SAME_PICTURE for c in others)}")
    print(f"pairs of other shapes (never one picture): {shapes}")
    for kind, spent in times.items():
        print(f"a glance at a {kind}: median {statistics.median(spent) * 1000:.1f} ms")


def timed(times: dict[str, list[float]], kind: str, path: Path):
    started = time.perf_counter()
    seen = glance(path, DEFAULT_FORMATS, 120)
    times.setdefault(kind, []).append(time.perf_counter() - started)
    assert seen is not None, path
    return seen


if __name__ == "__main__":
    main()
