"""What every command shares: the Typer apps, global options, error handling and exit codes, output helpers.

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
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from indexer.errors import IndexerError
from indexer.vision.engines import ENGINES
from indexer.text import one_line, time_text  # noqa: F401  (the commands print paths and times with them)

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
FaceIdArgument = Annotated[int, typer.Argument(help="The face's id (from review, show, who-is or find).")]


@dataclass
class Settings:
    config_path: Path | None
    verbose: bool
    quiet: bool
    engine: str | None = None
    _config: Any = field(default=None, init=False, repr=False)

    def config(self):
        """The configuration, read once per command (a command may ask for it and a reader or library),
        with ``--engine`` over the file's [runtime] engine."""
        if self._config is None:
            from dataclasses import replace

            from indexer.config import load_config

            config = load_config(self.config_path)
            if self.engine is not None:
                config = replace(config, runtime=replace(config.runtime, engine=self.engine))
            self._config = config
        return self._config

    def library(self, upgrade_unsaved: bool = False):
        from indexer.library import Library

        return Library(self.config(), upgrade_unsaved=upgrade_unsaved)

    def scrubbed(self, text: str) -> str:
        """``text`` without the database password, if the configuration was read (``db.urls.scrub``)."""
        if self._config is None:
            return text
        from indexer.db.urls import scrub

        return scrub(text, self._config.storage.url)

    def reader(self):
        """The database for reading only, without SQLAlchemy where it can (``db.reader``)."""
        from indexer.db.reader import Reader

        return Reader.open(self.config())

    def person_id(self, name: str) -> int:
        """The id of the person called ``name`` (case and Unicode form aside): the CLI's edge turns the names
        typed into the ids the naming commands take. PersonNotFound, naming the closest names, otherwise."""
        from indexer.answers.people import person_called

        with self.reader() as reader:
            return person_called(reader, name)[0]

    def who(self, name: str) -> int | str:
        """Whom a name typed means for a command that names faces: the id of the person called so, or the
        name itself when nobody is (the command makes them)."""
        from indexer.naming.names import PersonNotFound

        try:
            return self.person_id(name)
        except PersonNotFound:
            return name

    def photo_id(self, photo: str) -> int:
        """The id of the photo at ``photo`` (a path as typed) in the index; IndexerError when it holds none."""
        from indexer.answers.photos import photo_id

        with self.reader() as reader:
            return photo_id(reader, photo)


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
    engine: Annotated[
        str | None,
        typer.Option("--engine", metavar="onnx|tensorflow",
                     help="Run the networks on this engine instead of [runtime] engine's (tensorflow needs the "
                          "reference extra)."),
    ] = None,
) -> None:
    _configure_logging(verbose, quiet)
    if engine is not None and engine not in ENGINES:
        typer.echo(f"indexer: error: --engine {engine!r} is none of {', '.join(ENGINES)}", err=True)
        raise typer.Exit(2)
    ctx.obj = Settings(config, verbose, quiet, engine)


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
            typer.echo(f"indexer: error: {ctx.obj.scrubbed(str(e))}", err=True)
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
            reason = _database_failure(e)
            if reason is not None:
                typer.echo(f"indexer: error: {ctx.obj.scrubbed(reason)}", err=True)
                raise typer.Exit(1) from None
            typer.echo(f"indexer: error: unexpected {type(e).__name__}: {ctx.obj.scrubbed(str(e))} (run with -v for the "
                       "traceback)", err=True)
            raise typer.Exit(1) from None

    return wrapper


def _database_failure(error: Exception) -> str | None:
    """What went wrong with the database, in one line, for an error its driver raised (through
    SQLAlchemy); None for any other error."""
    if not type(error).__module__.startswith("sqlalchemy") or not hasattr(error, "orig"):
        return None
    cause = error.orig if error.orig is not None else error
    first = next((line.strip() for line in str(cause).splitlines() if line.strip()), type(cause).__name__)
    if type(error).__name__ in ("OperationalError", "InterfaceError"):
        return f"the database went away or cannot be reached: {first}"
    return f"the database refused: {first}"


def tqdm_logging():
    """Log lines printed above the progress bars instead of through them."""
    from tqdm.contrib.logging import logging_redirect_tqdm

    return logging_redirect_tqdm(loggers=[log])


def print_json(value: Any) -> None:
    typer.echo(json.dumps(value, default=_json_default, ensure_ascii=False))


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat() + "Z"
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def print_table(rows: list[tuple[str, Any]]) -> None:
    width = max(len(key) for key, _ in rows)
    for key, value in rows:
        typer.echo(f"{key:<{width}}  {value}")


def describe_summary(summary: dict[str, Any]) -> str:
    """A run's summary in one line (runs recorded by older versions lack the newer keys; a run that ended
    unrecorded has only its "error")."""
    if "scanned" not in summary:
        return str(summary.get("error", "no summary"))
    kept = f", {summary['kept']} kept though not found" if summary.get("kept") else ""
    lost = f", {summary['names_lost']} names lost (`indexer lost-names`)" if summary.get("names_lost") else ""
    lost += f", {summary['limited']} cut short by a limit (`indexer errors`)" if summary.get("limited") else ""
    return (
        f"{summary['scanned']} scanned: {summary['new']} new, {summary['changed']} changed, "
        f"{summary['unchanged']} unchanged, {summary['removed']} removed, {summary.get('moved', 0)} moved{kept}; "
        f"{summary['faces_added']} faces added ({summary.get('faces_named', 0)} named){lost}, {summary['errors']} errors"
    )


def progress_setting(settings: Settings, progress: bool | None = None) -> bool | None:
    return False if settings.quiet else progress


SHOWN_ALIKE = 5  # warnings of one kind shown one by one; the rest are counted


def warn_each(lines: list[str], what: str = "like these") -> None:
    """Log ``lines`` as warnings: the first SHOWN_ALIKE one by one, the rest counted in one line (--json
    lists them all)."""
    for line in lines[:SHOWN_ALIKE]:
        log.warning("%s", line)
    if len(lines) > SHOWN_ALIKE:
        log.warning("… and %d more %s (--json lists them all)", len(lines) - SHOWN_ALIKE, what)


def box_text(box: list[int]) -> str:
    return ",".join(str(v) for v in box)


def when_text(face) -> str:
    """Where in its video a face is (`` at 01:23 (01:20–01:31)``); "" for a photo's face."""
    if getattr(face, "time", None) is None:
        return ""
    span = getattr(face, "span", None)
    during = f" ({time_text(span[0])}–{time_text(span[1])})" if span else ""
    return f" at {time_text(face.time)}{during}"


