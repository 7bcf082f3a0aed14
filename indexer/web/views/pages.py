"""The app's pages of people, clusters, the history and the index: each a page of a listing or one item,
read through ``answers.browse`` and rendered with the gallery's templates."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from importlib import resources
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from indexer.answers import browse
from indexer.web.forms import page_number

if TYPE_CHECKING:
    from indexer.web.served import Served

HOME_TILES = 48  # people and clusters on the home page (all of them on their own pages)
HISTORY_PAGE = 50  # events on a page of the history
NAMES_SUGGESTED = 12  # names offered as the user types
STATIC = {"gallery.css": "indexer.outputs.gallery", "gallery.js": "indexer.outputs.gallery", "serve.js": "indexer.web"}


def paging(request: Request, page: int, total_pages: int) -> dict[str, Any]:
    """What the templates' page links need: this page, how many, and the link of each."""
    path = request.url.path
    kept = [(key, value) for key, value in request.query_params.multi_items() if key not in ("page", "done")]

    def link(number: int) -> str:
        asked = kept + ([("page", str(number))] if number > 1 else [])
        return path + (f"?{urlencode(asked)}" if asked else "")

    return {"page": min(page, total_pages), "pages": total_pages, "link": link}


def home(served: Served, request: Request) -> Response:
    from indexer.answers.status import status

    with served.read() as reader:
        marks = browse.change_marks(reader)
        served.suggestions.current(marks)  # the review queue starts computing now
        people_total, people = browse.people_list(reader, 1, HOME_TILES)
        clusters_total, clusters = browse.clusters_page(reader, 1, HOME_TILES)
        now = status(reader, served.library.config)
        current = served.suggestions.up_to_date(marks)
        return served.page(request, "index.html", status=now, people=people, since=browse.since(reader, now.trained_at),
                           clusters=clusters, more_people=people_total > len(people), unnamed=browse.unnamed_page(reader, 1, 0)[0],
                           more_clusters=clusters_total > len(clusters), suggestions=served.suggestions.peek() if current else None,
                           training=served.training.shown(), done=served.done(request, reader))


def train_page(served: Served, request: Request) -> Response:
    """How training from the app goes (``web.training``): its stage while it runs, its report when done."""
    from indexer.answers.status import status

    with served.read() as reader:
        now = status(reader, served.library.config)
        return served.page(request, "train.html", training=served.training.shown(), status=now,
                           since=browse.since(reader, now.trained_at))


def _listing(served: Served, request: Request, template: str, read: Callable, name: str) -> Response:
    """A page of a listing (people, clusters): ``read(reader, page)`` gives (how many in all, those of the
    page), shown in ``template`` as ``name``."""
    with served.read() as reader:
        page = page_number(request)
        total, items = read(reader, page)
        return served.page(request, template, total=total, **{name: items}, **paging(request, page, browse.pages(total)))


def _faces_page(served: Served, request: Request, read: Callable, template: str, name: str, missing: str,
                **values: Callable) -> Response:
    """A page of one item's faces (a person, a cluster): ``read(reader, id, page)`` gives (the item, the faces
    of the page), or None (then the page says ``missing``); ``values``: more for the template, from the item."""
    item_id = request.path_params[f"{name}_id"]
    with served.read() as reader:
        page = page_number(request)
        found = read(reader, item_id, page)
        if found is None:
            return served.problem(request, missing.format(item_id), 404)
        item, faces = found
        return served.page(request, template, faces=faces, done=served.done(request, reader), **{name: item},
                           **{key: value(item) for key, value in values.items()},
                           **paging(request, page, browse.pages(item.face_count)))


def clusters_list(served: Served, request: Request) -> Response:
    return _listing(served, request, "clusters.html", browse.clusters_page, "clusters")


def cluster_page(served: Served, request: Request) -> Response:
    return _faces_page(served, request, browse.cluster, "cluster.html", "cluster", "cluster {} has no unnamed faces "
                       "(named, or regrouped by the last `indexer index` or `train`)")


def history(served: Served, request: Request) -> Response:
    with served.read() as reader:
        page = page_number(request)
        total, events, undoable = browse.events(reader, page, HISTORY_PAGE)
        return served.page(request, "history.html", events=events, undoable=undoable, done=served.done(request, reader),
                           **paging(request, page, browse.pages(total, HISTORY_PAGE)))


def errors(served: Served, request: Request) -> Response:
    from indexer.answers.photos import failed_files

    with served.read() as reader:
        return served.page(request, "errors.html", failed=failed_files(reader, served.library.config.library))


def names(served: Served, request: Request) -> Response:
    """Up to NAMES_SUGGESTED names of people for a name field: those starting with what was typed first,
    then those containing it, ignoring case and Unicode form."""
    typed = unicodedata.normalize("NFC", request.query_params.get("q", "")).strip().casefold()
    with served.read() as reader:
        everyone = sorted(browse.everyone(reader).values(), key=lambda n: (n.casefold(), n))
    folded = [(unicodedata.normalize("NFC", name).casefold(), name) for name in everyone]
    starting = [name for fold, name in folded if fold.startswith(typed)]
    containing = [name for fold, name in folded if typed in fold and not fold.startswith(typed)]
    return JSONResponse((starting + containing)[:NAMES_SUGGESTED])


def static(served: Served, request: Request) -> Response:
    name = request.path_params["name"]
    if name not in STATIC:
        return Response("not found", status_code=404, media_type="text/plain")
    text = (resources.files(STATIC[name]) / "static" / name).read_text(encoding="utf-8")
    media = "text/css" if name.endswith(".css") else "text/javascript"
    return Response(text, media_type=f"{media}; charset=utf-8", headers={"Cache-Control": "no-cache"})
