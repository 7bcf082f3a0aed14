"""The indexing run: take the writer lock, scan, plan (``plan.py``), read the photos (``analyse.py``),
store them (``store.py``), keep the vector file in step, and record the run with its summary.

Incremental and interruptible: work is committed in batches, so an interrupted run loses at most one
batch and the next run carries on.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import math
import sys
import time
from urllib.parse import urlsplit
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
from tqdm import tqdm

from indexer.db import queries
from indexer.db.values import LimitHit, RunStatus
from indexer.errors import IndexerError, RootNotFound
from indexer.indexing.analyse import FaceAnalyser
from indexer.indexing.plan import FileState, FolderState, LocalDisk, Plan, ToRead, file_state, plan_run
from indexer.indexing.shots import LIVE_PHOTO_SECONDS, Companion, plan_shots
from indexer.indexing.store import Analysed, CompanionFile, apply_moves_and_removals, store_batch, store_companions
from indexer.config import LibraryConfig
from indexer.library import Library
from indexer.files import folder_prefix
from indexer.indexing.scan import LibraryScan, look_at
from indexer.vision.imaging import photo_formats, upright_size

log = logging.getLogger(__name__)

# What a limit that let a file be indexed did to it (the others say so in the file's error).
LIMITED = {LimitHit.SAMPLED: "indexed from fewer frames: it has more cuts than [library] max_cut_samples_per_minute "
                             "allows to look at"}


@dataclass
class IndexSummary:
    """What one run did. ``scanned`` = new + changed + unchanged + moved image files found under the
    roots; ``moved`` counts photos found under a new path with the same content (they keep their faces
    and names); ``kept`` counts photos not found but kept (their folder empty or missing, out of scope,
    or too many at once: see the warnings; ``--prune`` removes them); ``faces_named`` counts new faces
    recognition named; ``names_lost`` counts names given by hand that no face of their re-read photo
    matches (``indexer lost-names``); ``errors`` counts the files this run could not index (a file that
    failed before is tried again on every run, and counted again if it fails again); ``remaining`` counts
    the files left for the next run when the time budget ran out; ``companions`` counts the files this
    run recorded as one shot with another file, whose faces they share (a RAW beside its JPEG: not read;
    one recorded before and unchanged is not counted again); ``limited`` counts the files a limit stopped
    or cut short (each said in a warning and by `indexer errors`: see ``db.values.LimitHit``);
    ``dates_ignored`` counts the impossible dates taken passed over (year 0, 1970-01-01, the future:
    ``indexing.dating``); ``seconds`` is wall time."""

    scanned: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    removed: int = 0
    moved: int = 0
    kept: int = 0
    companions: int = 0
    limited: int = 0
    faces_added: int = 0
    faces_named: int = 0
    names_lost: int = 0
    errors: int = 0
    remaining: int = 0
    dates_ignored: int = 0
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


@dataclass(frozen=True)
class IndexedFile:
    """A file ``index_files`` was given: its photo id, or why it could not be indexed."""

    path: str
    photo_id: int | None
    error: str | None


def index_files(library: Library, paths: list[str], progress: bool | None = None) -> list[IndexedFile]:
    """Index exactly these files (absolute paths), wherever they are, reading only the new and changed
    ones; nothing else is scanned or removed. Used to enroll photos; the caller holds the writer lock."""
    writer = _Writer(library, progress)
    with library.session() as session:
        known = queries.known_photos(session, paths)
    todo = []
    for path in dict.fromkeys(paths):
        found, before = look_at(path), known.get(path)
        if file_state(found, before, writer.face_settings) is not FileState.UNCHANGED:
            todo.append(ToRead(found, before))
    try:
        writer.read_and_store(todo)
    finally:
        writer.save_vectors()
    writer.date(paths)
    with library.session() as session:
        after = queries.photo_outcomes(session, paths)
    return [IndexedFile(path, *after.get(path, (None, None))) for path in paths]


def index_library(library: Library, roots: list[Path] | None = None, progress: bool | None = None,
                  max_minutes: float | None = None, prune: bool = False, scheduler: str | None = None,
                  retry_stopped: bool = False, workers: int | None = None) -> IndexSummary:
    """Bring the index up to date with the files under ``roots`` (default: the configured roots).

    ``progress``: True or False to show or hide the progress bars on stderr; None shows them on a terminal.
    ``max_minutes``: stop reading new photos after this many minutes (what is done is kept; the next run
    goes on from there). ``prune``: remove every photo not found under the roots, whatever the reason
    (folder empty or missing, out of scope, many at once), but under a folder that could not be listed.
    ``scheduler``: the address of a Dask scheduler whose workers read the photos (default: ``[compute]
    scheduler``; None there too: this machine reads them; see ``indexing.dask_workers``). ``retry_stopped``:
    read again the files a limit stopped (``LimitHit.STOPPED``), though they did not change. ``workers``:
    photos read at once here (default: ``[index] workers``). Holds the writer lock (or AlreadyRunning).
    """
    if max_minutes is not None and not (math.isfinite(max_minutes) and max_minutes >= 0):
        raise IndexerError(f"--max-minutes must be a finite number of minutes from 0 up, not {max_minutes}")
    scheduler = scheduler or library.config.compute.scheduler
    if scheduler is not None:
        check_scheduler(scheduler)
    chosen = roots if roots else library.config.library.roots
    if not chosen:
        where = library.config.path or "the configuration"
        raise IndexerError(f"no folders to index: name one, or set [library] roots in {where}")
    present, missing = resolve_roots(chosen)
    with library.writer_lock("index"):
        _check_missing_roots(library, missing, prune)
        with library.transaction() as session:
            queries.fail_abandoned_runs(session)  # we hold the lock: a run still "running" died unrecorded
            run_id = queries.start_run(session, [str(r) for r in (*present, *missing)])
        writer = _Writer(library, progress, max_minutes, scheduler, workers)
        status = RunStatus.FAILED
        try:
            _index_roots(writer, present, missing if prune else (), prune, retry_stopped)
            status = RunStatus.OUT_OF_TIME if writer.summary.remaining else RunStatus.COMPLETED
        except KeyboardInterrupt:
            status = RunStatus.INTERRUPTED
            raise
        finally:
            writer.summary.seconds = round(time.monotonic() - writer.started, 1)
            stopping = sys.exc_info()[1] is not None
            try:
                writer.save_vectors()
                with library.transaction() as session:
                    queries.finish_run(session, run_id, status, writer.summary.as_dict())
            except Exception:
                if not stopping:
                    raise
                # Already stopping for another reason, which is the one to report (a database that went away
                # cannot record it either); the next run marks this one failed and repairs the rest.
                log.warning("could not record the end of the %s run", status, exc_info=log.isEnabledFor(logging.DEBUG))
        _refresh_clusters(library)
        _refresh_gallery(library, progress)
        return writer.summary


def check_scheduler(address: str) -> None:
    """IndexerError unless ``address`` looks like a Dask scheduler's (``tcp://host:8786``) and Dask's
    client is installed (the ``cluster`` extra)."""
    try:
        parts = urlsplit(address)
        valid = bool(parts.scheme) and bool(parts.hostname) and parts.port is not None and " " not in address
    except ValueError:
        valid = False
    if not valid:
        raise IndexerError(f"not a Dask scheduler address: {address!r} (like tcp://host:8786)")
    if importlib.util.find_spec("distributed") is None:
        raise IndexerError("--scheduler needs Dask's distributed package: pip install 'indexer[cluster]'")


def _refresh_clusters(library: Library) -> None:
    """Group the unnamed faces anew (``indexer.naming.clusters``); a failure there never fails the run."""
    from indexer.naming.clusters import refresh

    try:
        refresh(library)
    except Exception:
        log.warning("could not group the unnamed faces into clusters; `indexer clusters` shows the last groups",
                    exc_info=log.isEnabledFor(logging.DEBUG))


def _refresh_gallery(library: Library, progress: bool | None) -> None:
    """Refresh the gallery of [gallery] dir, if set; a failure there never fails the run."""
    folder = library.config.gallery.dir
    if folder is None:
        return
    from indexer.outputs.gallery.build import build_gallery

    try:
        report = build_gallery(library, folder, progress=progress)
        log.info("gallery %s: %d pages written, %d thumbnails and %d previews made, %d files removed, in %.1f s",
                 report.folder, report.pages_written, report.thumbnails_made, report.previews_made, report.removed,
                 report.seconds)
    except Exception as e:
        log.warning("could not refresh the gallery in %s: %s", folder, e, exc_info=log.isEnabledFor(logging.DEBUG))


def _check_missing_roots(library: Library, missing: tuple[Path, ...], prune: bool) -> None:
    """A missing root the index holds photos from is an unmounted disk: warn and leave its photos alone
    (unless pruning). One it holds nothing from is a mistake in the command: raise RootNotFound."""
    for root in missing:
        with library.session() as session:
            held = queries.count_photos_under(session, folder_prefix(root))
        if not held:
            raise RootNotFound(f"folder to index does not exist: {root}")
        if not prune:
            log.warning("folder %s is missing (a disk not mounted?): its %d photo(s) in the index are left alone", root, held)


def _index_roots(writer: _Writer, present: tuple[Path, ...], missing: tuple[Path, ...], prune: bool,
                 retry_stopped: bool = False) -> None:
    library, config = writer.library, writer.library.config
    own = tuple(folder.resolve() for folder in (config.storage.data_dir, config.gallery.dir) if folder is not None)
    scan = LibraryScan(present, config.library.extensions, config.library.exclude, own)
    with tqdm(desc="scanning", unit=" files", disable=writer.bars_disabled, leave=False) as bar:
        files = []
        for found in scan:
            files.append(found)
            bar.update()
    roots = (*present, *missing)
    prefixes = tuple(folder_prefix(root) for root in roots)
    with library.session() as session:
        known = {path: photo for path, photo in queries.known_photos(session).items() if path.startswith(prefixes)}
    plan = plan_run(files, known, roots, writer.face_settings, LocalDisk(), scan.unlisted_dirs, prune,
                    config.library.max_removed_share, retry_stopped)
    companions = plan_shots(plan, files, known, functools.partial(_holding_users_work, library),
                            functools.partial(_one_picture, config.library))
    _report_plan(plan, len(known))
    writer.vectors  # checked against the database (and rebuilt where they disagree) on every run
    with library.transaction() as session:
        removed_faces, names_removed = apply_moves_and_removals(session, plan, companions)
    writer.forget_vectors(removed_faces)
    if plan.remove:
        level = logging.WARNING if names_removed else logging.INFO
        log.log(level, "removed %d photo(s) no longer on disk (%d faces%s)", len(plan.remove), len(removed_faces),
                f", {names_removed} of them named by hand" if names_removed else "")
    summary = writer.summary
    summary.scanned, summary.new, summary.changed, summary.unchanged = plan.scanned, plan.new, plan.changed, plan.unchanged
    summary.moved, summary.removed, summary.kept = len(plan.moves), len(plan.remove), plan.kept
    writer.read_and_store(plan.read, plan.hashes)
    summary.companions = writer.store_companions(companions, plan.hashes)
    if plan.shot_checks:
        with library.transaction() as session:
            queries.record_shot_checks(session, plan.shot_checks)
    writer.date(None)  # every photo of the index not dated yet: those an older version indexed too


def _one_picture(config: LibraryConfig, a: str, b: str) -> bool:
    """Whether the files at ``a`` and ``b`` show one picture (``shots``): the same shape and a matching small
    preview (``vision.glance``); a video only when it is short enough to be a Live Photo's (its length
    measured when its header has none; unmeasurable: long)."""
    from indexer.vision import glance
    from indexer.vision.media import is_video
    from indexer.vision.video import BadVideo, video_info

    for path in (a, b):
        if is_video(path):
            try:
                info = video_info(path, config.max_megapixels)
            except BadVideo:
                return False
            if not info.measured or info.duration > LIVE_PHOTO_SECONDS:
                return False
    formats = photo_formats(config.extensions)
    seen = [glance.glance(path, formats, config.max_megapixels) for path in (a, b)]
    # A file that cannot be read now cannot say: taken for one picture by name and kind (its reading fails
    # and it leaves the shot; the next run decides again without it).
    return None in seen or glance.same_picture(*seen)


def _holding_users_work(library: Library, photo_ids: list[int]) -> set[int]:
    with library.session() as session:
        return queries.holding_users_work(session, photo_ids)


def _report_plan(plan: Plan, held: int) -> None:
    """Say, as warnings (a --quiet cron log shows them), what was not found but is kept, and why."""
    for folder, photos in sorted(plan.unseen.items()):
        what = {FolderState.MISSING: "missing (moved or deleted, or a disk not mounted?)",
                FolderState.EMPTY: "empty (a disk not mounted?)"}.get(plan.unseen_why[folder], "unreadable")
        log.warning("folder %s is %s: its %d photo(s) in the index are left alone; `indexer index --prune` "
                    "forgets them if they are gone for good", folder, what, len(photos))
    if plan.out_of_scope:
        log.warning("%d photo(s) in the index are still on disk but no longer taken by the settings ([library] "
                    "exclude or extensions, or a hidden name), e.g. %s: kept with their faces and names; "
                    "`indexer index --prune` forgets them", len(plan.out_of_scope), plan.out_of_scope[0].path)
    if plan.held_back:
        log.warning("%d of the %d photo(s) in the index under these folders are gone from disk, more than %s: "
                    "nothing was removed, in case a disk or folder is missing; if they were deleted on purpose, "
                    "run `indexer index --prune`", len(plan.held_back), held, "[library] max_removed_share allows")
    if plan.outdated:
        log.info("%d photo(s) were indexed with other settings (model, detection or margin): indexing them again",
                 plan.outdated)
    if plan.moves:
        log.info("%d photo(s) moved or renamed: their faces and names moved with them", len(plan.moves))


class _Writer:
    """Reads files with the models and stores them, keeping the vector file in step; counts what it did."""

    def __init__(self, library: Library, progress: bool | None, max_minutes: float | None = None,
                 scheduler: str | None = None, workers: int | None = None):
        self.library = library
        self.scheduler = scheduler
        self.workers = workers or library.config.index.workers_here(library.config.runtime.engine)
        self.model = library.model
        self.face_settings = library.config.face_settings  # recorded on every photo this run indexes
        self.bars_disabled = None if progress is None else not progress
        self.summary = IndexSummary()
        self.started = time.monotonic()
        self.deadline = None if max_minutes is None else self.started + 60 * max_minutes
        self._vectors_dirty = False

    @functools.cached_property
    def vectors(self):
        """The model's FAISS index, checked against the database (and rebuilt where they disagree)."""
        return self.library.checked_vectors(self.model.name, self.model.dimensions)

    @functools.cached_property
    def recognizer(self):
        """The trained labelling rule, loaded on first need; None before `indexer train` (or when its
        file is unusable: then new faces stay unnamed and the run goes on)."""
        from indexer.naming.classifier import ClassifierUnusable
        from indexer.naming.training import load_recognizer

        try:
            return load_recognizer(self.library)
        except ClassifierUnusable as e:
            log.warning("new faces are not named: %s", e)
            return None

    def analyser(self):
        """The FaceAnalyser of this machine, or one that reads on a Dask scheduler's workers
        (``indexing.dask_workers``)."""
        if self.scheduler is not None:
            from indexer.indexing.dask_workers import DaskAnalyser

            return DaskAnalyser(self.library.config, self.scheduler)
        analyser = FaceAnalyser.for_library(self.library, self.workers)
        embedder = analyser.embedder
        if (embedder.model_name, embedder.dimensions) != (self.model.name, self.model.dimensions):
            raise RuntimeError(f"embedder {embedder.model_name} does not match the configured model {self.model.name}")
        return analyser

    def forget_vectors(self, face_ids: list[int]) -> None:
        if face_ids:
            self.vectors.remove(face_ids)
            self._vectors_dirty = True

    def save_vectors(self) -> None:
        if self._vectors_dirty:
            self.vectors.save(self.library.vectors_path(self.model.name))
            self._vectors_dirty = False

    def out_of_time(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline

    def read_and_store(self, todo: list[ToRead], hashes: dict[str, str] | None = None) -> None:
        """Read, detect, embed and store ``todo``, a batch per transaction."""
        if not todo:
            return
        self.vectors  # as the database is before this adds to both
        todo = self._with_drawn_faces(todo)
        analyser = self.analyser()
        read = 0
        try:
            with tqdm(total=len(todo), desc="indexing", unit=" photos", disable=self.bars_disabled) as bar:
                for batch in analyser.batches(todo, hashes, self.out_of_time, bar):
                    self._store(batch)
                    read += sum(item.limit_hit != LimitHit.DEADLINE for item in batch)  # a file cut short is not read
                    bar.set_postfix(faces=self.summary.faces_added, errors=self.summary.errors)
        finally:
            if hasattr(analyser, "close"):
                analyser.close()
        if read < len(todo):
            self.summary.remaining = len(todo) - read
            log.warning("time budget used up: %d photo(s) left for the next run", self.summary.remaining)

    def date(self, under: list[str] | None) -> None:
        """Date the photos not dated yet (``dating``) under ``under`` (paths, or folders ending in "/";
        None: all)."""
        from indexer.indexing.dating import date_photos

        dating = date_photos(self.library, under, self.bars_disabled, self.out_of_time)
        self.summary.dates_ignored += dating.ignored

    def store_companions(self, companions: list[Companion], hashes: dict[str, str]) -> int:
        """Record the files of shots whose faces another file of the shot gave (``shots``) that are new or
        changed: their content hash and upright size read first, outside the transaction (a companion as it
        was recorded is not read at all). Returns how many were recorded."""
        companions = [companion for companion in companions if companion.to_record]
        if not companions:
            return 0
        formats = photo_formats(self.library.config.library.extensions)
        files = [CompanionFile(companion, hashes.get(companion.file.path) or LocalDisk().sha256(companion.file.path),
                               upright_size(companion.file.path, formats)) for companion in companions]
        with self.library.transaction() as session:
            return store_companions(session, files, self.face_settings)

    def _with_drawn_faces(self, todo: list[ToRead]) -> list[ToRead]:
        """``todo`` with the faces drawn by hand on the photos it reads again, to be embedded anew."""
        known = [item.before.id for item in todo if item.before is not None]
        if not known:
            return todo
        with self.library.session() as session:
            drawn = queries.drawn_faces_of(session, known)
        return [replace(item, drawn=tuple(drawn.get(item.before.id, ()))) if item.before is not None else item
                for item in todo]

    def _store(self, batch: list[Analysed]) -> None:
        recognizer = self.recognizer if any(item.faces for item in batch) else None  # loaded outside the transaction
        with self.library.transaction() as session:
            stored = store_batch(session, batch, self.face_settings, self.model.name, recognizer)
        self.forget_vectors(stored.replaced)
        if stored.face_ids:
            self.vectors.add(np.asarray(stored.face_ids, dtype=np.int64), stored.vectors)
            self._vectors_dirty = True
        self.summary.faces_added += len(stored.face_ids)
        self.summary.faces_named += stored.named
        self.summary.names_lost += stored.names_lost
        self.summary.errors += len(stored.failed)
        self.summary.limited += len(stored.limited)
        for path, reason in stored.failed:
            log.warning("skipped %s: %s", path, reason)
        for path, limit, reason in stored.limited:
            log.warning("%s: %s", path, reason or LIMITED[limit])
