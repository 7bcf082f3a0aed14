"""Videos for tests, encoded with PyAV (H.264 in MP4) from frames the test draws: ``make_video`` from a
list of frames, ``scenes`` for the fake models' squares (support.photos) moving across a frame."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from support.photos import PEOPLE, SQUARE


def make_video(path: Path, frames: Iterable[np.ndarray], fps: int = 10, rotation: int | None = None,
               metadata: dict[str, str] | None = None) -> Path:
    """An MP4 (H.264) of ``frames`` (RGB uint8, all one even size) at ``fps`` frames a second; a ``.webm``
    is VP8 written as a browser's MediaRecorder writes it, live: its header holds no length.
    ``rotation``: the display matrix's turn, as phones write it (-90: stored sideways, shown turned 90°
    clockwise; FFmpeg's sign). ``metadata``: the container's tags (``creation_time``: "2016-02-03T04:05:06Z")."""
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    webm = path.suffix == ".webm"
    with av.open(str(path), "w", **({"format": "webm", "options": {"live": "1"}} if webm else {})) as out:
        out.metadata.update(metadata or {})
        stream = None
        for frame in frames:
            if stream is None:
                stream = out.add_stream("libvpx" if webm else "libx264", rate=fps)
                stream.height, stream.width = frame.shape[:2]
                stream.pix_fmt = "yuv420p"
                stream.options = {} if webm else {"preset": "veryfast"}
                if rotation is not None:
                    stream.set_display_rotation(rotation)
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def scene(people: dict[str, tuple[int, int]], size: tuple[int, int] = (400, 200), seed: int = 0, shade: int = 40) -> np.ndarray:
    """A frame of ``size`` (width, height) on a background of ``shade`` (another shade: another scene, a cut)
    with each person's square (support.photos.PEOPLE) at its top-left corner (x, y)."""
    rng = np.random.default_rng(seed)
    pixels = np.full((size[1], size[0], 3), shade, dtype=np.uint8) + rng.integers(0, 20, (size[1], size[0], 3), dtype=np.uint8)
    for name, (x, y) in people.items():
        pixels[y : y + SQUARE, x : x + SQUARE] = PEOPLE[name]
    return pixels
