"""The app's search page: `indexer find`'s question (``answers.query``) asked in a form, its answer a page of
photo tiles with their dates, under year headings, the very photos `find` lists, in its order."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from indexer.answers import browse
from indexer.answers.query import Query, QueryError
from indexer.errors import IndexerError
from indexer.web.forms import page_number, search_question

if TYPE_CHECKING:
    from indexer.web.served import Served

FIELDS = ("person", "match", "not", "from", "to", "year", "faces", "in", "sort")


def search(served: Served, request: Request) -> Response:
    asked = {field: request.query_params.getlist(field) for field in FIELDS}
    values = dict(asked=asked, total=0, found=[], page=1, pages=1, link=lambda number: "", command=None, problem=None,
                  context=None)
    try:
        question = search_question(request)
    except QueryError as e:
        return served.page(request, "search.html", status_code=400, **values | {"problem": str(e)})
    if not question.asks():
        return served.page(request, "search.html", **values)
    page = page_number(request)
    with served.read() as reader:
        try:
            total, found = browse.found_page(reader, question, page)
        except IndexerError as e:  # a name nobody has (with the closest names), one asked and left out
            return served.page(request, "search.html", status_code=400, **values | {"problem": str(e)})
    from urllib.parse import urlencode

    context = "search:" + urlencode([(field, value) for field in FIELDS for value in asked[field] if value])
    return served.page(request, "search.html", **values | dict(
        total=total, found=found, page=page, pages=browse.pages(total, browse.SEARCH_PAGE), command=find_command(question),
        context=context,
        link=lambda number: served.links.search(**{k: v for k, v in asked.items() if v}, **({"page": str(number)} if number > 1 else {}))))


def find_command(question: Query) -> str:
    """The `indexer find` command asking ``question``."""
    words = ["indexer", "find", *question.people]
    words += {"any": ["--any"], "only": ["--only"]}.get(question.match.value, [])
    for name in question.without:
        words += ["--not", name]
    for key in ("faces", "from", "to", "year", "in"):
        if key in question.typed:
            words += [f"--{key}", question.typed[key]]
    if question.sort.value != "oldest":
        words += ["--sort", question.sort.value]
    return shlex.join(words)
