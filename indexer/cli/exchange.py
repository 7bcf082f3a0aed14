"""Commands that move names and faces in and out: export-xmp, import-xmp, export."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from indexer.cli.base import JsonOption, Settings, app, command, log, one_line, print_json, warn_each

PathsArgument = Annotated[
    list[Path] | None,
    typer.Argument(metavar="[PATH]...", help="Photos or folders (default: every photo in the index).", show_default=False),
]
DryRunOption = Annotated[bool, typer.Option("--dry-run", help="Say what would change; write nothing.")]


@app.command("export-xmp")
@command
def export_xmp(
    ctx: typer.Context,
    paths: PathsArgument = None,
    named_only: Annotated[bool, typer.Option("--named-only", help="Only the faces with a name.")] = False,
    dry_run: DryRunOption = False,
    json_output: JsonOption = False,
) -> None:
    """Write each photo's faces as face regions (MWG) into its XMP sidecar, names included, for digiKam,
    Lightroom, darktable and exiftool. Never writes a photo; keeps everything else in a sidecar."""
    from indexer.outputs.xmp.export import export_xmp as export

    settings: Settings = ctx.obj
    report = export(settings.library(), paths, named_only=named_only, dry_run=dry_run)
    warn_each([f"skipped {one_line(skipped['photo'])}: {skipped['reason']}" for skipped in report.skipped],
              "photos skipped")
    _print_report(report, json_output, f"{'would write' if dry_run else 'wrote'} {len(report.sidecars_written)} sidecar(s) "
                  f"with {report.regions} face region(s); {report.sidecars_unchanged} already up to date, "
                  f"{report.backups} kept as *.before-indexer, {len(report.skipped)} photo(s) skipped")


@app.command("import-xmp")
@command
def import_xmp(
    ctx: typer.Context,
    paths: PathsArgument = None,
    dry_run: DryRunOption = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Also rename faces already named otherwise by hand.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Take in the named face regions (MWG, or Microsoft's) of the photos' XMP sidecars and embedded XMP, as
    digiKam, Lightroom or exiftool wrote them: each names the face under it by hand, or, where the
    detector found none, becomes a face drawn by hand. One event in `indexer history`."""
    from indexer.outputs.xmp.imports import import_xmp as import_regions

    settings: Settings = ctx.obj
    report = import_regions(settings.library(), paths, dry_run=dry_run, overwrite=overwrite)
    warn_each([f"left alone: face {c['face_id'] if c['face_id'] is not None else '(to be drawn)'} in {one_line(c['photo'])} is "
               f"{one_line(c['indexed_as'])} by hand, the XMP says {one_line(c['name'])} (--overwrite to take the XMP's)"
               for c in report.conflicts], "conflicts")
    warn_each([f"no face drawn for the region of {one_line(m['name'])} in {one_line(m['photo'])}: {m['reason']}"
               for m in report.without_face], "regions with no face under them")
    warn_each([f"skipped the region{_called(b['name'])} in {one_line(b['photo'])} ({one_line(b['sidecar'] or 'embedded XMP')}): "
               f"{b['reason']}" for b in report.bad_regions], "skipped regions")
    warn_each([f"cannot read the XMP of {one_line(u['file'])}: {u['reason']}" for u in report.unreadable],
              "unreadable XMP")
    warn_each([f"{one_line(limited['file'])} {limited['reason']}" for limited in report.limited], "files over the limit")
    _print_report(report, json_output, f"{'would name' if dry_run else 'named'} {report.named} face(s) by hand and "
                  f"{'would draw' if dry_run else 'drew'} {len(report.drawn)} from {report.photos_with_regions} photo(s) "
                  f"with named face regions; {report.already_named} already so, {len(report.conflicts)} conflict(s) left "
                  f"alone, {len(report.bad_regions)} region(s) skipped, {len(report.without_face)} not drawn")


def _called(name: str | None) -> str:
    return f' "{one_line(name)}"' if name else ""


def _print_report(report, json_output: bool, line: str) -> None:
    """The report as one JSON object, or as its one-line summary."""
    if json_output:
        print_json(report.as_dict())
    else:
        typer.echo(line)


@app.command()
@command
def export(
    ctx: typer.Context,
    output_format: Annotated[str, typer.Option("--format", help="csv or jsonl.")] = "csv",
    out: Annotated[Path | None, typer.Option("--out", help="Write to this file (owner-only) instead of stdout.")] = None,
) -> None:
    """Every face, one row each: face id, photo, box, person, who named it and the score; streamed."""
    from indexer.errors import IndexerError
    from indexer.outputs.exports import FORMATS, write_faces

    if output_format not in FORMATS:
        raise IndexerError(f"--format {output_format!r}: choose {' or '.join(FORMATS)}")
    settings: Settings = ctx.obj
    with settings.reader() as reader:
        if out is None:
            write_faces(reader, output_format, sys.stdout)
            return
        from indexer.files import atomic_file

        with atomic_file(out.expanduser().absolute()) as tmp_name, open(tmp_name, "w", encoding="utf-8", newline="") as handle:
            count = write_faces(reader, output_format, handle)
    log.info("%d faces written to %s", count, out)
