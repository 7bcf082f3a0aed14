"""Suggestions, reviewed: faces nobody named that look like somebody named by hand, for the user to
confirm (named by hand) or reject (never suggested or named automatically as that person again): the
answers are ``naming.people.confirm`` and ``reject``.

A suggestion is an unnamed face (no name by hand or by recognition, not cleared by hand) whose nearest
face named by hand is within the model's limit (``ModelSpec.max_distance``: the loosest match
recognition ever accepts), skipping the people rejected for it; nearest first. Recognition left such a
face unknown because the calibrated rule wanted more (a nearer face, or the SVM's agreement); the user
decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from indexer.db import queries
from indexer.library import Library
from indexer.naming.likeness import Likeness


@dataclass(frozen=True)
class Suggestion:
    face_id: int
    photo: str
    box: list[int]  # [x, y, w, h] in pixels of the upright photo
    person: str
    distance: float  # L2 between unit vectors to the nearest face of that person named by hand, 0–2
    time: float | None = None  # in a video: seconds from its start of the frame the box is from
    person_id: int = 0  # who ``person`` is
    sure: bool = True  # within the limit the trained rule uses (else only within the model's loosest)

    @property
    def words(self) -> str:
        """In plain words: "looks like Ann (sure)"."""
        return f"looks like {self.person} ({'sure' if self.sure else 'unsure'})"


def suggestions(library: Library, person_id: int | None = None, limit: int = 20) -> list[Suggestion]:
    """Up to ``limit`` suggestions, nearest first; only of person ``person_id`` when given (none when they
    are gone): the guesses (``naming.likeness``) within the model's limit."""
    return suggestions_of(library, Likeness.of(library, person_id), limit)


def suggestions_of(library: Library, likeness: Likeness, limit: int | None = None) -> list[Suggestion]:
    """The suggestions of ``likeness`` (``limit`` of them; None: all), nearest first."""
    found = likeness.sure_guesses(library.model.max_distance)[:limit]
    with library.session() as session:
        paths = queries.photo_paths(session, {guess.photo_id for guess in found})
    return [Suggestion(guess.face_id, paths[guess.photo_id], guess.box, guess.person, guess.distance, guess.time,
                       guess.person_id, guess.sure) for guess in found]


def face_crop(suggestion: Suggestion, out: Path) -> Path:
    """Write the suggestion's face, with a quarter of its size around it, to ``out`` (a JPEG, owner-only)."""
    from PIL import Image

    from indexer.files import atomic_file
    from indexer.vision.imaging import load_photo

    from indexer.vision.video import frame_at

    x, y, w, h = suggestion.box
    pixels = frame_at(suggestion.photo, suggestion.time, 200) if suggestion.time is not None else load_photo(suggestion.photo, 200)
    crop = pixels[max(0, y - h // 4) : y + h + h // 4, max(0, x - w // 4) : x + w + w // 4]
    with atomic_file(out) as tmp_name:
        Image.fromarray(crop).save(tmp_name, format="JPEG", quality=90)
    return out
