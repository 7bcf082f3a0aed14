"""The pictures of ``indexer serve``: a face's thumbnail and a photo's preview, made on first request by
the gallery's code (``outputs.gallery.images``, so both show the same crops) and kept in the data folder
(owner-only, like the index) under ``pictures/``. Only pictures of faces and photos of the index are
made: a request names a face or photo by id, never a path."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from indexer.answers.browse import FaceRow, Photo
from indexer.config import Config
from indexer.files import PRIVATE_FOLDER

log = logging.getLogger(__name__)


class Pictures:
    def __init__(self, config: Config):
        from indexer.vision.imaging import photo_formats

        self.folder = config.storage.data_dir / "pictures"
        self.max_megapixels = config.library.max_megapixels
        self.formats = photo_formats(config.library.extensions)

    def face(self, face: FaceRow, photo: Photo) -> Path | None:
        """The thumbnail of ``face`` (a JPEG file), of ``photo`` (``answers.browse.face``); None when its photo
        cannot be read now."""
        target = self.folder / "faces" / f"{face.face_id}.jpg"
        if target.is_file():
            return target
        return target if self._make(photo, {face.face_id: target}, None) else None

    def preview(self, photo: Photo) -> Path | None:
        """The preview of ``photo`` (named after its content: a changed photo gets a new one); None when
        it cannot be read now."""
        target = self.folder / "previews" / f"{photo.photo_id}-{photo.version}.jpg"
        if target.is_file() or self._make(photo, {}, target):
            return target
        return None

    def _make(self, photo: Photo, thumbnails: dict[int, Path], preview: Path | None) -> bool:
        from indexer.outputs.gallery.images import make_pictures
        from indexer.vision.imaging import UnreadablePhoto

        self.folder.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
        try:
            make_pictures(photo, thumbnails, preview, self.max_megapixels, self.formats)
            return True
        except (UnreadablePhoto, OSError) as e:
            log.warning("cannot read %s for its pictures: %s", photo.path, e)
            return False

    def prune(self, face_ids: set[int], previews: set[str]) -> int:
        """Remove the thumbnails of faces no longer in ``face_ids`` and the previews not in ``previews``
        (file names "PHOTO-VERSION.jpg"): faces are biometric data, and what left the index leaves here
        too. Returns how many files were removed."""
        removed = 0
        for folder, keep in (("faces", {f"{face_id}.jpg" for face_id in face_ids}), ("previews", previews)):
            try:
                entries = list(os.scandir(self.folder / folder))
            except FileNotFoundError:
                continue
            for entry in entries:
                if entry.name not in keep:
                    Path(entry.path).unlink(missing_ok=True)
                    removed += 1
        return removed
