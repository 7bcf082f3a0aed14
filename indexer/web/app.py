"""The web app of ``indexer serve`` (Starlette), in rooms by job: ``guard`` (the access token, CSRF, origin,
body limits, headers: what every request passes through), ``forms`` (what a request asks, read once),
``views`` (pages: the read model ``answers.browse`` to the gallery's templates), ``actions`` (one call into
``naming`` each, one event of the history), ``served`` (the state they share), ``queue`` (the review queue)
and ``pictures``. This module assembles them: the routes and the middleware. The web package reads the
index only through ``answers.browse`` and changes names only through ``naming``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy.exc import OperationalError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from indexer.errors import AlreadyRunning, IndexerError
from indexer.ids import is_id
from indexer.web import actions, forms
from indexer.web.guard import MAX_BODY, BodyLimit, Guard, is_own_form
from indexer.web.served import Served
from indexer.web.views import faces, pages, people, photos, review, search

if TYPE_CHECKING:
    from indexer.library import Library

log = logging.getLogger(__name__)

__all__ = ["make_app", "MAX_BODY"]


def make_app(library: Library, token: str, hosts: list[str]) -> Starlette:
    """The app over ``library``, answering requests that carry ``token`` and name one of ``hosts`` (host
    names, without port) in their Host header."""
    served = Served(library, token)

    def view(function: Callable[..., Response]) -> Callable:
        """A page: read in a worker thread (the database is blocking), refusing ids out of range."""

        async def endpoint(request: Request) -> Response:
            if not _ids_in_range(request):
                return served.problem(request, "no such page", 404)
            try:
                return await run_in_threadpool(function, served, request)
            except IndexerError as e:
                return served.problem(request, str(e))

        return endpoint

    def action(function: Callable[..., str]) -> Callable:
        """A change: ids in range, the form checked (CSRF), then ``function(served, request, form)`` in a worker
        thread, one at a time; it returns where to go next. IndexerError is shown as a page saying why."""

        async def endpoint(request: Request) -> Response:
            if not _ids_in_range(request):
                return served.problem(request, "no such face, person, cluster or photo", 404)
            form = forms.Form(await request.form())
            if not is_own_form(form.text("csrf"), served.csrf):
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
        Route("/", view(pages.home)),
        Route("/people", view(people.people_list)),
        Route("/people/{person_id:int}", view(people.person_page)),
        Route("/people/{person_id:int}/rename", action(actions.rename), methods=["POST"]),
        Route("/people/{person_id:int}/merge", view(people.merge_page)),
        Route("/people/{person_id:int}/merge", action(actions.merge), methods=["POST"]),
        Route("/people/{person_id:int}/shown", action(actions.show_person), methods=["POST"]),
        Route("/people/{person_id:int}/cover", action(actions.cover), methods=["POST"]),
        Route("/people/{person_id:int}/split", action(actions.split), methods=["POST"]),
        Route("/clusters", view(pages.clusters_list)),
        Route("/clusters/{cluster_id:int}", view(pages.cluster_page)),
        Route("/clusters/{cluster_id:int}/name", action(actions.name_cluster), methods=["POST"]),
        Route("/photos", view(photos.timeline)),
        Route("/photos/{photo_id:int}", view(photos.photo_page)),
        Route("/photos/{photo_id:int}/preview.jpg", view(photos.preview)),
        Route("/photos/{photo_id:int}/draw", action(actions.draw_face), methods=["POST"]),
        Route("/faces/{face_id:int}.jpg", view(photos.face_picture)),
        Route("/faces/unnamed", view(faces.unnamed)),
        Route("/faces/unnamed", action(actions.name_unnamed), methods=["POST"]),
        Route("/faces/{face_id:int}/name", action(actions.name_face), methods=["POST"]),
        Route("/review", view(review.review)),
        Route("/review/answer", action(actions.answer), methods=["POST"]),
        Route("/history", view(pages.history)),
        Route("/train", view(pages.train_page)),
        Route("/train", action(actions.train), methods=["POST"]),
        Route("/undo", action(actions.undo), methods=["POST"]),
        Route("/search", view(search.search)),
        Route("/errors", view(pages.errors)),
        Route("/names", view(pages.names)),
        Route("/static/{name:str}", view(pages.static)),
    ]
    middleware = [
        Middleware(TrustedHostMiddleware, allowed_hosts=hosts),
        Middleware(BaseHTTPMiddleware, dispatch=Guard(token).dispatch),
        Middleware(BodyLimit, limit=MAX_BODY),
    ]
    app = Starlette(routes=routes, middleware=middleware)
    app.state.served = served
    return app


def _ids_in_range(request: Request) -> bool:
    """Whether every id in the address is one (1 up to 2⁶³ − 1): a larger one names nothing."""
    return all(is_id(value) for value in request.path_params.values() if isinstance(value, int))
