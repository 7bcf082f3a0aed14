"""Videos, decoded through FFmpeg (``av``: PyAV, whose wheels bundle it): the frames the index looks at,
streamed, upright, at the size the detector works at.

A video is *sampled*: a frame every SAMPLE_EVERY seconds, and the first frame after each cut (a frame
unlike the one before it: the mean difference of two 32×18 grey thumbnails over CUT_DIFFERENCE), so a
shot shorter than the step is seen too. Only the frames others are predicted from are decoded (FFmpeg's
``skip_frame`` "NONREF": the frames skipped are in between those, and about halve the decoding), and a
sampled frame is scaled by FFmpeg straight to the size asked for. The video's rotation (its display
matrix: phones store portrait video sideways) is applied, so its pixels are upright like a photo's.
Nothing but the current frame is held: a two-hour video costs the memory of a few frames.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from indexer.vision.media import too_large, upright

if TYPE_CHECKING:
    import numpy as np

SAMPLE_EVERY = 1.0  # seconds between sampled frames
CUT_DIFFERENCE = 40.0  # mean absolute difference (0–255) of two consecutive grey thumbnails that is a cut
_THUMBNAIL = (32, 18)


class BadVideo(Exception):
    """A file FFmpeg cannot decode as a video; ``str(e)`` says why in one line."""


@dataclass(frozen=True)
class VideoInfo:
    """A video's picture once upright (width, height, pixels), its length (seconds) and the turn that shows
    it upright (degrees counter-clockwise: 0, 90, 180 or 270). A header without a length (a browser's
    MediaRecorder WebM, a cut stream) is measured by reading the stream's packets (nothing is decoded);
    ``measured`` is False when even that failed (then ``duration`` is what could be read, maybe 0, and the
    video is taken as long: never a Live Photo's)."""

    width: int
    height: int
    duration: float
    rotation: int
    measured: bool = True


@dataclass(frozen=True)
class SampledFrame:
    """One frame looked at: its time (seconds from the start), whether a cut comes just before it, and
    its pixels: upright RGB uint8, ``scale`` × the video's upright size."""

    time: float
    after_cut: bool
    pixels: np.ndarray
    scale: float


def video_info(path: str | Path, max_megapixels: float) -> VideoInfo:
    """What the video is (its first frame is decoded for its rotation). BadVideo."""
    with _Opened(path) as video:
        return video.info(max_megapixels)


@dataclass
class Sampling:
    """How a video's sampling went: ``cuts_left_out`` counts the cuts not looked at because their minute
    had its ``max_cut_samples_per_minute`` already."""

    cuts_left_out: int = 0


def sample_frames(path: str | Path, max_megapixels: float, working_size: Callable[[int, int], tuple[int, int]],
                  should_stop: Callable[[], bool] = lambda: False, max_cut_samples_per_minute: int | None = None,
                  sampling: Sampling | None = None) -> Iterator[SampledFrame]:
    """The sampled frames of the video at ``path`` (see the module), each at ``working_size(width,
    height)`` of its upright size; of the frames after cuts, at most ``max_cut_samples_per_minute`` in a
    minute of film (None: all), those left out counted in ``sampling``. Stops early when
    ``should_stop()`` (asked between frames). BadVideo when it cannot be read — also part way, after
    frames were given."""
    import numpy as np

    sampling = sampling if sampling is not None else Sampling()
    with _Opened(path) as video:
        info = video.info(max_megapixels)
        width, height = working_size(info.width, info.height)
        scale = width / info.width
        stored = upright((width, height), info.rotation // 90)
        next_sample, previous = 0.0, None
        cuts_by_minute: dict[int, int] = {}
        for frame in video.frames(skip_nonref=True):
            if should_stop():
                return
            time = float(frame.time) if frame.time is not None else next_sample
            small = frame.reformat(width=_THUMBNAIL[0], height=_THUMBNAIL[1], format="gray").to_ndarray().astype(np.int16)
            cut = previous is not None and float(np.abs(small - previous).mean()) > CUT_DIFFERENCE
            previous = small
            due = time + 1e-6 >= next_sample
            if cut and not due and max_cut_samples_per_minute is not None:
                minute = int(time // 60)
                if cuts_by_minute.get(minute, 0) >= max_cut_samples_per_minute:
                    sampling.cuts_left_out += 1
                    cut = False
                else:
                    cuts_by_minute[minute] = cuts_by_minute.get(minute, 0) + 1
            if not due and not cut:
                continue
            pixels = _upright(frame.reformat(width=stored[0], height=stored[1], format="rgb24").to_ndarray(), info.rotation)
            next_sample = time + SAMPLE_EVERY
            yield SampledFrame(time, cut, pixels, scale)


def frame_at(path: str | Path, time: float, max_megapixels: float) -> np.ndarray:
    """The upright frame (RGB uint8, the video's full size) shown at ``time`` seconds: the last frame
    starting at or before it. BadVideo."""
    with _Opened(path) as video:
        info = video.info(max_megapixels)
        chosen = None
        for frame in video.frames(start=time):
            if chosen is not None and frame.time is not None and frame.time > time + 1e-6:
                break
            chosen = frame
        if chosen is None:
            raise BadVideo(f"no frame at {time:g} s")
        return _upright(chosen.to_ndarray(format="rgb24"), info.rotation)


def _upright(pixels: np.ndarray, rotation: int) -> np.ndarray:
    import numpy as np

    return np.ascontiguousarray(np.rot90(pixels, k=rotation // 90)) if rotation else pixels


class _Opened:
    """An open video (its first video stream); closed at the end. BadVideo when FFmpeg cannot open it."""

    def __init__(self, path: str | Path):
        self.path = str(path)

    def __enter__(self) -> _Opened:
        import av

        from indexer.files import UnsafeFile, regular_file

        self._checked = regular_file(self.path)
        try:
            readable = self._checked.__enter__()
        except UnsafeFile as e:
            raise BadVideo(str(e)) from None
        except OSError as e:
            raise BadVideo(f"cannot open video: {_said(e)}") from e
        try:
            self.container = av.open(readable, metadata_errors="ignore")
        except av.error.InvalidDataError as e:
            self._checked.__exit__(None, None, None)
            raise BadVideo("not a video FFmpeg can read (damaged, or not a video at all)") from e
        except (av.error.FFmpegError, ValueError, OSError) as e:
            self._checked.__exit__(None, None, None)
            raise BadVideo(f"cannot open video: {_said(e)}") from e
        if not self.container.streams.video:
            self.container.close()
            self._checked.__exit__(None, None, None)
            raise BadVideo("no video stream in it (sound only?)")
        self.stream = self.container.streams.video[0]
        self.stream.thread_type = "AUTO"  # before the decoder opens
        self._info: VideoInfo | None = None
        self._max_pixels: float | None = None
        return self

    def __exit__(self, *exc) -> None:
        self.container.close()
        self._checked.__exit__(None, None, None)

    def frames(self, skip_nonref: bool = False, start: float | None = None) -> Iterator:
        """The stream's frames in order (from the key frame before ``start`` seconds, when given). BadVideo
        when decoding fails."""
        import av

        self.stream.codec_context.skip_frame = "NONREF" if skip_nonref else "DEFAULT"
        try:
            if start is not None:
                self.container.seek(max(0, int(start / self.stream.time_base)), stream=self.stream, backward=True)
            for frame in self.container.decode(self.stream):
                if self._max_pixels is not None and frame.width * frame.height > self._max_pixels:
                    # The header said less (the guard is checked on it first): a stream that grows mid-way.
                    raise BadVideo(too_large(frame.width, frame.height, self._max_pixels / 1e6))
                yield frame
        except (av.error.FFmpegError, ValueError) as e:
            raise BadVideo(f"damaged video: {_said(e)}") from e

    def info(self, max_megapixels: float) -> VideoInfo:
        if self._info is not None:
            return self._info
        context = self.stream.codec_context
        width, height = context.width, context.height
        if not width or not height:
            raise BadVideo("damaged video: it has no picture size")
        if too_large(width, height, max_megapixels):
            raise BadVideo(too_large(width, height, max_megapixels))
        self._max_pixels = max_megapixels * 1_000_000
        rotation = 0
        for frame in self.frames():
            rotation = int(round(frame.rotation or 0)) % 360  # its display matrix
            break
        else:
            raise BadVideo("damaged video: no frame could be decoded")
        self.container.seek(0, stream=self.stream, backward=True)
        rotation = rotation if rotation in (0, 90, 180, 270) else 0
        measured = True
        if self.stream.duration is not None and self.stream.time_base is not None:
            duration = float(self.stream.duration * self.stream.time_base)
        elif self.container.duration is not None:
            duration = self.container.duration / 1_000_000
        else:
            duration, measured = self._measured_length()
        shown = upright((width, height), rotation // 90)
        self._info = VideoInfo(shown[0], shown[1], max(0.0, duration), rotation, measured)
        return self._info

    def _measured_length(self) -> tuple[float, bool]:
        """(seconds, whether they could be measured) of a stream whose header gives no length: the end of its
        last packet, its packets read through once (demuxed, not decoded)."""
        import av

        end, base = 0.0, self.stream.time_base
        try:
            for packet in self.container.demux(self.stream):
                if packet.pts is not None and base is not None:
                    end = max(end, float((packet.pts + (packet.duration or 0)) * base))
            self.container.seek(0, stream=self.stream, backward=True)
        except (av.error.FFmpegError, ValueError):
            return end, False
        start = float(self.stream.start_time * base) if self.stream.start_time is not None and base is not None else 0.0
        return max(0.0, end - start), end > 0


def _said(error: Exception) -> str:
    text = getattr(error, "strerror", None) or (error.args[0] if error.args else "") or type(error).__name__
    return " ".join(str(text).split())
