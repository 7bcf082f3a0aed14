"""Camera RAW files through LibRaw: the embedded preview when it holds at least a half-size picture, else
a demosaic (half size where that still gives the detector its 800 px), the RAW's own orientation, the
megapixel guard before decoding, and one-line reasons for what cannot be read. DNGs are written by
tests/support/raw.py from a sample photo."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from indexer.vision.imaging import DEFAULT_FORMATS, UnreadablePhoto, load_upright, photo_formats, stored_geometry, upright_size
from indexer.vision.raw import raw_frame
from support.raw import write_dng


@pytest.fixture(scope="module")
def picture(sample) -> Image.Image:
    """The group photo, 1280×886: six faces."""
    with Image.open(sample.group_photo) as image:
        return image.convert("RGB")


def difference(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute difference of two pictures, 0–255 (``b`` resized to ``a``)."""
    return float(np.abs(np.asarray(a, float) - np.asarray(b.resize(a.size), float)).mean())


@pytest.mark.parametrize("preview, scale, source", [
    ("jpeg", 1.0, "preview"),  # a full-size JPEG, as Canon and Nikon embed
    ("jpeg", 0.5, "preview"),  # half size: as much as a half-size demosaic holds
    ("rgb", 1.0, "preview"),  # uncompressed
    ("jpeg", 0.25, "full"),  # too small; the mosaic's half would be under 800 px: a full demosaic
    (None, 1.0, "full"),
])
def test_a_raw_is_read_from_its_preview_when_that_holds_enough_else_demosaiced(picture, tmp_path, preview, scale, source):
    path = write_dng(tmp_path / "shot.dng", picture, preview, preview_scale=scale)
    frame = raw_frame(path, 120)
    image = load_upright(path, 120, DEFAULT_FORMATS)
    assert frame.source == source and image.size == frame.upright == upright_size(path)
    assert image.size == ((640, 443) if scale == 0.5 else (1280, 886))
    # A preview is the camera's JPEG of the picture; a demosaic is LibRaw's rendering of the mosaic.
    assert difference(image, picture) < (3 if source == "preview" else 15)


def test_a_big_raw_with_a_small_preview_is_demosaiced_at_half_size(picture, tmp_path):
    big = picture.resize((2560, 1772))
    path = write_dng(tmp_path / "big.dng", big, "jpeg", preview_scale=0.25)
    frame = raw_frame(path, 120)
    image = load_upright(path, 120, DEFAULT_FORMATS)
    assert (frame.source, image.size) == ("half", (1280, 886))
    assert difference(image, big) < 15


@pytest.mark.parametrize("preview", ["jpeg", None])
def test_a_raw_is_turned_upright_by_its_own_orientation(picture, tmp_path, preview):
    stored = picture.transpose(Image.Transpose.ROTATE_90)  # orientation 6: turn 90° clockwise to show
    path = write_dng(tmp_path / "turned.dng", stored, preview, orientation=6)
    image = load_upright(path, 120, DEFAULT_FORMATS)
    assert image.size == (1280, 886) and difference(image, picture) < 15
    assert stored_geometry(path) == ((886, 1280), 6)


def test_the_megapixel_guard_is_read_before_anything_is_decoded(picture, tmp_path):
    path = write_dng(tmp_path / "shot.dng", picture, None)
    with pytest.raises(UnreadablePhoto, match=r"image too large: 1280×886 is 1 megapixels, over the limit of 0.5"):
        load_upright(path, 0.5, DEFAULT_FORMATS)


def test_what_is_not_a_readable_raw_says_so_in_one_line(picture, tmp_path, sample):
    whole = write_dng(tmp_path / "whole.dng", picture, None).read_bytes()
    (tmp_path / "truncated.dng").write_bytes(whole[: len(whole) // 2])
    (tmp_path / "jpeg.nef").write_bytes(sample.group_photo.read_bytes())  # a JPEG named like a Nikon RAW
    (tmp_path / "junk.cr2").write_bytes(b"not a raw file " * 100)
    reasons = {}
    for name in ("truncated.dng", "jpeg.nef", "junk.cr2"):
        with pytest.raises(UnreadablePhoto) as caught:
            load_upright(tmp_path / name, 120, DEFAULT_FORMATS)
        reasons[name] = str(caught.value)
    assert reasons == {"truncated.dng": "damaged RAW file: Input/output error",
                       "jpeg.nef": "not a camera RAW file LibRaw can read (an unknown camera, or not RAW at all)",
                       "junk.cr2": "not a camera RAW file LibRaw can read (an unknown camera, or not RAW at all)"}


def test_raw_endings_are_taken_only_while_configured(picture, tmp_path):
    path = write_dng(tmp_path / "shot.dng", picture, "jpeg")
    assert "RAW" in photo_formats(["jpg", "dng"]) and "RAW" not in photo_formats(["jpg", "tif"])
    with pytest.raises(UnreadablePhoto):  # a DNG is a TIFF; without RAW among the formats it is not decoded as RAW
        load_upright(path, 120, photo_formats(["jpg"]))
