"""``indexer import-xmp``: other tools' face regions (sidecars, and XMP embedded in photos), in the Metadata
Working Group's schema and Microsoft's, taken in as the user's work: a named region names the face under
it by hand, and where the detector found no face, the region becomes a face drawn by hand. One event in
the history (undo takes it all back)."""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from indexer.db.values import LabelSource
from indexer.errors import IndexerError
from indexer.geometry import box_overlap
from indexer.naming.names import BadName, clean_name
from indexer.files import absolute, folder_prefix
from indexer.outputs.xmp.photos import (SIDECAR_NAMINGS, PhotoFaces, covers, embedded_xmp, indexed_photos, read_sidecar,
                                        shared_sidecar, sidecar_path, stored_geometry)
from indexer.outputs.xmp.regions import Region, UnreadableXmp, read_regions, to_upright
from indexer.text import one_line

if TYPE_CHECKING:
    from indexer.library import Library

Box = tuple[int, int, int, int]


@dataclass
class ImportReport:
    """What ``import_xmp`` did (or, with dry_run, would do)."""

    photos_with_regions: int = 0  # photos with at least one named face region
    named: int = 0  # faces the detector found, named by hand from a region
    drawn: list[dict[str, Any]] = field(default_factory=list)  # {"photo", "face_id", "box", "name"}: faces drawn
    # by hand from a region with no face under it (face_id None in a dry run)
    already_named: int = 0  # the face already had that name (by hand, or it is indexer's own region)
    conflicts: list[dict[str, Any]] = field(default_factory=list)  # {"photo", "face_id", "name", "indexed_as"}
    without_face: list[dict[str, Any]] = field(default_factory=list)  # {"photo", "name", "reason"}: no face there,
    # and none could be drawn (the photo cannot be read now, or changed since it was indexed)
    bad_regions: list[dict[str, Any]] = field(default_factory=list)  # {"photo", "sidecar", "name", "reason"}:
    # skipped (not a face, a name that cannot be a person's, an area that cannot be a face's); once per photo
    unreadable: list[dict[str, str]] = field(default_factory=list)  # {"file", "reason"}
    # {"file", "reason"}: a file asking to draw more faces than [xmp] max_drawn_faces; the rest left out
    limited: list[dict[str, str]] = field(default_factory=list)
    dry_run: bool = False
    event: int | None = None  # the history event (undo takes the import back)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _PhotoPlan:
    """What one photo's regions ask for: names for faces of the index, and faces to draw."""

    photo: PhotoFaces
    names: list[tuple[int, str]] = field(default_factory=list)  # (face id, name)
    to_draw: list[tuple[Box, str]] = field(default_factory=list)  # (upright box, name)


def import_xmp(library: Library, paths: list[Path] | None = None, dry_run: bool = False,
               overwrite: bool = False) -> ImportReport:
    """Take in the named face regions of each indexed photo (under ``paths``; None: all): from its sidecars
    (both namings) and the XMP embedded in it, MWG's, or Microsoft's where the photo has no MWG region.
    A region names the face whose box it overlaps most (at least MIN_OVERLAP, or centred on each other),
    by hand; a face named otherwise by hand is a conflict, left alone unless ``overwrite``. A region with
    no face under it becomes a face drawn by hand (embedded from its box), named. The same region twice
    (in a sidecar and in the photo, or as MWG and Microsoft copies) counts once; what is skipped is said
    once per photo. Holds the writer lock when it draws faces (the vector file changes too)."""
    report = ImportReport(dry_run=dry_run)
    plans = []
    limit = library.config.xmp.max_drawn_faces
    for shot in _shots(indexed_photos(library, None), paths):
        skip = _Skipped(report)
        found: list[tuple[PhotoFaces, Region, int]] = []  # (the file it is in, region, that file's orientation)
        sidecars: set[Path] = set()  # read already (IMG_1.xmp is the sidecar of IMG_1.CR2 and of IMG_1.JPG)
        for photo in shot:
            regions = _regions_of(Path(photo.path), report, library, [f.path for f in shot], sidecars)
            if not regions:
                continue
            try:
                _, orientation = stored_geometry(Path(photo.path))
            except OSError as e:
                report.unreadable.append({"file": photo.path, "reason": e.strerror or str(e)})
                continue
            found += [(photo, region, orientation) for region in regions]
        usable = _face_regions(found, skip)
        if not usable:
            continue
        report.photos_with_regions += 1
        plans.append(_plan_photo(shot[0], usable, overwrite, library.config.detection.min_face_size, limit, report, skip))
    report.named = sum(len(plan.names) for plan in plans)
    drawing = [plan for plan in plans if plan.to_draw]
    if dry_run:
        report.drawn = [{"photo": plan.photo.path, "face_id": None, "box": list(box), "name": name}
                        for plan in drawing for box, name in plan.to_draw]
        return report
    if not report.named and not drawing:
        return report
    with library.writer_lock("import-xmp") if drawing else nullcontext():
        _write(library, plans, _embedded(library, drawing, report), report)
    return report


def _shots(photos: list[PhotoFaces], paths: list[Path] | None) -> list[list[PhotoFaces]]:
    """The photos by shot (``indexing.shots``: a RAW beside its JPEG), the file its faces are read from
    first, for the shots with a file under ``paths`` (None: all)."""
    chosen = [absolute(p) for p in paths] if paths else None
    shots: dict[int, list[PhotoFaces]] = {}
    for photo in photos:
        shots.setdefault(photo.lead_id, []).append(photo)
    return [sorted(files, key=lambda f: f.photo_id != lead_id) for lead_id, files in shots.items()
            if any(f.photo_id == lead_id for f in files)
            and (chosen is None or any(f.path == c or f.path.startswith(folder_prefix(c)) for f in files for c in chosen))]


class _Skipped:
    """The regions of one shot skipped, into ``bad_regions``: each reason for each name once."""

    def __init__(self, report: ImportReport):
        self.report, self.said = report, set()

    def __call__(self, photo: str, region: Region, reason: str) -> None:
        if (region.name, reason) not in self.said:
            self.said.add((region.name, reason))
            self.report.bad_regions.append({"photo": photo, "sidecar": region.source, "reason": reason,
                                            "name": one_line(region.name) if region.name is not None else None})


def _face_regions(found: list[tuple[PhotoFaces, Region, int]], skip: _Skipped) -> list[tuple[Region, str, tuple, str]]:
    """The named face regions of a shot's files that can be taken in, each with its name as a person's
    name, its box in the pixels of the file the shot's faces were read from, and the file it is in; the
    rest skipped (reported). Microsoft's copies are used only when the shot has no MWG region (digiKam
    writes both; its MP copy of a rotated photo is not even in the same frame). Unnamed face regions say
    nothing to take in, and are passed over."""
    if any(region.schema == "mwg" for _, region, _ in found):
        found = [item for item in found if item[1].schema == "mwg"]
    usable = []
    for photo, region, orientation in found:
        if region.kind.casefold() != "face":
            skip(photo.path, region, f"a {one_line(region.kind)[:40]} region, not a face")
        elif region.name is None:
            continue
        else:
            try:
                name = clean_name(region.name)
            except BadName as e:
                skip(photo.path, region, str(e))
                continue
            if region.problem is not None:
                skip(photo.path, region, region.problem)
            else:
                x, y, w, h = to_upright(region.area, (photo.width, photo.height), orientation)
                fx, fy = photo.scale
                usable.append((region, name, (x / fx, y / fy, w / fx, h / fy), photo.path))
    return usable


def _plan_photo(photo: PhotoFaces, regions: list[tuple[Region, str, tuple, str]], overwrite: bool,
                min_face_size: int, limit: int, report: ImportReport, skip: _Skipped) -> _PhotoPlan:
    """Which face of ``photo`` (a shot's lead) each region (with its box in ``photo``'s pixels and the
    file it is in) names, or which face it draws (see import_xmp): at most ``limit`` drawn from one file
    (a sidecar, or the photo's own XMP), the others left out and said once per file. Each region is
    compared with the photo's faces and the faces planned (at most ``limit`` a file): linear in the
    regions."""
    plan = _PhotoPlan(photo)
    drawn_from: dict[str, int] = {}  # file → faces planned from it
    left_out: dict[str, int] = {}
    size = (photo.width, photo.height)
    faces = list(photo.faces)  # (face id, box, name, source); faces to draw join with ids from -1 down
    by_id = {face_id: name for face_id, _, name, _ in faces}
    taken: set[int] = set()
    seen: set[tuple[int, str]] = set()
    for region, wanted, upright, where in regions:
        if region.face_id in by_id and (by_id[region.face_id] or "").casefold() == wanted.casefold():
            report.already_named += 1  # indexer's own region (an export), on its face as it is
            seen.add((region.face_id, wanted.casefold()))
            continue
        box = _inside(upright, size)
        overlaps = sorted(((box_overlap(box, face_box), face_id, name, source)
                           for face_id, face_box, name, source in faces if covers(box, face_box)), reverse=True)
        if not overlaps:
            if max(box[2], box[3]) < min_face_size:
                skip(where, region, f"its area is {box[2]}×{box[3]} px, too small to draw a face: the longer side "
                                    f"must be at least {min_face_size} px ([detection] min_face_size)")
                continue
            source = region.source or where
            if drawn_from.get(source, 0) >= limit:
                left_out[source] = left_out.get(source, 0) + 1
                continue
            drawn_from[source] = drawn_from.get(source, 0) + 1
            planned_id = -1 - len(plan.to_draw)
            plan.to_draw.append((box, wanted))
            faces.append((planned_id, box, wanted, LabelSource.MANUAL))
            taken.add(planned_id)
            seen.add((planned_id, wanted.casefold()))
            continue
        _, face_id, current, source = overlaps[0]
        if (face_id, wanted.casefold()) in seen:
            continue  # the same region again (in the sidecar and in the photo)
        seen.add((face_id, wanted.casefold()))
        if face_id in taken:
            report.conflicts.append({"photo": photo.path, "face_id": face_id if face_id > 0 else None, "name": wanted,
                                     "indexed_as": "another region's name"})
            continue
        taken.add(face_id)
        named_by_hand = source == LabelSource.MANUAL
        if named_by_hand and current is not None and current.casefold() == wanted.casefold():
            report.already_named += 1
        elif named_by_hand and not overwrite:
            report.conflicts.append({"photo": photo.path, "face_id": face_id, "name": wanted,
                                     "indexed_as": current if current is not None else "nobody (cleared by hand)"})
        else:
            plan.names.append((face_id, wanted))
    report.limited += [{"file": source, "reason": f"asks for {limit + count} faces to be drawn, more than [xmp] "
                        f"max_drawn_faces ({limit}) allows from one file: the other {count} left out"}
                       for source, count in left_out.items()]
    return plan


def _inside(box: tuple[float, float, float, float], size: tuple[int, int]) -> Box:
    """A box in whole pixels, cut to the photo (a region may reach past the edge, as a face cut by the
    frame does)."""
    x, y, w, h = box
    left, top = max(0, round(x)), max(0, round(y))
    right, bottom = min(size[0], round(x + w)), min(size[1], round(y + h))
    return left, top, max(0, right - left), max(0, bottom - top)


def _embedded(library: Library, drawing: list[_PhotoPlan], report: ImportReport) -> dict[int, Any]:
    """photo id → the vectors (n, dimensions) of the faces to draw on it, from the photo as it is (one
    that cannot be read, or changed since it was indexed, is reported in ``without_face``)."""
    from indexer.naming.drawn import embed_boxes, indexed_pixels

    vectors = {}
    for plan in drawing:
        try:
            found = indexed_pixels(library, plan.photo.photo_id)
        except IndexerError as e:
            report.without_face += [{"photo": plan.photo.path, "name": name, "reason": str(e)} for _, name in plan.to_draw]
            continue
        vectors[plan.photo.photo_id] = embed_boxes(library, found.pixels, [box for box, _ in plan.to_draw])
    return vectors


def _write(library: Library, plans: list[_PhotoPlan], vectors: dict[int, Any], report: ImportReport) -> None:
    """Give the names and draw the faces, as one event in the history (``naming.drawn.take_in``)."""
    from indexer.naming.drawn import Drawing, take_in

    drawings = [Drawing(plan.photo.photo_id, box, name, vector) for plan in plans
                for (box, name), vector in zip(plan.to_draw, vectors.get(plan.photo.photo_id, ()))]
    paths = {plan.photo.photo_id: plan.photo.path for plan in plans}
    names = {(drawing.photo_id, drawing.box): drawing.who for drawing in drawings}
    taken = take_in(library, [name for plan in plans for name in plan.names], drawings,
                    f"import-xmp: {report.named} face(s) named and {len(drawings)} drawn from XMP face regions")
    report.drawn = [{"photo": paths[photo_id], "face_id": face_id, "box": list(box), "name": names[photo_id, box]}
                    for photo_id, face_id, box in taken.drawn]
    report.event = taken.event


def _regions_of(photo: Path, report: ImportReport, library: Library, shot: list[str], sidecars: set[Path]) -> list[Region]:
    """The regions in ``photo``'s sidecars (both namings; not those in ``sidecars``, read already, which
    this adds to) and in the XMP embedded in it, in that order, each with the sidecar it came from (None:
    embedded). A sidecar that is a link, not a regular file, too large or not well-formed XMP is reported
    and left alone. ``shot``: the files of its shot, who may share ``photo.xmp``."""
    found: list[Region] = []
    for naming in SIDECAR_NAMINGS:
        sidecar = sidecar_path(photo, naming)
        if sidecar in sidecars or naming == "photo.xmp" and shared_sidecar(photo, naming, shot):
            continue  # read already; or photo.xmp belongs to several files: whose regions they are is not known
        sidecars.add(sidecar)
        try:
            data = read_sidecar(sidecar)
            if data is not None:
                found += [replace(region, source=str(sidecar)) for region in read_regions(data)]
        except (OSError, UnreadableXmp) as e:
            report.unreadable.append({"file": str(sidecar), "reason": e.strerror if isinstance(e, OSError) and e.strerror else str(e)})
    embedded = embedded_xmp(photo, library)
    if embedded:
        try:
            found += read_regions(embedded)
        except UnreadableXmp as e:
            report.unreadable.append({"file": str(photo), "reason": f"its embedded XMP: {e}"})
    return found
