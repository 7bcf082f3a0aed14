"""Index runs and trained classifiers."""

from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from indexer.clock import utcnow
from indexer.db.models import Classifier, Run
from indexer.db.values import ABANDONED, RunStatus

__all__ = ["last_training", "replace_classifier", "start_run", "finish_run", "fail_abandoned_runs"]



def last_training(session: Session, model: str) -> Classifier | None:
    """The classifier ``indexer train`` last made for ``model``."""
    return session.scalars(
        select(Classifier).where(Classifier.embedding_model == model).order_by(Classifier.id.desc()).limit(1)
    ).first()


def replace_classifier(session: Session, classifier: Classifier) -> list[str | None]:
    """Make ``classifier`` the one of its model: the rows of earlier ones are deleted; returns their
    file names (for the caller to delete the files once this commits)."""
    model = classifier.embedding_model
    previous = list(session.scalars(select(Classifier.file).where(Classifier.embedding_model == model)))
    session.execute(delete(Classifier).where(Classifier.embedding_model == model))
    session.add(classifier)
    return previous


def start_run(session: Session, roots: list[str]) -> int:
    """Record a new index run, as running; returns its id."""
    run = Run(status=RunStatus.RUNNING, roots=roots)
    session.add(run)
    session.flush()
    return run.id


def finish_run(session: Session, run_id: int, status: str, summary: dict) -> None:
    session.execute(update(Run).where(Run.id == run_id).values(status=status, finished_at=utcnow(), summary=summary))


def fail_abandoned_runs(session: Session) -> int:
    """Mark every run still recorded as running as failed (call with the writer lock held: no other run
    can be going on). Returns how many."""
    return session.execute(update(Run).where(Run.status == RunStatus.RUNNING)
                           .values(status=RunStatus.FAILED, summary={"error": ABANDONED})).rowcount
