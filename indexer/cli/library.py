"""Commands about the index itself: init, index, status, check, errors, show."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Annotated

import typer

from indexer.cli.base import (
    JsonOption, Settings, app, box_text, command, describe_summary, log, one_line, print_json, print_table,
    progress_setting, time_text, tqdm_logging, when_text,
)
from indexer.config import MAX_WORKERS


@app.command()
@command
def init(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """Create the data folder and the database (or upgrade it), and show where everything lives. A
    PostgreSQL database of an older indexer is upgraded only here, after you backed it up."""
    from indexer.db.session import current_revision
    from indexer.db.urls import shown
    from indexer.vision.weights import is_present, weights_file

    settings: Settings = ctx.obj
    library = settings.library(upgrade_unsaved=True)
    config = library.config
    model = library.model
    report = {
        "config": str(config.path) if config.path else None,
        "data_dir": str(config.storage.data_dir),
        "database": shown(config.storage.url),
        "schema": current_revision(library.engine),
        "vectors": str(config.storage.vectors_dir),
        "model": model.name,
        "model_weights": str(weights_file(model, config.embedding.models_dir)),
        "model_present": is_present(model, config.embedding.models_dir),
        "roots": [str(r) for r in config.library.roots],
    }
    if json_output:
        print_json(report)
        return
    print_table([
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
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", metavar="ADDRESS", help="Read the photos on the workers of this Dask scheduler "
                                                            "(tcp://host:8786); default: [compute] scheduler, else this machine."),
    ] = None,
    cluster: Annotated[str | None, typer.Option("--cluster", metavar="ADDRESS", hidden=True,
                                                help="The old name of --scheduler.")] = None,
    retry_stopped: Annotated[bool, typer.Option("--retry-stopped", help="Read again the files a limit stopped "
                                                "(too slow: [library] max_seconds_per_file), though they did not change.")] = False,
    workers: Annotated[int | None, typer.Option("--workers", min=1, max=MAX_WORKERS,
                                                help="Photos read at once (default: [index] workers, \"auto\": the cores "
                                                     "this process may use).")] = None,
) -> None:
    """Find and embed every face in the photos under the roots; only new and changed files are read.

    Nothing is removed because it could not be seen (an unmounted disk, a folder left out); --prune does.
    Exit status 75 when another index, enroll or train is writing to the same index.
    """
    from indexer.indexing.run import index_library

    settings: Settings = ctx.obj
    if cluster is not None:
        log.warning("--cluster is now called --scheduler (a cluster is a group of faces); --cluster goes in a later version")
    library = settings.library()
    signal.signal(signal.SIGTERM, _stop_like_interrupt)  # a stopped cron job or service ends its run cleanly
    with tqdm_logging():
        summary = index_library(library, roots, progress=progress_setting(settings, progress), max_minutes=max_minutes,
                                prune=prune, scheduler=scheduler or cluster, retry_stopped=retry_stopped,
                                workers=workers).as_dict()
    if json_output:
        print_json(summary)
        return
    print_table([*summary.items()])


@app.command()
@command
def status(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """How many photos, faces, people and vectors the index holds, and how the last run went."""
    from indexer.answers.status import status as library_status

    settings: Settings = ctx.obj
    config = settings.config()
    with settings.reader() as reader:
        state = library_status(reader, config)
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
        "model": config.embedding.model,
        "data_dir": str(config.storage.data_dir),
    }
    if json_output:
        print_json(report)
        return
    trained = "never (`indexer train`)" if state.trained_at is None else (
        f"{state.trained_at:%Y-%m-%d %H:%M:%S} UTC, {state.trained_people} people")
    if last is None:
        last_text = "never"
    else:
        took = f" in {last.summary['seconds']} s" if last.summary and "seconds" in last.summary else ""
        last_text = f"{last.started_at:%Y-%m-%d %H:%M:%S} UTC, {last.status}{took}"
        if last.summary:
            last_text += ": " + describe_summary(last.summary)
    counts = [(k, report[k]) for k in ("photos", "faces", "people", "labelled_faces", "vectors", "errors")]
    print_table([*counts, ("last_run", last_text), ("trained", trained), ("model", report["model"]),
                  ("data_dir", report["data_dir"])])


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
        print_json(report.as_dict())
    else:
        faces = ", ".join(f"{n} {model}" for model, n in sorted(report.faces.items())) or "0"
        vectors = ", ".join(f"{n} {model}" for model, n in sorted(report.vectors.items())) or "0"
        print_table([("photos", report.photos), ("failed", report.failed), ("faces", faces), ("vectors", vectors)])
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
    """The files that could not be indexed, with the reason and when they were last tried; and those a
    limit cut short though they were indexed (marked "indexed")."""
    from indexer.answers.photos import failed_files

    settings: Settings = ctx.obj
    with settings.reader() as reader:
        failed = failed_files(reader, settings.config().library)
    if json_output:
        print_json([{"path": f.path, "reason": f.reason, "tried_at": f.tried_at, **({"indexed": True} if f.indexed else {})}
                    for f in failed])
        return
    for f in failed:
        typer.echo(f"{one_line(f.path)}\t{'indexed, but ' if f.indexed else ''}{one_line(f.reason)}\t{f.tried_at:%Y-%m-%d %H:%M:%S} UTC")
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
    from indexer.answers.photos import photo_record

    with ctx.obj.reader() as reader:
        record = photo_record(reader, photo)
    if json_output:
        print_json(record.as_dict())
        return
    kind = f"a video of {time_text(record.duration)}, " if record.duration is not None else ""
    size = f"{record.width}×{record.height}" if record.width and record.height else "size not known"
    state = f"not indexed: {record.error}" if record.error else f"{kind}{size}, {len(record.faces)} face(s)"
    typer.echo(f"{one_line(record.photo)}: {state}; read {record.indexed_at:%Y-%m-%d %H:%M:%S} UTC")
    if record.faces_from is not None:
        typer.echo(f"one shot with {one_line(record.faces_from)}: its faces were read from that file")
    elif len(record.shot) > 1:
        typer.echo(f"one shot with {', '.join(one_line(path) for path in record.shot[1:])}: its faces are theirs too")
    for face in record.faces:
        score = f"{face.score:.2f}" if face.score is not None else "-"
        typer.echo(f"face {face.face_id}\t{box_text(face.box)}\t{face.detection:.2f}\t{face.person or 'unknown'}"
                   f"\t{score}\t{face.source or '-'}\t{face.origin}{when_text(face)}")
