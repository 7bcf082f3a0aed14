"""``indexer export-xmp``: the faces of the index out to XMP sidecars, as MWG face regions.

Export never writes a photo, only its sidecar, and in an existing sidecar only the regions indexer wrote
before (see ``sidecar.merge_sidecar``); the sidecar as it was is kept once, beside it, as
``<sidecar>.before-indexer``.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from indexer.files import atomic_file
from indexer.outputs.xmp.photos import (BACKUP_SUFFIX, covers, photos_with_faces, shared_sidecar, sidecar_path,
                                        stored_geometry, upright_size_agrees)
from indexer.outputs.xmp.regions import UnreadableXmp, read_regions, to_stored, to_upright
from indexer.outputs.xmp.sidecar import RegionToWrite, SidecarNotEditable, merge_sidecar, new_sidecar

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
        reason = shared_sidecar(path, naming)
        if reason is None:
            try:
                stored, orientation = stored_geometry(path)
            except OSError as e:
                reason = f"cannot read it ({e.strerror or e})"
            else:
                if not upright_size_agrees(stored, orientation, (photo.width, photo.height)):
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


def _write_beside(photo: Path, sidecar: Path, data: bytes) -> None:
    """Write ``sidecar`` atomically, with the mode it had (a new one: the photo's own read and write bits)."""
    try:
        mode = (sidecar if sidecar.exists() else photo).stat().st_mode & 0o666
    except OSError:
        mode = 0o600
    with atomic_file(sidecar, private=False) as tmp_name:
        Path(tmp_name).write_bytes(data)
        os.chmod(tmp_name, mode)
