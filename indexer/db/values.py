"""The values some columns hold, as enums (standard library only: the plain-SQL readers use them too)."""

from __future__ import annotations

from enum import StrEnum


class LabelSource(StrEnum):
    """Who put the name on a face (``faces.label_source``; NULL: nobody)."""

    MANUAL = "manual"  # the user, by hand: only the user changes it
    AUTO = "auto"  # recognition: recomputed by every `indexer train`
    # The user said it is no face at all (a poster, a pattern in a curtain): it has no person, and is left out
    # of every list, count and cluster; like a name given by hand, only the user changes it, and it is
    # carried over when its photo is read anew.
    NOT_A_FACE = "not a face"


# The labels only the user changes (recognition never touches a face that has one).
USERS_WORD = (LabelSource.MANUAL.value, LabelSource.NOT_A_FACE.value)


class RunStatus(StrEnum):
    """How an ``indexer index`` run ended (``runs.status``)."""

    RUNNING = "running"
    COMPLETED = "completed"
    OUT_OF_TIME = "out of time"
    INTERRUPTED = "interrupted"
    FAILED = "failed"


# The action of a history event that reverted another (``name_events.action``; the others are the commands').
UNDO = "undo"

# What a run that ended without recording how (its process or its database went away) says in its summary.
ABANDONED = "the run ended without recording how (its process or its database went away)"


class FaceOrigin(StrEnum):
    """Where a face comes from (``faces.origin``)."""

    DETECTED = "detected"  # the detector found it: replaced when its photo is read anew
    DRAWN = "drawn"  # drawn by hand (add-face) or made from another tool's face region: kept until the user removes it


def is_unnamed(person_id: int | None, source: str | None) -> bool:
    """Whether a face is unnamed: neither named (by hand or by recognition) nor cleared by hand — the faces
    clusters hold and the review asks about. (In SQL: ``db.face_rows.UNNAMED``.)"""
    return person_id is None and source is None


class LimitHit(StrEnum):
    """What limit a file's last reading hit (``photos.limit_hit``; NULL: none). Each is a setting, and said
    once: in the run's summary (``limited``) and by ``indexer errors``."""

    DEADLINE = "deadline"  # the run's time budget (--max-minutes) ran out while reading it: read after the others next run
    STOPPED = "stopped"  # too slow ([library] max_seconds_per_file), or cut by two runs' budgets: left alone until it changes
    SAMPLED = "sampled"  # a video with more cuts than [library] max_cut_samples_per_minute: indexed from fewer samples


class TakenFrom(StrEnum):
    """Where a photo's date taken was read (``photos.taken_from``; NULL: not read yet)."""

    EXIF = "exif"  # the picture's own EXIF (a RAW's included)
    XMP = "xmp"  # its XMP sidecar
    VIDEO = "video"  # a video's container
    FILE = "file"  # none of those said: the file's modification time
