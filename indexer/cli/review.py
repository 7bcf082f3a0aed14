"""Commands that look back at the names given: the history and its undo, the names lost on photos read anew,
and the review of suggestions with its answers (confirm, reject)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from indexer.cli.base import FaceIdArgument, JsonLinesOption, Settings, app, box_text, command, log, one_line, print_json, when_text


@app.command("lost-names")
@command
def lost_names(ctx: typer.Context, json_output: JsonLinesOption = False) -> None:
    """Names given by hand that no face of their photo matched when it was read anew (the photo was edited
    or overwritten, or a detection setting changed): photo, name, the box the name was on, when and why.
    Name the right face with `indexer label FACE_ID NAME` (`indexer show PHOTO` lists its faces) and the
    entry goes."""
    from indexer.naming.people import lost_names as list_lost

    lost = list_lost(ctx.obj.library())
    for row in lost:
        if json_output:
            print_json({"photo": row.photo_path, "person": row.person, "box": row.box, "reason": row.reason,
                         "lost_at": row.lost_at})
        else:
            typer.echo(f"{one_line(row.photo_path)}\t{row.person}\t{box_text(row.box)}\t{row.lost_at:%Y-%m-%d %H:%M:%S} UTC\t{row.reason}")
    if not lost:
        log.info("no lost names: every name given by hand is on a face")


@app.command()
@command
def history(
    ctx: typer.Context,
    json_output: JsonLinesOption = False,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many events, newest first.")] = 20,
) -> None:
    """The changes of names made by hand (label, enroll, rename, merge, undo), newest first: what each did,
    and which were undone. `indexer undo` reverts them."""
    from indexer.answers.status import history as name_history

    with ctx.obj.reader() as reader:
        events = name_history(reader, limit)
    if not events:
        log.info("no names given by hand yet")
    for event in events:
        if json_output:
            print_json({"id": event.id, "at": event.at, "action": event.action, "description": event.description,
                        "faces": event.faces, "undone_by": event.undone_by})
            continue
        undone = f"\t(undone by #{event.undone_by})" if event.undone_by is not None else ""
        typer.echo(f"#{event.id}\t{event.at:%Y-%m-%d %H:%M:%S} UTC\t{event.action}\t{one_line(event.description)}{undone}")


@app.command()
@command
def undo(
    ctx: typer.Context,
    count: Annotated[int, typer.Argument(min=1, help="How many of the newest changes to revert (default 1).")] = 1,
    event: Annotated[int | None, typer.Option("--event", metavar="ID", min=1, help="Revert this change of `indexer "
                                              "history` (refused when a later change touched the same names).")] = None,
    json_output: JsonLinesOption = False,
) -> None:
    """Revert the newest changes of names made by hand, or the one given, exactly: a label is taken back, a
    rename renamed back, a merge un-merged, an enrolment un-named, a face drawn by hand removed. Each undo
    is in the history too, and says which change it reverted."""
    from indexer.naming.undo import undo_event, undo_newest

    if event is not None and count != 1:
        raise typer.BadParameter("--event goes with one change: give --event ID or COUNT, not both")
    library = ctx.obj.library()
    for undone in [undo_event(library, event)] if event is not None else undo_newest(library, count):
        if json_output:
            print_json({"undone": undone.event_id, "description": undone.description, "event": undone.undo_id,
                        "faces": undone.faces, "faces_gone": undone.faces_gone, "faces_removed": undone.faces_removed})
            continue
        gone = f"; {undone.faces_gone} face(s) had left the index" if undone.faces_gone else ""
        removed = f"; {len(undone.faces_removed)} face(s) drawn by hand removed" if undone.faces_removed else ""
        typer.echo(f"undone #{undone.event_id}: {one_line(undone.description)}{removed}{gone}")


@app.command()
@command
def review(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="Only suggestions of this person.", show_default=False)] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many suggestions, nearest first.")] = 20,
    ask: Annotated[bool | None, typer.Option("--ask/--no-ask", help="Ask about each (default: in a terminal, "
                                             "unless --json).")] = None,
    open_crop: Annotated[bool, typer.Option("--open", help="Show each face with the system's image viewer while asking.")] = False,
    json_output: JsonLinesOption = False,
) -> None:
    """Faces nobody named that look like somebody named by hand, nearest first. In a terminal it asks
    `is this Ann? [y/n/s/q]`: y names the face by hand, n records that it is not them (never suggested
    or named so again), s skips, q stops. Otherwise it lists them; `confirm` and `reject` answer one."""
    import sys
    import tempfile

    from indexer.naming.review import suggestions

    settings: Settings = ctx.obj
    library = settings.library()
    found = suggestions(library, settings.person_id(name) if name is not None else None, limit)
    if ask is None:
        ask = not json_output and sys.stdin.isatty() and sys.stdout.isatty()
    if not found:
        log.info("no suggestions: every face close to somebody named is named, or was rejected")
    if json_output or not ask:
        for suggestion in found:
            if json_output:
                print_json({"face_id": suggestion.face_id, "photo": suggestion.photo, "box": suggestion.box,
                            "person": suggestion.person, "distance": suggestion.distance,
                            **({"time": round(suggestion.time, 3)} if suggestion.time is not None else {})})
            else:
                typer.echo(_suggestion_line(suggestion))
        return
    # The faces shown go in a private folder of their own, removed when the command ends (^C included).
    with tempfile.TemporaryDirectory(prefix="indexer-review-") as crops:
        _ask_about(library, found, Path(crops) if open_crop else None)


def _suggestion_line(suggestion) -> str:
    return (f"face {suggestion.face_id}\t{suggestion.person}\t{suggestion.distance:.3f}\t{one_line(suggestion.photo)}"
            f"\t{box_text(suggestion.box)}{when_text(suggestion)}")


def _ask_about(library, found: list, crops: Path | None) -> None:
    """Ask y/n/s/q about each suggestion; with ``crops`` (a folder), show each face in the image viewer."""
    from indexer.naming.people import confirm, reject

    for suggestion in found:
        if crops is not None:
            _show_face(suggestion, crops)
        typer.echo(_suggestion_line(suggestion))
        answer = typer.prompt(f"is this {suggestion.person}? [y/n/s/q]", default="s", show_default=False).strip().lower()
        if answer.startswith("q"):
            break
        if answer.startswith("y"):
            confirm(library, suggestion.face_id, suggestion.person_id)
            typer.echo(f"face {suggestion.face_id}: {suggestion.person}")
        elif answer.startswith("n"):
            reject(library, suggestion.face_id, suggestion.person_id)
            typer.echo(f"face {suggestion.face_id}: not {suggestion.person}")


def _show_face(suggestion, folder: Path) -> None:
    """The suggestion's face (with some margin) in the system's image viewer, from a file in ``folder``."""
    import shutil
    import subprocess

    from indexer.naming.review import face_crop

    viewer = shutil.which("xdg-open") or shutil.which("open")
    if viewer is None:
        log.warning("no image viewer found (xdg-open or open): showing the path and box only")
        return
    crop = face_crop(suggestion, folder / f"face-{suggestion.face_id}.jpg")
    subprocess.Popen([viewer, str(crop)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@app.command()
@command
def confirm(
    ctx: typer.Context,
    face_id: FaceIdArgument,
    name: Annotated[str, typer.Argument(help="The person it is.")],
) -> None:
    """Yes, the face is NAME: names it by hand (as `review` does on y)."""
    from indexer.naming.people import confirm as confirm_face

    settings: Settings = ctx.obj
    result = confirm_face(settings.library(), face_id, settings.who(name))
    typer.echo(f"face {result.face_id} in {one_line(result.photo)}: {result.person}")


@app.command()
@command
def reject(
    ctx: typer.Context,
    face_id: FaceIdArgument,
    name: Annotated[str, typer.Argument(help="The person it is not.")],
) -> None:
    """No, the face is not NAME: it is never suggested as NAME again, and recognition never names it so
    (an automatic name of NAME on it is taken off now). As `review` does on n."""
    from indexer.naming.people import reject as reject_face

    settings: Settings = ctx.obj
    rejected = reject_face(settings.library(), face_id, settings.person_id(name))
    typer.echo(f"face {face_id}: not {rejected.person}")


@app.command("not-a-face")
@command
def not_a_face(
    ctx: typer.Context,
    face_ids: Annotated[list[int], typer.Argument(metavar="FACE_ID...", help="Faces (from who-is, show or clusters).")],
) -> None:
    """These detections are no faces at all (a poster, a pattern): left out of every list, count and cluster
    from now on, kept so when their photo is read anew. One event: `indexer undo` gives them back."""
    from indexer.naming.people import not_a_face as dismiss

    done = dismiss(ctx.obj.library(), face_ids)
    typer.echo(f"not a face: {', '.join(str(face_id) for face_id in done.face_ids)}")
