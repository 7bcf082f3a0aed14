"""The index in a browser: `gallery` writes a static HTML site of it, `serve` runs a local app to name faces in."""

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


@app.command()
@command
def serve(
    ctx: typer.Context,
    port: Annotated[int, typer.Option("--port", help="The port to listen on (0: a free one).")] = 8765,
    host: Annotated[str, typer.Option("--host", help="The address to listen on. Other than this machine's own "
                                      "(127.0.0.1), anyone who reaches it and has the link sees faces and names: "
                                      "prefer an SSH tunnel (docs/serve.md).")] = "127.0.0.1",
    open_it: Annotated[bool, typer.Option("--open", help="Open it in the system's web browser.")] = False,
) -> None:
    """Name faces in the browser: people, clusters, review (y / n / s), photos with their faces, drawing a
    face, history and undo, over the same index and rules as the other commands. Prints the link to open
    (it holds a random access token); stops on Ctrl-C."""
    from indexer.web.server import is_loopback, serve as run_server

    settings: Settings = ctx.obj
    library = settings.library()
    if not is_loopback(host):
        log.warning("serving on %s: faces and names are biometric data, and anyone who can reach this address and "
                    "has the link can see and change them (an SSH tunnel to 127.0.0.1 is safer: docs/serve.md)", host)

    def announce(link: str) -> None:
        typer.echo(link)
        log.info("serving: open the link above; Ctrl-C stops it")
        if open_it:
            import webbrowser

            if not webbrowser.open(link):
                log.warning("no web browser could be started: open the link above")

    run_server(library, host, port, announce)
