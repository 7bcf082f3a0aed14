"""The gallery's pictures, made from the originals (EXIF orientation applied): a square thumbnail per face
and a preview per photo, JPEG, each written atomically and owner-only."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from PIL import Image

from indexer.files import atomic_file
from indexer.answers.browse import Photo
from indexer.vision.imaging import UnreadablePhoto, load_upright

THUMBNAIL_PX = 112  # side of a face thumbnail, pixels
THUMBNAIL_MARGIN = 0.3  # context around the face box on each side, as a fraction of the box's longer side
PREVIEW_PX = 1280  # longer side of a photo's preview, pixels (smaller photos keep their size)
JPEG_QUALITY = 85
THUMBNAIL_MAX_UPSCALE = 2.0  # a thumbnail may be made from this many times fewer pixels per side than it has


def decode_scale(photo: Photo) -> float:
    """The smallest fraction of the photo's size that still gives a full-size preview, and thumbnails
    from at least 1 / THUMBNAIL_MAX_UPSCALE of their pixels per side (1.0 when its size is not known).
    A 12 MP JPEG is then mostly decoded at half size: ~4× less work (bench/gallery.py)."""
    if not photo.width or not photo.height:
        return 1.0
    smallest_face = min((max(face.box[2], face.box[3]) for face in photo.faces), default=None)
    if smallest_face is None:  # a photo with no face (a search finds those too): its preview alone
        return min(1.0, PREVIEW_PX / max(photo.width, photo.height))
    for_thumbnails = THUMBNAIL_PX / ((1 + 2 * THUMBNAIL_MARGIN) * max(smallest_face, 1) * THUMBNAIL_MAX_UPSCALE)
    return min(1.0, max(PREVIEW_PX / max(photo.width, photo.height), for_thumbnails))


def make_pictures(photo: Photo, thumbnails: dict[int, Path], preview: Path | None, max_megapixels: float,
                  formats: Iterable[str]) -> None:
    """Decode ``photo`` once and write the thumbnails of the faces in ``thumbnails`` (face id → file) and,
    unless None, its ``preview``. Raises UnreadablePhoto when the original cannot be decoded. A video's
    thumbnails come from the frames their faces were seen in, its preview from its first face's frame."""
    if photo.duration is not None:
        _make_video_pictures(photo, thumbnails, preview, max_megapixels)
        return
    image = load_upright(photo.path, max_megapixels, formats, scale=decode_scale(photo))
    if photo.width and photo.height and image.size != (photo.width, photo.height):
        if abs(image.size[0] / photo.width - image.size[1] / photo.height) > 0.02:
            # Not the picture the faces were found in (it changed since): its boxes would land elsewhere.
            raise UnreadablePhoto(f"its size is now {image.size[0]}×{image.size[1]}, not {photo.width}×{photo.height}: "
                                  "`indexer index` it again")
    factor = image.size[0] / photo.width if photo.width else 1.0
    faces = {face.face_id: face for face in photo.faces}
    for face_id, target in thumbnails.items():
        _save(face_thumbnail(image, [v * factor for v in faces[face_id].box]), target)
    if preview is not None:
        image.thumbnail((PREVIEW_PX, PREVIEW_PX), Image.Resampling.LANCZOS)
        _save(image, preview)


def _make_video_pictures(photo: Photo, thumbnails: dict[int, Path], preview: Path | None, max_megapixels: float) -> None:
    from indexer.vision.video import BadVideo, frame_at

    faces = {face.face_id: face for face in photo.faces}
    wanted = {faces[face_id].time or 0.0 for face_id in thumbnails} | ({photo.preview_time} if preview is not None else set())
    frames: dict[float, Image.Image] = {}
    try:
        for time in sorted(wanted):
            frames[time] = Image.fromarray(frame_at(photo.path, time, max_megapixels))
    except BadVideo as e:
        raise UnreadablePhoto(str(e)) from e
    for face_id, target in thumbnails.items():
        face = faces[face_id]
        frame = frames[face.time or 0.0]
        factor = frame.size[0] / photo.width if photo.width else 1.0
        _save(face_thumbnail(frame, [v * factor for v in face.box]), target)
    if preview is not None:
        image = frames[photo.preview_time]
        image.thumbnail((PREVIEW_PX, PREVIEW_PX), Image.Resampling.LANCZOS)
        _save(image, preview)


def face_thumbnail(image: Image.Image, box: list[float]) -> Image.Image:
    """A THUMBNAIL_PX square around ``box`` ([x, y, w, h] in the image's pixels) with THUMBNAIL_MARGIN of
    context, kept inside the image (shifted, or smaller at its edges)."""
    x, y, w, h = box
    side = min(max(w, h) * (1 + 2 * THUMBNAIL_MARGIN), image.size[0], image.size[1])
    left = min(max(0.0, x + w / 2 - side / 2), image.size[0] - side)
    top = min(max(0.0, y + h / 2 - side / 2), image.size[1] - side)
    square = image.crop((round(left), round(top), round(left + side), round(top + side)))
    return square.resize((THUMBNAIL_PX, THUMBNAIL_PX), Image.Resampling.LANCZOS)


def _save(image: Image.Image, target: Path) -> None:
    with atomic_file(target) as tmp_name:
        image.save(tmp_name, format="JPEG", quality=JPEG_QUALITY)
