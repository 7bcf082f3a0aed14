"""Plain exports of the faces, for spreadsheets, pandas and other tools: one row per face, CSV or JSON
lines, streamed from the database (a million faces never sit in memory at once)."""

from __future__ import annotations

import csv
import json
from typing import TextIO

from indexer.db import reads
from indexer.db.reader import Reader

FORMATS = ("csv", "jsonl")
COLUMNS = ("face_id", "photo", "x", "y", "w", "h", "person", "source", "score", "origin", "time")


def write_faces(reader: Reader, output_format: str, out: TextIO) -> int:
    """Write every face (by photo and face, streamed) to ``out`` as ``output_format`` (one of FORMATS); returns
    how many. CSV has a header row (COLUMNS); a JSON line is {"face_id", "photo", "box": [x, y, w, h],
    "person", "source", "score", "origin", "time"}: the box in pixels of the upright photo, the person's
    name, who named it ("manual", "auto" or None), the score 0–1 rounded to 4 places, where the face comes
    from ("detected" or "drawn"), and in a video the time of its frame in seconds rounded to 3 (empty or
    null for a photo's face); a name cleared by hand has source "manual" and no person."""
    count = 0
    writer = csv.writer(out) if output_format == "csv" else None
    if writer is not None:
        writer.writerow(COLUMNS)
    for face in reads.faces_for_export(reader):
        score = None if face.score is None else round(face.score, 4)
        time = None if face.time is None else round(face.time, 3)
        if writer is not None:
            writer.writerow([face.face_id, face.photo, *face.box, face.person or "", face.source or "",
                             "" if score is None else score, face.origin, "" if time is None else time])
        else:
            out.write(json.dumps({"face_id": face.face_id, "photo": face.photo, "box": list(face.box), "person": face.person,
                                  "source": face.source, "score": score, "origin": face.origin, "time": time},
                                 ensure_ascii=False) + "\n")
        count += 1
    return count
