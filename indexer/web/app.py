"""The web app of ``indexer serve`` (Starlette): pages to read, forms to name, each naming one event of the
history.

Safety, in one place (``Guard``):
- every request needs the access token: given once in the link ``indexer serve`` prints (``?token=``), it
  becomes a cookie (HttpOnly, SameSite=Strict) and the address bar loses it;
- the Host header must be the address served (a web page elsewhere cannot reach it by DNS rebinding);
- a change is a POST carrying the page's CSRF token, refused when it comes from another origin;
- pages forbid scripts, styles, frames and images from anywhere else (Content-Security-Policy), are
  never cached, and send a referrer only to the app itself; names and paths are escaped by the templates;
- a URL names faces, people, clusters and photos by id: no path from a request reaches the disk.

Writes go through the CLI's own functions (``naming``), one at a time; each page is
read in one consistent read (``db.reader.snapshot``).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from sqlalchemy.exc import OperationalError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from indexer.db import reads
from indexer.db.reader import snapshot
from indexer.errors import AlreadyRunning, IndexerError
from indexer.ids import is_id, whole_number
from indexer.outputs.gallery.pages import face_on_photo, template_environment
from indexer.text import time_text
from indexer.web import content
from indexer.web.pictures import Pictures

if TYPE_CHECKING:
    from indexer.library import Library

log = logging.getLogger(__name__)

COOKIE = "indexer-token"
MAX_BODY = 64 * 1024  # bytes: a form of names and ids, never more
NAMES_SUGGESTED = 12  # names offered as the user types
UPCOMING = 11  # suggestions shown after the current one on the review page
STATIC = {"gallery.css": "indexer.outputs.gallery", "gallery.js": "indexer.outputs.gallery", "serve.js": "indexer.web"}
SECURITY_HEADERS = {
    # Style attributes are allowed (the boxes are placed by them), style elements and scripts only from here.
    "Content-Security-Policy": "default-src 'none'; img-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; "
                               "script-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
                               "base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    # Not "no-referrer": with it a browser sends "Origin: null" with the app's own forms, which are refused.
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


class WebLinks:
    """Where the templates' links go in the app (the gallery's are files: ``pages.FileLinks``)."""

    def home(self) -> str:
        return "/"

    def errors(self) -> str:
        return "/errors"

    def people(self) -> str:
        return "/people"

    def clusters(self) -> str:
        return "/clusters"

    def review(self) -> str:
        return "/review"

    def history(self) -> str:
        return "/history"

    def undo(self) -> str:
        return "/undo"

    def person(self, person_id: int) -> str:
        return f"/people/{person_id}"

    def cluster(self, cluster_id: int) -> str:
        return f"/clusters/{cluster_id}"

    def photo(self, photo_id: int) -> str:
        return f"/photos/{photo_id}"

    def face(self, face_id: int) -> str:
        return f"/faces/{face_id}"

    def face_picture(self, face_id: int) -> str:
        return f"/faces/{face_id}.jpg"

    def static(self, name: str) -> str:
        return f"/static/{name}"


@dataclass(frozen=True)
class Done:
    """The event an action just made, shown above the next page with its Undo button."""

    id: int
    description: str
    undoable: bool  # still the newest event `undo` would revert


@dataclass(frozen=True)
class Live:
    """What the templates need for their forms."""

    csrf: str
    done: Done | None = None


class Served:
    """The app's state: the library, its tokens, pictures, the review queue, and the lock that makes
    its writes one at a time."""

    def __init__(self, library: Library, token: str):
        self.library = library
        self.token = token
        self.csrf = hmac.new(token.encode(), b"csrf", hashlib.sha256).hexdigest()
        self.pictures = Pictures(library.config)
        self.suggestions = content.SuggestionCache(library)
        self.templates = template_environment()
        self.links = WebLinks()
        self.writing = threading.Lock()

    def prune_pictures(self) -> int:
        """Remove the pictures of faces and photos the index no longer holds (``Pictures.prune``)."""
        from indexer.outputs.gallery.content import photo_version

        with self.read() as reader:
            face_ids, photos = reads.picture_keys(reader)
        previews = {f"{photo_id}-{photo_version(*version)}.jpg" for photo_id, *version in photos}
        return self.pictures.prune(set(face_ids), previews)

    def read(self):
        """One consistent read of the index (``db.reader.snapshot``)."""
        return snapshot(self.library.config, self.library.session)

    def page(self, request: Request, template: str, status_code: int = 200, done: Done | None = None,
             **values: Any) -> HTMLResponse:
        """``template`` rendered with ``values``, its forms live; ``done``: the change just made, shown above."""
        html = self.templates.get_template(template).render(links=self.links, live=Live(self.csrf, done), **values)
        return HTMLResponse(html, status_code=status_code)

    def problem(self, request: Request, message: str, status_code: int = 400) -> HTMLResponse:
        return self.page(request, "problem.html", status_code=status_code, message=message, back=_back(request))


def make_app(library: Library, token: str, hosts: list[str]) -> Starlette:
    """The app over ``library``, answering requests that carry ``token`` and name one of ``hosts`` (host
    names, without port) in their Host header."""
    served = Served(library, token)

    def view(function: Callable[..., Response]) -> Callable:
        """A page: read in a worker thread (the database is blocking), refusing ids out of range."""

        async def endpoint(request: Request) -> Response:
            for value in request.path_params.values():
                if isinstance(value, int) and not is_id(value):
                    return served.problem(request, "no such page", 404)
            try:
                return await run_in_threadpool(function, served, request)
            except IndexerError as e:
                return served.problem(request, str(e))

        return endpoint

    def action(function: Callable[..., str]) -> Callable:
        """A change: the form checked (CSRF), then ``function(served, request, form)`` in a worker thread,
        one at a time; it returns where to go next. IndexerError is shown as a page saying why."""

        async def endpoint(request: Request) -> Response:
            for value in request.path_params.values():
                if isinstance(value, int) and not is_id(value):
                    return served.problem(request, "no such face, person, cluster or photo", 404)
            form = await request.form()
            if not hmac.compare_digest(str(form.get("csrf", "")).encode(), served.csrf.encode()):
                return served.problem(request, "this form is out of date or not from this app (no valid CSRF token): "
                                      "reload the page and try again", 403)

            def one_at_a_time() -> str:  # waits in the worker thread, never in the event loop
                with served.writing:
                    return function(served, request, form)

            try:
                where = await run_in_threadpool(one_at_a_time)
            except AlreadyRunning as e:  # drawing a face while a run holds the writer lock
                return served.problem(request, str(e), 409)
            except IndexerError as e:
                return served.problem(request, str(e))
            except OperationalError as e:  # the database busy beyond its timeout (a nightly run committing), say
                log.warning("serve: %s", e)
                return served.problem(request, "the index is busy (another command is writing to it): try again", 503)
            return RedirectResponse(where, status_code=303)

        return endpoint

    routes = [
        Route("/", view(home)),
        Route("/people", view(people_list)),
        Route("/people/{person_id:int}", view(person_page)),
        Route("/people/{person_id:int}/rename", action(rename), methods=["POST"]),
        Route("/people/{person_id:int}/merge", action(merge), methods=["POST"]),
        Route("/people/{person_id:int}/split", action(split), methods=["POST"]),
        Route("/clusters", view(clusters_list)),
        Route("/clusters/{cluster_id:int}", view(cluster_page)),
        Route("/clusters/{cluster_id:int}/name", action(name_cluster), methods=["POST"]),
        Route("/photos/{photo_id:int}", view(photo_page)),
        Route("/photos/{photo_id:int}/preview.jpg", view(preview)),
        Route("/photos/{photo_id:int}/draw", action(draw_face), methods=["POST"]),
        Route("/faces/{face_id:int}.jpg", view(face_picture)),
        Route("/faces/{face_id:int}/name", action(name_face), methods=["POST"]),
        Route("/review", view(review)),
        Route("/review/answer", action(answer), methods=["POST"]),
        Route("/history", view(history)),
        Route("/undo", action(undo), methods=["POST"]),
        Route("/errors", view(errors)),
        Route("/names", view(names)),
        Route("/static/{name:str}", view(static)),
    ]
    middleware = [
        Middleware(TrustedHostMiddleware, allowed_hosts=hosts),
        Middleware(BaseHTTPMiddleware, dispatch=Guard(served).dispatch),
        Middleware(BodyLimit, limit=MAX_BODY),
    ]
    app = Starlette(routes=routes, middleware=middleware)
    app.state.served = served
    return app


class BodyLimit:
    """A request's body is read here whole, up to ``limit`` bytes (a form of names and ids): one larger,
    whether it says its length or is sent in chunks, is answered 413 before anything else reads it."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        said = dict(scope["headers"]).get(b"content-length", b"0")
        body, more = b"", not said.isdigit() or int(said) <= self.limit
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            more = message.get("more_body", False) and len(body) <= self.limit
        if len(body) > self.limit or not said.isdigit() or int(said) > self.limit:
            refusal = HTMLResponse(f"<!doctype html><title>indexer</title><p>Refused: the form is too large (at most "
                                   f"{self.limit // 1024} KB).</p>", status_code=413)
            await refusal(scope, receive, send)
            return
        sent = False

        async def replay():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


class Guard:
    """The access token (a cookie set from the link) and the origin of changes, for every request."""

    def __init__(self, served: Served):
        self.served = served

    async def dispatch(self, request: Request, call_next) -> Response:
        response = self._refusal(request)
        if response is None:
            given = request.query_params.get("token")
            if given is not None:  # the right token (checked above): keep it as a cookie, out of the address bar
                rest = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "token"])
                response = RedirectResponse(request.url.path + (f"?{rest}" if rest else ""), status_code=303)
                response.set_cookie(COOKIE, self.served.token, httponly=True, samesite="strict", path="/")
            else:
                response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    def _refusal(self, request: Request) -> Response | None:
        token = request.query_params.get("token") or request.cookies.get(COOKIE) or ""
        if not hmac.compare_digest(token.encode(), self.served.token.encode()):
            return HTMLResponse("<!doctype html><title>indexer</title><p>This needs the access token: open the link "
                                "<code>indexer serve</code> printed.</p>", status_code=403)
        if request.method not in ("GET", "HEAD"):
            origin = request.headers.get("origin")
            own = f"{request.url.scheme}://{request.headers.get('host', '')}"
            if origin is not None and origin != own or request.headers.get("sec-fetch-site") in ("cross-site", "same-site"):
                return HTMLResponse("<!doctype html><title>indexer</title><p>Refused: a change from another site.</p>",
                                    status_code=403)
        return None


# --- pages -------------------------------------------------------------------------------------------

def _page_number(request: Request) -> int:
    return whole_number(request.query_params.get("page"), 10**9) or 1


def _paging(request: Request, page: int, total_pages: int) -> dict[str, Any]:
    path = request.url.path
    return {"page": min(page, total_pages), "pages": total_pages,
            "link": lambda number: path if number == 1 else f"{path}?page={number}"}


def _done(served: Served, request: Request, reader) -> Done | None:
    event_id = whole_number(request.query_params.get("done"))
    if event_id is None:
        return None
    event = reads.name_event(reader, event_id)
    if event is None:
        return None
    event_id, action, description, undone_by = event
    return Done(event_id, description, undone_by is None and reads.undoable_event(reader) == event_id)


def home(served: Served, request: Request) -> Response:
    from indexer.answers.status import status

    with served.read() as reader:
        served.suggestions.current(reads.change_marks(reader))  # the review queue starts computing now
        people_total, people = content.people_page(reader, 1, content.HOME_TILES)
        clusters_total, clusters = content.clusters_page(reader, 1, content.HOME_TILES)
        return served.page(request, "index.html", status=status(reader, served.library.config), people=people,
                           clusters=clusters, more_people=people_total > len(people),
                           more_clusters=clusters_total > len(clusters), suggestions=served.suggestions.peek(),
                           done=_done(served, request, reader))


def _listing(served: Served, request: Request, template: str, read: Callable, name: str) -> Response:
    """A page of a listing (people, clusters): ``read(reader, page)`` gives (how many in all, those of the
    page), shown in ``template`` as ``name``."""
    with served.read() as reader:
        page = _page_number(request)
        total, items = read(reader, page)
        return served.page(request, template, total=total, **{name: items}, **_paging(request, page, content.pages(total)))


def people_list(served: Served, request: Request) -> Response:
    return _listing(served, request, "people.html", content.people_page, "people")


def person_page(served: Served, request: Request) -> Response:
    import shlex

    person_id = request.path_params["person_id"]
    with served.read() as reader:
        page = _page_number(request)
        found = content.person(reader, person_id, page)
        if found is None:
            return served.problem(request, f"no person {person_id}: they were merged or removed", 404)
        summary, faces = found
        return served.page(request, "person.html", person=summary, faces=faces,
                           find_command=f"indexer find {shlex.quote(summary.name)}", done=_done(served, request, reader),
                           **_paging(request, page, content.pages(summary.face_count)))


def clusters_list(served: Served, request: Request) -> Response:
    return _listing(served, request, "clusters.html", content.clusters_page, "clusters")


def cluster_page(served: Served, request: Request) -> Response:
    cluster_id = request.path_params["cluster_id"]
    with served.read() as reader:
        page = _page_number(request)
        found = content.cluster(reader, cluster_id, page)
        if found is None:
            return served.problem(request, f"cluster {cluster_id} has no unnamed faces (named, or regrouped by the last "
                                  "`indexer index` or `train`)", 404)
        summary, faces = found
        return served.page(request, "cluster.html", cluster=summary, faces=faces,
                           **_paging(request, page, content.pages(summary.face_count)))


def photo_page(served: Served, request: Request) -> Response:
    photo_id = request.path_params["photo_id"]
    with served.read() as reader:
        found = content.photo(reader, photo_id)
        if found is None:
            return served.problem(request, f"no photo {photo_id} with faces in the index", 404)
        photo, names, clusters = found
        faces = [face_on_photo(face, photo, names, clusters, served.links) for face in photo.faces]
        return served.page(request, "photo.html", photo=photo, faces=faces,
                           preview=f"/photos/{photo.photo_id}/preview.jpg?v={photo.version}",
                           done=_done(served, request, reader))


def preview(served: Served, request: Request) -> Response:
    with served.read() as reader:
        found = content.photo(reader, request.path_params["photo_id"])
    picture = served.pictures.preview(found[0]) if found is not None else None
    return _picture(picture)


def face_picture(served: Served, request: Request) -> Response:
    with served.read() as reader:
        return _picture(served.pictures.face(reader, request.path_params["face_id"]))


def _picture(path) -> Response:
    if path is None:
        return Response("no such picture, or its photo cannot be read now", status_code=404, media_type="text/plain")
    return FileResponse(path, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"})


def review(served: Served, request: Request) -> Response:
    offset = whole_number(request.query_params.get("offset"), 10**9) or 0
    with served.read() as reader:
        marks = reads.change_marks(reader)
        done = _done(served, request, reader)
        queue = served.suggestions.current(marks)
        if queue is None:
            return served.page(request, "review.html", computing=True, suggestion=None, upcoming=[], total=0, done=done)
        # The queue may be older than the index: each suggestion shown is checked against it as it is now.
        shown = queue[offset : offset + 4 * (1 + UPCOMING)]
        open_now = reads.still_open(reader, [(s.face_id, s.person) for s in shown])
    still = {(face_id, name): photo_id for face_id, name, photo_id in open_now}
    items = [(offset + position, _SuggestionShown(s.face_id, still[s.face_id, s.person], s.photo, s.person, s.distance,
                                                  f"at {time_text(s.time)}" if s.time is not None else ""))
             for position, s in enumerate(shown) if (s.face_id, s.person) in still][: 1 + UPCOMING]
    position = items[0][0] if items else offset
    return served.page(request, "review.html", computing=not served.suggestions.up_to_date(marks),
                       suggestion=items[0][1] if items else None, upcoming=[item for _, item in items[1:]],
                       total=len(queue), offset=position, skip=f"/review?offset={position + 1}", done=done)


@dataclass(frozen=True)
class _SuggestionShown:
    face_id: int
    photo_id: int | None
    photo: str
    person: str
    distance: float
    when: str


def history(served: Served, request: Request) -> Response:
    from indexer.answers.status import history as name_history

    size = 50
    with served.read() as reader:
        page = _page_number(request)
        total = reads.event_count(reader)
        events = name_history(reader, size, (page - 1) * size)
        return served.page(request, "history.html", events=events, undoable=reads.undoable_event(reader),
                           done=_done(served, request, reader), **_paging(request, page, content.pages(total, size)))


def errors(served: Served, request: Request) -> Response:
    from indexer.answers.photos import failed_files

    with served.read() as reader:
        return served.page(request, "errors.html", failed=failed_files(reader, served.library.config.library))


def names(served: Served, request: Request) -> Response:
    """Up to NAMES_SUGGESTED names of people for a name field: those starting with what was typed first,
    then those containing it, ignoring case and Unicode form."""
    import unicodedata

    typed = unicodedata.normalize("NFC", request.query_params.get("q", "")).strip().casefold()
    with served.read() as reader:
        everyone = sorted(reads.people_names(reader).values(), key=lambda n: (n.casefold(), n))
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


# --- actions: each one event of the history, through the CLI's own functions ---------------------------

def _text(form: FormData, field: str) -> str:
    value = form.get(field, "")
    return value if isinstance(value, str) else ""


def _ids(form: FormData, field: str) -> list[int]:
    found = []
    for value in form.getlist(field):
        number = whole_number(value)
        if number is None:
            raise IndexerError(f"not a face id: {str(value)[:40]!r}")
        found.append(number)
    return found


def _after(path: str, event: int | None, **query: Any) -> str:
    values = {**query, **({"done": event} if event is not None else {})}
    return path + (f"?{urlencode(values)}" if values else "")


def _who(served: Served, name: str) -> int | str:
    """Whom a name typed in a form means: the id of the person called so, else the name (made when new)."""
    from indexer.answers.people import person_called
    from indexer.naming.names import PersonNotFound

    with served.read() as reader:
        try:
            return person_called(reader, name)[0]
        except PersonNotFound:
            return name


def _person_id(served: Served, name: str) -> int:
    """The id of the person called ``name``; PersonNotFound, naming the closest names, when nobody is."""
    from indexer.answers.people import person_called

    with served.read() as reader:
        return person_called(reader, name)[0]


def rename(served: Served, request: Request, form: FormData) -> str:
    from indexer.naming.people import rename as rename_person

    person_id = request.path_params["person_id"]
    renamed = rename_person(served.library, person_id, _text(form, "name"))
    return _after(f"/people/{person_id}", renamed.event)


def merge(served: Served, request: Request, form: FormData) -> str:
    from indexer.naming.people import merge as merge_people

    result = merge_people(served.library, request.path_params["person_id"], _person_id(served, _text(form, "into")))
    return _after(f"/people/{result.target_id}", result.event)


def split(served: Served, request: Request, form: FormData) -> str:
    from indexer.naming.people import split as split_person

    person_id = request.path_params["person_id"]
    into = _text(form, "into").strip() or None
    result = split_person(served.library, person_id, _ids(form, "face"), _who(served, into) if into else None)
    return _after(f"/people/{person_id}", result.event)


def name_cluster(served: Served, request: Request, form: FormData) -> str:
    from indexer.naming.people import name_cluster as name_all

    result = name_all(served.library, request.path_params["cluster_id"], _who(served, _text(form, "name")),
                      _ids(form, "except"), include_unsure=_text(form, "all") == "1")
    return _after(f"/people/{result.person_id}", result.event)


def name_face(served: Served, request: Request, form: FormData) -> str:
    from indexer.naming.people import label_face

    face_id = request.path_params["face_id"]
    clear = _text(form, "do") == "clear"
    name = _text(form, "name")
    if not clear and not name.strip():
        raise IndexerError("type the person's name, or press Nobody")
    labelled = label_face(served.library, face_id, None if clear else _who(served, name))
    with served.read() as reader:
        photo_id = reads.photo_of_face(reader, face_id)
    return _after(f"/photos/{photo_id}", labelled.event) + f"#face-{face_id}"


def draw_face(served: Served, request: Request, form: FormData) -> str:
    from indexer.naming.drawn import add_face, parse_box

    photo_id = request.path_params["photo_id"]
    box = parse_box(",".join(_text(form, field) for field in ("x", "y", "w", "h")))
    at = _text(form, "at")
    try:
        seconds = float(at) if at else None
    except ValueError:
        raise IndexerError(f"not a time in seconds: {at[:40]!r}") from None
    name = _text(form, "name").strip() or None
    added = add_face(served.library, photo_id, box, _who(served, name) if name else None, seconds)
    return _after(f"/photos/{photo_id}", added.event) + f"#face-{added.face_id}"


def answer(served: Served, request: Request, form: FormData) -> str:
    from indexer.naming.people import confirm, reject

    faces = _ids(form, "face")
    if len(faces) != 1:
        raise IndexerError("answer one face at a time")
    face_id, person, reply = faces[0], _text(form, "person"), _text(form, "answer")
    offset = whole_number(_text(form, "offset"), 10**9) or 0
    with served.read() as reader:
        before = reads.change_marks(reader)
    if reply == "yes":
        answered = confirm(served.library, face_id, _who(served, person))
    elif reply == "no":
        answered = reject(served.library, face_id, _person_id(served, person))
    else:
        raise IndexerError("answer yes or no")
    with served.read() as reader:
        after = reads.change_marks(reader)
    served.suggestions.answered(face_id, before, after)
    return _after("/review", answered.event, offset=offset)


def undo(served: Served, request: Request, form: FormData) -> str:
    """Undo the change the page showed (``event``): refused when it is not in force or a later change (on
    another page, or from the CLI) touched the same names, so a click never reverts or overwrites something
    the user did not see."""
    from indexer.naming.undo import CannotUndo, undo_event

    event = whole_number(_text(form, "event"))
    if event is None:
        raise CannotUndo(f"#{_text(form, 'event')[:20]} is no longer the newest change of its names, nor any change "
                         "that can be undone (see the history); nothing was undone")
    return _after("/history", undo_event(served.library, event).undo_id)


def _back(request: Request) -> str:
    """Where a problem page's Back link goes: for a change, the page its form is on; else home."""
    path = request.url.path
    if request.method != "POST" or path.startswith("/faces/"):
        return "/"
    return {"/undo": "/history", "/review/answer": "/review"}.get(path, path.rsplit("/", 1)[0])
