"""The app's pages of people: the list (search as you type, sort, the hidden ones), a person (their faces by
date, who is with them, who may be the same person), and the merge a rename to a taken name offers."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from indexer.answers import browse
from indexer.web.forms import page_number
from indexer.web.views.pages import paging

if TYPE_CHECKING:
    from indexer.web.served import Served

ORDERS = {"name": "by name", "faces": "most faces first", "seen": "last seen first"}


def people_list(served: Served, request: Request) -> Response:
    asked = request.query_params
    order = asked.get("sort") if asked.get("sort") in ORDERS else "name"
    containing, hidden = (asked.get("q") or "").strip()[:200], asked.get("hidden") == "1"
    with served.read() as reader:
        page = page_number(request)
        total, people = browse.people_list(reader, page, order=order, containing=containing or None, hidden=hidden)
        hidden_ids = browse.hidden_people(reader) if hidden else set()
        return served.page(request, "people.html", total=total, people=people, order=order, orders=ORDERS,
                           containing=containing, hidden=hidden, hidden_ids=hidden_ids,
                           hidden_total=browse.hidden_count(reader), **paging(request, page, browse.pages(total)))


def person_page(served: Served, request: Request) -> Response:
    person_id = request.path_params["person_id"]
    with served.read() as reader:
        page = page_number(request)
        found = browse.person(reader, person_id, page)
        if found is None:
            return served.problem(request, f"no person {person_id}: they were merged or removed", 404)
        person, faces = found
        likeness = served.suggestions.likeness(browse.change_marks(reader))
        alike = likeness.alike(person_id) if likeness is not None else None
        alike = [item for item in alike or [] if item.kind == "person" or item.faces >= browse.MIN_CLUSTER_SIZE] \
            if alike is not None else None
        return served.page(request, "person.html", person=person, faces=faces, done=served.done(request, reader),
                           shown=browse.person_shown(reader, person_id), alike=alike,
                           context=f"person:{person_id}", find_command=f"indexer find {shlex.quote(person.name)}",
                           **paging(request, page, browse.pages(person.face_count)))


def merge_page(served: Served, request: Request) -> Response:
    """What merging this person into another would do (``?into=ID``), with the button that does it: the
    faces that move, and the photos where the one person would then be twice."""
    from indexer.ids import whole_number

    giving, keeping = request.path_params["person_id"], whole_number(request.query_params.get("into"))
    with served.read() as reader:
        preview = browse.merge_preview(reader, giving, keeping) if keeping is not None else None
        if preview is None:
            return served.problem(request, "no such pair of people to merge (one was merged or removed)", 404)
        return served.page(request, "merge.html", preview=preview)
