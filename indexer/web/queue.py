"""The review queue of ``indexer serve`` and the guesses it comes from (``SuggestionCache``: one look at the
library, ``naming.likeness``), kept in the background."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from indexer.library import Library
    from indexer.naming.likeness import Likeness
    from indexer.naming.review import Suggestion

log = logging.getLogger(__name__)


class SuggestionCache:
    """The review queue (``naming.review.suggestions_of``) and the look at the library it comes from (every
    unnamed face's guess, every person's and cluster's mean face: ``naming.likeness.Likeness``): seconds of
    work at 100 000 faces (bench/serve.py), so it is computed in a background thread and kept while the
    index is as it was (``browse.change_marks``). A page shows them as last computed, each suggestion
    checked against the database as it is (``browse.still_open``), while newer ones are computed; an answer
    given here updates them in place (``answered``) instead of computing them again."""

    def __init__(self, library: Library):
        self.library = library
        self._lock = threading.Lock()
        self._marks: tuple | None = None
        self._found: list[Suggestion] | None = None
        self._likeness: Likeness | None = None
        self._computing = False

    def current(self, marks: tuple) -> list[Suggestion] | None:
        """The queue as last computed (None: not yet); computed again in the background when ``marks``
        (read with the page) differ from those it was computed for."""
        with self._lock:
            if marks != self._marks and not self._computing:
                self._computing = True
                threading.Thread(target=self._compute, args=(marks,), name="review queue", daemon=True).start()
            return self._found

    def up_to_date(self, marks: tuple) -> bool:
        with self._lock:
            return marks == self._marks

    def likeness(self, marks: tuple) -> Likeness | None:
        """The look at the library as last computed (None: not yet); computed again when stale (``current``)."""
        self.current(marks)
        with self._lock:
            return self._likeness

    def _compute(self, marks: tuple) -> None:
        from indexer.naming.likeness import Likeness
        from indexer.naming.review import suggestions_of

        try:
            likeness = Likeness.of(self.library)
            found = suggestions_of(self.library, likeness)
        except Exception:
            log.exception("could not compute the review queue")
            likeness = found = None
        with self._lock:
            self._computing = False
            if found is not None:
                self._found, self._likeness, self._marks = found, likeness, marks

    def peek(self) -> int | None:
        """How many suggestions wait, as last computed (None: not computed yet)."""
        with self._lock:
            return len(self._found) if self._found is not None else None

    def answered(self, face_id: int, marks_before: tuple, marks_after: tuple) -> None:
        """Face ``face_id`` was answered here, changing the index from ``marks_before`` to ``marks_after``
        (a new event, nothing else): when the queue was true before, it is true after without that face."""
        with self._lock:
            if self._found is not None and self._marks == marks_before and marks_before[1:] == marks_after[1:]:
                self._found = [s for s in self._found if s.face_id != face_id]
                self._likeness.without(face_id)
                self._marks = marks_after
