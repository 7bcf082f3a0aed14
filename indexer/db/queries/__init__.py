"""Named queries: every SQL statement of indexer is here, with bound parameters only, one module per
kind of row (photos, faces, people, runs), except the read-only answers of ``indexer.answers`` (plain SQL,
so that `find` and `people` start without SQLAlchemy). Callers write ``from indexer.db import queries`` and
``queries.known_photos(session)``: every query is re-exported here."""

from indexer.db.queries.faces import *  # noqa: F403
from indexer.db.queries.people import *  # noqa: F403
from indexer.db.queries.photos import *  # noqa: F403
from indexer.db.queries.runs import *  # noqa: F403
