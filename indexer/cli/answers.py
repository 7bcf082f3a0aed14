"""Commands that answer questions about photos and faces: who-is, find, similar."""

from __future__ import annotations

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
    name: Annotated[str, typer.Argument(help="The person's name (case does not matter).")],
    json_output: JsonLinesOption = False,
    min_score: Annotated[
        float,
        typer.Option("--min-score", min=0.0, max=1.0, help="Leave out faces scoring below this (0–1; names given by hand score 1)."),
    ] = 0.0,
) -> None:
    """The library's photos that show NAME, best first: path, face box, score, and whether named by hand."""
    from indexer.answers.people import photos_of

    with ctx.obj.reader() as reader:
        person, photos = photos_of(reader, name, min_score)
    if not photos:
        log.info("no photos of %s%s", person, f" scoring at least {min_score}" if min_score else "")
    for photo in photos:
        if json_output:
            print_json({"photo": photo.path, "faces": [
                {"face_id": f.face_id, "box": f.box, "score": round(f.score, 4), "source": f.source,
                 **({"time": round(f.time, 3)} if f.time is not None else {})} for f in photo.faces
            ], "files": [photo.path, *photo.other_files]})
            continue
        also = f"\talso {', '.join(one_line(path) for path in photo.other_files)}" if photo.other_files else ""
        for f in sorted(photo.faces, key=lambda f: f.time or 0) if photo.faces[0].time is not None else photo.faces:
            at = f"\tat {time_text(f.time)}" if f.time is not None else ""
            typer.echo(f"{one_line(photo.path)}\t{box_text(f.box)}\t{f.score:.2f}\t{f.source}{at}{also}")


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
