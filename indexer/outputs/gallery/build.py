"""Writing the static HTML gallery of the index: everyone named, the clusters of unnamed faces, and every photo with
faces, its boxes drawn over it. It opens from disk (``file://``) or from any static web server: no server
of ours, no CDN, relative links only, so the folder can be moved or published.

``build_gallery`` writes or refreshes it. A refresh makes pictures only for faces and photos that have
none yet (a face id never changes its face; a photo's preview is named after its content), rewrites only
the pages whose text changed, and removes the pictures and pages of what the index no longer holds.
Every file is written atomically (a browser never sees half a page) and owner-only, like the data folder.
Names and paths are escaped by the template engine (Jinja2 with autoescaping) wherever they appear.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from indexer.errors import IndexerError
from indexer.files import GALLERY_MARKER, PRIVATE_FOLDER, make_private
from indexer.answers.browse import Photo
from indexer.outputs.gallery.content import Content, read_content
from indexer.outputs.gallery.pages import Pages, write_if_changed

if TYPE_CHECKING:
    from indexer.library import Library

log = logging.getLogger(__name__)

MARKER = GALLERY_MARKER  # in a folder this module wrote; it refuses to write into any other non-empty one
UNREADABLE_NAMED = 5  # photos that could not be read named one by one in the log; the rest are counted
# The folders it owns inside the gallery, and the names of the files it writes there.
_OWN_FILE = re.compile(r"\d+(-[0-9a-z]+)?\.(html|jpg)")
FOLDERS = ("people", "clusters", "photos", "faces", "previews")


class GalleryError(IndexerError):
    """The gallery cannot be written there."""


@dataclass
class GalleryReport:
    """What a build did: pages written and left as they were, pictures made, files removed, photos whose
    original could not be read (their faces keep the pictures they had), and the seconds it took."""

    folder: str
    pages_written: int = 0
    pages_unchanged: int = 0
    thumbnails_made: int = 0
    previews_made: int = 0
    removed: int = 0
    unreadable: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def build_gallery(library: Library, folder: Path, progress: bool | None = False) -> GalleryReport:
    """Write or refresh the gallery of ``library`` in ``folder`` (created if missing). GalleryError when
    ``folder`` is a file, or a non-empty folder this did not write."""
    from indexer.answers.browse import reading
    from indexer.answers.photos import failed_files
    from indexer.answers.status import status
    from indexer.vision.imaging import photo_formats

    started = time.monotonic()
    folder = folder.expanduser().absolute()
    built_before = _claim(folder)
    report = GalleryReport(str(folder))
    config = library.config
    suggestions = _count_suggestions(library)
    with reading(library) as reader:
        content = read_content(reader, status(reader, config), failed_files(reader, config.library), suggestions)
    present = {name: _listing(folder / name) for name in FOLDERS}
    previews = _make_pictures(content, folder, present, config.library.max_megapixels,
                              photo_formats(config.library.extensions), report, progress)
    pages = Pages(folder, report, built_before)
    pages.write_all(content, previews)
    wanted = {
        "faces": {f"{face_id}.jpg" for photo in content.photos.values() for face_id in _face_ids(photo)},
        "previews": set(previews.values()),
        **{name: pages.written_in(name) for name in ("people", "clusters", "photos")},
    }
    for name in FOLDERS:
        for stale in present[name] - wanted[name]:
            if _OWN_FILE.fullmatch(stale):
                (folder / name / stale).unlink(missing_ok=True)
                report.removed += 1
    _save_marker(folder, pages.keys)
    report.seconds = round(time.monotonic() - started, 2)
    return report


def _claim(folder: Path) -> dict[str, str]:
    """Make ``folder`` the gallery's (owner-only), refusing a file or somebody else's non-empty folder.
    Returns what the last build recorded of its pages (page → key of what it showed; empty if unknown)."""
    if folder.exists() and not folder.is_dir():
        raise GalleryError(f"{folder} is a file, not a folder")
    marker = folder / MARKER
    if folder.is_dir() and not marker.is_file() and any(folder.iterdir()):
        raise GalleryError(f"{folder} is not empty and holds no gallery of indexer's: choose a new or empty folder")
    folder.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
    make_private(folder)
    try:
        pages = json.loads(marker.read_text(encoding="utf-8")).get("pages", {})
    except (OSError, ValueError, AttributeError):
        pages = {}
    _save_marker(folder, {})  # until this build ends, no page is known to be up to date
    return pages if isinstance(pages, dict) else {}


def _save_marker(folder: Path, pages: dict[str, str]) -> None:
    write_if_changed(folder / MARKER, json.dumps({"written_by": "indexer", "layout": 1, "pages": pages}) + "\n")


def _count_suggestions(library: Library) -> int | None:
    """How many faces `indexer review` would offer (None when they cannot be counted)."""
    from indexer.naming.review import suggestions

    try:
        return len(suggestions(library, limit=1_000_000_000))
    except Exception:
        log.debug("could not count the suggestions", exc_info=True)
        return None


def _listing(folder: Path) -> set[str]:
    try:
        with os.scandir(folder) as entries:
            return {entry.name for entry in entries if entry.is_file()}
    except FileNotFoundError:
        return set()


def _face_ids(photo: Photo) -> list[int]:
    return [face.face_id for face in photo.faces]


def _make_pictures(content: Content, folder: Path, present: dict[str, set[str]], max_megapixels: float,
                   formats: tuple[str, ...], report: GalleryReport, progress: bool | None) -> dict[int, str]:
    """Make the thumbnails and previews that are missing, two photos at a time (decoding and resizing
    release the GIL). Returns each photo's preview file name (in ``previews/``); a photo whose original
    cannot be read keeps a preview it had, or has none."""
    from tqdm import tqdm

    from indexer.outputs.gallery.images import make_pictures
    from indexer.vision.imaging import UnreadablePhoto

    earlier: dict[int, str] = {}
    for name in present["previews"]:
        if _OWN_FILE.fullmatch(name):
            earlier[int(name.split("-")[0].split(".")[0])] = name
    previews: dict[int, str] = {}
    work = []
    for photo in content.photos.values():
        preview = f"{photo.photo_id}-{photo.version}.jpg"
        thumbnails = {face_id: folder / "faces" / f"{face_id}.jpg" for face_id in _face_ids(photo)
                      if f"{face_id}.jpg" not in present["faces"]}
        if preview in present["previews"]:
            previews[photo.photo_id] = preview
            if not thumbnails:
                continue
        work.append((photo, thumbnails, None if preview in present["previews"] else preview))

    def make(item: tuple[Photo, dict[int, Path], str | None]) -> tuple[Photo, dict[int, Path], str | None, str | None]:
        photo, thumbnails, preview = item
        try:
            make_pictures(photo, thumbnails, folder / "previews" / preview if preview else None, max_megapixels, formats)
            return photo, thumbnails, preview, None
        except UnreadablePhoto as e:
            return photo, thumbnails, preview, str(e)

    with ThreadPoolExecutor(max_workers=2) as pool:
        done = pool.map(make, work)
        for photo, thumbnails, preview, error in tqdm(done, total=len(work), desc="gallery pictures", unit="photo",
                                                      disable=not progress, leave=False):
            if error is not None:
                if len(report.unreadable) < UNREADABLE_NAMED:
                    log.warning("gallery: cannot read %s (%s); its faces keep the pictures they had", photo.path, error)
                report.unreadable.append(photo.path)
                if photo.photo_id in earlier:
                    previews[photo.photo_id] = earlier[photo.photo_id]
                continue
            report.thumbnails_made += len(thumbnails)
            if preview is not None:
                report.previews_made += 1
                previews[photo.photo_id] = preview
    if len(report.unreadable) > UNREADABLE_NAMED:
        log.warning("gallery: %d more photos could not be read (an unmounted disk?); their faces keep the pictures they had",
                    len(report.unreadable) - UNREADABLE_NAMED)
    return previews
