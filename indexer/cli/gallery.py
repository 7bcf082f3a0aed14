"""The gallery command: a static HTML site of the index."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from indexer.cli.base import JsonOption, Settings, app, command, log, print_json, print_table, progress_setting, tqdm_logging


@app.command()
@command
def gallery(
    ctx: typer.Context,
    folder: Annotated[
        Path | None,
        typer.Argument(metavar="[OUT]", help="The folder to write it in (default: [gallery] dir of the config).", show_default=False),
    ] = None,
    open_it: Annotated[bool, typer.Option("--open", help="Open it in the system's web browser.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Write or refresh a static HTML gallery: everyone named, the clusters of unnamed faces, each photo
    with its faces boxed. It opens from disk, or from any static web server; only what changed is redone."""
    from indexer.errors import IndexerError
    from indexer.outputs.gallery.build import build_gallery

    settings: Settings = ctx.obj
    library = settings.library()
    chosen = folder or library.config.gallery.dir
    if chosen is None:
        where = library.config.path or "config.toml"
        raise IndexerError(f"name the folder to write the gallery in, or set [gallery] dir in {where}")
    with tqdm_logging():
        report = build_gallery(library, chosen, progress=progress_setting(settings))
    if json_output:
        print_json(report.as_dict())
    else:
        print_table([(key, len(value) if isinstance(value, list) else value) for key, value in report.as_dict().items()])
    if open_it:
        import webbrowser

        page = Path(report.folder) / "index.html"
        if not webbrowser.open(page.as_uri()):
            log.warning("no web browser could be started: open %s", page)
