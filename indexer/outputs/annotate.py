"""Drawing the answer of ``who-is`` on a copy of the photo: a box round each face and its name."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from indexer.errors import IndexerError
from indexer.files import atomic_file

KNOWN = (46, 204, 64)  # green boxes for named faces
UNKNOWN = (255, 220, 0)  # yellow for unknown ones


def annotate(pixels: np.ndarray, faces: Sequence, out: Path) -> Path:
    """Write the upright photo ``pixels`` with a box and a caption ("name 0.93" or "unknown") for each
    face (objects with ``box``, ``person`` and ``score``) to ``out``; the format follows its suffix
    (JPEG when there is none it knows). Written atomically."""
    image = Image.fromarray(pixels).convert("RGB")
    draw = ImageDraw.Draw(image)
    shorter = min(image.size)
    line = max(2, shorter // 250)
    font = ImageFont.load_default(size=max(12, shorter // 40))
    for face in faces:
        x, y, w, h = face.box
        colour = KNOWN if face.person else UNKNOWN
        draw.rectangle([x, y, x + w, y + h], outline=colour, width=line)
        caption = f"{face.person} {face.score:.2f}" if face.person else "unknown"
        left, top, right, bottom = draw.textbbox((0, 0), caption, font=font)
        text_w, text_h = right - left, bottom - top
        label_y = y - text_h - 2 * line if y - text_h - 2 * line >= 0 else y + h
        label_x = max(0, min(x, image.width - text_w - 2 * line))  # keep the caption inside the picture
        draw.rectangle([label_x, label_y, label_x + text_w + 2 * line, label_y + text_h + 2 * line], fill=colour)
        draw.text((label_x + line - left, label_y + line - top), caption, fill=(0, 0, 0), font=font)
    image_format = Image.registered_extensions().get(out.suffix.lower(), "JPEG")
    try:
        with atomic_file(out) as tmp_name:
            image.save(tmp_name, format=image_format, **({"quality": 92} if image_format == "JPEG" else {}))
    except (OSError, ValueError, KeyError) as e:
        raise IndexerError(f"cannot write {out}: {e}") from e
    return out
