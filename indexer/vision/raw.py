"""Camera RAW files, decoded through LibRaw (``rawpy``, whose wheels bundle it): the camera's own embedded
preview where it holds as much as a half-size demosaic would (it is a JPEG the camera made: decoding it
costs what a JPEG of its size costs), else a demosaic, at half size where that still gives the detector
what it looks at, else at full size.

The picture a RAW is indexed as — its *frame*, whose pixels the face boxes are in — is the one decoded
here: the preview's size, or the demosaic's, turned upright by the RAW's own orientation (LibRaw's
``flip``: the embedded preview is stored as the sensor saw it, like the mosaic). ``raw_frame`` says what
it is without decoding, so that XMP regions, ``who-is`` copies and the gallery land where the index put
the faces.
"""

from __future__ import annotations

import io
import os
import re
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from indexer.vision.media import too_large, turns_of_orientation, upright

if TYPE_CHECKING:  # imported where used: `find` must start fast
    from PIL import Image

# A half-size demosaic is used when its shorter side is still at least this many pixels: what the
# detector searches a photo at with the default settings ([detection] min_face_size / min_face_fraction).
HALF_SIZE_FROM = 800
# A preview is the RAW's picture only if its shape is the mosaic's (a preview cut to another aspect would
# put the faces elsewhere for every other tool): width / height within this fraction of the RAW's.
SAME_SHAPE = 0.02

# LibRaw's flip → the EXIF orientation that turns the stored picture upright.
_ORIENTATION = {0: 1, 3: 3, 5: 8, 6: 6}


class BadRaw(Exception):
    """A RAW file LibRaw cannot decode; ``str(e)`` says why in one line."""


@dataclass(frozen=True)
class RawFrame:
    """How a RAW is decoded: ``source`` ("preview", "half" or "full"), the picture's size as stored
    (width, height, pixels) and its EXIF-style ``orientation`` (1, 3, 6 or 8)."""

    source: str
    stored: tuple[int, int]
    orientation: int

    @property
    def upright(self) -> tuple[int, int]:
        """Its size once turned upright (width, height): the frame of its face boxes."""
        return upright(self.stored, turns_of_orientation(self.orientation))


def raw_frame(path: str | Path, max_megapixels: float) -> RawFrame:
    """What ``decode_raw`` would decode, read from the file's headers (nothing is demosaiced). BadRaw."""
    with _opened(path) as raw:
        frame, _ = _choose(raw, max_megapixels, decode=False)
        return frame


def decode_raw(path: str | Path, max_megapixels: float, scale: float = 1.0) -> Image.Image:
    """The RAW at ``path`` as an upright RGB image in its frame (see the module). ``scale`` < 1 (a
    gallery preview) may take a half-size demosaic where the frame would be a full one (same shape).
    BadRaw for what LibRaw cannot read, or a RAW larger than ``max_megapixels``."""
    import rawpy
    from PIL import Image

    with _opened(path) as raw:
        frame, preview = _choose(raw, max_megapixels)
        if preview is not None:
            image = preview
        else:
            half = frame.source == "half" or scale <= 0.5
            try:
                with libraw_quiet():
                    pixels = raw.postprocess(half_size=half, use_camera_wb=True, output_bps=8, user_flip=0)
            except (rawpy.LibRawError, MemoryError, ValueError) as e:
                raise BadRaw(f"damaged RAW file: {_said(e)}") from e
            image = Image.fromarray(pixels)
        image = image.convert("RGB")
        upright = {3: Image.Transpose.ROTATE_180, 6: Image.Transpose.ROTATE_270, 8: Image.Transpose.ROTATE_90}
        return image.transpose(upright[frame.orientation]) if frame.orientation in upright else image


class _opened:
    """rawpy's RawPy for ``path``, closed at the end; BadRaw when LibRaw cannot open it."""

    def __init__(self, path: str | Path):
        self.path = str(path)

    def __enter__(self):
        import rawpy

        from indexer.files import UnsafeFile, regular_file

        self._checked = regular_file(self.path)
        try:
            readable = self._checked.__enter__()
        except UnsafeFile as e:
            raise BadRaw(str(e)) from None
        try:
            with libraw_quiet():
                self.raw = rawpy.imread(readable)
        except rawpy.LibRawFileUnsupportedError as e:
            self._checked.__exit__(None, None, None)
            raise BadRaw("not a camera RAW file LibRaw can read (an unknown camera, or not RAW at all)") from e
        except (rawpy.LibRawError, ValueError) as e:
            self._checked.__exit__(None, None, None)
            raise BadRaw(f"damaged or truncated RAW file: {_said(e)}") from e
        return self.raw

    def __exit__(self, *exc) -> None:
        self.raw.close()
        self._checked.__exit__(None, None, None)


def _choose(raw, max_megapixels: float, decode: bool = True) -> tuple[RawFrame, Image.Image | None]:
    """The frame of an opened RAW, and (``decode``) its preview image decoded when that is the frame."""
    import rawpy

    sizes = raw.sizes
    width, height = sizes.width, sizes.height
    if width <= 0 or height <= 0:
        raise BadRaw("damaged RAW file: it has no picture size")
    if too_large(width, height, max_megapixels):
        raise BadRaw(too_large(width, height, max_megapixels))
    orientation = _ORIENTATION.get(sizes.flip, 1)
    try:
        with libraw_quiet():
            thumb = raw.extract_thumb()
    except (rawpy.LibRawNoThumbnailError, rawpy.LibRawUnsupportedThumbnailError):
        thumb = None
    except rawpy.LibRawError:
        thumb = None  # a damaged preview: the mosaic may still be good
    preview = _preview(thumb, (width, height), max_megapixels, decode) if thumb is not None else None
    if preview is not None:
        return RawFrame("preview", preview.size, orientation), preview if decode else None
    if min(width, height) // 2 >= HALF_SIZE_FROM:
        return RawFrame("half", ((width + 1) // 2, (height + 1) // 2), orientation), None  # as LibRaw halves
    return RawFrame("full", (width, height), orientation), None


def _preview(thumb, size: tuple[int, int], max_megapixels: float, decode: bool) -> Image.Image | None:
    """The embedded preview as an image (``decode``: its pixels loaded, so a damaged one is found out
    here), if it is the RAW's picture at least at half its size (then it holds what a half-size demosaic
    would); else None."""
    import numpy as np
    import rawpy
    from PIL import Image

    try:
        if thumb.format == rawpy.ThumbFormat.JPEG:
            image = Image.open(io.BytesIO(thumb.data), formats=["JPEG"])
            if too_large(*image.size, max_megapixels):
                return None
        elif thumb.format == rawpy.ThumbFormat.BITMAP and np.asarray(thumb.data).ndim == 3:
            image = Image.fromarray(np.ascontiguousarray(thumb.data).astype(np.uint8))
        else:
            return None
        shown = image.size
        if min(shown) < min(size) / 2 or abs(shown[0] / shown[1] - size[0] / size[1]) > SAME_SHAPE * size[0] / size[1]:
            return None
        if decode:
            image.load()
        return image
    except (OSError, ValueError, SyntaxError):
        return None  # a damaged preview: the mosaic may still be good


_STDERR = threading.Lock()  # one redirection of the process's stderr at a time


@contextmanager
def libraw_quiet() -> Iterator[None]:
    """LibRaw writes what it finds wrong with a file straight to the process's stderr ("FILE: Unexpected end
    of file"), past every log setting, beside the one line the run says of the file: inside the block
    stderr goes to a file instead, LibRaw's lines are dropped, and whatever else was written meanwhile is
    written on to stderr afterwards."""
    with _STDERR, tempfile.TemporaryFile() as caught:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(caught.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            caught.seek(0)
            other = [line for line in caught.read().decode("utf-8", "replace").splitlines(keepends=True)
                     if not re.match(r"^[/.]\S*: ", line)]  # LibRaw's: "FILE: reason"
            if other:
                sys.stderr.write("".join(other))
                sys.stderr.flush()


def _said(error: Exception) -> str:
    text = error.args[0] if error.args else str(error)
    return (text.decode(errors="replace") if isinstance(text, bytes) else str(text)).strip() or type(error).__name__
