"""`indexer serve`'s app for tests, through Starlette's test client: opened as a browser opens the link the
command prints (the token sets the cookie), with the form token at hand (``client.csrf``)."""

from __future__ import annotations

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
