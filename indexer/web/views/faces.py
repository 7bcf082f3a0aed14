"""The app's page of the faces nobody named: every one, largest first, each with the person it looks like
most (``naming.likeness``: sure, or unsure past recognition's limit), to tick and name together, to give
their guesses, or to say they are no faces."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from indexer.answers import browse
from indexer.web.forms import page_number
from indexer.web.views.pages import paging

if TYPE_CHECKING:
    from indexer.web.served import Served


def unnamed(served: Served, request: Request) -> Response:
    with served.read() as reader:
        page = page_number(request)
        total, faces = browse.unnamed_page(reader, page)
        likeness = served.suggestions.likeness(browse.change_marks(reader))
        guesses = {face.face_id: likeness.guesses.get(face.face_id) for face in faces} if likeness is not None else None
        return served.page(request, "unnamed.html", total=total, faces=faces, guesses=guesses,
                           done=served.done(request, reader), **paging(request, page, browse.pages(total, browse.UNNAMED_PAGE)))
