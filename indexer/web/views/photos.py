"""The app's photos: every photo by date, one photo with its faces boxed (its previous and next in the list
it was opened from), its preview, and each face's picture."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import FileResponse, Response

from indexer.answers import browse
from indexer.outputs.gallery.pages import face_on_photo
from indexer.web.forms import page_number
from indexer.web.views.pages import paging

if TYPE_CHECKING:
    from indexer.web.served import Served


def photo_page(served: Served, request: Request) -> Response:
    """A photo with its faces boxed, named by its path from its library root; opened from a list (``?in=``:
    a person, a search, a folder, every photo), with the photos before and after it there."""
    photo_id, key = request.path_params["photo_id"], request.query_params.get("in", "")[:4000]
    with served.read() as reader:
        found = browse.photo(reader, photo_id)
        if found is None:
            return served.problem(request, f"no photo {photo_id} in the index", 404)
        photo, names, clusters = found
        faces = [face_on_photo(face, photo, names, clusters, served.links) for face in photo.faces]
        place = browse.photo_neighbours(reader, key, photo_id) if key else None
        return served.page(request, "photo.html", photo=photo, faces=faces, place=place,
                           shown_path=browse.shown_path(photo.path, browse.library_roots(reader, served.library.config.library.roots)),
                           preview=f"/photos/{photo.photo_id}/preview.jpg?v={photo.version}",
                           done=served.done(request, reader))


def timeline(served: Served, request: Request) -> Response:
    """Every photo of the index, newest first under year headings, faceless ones too (``?in=FOLDER``: those
    under a folder)."""
    from indexer.files import folder_prefix

    folder = request.query_params.get("in") or None
    prefix = folder_prefix(folder) if folder else None
    with served.read() as reader:
        page = page_number(request)
        total, found = browse.timeline_page(reader, page, prefix)
        return served.page(request, "photos.html", total=total, found=found, folder=folder,
                           context=f"photos:{prefix}" if prefix else "photos",
                           **paging(request, page, browse.pages(total, 60)))


def preview(served: Served, request: Request) -> Response:
    with served.read() as reader:
        found = browse.photo(reader, request.path_params["photo_id"])
    return _picture(served.pictures.preview(found[0]) if found is not None else None)


def face_picture(served: Served, request: Request) -> Response:
    with served.read() as reader:
        found = browse.face(reader, request.path_params["face_id"])
    return _picture(served.pictures.face(*found) if found is not None else None)


def _picture(path) -> Response:
    if path is None:
        return Response("no such picture, or its photo cannot be read now", status_code=404, media_type="text/plain")
    return FileResponse(path, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"})
