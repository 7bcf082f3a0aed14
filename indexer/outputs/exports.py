"""Plain exports of the faces, for spreadsheets, pandas and other tools: one row per face, CSV or JSON
lines, streamed from the database (a million faces never sit in memory at once)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import TextIO

from indexer.db import reads
from indexer.db.reader import Reader

FORMATS = ("csv", "jsonl")
COLUMNS = ("face_id", "photo", "x", "y", "w", "h", "person", "source", "score", "origin", "time")


def face_rows(reader: Reader) -> Iterator[tuple]:
    """Every face: (face id, photo path, x, y, w, h in pixels of the upright photo, the person's name or
    None, who named it ("manual", "auto" or None), the score 0–1 of the name or None, where the face
    comes from: "detected" or "drawn", and in a video the time of its frame in seconds, else None), by
    photo and face."""
    yield from reads.faces_for_export(reader)


def write_faces(reader: Reader, output_format: str, out: TextIO) -> int:
    """Write every face to ``out`` as ``output_format`` (one of FORMATS); returns how many. CSV has a
    header row (COLUMNS); a JSON line is {"face_id", "photo", "box": [x, y, w, h], "person", "source",
    "score", "origin", "time"}. A score is rounded to 4 places, a time (seconds into a video; empty or
    null for a photo's face) to 3; a name cleared by hand has source "manual" and no person."""
    count = 0
    if output_format == "csv":
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        for face_id, photo, x, y, w, h, person, source, score, origin, time in face_rows(reader):
            writer.writerow([face_id, photo, x, y, w, h, person or "", source or "",
                             "" if score is None else round(score, 4), origin, "" if time is None else round(time, 3)])
            count += 1
        return count
    for face_id, photo, x, y, w, h, person, source, score, origin, time in face_rows(reader):
        out.write(json.dumps({"face_id": face_id, "photo": photo, "box": [x, y, w, h], "person": person, "source": source,
                              "score": None if score is None else round(score, 4), "origin": origin,
                              "time": None if time is None else round(time, 3)},
                             ensure_ascii=False) + "\n")
        count += 1
    return count
