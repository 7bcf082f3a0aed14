"""Camera RAW files for tests: DNGs (Adobe's RAW, a TIFF) written here from an RGB picture, as cameras and
converters lay them out — a Bayer mosaic (RGGB, 16 bits, linear light) with the colour tags LibRaw needs,
and, where asked, an embedded preview before it (IFD0, the mosaic then in a SubIFD), a JPEG (as cameras
embed one) or uncompressed RGB. The picture's EXIF orientation is the RAW's (tag 274 in IFD0)."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import numpy as np
from PIL import Image

BYTE, ASCII, SHORT, LONG, RATIONAL, SRATIONAL = 1, 2, 3, 4, 5, 10
_PACKING = {BYTE: "B", ASCII: "B", SHORT: "H", LONG: "I", RATIONAL: "I", SRATIONAL: "i"}
_SIZE = {BYTE: 1, ASCII: 1, SHORT: 2, LONG: 4, RATIONAL: 8, SRATIONAL: 8}
# XYZ (D65) → linear sRGB: the mosaic's "camera" sees linear sRGB, so LibRaw's colours come out as they went in.
XYZ_TO_SRGB = (3.2406, -1.5372, -0.4986, -0.9689, 1.8758, 0.0415, 0.0557, -0.2040, 1.0570)
BLACK, WHITE = 64, 4095


def mosaic(rgb: np.ndarray) -> np.ndarray:
    """The RGGB Bayer mosaic (uint16, BLACK…WHITE, linear light) a sensor would record of an sRGB picture
    (height and width even)."""
    linear = (np.clip(rgb / 255.0, 0, 1) ** 2.2) * (WHITE - BLACK) + BLACK
    cfa = np.empty(rgb.shape[:2], np.uint16)
    cfa[0::2, 0::2] = linear[0::2, 0::2, 0]
    cfa[0::2, 1::2] = linear[0::2, 1::2, 1]
    cfa[1::2, 0::2] = linear[1::2, 0::2, 1]
    cfa[1::2, 1::2] = linear[1::2, 1::2, 2]
    return cfa


def write_dng(path: Path, picture: Image.Image | np.ndarray, preview: str | None = "jpeg", orientation: int = 1,
              preview_scale: float = 1.0, taken: str | None = None) -> Path:
    """A DNG of ``picture`` (as stored: ``orientation`` turns it upright) at ``path``. ``preview``: "jpeg",
    "rgb" (uncompressed) or None; ``preview_scale``: its size as a fraction of the mosaic's; ``taken``: its
    TIFF DateTime ("YYYY:MM:DD HH:MM:SS")."""
    rgb = np.asarray(picture.convert("RGB") if isinstance(picture, Image.Image) else picture)
    height, width = (rgb.shape[0] // 2) * 2, (rgb.shape[1] // 2) * 2
    rgb = np.ascontiguousarray(rgb[:height, :width])
    raw = _Ifd({254: (LONG, [0]), 256: (LONG, [width]), 257: (LONG, [height]), 258: (SHORT, [16]), 259: (SHORT, [1]),
                262: (SHORT, [32803]), 277: (SHORT, [1]), 278: (LONG, [height]), 284: (SHORT, [1]),
                33421: (SHORT, [2, 2]), 33422: (BYTE, [0, 1, 1, 2]), 50714: (LONG, [BLACK]), 50717: (LONG, [WHITE])},
               mosaic(rgb).astype("<u2").tobytes())
    camera = {271: (ASCII, "indexer tests"), 272: (ASCII, "mosaic"), 274: (SHORT, [orientation]),
              50706: (BYTE, [1, 4, 0, 0]), 50707: (BYTE, [1, 1, 0, 0]), 50708: (ASCII, "indexer tests mosaic"),
              50721: (SRATIONAL, list(XYZ_TO_SRGB)), 50728: (RATIONAL, [1, 1, 1]), 50778: (SHORT, [21])}
    if taken is not None:
        camera[306] = (ASCII, taken)
    if preview is None:
        raw.tags.update(camera)
        ifds = [raw]
    else:
        small = Image.fromarray(rgb)
        if preview_scale != 1.0:
            small = small.resize((round(width * preview_scale), round(height * preview_scale)), Image.Resampling.LANCZOS)
        if preview == "jpeg":
            encoded = io.BytesIO()
            small.save(encoded, "JPEG", quality=92)
            data, compression, photometric = encoded.getvalue(), 7, 6
        else:
            data, compression, photometric = np.asarray(small).tobytes(), 1, 2
        main = _Ifd({254: (LONG, [1]), 256: (LONG, [small.width]), 257: (LONG, [small.height]), 258: (SHORT, [8, 8, 8]),
                     259: (SHORT, [compression]), 262: (SHORT, [photometric]), 277: (SHORT, [3]),
                     278: (LONG, [small.height]), 284: (SHORT, [1]), 330: (LONG, [0]), **camera}, data)
        ifds = [main, raw]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_tiff(ifds))
    return path


class _Ifd:
    def __init__(self, tags: dict[int, tuple[int, object]], data: bytes):
        self.tags, self.data = dict(tags), data


def _values(kind: int, values) -> list[int]:
    if kind == ASCII:
        return list(values.encode() + b"\0")
    if kind in (RATIONAL, SRATIONAL):
        return [part for value in values for part in (round(value * 10000), 10000)]
    return list(values)


def _tiff(ifds: list[_Ifd]) -> bytes:
    """A little-endian TIFF of ``ifds``: each directory, then its longer values and its one strip; the
    first holds the second as its SubIFD (tag 330) when it has that tag."""
    for ifd in ifds:
        ifd.tags[273] = (LONG, [0])  # StripOffsets, placed below
        ifd.tags[279] = (LONG, [len(ifd.data)])
    position, at, extra, strip = 8, [], [], []
    for ifd in ifds:  # where everything goes
        at.append(position)
        position += 2 + 12 * len(ifd.tags) + 4
        places = {}
        for tag in sorted(ifd.tags):
            kind, values = ifd.tags[tag]
            size = _SIZE[kind] * (len(_values(kind, values)) // (2 if kind in (RATIONAL, SRATIONAL) else 1))
            if size > 4:
                places[tag] = position
                position += size + size % 2
        extra.append(places)
        strip.append(position)
        position += len(ifd.data) + len(ifd.data) % 2
    out = bytearray(position)
    out[:8] = b"II*\0" + struct.pack("<I", at[0])
    for index, ifd in enumerate(ifds):
        ifd.tags[273] = (LONG, [strip[index]])
        if 330 in ifd.tags:
            ifd.tags[330] = (LONG, [at[index + 1]])
        tags = sorted(ifd.tags)
        struct.pack_into("<H", out, at[index], len(tags))
        for k, tag in enumerate(tags):
            kind, values = ifd.tags[tag]
            numbers = _values(kind, values)
            packed = struct.pack("<" + _PACKING[kind] * len(numbers), *numbers)
            entry = at[index] + 2 + 12 * k
            struct.pack_into("<HHI", out, entry, tag, kind, len(numbers) // (2 if kind in (RATIONAL, SRATIONAL) else 1))
            if len(packed) <= 4:
                out[entry + 8 : entry + 8 + len(packed)] = packed
            else:
                struct.pack_into("<I", out, entry + 8, extra[index][tag])
                out[extra[index][tag] : extra[index][tag] + len(packed)] = packed
        struct.pack_into("<I", out, at[index] + 2 + 12 * len(tags), 0)  # no next IFD: the mosaic is a SubIFD
        out[strip[index] : strip[index] + len(ifd.data)] = ifd.data
    return bytes(out)
