"""What the gallery shows, read from the database in one pass: every photo with faces, everyone named
with their faces best first, the clusters of unnamed faces, and the index's status."""

from __future__ import annotations

from dataclasses import dataclass, field

from indexer.answers.photos import FailedFile
from indexer.answers.status import LibraryStatus
from indexer.db import reads
from indexer.db.reader import Reader
from indexer.db.values import FaceOrigin, LabelSource


@dataclass(frozen=True)
class Face:
    """One face: ``box`` [x, y, w, h] in pixels of the upright photo; its person (None: unnamed), who
    named it ("manual", "auto", or None) and the score 0–1 of that name; the cluster of unnamed faces it
    is in (None: none shown)."""

    face_id: int
    photo_id: int
    box: tuple[int, int, int, int]
    person_id: int | None
    source: str | None
    score: float | None
    cluster_id: int | None
    sure: bool = True  # the grouping is sure it belongs to its cluster
    origin: str = FaceOrigin.DETECTED  # or drawn by hand
    time: float | None = None  # in a video: seconds from its start of the frame its box is from

    @property
    def drawn(self) -> bool:
        return self.origin == FaceOrigin.DRAWN

    @property
    def by_hand(self) -> bool:
        return self.source == LabelSource.MANUAL


@dataclass
class Photo:
    """A photo with faces: upright size in pixels (None when never decoded), and ``version``, which
    changes when its content does (so its preview is made again)."""

    photo_id: int
    path: str
    width: int | None
    height: int | None
    version: str
    faces: list[Face] = field(default_factory=list)
    duration: float | None = None  # a video's length in seconds (its preview is the frame of its first face)

    @property
    def preview_time(self) -> float | None:
        """A video's: the time of the frame its preview shows (its first face's); None for a photo."""
        return None if self.duration is None else min((f.time for f in self.faces if f.time is not None), default=0.0)


@dataclass
class Person:
    person_id: int
    name: str
    faces: list[Face] = field(default_factory=list)  # best first: named by hand, then by score

    @property
    def photos(self) -> int:
        return len({face.photo_id for face in self.faces})

    @property
    def face_count(self) -> int:
        return len(self.faces)

    @property
    def cover_face_id(self) -> int | None:
        """The face the person is shown by: their best."""
        return self.faces[0].face_id if self.faces else None


@dataclass
class Cluster:
    cluster_id: int
    faces: list[Face] = field(default_factory=list)  # those the grouping is sure of first, then by face id

    @property
    def photos(self) -> int:
        return len({face.photo_id for face in self.faces})

    @property
    def face_count(self) -> int:
        return len(self.faces)

    @property
    def unsure(self) -> int:
        return sum(not face.sure for face in self.faces)

    @property
    def cover_face_id(self) -> int:
        return self.faces[0].face_id


@dataclass
class Content:
    photos: dict[int, Photo]
    people: list[Person]  # by name, ignoring case
    clusters: list[Cluster]  # largest first, then by id; only those of two or more faces
    status: LibraryStatus
    failed: list[FailedFile]
    suggestions: int | None  # faces waiting for `indexer review`; None: not counted


def read_content(reader: Reader, status: LibraryStatus, failed: list[FailedFile], suggestions: int | None) -> Content:
    """Everything the pages show, from ``reader``; ``status``, ``failed`` and ``suggestions`` come from
    their own owners (``answers.status``, ``answers.photos.failed_files``, ``naming.review.suggestions``)."""
    photos: dict[int, Photo] = {}
    people = {person_id: Person(person_id, name) for person_id, name in reads.people_names(reader).items()}
    clusters: dict[int, Cluster] = {}
    for (face_id, photo_id, x, y, w, h, person_id, source, score, cluster_id, sure, origin, time,
         path, width, height, content_hash, size, mtime_ns, duration) in reads.faces_with_photos(reader):
        unnamed = person_id is None and source is None
        face = Face(face_id, photo_id, (x, y, w, h), person_id, source, score, cluster_id if unnamed else None,
                    sure is None or bool(sure), origin, time)
        photo = photos.get(photo_id)
        if photo is None:
            version = photo_version(content_hash, size, mtime_ns)
            photo = photos[photo_id] = Photo(photo_id, path, width, height, version, duration=duration)
        photo.faces.append(face)
        if person_id is not None and person_id in people:
            people[person_id].faces.append(face)
        if face.cluster_id is not None:
            clusters.setdefault(face.cluster_id, Cluster(face.cluster_id)).faces.append(face)
    for cluster in clusters.values():
        cluster.faces.sort(key=lambda f: (not f.sure, f.face_id))
    for person in people.values():
        person.faces.sort(key=lambda f: (not f.by_hand, -(f.score or 0.0), f.face_id))
    for photo in photos.values():
        photo.faces.sort(key=lambda f: (f.time or 0.0, f.box[0], f.box[1], f.face_id))
    shown = [c for c in clusters.values() if len(c.faces) >= 2]
    # A face alone in its cluster shows as unknown.
    lonely = {c.faces[0].face_id for c in clusters.values() if len(c.faces) < 2}
    for photo in photos.values():
        photo.faces = [_without_cluster(f) if f.face_id in lonely else f for f in photo.faces]
    return Content(
        photos=photos,
        people=sorted(people.values(), key=lambda p: (p.name.casefold(), p.name)),
        clusters=sorted(shown, key=lambda c: (-len(c.faces), c.cluster_id)),
        status=status,
        failed=failed,
        suggestions=suggestions,
    )


def photo_version(content_hash: str | None, size: int | None, mtime_ns: int | None) -> str:
    """What names a photo's content in the names of its pictures (a new one when the photo changes)."""
    return (content_hash or f"{size}-{mtime_ns}")[:16]


def _without_cluster(face: Face) -> Face:
    return Face(face.face_id, face.photo_id, face.box, face.person_id, face.source, face.score, None, face.sure, face.origin,
                face.time)
