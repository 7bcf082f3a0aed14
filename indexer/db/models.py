"""The database schema (SQLAlchemy 2 ORM). The database is the source of truth, embeddings included.

Times are stored as naive UTC datetimes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Float, ForeignKey, Index, Integer, LargeBinary, MetaData, String, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from indexer.clock import utcnow
from indexer.db.values import FaceOrigin

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Photo(Base):
    """One image file under a library root: indexed (``error`` is None) or failed (``error`` says why)."""

    __tablename__ = "photos"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    path: Mapped[str] = mapped_column(String, unique=True)
    size: Mapped[int] = mapped_column(BigInteger)  # bytes, as last seen
    mtime_ns: Mapped[int] = mapped_column(BigInteger)  # modification time, ns since the epoch, as last seen
    width: Mapped[int | None] = mapped_column(Integer)  # pixels, upright; None when not decoded
    height: Mapped[int | None] = mapped_column(Integer)
    indexed_at: Mapped[datetime]  # when the file was last read (successfully or not)
    error: Mapped[str | None] = mapped_column(String)
    analysis: Mapped[str | None] = mapped_column(String)  # the settings it was indexed with (Config.face_settings)
    # sha256 (hex) of the file's bytes when it was indexed: a photo moved or renamed is recognised by it.
    # None for photos indexed before schema 0003 (they are matched by size, mtime and file name instead).
    content_hash: Mapped[str | None] = mapped_column(String)
    # Another file of the same shot (IMG_0001.CR2 beside IMG_0001.JPG: indexing.shots) whose faces are this
    # file's: this one has none of its own and is never decoded. None: the file is read for its faces.
    shot_lead_id: Mapped[int | None] = mapped_column(Integer, index=True)
    # The files of its folder and name (its possible shot) when a run last decided which of them are one
    # shot (``indexing.shots.group_digest``): while they stay so, nothing is looked at again. None: not
    # decided by the rule of schema 0015 yet.
    shot_checked: Mapped[str | None] = mapped_column(String)
    # The limit its last reading hit (a db.values.LimitHit), or None.
    limit_hit: Mapped[str | None] = mapped_column(String)
    # A video's length in seconds; None for a photo (a video is a photo row whose faces are appearances).
    duration: Mapped[float | None] = mapped_column(Float)
    # When it was taken (indexing.dating): the local time the camera wrote, naive, and its offset from UTC in
    # minutes east where the file says it (None: not said); where that was read (a db.values.TakenFrom:
    # "exif", "xmp", "video", or "file": the file's modification time, in the machine's zone). taken_from
    # None: not read yet (the next run reads it); every file of a shot has its shot's date.
    taken_at: Mapped[datetime | None] = mapped_column(index=True)
    taken_offset: Mapped[int | None] = mapped_column(Integer)
    taken_from: Mapped[str | None] = mapped_column(String)

    faces: Mapped[list[Face]] = relationship(back_populates="photo", cascade="all, delete-orphan", passive_deletes=True)


class Person(Base):
    """Somebody the user has named."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String, unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Kept out of the lists of people (the app's, the gallery's, `people`), still found by `find` (0017).
    hidden: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # The face that shows them on their tile, chosen by the user (None: their best face). Not a foreign key
    # (SQLite cannot add one in place): a face that is gone, or no longer theirs, is passed over when read.
    cover_face_id: Mapped[int | None] = mapped_column(Integer)


class Face(Base):
    """One detected face. Ids are never reused (AUTOINCREMENT): they key the FAISS vectors."""

    __tablename__ = "faces"
    __table_args__ = (
        # A photo's faces and who they are, from the index alone: what a question asks of each photo it
        # finds (how many faces, whose; only these people?), 0016.
        Index("ix_faces_photo_person", "photo_id", "person_id"),
        Index("ix_faces_embedding_model", "embedding_model"),
        Index("ix_faces_person_id", "person_id"),
        Index("ix_faces_label_source", "label_source"),
        Index("ix_faces_cluster_id", "cluster_id"),
        # A page of clusters, and of a person's faces, read from these alone (``db.reads``, 0013).
        Index("ix_faces_in_cluster", "cluster_id", "person_id", "label_source", "cluster_sure", "photo_id",
              sqlite_where=text("cluster_id IS NOT NULL"), postgresql_where=text("cluster_id IS NOT NULL")),
        Index("ix_faces_of_person", "person_id", "label_source", "label_score", "photo_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    photo_id: Mapped[int] = mapped_column(ForeignKey("photos.id", ondelete="CASCADE"))
    # Box in pixels of the upright photo.
    box_x: Mapped[int] = mapped_column(Integer)
    box_y: Mapped[int] = mapped_column(Integer)
    box_w: Mapped[int] = mapped_column(Integer)
    box_h: Mapped[int] = mapped_column(Integer)
    detection: Mapped[float] = mapped_column(Float)  # detector confidence, 0–1
    landmarks: Mapped[dict[str, Any]] = mapped_column(JSON)  # name -> [x, y] pixels
    embedding: Mapped[bytes] = mapped_column(LargeBinary)  # float32, little-endian, unit length
    embedding_model: Mapped[str] = mapped_column(String)  # a name from indexer.vision.weights.MODELS
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    # "manual": the user named the face (person_id set) or said it is nobody they named (person_id None);
    # nothing automatic changes it. "auto": named by recognition. None: not named.
    label_source: Mapped[str | None] = mapped_column(String)
    label_score: Mapped[float | None] = mapped_column(Float)  # 0–1; 1.0 for manual names
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The group of unnamed faces it was put in when groups were last made (indexer.naming.clusters); a face
    # named since still points at it until the next refresh, and readers skip it.
    cluster_id: Mapped[int | None] = mapped_column(ForeignKey("clusters.id", ondelete="SET NULL"))
    # Its distance (L2, 0–2) to the mean face of that group, and whether the grouping is sure of it
    # (naming.grouping); None outside a group.
    cluster_distance: Mapped[float | None] = mapped_column(Float)
    cluster_sure: Mapped[bool | None] = mapped_column(Boolean)
    # A FaceOrigin: "detected", or "drawn" by hand (its detection is 1.0, the user's certainty, and it
    # has no landmarks).
    origin: Mapped[str] = mapped_column(String, default=FaceOrigin.DETECTED.value, server_default=FaceOrigin.DETECTED.value)
    # In a video, the face is one appearance (indexing.tracks): the time of the frame its box is from,
    # and the span it covers (seconds from the start). None for a photo's face.
    video_time: Mapped[float | None] = mapped_column(Float)
    video_from: Mapped[float | None] = mapped_column(Float)
    video_to: Mapped[float | None] = mapped_column(Float)

    photo: Mapped[Photo] = relationship(back_populates="faces")

    @property
    def box(self) -> list[int]:
        """[x, y, w, h] in pixels of the upright photo."""
        return [self.box_x, self.box_y, self.box_w, self.box_h]


class Run(Base):
    """One ``indexer index`` run: what it was asked and what it did."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String)  # a db.values.RunStatus
    roots: Mapped[list[str]] = mapped_column(JSON)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Classifier(Base):
    """One ``indexer train``: the thresholds of the labelling rule, and the SVM's file under data_dir
    (``file`` and ``sha256`` are None when fewer than two people were trained: no SVM)."""

    __tablename__ = "classifiers"
    __table_args__ = (Index("ix_classifiers_embedding_model", "embedding_model"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    embedding_model: Mapped[str] = mapped_column(String)
    file: Mapped[str | None] = mapped_column(String)  # a file name inside data_dir/classifiers
    sha256: Mapped[str | None] = mapped_column(String)
    people: Mapped[list[int]] = mapped_column(JSON)  # person ids the classifier can name
    thresholds: Mapped[dict[str, Any]] = mapped_column(JSON)
    report: Mapped[dict[str, Any]] = mapped_column(JSON)  # cross-validation figures, as `indexer train` shows them
    versions: Mapped[dict[str, str]] = mapped_column(JSON)  # library versions it was trained with


class LostName(Base):
    """A name given by hand that could not be carried over when its photo was read anew (the photo was
    edited or overwritten, or a detection setting changed) because no new face was at the same place
    *and* looked like the named one. Kept for the user to see (``indexer lost-names``) instead of being
    dropped or put on somebody else; it goes when the user names a face of that photo after that person,
    or when the photo leaves the index."""

    __tablename__ = "lost_names"
    __table_args__ = (Index("ix_lost_names_photo_id", "photo_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    photo_id: Mapped[int] = mapped_column(ForeignKey("photos.id", ondelete="CASCADE"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    person_name: Mapped[str] = mapped_column(String)  # the name when it was lost (the person may be merged away since)
    # The named face's box, in pixels of the upright photo as it was.
    box_x: Mapped[int] = mapped_column(Integer)
    box_y: Mapped[int] = mapped_column(Integer)
    box_w: Mapped[int] = mapped_column(Integer)
    box_h: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String)
    lost_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def box(self) -> list[int]:
        return [self.box_x, self.box_y, self.box_w, self.box_h]


class NameEvent(Base):
    """One change of names made by hand (label, enroll, rename, merge, undo), with what it changed:
    ``changes`` maps "faces", "people" and "lost_names" to {row id: [before, after]}, a row being None
    where it did not exist (see ``indexer.naming.history``). ``undone_by`` is the undo event that reverted it."""

    __tablename__ = "name_events"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    action: Mapped[str] = mapped_column(String)  # label, enroll, rename, merge, undo
    description: Mapped[str] = mapped_column(String)  # one line, as `indexer history` shows it
    changes: Mapped[dict[str, Any]] = mapped_column(JSON)
    undone_by: Mapped[int | None] = mapped_column(Integer)


class Cluster(Base):
    """A group of unnamed faces that are probably one person. Ids are never reused (AUTOINCREMENT), and a
    refresh keeps a group's id while most of its faces stay together."""

    __tablename__ = "clusters"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Grouping(Base):
    """One grouping of the unnamed faces, or joining of new ones (``naming.clusters.refresh``): what it
    looked at, so the next refresh can tell whether anything changed (nothing: no work) and how much was
    added since the last full grouping (a few faces are joined to their groups; more call for a full
    grouping)."""

    __tablename__ = "groupings"
    __table_args__ = (Index("ix_groupings_embedding_model", "embedding_model"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    embedding_model: Mapped[str] = mapped_column(String)
    how: Mapped[str] = mapped_column(String)  # "full" or "joined"
    link: Mapped[float] = mapped_column(Float)  # the linking distance used (L2, 0–2)
    faces: Mapped[int] = mapped_column(Integer)  # unnamed faces looked at
    newest_face_id: Mapped[int] = mapped_column(Integer)  # the newest of them (0: none): faces above it are new
    digest: Mapped[str] = mapped_column(String)  # sha256 of their ids: the same set of faces, or not
    full_faces: Mapped[int] = mapped_column(Integer)  # unnamed faces the last full grouping looked at
    added_since_full: Mapped[int] = mapped_column(Integer)  # faces new since that one


class Rejection(Base):
    """"This face is not that person", said by hand (``indexer reject``, ``n`` in ``indexer review``): the
    pair is never suggested again, and recognition never gives the face that name."""

    __tablename__ = "rejections"

    face_id: Mapped[int] = mapped_column(ForeignKey("faces.id", ondelete="CASCADE"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)



class FaceSuccession(Base):
    """Where the user's word on a face went when its photo was read anew (``naming.labels``' rule 4): the
    new face its name or rejection was carried to, or the lost name it became. Undo follows these from
    the face an event changed to the face that holds its change now."""

    __tablename__ = "face_successions"

    old_face_id: Mapped[int] = mapped_column(Integer, primary_key=True)  # no longer a face: ids are never reused
    photo_id: Mapped[int] = mapped_column(ForeignKey("photos.id", ondelete="CASCADE"), index=True)
    new_face_id: Mapped[int | None] = mapped_column(Integer)
    lost_name_id: Mapped[int | None] = mapped_column(Integer)
