"""What the history of names says each face's name is now, checked against the faces as stored: the test
of "nothing lost" when naming and undoing race (tests/test_concurrency.py)."""

from __future__ import annotations

import json
from collections.abc import Callable


def names_against_history(query: Callable[..., list[tuple]]) -> list[str]:
    """The faces whose name (person, source, score) is not what the history implies, one line each (none:
    they agree). ``query(sql)`` reads the index's database (``support.cli.Cli.query``).

    A face's name is the "after" of the newest event in force (not undone, not an undo) that changed it;
    with none in force, the "before" of the first event that changed it (every event since was undone).
    Faces no event changed, and faces re-read since, are left out (only the history's own faces count)."""
    stored = {row[0]: list(row[1:]) for row in query("SELECT id, person_id, label_source, label_score FROM faces")}
    events = query("SELECT id, action, changes, undone_by FROM name_events ORDER BY id")
    by_face: dict[int, list[tuple[bool, list | None, list | None]]] = {}
    for _, action, changes, undone_by in events:
        if action == "undo":
            continue
        for face, (before, after) in json.loads(changes).get("faces", {}).items():
            by_face.setdefault(int(face), []).append((undone_by is None, before, after))
    wrong = []
    for face, changes in sorted(by_face.items()):
        in_force = [after for standing, _, after in changes if standing]
        expected = in_force[-1] if in_force else changes[0][1]
        if stored.get(face) != expected:
            wrong.append(f"face {face}: stored {stored.get(face)}, the history says {expected}")
    return wrong
