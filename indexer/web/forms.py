"""What a request of ``indexer serve`` asks, read and checked once: a form's fields (text, ids, a box, a time)
and the numbers of a query (a page, an offset, the change just made). Numbers are plain ASCII digits
(``ids.whole_number``): "²", "٣" and "-1" are no number — a page reads as the first, a form is refused in
one line."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request

from indexer.errors import IndexerError
from indexer.ids import whole_number

MAX_PAGE = 10**9  # a page number or an offset above this is no page


class Form:
    """A form sent to an action."""

    def __init__(self, data: FormData):
        self.data = data

    def text(self, field: str) -> str:
        """The field's text ("" when missing or not text)."""
        value = self.data.get(field, "")
        return value if isinstance(value, str) else ""

    def ids(self, field: str) -> list[int]:
        """Every value of the field, as ids; IndexerError for one that is not."""
        found = []
        for value in self.data.getlist(field):
            number = whole_number(value)
            if number is None:
                raise IndexerError(f"not a face id: {str(value)[:40]!r}")
            found.append(number)
        return found

    def number(self, field: str, below: int = MAX_PAGE) -> int | None:
        """The field as a whole number from 1 up (None when it is none)."""
        return whole_number(self.text(field), below)

    def box(self) -> tuple[int, int, int, int]:
        """The fields ``x``, ``y``, ``w``, ``h`` as a box in pixels (``naming.drawn.parse_box``)."""
        from indexer.naming.drawn import parse_box

        return parse_box(",".join(self.text(field) for field in ("x", "y", "w", "h")))

    def seconds(self, field: str) -> float | None:
        """The field as seconds (a moment of a video), None when empty; IndexerError when not a number."""
        text = self.text(field)
        try:
            return float(text) if text else None
        except ValueError:
            raise IndexerError(f"not a time in seconds: {text[:40]!r}") from None

    def name(self, field: str = "name") -> str | None:
        """The field as a name typed (None when only spaces)."""
        return self.text(field).strip() or None


def page_number(request: Request) -> int:
    """The query's ``page`` (from 1; the first when missing or not a number)."""
    return whole_number(request.query_params.get("page"), MAX_PAGE) or 1


def offset(request: Request) -> int:
    """The query's ``offset`` (0 when missing or not a number)."""
    return whole_number(request.query_params.get("offset"), MAX_PAGE) or 0


def done_event(request: Request) -> int | None:
    """The query's ``done``: the event of the change just made, shown above the page."""
    return whole_number(request.query_params.get("done"))


def search_question(request: Request):
    """The question of the search page's address (``answers.query.Query.of_params``). QueryError, one line,
    for one that cannot be asked."""
    from indexer.answers.query import Query

    return Query.of_params(request.query_params)
