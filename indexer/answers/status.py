"""How the index stands (``indexer status``) and what was named by hand (``indexer history``), from the
database alone (plain SQL, ``db.reads``) and the vector file's header (no FAISS)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from indexer.db import reads
from indexer.db.lock import writer_active
from indexer.db.reader import Reader, as_datetime, as_json
from indexer.db.values import ABANDONED, RunStatus

if TYPE_CHECKING:
    from indexer.config import Config


@dataclass(frozen=True)
class LastRun:
    started_at: datetime
    finished_at: datetime | None
    status: str  # a RunStatus
    summary: dict[str, Any] | None


@dataclass(frozen=True)
class LibraryStatus:
    """Counts, as ``indexer status`` shows them. ``vectors`` is what the FAISS file of the model holds,
    so a mismatch with ``faces`` shows."""

    photos: int  # files indexed successfully
    faces: int
    people: int
    labelled_faces: int
    vectors: int
    errors: int  # files that could not be indexed
    last_run: LastRun | None
    trained_at: datetime | None  # when `indexer train` last ran for the model
    trained_people: int  # how many people it learnt


def status(reader: Reader, config: Config) -> LibraryStatus:
    """What the index holds for the configured embedding model; the vectors are counted from the header
    of its vector file (no FAISS)."""
    from indexer.vectors.file import stored_vectors
    from indexer.vision.weights import get_model

    spec = get_model(config.embedding.model)
    vectors = stored_vectors(config.storage.vectors_file(spec.name), spec.dimensions) or 0
    counts = reads.counts(reader)
    run = reads.last_run(reader)
    last_run = None
    if run is not None:
        started, finished, state, summary = run
        if state == RunStatus.RUNNING and not writer_active(config.storage.data_dir, config.storage.database_url,
                                                            lambda: reads.advisory_lock_held(reader)):
            state, summary = RunStatus.FAILED, {"error": ABANDONED}  # nobody holds the lock: it died unrecorded
        last_run = LastRun(as_datetime(started), as_datetime(finished), state, as_json(summary))
    trained = reads.last_training(reader, spec.name)
    trained_at, trained_people = (as_datetime(trained[0]), len(as_json(trained[1]))) if trained else (None, 0)
    return LibraryStatus(counts.photos, counts.faces, counts.people, counts.labelled_faces, vectors, counts.errors,
                         last_run, trained_at, trained_people)


@dataclass(frozen=True)
class HistoryEvent:
    """One change of names made by hand (``naming.history``): when (UTC), what, how many faces' names
    it changed, and the undo that reverted it (None: in force)."""

    id: int
    at: datetime
    action: str
    description: str
    faces: int
    undone_by: int | None


def history(reader: Reader, limit: int, offset: int = 0) -> list[HistoryEvent]:
    """The newest ``limit`` events after the ``offset`` newest, newest first."""
    return [HistoryEvent(event_id, as_datetime(at), action, description, len(as_json(changes).get("faces", {})), undone_by)
            for event_id, at, action, description, changes, undone_by in reads.name_events(reader, limit, offset)]
