"""What a picture file is, and the rules every reader of one applies, written once: its kind by its ending (a
camera RAW, a video, or a picture Pillow reads), whether the formats configured read it as a video, the
size it has once turned upright, and the guard against pictures too large to decode. Standard library only:
the configuration reads the endings."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

# The endings of the RAW formats read (lower case): Sony, Canon (two generations), Adobe's DNG (Leica,
# Pentax, phones' ProRAW too), Nikon, Olympus / OM System, Pentax, Fujifilm, Panasonic, Samsung.
RAW_ENDINGS = frozenset({"arw", "cr2", "cr3", "dng", "nef", "orf", "pef", "raf", "rw2", "srw"})
RAW_FORMAT = "RAW"  # how ``imaging.photo_formats`` names them among Pillow's formats
# The endings of the video formats read (lower case).
VIDEO_ENDINGS = frozenset({"mp4", "mov", "m4v", "3gp", "mkv", "avi", "webm"})
VIDEO_FORMAT = "VIDEO"  # how ``imaging.photo_formats`` names them among Pillow's formats


def ending(path: str | Path) -> str:
    """A file's ending, lower case, without the dot ("" for none)."""
    return Path(path).suffix[1:].lower()


def is_raw(path: str | Path) -> bool:
    return ending(path) in RAW_ENDINGS


def is_video(path: str | Path) -> bool:
    return ending(path) in VIDEO_ENDINGS


def read_as_video(path: str | Path, formats: Iterable[str]) -> bool:
    """Whether the file at ``path`` is read as a video with these formats (``imaging.photo_formats``): a
    video's ending, and videos among the formats."""
    return VIDEO_FORMAT in formats and is_video(path)


def upright(size: tuple[int, int], quarter_turns: int) -> tuple[int, int]:
    """A picture's size (width, height) once turned upright by an odd or even number of quarter turns."""
    return (size[1], size[0]) if quarter_turns % 2 else size


def turns_of_orientation(orientation: int) -> int:
    """The quarter turns an EXIF orientation (1–8) makes: 5–8 turn the picture on its side."""
    return 1 if orientation >= 5 else 0


def too_large(width: int, height: int, max_megapixels: float) -> str | None:
    """Why a picture of width × height pixels is not decoded — it is larger than ``max_megapixels``
    million pixels ([library] max_megapixels: a decompression bomb costs no memory) — or None."""
    if width * height <= max_megapixels * 1_000_000:
        return None
    return (f"image too large: {width}×{height} is {width * height / 1e6:.0f} megapixels, over the limit of "
            f"{max_megapixels:g} ([library] max_megapixels)")
