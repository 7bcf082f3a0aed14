"""Training from the app (``indexer train``'s work, ``naming.training.train``) in a background thread, one at
a time, with its stage shown while it runs and its report when done."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from indexer.errors import IndexerError

if TYPE_CHECKING:
    from indexer.library import Library

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainingShown:
    """Training as its page shows it: running (the stage, the seconds since it started), or done (the
    cross-validated accuracy in 0–1, None when too few faces to tell; people learned; faces named), or
    failed (why)."""

    running: bool
    stage: str | None = None
    seconds: float = 0.0
    accuracy: float | None = None
    people: int | None = None
    faces_named: int | None = None
    problem: str | None = None


class Training:
    """The app's one training at a time."""

    def __init__(self, library: Library):
        self.library = library
        self._lock = threading.Lock()
        self._shown: TrainingShown | None = None
        self._started = 0.0

    def start(self) -> bool:
        """Start training in the background; False when one is running already."""
        with self._lock:
            if self._shown is not None and self._shown.running:
                return False
            self._started = time.monotonic()
            self._shown = TrainingShown(True, "starting")
        threading.Thread(target=self._train, name="training", daemon=True).start()
        return True

    def shown(self) -> TrainingShown | None:
        """Training as it stands (None: none started since the app started)."""
        with self._lock:
            if self._shown is not None and self._shown.running:
                return TrainingShown(True, self._shown.stage, round(time.monotonic() - self._started, 1))
            return self._shown

    def _stage(self, said: str) -> None:
        with self._lock:
            self._shown = TrainingShown(True, said)

    def _train(self) -> None:
        from indexer.naming.training import train

        try:
            report = train(self.library, progress=False, stage=self._stage)
            done = TrainingShown(False, seconds=report.seconds, accuracy=report.calibration.accuracy,
                                 people=len(report.people), faces_named=report.relabelled.named)
        except IndexerError as e:
            done = TrainingShown(False, problem=str(e))
        except Exception as e:  # shown on the page, logged with its trace
            log.exception("training from the app failed")
            done = TrainingShown(False, problem=f"training failed: {e}")
        with self._lock:
            self._shown = done
