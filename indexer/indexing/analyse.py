"""Reading photos for their faces: decode (upright RGB) → detect → crop → embed, in batches.

``FaceAnalyser`` is the one place this is done, for ``index``, ``enroll`` and ``who-is``. A pipeline of
threads reads photos ahead (decoding, hashing and preparing for the detector release the GIL, and so do
the networks) and the results are taken in the order of the files by the thread that stores them. With
one worker, one thread decodes the next photo while another detects, and the crops are embedded in
batches across photos by the storing thread, each network using the cores itself. With ``workers`` > 1,
that many threads each read a photo whole — decode, detect, crop, embed — at the same time, on networks
that run single-threaded (the threads are the parallelism: bench/cores.py), one more decodes meanwhile,
and the storing thread only stores. A photo stays the Pillow image it was decoded as until its faces are
cropped: no 12 MP array is made of it. Videos are read in the storing thread, frame by frame, while the
workers read the photos after them.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace

import numpy as np
from PIL import Image

from indexer.vision.cascade import FACE_PX
from indexer.vision.detect import DetectedFace, PreparedPhoto
from indexer.db.values import LimitHit
from indexer.vision.media import read_as_video
from indexer.vision.video import SAMPLE_EVERY, BadVideo, Sampling, VideoInfo, sample_frames, video_info
from indexer.indexing.tracks import FrameFace, Tracker, sharpness
from indexer.files import sha256_file
from indexer.vision.imaging import DEFAULT_FORMATS, UnreadablePhoto, load_upright, photo_formats
from indexer.vision.upright import drawn_face_crop, turned_box, upright_crop
from indexer.indexing.plan import ToRead
from indexer.indexing.store import Analysed, DrawnAgain, FoundFace
from indexer.indexing.scan import ScannedFile

log = logging.getLogger(__name__)

COMMIT_EVERY_PHOTOS = 32
# Photos handed to the workers ahead of the one being stored. Each worker holds one decoded photo at a
# time, and one thread more decodes while they detect, so at most workers + 1 photos are decoded at once
# (with one worker, as before: one detecting, one decoding).
READ_AHEAD = 2


@dataclass(frozen=True)
class DecodedPhoto:
    """A photo as the reader thread hands it over: ``image``, upright RGB at full size (crops are cut
    from it), and ``for_detector``, what the detector made of it ahead (``FaceDetector.prepare``)."""

    image: Image.Image
    for_detector: PreparedPhoto


@dataclass(frozen=True)
class VideoFaces:
    """What a video holds (``FaceAnalyser.read_video``): its size and length, and one face per appearance
    (with its time and span)."""

    info: VideoInfo
    faces: list[FoundFace]
    cuts_left_out: int = 0  # cuts not looked at: more in a minute than max_cut_samples_per_minute


@dataclass
class _Seen:
    """A picture between detection and embedding (``FaceAnalyser._look``): the item it fills, its detected
    faces, its drawn faces (as drawn, and placed on the picture now), the crops of both."""

    analysed: Analysed
    detected: list[DetectedFace] = field(default_factory=list)
    drawn: list = field(default_factory=list)
    crops: list[np.ndarray] = field(default_factory=list)
    vectors: np.ndarray | None = None  # the crops' embeddings, once made (by a worker, or in a batch)


class ReadingStopped(Exception):
    """Reading a video was stopped part way: ``slow``, it took longer than max_seconds_per_file; else the
    run's time budget ran out."""

    def __init__(self, slow: bool):
        super().__init__("too slow" if slow else "out of time")
        self.slow = slow


class FaceAnalyser:
    """Detector and embedder (one-method interfaces: ``detect(pixels)``, ``embed(crops)``) with the crop
    margin (a fraction of the box per side), the batch size (faces per call to the embedder) and the
    largest photo decoded (million pixels), and the image formats decoded (``imaging.photo_formats``)."""

    def __init__(self, detector, embedder, margin: float, batch_size: int, max_megapixels: float,
                 formats: tuple[str, ...] = DEFAULT_FORMATS, detector_side: int | None = 800,
                 max_seconds_per_file: float | None = None, max_cut_samples_per_minute: int | None = None,
                 workers: int = 1):
        self.detector, self.embedder = detector, embedder
        self.workers = workers  # photos searched for faces at once (``batches``)
        self._detecting = threading.Semaphore(workers)
        self.margin, self.batch_size, self.max_megapixels, self.formats = margin, batch_size, max_megapixels, formats
        # px: the shorter side the detector looks at (video frames are decoded so); None: the whole frame
        # (min_face_fraction 0 looks for faces of min_face_size px however large the frame)
        self.detector_side = detector_side
        # What one file may cost ([library] max_seconds_per_file, max_cut_samples_per_minute; None: no limit)
        self.max_seconds_per_file, self.max_cut_samples_per_minute = max_seconds_per_file, max_cut_samples_per_minute

    @classmethod
    def for_library(cls, library, workers: int = 1) -> FaceAnalyser:
        """The models of ``library`` (built once there) with its settings, reading ``workers`` photos at
        once: then the workers share a detector and an embedder whose networks each use their share of
        the cores (one thread each when there are as many workers as cores)."""
        from indexer.vision.engines.cores import usable_cores

        threads = None if workers == 1 else max(1, usable_cores() // workers)
        return cls.for_config(library.config, library.detector(threads), library.embedder(threads), workers)

    @classmethod
    def for_config(cls, config, detector=None, embedder=None, workers: int = 1) -> FaceAnalyser:
        """The settings of ``config``, with ``detector`` and ``embedder`` (default: the models ``config`` names,
        ``vision.models``; a Dask worker has no library)."""
        from indexer.vision import models

        e, library = config.embedding, config.library
        return cls(detector or models.detector(config), embedder or models.embedder(config), e.margin, e.batch_size,
                   library.max_megapixels, photo_formats(library.extensions),
                   round(FACE_PX / config.detection.min_face_fraction) if config.detection.min_face_fraction > 0 else None,
                   library.max_seconds_per_file, library.max_cut_samples_per_minute, workers)

    def faces_of(self, pixels: np.ndarray) -> list[FoundFace]:
        """The faces of one decoded photo (upright RGB), found as ``batches`` finds a file's."""
        seen = self._look(pixels, self.detector.detect(pixels), ())
        return self._embed([seen])[0].faces

    def _crops(self, picture: np.ndarray | Image.Image, faces: list[DetectedFace]) -> list[np.ndarray]:
        """Each face's crop, turned upright by its roll (``vision.upright``)."""
        return [upright_crop(picture, turned_box(face), self.margin, self.embedder.input_size) for face in faces]

    def batches(self, todo: list[ToRead], hashes: dict[str, str] | None = None,
                out_of_time: Callable[[], bool] = lambda: False, progress=None) -> Iterator[list[Analysed]]:
        """Read ``todo`` in order and yield the results in batches, each ready to store in one transaction
        (at most ``COMMIT_EVERY_PHOTOS`` photos, about ``batch_size`` faces). ``hashes``: content hashes
        already known, by path. Stops early when ``out_of_time()`` says so (checked before each photo).
        ``progress``: a tqdm bar, advanced per photo."""
        hashes = dict(hashes or {})
        pending: list[_Seen] = []
        window = self.workers + READ_AHEAD + (COMMIT_EVERY_PHOTOS if self.workers > 1 else 0)
        readers = ThreadPoolExecutor(max_workers=self.workers + 1, thread_name_prefix="indexer-read")
        ahead: deque[Future] = deque(readers.submit(self._read_and_look, item, hashes) for item in todo[:window])
        try:
            for done, item in enumerate(todo):
                if out_of_time():
                    break
                seen = ahead.popleft().result()
                analysed = seen.analysed
                if done + window < len(todo):
                    ahead.append(readers.submit(self._read_and_look, todo[done + window], hashes))
                if analysed.error is None and read_as_video(item.file.path, self.formats):
                    if pending:
                        yield self._embed(pending)
                        pending = []
                    in_time = self._read_video(analysed, out_of_time)
                    if progress is not None and in_time:
                        progress.update()
                    yield [analysed]
                    if not in_time:
                        break  # the run's time ran out inside it: read again, whole, after the others next run
                    continue
                pending.append(seen)
                if progress is not None:
                    progress.update()
                if sum(len(s.crops) for s in pending) >= self.batch_size or len(pending) >= COMMIT_EVERY_PHOTOS:
                    yield self._embed(pending)
                    pending = []
            if pending:
                yield self._embed(pending)
        finally:
            readers.shutdown(wait=True, cancel_futures=True)

    def _read_and_look(self, item: ToRead, hashes: dict[str, str]) -> _Seen:
        """Read one file and find its faces (in a reader thread): decoded, hashed, prepared for the detector,
        then — at most ``workers`` photos at a time — searched for faces and cropped, and with several
        workers embedded too. A video is hashed only (``_read``)."""
        decoded, analysed = self._read(item.file, hashes)
        analysed.before = item.before
        if decoded is None:
            return _Seen(analysed)
        with self._detecting:
            try:
                seen = self._look(decoded.image, self.detector.detect(decoded.for_detector), item.drawn, analysed)
            except Exception as e:  # one photo must never stop the night's run
                log.debug("face detection failed on %s", item.file.path, exc_info=True)
                analysed.error = f"face detection failed: {type(e).__name__}: {e}"
                return _Seen(analysed)
            if self.workers > 1:
                seen.vectors = self.embedder.embed(seen.crops)
            return seen

    def _look(self, picture: np.ndarray | Image.Image, detected: list[DetectedFace], drawn, analysed: Analysed | None = None,
              ) -> _Seen:
        """A picture's faces as the detector found them, the faces drawn by hand on it (``DrawnBox``es, placed
        on the picture as it is now) and the crops of both, to embed (``_embed``): each turned upright
        (``vision.upright``; a drawn face where the detector finds it inside its box)."""
        width, height = picture.size if isinstance(picture, Image.Image) else (picture.shape[1], picture.shape[0])
        boxes = [scaled_box(face, width, height) for face in drawn]
        crops = self._crops(picture, detected) + [drawn_face_crop(picture, box, self.detector, self.margin, self.embedder.input_size)
                                                  for box in boxes]
        return _Seen(analysed if analysed is not None else Analysed(ScannedFile("", 0, 0), None), detected,
                     list(zip(drawn, boxes)), crops)

    def _embed(self, pending: list[_Seen]) -> list[Analysed]:
        """Embed the crops of a batch not embedded yet in one call and give each picture its faces (its
        detected faces' crops first, then its drawn faces')."""
        waiting = [seen for seen in pending if seen.vectors is None]
        crops = [crop for seen in waiting for crop in seen.crops]
        vectors = self.embedder.embed(crops) if crops else np.zeros((0, self.embedder.dimensions), dtype=np.float32)
        assert len(vectors) == len(crops)
        offset = 0
        for seen in waiting:
            seen.vectors = vectors[offset : offset + len(seen.crops)]
            offset += len(seen.crops)
        for seen in pending:
            mine = seen.vectors
            seen.analysed.faces = [FoundFace.of(face, vector)
                                   for face, vector in zip(seen.detected, mine[: len(seen.detected)], strict=True)]
            seen.analysed.drawn = [DrawnAgain(drawn, box, vector)
                                   for (drawn, box), vector in zip(seen.drawn, mine[len(seen.detected):], strict=True)]
        return [seen.analysed for seen in pending]

    def _read_video(self, analysed: Analysed, out_of_time: Callable[[], bool]) -> bool:
        """Read a video's appearances into ``analysed`` (``read_video``); a video that cannot be read, or that
        a limit stopped, is recorded so (a limit it hit in ``limit_hit``). False when the run's time ran out
        part way (nothing is kept of it: it is read again, after the others, next run; cut so a second
        time, it is stopped)."""
        try:
            found = self.read_video(analysed.file.path, out_of_time)
        except ReadingStopped as e:
            twice = analysed.before is not None and analysed.before.limit_hit == LimitHit.DEADLINE
            if e.slow or twice:
                analysed.limit_hit = LimitHit.STOPPED
                analysed.error = (f"stopped: it took longer than {self.max_seconds_per_file:g} s ([library] "
                                  "max_seconds_per_file)" if e.slow else
                                  "stopped: two runs' time budgets (--max-minutes) ran out while reading it")
                analysed.error += "; left alone until it changes, or `indexer index --retry-stopped`"
                return e.slow
            analysed.limit_hit = LimitHit.DEADLINE
            analysed.error = "not read: the run's time budget (--max-minutes) ran out while reading it; the next run reads it after the others"
            return False
        except BadVideo as e:
            analysed.error = str(e)
            return True
        except Exception as e:  # one video must never stop the night's run
            log.debug("reading the video %s failed", analysed.file.path, exc_info=True)
            analysed.error = f"cannot read video: {type(e).__name__}: {e}"
            return True
        analysed.width, analysed.height, analysed.duration = found.info.width, found.info.height, found.info.duration
        analysed.faces = found.faces
        if found.cuts_left_out:
            analysed.limit_hit = LimitHit.SAMPLED
        return True

    def read_video(self, path: str, out_of_time: Callable[[], bool] = lambda: False) -> VideoFaces:
        """The appearances of faces in the video at ``path`` (``indexing.tracks``): one face per track, at
        its best frame (its box in the video's upright pixels), with the mean of its frames' embeddings,
        and its time and span. ReadingStopped when ``out_of_time()`` said so part way, or when it took
        longer than ``max_seconds_per_file`` (asked between frames); BadVideo."""
        stopped: list[bool] = []  # [slow]
        started = time.monotonic()

        def should_stop() -> bool:
            if not stopped and self.max_seconds_per_file is not None and time.monotonic() - started > self.max_seconds_per_file:
                stopped.append(True)
            elif not stopped and out_of_time():
                stopped.append(False)
            return bool(stopped)

        def working_size(width: int, height: int) -> tuple[int, int]:
            scale = 1.0 if self.detector_side is None else min(1.0, self.detector_side / min(width, height))
            return max(1, round(width * scale)), max(1, round(height * scale))

        tracker, waiting = Tracker(SAMPLE_EVERY), []  # frames whose crops are not embedded yet
        info = video_info(path, self.max_megapixels)
        last = 0.0  # seconds: the last frame looked at (a header may say less than the video holds)
        sampling = Sampling()
        for frame in sample_frames(path, self.max_megapixels, working_size, should_stop, self.max_cut_samples_per_minute,
                                   sampling):
            last = max(last, frame.time)
            faces = self.detector.detect(frame.pixels)
            waiting.append((frame.time, frame.after_cut, frame.scale, faces, self._crops(frame.pixels, faces)))
            if sum(len(w[4]) for w in waiting) >= self.batch_size:
                self._link(tracker, waiting)
                waiting = []
        if stopped:
            raise ReadingStopped(stopped[0])
        self._link(tracker, waiting)
        return VideoFaces(replace(info, duration=max(info.duration, last)),
                          [FoundFace(tuple(t.best.box), t.best.confidence, dict(t.best.landmarks), t.vector, t.best.time, t.span)
                           for t in tracker.tracks()], sampling.cuts_left_out)

    def _link(self, tracker: Tracker, waiting: list) -> None:
        """Embed the crops of these sampled frames in one call and give their faces to the tracker, frame
        by frame (boxes back in the video's own pixels)."""
        crops = [crop for *_, frame_crops in waiting for crop in frame_crops]
        vectors = self.embedder.embed(crops) if crops else np.zeros((0, self.embedder.dimensions), dtype=np.float32)
        offset = 0
        for at, after_cut, scale, faces, frame_crops in waiting:
            found = []
            for face, crop, vector in zip(faces, frame_crops, vectors[offset : offset + len(faces)], strict=True):
                x, y, w, h = face.box
                full = (round(x / scale), round(y / scale), round(w / scale), round(h / scale))
                marks = {name: (round(px / scale), round(py / scale)) for name, (px, py) in face.landmarks.items()}
                found.append(FrameFace(at, full, face.confidence, marks, vector, sharpness(crop.mean(axis=2))))
            offset += len(faces)
            tracker.add(found, after_cut)

    def _read(self, found: ScannedFile, hashes: dict[str, str]) -> tuple[DecodedPhoto | None, Analysed]:
        """Decode, prepare for the detector and hash one file (in the reader thread): (the photo or None,
        the item). A video is hashed only: its frames are read as they are looked at (``_read_video``)."""
        item = Analysed(found, None, error=found.problem)
        if item.error is not None:
            return None, item
        if read_as_video(found.path, self.formats):
            try:
                item.content_hash = _hash_unchanged(found, hashes.pop(found.path, None))
            except UnreadablePhoto as e:
                item.error = str(e)
            return None, item
        try:
            image = load_upright(found.path, self.max_megapixels, self.formats)
            item.content_hash = _hash_unchanged(found, hashes.pop(found.path, None))
            decoded = DecodedPhoto(image, self.detector.prepare(image))
        except UnreadablePhoto as e:
            item.error = str(e)
            return None, item
        except Exception as e:  # a decoder's own bug must not stop the run either
            log.debug("reading %s failed", found.path, exc_info=True)
            item.error = f"cannot decode image: {type(e).__name__}: {e}"
            return None, item
        item.width, item.height = image.size
        return decoded, item


def scaled_box(drawn, width: int, height: int) -> tuple[int, int, int, int]:
    """A drawn face's box on its photo as it is now (``width`` × ``height``): scaled as the photo was
    (re-saved smaller, say), kept inside it."""
    old_width, old_height = drawn.size
    fx = width / old_width if old_width else 1.0
    fy = height / old_height if old_height else 1.0
    x, y, w, h = drawn.box
    left, top = min(max(0, round(x * fx)), width - 1), min(max(0, round(y * fy)), height - 1)
    return left, top, max(1, min(round(w * fx), width - left)), max(1, min(round(h * fy), height - top))


def _hash_unchanged(found: ScannedFile, known_hash: str | None) -> str:
    """The file's sha256, after checking it has not changed since the scan (a photo still being copied
    in is read again next run rather than stored half-written)."""
    try:
        digest = known_hash or sha256_file(found.path)
        now = os.stat(found.path)
    except OSError as e:
        raise UnreadablePhoto(f"cannot read file: {e.strerror}") from e
    if (now.st_size, now.st_mtime_ns) != (found.size, found.mtime_ns):
        raise UnreadablePhoto("the file changed while it was being read (still being copied?); it is read again next run")
    return digest
