"""End to end, the gallery: made by the real CLI from the sample library (real models, real photos) and
loaded in a real headless Chromium through Selenium and chromium-driver (Debian's packages, which `make
test` installs when missing; without them these tests are skipped and say so). Nothing is downloaded."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from indexer.sample import PEOPLE
from support.e2e import GROUP_FACES, Indexer, copy_photos, group_face_index, own_copy

pytestmark = pytest.mark.e2e

HOSTILE_NAME = "<script>alert(1)</script>"
HOSTILE_FILE = '"><img src=x onerror=alert(1)>.jpg'


def open_page(browser, page: Path) -> None:
    browser.get(page.as_uri())
    assert_no_dialog(browser)


def assert_no_dialog(browser) -> None:
    from selenium.common.exceptions import NoAlertPresentException

    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text


def photo_page(indexer: Indexer, site: Path, photo: Path) -> Path:
    (photo_id,) = indexer.query("SELECT id FROM photos WHERE path = ?", str(photo))[0]
    return site / "photos" / f"{photo_id}.html"


def test_the_sample_librarys_gallery_shows_its_people_their_faces_and_boxes_on_the_faces(trained_sample, browser, tmp_path):
    indexer, library, _, _ = trained_sample("onnx")
    site = tmp_path / "site"
    indexer("gallery", str(site))

    open_page(browser, site / "index.html")
    shown = browser.execute_script(
        "return [...document.querySelectorAll('li.person')].map(li => [li.querySelector('.name').textContent,"
        " +li.querySelector('.faces').textContent, +li.querySelector('.photos').textContent])")
    people = indexer.json_lines("people")
    assert shown == [[p["name"], p["faces"], p["photos"]] for p in people]
    assert sorted(name for name, _, _ in shown) == sorted(PEOPLE)
    assert browser.execute_script("return [...document.images].every(i => i.complete && i.naturalWidth === 112)")
    screenshot = _image(browser.get_screenshot_as_png())
    assert len(screenshot.getcolors(1 << 24)) > 1000  # faces, not a blank page

    madonna = next(p for p in people if p["name"] == "madonna")
    browser.find_element("link text", "madonna").click()
    assert "/people/" in browser.current_url and browser.find_element("tag name", "h1").text == "madonna"
    assert len(browser.find_elements("css selector", "li.face")) == madonna["faces"]
    first = browser.find_element("css selector", "li.face img")
    assert browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth === 112", first)

    # The group photo: six strangers, each box where the database says the face is.
    group = library / "group.jpg"
    open_page(browser, photo_page(indexer, site, group))
    (width, height), = indexer.query("SELECT width, height FROM photos WHERE path = ?", str(group))
    boxes = browser.execute_script(
        "const photo = document.getElementById('photo'); const p = photo.getBoundingClientRect();"
        "return {loaded: photo.complete && photo.naturalWidth > 0, shown: p.width, boxes: [...document.querySelectorAll('.box')]"
        ".map(b => { const r = b.getBoundingClientRect(); return [+b.dataset.faceId, b.textContent.trim(),"
        " (r.left - p.left) / p.width, (r.top - p.top) / p.height, r.width / p.width, r.height / p.height]; })};")
    assert boxes["loaded"]
    stored = {face_id: [x, y, w, h] for face_id, x, y, w, h in indexer.query(
        "SELECT faces.id, box_x, box_y, box_w, box_h FROM faces JOIN photos ON photos.id = faces.photo_id "
        "WHERE photos.path = ?", str(group))}
    assert len(boxes["boxes"]) == len(stored) == 6
    pixel = width / boxes["shown"]  # one screen pixel, in the photo's pixels
    for face_id, label, left, top, box_width, box_height in boxes["boxes"]:
        x, y, w, h = stored[face_id]
        assert label == f"unknown #{face_id}"
        assert abs(left * width - x) <= 1.5 * pixel and abs(top * height - y) <= 1.5 * pixel
        assert abs(box_width * width - w) <= 1.5 * pixel and abs(box_height * height - h) <= 1.5 * pixel
        assert group_face_index([x, y, w, h]) is not None  # and those are the six faces
    assert {group_face_index(box) for box in stored.values()} == set(range(len(GROUP_FACES)))

    # A val photo: its box is labelled with the person recognition named, and leads to their page.
    val = sorted((library / "val" / "madonna").glob("*.jpg"))[0]
    open_page(browser, photo_page(indexer, site, val))
    labels = [box.text for box in browser.find_elements("css selector", "a.box.named")]
    assert any(label.startswith("madonna #") for label in labels)


def test_hostile_names_and_file_names_show_as_text_and_never_run(trained_sample, browser, sample, tmp_path):
    indexer, library = own_copy(trained_sample("onnx"), tmp_path / "home")  # a photo is added to the library
    hostile = library / HOSTILE_FILE
    shutil.copy2(sample.photos("val", "madonna")[0], hostile)
    indexer("index", str(library))
    face_id = max(indexer.json("show", str(hostile))["faces"], key=lambda f: f["box"][2] * f["box"][3])["face_id"]
    indexer("label", str(face_id), HOSTILE_NAME)
    site = tmp_path / "site"
    indexer("gallery", str(site))

    open_page(browser, site / "index.html")
    assert HOSTILE_NAME in browser.find_element("tag name", "body").text
    person = browser.find_element("xpath", f"//span[@class='name'][text()='{HOSTILE_NAME}']/..")
    person.click()
    assert_no_dialog(browser)
    assert browser.find_element("tag name", "h1").text == HOSTILE_NAME
    assert browser.execute_script("return document.scripts.length") == 1  # gallery.js alone

    open_page(browser, photo_page(indexer, site, hostile))
    assert browser.find_element("tag name", "h1").text == str(hostile)
    assert browser.execute_script("return document.querySelectorAll('img[src=\"x\"]').length") == 0
    assert f"{HOSTILE_NAME} #{face_id}" in [box.text for box in browser.find_elements("css selector", ".box")]


def test_the_nightly_run_keeps_a_gallery_of_unnamed_clusters_that_reads_without_javascript(sample, browser, tmp_path):
    library = copy_photos([*sample.photos("train", "madonna")[:4], *sample.photos("train", "jerry_seinfeld")[:4],
                           sample.group_photo], tmp_path / "library")
    indexer = Indexer(tmp_path / "home")
    site = tmp_path / "site"
    indexer.config.write_text(indexer.config.read_text() + f'[gallery]\ndir = "{site}"\n')
    indexer("index", str(library))
    found = indexer.json_lines("clusters")
    assert [c["size"] for c in found] == [4, 4]

    open_page(browser, site / "index.html")
    listed = browser.execute_script("return [...document.querySelectorAll('li.cluster')].map(li => +li.dataset.clusterId)")
    assert listed == [c["cluster"] for c in found]
    assert browser.find_element("id", "photos-count").text == "9"
    browser.find_element("css selector", f"li.cluster[data-cluster-id='{found[0]['cluster']}'] a").click()
    command = f'indexer label --cluster {found[0]["cluster"]} "NAME"'
    assert browser.find_element("id", "name-command").text == command
    assert browser.find_element("css selector", "button.copy").text == "Copy"  # JavaScript adds the convenience
    assert len(browser.find_elements("css selector", "li.face")) == 4

    # The same page without JavaScript: everything but the copy button.
    browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    try:
        browser.refresh()
        assert browser.find_element("id", "name-command").text == command
        assert browser.find_elements("css selector", "button.copy") == []
        assert len(browser.find_elements("css selector", "li.face")) == 4
    finally:
        browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})

    # The next night, one more photo: the gallery is refreshed at the end of the run, that photo's pictures made.
    shutil.copy2(sample.photos("train", "madonna")[4], library / "new.jpg")
    night = indexer("index", str(library)).stderr
    assert "gallery " in night and "1 thumbnails and 1 previews made" in night
    open_page(browser, site / "index.html")
    assert browser.find_element("id", "photos-count").text == "10"


def _image(png: bytes):
    from PIL import Image

    return Image.open(io.BytesIO(png)).convert("RGB")
