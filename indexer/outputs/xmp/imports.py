"""``indexer import-xmp``: names from other tools' face regions (sidecars, and XMP embedded in photos), in
the Metadata Working Group's schema and Microsoft's, given by hand as one event in the history (undo
takes it back)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from indexer.db.values import LabelSource
from indexer.geometry import box_overlap
from indexer.naming.labels import by_hand
from indexer.naming.names import BadName, clean_name
from indexer.text import one_line
from indexer.outputs.xmp.photos import (SIDECAR_NAMINGS, covers, embedded_xmp, photos_with_faces, read_sidecar,
                                        shared_sidecar, sidecar_path, stored_geometry)
from indexer.outputs.xmp.regions import Region, UnreadableXmp, read_regions, to_upright

if TYPE_CHECKING:
    from indexer.library import Library


@dataclass
class ImportReport:
    """What ``import_xmp`` did (or, with dry_run, would do)."""

    photos_with_regions: int = 0
    named: int = 0  # faces named by hand from a region
    already_named: int = 0  # the face already had that name by hand
    conflicts: list[dict[str, Any]] = field(default_factory=list)  # {"photo", "face_id", "name", "indexed_as"}
    without_face: list[dict[str, Any]] = field(default_factory=list)  # {"photo", "name"}: no face of ours there
    bad_regions: list[dict[str, Any]] = field(default_factory=list)  # {"photo", "sidecar", "name", "reason"}
    unreadable: list[dict[str, str]] = field(default_factory=list)  # {"file", "reason"}
    dry_run: bool = False
    event: int | None = None  # the history event (undo takes the import back)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def import_xmp(library: Library, paths: list[Path] | None = None, dry_run: bool = False,
               overwrite: bool = False) -> ImportReport:
    """Name faces by hand from the named face regions of each indexed photo's sidecars (both namings) and
    of the XMP embedded in it, MWG's and Microsoft's. A region names the face whose box it overlaps most
    (at least MIN_OVERLAP, or centred on each other); a face named by hand otherwise is a conflict, left
    alone unless ``overwrite``."""
    from indexer.db import queries

    report = ImportReport(dry_run=dry_run)
    plan: list[tuple[int, str]] = []  # (face id, name)
    for photo in photos_with_faces(library, paths):
        regions = _regions_of(Path(photo.path), report, library)
        named = [r for r in regions if r.name is not None and r.kind == "Face"]
        if not named:
            continue
        report.photos_with_regions += 1
        try:
            _, orientation = stored_geometry(Path(photo.path))
        except OSError as e:
            report.unreadable.append({"file": photo.path, "reason": e.strerror or str(e)})
            continue
        taken: set[int] = set()
        seen: set[tuple[int, str]] = set()
        for region in named:
            box = to_upright(region.area, (photo.width, photo.height), orientation)
            overlaps = sorted(((box_overlap(box, face_box), face_id, name, source)
                               for face_id, face_box, name, source in photo.faces if covers(box, face_box)), reverse=True)
            best = overlaps[0] if overlaps else None
            if best is None:
                report.without_face.append({"photo": photo.path, "name": region.name})
                continue
            _, face_id, current, source = best
            try:
                wanted = clean_name(region.name)
            except BadName as e:
                report.bad_regions.append({"photo": photo.path, "sidecar": region.source, "name": one_line(region.name),
                                           "reason": str(e)})
                continue
            if (face_id, wanted.casefold()) in seen:
                continue  # the same region in the sidecar and in the photo
            seen.add((face_id, wanted.casefold()))
            if face_id in taken:
                report.conflicts.append({"photo": photo.path, "face_id": face_id, "name": wanted,
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
                plan.append((face_id, wanted))
    report.named = len(plan)
    if dry_run or not plan:
        return report
    with by_hand(library, "import-xmp") as naming:
        for face_id, name in plan:
            face = queries.face_by_id(naming.session, face_id)
            if face is None:
                continue  # removed since it was read
            naming.name(face, naming.person(name))
        naming.says(f"import-xmp: {len(plan)} face(s) named from XMP face regions")
    report.event = naming.event.id if naming.event is not None else None
    return report


def _regions_of(photo: Path, report: ImportReport, library: Library) -> list[Region]:
    """The regions in ``photo``'s sidecars (both namings) and in the XMP embedded in it, each with the
    sidecar it came from (None: embedded). A sidecar that is a link, not a regular file, too large or not
    well-formed XMP is reported and left alone."""
    found: list[Region] = []
    for naming in SIDECAR_NAMINGS:
        sidecar = sidecar_path(photo, naming)
        if naming == "photo.xmp" and shared_sidecar(photo, naming):
            continue  # photo.xmp belongs to several files: whose regions they are is not known
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
