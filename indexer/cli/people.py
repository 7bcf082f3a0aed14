"""Commands that name people: enroll, label, rename, merge, people, train, lost-names."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from indexer.cli.base import (
    JsonLinesOption, JsonOption, Settings, app, box_text, command, log, one_line, print_json, print_table,
    progress_setting, tqdm_logging, when_text,
)
from indexer.answers.clusters import MIN_CLUSTER_SIZE
from indexer.ids import plain_digits


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
    from indexer.naming.enroll import enroll as enroll_people, people_folders
    from indexer.files import absolute

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
    with tqdm_logging():
        report = enroll_people(library, photos_by_person, progress_setting(settings))
    for path in report.no_face:
        log.warning("no face found in %s", path)
    for path, reason in report.failed:
        log.error("%s: %s", path, reason)
    if json_output:
        print_json({
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
    face_or_name: Annotated[str, typer.Argument(metavar="FACE_ID", help="The face's id (shown by who-is, show, find and "
                                                "--json outputs); with --cluster, the name.")],
    name: Annotated[str | None, typer.Argument(help="The person's name (created if new).", show_default=False)] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Remove the face's name; recognition will not name it again.")] = False,
    cluster: Annotated[int | None, typer.Option("--cluster", metavar="ID", help="Name every unnamed face of this cluster "
                                                "(`indexer clusters`): label --cluster ID NAME.")] = None,
    leave_out: Annotated[list[int] | None, typer.Option("--except", metavar="FACE_ID", help="With --cluster: a face "
                                                        "to leave unnamed (repeat for more).")] = None,
    include_unsure: Annotated[bool, typer.Option("--all", help="With --cluster: also name the faces the grouping is "
                                                 "unsure of (left unnamed otherwise).")] = False,
    json_output: JsonOption = False,
) -> None:
    """Name one face by hand, or clear its name; or name a cluster's faces (those the grouping is sure of,
    unless --all). Names given by hand are never changed automatically, and each labelling is one event in
    `indexer history`."""
    if cluster is not None:
        _label_cluster(ctx, cluster, face_or_name, name, clear, leave_out or [], include_unsure, json_output)
        return
    from indexer.naming.people import label_face

    if leave_out or include_unsure:
        raise typer.BadParameter("--except and --all go with --cluster")
    if plain_digits(face_or_name) is None:
        raise typer.BadParameter(f"FACE_ID must be a face's id (a whole number), not {face_or_name!r}")
    if clear == (name is not None):
        raise typer.BadParameter("give a NAME, or --clear")
    settings: Settings = ctx.obj
    result = label_face(settings.library(), int(face_or_name), None if clear else settings.who(name))
    if json_output:
        print_json({"face_id": result.face_id, "photo": result.photo, "box": result.box,
                     "person": result.person, "previous": result.previous, "event": result.event})
        return
    was = f" (was {result.previous})" if result.previous and result.previous != result.person else ""
    now = result.person if result.person else "unknown, by hand"
    typer.echo(f"face {result.face_id} in {one_line(result.photo)}: {now}{was}")


@app.command("add-face")
@command
def add_face(
    ctx: typer.Context,
    photo: Annotated[str, typer.Argument(help="An indexed photo.")],
    box: Annotated[str, typer.Argument(metavar="X,Y,W,H", help="The face's box in pixels of the upright photo, as "
                                       "`indexer show` prints boxes.")],
    name: Annotated[str | None, typer.Option("--name", help="Who it is (named by hand; created if new).")] = None,
    at: Annotated[float | None, typer.Option("--at", metavar="SECONDS", help="In a video: the moment the face is "
                                             "at, seconds from its start.")] = None,
    json_output: JsonOption = False,
) -> None:
    """Draw a face the detector missed (a profile, a half-hidden face): it is embedded from that box and
    then found, named, grouped and learnt from like any face. One event in `indexer history`: `undo`
    removes it."""
    from indexer.answers.photos import photo_record
    from indexer.naming.drawn import add_face as draw, parse_box

    settings: Settings = ctx.obj
    drawn_box = parse_box(box)
    added = draw(settings.library(), settings.photo_id(photo), drawn_box, settings.who(name) if name is not None else None, at)
    with settings.reader() as reader:
        face = next(f for f in photo_record(reader, added.photo).faces if f.face_id == added.face_id)
    if json_output:
        print_json(face.as_dict())
        return
    typer.echo(f"face {face.face_id} in {one_line(added.photo)}: drawn at {box_text(face.box)}{when_text(face)}"
               + (f", {face.person}" if face.person else ""))


def _label_cluster(ctx: typer.Context, cluster: int, name: str, extra: str | None, clear: bool, leave_out: list[int],
                   include_unsure: bool, json_output: bool) -> None:
    from indexer.naming.people import name_cluster

    if clear or extra is not None:
        raise typer.BadParameter("with --cluster, give just the NAME: label --cluster ID NAME")
    settings: Settings = ctx.obj
    result = name_cluster(settings.library(), cluster, settings.who(name), leave_out, include_unsure)
    if json_output:
        print_json({"cluster": result.cluster, "person": result.person, "named": result.named, "left_out": result.left_out,
                    "unsure": result.unsure})
        return
    notes = ([f"{result.left_out} left out"] if result.left_out else []) + (
        [f"{result.unsure} unsure face(s) left unnamed: `indexer clusters --json` lists them, --all names them too"]
        if result.unsure else [])
    typer.echo(f"cluster {result.cluster}: {result.named} face(s) named {result.person}" + (f" ({'; '.join(notes)})" if notes else ""))


@app.command()
@command
def clusters(
    ctx: typer.Context,
    min_size: Annotated[int, typer.Option("--min-size", min=MIN_CLUSTER_SIZE, help="Leave out clusters of fewer unnamed "
                                          "faces.")] = MIN_CLUSTER_SIZE,
    json_output: JsonLinesOption = False,
) -> None:
    """Groups of faces nobody named that are probably one person, largest first, as the last `index` or
    `train` made them. Name one with `indexer label --cluster ID NAME`."""
    from indexer.answers.clusters import clusters as list_clusters

    with ctx.obj.reader() as reader:
        found = list_clusters(reader, min_size)
    if not found:
        log.info("no clusters of %d or more unnamed faces (they are made at the end of `indexer index`)", min_size)
    for cluster in found:
        if json_output:
            print_json({"cluster": cluster.cluster_id, "size": len(cluster.faces), "unsure": cluster.unsure,
                        "faces": [{"face_id": f.face_id, "photo": f.photo, "box": list(f.box), "distance": f.cluster_distance,
                                   "sure": f.sure} for f in cluster.faces]})
            continue
        shown = ", ".join(str(f.face_id) for f in cluster.faces[:5]) + (", …" if len(cluster.faces) > 5 else "")
        unsure = f" ({cluster.unsure} unsure)" if cluster.unsure else ""
        typer.echo(f"cluster {cluster.cluster_id}\t{len(cluster.faces)} faces{unsure}\t{cluster.photos} photos\tfaces {shown}")


@app.command()
@command
def split(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The person to split.")],
    faces: Annotated[list[int], typer.Option("--faces", metavar="FACE_ID", help="A face of NAME to move (repeat for more).")],
    into: Annotated[str | None, typer.Option("--into", help='Who they are (created if new; default "NAME (split)").')] = None,
    json_output: JsonOption = False,
) -> None:
    """Take faces away from a person who is really two (a wrong merge, or look-alikes): they go to another
    person, keeping how they were named. Run `train` afterwards; `undo` takes the split back."""
    from indexer.naming.people import split as split_person

    settings: Settings = ctx.obj
    result = split_person(settings.library(), settings.person_id(name), faces, settings.who(into) if into is not None else None)
    if json_output:
        print_json({"from": result.source, "into": result.target, "faces_moved": result.faces_moved, "created": result.created})
        return
    typer.echo(f"{result.faces_moved} face(s) of {result.source} are now {result.target}"
               + (" (new)" if result.created else ""))


@app.command()
@command
def rename(
    ctx: typer.Context,
    old: Annotated[str, typer.Argument(help="The person's current name.")],
    new: Annotated[str, typer.Argument(help="The new name.")],
) -> None:
    """Rename a person; all their faces keep the name."""
    from indexer.naming.people import rename as rename_person

    settings: Settings = ctx.obj
    renamed = rename_person(settings.library(), settings.person_id(old), new)
    typer.echo(f"renamed {renamed.before} to {renamed.after}")


@app.command()
@command
def merge(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(metavar="FROM", help="The person to merge away.")],
    target: Annotated[str, typer.Argument(metavar="INTO", help="The person who keeps all the faces.")],
    json_output: JsonOption = False,
) -> None:
    """Make two people one: every face of FROM is named INTO, and FROM is removed. Then run `indexer train`."""
    from indexer.naming.people import merge as merge_people

    settings: Settings = ctx.obj
    result = merge_people(settings.library(), settings.person_id(source), settings.person_id(target))
    if json_output:
        print_json({"from": result.source, "into": result.target, "faces_moved": result.faces_moved,
                     "faces": result.target_faces})
        return
    typer.echo(f"merged {result.source} into {result.target}: {result.faces_moved} face(s) moved, "
               f"{result.target} has {result.target_faces}")


@app.command()
@command
def people(
    ctx: typer.Context,
    json_output: JsonLinesOption = False,
    together: Annotated[str | None, typer.Option("--with", metavar="NAME", help="The people shown with NAME, most photos together first.")] = None,
) -> None:
    """Everyone named, with how many faces and photos show them and the years they were first and last
    seen (one JSON object per line with --json); with --with NAME, who is in photos with NAME, and in how
    many."""
    from indexer.answers.people import people as list_people, people_with

    if together is not None:
        with ctx.obj.reader() as reader:
            person, companions = people_with(reader, together)
        if not companions:
            log.info("nobody named is in a photo with %s", person)
        for companion in companions:
            if json_output:
                print_json({"person": companion.person, "photos": companion.photos})
            else:
                typer.echo(f"{one_line(companion.person)}\t{companion.photos}")
        return
    with ctx.obj.reader() as reader:
        everyone = list_people(reader)
    if json_output:
        for person in everyone:
            print_json({"name": person.name, "faces": person.faces, "photos": person.photos,
                        "named_by_hand": person.manual_faces, "first_seen": person.first_seen,
                        "last_seen": person.last_seen})
        return
    if not everyone:
        log.info("nobody is named yet: use `indexer enroll` or `indexer label`")
        return
    width = max(len("name"), *(len(p.name) for p in everyone))
    typer.echo(f"{'name':<{width}}  {'faces':>6}  {'photos':>6}  {'by hand':>7}  seen")
    for person in everyone:
        typer.echo(f"{person.name:<{width}}  {person.faces:>6}  {person.photos:>6}  {person.manual_faces:>7}  "
                   f"{_years(person.first_seen, person.last_seen)}")


def _years(first: int | None, last: int | None) -> str:
    """The years a person was seen: "2015–2019", "2019", or "-" when no photo of theirs has a date."""
    if first is None or last is None:
        return "-"
    return str(first) if first == last else f"{first}–{last}"


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
    from indexer.naming.training import train as train_library

    settings: Settings = ctx.obj
    with tqdm_logging():
        report = train_library(settings.library(), progress_setting(settings, progress))
    if json_output:
        print_json(report.as_dict())
        return
    rows = report.people
    width = max(len("person"), *(len(r["name"]) for r in rows))
    typer.echo(f"{'person':<{width}}  {'faces':>5}  {'right':>5}  {'wrong':>5}  {'unknown':>7}  accuracy")
    total = {key: sum(r[key] for r in rows) for key in ("faces", "right", "wrong", "unknown")}
    for r in [*rows, {"name": "all", **total}]:
        share = f"{r['right'] / r['faces']:.1%}" if r["faces"] else "-"
        typer.echo(f"{r['name']:<{width}}  {r['faces']:>5}  {r['right']:>5}  {r['wrong']:>5}  {r['unknown']:>7}  {share}")
    calibration, relabelled = report.calibration, report.relabelled
    typer.echo(f"(each face named by the rule fitted on the others: {calibration.folds}-fold cross-validation)")
    for person in report.left_out:
        typer.echo(f"not learnt: {person['name']} has {person['faces']} named face(s); 3 are needed")
    t = calibration.thresholds
    print_table([
        ("max_distance", f"{t.max_distance}  ({calibration.distance_source})"),
        ("min_probability", f"{t.min_probability}  ({calibration.probability_source})"),
        ("neighbours", t.neighbours),
        ("strangers", f"{calibration.strangers_named} of {calibration.strangers_tested} left-out faces wrongly named"),
        ("classifier", report.classifier_file or "(none: one person, nearest neighbours alone decide)"),
        ("relabelled", f"{relabelled.named} of {relabelled.faces} faces named automatically ({relabelled.changed} changed)"),
    ])
