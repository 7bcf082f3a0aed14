"""Photos and files made for tests: synthetic photos with square "faces", bad files of every kind."""

from __future__ import annotations

import os
import zlib
from pathlib import Path

import numpy as np
from PIL import Image


# Synthetic photos: a dark canvas with white squares ("faces") in fixed slots along the top.
SLOT = 60
SQUARE = 40

# Light colours the fake detector takes for faces; PeopleEmbedder gives each its own person.
PEOPLE = {"ann": (255, 255, 255), "bob": (255, 205, 205), "cy": (205, 255, 205), "dee": (205, 205, 255)}


def make_photo(path: Path, faces: int | list[str], size: tuple[int, int] = (400, 200), shade: int = 40, seed: int = 0,
               elsewhere: dict[str, tuple[int, int]] | None = None, taken: str | None = None,
               offset: str | None = None) -> Path:
    """A JPEG with white squares (the fake detector's faces) in slots along the top: ``faces`` of them,
    or one per name of PEOPLE, coloured as that person; ``elsewhere``: a person's square with its top-left
    corner at (x, y) pixels, off the slots (the fake detector misses it). ``seed`` varies the pixels.
    ``taken``: its EXIF DateTimeOriginal ("YYYY:MM:DD HH:MM:SS", written by Pillow), ``offset`` its
    OffsetTimeOriginal ("+02:00")."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    pixels = np.full((size[1], size[0], 3), shade, dtype=np.uint8)
    pixels += rng.integers(0, 20, size=pixels.shape, dtype=np.uint8)
    colours = [PEOPLE["ann"]] * faces if isinstance(faces, int) else [PEOPLE[name] for name in faces]
    for slot, colour in enumerate(colours):
        x = 10 + slot * SLOT
        pixels[10 : 10 + SQUARE, x : x + SQUARE] = colour
    for name, (x, y) in (elsewhere or {}).items():
        pixels[y : y + SQUARE, x : x + SQUARE] = PEOPLE[name]
    exif = Image.Exif()
    if taken is not None:
        exif.get_ifd(0x8769)[0x9003] = taken  # DateTimeOriginal
    if offset is not None:
        exif.get_ifd(0x8769)[0x9011] = offset  # OffsetTimeOriginal
    Image.fromarray(pixels).save(path, quality=95, exif=exif)
    return path


def saved_as(photo: Path, target: Path, **options) -> Path:
    """The picture of ``photo`` saved again at ``target``, in the format its ending says (a HEIC, a PNG…)."""
    with Image.open(photo) as image:
        image.convert("RGB").save(target, **options)
    return target


def unsorted_library(root: Path) -> Path:
    """A library nobody sorted, faces coloured per person (PEOPLE): ann in 4 photos, bob in 3 (once with
    ann, in p2.jpg), cy in 1 (p6.jpg); p0.jpg … p6.jpg in ``root``."""
    for number, faces in enumerate([["ann"], ["ann"], ["ann", "bob"], ["ann"], ["bob"], ["bob"], ["cy"]]):
        make_photo(root / f"p{number}.jpg", faces=faces, seed=number)
    return root


def refuse_to_list(monkeypatch, folder_name: str) -> None:
    """Make listing any folder called ``folder_name`` fail as an unreadable folder would."""
    real_scandir = os.scandir

    def scandir(path):
        if os.path.basename(str(path)) == folder_name:
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)


# What `indexer errors` says of each kind of bad file (truncated JPEGs also say what the decoder said).
BAD_FILE_REASONS = {
    "empty.jpg": "empty file (0 bytes)",
    "truncated.jpg": "damaged or truncated image",
    "notes.jpg": "not an image (no decoder recognises its content)",
    "folder.jpg": "a folder named like a photo, not a photo",
    "broken-link.jpg": "broken symbolic link: its target does not exist",
    "loop-a.jpg": "symbolic link loop: the link leads back to itself",
    "loop-b.jpg": "symbolic link loop: the link leads back to itself",
    "bomb.png": "image too large: 30000×30000 is 900 megapixels, over the limit of 120 ([library] max_megapixels)",
}


def assert_reasons(found: dict[str, str], expected: dict[str, str]) -> None:
    assert set(found) == set(expected)
    for name, reason in expected.items():
        assert found[name] == reason or (name == "truncated.jpg" and found[name].startswith(reason)), (name, found[name])


def bomb_png(path: Path, side: int = 30000) -> Path:
    """A valid 1-bit PNG of side × side pixels (a ~100 KB file that would decode to 2.7 GB of RGB)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    row = b"\x00" + bytes((side + 7) // 8)
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    header = side.to_bytes(4, "big") * 2 + bytes([1, 0, 0, 0, 0])
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b""))
    return path
