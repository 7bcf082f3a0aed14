"""A photo's XMP as indexer sees it: where its sidecars are, the geometry of the image as stored, the faces
the index holds of it, and when a region lies on a face."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from indexer.db import reads
from indexer.db.face_rows import FaceRow
from indexer.db.reader import Reader
from indexer.files import absolute, folder_prefix, open_regular, read_small_file

if TYPE_CHECKING:
    from indexer.library import Library

SIDECAR_NAMINGS = ("photo.jpg.xmp", "photo.xmp")  # [xmp] sidecar: the photo's name + .xmp, or its stem + .xmp
BACKUP_SUFFIX = ".before-indexer"
# A real sidecar is kilobytes (a few hundred with an embedded thumbnail or a long edit history).
SIDECAR_LIMIT = 16 << 20
# A region names the face whose upright box it overlaps most, if by at least this much (IoU), or that is
# centred on it (a box a person drew around the whole head can be twice the detector's, IoU 0.25).
MIN_OVERLAP = 0.3


def covers(region: tuple[float, float, float, float], face: tuple[float, float, float, float]) -> bool:
    """Whether a region (upright pixels) is on the face of ``face``'s box: overlapping by MIN_OVERLAP, or
    centred on it."""
    from indexer.geometry import box_overlap, same_face

    return box_overlap(region, face) >= MIN_OVERLAP or same_face(region, face)


def read_sidecar(sidecar: Path) -> bytes | None:
    """A sidecar's bytes; None when there is none. UnsafeFile when it is a link (never followed: it could
    lead out of the library), not a regular file (a FIFO would never end, a device never stop) or larger
    than SIDECAR_LIMIT; OSError when it cannot be read."""
    try:
        return read_small_file(sidecar, SIDECAR_LIMIT)
    except FileNotFoundError:
        return None


def sidecar_path(photo: Path, naming: str) -> Path:
    """The sidecar of ``photo`` under ``naming`` (one of SIDECAR_NAMINGS)."""
    return photo.with_name(photo.name + ".xmp") if naming == "photo.jpg.xmp" else photo.with_suffix(".xmp")


def stored_geometry(photo: Path) -> tuple[tuple[int, int], int]:
    """The photo's size as stored (width, height in pixels) and its EXIF orientation (1–8; 1 when none),
    from its header (a camera RAW's: the picture the index reads it as, ``vision.raw``). OSError when it
    cannot be read."""
    from PIL import Image

    from indexer.vision.imaging import UnreadablePhoto, stored_geometry as header_geometry
    from indexer.vision.media import is_raw

    if is_raw(photo):
        with open_regular(photo):  # a regular file, not a link
            pass
        try:
            return header_geometry(photo)
        except UnreadablePhoto as e:
            raise OSError(str(e)) from None
    with open_regular(photo) as file, Image.open(file) as image:
        orientation = image.getexif().get(0x0112, 1)
        return image.size, orientation if isinstance(orientation, int) and 1 <= orientation <= 8 else 1


def upright_size_agrees(stored: tuple[int, int], orientation: int, indexed: tuple[int, int]) -> bool:
    """Whether a picture stored at ``stored`` (width, height) with EXIF ``orientation`` is, upright, the size
    the index read it at (``indexed``): else it changed since."""
    from indexer.vision.media import turns_of_orientation, upright

    return upright(stored, turns_of_orientation(orientation)) == indexed


@dataclass
class PhotoFaces:
    """A photo file and its faces (a companion's are its shot's: ``indexing.shots``), in its own upright
    pixels; ``lead_id``: the photo its faces were read from (itself, or its shot's lead), ``scale`` its
    size over that one's (1, 1 for itself), ``shot``: the paths of every file of its shot."""

    photo_id: int
    path: str
    width: int
    height: int
    lead_id: int
    scale: tuple[float, float] = (1.0, 1.0)
    faces: list[tuple[int, tuple[int, int, int, int], str | None, str | None]] = field(default_factory=list)
    # (face id, upright box, person's name or None, label source or None)
    shot: list[str] = field(default_factory=list)


def indexed_photos(library: Library, paths: list[Path] | None) -> list[PhotoFaces]:
    """The photo files read successfully (and the files of their shots), with their faces (if any), under
    ``paths`` (files or folders; None: all), by path."""
    chosen = [absolute(p) for p in paths] if paths else None
    photos: dict[int, PhotoFaces] = {}
    faces: dict[int, list[FaceRow]] = {}
    with Reader.open(library.config) as reader:
        files = reads.indexed_stills(reader)
        for face in reads.faces_of_stills(reader):
            faces.setdefault(face.photo_id, []).append(face)
    for file in files:
        if chosen is not None and not any(file.path == c or file.path.startswith(folder_prefix(c)) for c in chosen):
            continue
        fx, fy = file.width / file.lead_width, file.height / file.lead_height
        photo = photos.setdefault(file.photo_id, PhotoFaces(file.photo_id, file.path, file.width, file.height,
                                                            file.lead_id, (fx, fy)))
        for face in faces.get(file.lead_id, []):
            x, y, w, h = face.box
            photo.faces.append((face.face_id, (round(x * fx), round(y * fy), round(w * fx), round(h * fy)), face.person,
                                face.source))
    shots: dict[int, list[str]] = {}
    for photo in photos.values():
        shots.setdefault(photo.lead_id, []).append(photo.path)
    for photo in photos.values():
        photo.shot = shots[photo.lead_id]
    return list(photos.values())


def shared_sidecar(photo: Path, naming: str, shot: list[str] = ()) -> str | None:
    """Why ``photo`` cannot have its own ``photo.xmp`` (another file of the same name stem, such as
    ``photo.mov`` beside ``photo.heic``, would share it), or None. The other files of its ``shot`` share
    its faces, and may share the sidecar."""
    if naming != "photo.xmp":
        return None
    try:
        others = [p.name for p in photo.parent.iterdir()
                  if p.stem == photo.stem and p.suffix.lower() not in (".xmp", photo.suffix.lower()) and p != photo
                  and str(p) not in shot]
    except OSError:
        return None
    if others:
        return f"{photo.stem}.xmp would be shared with {others[0]}: use [xmp] sidecar = \"photo.jpg.xmp\""
    return None


def embedded_xmp(photo: Path, library: Library) -> bytes | None:
    """The XMP packet inside the photo (JPEG APP1, PNG iTXt, WebP, TIFF, HEIC/AVIF where Pillow gives it)."""
    from PIL import Image

    from indexer.vision.imaging import photo_formats, pillow_formats

    try:
        with open_regular(photo) as file, Image.open(file, formats=pillow_formats(photo_formats(library.config.library.extensions))) as image:
            packet = image.info.get("xmp") or image.info.get("XML:com.adobe.xmp")
            if packet is None and image.format == "TIFF":
                packet = image.tag_v2.get(700)
    except Exception:  # an unreadable photo (or a FIFO where it was) has no regions to give; index reports it
        return None
    if isinstance(packet, str):
        packet = packet.encode("utf-8")
    return packet or None
