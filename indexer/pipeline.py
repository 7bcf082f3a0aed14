"""The indexing run: scan → decode → detect → crop → embed (batched) → store → vectors.

Incremental: a file whose size and modification time are unchanged is not opened. A changed file has
its faces replaced, and the names given by hand move to the new face at the same place; a file gone from
a scanned root loses its faces and vectors. A file that cannot be indexed is stored with the reason and
counted; the run goes on. Work is committed every few photos, so an interrupted run loses at most one
batch and the next run carries on. Once ``indexer train`` has run, new faces are named as they are stored.
"""

from __future__ import annotations

import functools
import logging
import os
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from sqlalchemy import update
from tqdm import tqdm

from indexer.db import queries
from indexer.db.models import Face, Photo, Run, utcnow
from indexer.detect import DetectedFace
from indexer.errors import IndexerError, RootNotFound
from indexer.fetch import sha256_file
from indexer.imaging import UnreadablePhoto, crop_face, load_photo
from indexer.library import Library
from indexer.lock import writer_lock
from indexer.recognize import one_name_per_photo
from indexer.scanner import LibraryScan, ScannedFile, look_at

log = logging.getLogger(__name__)

COMMIT_EVERY_PHOTOS = 32
READ_AHEAD = 2  # photos decoded ahead of detection (memory: up to this many decoded photos more)


@dataclass
class IndexSummary:
    """What one run did. ``scanned`` = new + changed + unchanged + moved image files found under the
    roots; ``moved`` counts photos found under a new path with the same content (they keep their faces
    and names); ``faces_named`` counts new faces recognition named; ``errors`` counts the files this run
    could not index (a file that failed before is tried again on every run, and counted again if it fails
    again); ``remaining`` counts the files left for the next run when the time budget ran out;
    ``seconds`` is wall time."""

    scanned: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    removed: int = 0
    moved: int = 0
    faces_added: int = 0
    faces_named: int = 0
    errors: int = 0
    remaining: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, int | float]:
        return asdict(self)


def resolve_roots(roots: list[Path] | tuple[Path, ...]) -> tuple[tuple[Path, ...], tuple[Path, ...]]:
    """(existing folders, missing ones), absolute, without any folder that lies inside another (it would
    be walked twice). A root that exists but is not a folder raises RootNotFound."""
    present, missing = [], []
    for root in roots:
        path = Path(root).expanduser()
        if not path.exists():
            missing.append(path.resolve())
        elif not path.is_dir():
            raise RootNotFound(f"not a folder: {root}")
        else:
            present.append(path.resolve())
    unique = sorted(set(present), key=lambda p: len(p.parts))
    return tuple(p for i, p in enumerate(unique) if not any(p.is_relative_to(q) for q in unique[:i])), tuple(missing)


def _is_under(path: str, folders: tuple[str, ...]) -> bool:
    return any(path.startswith(folder) for folder in folders)


def _as_prefix(folder: str | Path) -> str:
    return os.path.join(str(folder), "")


def _state(found: ScannedFile, before: queries.KnownPhoto | None, analysis: str) -> str:
    """What a file found on disk is to the index: ``new``; ``changed`` (size or modification time);
    ``retry`` (unchanged, but it could not be indexed last time: permissions get fixed, disks come back);
    ``outdated`` (indexed with other settings); or ``unchanged``. All but ``unchanged`` are read."""
    if before is None:
        return "new"
    if (before.size, before.mtime_ns) != (found.size, found.mtime_ns):
        return "changed"
    if before.failed:
        return "retry"
    return "outdated" if before.analysis != analysis else "unchanged"


@dataclass
class _Analysed:
    """One file after decoding and detection, waiting for its embeddings to be written."""

    file: ScannedFile
    known: queries.KnownPhoto | None
    error: str | None = None
    width: int | None = None
    height: int | None = None
    faces: list[DetectedFace] = field(default_factory=list)
    crops: list[np.ndarray] = field(default_factory=list)
    content_hash: str | None = None


@dataclass(frozen=True)
class IndexedFile:
    """A file ``index_files`` was given: its photo id, or why it could not be indexed."""

    path: str
    photo_id: int | None
    error: str | None


def index_files(library: Library, paths: list[str], progress: bool | None = None) -> list[IndexedFile]:
    """Index exactly these files (absolute paths), wherever they are, reading only the new and changed
    ones; nothing else is scanned or removed. Used to enroll photos."""
    job = _IndexRun(library, (), progress)
    job.vectors = library.vectors(job.model.name, job.model.dimensions)
    with library.session() as session:
        known = queries.known_photos(session, paths)
    todo = []
    for path in dict.fromkeys(paths):
        found, before = look_at(path), known.get(path)
        if _state(found, before, job.analysis) != "unchanged":
            todo.append((found, before))
    try:
        if todo:
            job.analyse(todo)
    finally:
        job.save_vectors()
    with library.session() as session:
        after = queries.photo_outcomes(session, paths)
    return [IndexedFile(path, *after.get(path, (None, None))) for path in paths]


def index_library(
    library: Library, roots: list[Path] | None = None, progress: bool | None = None, max_minutes: float | None = None
) -> IndexSummary:
    """Bring the index up to date with the files under ``roots`` (default: the configured roots).

    ``progress``: True or False to show or hide the progress bars on stderr; None shows them on a terminal.
    ``max_minutes``: stop reading new photos after this many minutes (what is done is kept; the next run
    goes on from there). Holds the writer lock (AlreadyRunning when another writer has it).
    """
    config_roots = library.config.library.roots
    chosen = roots if roots else config_roots
    if not chosen:
        where = library.config.path or "the configuration"
        raise IndexerError(f"no folders to index: name one, or set [library] roots in {where}")
    present, missing = resolve_roots(chosen)
    with writer_lock(library.config.storage.data_dir, "index"):
        _check_missing_roots(library, missing)
        return _run(library, present, missing, progress, max_minutes)


def _check_missing_roots(library: Library, missing: tuple[Path, ...]) -> None:
    """A missing root the index holds photos from is an unmounted disk: warn and leave its photos alone.
    One it holds nothing from is a mistake in the command: raise RootNotFound."""
    for root in missing:
        with library.session() as session:
            held = queries.count_photos_under(session, _as_prefix(root))
        if not held:
            raise RootNotFound(f"folder to index does not exist: {root}")
        log.warning("folder %s is missing (a disk not mounted?): its %d photo(s) in the index are left alone", root, held)


def _run(library: Library, present: tuple[Path, ...], missing: tuple[Path, ...], progress: bool | None,
         max_minutes: float | None) -> IndexSummary:
    with library.session() as session, session.begin():
        run = Run(status="running", roots=[str(r) for r in (*present, *missing)])
        session.add(run)
    job = _IndexRun(library, present, progress, max_minutes)
    status = "failed"
    try:
        job.run()
        status = "out of time" if job.summary.remaining else "completed"
    except KeyboardInterrupt:
        status = "interrupted"
        raise
    finally:
        job.summary.seconds = round(time.monotonic() - job.started, 1)
        try:
            job.save_vectors()
            with library.session() as session, session.begin():
                finished = session.get(Run, run.id)
                finished.status, finished.finished_at, finished.summary = status, utcnow(), job.summary.as_dict()
        except Exception:
            if status != "interrupted":
                raise
            # Already stopping for another reason, which is the one to report; the next run repairs the rest.
            log.warning("could not record the end of the %s run", status, exc_info=log.isEnabledFor(logging.DEBUG))
    return job.summary


class _IndexRun:
    def __init__(self, library: Library, roots: tuple[Path, ...], progress: bool | None, max_minutes: float | None = None):
        self.library = library
        self.config = library.config
        self.roots = roots
        self.model = library.model
        self.analysis = library.config.analysis  # recorded on every photo this run indexes
        self.bars_disabled = None if progress is None else not progress
        self.summary = IndexSummary()
        self.started = time.monotonic()
        self.deadline = None if max_minutes is None else self.started + 60 * max_minutes
        self.hashes: dict[str, str] = {}  # content hashes computed while matching moves, by path
        self.vectors = None
        self._vectors_dirty = False

    @functools.cached_property
    def recognizer(self):
        """The trained labelling rule, loaded on first need; None before `indexer train` (or when its
        file is unusable: then new faces stay unnamed and the run goes on)."""
        from indexer.classifier import ClassifierUnusable
        from indexer.training import load_recognizer

        try:
            return load_recognizer(self.library)
        except ClassifierUnusable as e:
            log.warning("new faces are not named: %s", e)
            return None

    def save_vectors(self) -> None:
        if self.vectors is not None and self._vectors_dirty:
            self.vectors.save(self.library.vectors_path(self.model.name))
            self._vectors_dirty = False

    def run(self) -> None:
        scan = LibraryScan(self.roots, self.config.library.extensions, self.config.library.exclude)
        with tqdm(desc="scanning", unit=" files", disable=self.bars_disabled, leave=False) as bar:
            files = []
            for found in scan:
                files.append(found)
                bar.update()
        # Checked against the database (and rebuilt where they disagree) on every run.
        self.vectors = self.library.vectors(self.model.name, self.model.dimensions)
        todo = self._compare(files, [*scan.unlisted_dirs, *self._empty_roots(files)])
        if todo:
            self.analyse(todo)

    def _empty_roots(self, files: list[ScannedFile]) -> list[str]:
        """Roots in which nothing was found although the index holds photos from them: an unmounted disk
        looks like this, so nothing under them is taken for deleted."""
        empty = []
        for root in self.roots:
            prefix = _as_prefix(root)
            if any(f.path.startswith(prefix) for f in files):
                continue
            with self.library.session() as session:
                held = queries.count_photos_under(session, prefix)
            if held:
                log.warning("folder %s is empty (a disk not mounted?): its %d photo(s) in the index are left alone", root, held)
                empty.append(str(root))
        return empty

    def _compare(self, files: list[ScannedFile], unlisted_dirs: list[str]) -> list[tuple[ScannedFile, queries.KnownPhoto | None]]:
        """Count new, changed and unchanged files; delete what is gone; return what must be read."""
        folders = tuple(_as_prefix(root) for root in self.roots)
        unlisted = tuple(_as_prefix(folder) for folder in unlisted_dirs)
        with self.library.session() as session:
            known = {p: k for p, k in queries.known_photos(session).items() if _is_under(p, folders)}
        todo = []
        outdated = 0
        for found in files:
            before = known.pop(found.path, None)
            state = _state(found, before, self.analysis)
            if state == "new":
                self.summary.new += 1
            elif state in ("changed", "outdated"):
                self.summary.changed += 1
                outdated += state == "outdated"
            else:
                self.summary.unchanged += 1
                if state == "unchanged":
                    continue
            todo.append((found, before))
        if outdated:
            log.info("%d photo(s) were indexed with other settings (model, detection or margin): indexing them again", outdated)
        self.summary.scanned = len(files)
        gone = {k.id: k for k in known.values() if not _is_under(k.path, unlisted)}
        todo = self._recognise_moves(todo, gone)
        gone = list(gone)
        if gone:
            with self.library.session() as session, session.begin():
                face_ids = queries.delete_photos(session, gone)
            self._forget_vectors(face_ids)
            self.summary.removed = len(gone)
            log.info("removed %d photo(s) no longer on disk (%d faces)", len(gone), len(face_ids))
        return todo

    def _recognise_moves(self, todo: list[tuple[ScannedFile, queries.KnownPhoto | None]],
                         gone: dict[int, queries.KnownPhoto]) -> list[tuple[ScannedFile, queries.KnownPhoto | None]]:
        """Match new files to photos gone from their old path, by content: the photo row (faces, ids,
        names) moves to the new path and nothing is read again. ``gone`` loses the matched photos;
        returns what is still to be read. Photos indexed before content hashes were kept match by size,
        modification time and file name."""
        by_size: dict[int, list[queries.KnownPhoto]] = {}
        for photo in gone.values():
            if not photo.failed:
                by_size.setdefault(photo.size, []).append(photo)
        if not by_size:
            return todo
        moves: list[tuple[ScannedFile, queries.KnownPhoto]] = []
        still = []
        for found, before in todo:
            match = None
            if before is None and found.problem is None and by_size.get(found.size):
                match = self._same_content(found, by_size[found.size])
            if match is None:
                still.append((found, before))
                continue
            by_size[found.size].remove(match)
            del gone[match.id]
            moves.append((found, match))
        if moves:
            with self.library.session() as session, session.begin():
                for found, photo in moves:
                    session.execute(
                        update(Photo).where(Photo.id == photo.id).values(path=found.path, size=found.size, mtime_ns=found.mtime_ns)
                    )
            self.summary.moved += len(moves)
            self.summary.new -= len(moves)
            log.info("%d photo(s) moved or renamed: their faces and names moved with them", len(moves))
        return still

    def _same_content(self, found: ScannedFile, candidates: list[queries.KnownPhoto]) -> queries.KnownPhoto | None:
        name = os.path.basename(found.path)
        for photo in candidates:
            if photo.content_hash is None and (photo.mtime_ns, os.path.basename(photo.path)) == (found.mtime_ns, name):
                return photo
        if not any(photo.content_hash for photo in candidates):
            return None
        try:
            digest = self.hashes[found.path] = sha256_file(Path(found.path))
        except OSError:
            return None  # reading it will say what is wrong
        return next((photo for photo in candidates if photo.content_hash == digest), None)

    def _forget_vectors(self, face_ids: list[int]) -> None:
        if face_ids:
            self.vectors.remove(face_ids)
            self._vectors_dirty = True

    def analyse(self, todo: list[tuple[ScannedFile, queries.KnownPhoto | None]]) -> None:
        """Read, detect, embed and store these files (with what the database knew of each, if anything)."""
        detector = self.library.detector()
        embedder = self.library.embedder()
        if (embedder.model_name, embedder.dimensions) != (self.model.name, self.model.dimensions):
            raise RuntimeError(f"embedder {embedder.model_name} does not match the configured model {self.model.name}")
        margin = self.config.embedding.margin
        batch_size = self.config.embedding.batch_size
        pending: list[_Analysed] = []
        # Decoding and hashing run one photo ahead in a second thread, on the other core, while
        # TensorFlow works on the current photo (both release the GIL).
        reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="indexer-read")
        ahead: deque[Future] = deque(reader.submit(self._read, found) for found, _ in todo[:READ_AHEAD])
        try:
            with tqdm(total=len(todo), desc="indexing", unit=" photos", disable=self.bars_disabled) as bar:
                for done, (found, before) in enumerate(todo):
                    if self.deadline is not None and time.monotonic() >= self.deadline:
                        self.summary.remaining = len(todo) - done
                        log.warning("time budget used up: %d photo(s) left for the next run", self.summary.remaining)
                        break
                    pixels, item = ahead.popleft().result()
                    item.known = before
                    if done + READ_AHEAD < len(todo):
                        ahead.append(reader.submit(self._read, todo[done + READ_AHEAD][0]))
                    if pixels is not None:
                        try:
                            item.faces = detector.detect(pixels)
                            item.crops = [crop_face(pixels, f.box, margin, embedder.input_size) for f in item.faces]
                        except Exception as e:  # one photo must never stop the night's run
                            log.debug("face detection failed on %s", found.path, exc_info=True)
                            item.error = f"face detection failed: {type(e).__name__}: {e}"
                            item.faces, item.crops = [], []
                        del pixels
                    pending.append(item)
                    bar.update()
                    if sum(len(p.crops) for p in pending) >= batch_size or len(pending) >= COMMIT_EVERY_PHOTOS:
                        self._store(pending, embedder)
                        pending = []
                        bar.set_postfix(faces=self.summary.faces_added, errors=self.summary.errors)
                self._store(pending, embedder)
                bar.set_postfix(faces=self.summary.faces_added, errors=self.summary.errors)
        finally:
            reader.shutdown(wait=True, cancel_futures=True)

    def _read(self, found: ScannedFile) -> tuple[np.ndarray | None, _Analysed]:
        """Decode and hash one file (in the reader thread): (upright RGB pixels or None, the item)."""
        item = _Analysed(found, None, error=found.problem)
        if item.error is not None:
            return None, item
        try:
            pixels = load_photo(found.path, self.config.library.max_megapixels)
            item.content_hash = self._read_whole(found)
        except UnreadablePhoto as e:
            item.error = str(e)
            return None, item
        except Exception as e:  # a decoder's own bug must not stop the run either
            log.debug("reading %s failed", found.path, exc_info=True)
            item.error = f"cannot decode image: {type(e).__name__}: {e}"
            return None, item
        item.height, item.width = pixels.shape[:2]
        return pixels, item

    def _read_whole(self, found: ScannedFile) -> str:
        """The file's sha256, after checking it has not changed since the scan (a photo still being
        copied in is read again next run rather than stored half-written)."""
        try:
            digest = self.hashes.pop(found.path, None) or sha256_file(Path(found.path))
            now = os.stat(found.path)
        except OSError as e:
            raise UnreadablePhoto(f"cannot read file: {e.strerror}") from e
        if (now.st_size, now.st_mtime_ns) != (found.size, found.mtime_ns):
            raise UnreadablePhoto("the file changed while it was being read (still being copied?); it is read again next run")
        return digest

    def _store(self, items: list[_Analysed], embedder) -> None:
        """Embed the crops of ``items`` in one batch and write them in one transaction."""
        if not items:
            return
        crops = [crop for item in items for crop in item.crops]
        embeddings = embedder.embed(crops)
        added: list[Face] = []
        replaced: list[int] = []
        assert len(embeddings) == len(crops)
        with self.library.session() as session, session.begin():
            offset = 0
            stored: list[tuple[Photo, list[Face], list[queries.ManualLabel]]] = []
            for item in items:
                kept: list[queries.ManualLabel] = []
                if item.known is None:
                    photo = Photo(path=item.file.path)
                    session.add(photo)
                else:
                    photo = session.get(Photo, item.known.id)
                    kept = queries.manual_labels_of(session, photo.id)
                    replaced += queries.delete_faces_of(session, [photo.id])
                photo.size, photo.mtime_ns, photo.indexed_at = item.file.size, item.file.mtime_ns, utcnow()
                photo.width, photo.height, photo.error = item.width, item.height, item.error
                photo.analysis = self.analysis
                photo.content_hash = item.content_hash
                rows = []
                for face in item.faces:
                    vector = embeddings[offset]
                    offset += 1
                    row = Face(
                        photo=photo,
                        box_x=face.box[0], box_y=face.box[1], box_w=face.box[2], box_h=face.box[3],
                        detection=face.confidence,
                        landmarks={name: list(point) for name, point in face.landmarks.items()},
                        embedding=vector.astype("<f4").tobytes(),
                        embedding_model=self.model.name,
                    )
                    session.add(row)
                    rows.append(row)
                added += rows
                stored.append((photo, rows, kept))
            session.flush()
            new_ids = np.asarray([row.id for row in added], dtype=np.int64)
            for photo, rows, kept in stored:
                _carry_over(kept, rows, photo.path)
            self._name_new_faces(added, embeddings)
        self._forget_vectors(replaced)
        if len(new_ids):
            self.vectors.add(new_ids, embeddings)
            self._vectors_dirty = True
        self.summary.faces_added += len(new_ids)
        self.summary.faces_named += sum(row.label_source == "auto" for row in added)
        for item in items:
            if item.error is not None:
                self.summary.errors += 1
                log.warning("skipped %s: %s", item.file.path, item.error)

    def _name_new_faces(self, faces: list[Face], embeddings: np.ndarray) -> None:
        """Name the new faces not labelled by hand with the trained rule (one name per photo)."""
        if not faces or self.recognizer is None:
            return
        open_rows = [i for i, face in enumerate(faces) if face.label_source is None]
        answers = self.recognizer.match(embeddings[open_rows]) if open_rows else []
        taken = {(face.photo_id, face.person_id) for face in faces if face.label_source == "manual" and face.person_id}
        decided = one_name_per_photo(
            ((i, faces[i].photo_id, answer) for i, answer in zip(open_rows, answers, strict=True)), taken
        )
        for i, match in decided.items():
            if match is not None:
                faces[i].person_id, faces[i].label_source, faces[i].label_score = match.person_id, "auto", match.score


# A face counts as the same face after re-indexing when the boxes overlap this much (intersection over union).
SAME_FACE_OVERLAP = 0.5


def _carry_over(labels: list[queries.ManualLabel], faces: list[Face], path: str) -> None:
    """Give the names given by hand to the faces of a re-indexed photo to the new faces at the same
    place (best overlap first); a name whose face is no longer found is reported."""
    pairs = sorted(
        ((box_overlap(label.box, face.box), i, j) for i, label in enumerate(labels) for j, face in enumerate(faces)),
        reverse=True,
    )
    placed_labels, placed_faces = set(), set()
    for overlap, i, j in pairs:
        if overlap < SAME_FACE_OVERLAP:
            break
        if i in placed_labels or j in placed_faces:
            continue
        placed_labels.add(i)
        placed_faces.add(j)
        faces[j].person_id, faces[j].label_source, faces[j].label_score = labels[i].person_id, "manual", labels[i].score
    lost = len(labels) - len(placed_labels)
    if lost:
        log.warning("%s changed: %d face(s) named by hand are no longer found in it", path, lost)


def same_face(a, b) -> bool:
    """Whether two [x, y, w, h] boxes frame the same face: each centre lies within the middle half of the
    other box. (MTCNN frames one face a little differently at different scales, so boxes found on a
    downscaled copy can overlap the full-size ones by less than half and still be the same face.)"""
    def centre_within(p, q) -> bool:
        cx, cy = p[0] + p[2] / 2, p[1] + p[3] / 2
        return abs(cx - (q[0] + q[2] / 2)) <= q[2] / 4 and abs(cy - (q[1] + q[3] / 2)) <= q[3] / 4

    return centre_within(a, b) and centre_within(b, a)


def box_overlap(a, b) -> float:
    """Intersection over union of two [x, y, w, h] boxes, 0–1."""
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    width = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    height = max(0, min(ay + ah, by + bh) - max(ay, by))
    inter = width * height
    union = aw * ah + bw * bh - inter
    return inter / union if union > 0 else 0.0
