"""A static HTML gallery of the index: everyone named, the clusters of unnamed faces, and every photo with
faces, its boxes drawn over it. It opens from disk (``file://``) or from any static web server: no server
of ours, no CDN, relative links only, so the folder can be moved or published.

``build_gallery`` writes or refreshes it. A refresh makes pictures only for faces and photos that have
none yet (a face id never changes its face; a photo's preview is named after its content), rewrites only
the pages whose text changed, and removes the pictures and pages of what the index no longer holds.
Every file is written atomically (a browser never sees half a page) and owner-only, like the data folder.
Names and paths are escaped by the template engine (Jinja2 with autoescaping) wherever they appear.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
import re
import shlex
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from indexer.clock import utcnow
from indexer.errors import IndexerError
from indexer.files import PRIVATE_FOLDER, atomic_file, make_private
from indexer.gallery.content import Content, Face, Photo, read_content

if TYPE_CHECKING:
    from indexer.library import Library

log = logging.getLogger(__name__)

MARKER = ".indexer-gallery"  # in a folder this module wrote; it refuses to write into any other non-empty one
FACES_PER_PAGE = 240  # face thumbnails on one page of a person or a cluster (the rest on further pages)
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
    from indexer import answers
    from indexer.db.reader import Reader
    from indexer.imaging import photo_formats

    started = time.monotonic()
    folder = folder.expanduser().absolute()
    built_before = _claim(folder)
    report = GalleryReport(str(folder))
    config = library.config
    suggestions = _count_suggestions(library)
    with Reader.open(config) as reader:
        content = read_content(reader, answers.status(reader, config), answers.failed_files(reader), suggestions)
    present = {name: _listing(folder / name) for name in FOLDERS}
    previews = _make_pictures(content, folder, present, config.library.max_megapixels,
                              photo_formats(config.library.extensions), report, progress)
    pages = _Pages(folder, report, built_before)
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
    _write_if_changed(folder / MARKER, json.dumps({"written_by": "indexer", "layout": 1, "pages": pages}) + "\n")


def _count_suggestions(library: Library) -> int | None:
    """How many faces `indexer review` would offer (None when they cannot be counted)."""
    from indexer.review import suggestions

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

    from indexer.gallery.images import make_pictures
    from indexer.imaging import UnreadablePhoto

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


class _Pages:
    """Renders the pages and writes those whose text changed. A page is rendered only when what it shows
    differs from the last build's (a key over its values and the templates, kept in the marker file), so
    a refresh costs little more than reading the database, whatever the size of the library."""

    def __init__(self, folder: Path, report: GalleryReport, built_before: dict[str, str]):
        from jinja2 import Environment, PackageLoader, StrictUndefined

        self.folder, self.report, self.built_before = folder, report, built_before
        self.environment = Environment(loader=PackageLoader("indexer.gallery", "templates"), autoescape=True,
                                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
        self.keys: dict[str, str] = {}  # page → key of what it shows now
        package = resources.files("indexer.gallery")
        digest = hashlib.sha256()
        for part in ("templates", "static"):
            for item in sorted((package / part).iterdir(), key=lambda i: i.name):
                digest.update(item.name.encode() + b"\0" + item.read_bytes())
        self._templates = digest.hexdigest()

    def written_in(self, folder: str) -> set[str]:
        """The names of the pages this build has in ``folder`` ("people", "clusters" or "photos")."""
        return {page.split("/", 1)[1] for page in self.keys if page.startswith(folder + "/")}

    def write_all(self, content: Content, previews: dict[int, str]) -> None:
        static = resources.files("indexer.gallery") / "static"
        for name in ("gallery.css", "gallery.js"):
            self._write(Path("static") / name, (static / name).read_text(encoding="utf-8"))
        self._page("index.html", "index.html", root="", people=content.people, clusters=content.clusters,
                   status=content.status, suggestions=content.suggestions,
                   made_at=utcnow().strftime("%Y-%m-%d %H:%M"))
        self._page("errors.html", "errors.html", root="", failed=content.failed)
        for person in content.people:
            self._paged("people", person.person_id, person.faces, "person.html", person=person,
                        find_command=f"indexer find {shlex.quote(person.name)}")
        for cluster in content.clusters:
            self._paged("clusters", cluster.cluster_id, cluster.faces, "cluster.html", cluster=cluster)
        names = {person.person_id: person.name for person in content.people}
        shown_clusters = {cluster.cluster_id for cluster in content.clusters}
        for photo in content.photos.values():
            faces = [_face_on_photo(face, photo, names, shown_clusters) for face in photo.faces]
            self._page(f"photos/{photo.photo_id}.html", "photo.html", root="../", photo=photo, faces=faces,
                       preview=previews.get(photo.photo_id))

    def _paged(self, kind: str, item_id: int, faces: list[Face], template: str, **values: Any) -> None:
        pages = max(1, -(-len(faces) // FACES_PER_PAGE))

        def link(page: int) -> str:
            return f"{item_id}.html" if page == 1 else f"{item_id}-{page}.html"

        for page in range(1, pages + 1):
            chunk = faces[(page - 1) * FACES_PER_PAGE : page * FACES_PER_PAGE]
            self._page(f"{kind}/{link(page)}", template, root="../", faces=chunk, page=page, pages=pages, link=link, **values)

    def _page(self, relative: str, template: str, **values: Any) -> None:
        shown = pickle.dumps(sorted((name, value) for name, value in values.items() if not callable(value)), protocol=5)
        key = hashlib.sha256(f"{self._templates}{template}".encode() + shown).hexdigest()[:24]
        self.keys[relative] = key
        if self.built_before.get(relative) == key and (self.folder / relative).is_file():
            self.report.pages_unchanged += 1
            return
        self._write(Path(relative), self.environment.get_template(template).render(**values))

    def _write(self, relative: Path, text: str) -> None:
        if _write_if_changed(self.folder / relative, text):
            self.report.pages_written += 1
        else:
            self.report.pages_unchanged += 1


@dataclass(frozen=True)
class _FaceOnPhoto:
    """A face as the photo page draws it: its box in % of the photo's width and height."""

    face_id: int
    box: tuple[int, int, int, int]
    kind: str  # "named", "cluster" or "unknown" (the box's colour)
    label: str
    href: str | None
    named: str  # how it got its name, for the table
    left: float
    top: float
    width: float
    height: float


def _face_on_photo(face: Face, photo: Photo, names: dict[int, str], clusters: set[int]) -> _FaceOnPhoto:
    x, y, w, h = face.box
    width, height = photo.width or 1, photo.height or 1
    place = dict(left=round(100 * x / width, 3), top=round(100 * y / height, 3),
                 width=round(100 * w / width, 3), height=round(100 * h / height, 3))
    if face.person_id is not None and face.person_id in names:
        named = "by hand" if face.by_hand else f"automatically, score {face.score:.2f}" if face.score is not None else "automatically"
        return _FaceOnPhoto(face.face_id, face.box, "named", names[face.person_id], f"../people/{face.person_id}.html",
                            named, **place)
    if face.by_hand:
        return _FaceOnPhoto(face.face_id, face.box, "unknown", "nobody named", None, "cleared by hand", **place)
    if face.cluster_id in clusters:
        return _FaceOnPhoto(face.face_id, face.box, "cluster", f"cluster {face.cluster_id}",
                            f"../clusters/{face.cluster_id}.html", "", **place)
    return _FaceOnPhoto(face.face_id, face.box, "unknown", "unknown", None, "", **place)


def _write_if_changed(path: Path, text: str) -> bool:
    """Write ``text`` (UTF-8) to ``path`` atomically unless it already holds exactly that; True if written."""
    data = text.encode("utf-8")
    try:
        if path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    with atomic_file(path) as tmp_name:
        Path(tmp_name).write_bytes(data)
    return True


__all__ = ["GalleryError", "GalleryReport", "build_gallery"]
