"""The static HTML gallery through the CLI, with the fake models (faces are coloured squares, see
support/photos.py): what it shows, refreshing only what changed, escaping, privacy, paging, refusals.
tests/test_e2e_gallery.py loads it in a real browser."""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path

import pytest
from PIL import Image

from support.photos import make_photo, unsorted_library


@pytest.fixture
def unsorted(run, tmp_path, use_people_models):
    """ann in 4 photos, bob in 3 (once with ann), cy in 1; indexed; ann's cluster named "Ann"."""
    root = unsorted_library(tmp_path / "photos")
    run("index", str(root))
    ann = run.json_lines("clusters")[0]
    run("label", "--cluster", str(ann["cluster"]), "Ann")
    return root


def gallery(run, site: Path, *extra: str, expect: int = 0) -> dict:
    return json.loads(run("gallery", str(site), "--json", *extra, expect=expect).stdout)


def pages(site: Path) -> dict[str, str]:
    return {str(p.relative_to(site)): p.read_text(encoding="utf-8") for p in site.rglob("*.html")}


def test_the_gallery_shows_everyone_named_the_clusters_and_every_photo_with_faces(run, unsorted, tmp_path):
    site = tmp_path / "site"
    report = gallery(run, site)
    assert (report["thumbnails_made"], report["previews_made"], report["unreadable"]) == (8, 7, [])
    index = (site / "index.html").read_text()
    ann_id, bob_cluster = _person_id(index, "Ann"), run.json("clusters")["cluster"]
    assert re.search(r'<span class="name">Ann</span>\s*</a>\s*<span class="counts"><span class="faces">4</span> faces, '
                     r'<span class="photos">4</span> photos', index)
    assert f'href="clusters/{bob_cluster}.html"' in index and "3 faces, 3 photos" in index
    assert '<span id="photos-count">7</span> photos, <span id="faces-count">8</span> faces' in index
    cluster_page = (site / "clusters" / f"{bob_cluster}.html").read_text()
    assert f'<code id="name-command">indexer label --cluster {bob_cluster} "NAME"</code>' in cluster_page
    assert cluster_page.count('<li class="face">') == 3
    person_page = (site / "people" / f"{ann_id}.html").read_text()
    assert person_page.count('<li class="face by-hand">') == 4 and "indexer find Ann" in person_page
    assert len(list((site / "photos").glob("*.html"))) == 7 and len(list((site / "faces").glob("*.jpg"))) == 8
    for thumbnail in (site / "faces").glob("*.jpg"):
        with Image.open(thumbnail) as image:
            assert image.size == (112, 112) and image.format == "JPEG"
    # The photo with ann and bob: ann's box links to her page, bob's to his cluster, each placed in % of the photo.
    both = next(text for name, text in pages(site).items() if name.startswith("photos/") and "p2.jpg" in text)
    assert f'href="../people/{ann_id}.html"' in both and f'href="../clusters/{bob_cluster}.html"' in both
    assert "left: 2.5%; top: 5.0%; width: 10.0%; height: 20.0%" in both  # the square at (10, 10, 40, 40) of 400×200


def test_a_refresh_redoes_only_what_changed_and_removes_what_the_index_no_longer_holds(run, unsorted, tmp_path):
    site = tmp_path / "site"
    gallery(run, site)
    person_page = next((site / "people").glob("*.html"))
    written_at = person_page.stat().st_mtime_ns
    again = gallery(run, site)
    assert (again["thumbnails_made"], again["previews_made"], again["removed"]) == (0, 0, 0)
    assert again["pages_written"] <= 1  # the index page, when the minute it shows has changed
    assert person_page.stat().st_mtime_ns == written_at
    cy_face = run.json("show", str(unsorted / "p6.jpg"))["faces"][0]["face_id"]
    previews_before = {p.name for p in (site / "previews").iterdir()}
    (unsorted / "p6.jpg").unlink()  # cy's photo
    make_photo(unsorted / "p7.jpg", faces=["bob", "ann"], seed=7)
    run("index", str(unsorted))
    refreshed = gallery(run, site)
    assert (refreshed["thumbnails_made"], refreshed["previews_made"]) == (2, 1)
    # cy's thumbnail and preview; their photo page is p7's now (SQLite gave p7 the id p6 had), or removed too.
    assert refreshed["removed"] in (2, 3)
    assert not (site / "faces" / f"{cy_face}.jpg").exists()
    assert len(previews_before - {p.name for p in (site / "previews").iterdir()}) == 1
    assert not any("p6.jpg" in text for text in pages(site).values())
    assert len(list((site / "faces").glob("*.jpg"))) == 9 and len(list((site / "previews").glob("*.jpg"))) == 7


def test_names_and_file_names_are_escaped_wherever_they_appear(run, unsorted, tmp_path):
    hostile_file = unsorted / '"><img src=x onerror=alert(1)>.jpg'
    make_photo(hostile_file, faces=["cy"], seed=9)
    run("index", str(unsorted))
    face_id = next(face["face_id"] for face in run.json("show", str(hostile_file))["faces"])
    run("label", str(face_id), "<script>alert(1)</script>")
    site = tmp_path / "site"
    gallery(run, site)
    everything = "\n".join(pages(site).values())
    assert "<script>alert" not in everything and "<img src=x" not in everything
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in (site / "index.html").read_text()
    hostile_page = next(text for text in pages(site).values() if "onerror" in text and "photos" in text)
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;.jpg" in hostile_page
    assert "indexer find '<script>alert(1)</script>'" not in everything  # quoted for the shell, then escaped
    assert "indexer find &#39;&lt;script&gt;alert(1)&lt;/script&gt;&#39;" in everything


def test_the_gallery_is_owner_only_and_every_link_is_relative(run, unsorted, tmp_path):
    site = tmp_path / "site"
    gallery(run, site)
    for path in [site, *site.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), path
    for name, text in pages(site).items():
        for link in re.findall(r'(?:href|src)="([^"]*)"', text):
            assert not re.match(r"[a-z]+:|/", link), f"{name}: {link}"
            target = (site / name).parent / link.split("#")[0]
            assert target.is_file(), f"{name} links to a missing {link}"


def test_a_folder_that_is_not_a_gallery_a_file_or_no_folder_at_all_is_one_line_and_exit_1(run, unsorted, tmp_path):
    theirs = tmp_path / "documents"
    theirs.mkdir()
    (theirs / "letter.txt").write_text("dear")
    refused = run("gallery", str(theirs), expect=1)
    assert refused.stderr.strip() == (f"indexer: error: {theirs} is not empty and holds no gallery of indexer's: "
                                      "choose a new or empty folder")
    assert sorted(p.name for p in theirs.iterdir()) == ["letter.txt"]
    assert "is a file, not a folder" in run("gallery", str(theirs / "letter.txt"), expect=1).stderr
    assert "name the folder to write the gallery in, or set [gallery] dir" in run("gallery", expect=1).stderr


def test_a_person_with_more_faces_than_a_page_holds_gets_pages_linked_in_order(run, unsorted, tmp_path, monkeypatch):
    import indexer.outputs.gallery.pages

    monkeypatch.setattr(indexer.outputs.gallery.pages, "FACES_PER_PAGE", 3)
    site = tmp_path / "site"
    gallery(run, site)
    ann_id = _person_id((site / "index.html").read_text(), "Ann")
    first, second = (site / "people" / f"{ann_id}.html").read_text(), (site / "people" / f"{ann_id}-2.html").read_text()
    assert first.count('<li class="face') == 3 and second.count('<li class="face') == 1
    assert f'href="{ann_id}-2.html" rel="next"' in first and f'href="{ann_id}.html" rel="prev"' in second
    assert "page 2 of 2" in second


def test_index_refreshes_the_gallery_named_in_the_config(write_config, tmp_path, use_people_models):
    from typer.testing import CliRunner

    from indexer.cli import app

    site = tmp_path / "nightly-site"
    config = write_config(f'[gallery]\ndir = "{site}"\n')
    make_photo(tmp_path / "photos" / "one.jpg", faces=["ann", "bob"])
    result = CliRunner().invoke(app, ["--config", str(config), "index", str(tmp_path / "photos")], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    assert (site / "index.html").is_file() and len(list((site / "faces").glob("*.jpg"))) == 2
    assert f"gallery {site}: " in result.stderr


def test_a_photo_that_cannot_be_read_keeps_the_pictures_it_had(run, unsorted, tmp_path):
    site = tmp_path / "site"
    gallery(run, site)
    photo = unsorted / "p0.jpg"
    face_id = run.json("show", str(photo))["faces"][0]["face_id"]
    preview = next((site / "previews").iterdir())
    photo.write_bytes(photo.read_bytes()[:200])  # damaged after it was indexed
    (site / "faces" / f"{face_id}.jpg").unlink()  # so the gallery has to read it again
    report = gallery(run, site)
    assert report["unreadable"] == [str(photo)] and report["removed"] == 0
    assert preview.is_file()


def test_thumbnails_are_cut_from_the_upright_photo(run, tmp_path, use_people_models):
    """A photo stored on its side with EXIF orientation 6 (turn 90° clockwise to view): the face found in
    the upright photo is what its thumbnail shows (a white square in the middle, not the dark backdrop)."""
    upright = make_photo(tmp_path / "upright.jpg", faces=1, size=(200, 120))
    stored = tmp_path / "photos" / "sideways.jpg"
    stored.parent.mkdir()
    exif = Image.Exif()
    exif[0x0112] = 6
    with Image.open(upright) as image:
        image.transpose(Image.Transpose.ROTATE_90).save(stored, exif=exif, quality=95)
    run("index", str(tmp_path / "photos"))
    site = tmp_path / "site"
    gallery(run, site)
    (thumbnail,) = (site / "faces").glob("*.jpg")
    with Image.open(thumbnail) as image:
        assert min(image.getpixel((56, 56))) > 200  # the middle of the face is white


def _person_id(index_html: str, name: str) -> int:
    found = re.search(r'<li class="person" data-person-id="(\d+)">\s*<a href="people/\d+\.html">\s*<img [^>]*>\s*'
                      rf'<span class="name">{re.escape(name)}</span>', index_html)
    assert found, f"{name} is not on the index page"
    return int(found.group(1))


def test_open_shows_the_index_page_in_the_systems_browser_or_says_where_it_is(run, unsorted, tmp_path, monkeypatch):
    import webbrowser

    opened = []
    monkeypatch.setattr(webbrowser, "open", lambda uri: opened.append(uri) or True)
    site = tmp_path / "site"
    run("gallery", str(site), "--open")
    assert opened == [(site / "index.html").as_uri()]
    monkeypatch.setattr(webbrowser, "open", lambda uri: False)  # no browser here
    assert f"no web browser could be started: open {site / 'index.html'}" in run("gallery", str(site), "--open").stderr
