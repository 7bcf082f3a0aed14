"""`indexer serve`'s app for tests, through Starlette's test client: opened as a browser opens the link the
command prints (the token sets the cookie), with the form token at hand (``client.csrf``)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

TOKEN = "the-token"
HOST = "http://127.0.0.1:8765"


@contextmanager
def app_client(config: Path) -> Iterator:
    """A TestClient of the app over the index of ``config``, its cookie set; redirects are not followed."""
    from starlette.testclient import TestClient

    from indexer.config import load_config
    from indexer.library import Library
    from indexer.web.app import make_app

    app = make_app(Library(load_config(config)), TOKEN, ["127.0.0.1", "localhost"])
    with TestClient(app, base_url=HOST, follow_redirects=False) as client:
        opened = client.get(f"/?token={TOKEN}")
        assert opened.status_code == 303 and opened.headers["location"] == "/"
        client.csrf = app.state.served.csrf
        yield client


def post(client, path: str, data: dict | None = None, expect: int = 303, **headers):
    """A form sent from a page of the app (its CSRF token in it); the response."""
    sent = client.post(path, data={"csrf": client.csrf, **(data or {})}, headers={"origin": HOST, **headers})
    assert sent.status_code == expect, sent.text
    return sent


def done_event(response) -> int:
    """The event a change made, from where the app sends the browser next (``?done=``)."""
    return int(re.search(r"done=(\d+)", response.headers["location"]).group(1))


def named_unsorted_library(run, folder: Path, faceless: bool = False) -> tuple[Path, dict[str, list[int]]]:
    """support.photos' unsorted library in ``folder`` (with ``faceless``, a photo with no face too), indexed
    with ``run``, one face of ann's named Ann by hand: (the folder, photo stem → its face ids)."""
    from support.photos import make_photo, unsorted_library

    root = unsorted_library(folder)
    if faceless:
        make_photo(root / "empty.jpg", 0, seed=9)
    run("index", str(root))
    faces = {photo.stem: [f["face_id"] for f in run.json("show", str(photo))["faces"]] for photo in sorted(root.glob("*.jpg"))}
    run("label", str(faces["p0"][0]), "Ann")
    return root, faces
