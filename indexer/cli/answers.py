"""Commands that answer questions about photos and faces: who-is, find, similar."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from indexer.cli.base import JsonLinesOption, app, box_text, command, log, one_line, print_json, time_text, tqdm_logging


@app.command("who-is")
@command
def who_is(
    ctx: typer.Context,
    photos: Annotated[list[str], typer.Argument(metavar="PHOTO...", help="Photos or videos, in the library or not.")],
    json_output: JsonLinesOption = False,
    annotate: Annotated[
        Path | None,
        typer.Option("--annotate", metavar="OUT", help="Write a copy with boxes and names drawn: a file, or a folder for several photos."),
    ] = None,
) -> None:
    """Every face of each photo, left to right (of a video: each appearance, with its time): its box, its
    name or unknown, and the score.

    Exit status 1 when a photo could not be read (the others are still answered).
    """
    from indexer.answers.whois import WhoIs, annotation_targets

    library = ctx.obj.library()
    targets = annotation_targets(photos, annotate) if annotate is not None else {}
    failed = 0
    with tqdm_logging():
        for answer in WhoIs(library).answer(photos, keep_pixels=bool(targets)):
            if answer.error is not None:
                failed += 1
                typer.echo(f"indexer: error: {one_line(answer.photo)}: {answer.error}", err=True)
                continue
            if json_output:
                print_json(answer.as_dict())
            elif not answer.faces:
                typer.echo(f"{one_line(answer.photo)}\t(no faces)")
            for face in [] if json_output else answer.faces:
                score = f"{face.score:.2f}" if face.score is not None else "-"
                face_id = f"face {face.face_id}" if face.face_id is not None else "-"
                at = f"\tat {time_text(face.time)}" if face.time is not None else ""
                typer.echo(f"{one_line(answer.photo)}\t{face.person or 'unknown'}\t{score}\t{box_text(face.box)}\t{face_id}{at}")
            if answer.photo in targets:
                from indexer.outputs.annotate import annotate as draw

                draw(answer.pixels, answer.faces, targets[answer.photo])
    if failed:
        raise typer.Exit(1)


@app.command()
@command
def find(
    ctx: typer.Context,
    names: Annotated[list[str] | None, typer.Argument(metavar="[NAME]...", help="People's names (case does not matter).", show_default=False)] = None,
    any_of: Annotated[bool, typer.Option("--any", help="Photos showing at least one of them (default: all of them).")] = False,
    only: Annotated[bool, typer.Option("--only", help="Photos showing all of them and no other face at all (an unnamed stranger is another face).")] = False,
    left_out: Annotated[list[str] | None, typer.Option("--not", metavar="NAME", help="Leave out the photos showing NAME (repeatable).", show_default=False)] = None,
    faces: Annotated[str | None, typer.Option("--faces", metavar="N|N-M|N-", help="Photos with exactly N faces, or N to M, or N or more.")] = None,
    taken_from: Annotated[str | None, typer.Option("--from", metavar="DATE", help="Taken on or after DATE (YYYY, YYYY-MM or YYYY-MM-DD).")] = None,
    taken_to: Annotated[str | None, typer.Option("--to", metavar="DATE", help="Taken on or before DATE (to its end: --to 2019-06 is to the end of June).")] = None,
    year: Annotated[str | None, typer.Option("--year", metavar="YYYY", help="Taken in that year.")] = None,
    folder: Annotated[str | None, typer.Option("--in", metavar="FOLDER", help="Under FOLDER (as given, or relative to here).")] = None,
    sort: Annotated[str, typer.Option("--sort", metavar="oldest|newest|best", help="By date taken (unknown dates last), or by the best face's score.")] = "oldest",
    min_score: Annotated[
        float,
        typer.Option("--min-score", min=0.0, max=1.0, help="Leave out faces scoring below this (0–1; names given by hand score 1)."),
    ] = 0.0,
    json_output: JsonLinesOption = False,
    print0: Annotated[bool, typer.Option("--print0", "-0", help="Only the paths, each ended by a NUL (for xargs -0).")] = False,
) -> None:
    """The library's photos that show NAME (all the names given, or as --any and --only say), each once,
    in the order they were taken: for each face of those people its path, box, score, who named it (a
    video's: at which time), the date taken and the person; with filters alone, path and date."""
    from indexer.answers.query import Query, QueryError, find as find_photos, folder_known

    if any_of and only:
        raise QueryError("--any and --only ask two things: give one")
    query = Query.of(names or [], "any" if any_of else "only" if only else "all", left_out or [], faces, taken_from,
                     taken_to, year, folder, sort, min_score)
    if not query.asks():
        raise QueryError("name someone, or give a filter (--faces, --from, --to, --year, --in, --not)")
    with ctx.obj.reader() as reader:
        found = find_photos(reader, query)
        if not found and not folder_known(reader, query):
            raise QueryError(f"no folder {folder}, and no photos in the index under it")
    if not found:
        log.info("no photos%s", f" of {', '.join(names)}" if names else "")
    for photo in found:
        if print0:
            sys.stdout.write(photo.path + "\0")
        elif json_output:
            print_json(photo.as_dict())
        else:
            _found_lines(photo)
    sys.stdout.flush()


def _found_lines(photo) -> None:
    """A photo found (an ``answers.query.Found``), as text: a line for each face of the people asked (with
    filters alone, one line)."""
    from indexer.answers.query import taken_text

    taken = taken_text(photo.taken, photo.offset) or "-"
    if photo.taken_from == "file" and photo.taken is not None:
        taken += " (file time)"
    also = f"\talso {', '.join(one_line(path) for path in photo.other_files)}" if photo.other_files else ""
    if not photo.matches:
        typer.echo(f"{one_line(photo.path)}\t{taken}{also}")
    for face in photo.matches:
        at = f"\tat {time_text(face.time)}" if face.time is not None else ""
        typer.echo(f"{one_line(photo.path)}\t{box_text(face.box)}\t{face.score:.2f}\t{face.source}{at}\t{taken}"
                   f"\t{one_line(face.person)}{also}")


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
    from indexer.answers.similar import similar_faces

    for face in similar_faces(ctx.obj.library(), face_id, limit):
        if json_output:
            print_json({"face_id": face.face_id, "distance": face.distance, "photo": face.photo, "box": face.box,
                        "person": face.person})
        else:
            typer.echo(f"face {face.face_id}\t{face.distance:.3f}\t{face.person or 'unknown'}\t{one_line(face.photo)}"
                       f"\t{box_text(face.box)}")
