"""Pixels: decode a photo upright as 8-bit RGB, refuse what is too large, and cut out face crops.

No ML imports here. Every failure to decode raises UnreadablePhoto with a reason a person understands.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pillow_heif
from PIL import Image, ImageOps, UnidentifiedImageError

from indexer.files import UnsafeFile, regular_file
from indexer.vision.media import (RAW_ENDINGS, RAW_FORMAT, VIDEO_ENDINGS, VIDEO_FORMAT, is_raw, read_as_video, too_large,
                                  turns_of_orientation, upright)
from indexer.vision.raw import BadRaw, decode_raw, raw_frame

log = logging.getLogger(__name__)

pillow_heif.register_heif_opener()  # HEIC/HEIF from phones; Pillow reads JPEG, PNG, WebP, AVIF, TIFF, BMP itself
# load_photo refuses big images from their header against [library] max_megapixels, which the user may set
# above Pillow's own fixed limit (179 megapixels); Pillow's check would also word the refusal its own way.
Image.MAX_IMAGE_PIXELS = None

_HIGH_BIT_MODES = {"I;16", "I;16L", "I;16B", "I;16N", "I", "F"}

DEFAULT_FORMATS = ("AVIF", "BMP", "HEIF", "JPEG", "PNG", RAW_FORMAT, "TIFF", VIDEO_FORMAT, "WEBP")


def photo_formats(extensions: Iterable[str]) -> tuple[str, ...]:
    """The Pillow formats of these file endings (``jpg`` → JPEG), RAW_FORMAT for camera RAW endings
    (``cr2``) and VIDEO_FORMAT for video endings (``mp4``): the only decoders ``load_photo`` lets look at a file. Pillow knows some 40 formats, and
    would otherwise open whatever the content is, whatever the name says — a ``.jpg`` holding PostScript
    would be rendered by Ghostscript."""
    Image.init()
    registered = Image.registered_extensions()
    extensions = set(extensions)
    ours = {RAW_FORMAT} if extensions & RAW_ENDINGS else set()
    ours |= {VIDEO_FORMAT} if extensions & VIDEO_ENDINGS else set()
    pillows = extensions - RAW_ENDINGS - VIDEO_ENDINGS
    return tuple(sorted({registered[f".{e}"] for e in pillows if f".{e}" in registered} | ours))


class UnreadablePhoto(Exception):
    """A file that cannot be decoded as a photo. ``str(e)`` is the reason, for the errors list."""


def pillow_formats(formats: Iterable[str]) -> list[str]:
    """``formats`` without RAW_FORMAT and VIDEO_FORMAT: the list Pillow's ``Image.open`` may try."""
    return [name for name in formats if name not in (RAW_FORMAT, VIDEO_FORMAT)]


def load_photo(path: str | Path, max_megapixels: float, formats: Iterable[str] = DEFAULT_FORMATS) -> np.ndarray:
    """Decode ``path`` as an upright (EXIF orientation applied) RGB uint8 array of shape (height, width, 3).

    Only ``formats`` (Pillow's names, see ``photo_formats``) are decoded, whatever the file is named.
    Images above ``max_megapixels`` (million pixels) are refused from their header, before any decoding,
    so a decompression bomb costs no memory. Raises UnreadablePhoto.
    """
    return np.asarray(load_upright(path, max_megapixels, formats))


def load_upright(path: str | Path, max_megapixels: float, formats: Iterable[str] = DEFAULT_FORMATS,
                 scale: float = 1.0) -> Image.Image:
    """``load_photo`` as an RGB Pillow image. ``scale`` (0–1]: the image may be decoded smaller, down to
    this fraction of its size, where the decoder can skip the detail cheaply (JPEG: 1/2, 1/4 or 1/8 of
    each side, several times faster; RAW: a half-size demosaic); the image's ``size`` says what it got.
    A camera RAW file (by its ending, when RAW_FORMAT is among ``formats``) is decoded by ``raw``."""
    if read_as_video(path, formats):
        raise UnreadablePhoto("a video, not a photo: its frames are read by `indexer index` and `who-is`")
    try:
        if RAW_FORMAT in formats and is_raw(path):
            return decode_raw(path, max_megapixels, scale)
        with warnings.catch_warnings(), regular_file(path) as readable:
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(readable, formats=pillow_formats(formats))
            keep = False
            try:
                width, height = image.size
                if too_large(width, height, max_megapixels):
                    raise UnreadablePhoto(too_large(width, height, max_megapixels))
                if scale < 1.0 and image.format == "JPEG":
                    image.draft("RGB", (max(1, math.ceil(width * scale)), max(1, math.ceil(height * scale))))
                image.load()
                _upright(image)
                # Pillow closes a JPEG's file once it is decoded, so the image is kept as it is (a copy of
                # 12 MP costs ~15 ms); other formats may keep theirs open, and closing drops the pixels too.
                keep = image.format == "JPEG" and image.fp is None
                return to_rgb(image if keep else image.copy())
            finally:
                if not keep:
                    image.close()
    except UnreadablePhoto:
        raise
    except (BadRaw, UnsafeFile) as e:
        raise UnreadablePhoto(str(e)) from e
    except Image.DecompressionBombError as e:
        raise UnreadablePhoto(f"image too large: {e}") from e
    except FileNotFoundError as e:
        raise UnreadablePhoto("file disappeared while being indexed") from e
    except PermissionError as e:
        raise UnreadablePhoto("cannot read file: permission denied") from e
    except UnidentifiedImageError as e:
        raise UnreadablePhoto("not an image (no decoder recognises its content)") from e
    except IsADirectoryError as e:
        raise UnreadablePhoto("is a folder, not a file") from e
    except OSError as e:
        raise UnreadablePhoto(f"damaged or truncated image: {e}") from e
    except (ValueError, SyntaxError, EOFError, MemoryError) as e:
        raise UnreadablePhoto(f"cannot decode image: {e}") from e


def stored_geometry(path: str | Path, formats: Iterable[str] = DEFAULT_FORMATS) -> tuple[tuple[int, int], int]:
    """The picture's size as stored (width, height, pixels) and its EXIF orientation (1–8; 1 when none),
    from its header (a RAW's: the picture ``raw`` decodes, with the RAW's orientation). Nothing is
    decoded. Raises UnreadablePhoto."""
    try:
        if RAW_FORMAT in formats and is_raw(path):
            frame = raw_frame(path, math.inf)
            return frame.stored, frame.orientation
        with regular_file(path) as readable, Image.open(readable, formats=pillow_formats(formats)) as image:
            orientation = image.getexif().get(0x0112, 1)
            return image.size, orientation if isinstance(orientation, int) and 1 <= orientation <= 8 else 1
    except (BadRaw, UnsafeFile) as e:
        raise UnreadablePhoto(str(e)) from e
    except (OSError, ValueError, SyntaxError, EOFError) as e:
        raise UnreadablePhoto(f"cannot read its header: {e}") from e


def upright_size(path: str | Path, formats: Iterable[str] = DEFAULT_FORMATS) -> tuple[int, int] | None:
    """The picture's size once decoded upright (width, height, pixels), from its header; None when it
    cannot be read."""
    try:
        (width, height), orientation = stored_geometry(path, formats)
    except UnreadablePhoto:
        return None
    return upright((width, height), turns_of_orientation(orientation))


def _upright(image: Image.Image) -> None:
    """Apply the EXIF orientation, in place (a 12 MP copy costs ~15 ms); a damaged EXIF block leaves the
    image as stored."""
    try:
        ImageOps.exif_transpose(image, in_place=True)
    except Exception as e:  # Pillow raises many kinds for broken EXIF; the pixels are still good.
        log.debug("ignoring unusable EXIF orientation: %s", e)


def to_rgb(image: Image.Image) -> Image.Image:
    """8-bit RGB from any mode: transparency over white, 16-bit and float scaled down, CMYK converted."""
    if image.mode == "RGB":
        return image
    if image.mode in _HIGH_BIT_MODES:
        values = np.asarray(image, dtype=np.float64)
        top = 65535.0 if image.mode.startswith("I;16") or values.max(initial=0) > 255 else 255.0
        if image.mode == "F" and values.max(initial=0) <= 1.0:
            top = 1.0
        gray = np.clip(values * (255.0 / top), 0, 255).astype(np.uint8)
        return Image.fromarray(gray, "L").convert("RGB")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def crop_face(picture: np.ndarray | Image.Image, box: tuple[int, int, int, int], margin: float, size: int) -> np.ndarray:
    """The face in ``box`` ([x, y, w, h], pixels) widened by ``margin`` × w (and × h) on each side, clipped
    to the photo, resized to ``size``×``size``. ``picture``: the photo's RGB uint8 pixels or its RGB
    Pillow image (the same crop). Returns a (size, size, 3) uint8 array."""
    x, y, w, h = box
    width, height = picture.size if isinstance(picture, Image.Image) else (picture.shape[1], picture.shape[0])
    left = max(0, int(round(x - margin * w)))
    top = max(0, int(round(y - margin * h)))
    right = min(width, int(round(x + w + margin * w)))
    bottom = min(height, int(round(y + h + margin * h)))
    if right <= left or bottom <= top:
        raise ValueError(f"face box {list(box)} lies outside the {width}×{height} photo")
    if isinstance(picture, Image.Image):
        face = picture.crop((left, top, right, bottom))
    else:
        face = Image.fromarray(np.ascontiguousarray(picture[top:bottom, left:right]))
    return np.asarray(face.resize((size, size), Image.Resampling.BILINEAR))
