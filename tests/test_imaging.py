import gc
import os

import numpy as np
import pytest
from PIL import Image

from indexer.vision.imaging import UnreadablePhoto, crop_face, load_photo, load_upright


def test_exif_orientation_is_applied_so_pixels_are_upright(tmp_path):
    upright = np.zeros((100, 60, 3), dtype=np.uint8)
    upright[:20, :, 0] = 255  # red band along the top of the upright picture
    stored = Image.fromarray(upright).rotate(90, expand=True)  # as a camera held sideways stores it
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    stored.save(tmp_path / "sideways.jpg", exif=exif, quality=95)
    pixels = load_photo(tmp_path / "sideways.jpg", max_megapixels=100)
    assert pixels.shape == (100, 60, 3)
    assert pixels[:15, :, 0].mean() > 200 and pixels[40:, :, 0].mean() < 50


def test_a_decoded_photo_keeps_no_file_open_and_its_pixels_whatever_its_format(tmp_path):
    """A JPEG is kept as Pillow decoded it (no copy); formats that keep their file open are copied and
    closed. A nightly run over 100 000 photos must not run out of file handles either way."""
    red, blue = Image.new("RGB", (30, 20), (255, 0, 0)), Image.new("RGB", (30, 20), (0, 0, 255))
    red.save(tmp_path / "one.jpg", quality=95)
    red.save(tmp_path / "one.png")
    red.save(tmp_path / "pages.tif", save_all=True, append_images=[blue])
    red.save(tmp_path / "frames.webp", save_all=True, append_images=[blue], lossless=True)
    gc.collect()  # what earlier tests left (engines, connections) closes its files now, not while counting
    open_before = len(os.listdir("/proc/self/fd"))
    images = [load_upright(tmp_path / name, 100) for name in ["one.jpg", "one.png", "pages.tif", "frames.webp"] * 5]
    assert len(os.listdir("/proc/self/fd")) == open_before
    assert all(image.getpixel((15, 10))[0] > 240 and image.getpixel((15, 10))[2] < 15 for image in images)


@pytest.mark.parametrize(
    "image",
    [
        Image.new("RGBA", (30, 20), (255, 0, 0, 0)),
        Image.new("P", (30, 20)),
        Image.new("L", (30, 20), 128),
        Image.new("I;16", (30, 20), 65535),
        Image.new("CMYK", (30, 20), (0, 0, 0, 0)),
    ],
    ids=["rgba", "palette", "gray", "16-bit", "cmyk"],
)
def test_every_pixel_format_becomes_8_bit_rgb(tmp_path, image):
    path = tmp_path / ("photo.tif" if image.mode in ("CMYK", "I;16") else "photo.png")
    image.save(path)
    pixels = load_photo(path, max_megapixels=100)
    assert pixels.shape == (20, 30, 3) and pixels.dtype == np.uint8


def test_transparent_and_16_bit_pixels_keep_their_brightness(tmp_path):
    Image.new("RGBA", (4, 4), (0, 0, 0, 0)).save(tmp_path / "clear.png")
    Image.new("I;16", (4, 4), 65535).save(tmp_path / "white16.png")
    assert load_photo(tmp_path / "clear.png", 100).min() == 255  # transparent shows as white, not black
    assert load_photo(tmp_path / "white16.png", 100).min() == 255


def test_a_truncated_jpeg_is_unreadable_with_a_reason(tmp_path):
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (200, 200, 3), dtype=np.uint8)).save(tmp_path / "a.jpg")
    data = (tmp_path / "a.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 2])
    with pytest.raises(UnreadablePhoto, match="damaged or truncated image"):
        load_photo(tmp_path / "cut.jpg", 100)


def test_text_named_jpg_and_empty_files_are_not_images(tmp_path):
    (tmp_path / "notes.jpg").write_text("not a photo")
    (tmp_path / "empty.jpg").write_bytes(b"")
    for name in ("notes.jpg", "empty.jpg"):
        with pytest.raises(UnreadablePhoto, match="not an image"):
            load_photo(tmp_path / name, 100)


def test_an_image_over_the_pixel_limit_is_refused_before_decoding(tmp_path, monkeypatch):
    Image.new("RGB", (2000, 1000)).save(tmp_path / "big.png")
    monkeypatch.setattr(Image.Image, "load", lambda self: pytest.fail("decoded a refused image"))
    with pytest.raises(UnreadablePhoto, match=r"image too large: 2000×1000 is 2 megapixels, over the limit of 1\.5"):
        load_photo(tmp_path / "big.png", max_megapixels=1.5)


def test_a_missing_file_says_it_disappeared(tmp_path):
    with pytest.raises(UnreadablePhoto, match="disappeared"):
        load_photo(tmp_path / "gone.jpg", 100)


def test_crop_adds_the_margin_clips_to_the_photo_and_resizes():
    pixels = np.zeros((100, 200, 3), dtype=np.uint8)
    pixels[40:60, 90:110] = 255  # the "face"
    crop = crop_face(pixels, (90, 40, 20, 20), margin=0.5, size=40)
    assert crop.shape == (40, 40, 3)
    # margin 0.5 of a 20 px box: 10 px each side, so the face fills the middle half
    assert crop[15:25, 15:25].min() == 255 and crop[:5].max() == 0
    corner = crop_face(pixels, (0, 0, 20, 20), margin=0.5, size=40)  # clipped at the top-left edge
    assert corner.shape == (40, 40, 3)
    with pytest.raises(ValueError):
        crop_face(pixels, (300, 0, 20, 20), margin=0, size=40)


@pytest.mark.parametrize("suffix", ["heic", "avif", "webp"])
def test_phone_and_web_formats_decode(tmp_path, suffix):
    picture = np.zeros((40, 64, 3), dtype=np.uint8)
    picture[:, :32] = (200, 30, 30)
    Image.fromarray(picture).save(tmp_path / f"photo.{suffix}", quality=90)
    pixels = load_photo(tmp_path / f"photo.{suffix}", max_megapixels=100)
    assert pixels.shape == (40, 64, 3)
    assert pixels[:, :28, 0].mean() > 150 and pixels[:, 36:, 0].mean() < 40
