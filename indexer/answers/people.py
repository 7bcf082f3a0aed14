"""Everyone named (``indexer people``) and the photos of one person (``indexer find``), from the database
alone: plain SQL (``db.reads``), no model, no FAISS and, on SQLite, no SQLAlchemy, so a cold ``find`` takes
a fraction of a second."""

from __future__ import annotations

from dataclasses import dataclass, field

from indexer.db import reads
from indexer.db.reader import Reader
from indexer.naming.names import match_name, person_not_found


@dataclass(frozen=True)
class PersonCounts:
    id: int
    name: str
    faces: int
    photos: int
    manual_faces: int  # named by hand (the references recognition learns from)


def people(reader: Reader) -> list[PersonCounts]:
    """Everyone, by name (ignoring case), with how many faces and photos show them."""
    return [PersonCounts(*row) for row in reads.people_with_counts(reader)]


@dataclass(frozen=True)
class FaceOfPerson:
    face_id: int
    photo_path: str
    box: list[int]  # [x, y, w, h] in pixels of the upright photo
    score: float  # 0–1; names given by hand score 1
    source: str  # a LabelSource: "manual" or "auto"
    time: float | None = None  # in a video: seconds from its start (None: a photo's face)


@dataclass(frozen=True)
class PhotoOfPerson:
    """A photo showing the person: its path and their faces in it, best score first; ``other_files``: the
    other files of its shot (a RAW beside the JPEG the faces were read from)."""

    path: str
    faces: list[FaceOfPerson]
    other_files: list[str] = field(default_factory=list)

    @property
    def score(self) -> float:
        return self.faces[0].score


def person_called(reader: Reader, name: str) -> tuple[int, str]:
    """(id, name as stored) of the person called ``name`` (see ``match_name``: case and Unicode form aside);
    PersonNotFound, naming the closest names, when nobody is. How the CLI and the app turn a name typed into
    the id the naming commands take."""
    everyone = reads.person_ids_by_name(reader)
    found = match_name(name, list(everyone))
    if found is None:
        raise person_not_found(name, list(everyone))
    return everyone[found], found


def photos_of(reader: Reader, name: str, min_score: float = 0.0) -> tuple[str, list[PhotoOfPerson]]:
    """The photos that show the person called ``name`` (see ``match_name``), best first (by their best
    face's score; names given by hand score 1.0). Returns (the person's name as stored, photos).
    PersonNotFound when nobody has that name."""
    person_id, found = person_called(reader, name)
    grouped: dict[str, list[FaceOfPerson]] = {}
    for face in reads.faces_of_person(reader, person_id, min_score):
        grouped.setdefault(face.photo, []).append(FaceOfPerson(face.face_id, face.photo, list(face.box),
                                                               1.0 if face.score is None else float(face.score),
                                                               face.source, face.time))
    others = reads.other_files_of_shots(reader, list(grouped))
    photos = [PhotoOfPerson(path, faces, others.get(path, [])) for path, faces in grouped.items()]
    photos.sort(key=lambda p: (-p.score, p.path))
    return found, photos
