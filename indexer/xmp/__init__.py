"""Names that travel: face regions out to XMP sidecars (``export_xmp``) and in from sidecars and from XMP
embedded in photos (``import_xmp``), in the Metadata Working Group's schema that digiKam, Lightroom,
darktable, Mylio and exiftool read and write (see ``regions``, ``sidecar``).

Export never writes a photo, only its sidecar, and in an existing sidecar only the regions indexer wrote
before (see ``sidecar.merge_sidecar``); the sidecar as it was is kept once, beside it, as
``<sidecar>.before-indexer``. Import names faces by hand, as one event in the history (undo takes it
back), and never invents a face: a region with no face of the index under it is reported.
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from indexer.files import atomic_file
from indexer.xmp.regions import Region, UnreadableXmp, read_regions, to_stored, to_upright
from indexer.xmp.sidecar import RegionToWrite, SidecarNotEditable, merge_sidecar, new_sidecar

if TYPE_CHECKING:
    from indexer.library import Library

log = logging.getLogger(__name__)

SIDECAR_NAMINGS = ("photo.jpg.xmp", "photo.xmp")  # [xmp] sidecar: the photo's name + .xmp, or its stem + .xmp
BACKUP_SUFFIX = ".before-indexer"
# A region names the face whose upright box it overlaps most, if by at least this much (IoU), or that is
# centred on it (a box a person drew around the whole head can be twice the detector's, IoU 0.25).
MIN_OVERLAP = 0.3


def covers(region: tuple[float, float, float, float], face: tuple[float, float, float, float]) -> bool:
    """Whether a region (upright pixels) is on the face of ``face``'s box: overlapping by MIN_OVERLAP, or
    centred on it."""
    from indexer.geometry import box_overlap, same_face

    return box_overlap(region, face) >= MIN_OVERLAP or same_face(region, face)


def sidecar_path(photo: Path, naming: str) -> Path:
    """The sidecar of ``photo`` under ``naming`` (one of SIDECAR_NAMINGS)."""
    return photo.with_name(photo.name + ".xmp") if naming == "photo.jpg.xmp" else photo.with_suffix(".xmp")


def stored_geometry(photo: Path) -> tuple[tuple[int, int], int]:
    """The photo's size as stored (width, height in pixels) and its EXIF orientation (1–8; 1 when none),
    from its header. OSError when it cannot be read."""
    from PIL import Image

    import indexer.imaging  # noqa: F401  (registers the HEIF opener)

    with Image.open(photo) as image:
        orientation = image.getexif().get(0x0112, 1)
        return image.size, orientation if isinstance(orientation, int) and 1 <= orientation <= 8 else 1


def _upright_size_agrees(stored: tuple[int, int], orientation: int, upright: tuple[int, int]) -> bool:
    turned = (stored[1], stored[0]) if orientation >= 5 else stored
    return turned == upright


@dataclass
class PhotoFaces:
    photo_id: int
    path: str
    width: int
    height: int
    faces: list[tuple[int, tuple[int, int, int, int], str | None, str | None]] = field(default_factory=list)
    # (face id, upright box, person's name or None, label source or None)


def photos_with_faces(library: Library, paths: list[Path] | None) -> list[PhotoFaces]:
    """The indexed photos with faces, under ``paths`` (files or folders; None: all), by path."""
    from indexer.db.reader import Reader
    from indexer.scanner import absolute, folder_prefix

    chosen = [absolute(p) for p in paths] if paths else None
    photos: dict[int, PhotoFaces] = {}
    with Reader.open(library.config) as reader:
        rows = reader.rows(
            "SELECT photos.id, photos.path, photos.width, photos.height, faces.id, faces.box_x, faces.box_y, "
            "       faces.box_w, faces.box_h, people.name, faces.label_source "
            "FROM faces JOIN photos ON photos.id = faces.photo_id LEFT JOIN people ON people.id = faces.person_id "
            "WHERE photos.error IS NULL AND photos.width IS NOT NULL ORDER BY photos.path, faces.id")
    for photo_id, path, width, height, face_id, x, y, w, h, name, source in rows:
        if chosen is not None and not any(path == c or path.startswith(folder_prefix(c)) for c in chosen):
            continue
        photo = photos.setdefault(photo_id, PhotoFaces(photo_id, path, width, height))
        photo.faces.append((face_id, (x, y, w, h), name, source))
    return list(photos.values())


@dataclass
class ExportReport:
    """What ``export_xmp`` did (or, with dry_run, would do): sidecars written and already up to date,
    regions in them, and the photos skipped, each with why."""

    sidecars_written: list[str] = field(default_factory=list)
    sidecars_unchanged: int = 0
    regions: int = 0
    backups: int = 0
    skipped: list[dict[str, str]] = field(default_factory=list)  # {"photo", "reason"}
    dry_run: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def export_xmp(library: Library, paths: list[Path] | None = None, named_only: bool = False,
               dry_run: bool = False) -> ExportReport:
    """Write each photo's faces as MWG face regions into its sidecar (``[xmp] sidecar`` naming): every
    face, with ``mwg-rs:Name`` where it is named (by hand or by recognition); ``named_only``: named faces
    only. A photo that cannot be read, or whose sidecar cannot be edited, is skipped and reported."""
    naming = library.config.xmp.sidecar
    report = ExportReport(dry_run=dry_run)
    for photo in photos_with_faces(library, paths):
        path = Path(photo.path)
        sidecar = sidecar_path(path, naming)
        reason = _shared_sidecar(path, naming)
        if reason is None:
            try:
                stored, orientation = stored_geometry(path)
            except OSError as e:
                reason = f"cannot read it ({e.strerror or e})"
            else:
                if not _upright_size_agrees(stored, orientation, (photo.width, photo.height)):
                    reason = "it changed since it was indexed (`indexer index` it again)"
        if reason is not None:
            report.skipped.append({"photo": photo.path, "reason": reason})
            continue
        try:
            old = sidecar.read_bytes() if sidecar.exists() else None
            present = read_regions(old) if old is not None else []
            theirs = [r for r in present if r.face_id is None and r.name]
        except UnreadableXmp as e:
            report.skipped.append({"photo": photo.path, "reason": f"its sidecar {sidecar.name} is left alone: {e}"})
            continue
        except OSError as e:
            report.skipped.append({"photo": photo.path, "reason": f"cannot read its sidecar ({e.strerror or e})"})
            continue
        # A face another tool's region already names the same is left to that region (no double boxes).
        covered = {face_id for face_id, box, name, _ in photo.faces if name is not None and any(
            r.name.casefold() == name.casefold() and covers(to_upright(r.area, (photo.width, photo.height), orientation), box)
            for r in theirs)}
        regions = [RegionToWrite(face_id, to_stored(box, (photo.width, photo.height), orientation), name)
                   for face_id, box, name, _ in photo.faces
                   if (name is not None or not named_only) and face_id not in covered]
        try:
            written = merge_sidecar(old, regions, stored) if old is not None else new_sidecar(regions, stored) if regions else None
        except SidecarNotEditable as e:
            report.skipped.append({"photo": photo.path, "reason": f"its sidecar {sidecar.name} is left alone: {e}"})
            continue
        if written is None or written == old:
            report.sidecars_unchanged += written is not None
            continue
        report.regions += len(regions)
        report.sidecars_written.append(str(sidecar))
        if dry_run:
            continue
        if old is not None and not any(r.face_id is not None for r in present):
            backup = sidecar.with_name(sidecar.name + BACKUP_SUFFIX)
            if not backup.exists():
                shutil.copy2(sidecar, backup)
                report.backups += 1
        _write_beside(path, sidecar, written)
    return report


def _shared_sidecar(photo: Path, naming: str) -> str | None:
    """Why ``photo`` cannot have its own ``photo.xmp`` (another file of the same name stem, such as
    ``photo.mov`` beside ``photo.heic``, would share it), or None."""
    if naming != "photo.xmp":
        return None
    try:
        others = [p.name for p in photo.parent.iterdir()
                  if p.stem == photo.stem and p.suffix.lower() not in (".xmp", photo.suffix.lower()) and p != photo]
    except OSError:
        return None
    if others:
        return f"{photo.stem}.xmp would be shared with {others[0]}: use [xmp] sidecar = \"photo.jpg.xmp\""
    return None


def _write_beside(photo: Path, sidecar: Path, data: bytes) -> None:
    """Write ``sidecar`` atomically, with the mode it had (a new one: the photo's own read and write bits)."""
    try:
        mode = (sidecar if sidecar.exists() else photo).stat().st_mode & 0o666
    except OSError:
        mode = 0o600
    with atomic_file(sidecar, private=False) as tmp_name:
        Path(tmp_name).write_bytes(data)
        os.chmod(tmp_name, mode)


@dataclass
class ImportReport:
    """What ``import_xmp`` did (or, with dry_run, would do)."""

    photos_with_regions: int = 0
    named: int = 0  # faces named by hand from a region
    already_named: int = 0  # the face already had that name by hand
    conflicts: list[dict[str, Any]] = field(default_factory=list)  # {"photo", "face_id", "name", "indexed_as"}
    without_face: list[dict[str, Any]] = field(default_factory=list)  # {"photo", "name"}: no face of ours there
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
    from indexer.geometry import box_overlap
    from indexer.history import Recorder
    from indexer.people import clean_name, get_or_create, name_face

    report = ImportReport(dry_run=dry_run)
    plan: list[tuple[int, str]] = []  # (face id, name)
    for photo in photos_with_faces(library, paths):
        regions = _regions_of(Path(photo.path), report, library)
        named = [r for r in regions if r.name and r.kind == "Face"]
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
            wanted = clean_name(region.name)
            if (face_id, wanted.casefold()) in seen:
                continue  # the same region in the sidecar and in the photo
            seen.add((face_id, wanted.casefold()))
            if face_id in taken:
                report.conflicts.append({"photo": photo.path, "face_id": face_id, "name": wanted,
                                         "indexed_as": "another region's name"})
                continue
            taken.add(face_id)
            by_hand = source == "manual"
            if by_hand and current is not None and current.casefold() == wanted.casefold():
                report.already_named += 1
            elif by_hand and not overwrite:
                report.conflicts.append({"photo": photo.path, "face_id": face_id, "name": wanted,
                                         "indexed_as": current if current is not None else "nobody (cleared by hand)"})
            else:
                plan.append((face_id, wanted))
    report.named = len(plan)
    if dry_run or not plan:
        return report
    with library.transaction() as session:
        recorder = Recorder(session, "import-xmp")
        recorder.watch_faces([face_id for face_id, _ in plan])
        for face_id, name in plan:
            face = queries.face_by_id(session, face_id)
            if face is None:
                continue  # removed since it was read
            person = get_or_create(session, name)
            name_face(session, face, person)
        event = recorder.finish(f"import-xmp: {len(plan)} face(s) named from XMP face regions")
        report.event = event.id if event is not None else None
    return report


def _regions_of(photo: Path, report: ImportReport, library: Library) -> list[Region]:
    """The regions in ``photo``'s sidecars (both namings) and in the XMP embedded in it."""
    found: list[Region] = []
    for naming in SIDECAR_NAMINGS:
        sidecar = sidecar_path(photo, naming)
        if naming == "photo.xmp" and _shared_sidecar(photo, naming):
            continue  # photo.xmp belongs to several files: whose regions they are is not known
        try:
            found += read_regions(sidecar.read_bytes())
        except FileNotFoundError:
            continue
        except (OSError, UnreadableXmp) as e:
            report.unreadable.append({"file": str(sidecar), "reason": str(e)})
    embedded = _embedded_xmp(photo, library)
    if embedded:
        try:
            found += read_regions(embedded)
        except UnreadableXmp as e:
            report.unreadable.append({"file": str(photo), "reason": f"its embedded XMP: {e}"})
    return found


def _embedded_xmp(photo: Path, library: Library) -> bytes | None:
    """The XMP packet inside the photo (JPEG APP1, PNG iTXt, WebP, TIFF, HEIC/AVIF where Pillow gives it)."""
    from PIL import Image

    from indexer.imaging import photo_formats

    try:
        with Image.open(photo, formats=list(photo_formats(library.config.library.extensions))) as image:
            packet = image.info.get("xmp") or image.info.get("XML:com.adobe.xmp")
            if packet is None and image.format == "TIFF":
                packet = image.tag_v2.get(700)
    except Exception:  # an unreadable photo has no regions to give; index reports it
        return None
    if isinstance(packet, str):
        packet = packet.encode("utf-8")
    return packet or None


__all__ = ["ExportReport", "ImportReport", "SIDECAR_NAMINGS", "export_xmp", "import_xmp", "sidecar_path"]
