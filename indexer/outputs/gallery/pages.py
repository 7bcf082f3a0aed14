"""The gallery's pages: rendered from Jinja2 templates (autoescaped: names and paths are escaped wherever
they appear) and written only when what they show changed."""

from __future__ import annotations

import hashlib
import pickle
import shlex
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from indexer.clock import utcnow
from indexer.files import atomic_file
from indexer.answers.browse import PAGE_SIZE, FaceRow, Photo
from indexer.outputs.gallery.content import Content
from indexer.text import time_text

FACES_PER_PAGE = PAGE_SIZE  # face thumbnails on one page of a person or a cluster (the rest on further pages)


def template_environment():
    """The Jinja2 environment of the pages, shared with ``indexer serve`` (``indexer.web``): the same
    templates, autoescaped, so the two never disagree. A template is told where its links go by ``links``
    (``Links``) and, in the live app, gets its forms from ``live`` (None here)."""
    from jinja2 import Environment, PackageLoader, StrictUndefined

    environment = Environment(loader=PackageLoader("indexer.outputs.gallery", "templates"), autoescape=True,
                              undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    environment.filters["years"] = by_year
    return environment


@dataclass(frozen=True)
class YearShown:
    """Faces or photos in a row that were taken in one year (None: when, not known), under its heading."""

    year: int | None
    items: list


def by_year(items: list) -> list[YearShown]:
    """``items`` (in their order: by date) cut where the year they were taken (``item.taken``, a datetime
    or None) changes: one heading a year."""
    shown: list[YearShown] = []
    for item in items:
        year = item.taken.year if item.taken is not None else None
        if not shown or shown[-1].year != year:
            shown.append(YearShown(year, []))
        shown[-1].items.append(item)
    return shown


@dataclass(frozen=True)
class Links:
    """Where the templates' links go, one spelling of each for the gallery and the app: the static gallery's
    files, relative to a page ``root`` folders deep (``Links("../")``), or the app's own paths
    (``APP_LINKS``: root "/", no ".html"). Faces, people, clusters and photos by id, never by a path."""

    root: str
    page: str = ".html"  # what a page's name ends with
    searches: bool = False  # the app answers searches (``search``); the static gallery does not


    def _to(self, place: str) -> str:
        return f"{self.root}{place}{self.page}"

    def home(self) -> str:
        return self._to("index") if self.page else self.root

    def errors(self) -> str:
        return self._to("errors")

    def people(self) -> str:
        return self._to("people")

    def clusters(self) -> str:
        return self._to("clusters")

    def review(self) -> str:
        return self._to("review")

    def history(self) -> str:
        return self._to("history")

    def undo(self) -> str:
        return self._to("undo")

    def person(self, person_id: int) -> str:
        return self._to(f"people/{person_id}")

    def cluster(self, cluster_id: int) -> str:
        return self._to(f"clusters/{cluster_id}")

    def photo(self, photo_id: int, context: str | None = None) -> str:
        """A photo's page; in the app, ``context`` (``browse.Context.key``) says the list it is opened from,
        for its previous and next."""
        from urllib.parse import quote

        return self._to(f"photos/{photo_id}") + (f"?in={quote(context, safe=':/')}" if context and self.searches else "")

    def photos(self, folder: str | None = None) -> str:
        """The app's every photo, newest first (under ``folder``, a path prefix, when given)."""
        from urllib.parse import urlencode

        return f"{self.root}photos" + (f"?{urlencode({'in': folder})}" if folder else "")

    def unnamed(self) -> str:
        return self._to("faces/unnamed")

    def train(self) -> str:
        return self._to("train")

    def context_list(self, context) -> str:
        """Back to the list a photo was opened from (a ``browse.Context``)."""
        if context.kind == "person":
            return self.person(int(context.value))
        if context.kind == "search":
            return f"{self.root}search?{context.value}"
        return self.photos(context.value or None)

    def face(self, face_id: int) -> str:
        return self._to(f"faces/{face_id}")

    def face_picture(self, face_id: int) -> str:
        return f"{self.root}faces/{face_id}.jpg"

    def static(self, name: str) -> str:
        return f"{self.root}static/{name}"

    def search(self, **question: str | list[str]) -> str:
        """The app's search page asking ``question`` (its GET parameters: person, match, not, from, to, …)."""
        from urllib.parse import urlencode

        return f"{self.root}search" + (f"?{urlencode(question, doseq=True)}" if question else "")

    def together(self, name: str, other) -> str:
        """Where "with NAME" on ``name``'s page goes: the photos of both (the app's search), or, in the static
        gallery, the other person's page (``other``: a ``browse.ShownWith``)."""
        return self.search(person=[name, other.name]) if self.searches else self.person(other.person_id)


APP_LINKS = Links("/", "", searches=True)  # ``indexer serve``'s


class Pages:
    """Renders the pages and writes those whose text changed. A page is rendered only when what it shows
    differs from the last build's (a key over its values and the templates, kept in the marker file), so
    a refresh costs little more than reading the database, whatever the size of the library."""

    def __init__(self, folder: Path, report, built_before: dict[str, str]):
        self.folder, self.report, self.built_before = folder, report, built_before
        self.environment = template_environment()
        self.keys: dict[str, str] = {}  # page → key of what it shows now
        package = resources.files("indexer.outputs.gallery")
        digest = hashlib.sha256()
        for part in ("templates", "static"):
            for item in sorted((package / part).iterdir(), key=lambda i: i.name):
                digest.update(item.name.encode() + b"\0" + item.read_bytes())
        self._templates = digest.hexdigest()

    def written_in(self, folder: str) -> set[str]:
        """The names of the pages this build has in ``folder`` ("people", "clusters" or "photos")."""
        return {page.split("/", 1)[1] for page in self.keys if page.startswith(folder + "/")}

    def write_all(self, content: Content, previews: dict[int, str]) -> None:
        static = resources.files("indexer.outputs.gallery") / "static"
        for name in ("gallery.css", "gallery.js"):
            self._write(Path("static") / name, (static / name).read_text(encoding="utf-8"))
        self._page("index.html", "index.html", root="", people=[p for p in content.people if p.person_id not in content.hidden],
                   clusters=content.clusters,
                   status=content.status, suggestions=content.suggestions, more_people=False, more_clusters=False,
                   made_at=utcnow().strftime("%Y-%m-%d %H:%M"))
        self._page("errors.html", "errors.html", root="", failed=content.failed)
        for person in content.people:
            self._paged("people", person.person_id, person.faces, "person.html", person=person,
                        find_command=f"indexer find {shlex.quote(person.name)}")
        for cluster in content.clusters:
            self._paged("clusters", cluster.cluster_id, cluster.faces, "cluster.html", cluster=cluster)
        names = {person.person_id: person.name for person in content.people}
        shown_clusters = {cluster.cluster_id for cluster in content.clusters}
        links = Links("../")
        for photo in content.photos.values():
            faces = [face_on_photo(face, photo, names, shown_clusters, links) for face in photo.faces]
            preview = previews.get(photo.photo_id)
            self._page(f"photos/{photo.photo_id}.html", "photo.html", root="../", photo=photo, faces=faces,
                       preview=f"../previews/{preview}" if preview else None)

    def _paged(self, kind: str, item_id: int, faces: list[FaceRow], template: str, **values: Any) -> None:
        pages = max(1, -(-len(faces) // FACES_PER_PAGE))

        def link(page: int) -> str:
            return f"{item_id}.html" if page == 1 else f"{item_id}-{page}.html"

        for page in range(1, pages + 1):
            chunk = faces[(page - 1) * FACES_PER_PAGE : page * FACES_PER_PAGE]
            self._page(f"{kind}/{link(page)}", template, root="../", faces=chunk, page=page, pages=pages, link=link, **values)

    def _page(self, relative: str, template: str, root: str, **values: Any) -> None:
        values.update(root=root, links=Links(root), live=None)
        shown = pickle.dumps(sorted((name, value) for name, value in values.items() if not callable(value)), protocol=5)
        key = hashlib.sha256(f"{self._templates}{template}".encode() + shown).hexdigest()[:24]
        self.keys[relative] = key
        if self.built_before.get(relative) == key and (self.folder / relative).is_file():
            self.report.pages_unchanged += 1
            return
        self._write(Path(relative), self.environment.get_template(template).render(**values))

    def _write(self, relative: Path, text: str) -> None:
        if write_if_changed(self.folder / relative, text):
            self.report.pages_written += 1
        else:
            self.report.pages_unchanged += 1


@dataclass(frozen=True)
class FaceOnPhoto:
    """A face as the photo page draws it: its box in % of the photo's width and height."""

    face_id: int
    box: tuple[int, int, int, int]
    kind: str  # "named", "cluster", "unknown" or "not-a-face" (the box's colour)
    label: str
    href: str | None
    named: str  # how it got its name, for the table
    drawn: bool  # drawn by hand (a dashed box), not found by the detector
    when: str  # in a video: "at mm:ss"; "" for a photo's face
    on_preview: bool  # its box is on the preview (a video's preview is one frame: the faces seen in it)
    left: float
    top: float
    width: float
    height: float


def face_on_photo(face: FaceRow, photo: Photo, names: dict[int, str], clusters: set[int], links) -> FaceOnPhoto:
    """How the photo page shows ``face``: ``names`` of people by id, the ids of the ``clusters`` shown (a
    face of another is "unknown"), its links from ``links``."""
    x, y, w, h = face.box
    width, height = photo.width or 1, photo.height or 1
    when = f"at {time_text(face.time)}" if face.time is not None else ""
    place = dict(drawn=face.drawn, when=when, on_preview=photo.duration is None or face.time == photo.preview_time,
                 left=round(100 * x / width, 3), top=round(100 * y / height, 3),
                 width=round(100 * w / width, 3), height=round(100 * h / height, 3))
    if face.person_id is not None and face.person_id in names:
        named = "by hand" if face.by_hand else f"automatically, score {face.score:.2f}" if face.score is not None else "automatically"
        return FaceOnPhoto(face.face_id, face.box, "named", names[face.person_id], links.person(face.person_id),
                           named, **place)
    if not face.is_face:
        return FaceOnPhoto(face.face_id, face.box, "not-a-face", "not a face", None, "said to be no face, by hand", **place)
    if face.by_hand:
        return FaceOnPhoto(face.face_id, face.box, "unknown", "nobody named", None, "cleared by hand", **place)
    if face.shown_cluster in clusters:
        return FaceOnPhoto(face.face_id, face.box, "cluster", f"cluster {face.shown_cluster}", links.cluster(face.shown_cluster),
                           "", **place)
    return FaceOnPhoto(face.face_id, face.box, "unknown", "unknown", None, "", **place)


def write_if_changed(path: Path, text: str) -> bool:
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
