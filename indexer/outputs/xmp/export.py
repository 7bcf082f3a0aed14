"""``indexer export-xmp``: the faces of the index out to XMP sidecars, as MWG face regions.

Export never writes a photo, only its sidecar, and in an existing sidecar only the regions indexer wrote
before (see ``sidecar.merge_sidecar``); the sidecar as it was is kept once, beside it, as
``<sidecar>.before-indexer``.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from indexer.files import UnsafeFile, atomic_file, write_new_file
from indexer.db.values import LabelSource
from indexer.outputs.xmp.photos import (BACKUP_SUFFIX, PhotoFaces, covers, indexed_photos, read_sidecar,
                                        shared_sidecar, sidecar_path, stored_geometry, upright_size_agrees)
from indexer.outputs.xmp.regions import UnreadableXmp, read_regions, to_stored, to_upright
from indexer.outputs.xmp.sidecar import RegionToWrite, SidecarNotEditable, merge_sidecar, new_sidecar
from indexer.vision.media import is_raw

if TYPE_CHECKING:
    from indexer.library import Library

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


class _Skipped(Exception):
    """A photo whose sidecar is not written; ``str(e)`` says why."""


def export_xmp(library: Library, paths: list[Path] | None = None, named_only: bool = False,
               dry_run: bool = False) -> ExportReport:
    """Write each photo's faces as MWG face regions into its sidecar (``[xmp] sidecar`` naming): every
    face, with ``mwg-rs:Name`` where it is named (by hand or by recognition); ``named_only``: named faces
    only. A photo that cannot be read, whose sidecar cannot be edited or written (a link, not a regular
    file, a folder that cannot be written), is skipped and reported, and the others are written."""
    report = ExportReport(dry_run=dry_run)
    naming = library.config.xmp.sidecar
    written: set[Path] = set()
    # The files of a shot named alike share photo.xmp (Lightroom's for the RAW): written once, for the RAW.
    for photo in sorted(indexed_photos(library, paths), key=lambda p: (str(sidecar_path(Path(p.path), naming)), not is_raw(p.path))):
        sidecar = sidecar_path(Path(photo.path), naming)
        if sidecar in written or not photo.faces and not _holds_our_regions(sidecar):
            continue  # written already for its shot; or no face, and no regions of indexer's from before to take out
        written.add(sidecar)
        try:
            _export_photo(photo, naming, named_only, dry_run, report)
        except _Skipped as e:
            report.skipped.append({"photo": photo.path, "reason": str(e)})
    return report


def _export_photo(photo: PhotoFaces, naming: str, named_only: bool, dry_run: bool, report: ExportReport) -> None:
    path = Path(photo.path)
    sidecar = sidecar_path(path, naming)
    reason = shared_sidecar(path, naming, photo.shot)
    if reason is not None:
        raise _Skipped(reason)
    try:
        stored, orientation = stored_geometry(path)
    except OSError as e:
        raise _Skipped(f"cannot read it ({e.strerror or e})") from None
    if not upright_size_agrees(stored, orientation, (photo.width, photo.height)):
        raise _Skipped("it changed since it was indexed (`indexer index` it again)")
    try:
        old = read_sidecar(sidecar)
        present = read_regions(old) if old is not None else []
    except UnsafeFile as e:
        raise _Skipped(f"{sidecar.name} is {e}") from None
    except UnreadableXmp as e:
        raise _Skipped(f"its sidecar {sidecar.name} is left alone: {e}") from None
    except OSError as e:
        raise _Skipped(f"cannot read its sidecar ({e.strerror or e})") from None
    theirs = [r for r in present if r.face_id is None and r.name and r.usable]
    upright = (photo.width, photo.height)
    # A face another tool's region already names the same is left to that region (no double boxes).
    covered = {face_id for face_id, box, name, _ in photo.faces if name is not None and any(
        r.name.casefold() == name.casefold() and covers(to_upright(r.area, upright, orientation), box) for r in theirs)}
    regions = [RegionToWrite(face_id, to_stored(box, upright, orientation), name)
               for face_id, box, name, source in photo.faces
               if (name is not None or not named_only) and face_id not in covered and source != LabelSource.NOT_A_FACE]
    try:
        written = merge_sidecar(old, regions, stored) if old is not None else new_sidecar(regions, stored) if regions else None
    except SidecarNotEditable as e:
        raise _Skipped(f"its sidecar {sidecar.name} is left alone: {e}") from None
    if written is None or written == old:
        report.sidecars_unchanged += written is not None
        return
    if not dry_run:
        backed_up = _back_up(sidecar, old) if old is not None and not any(r.face_id is not None for r in present) else None
        try:
            _write_beside(path, sidecar, written)
        except OSError as e:
            if backed_up is not None:
                backed_up.unlink(missing_ok=True)  # this export did not happen; its backup goes with it
            raise _Skipped(f"cannot write {sidecar.name} ({e.strerror or e})") from None
        report.backups += backed_up is not None
    report.regions += len(regions)
    report.sidecars_written.append(str(sidecar))


def _holds_our_regions(sidecar: Path) -> bool:
    """Whether ``sidecar`` holds regions indexer wrote (an unreadable one is left for a photo with faces
    to report)."""
    if not os.path.lexists(sidecar):
        return False
    try:
        data = read_sidecar(sidecar)
        return data is not None and any(r.face_id is not None for r in read_regions(data))
    except (OSError, UnreadableXmp):
        return False


def _back_up(sidecar: Path, old: bytes) -> Path | None:
    """Keep ``old``, the sidecar as another tool left it, beside it as ``<sidecar>.before-indexer``, once
    (an existing backup is kept). Returns the backup made now, or None. Written as a new file, never
    through a link: a link planted at the backup's name is refused (_Skipped)."""
    backup = sidecar.with_name(sidecar.name + BACKUP_SUFFIX)
    if backup.is_symlink():
        raise _Skipped(f"{backup.name} is a symbolic link: left alone")
    if backup.exists():
        return None
    try:
        write_new_file(backup, old, sidecar.lstat().st_mode & 0o666)
    except FileExistsError:
        return None
    except OSError as e:
        raise _Skipped(f"cannot write {backup.name} ({e.strerror or e})") from None
    return backup


def _write_beside(photo: Path, sidecar: Path, data: bytes) -> None:
    """Write ``sidecar`` atomically (a new file renamed over it, never written through a link), with the
    mode it had (a new one: the photo's own read and write bits)."""
    try:
        mode = (sidecar if sidecar.exists() else photo).stat().st_mode & 0o666
    except OSError:
        mode = 0o600
    with atomic_file(sidecar, private=False) as tmp_name:
        Path(tmp_name).write_bytes(data)
        os.chmod(tmp_name, mode)
