"""``indexer who-is``: the faces of any photo, each with a name or unknown.

A photo the library has indexed as it is now is answered from the database (names given by hand
included, no model loaded); any other photo is read, its faces detected and embedded, and the trained
labelling rule applied.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from indexer.answers.photos import faces_of_file
from indexer.db import queries, reads
from indexer.db.reader import Reader
from indexer.errors import IndexerError
from indexer.vision.imaging import UnreadablePhoto, load_photo, photo_formats
from indexer.vision.media import is_raw, read_as_video
from indexer.vision.video import BadVideo
from indexer.indexing.analyse import FaceAnalyser
from indexer.indexing.plan import FileState, file_state
from indexer.library import Library
from indexer.naming.labels import automatic_names
from indexer.naming.recognize import Recognizer
from indexer.files import absolute, mark_as_output
from indexer.indexing.scan import look_at

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FaceAnswer:
    """One face: ``box`` [x, y, w, h] in pixels of the upright photo, detector confidence (0–1), the
    person's name or None (unknown), the score (0–1, None when unknown); ``face_id``, ``source``
    ("manual" or "auto") and ``origin`` ("detected" or "drawn" by hand) when the answer comes from the
    index."""

    box: list[int]
    detection: float
    person: str | None
    score: float | None
    face_id: int | None = None
    source: str | None = None
    origin: str | None = None
    time: float | None = None  # in a video: seconds from its start of the frame the box is from
    span: list[float] | None = None  # in a video: the appearance, [from, to] seconds

    def as_dict(self) -> dict:
        shown = {"box": self.box, "detection": round(self.detection, 4), "person": self.person, "score": self.score}
        if self.face_id is not None:
            shown |= {"face_id": self.face_id, "source": self.source, "origin": self.origin}
        if self.time is not None:
            shown |= {"time": round(self.time, 3), "span": [round(t, 3) for t in self.span]}
        return shown


@dataclass
class PhotoAnswer:
    """The answer for one photo, as the user named it; ``error`` when it could not be read."""

    photo: str
    faces: list[FaceAnswer] = field(default_factory=list)
    error: str | None = None
    pixels: np.ndarray | None = None  # the upright photo, kept only when asked for (to draw on)

    def as_dict(self) -> dict:
        return {"photo": self.photo, "faces": [face.as_dict() for face in self.faces]}


class WhoIs:
    """Answers photo after photo; models and the labelling rule load on the first photo that needs them."""

    def __init__(self, library: Library):
        self.library = library

    def answer(self, photos: list[str], keep_pixels: bool = False) -> Iterator[PhotoAnswer]:
        for photo in photos:
            yield self.answer_one(photo, keep_pixels)

    def answer_one(self, photo: str, keep_pixels: bool = False) -> PhotoAnswer:
        answer = PhotoAnswer(photo)
        try:
            if not os.path.exists(photo):
                raise UnreadablePhoto("no such file")
            if os.path.isdir(photo):
                raise UnreadablePhoto("is a folder, not a photo")
            answer.faces = self._from_index(photo)
            formats = photo_formats(self.library.config.library.extensions)
            if read_as_video(photo, formats):
                if keep_pixels:
                    raise UnreadablePhoto("a video: --annotate draws on copies of photos only")
                if answer.faces is None:
                    answer.faces = self._from_video(photo)
                return answer
            if answer.faces is None or keep_pixels:
                pixels = load_photo(photo, self.library.config.library.max_megapixels,
                                    photo_formats(self.library.config.library.extensions))
                if answer.faces is None:
                    answer.faces = self._from_pixels(pixels)
                if keep_pixels:
                    answer.pixels = pixels
        except UnreadablePhoto as e:
            answer.faces, answer.error = [], str(e)
        return answer

    def _from_index(self, photo: str) -> list[FaceAnswer] | None:
        """The stored faces when the library holds this file as it is now, indexed with today's settings."""
        path = absolute(photo)
        with self.library.session() as session:
            known = queries.known_photos(session, [path]).get(path)
            if known is None or file_state(look_at(path), known, self.library.config.face_settings) is not FileState.UNCHANGED:
                return None  # read it the ordinary way (which also says what is wrong with it)
            photo = queries.photo_by_id(session, known.id)
            faces, _, _ = faces_of_file(Reader.of_session(session), known.id, photo.width, photo.height)
            return [FaceAnswer(face.box, face.detection, face.person, face.score, face.face_id,
                               face.source if face.person else None, face.origin, face.time, face.span) for face in faces]

    def _from_video(self, path: str) -> list[FaceAnswer]:
        """Each appearance of a face in a video not in the index (or changed since), named by the trained
        rule, a person once per moment."""
        from indexer.indexing.analyse import ReadingStopped

        try:
            found = self.analyser.read_video(path)
        except BadVideo as e:
            raise UnreadablePhoto(str(e)) from e
        except ReadingStopped:
            raise UnreadablePhoto(f"stopped: it took longer than {self.analyser.max_seconds_per_file:g} s "
                                  "([library] max_seconds_per_file)") from None
        matches = self._names_of(found.faces)
        names = self.names
        return [FaceAnswer(list(face.box), face.confidence, names.get(match.person_id) if match else None,
                           match.score if match else None, time=face.time, span=list(face.span))
                for face, match in zip(found.faces, matches, strict=True)]

    def _from_pixels(self, pixels: np.ndarray) -> list[FaceAnswer]:
        faces = self.analyser.faces_of(pixels)
        matches = self._names_of(faces)
        names = self.names
        return [FaceAnswer(list(face.box), face.confidence, names.get(match.person_id) if match else None,
                           match.score if match else None) for face, match in zip(faces, matches, strict=True)]

    def _names_of(self, faces: list) -> list:
        """The trained rule's name for each face found (None: unknown), a person once per photo — in a
        video, once per moment —, as in the library."""
        if not faces or self.recognizer is None:
            return [None] * len(faces)
        vectors = np.stack([face.vector for face in faces])
        decided = automatic_names((i, 0, match, *([faces[i].span] if faces[i].span else []))
                                  for i, match in enumerate(self.recognizer.match(vectors)))
        return [decided[i] for i in range(len(faces))]

    @functools.cached_property
    def analyser(self) -> FaceAnalyser:
        """The models, loaded on the first photo that is not answered from the index."""
        return FaceAnalyser.for_library(self.library)

    @functools.cached_property
    def recognizer(self) -> Recognizer | None:
        """The trained labelling rule, loaded on the first photo that needs it."""
        from indexer.naming.training import load_recognizer

        recognizer = load_recognizer(self.library)
        if recognizer is None:
            log.warning("no one can be recognised yet: name people (`indexer enroll`), then run `indexer train`")
        return recognizer

    @functools.cached_property
    def names(self) -> dict[int, str]:
        """Person id -> name."""
        with self.library.session() as session:
            return reads.people_names(Reader.of_session(session))


def annotation_targets(photos: list[str], out: Path) -> dict[str, Path]:
    """Where each annotated copy goes: ``out`` itself for one photo (unless it is a folder), else
    ``out/<name>`` (made unique when two photos share a name; a camera RAW's copy is a JPEG,
    ``<name>.jpg``). A folder made here is marked as indexer's output, so that the copies are never
    indexed as photos should it lie under a library root."""
    if len(photos) == 1 and not out.is_dir():
        return {photos[0]: out}
    if out.exists() and not out.is_dir():
        raise IndexerError(f"--annotate {out}: give a folder when asking about several photos")
    if not out.exists():
        mark_as_output(out)
    targets: dict[str, Path] = {}
    used: set[str] = set()
    for photo in photos:
        name = Path(photo).name + (".jpg" if is_raw(photo) else "")
        stem, suffix = os.path.splitext(name)
        candidate, n = name, 1
        while candidate in used:
            n += 1
            candidate = f"{stem}-{n}{suffix}"
        used.add(candidate)
        targets[photo] = out / candidate
    return targets
