"""What the gallery shows, read from the database in one pass (through the read model it shares with the
app, ``answers.browse``): every photo with faces, everyone named with their faces best first, the clusters
of unnamed faces, and the index's status."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from indexer.answers.browse import (MIN_CLUSTER_SIZE, SHOWN_WITH, Cluster, Person, Photo, Reader, ShownWith, everyone,
                                    faces_with_photos, hidden_people, newest_first)
from indexer.answers.photos import FailedFile
from indexer.answers.status import LibraryStatus


@dataclass
class Content:
    photos: dict[int, Photo]
    people: list[Person]  # by name, ignoring case; each with their faces newest first and who is shown with them
    clusters: list[Cluster]  # largest first, then by id; only those of MIN_CLUSTER_SIZE faces or more
    status: LibraryStatus
    failed: list[FailedFile]
    suggestions: int | None  # faces waiting for `indexer review`; None: not counted
    hidden: set[int] = field(default_factory=set)  # people kept out of the list of people (their pages stay)


def read_content(reader: Reader, status: LibraryStatus, failed: list[FailedFile], suggestions: int | None) -> Content:
    """Everything the pages show, from ``reader``; ``status``, ``failed`` and ``suggestions`` come from
    their own owners (``answers.status``, ``answers.photos.failed_files``, ``naming.review.suggestions``)."""
    photos: dict[int, Photo] = {}
    people = {person_id: Person(faces=[], person_id=person_id, name=name) for person_id, name in everyone(reader).items()}
    clusters: dict[int, Cluster] = {}
    for face in faces_with_photos(reader):
        photo = photos.get(face.photo_id)
        if photo is None:
            photo = photos[face.photo_id] = Photo.of(face)
        photo.faces.append(face)
        if face.person_id is not None and face.person_id in people:
            people[face.person_id].faces.append(face)
        if face.shown_cluster is not None:
            clusters.setdefault(face.shown_cluster, Cluster(faces=[], cluster_id=face.shown_cluster)).faces.append(face)
    for cluster in clusters.values():
        cluster.faces.sort(key=lambda f: (not f.sure, f.face_id))
    together: dict[int, Counter] = {person_id: Counter() for person_id in people}
    for photo in photos.values():
        shown = {face.person_id for face in photo.faces if face.person_id in people}
        for person_id in shown:
            together[person_id].update(shown - {person_id})
    for person in people.values():
        person.faces.sort(key=newest_first)
        ranked = sorted(together[person.person_id].items(), key=lambda item: (-item[1], people[item[0]].name.casefold(),
                                                                               people[item[0]].name))
        person.shown_with = [ShownWith(other, people[other].name, count) for other, count in ranked[:SHOWN_WITH]]
    # A face alone in its cluster shows as unknown.
    lonely = {c.faces[0].face_id for c in clusters.values() if len(c.faces) < MIN_CLUSTER_SIZE}
    for photo in photos.values():
        photo.faces = [f.without_cluster() if f.face_id in lonely else f for f in photo.faces]
        photo.sort_faces()
    return Content(
        photos=photos,
        people=sorted(people.values(), key=lambda p: (p.name.casefold(), p.name)),
        clusters=sorted((c for c in clusters.values() if len(c.faces) >= MIN_CLUSTER_SIZE),
                        key=lambda c: (-len(c.faces), c.cluster_id)),
        status=status,
        failed=failed,
        suggestions=suggestions,
        hidden=hidden_people(reader),
    )
