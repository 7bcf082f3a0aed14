"""The app's review: faces nobody named that look like somebody named by hand, one at a time, answered
with yes or no (``actions.answer``), the queue kept in the background (``web.queue``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from indexer.answers import browse
from indexer.text import time_text
from indexer.web.forms import offset as offset_of

if TYPE_CHECKING:
    from indexer.web.served import Served

UPCOMING = 11  # suggestions shown after the current one on the review page


@dataclass(frozen=True)
class SuggestionShown:
    face_id: int
    photo_id: int | None
    photo: str
    person: str
    words: str  # "looks like Ann (sure)"
    when: str
    person_id: int = 0
    person_face: int | None = None  # a face of the person suggested, to compare with


def review(served: Served, request: Request) -> Response:
    offset = offset_of(request)
    with served.read() as reader:
        marks = browse.change_marks(reader)
        done = served.done(request, reader)
        queue = served.suggestions.current(marks)
        if queue is None:
            return served.page(request, "review.html", computing=True, suggestion=None, upcoming=[], total=0, done=done)
        # The queue may be older than the index: each suggestion shown is checked against it as it is now.
        shown = queue[offset : offset + 4 * (1 + UPCOMING)]
        open_now = browse.still_open(reader, [(s.face_id, s.person) for s in shown])
        still = {(face_id, name): photo_id for face_id, name, photo_id in open_now}
        roots = browse.library_roots(reader, served.library.config.library.roots)
        items = [(offset + position, SuggestionShown(
                     s.face_id, still[s.face_id, s.person], browse.shown_path(s.photo, roots),
                     s.person, s.words, f"at {time_text(s.time)}" if s.time is not None else "", s.person_id))
                 for position, s in enumerate(shown) if (s.face_id, s.person) in still][: 1 + UPCOMING]
        if items:
            first = items[0][1]
            cover = browse.person_cover(reader, first.person_id)
            items[0] = (items[0][0], SuggestionShown(**{**first.__dict__, "person_face": cover}))
    position = items[0][0] if items else offset
    return served.page(request, "review.html", computing=not served.suggestions.up_to_date(marks),
                       suggestion=items[0][1] if items else None, upcoming=[item for _, item in items[1:]],
                       total=len(queue), offset=position, skip=f"/review?offset={position + 1}", done=done)
