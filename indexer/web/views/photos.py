"""The app's page of one photo with its faces boxed, its preview, and each face's picture."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import FileResponse, Response

from indexer.answers import browse
from indexer.outputs.gallery.pages import face_on_photo

if TYPE_CHECKING:
    from indexer.web.served import Served


def photo_page(served: Served, request: Request) -> Response:
    photo_id = request.path_params["photo_id"]
    with served.read() as reader:
        found = browse.photo(reader, photo_id)
        if found is None:
            return served.problem(request, f"no photo {photo_id} in the index", 404)
        photo, names, clusters = found
        faces = [face_on_photo(face, photo, names, clusters, served.links) for face in photo.faces]
        return served.page(request, "photo.html", photo=photo, faces=faces,
                           preview=f"/photos/{photo.photo_id}/preview.jpg?v={photo.version}",
                           done=served.done(request, reader))


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
