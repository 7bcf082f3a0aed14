"""The state the app's rooms share (``Served``): the library, its tokens, the pictures, the review queue, the
templates and the lock that makes its writes one at a time; and how a page is rendered, with its forms
live and the change just made shown above it."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import HTMLResponse

from indexer.answers import browse
from indexer.outputs.gallery.pages import APP_LINKS, template_environment
from indexer.web import forms
from indexer.web.guard import csrf_token
from indexer.web.pictures import Pictures
from indexer.web.queue import SuggestionCache
from indexer.web.training import Training

if TYPE_CHECKING:
    from indexer.library import Library


@dataclass(frozen=True)
class Done:
    """The event an action just made, shown above the next page with its Undo button."""

    id: int
    description: str
    undoable: bool  # in force: the Undo button may revert it


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
        self.csrf = csrf_token(token)
        self.pictures = Pictures(library.config)
        self.suggestions = SuggestionCache(library)
        self.training = Training(library)
        self.templates = template_environment()
        self.links = APP_LINKS
        self.writing = threading.Lock()

    def prune_pictures(self) -> int:
        """Remove the pictures of faces and photos the index no longer holds (``Pictures.prune``)."""
        with self.read() as reader:
            face_ids, previews = browse.picture_keys(reader)
        return self.pictures.prune(face_ids, previews)

    def read(self):
        """One consistent read of the index (``answers.browse.reading``)."""
        return browse.reading(self.library)

    def done(self, request: Request, reader) -> Done | None:
        """The change the page's address says was just made (``?done=``), to show with its Undo."""
        event_id = forms.done_event(request)
        shown = browse.event(reader, event_id) if event_id is not None else None
        return Done(shown.id, shown.description, shown.in_force) if shown is not None else None

    def page(self, request: Request, template: str, status_code: int = 200, done: Done | None = None,
             **values: Any) -> HTMLResponse:
        """``template`` rendered with ``values``, its forms live; ``done``: the change just made, shown above."""
        html = self.templates.get_template(template).render(links=self.links, live=Live(self.csrf, done), **values)
        return HTMLResponse(html, status_code=status_code)

    def problem(self, request: Request, message: str, status_code: int = 400) -> HTMLResponse:
        return self.page(request, "problem.html", status_code=status_code, message=message, back=_back(request))


def _back(request: Request) -> str:
    """Where a problem page's Back link goes: for a change, the page its form is on; else home."""
    path = request.url.path
    if request.method != "POST" or path.startswith("/faces/"):
        return "/"
    return {"/undo": "/history", "/review/answer": "/review"}.get(path, path.rsplit("/", 1)[0])
