"""End to end, the questions of `indexer find` and `people --with` with the real models: photos made of the
sample library's portraits added to the trained sample library, dated by exiftool (EXIF dates and offsets
in JPEGs and a DNG), a video with a creation_time, a photo with no date (its file's time), two named people
with a stranger beside them (not in --only); an index made before dates were kept, dated by the next run
without a face found again; the search page of `indexer serve` in Chromium agreeing with `find`."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from indexer.sample import composite_photo
from support.e2e import GROUP_FACES, own_copy
from support.raw import write_dng
from support.schema import before_dates
from support.videos import make_video

pytestmark = pytest.mark.e2e


def exif_dated(exiftool: str, photo: Path, when: str, offset: str | None = None) -> Path:
    """``photo`` with its DateTimeOriginal (and OffsetTimeOriginal) written by exiftool."""
    tags = [f"-DateTimeOriginal={when}"] + ([f"-OffsetTimeOriginal={offset}"] if offset else [])
    subprocess.run([exiftool, "-q", "-overwrite_original", *tags, str(photo)], check=True)
    return photo


@pytest.fixture(scope="module")
def dated(trained_sample, sample, exiftool, tmp_path_factory):
    """The trained sample library in a home of its own with a folder of dated photos added and indexed:
    (indexer, the folder, the run's summary)."""
    home = tmp_path_factory.mktemp("queries")
    indexer, library = own_copy(trained_sample("onnx"), home / "home")
    folder = library / "dated"
    folder.mkdir()
    backdrop = home / "backdrop.png"
    Image.new("RGB", (64, 64), (128, 120, 110)).save(backdrop)
    with Image.open(sample.group_photo) as group:  # somebody nobody named: a face of the group photo
        x, y, w, h = GROUP_FACES[1]
        group.crop((x - w // 2, y - h // 2, x + w + w // 2, y + h + h // 2)).save(home / "stranger.jpg")
    madonna, jerry, mindy, ben = (sample.photos("train", person)[0]
                                  for person in ("madonna", "jerry_seinfeld", "mindy_kaling", "ben_afflek"))
    rng = np.random.default_rng(3)
    two = composite_photo(backdrop, [madonna, jerry], [170, 170], (1200, 700), rng, folder / "two.jpg")
    exif_dated(exiftool, two, "2019:06:01 14:03:07", "+02:00")
    three = composite_photo(backdrop, [madonna, jerry, home / "stranger.jpg"], [170, 170, 170], (1500, 700), rng,
                            folder / "three.jpg")
    exif_dated(exiftool, three, "2019:08:10 18:00:00", "-04:00")
    portrait = composite_photo(backdrop, [mindy], [200], (800, 600), rng, home / "mindy.jpg")
    with Image.open(portrait) as picture:
        raw = write_dng(folder / "mindy.dng", picture.convert("RGB"), "jpeg")
    exif_dated(exiftool, raw, "2018:03:04 10:00:00")
    with Image.open(composite_photo(backdrop, [madonna], [200], (640, 480), rng, home / "frame.jpg")) as frame:
        pixels = np.asarray(frame.convert("RGB"))
    make_video(folder / "clip.mp4", [pixels] * 20, 10, metadata={"creation_time": "2017-07-07T07:07:07.000000Z"})
    shutil.copy(ben, folder / "nodate.jpg")
    old = datetime(2015, 5, 5, 5, 5, 5).timestamp()
    os.utime(folder / "nodate.jpg", (old, old))
    summary = indexer.json("index", str(library))
    return indexer, folder, summary


def found(indexer, *args: str) -> list[dict]:
    return indexer.json_lines("find", *args)


def test_dates_read_from_exif_a_raw_a_video_and_the_file_time(dated):
    indexer, folder, summary = dated
    assert (summary["new"], summary["errors"], summary["dates_ignored"]) == (5, 0, 0)
    shown = {Path(line["photo"]).name: (line["taken"], line["taken_from"]) for line in found(indexer, "--in", str(folder))}
    assert shown["two.jpg"] == ("2019-06-01T14:03:07+02:00", "exif")
    assert shown["three.jpg"] == ("2019-08-10T18:00:00-04:00", "exif")
    assert shown["mindy.dng"] == ("2018-03-04T10:00:00", "exif")
    assert shown["clip.mp4"][1] == "video"
    assert datetime.fromisoformat(shown["clip.mp4"][0]) == datetime.fromisoformat("2017-07-07T07:07:07+00:00")
    assert shown["nodate.jpg"][1] == "file" and datetime.fromisoformat(shown["nodate.jpg"][0]).timestamp() == \
        datetime(2015, 5, 5, 5, 5, 5).timestamp()
    assert list(shown) == ["nodate.jpg", "clip.mp4", "mindy.dng", "two.jpg", "three.jpg"]


def test_two_people_together_only_them_and_not_the_stranger(dated):
    indexer, folder, _ = dated
    people = [face["person"] for face in sorted(indexer.json("show", str(folder / "three.jpg"))["faces"],
                                                key=lambda face: face["box"][0])]
    assert people[:2] == ["madonna", "jerry_seinfeld"] and people[2] not in ("madonna", "jerry_seinfeld")
    both = found(indexer, "madonna", "jerry_seinfeld", "--in", str(folder))
    assert [Path(line["photo"]).name for line in both] == ["two.jpg", "three.jpg"]
    assert both[1]["faces"] == 3 and [face["person"] for face in both[1]["matches"]] == ["madonna", "jerry_seinfeld"]
    only = found(indexer, "madonna", "jerry_seinfeld", "--only")
    assert [Path(line["photo"]).name for line in only] == ["two.jpg"]  # the stranger is another face
    assert [Path(line["photo"]).name for line in found(indexer, "madonna", "--not", "jerry_seinfeld", "--in", str(folder))] == ["clip.mp4"]
    assert [Path(line["photo"]).name for line in found(indexer, "madonna", "--year", "2019")] == ["two.jpg", "three.jpg"]
    assert [Path(line["photo"]).name for line in found(indexer, "--faces", "3-", "--from", "2019-08", "--to", "2019-08")] == ["three.jpg"]
    paths = indexer("find", "madonna", "jerry_seinfeld", "-0").stdout
    assert paths == f"{folder / 'two.jpg'}\0{folder / 'three.jpg'}\0"
    assert {"person": "jerry_seinfeld", "photos": 2} in indexer.json_lines("people", "--with", "madonna")


def test_an_index_made_before_dates_is_dated_by_the_next_run_without_a_face_found_again(trained_sample, tmp_path):
    indexer, library = own_copy(trained_sample("onnx"), tmp_path / "home")
    faces = indexer.query("SELECT id, photo_id, box_x, box_y, person_id FROM faces ORDER BY id")
    before_dates(indexer)  # an index made before this change
    ran = indexer("index", str(library), "--json", "--progress")
    assert re.search(r"dating: ", ran.stderr)
    summary = json.loads(ran.stdout)
    assert (summary["new"], summary["changed"], summary["faces_added"]) == (0, 0, 0)
    assert indexer.query("SELECT id, photo_id, box_x, box_y, person_id FROM faces ORDER BY id") == faces
    assert indexer.query("SELECT count(*) FROM photos WHERE taken_from IS NULL OR taken_at IS NULL") == [(0,)]
    assert all(line["taken"] is not None for line in found(indexer, "madonna"))


def search(browser) -> list[str]:
    """Send the search form; the paths of the photos the page that comes back shows."""
    from selenium.webdriver.support.expected_conditions import staleness_of
    from selenium.webdriver.support.ui import WebDriverWait

    form = browser.find_element("css selector", "form.search")
    form.find_element("css selector", "button[type='submit']").click()
    WebDriverWait(browser, 30).until(staleness_of(form))
    return [tile.get_attribute("data-path") for tile in browser.find_elements("css selector", "li.photo")]


def test_the_search_page_in_chromium_shows_what_find_shows(dated, browser):
    from selenium.webdriver.support.ui import Select, WebDriverWait

    indexer, folder, _ = dated
    server = indexer.popen("serve", "--port", "0", stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        link = server.stdout.readline().strip()
        origin = link.split("/?")[0]
        browser.get(link)
        browser.get(origin + "/search")
        fields = browser.find_elements("css selector", "input[name='person']")
        fields[0].send_keys("Madonna")  # case does not matter, as in find
        browser.find_element("css selector", "input[name='in']").send_keys(str(folder))
        assert search(browser) == [line["photo"] for line in found(indexer, "madonna", "--in", str(folder))]
        browser.find_elements("css selector", "input[name='person']")[1].send_keys("jerry_seinfeld")
        assert search(browser) == [line["photo"] for line in found(indexer, "madonna", "jerry_seinfeld", "--in", str(folder))]
        Select(browser.find_element("css selector", "select[name='match']")).select_by_value("only")
        assert search(browser) == [str(folder / "two.jpg")]
        assert "2019-06-01 14:03" in browser.find_element("css selector", "li.photo .taken").text
        thumbnail = browser.find_element("css selector", "li.photo img")  # its thumbnail, made from the photo
        WebDriverWait(browser, 30).until(lambda _: thumbnail.get_property("complete") and thumbnail.get_property("naturalWidth") > 0)
    finally:
        server.terminate()
        server.wait(timeout=30)
