"""The screenshots of docs/serve.md, made again by hand after a change of the pages:

    .venv/bin/python bench/screenshots.py

`indexer serve`'s app over a synthetic library (the tests' photos, whose faces are coloured squares, and
their fake models: no photo of a real person goes into the repository), in headless Chromium: a cluster
being named with one face left out, and the review page.
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from support.fakes import FakeDetector, PeopleEmbedder  # noqa: E402
from support.photos import make_photo  # noqa: E402


def main() -> None:
    import uvicorn
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    from indexer.config import load_config
    from indexer.library import Library
    from indexer.naming.people import name_cluster
    from indexer.web.app import make_app

    home = Path(tempfile.mkdtemp(prefix="indexer-screenshots-"))
    os.environ["INDEXER_DATA_DIR"] = str(home / "data")
    photos = home / "photos"
    people = [["ann", "bob"], ["ann"], ["ann", "cy"], ["ann"], ["bob"], ["bob", "dee"], ["ann"], ["cy", "ann"], ["bob"]]
    for number, faces in enumerate(people):
        make_photo(photos / f"IMG_{number:04d}.jpg", faces=faces, seed=number)
    library = Library(load_config(None), detector=FakeDetector(), embedder=PeopleEmbedder())
    from indexer.indexing.run import index_library

    index_library(library, [photos])  # groups the unnamed faces at its end
    from indexer.db import reads
    from indexer.db.reader import Reader

    with Reader.open(library.config) as reader:
        clusters = reads.clusters_page(reader, 10, 0)[1]
        bob = reads.faces_of_cluster_page(reader, clusters[1][0], 10, 0)[1]
    name_cluster(library, clusters[1][0], "Bob", leave_out=[bob[-1][0]])  # left for the review to ask about

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = make_app(library, "screenshot", ["127.0.0.1"])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    origin = f"http://127.0.0.1:{port}"

    os.environ.setdefault("SE_OFFLINE", "true")
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or shutil.which("chromium-browser")
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=900,560", "--force-device-scale-factor=1"):
        options.add_argument(argument)
    browser = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    try:
        browser.get(f"{origin}/?token=screenshot")
        browser.get(f"{origin}/clusters/{clusters[0][0]}")
        browser.find_elements("css selector", "li.face.pick label")[-1].click()
        browser.find_element("css selector", "#name-cluster input[name='name']").send_keys("Ann")
        out = ROOT / "docs" / "images"
        out.mkdir(exist_ok=True)
        browser.save_screenshot(str(out / "serve-cluster.png"))
        for _ in range(100):
            browser.get(f"{origin}/review")
            if browser.find_elements("id", "suggestion"):
                break
            time.sleep(0.1)
        browser.save_screenshot(str(out / "serve-review.png"))
        print(f"written: {out / 'serve-cluster.png'}, {out / 'serve-review.png'}")
    finally:
        browser.quit()
        server.should_exit = True
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
