"""Named queries through SQLAlchemy: every statement that writes, and the reads of the write path, one
module per kind of row (photos, faces, people, runs, history, clusters). Callers write ``from indexer.db
import queries`` and ``queries.known_photos(session)``: every query is re-exported here. (The reads of
the fast answers are plain SQL in ``db.reads``, so that `find` and `people` start without SQLAlchemy.)"""

from indexer.db.queries.clusters import *  # noqa: F403
from indexer.db.queries.faces import *  # noqa: F403
from indexer.db.queries.history import *  # noqa: F403
from indexer.db.queries.people import *  # noqa: F403
from indexer.db.queries.photos import *  # noqa: F403
from indexer.db.queries.runs import *  # noqa: F403
