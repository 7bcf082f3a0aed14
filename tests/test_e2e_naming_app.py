"""End to end, naming the whole library in `indexer serve` with the real models, in headless Chromium: two
faces named at once from the page of faces nobody named, three clusters named in a row with Enter (a face
left out never suggested as that name again), a merge offered by a rename with the warning of a person
twice in one photo, a face drawn on a photo with no face found, "not a face", ← and → through a person's
photos; every page at a phone's 390 × 844 with no sideways scroll and buttons a finger can hit, and at
1280 × 800 with the photo inside the window."""

from __future__ import annotations

import re
import subprocess

import numpy as np
import pytest
from PIL import Image

from indexer.sample import composite_photo
from support.e2e import Indexer, copy_photos

pytestmark = pytest.mark.e2e

PEOPLE = ("madonna", "jerry_seinfeld", "mindy_kaling", "elton_john")


@pytest.fixture(scope="module")
def served(sample, tmp_path_factory):
    """Three photos each of four people, a photo of madonna beside jerry_seinfeld, and a photo with no face,
    nobody named, indexed and served: (indexer, library folder, origin, the link, server, file name → person)."""
    home = tmp_path_factory.mktemp("naming-app")
    chosen = {photo: person for person in PEOPLE for photo in sample.photos("train", person)[:3]}
    library = copy_photos(list(chosen), home / "library")
    who = {photo.name: person for photo, person in chosen.items()} | {"pair.jpg": "pair"}
    backdrop = home / "backdrop.png"
    Image.new("RGB", (64, 64), (128, 120, 110)).save(backdrop)
    composite_photo(backdrop, [sample.photos("train", "madonna")[3], sample.photos("train", "jerry_seinfeld")[3]],
                    [170, 170], (1200, 700), np.random.default_rng(5), library / "pair.jpg")
    Image.new("RGB", (800, 600), (90, 140, 200)).save(library / "sky.jpg")
    indexer = Indexer(home / "home")
    indexer("index", str(library))
    server = indexer.popen("serve", "--port", "0", stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    link = server.stdout.readline().strip()
    assert link.startswith("http://127.0.0.1:"), server.stderr.read() if server.poll() is not None else link
    yield indexer, library, link.split("/?")[0], link, server, who
    server.terminate()
    server.wait(timeout=30)


def wait_for(browser, condition, timeout: float = 30):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, timeout).until(lambda driver: condition(driver))


def photo_of(indexer, face_id: int) -> str:
    return next(f for c in indexer.json_lines("clusters") for f in c["faces"] if f["face_id"] == face_id)["photo"]


def faces_in(indexer, photo) -> list[dict]:
    return indexer.json("show", str(photo))["faces"]


def open_app(browser, link: str, origin: str, path: str) -> None:
    browser.set_window_size(1280, 800)
    browser.get(link)
    browser.get(origin + path)


def test_naming_the_library_from_the_faces_nobody_named_to_three_clusters_in_a_row(served, browser):
    from selenium.webdriver.common.keys import Keys

    indexer, library, origin, link, _, who = served
    person_of = lambda face: who[face["photo"].rsplit("/", 1)[1]]  # noqa: E731
    clusters = indexer.json_lines("clusters")
    mindy = next(c for c in clusters if {person_of(f) for f in c["faces"]} == {"mindy_kaling"})
    ticked = [f["face_id"] for f in mindy["faces"][:2]]
    open_app(browser, link, origin, "/faces/unnamed")
    for face in ticked:
        browser.find_element("css selector", f"li[data-face-id='{face}'] label").click()
    browser.find_element("css selector", "#name-unnamed input[name='name']").send_keys("Mindy")
    browser.find_element("css selector", "#name-unnamed button[value='name']").click()
    wait_for(browser, lambda d: "done=" in d.current_url)
    assert "Done: 2 faces" in browser.find_element("css selector", "form.done").text
    assert {face["face_id"] for line in indexer.json_lines("find", "Mindy") for face in line["matches"]} == set(ticked)
    # Three clusters in a row, each named with Enter; the first leaves a face out.
    remaining = [c for c in indexer.json_lines("clusters") if c["cluster"] != mindy["cluster"]]
    assert len(remaining) == 3
    browser.get(origin + "/clusters")
    browser.find_element("css selector", "li.cluster a").click()
    named, left_out = [], None
    for position in range(3):
        cluster = int(re.search(r"/clusters/(\d+)", browser.current_url).group(1))
        faces = [c for c in remaining if c["cluster"] == cluster][0]["faces"]
        name = next(p for p in PEOPLE if {person_of(f) for f in faces} <= {p, "pair"})
        if position == 0:
            left_out = faces[-1]["face_id"]
            browser.find_element("css selector", f"input[name='except'][value='{left_out}']").find_element("xpath", "..").click()
        field = browser.find_element("css selector", "#name-cluster input[name='name']")
        field.send_keys(name, Keys.ENTER)
        wait_for(browser, lambda d, before=cluster: f"/clusters/{before}" not in d.current_url)
        named.append((name, left_out if position == 0 else None))
    assert "/faces/unnamed" in browser.current_url  # after the last cluster, the faces left over
    assert {line["name"] for line in indexer.json_lines("people")} >= {"Mindy", *(name for name, _ in named)}
    first = named[0][0]
    assert all(not (s["face_id"] == left_out and s["person"] == first) for s in indexer.json_lines("review", "--limit", "100"))
    browser.get(origin + "/review")
    assert f'data-face-id="{left_out}"' not in browser.page_source or f"Is this {first}?" not in browser.page_source


def test_a_rename_to_a_taken_name_offers_the_merge_and_warns_of_a_person_twice_in_a_photo(served, browser):
    indexer, library, origin, link, _, _ = served
    pair = sorted(faces_in(indexer, library / "pair.jpg"), key=lambda face: face["box"][0])
    indexer("label", str(pair[0]["face_id"]), "Madge")  # madonna, under another name
    indexer("label", str(pair[1]["face_id"]), "Madonna Louise")  # jerry, named wrongly
    madge = next(p for p in indexer.json_lines("people") if p["name"] == "Madge")
    assert madge
    open_app(browser, link, origin, "/people")
    browser.find_element("xpath", "//span[@class='name'][text()='Madge']/..").click()
    field = browser.find_element("css selector", "form[action$='/rename'] input[name='name']")
    field.clear()
    field.send_keys("madonna louise")
    field.submit()
    wait_for(browser, lambda d: "/merge?into=" in d.current_url)
    warning = browser.find_element("css selector", ".warning").text
    assert "both are named" in warning and str(library / "pair.jpg") in warning
    browser.find_element("id", "merge").click()
    wait_for(browser, lambda d: "done=" in d.current_url)
    assert "Madge" not in {p["name"] for p in indexer.json_lines("people")}
    indexer("undo")  # leave the library as the other tests expect it
    indexer("label", "--clear", str(pair[1]["face_id"]))


def test_a_face_drawn_on_a_photo_with_none_found_and_another_said_to_be_no_face(served, browser):
    from selenium.webdriver.common.action_chains import ActionChains

    indexer, library, origin, link, _, _ = served
    open_app(browser, link, origin, "/photos")
    browser.find_element("css selector", f"li.photo[data-path='{library / 'sky.jpg'}'] a").click()
    wait_for(browser, lambda d: "No face was found in it" in d.page_source)
    figure = browser.find_element("css selector", "figure.photo")
    size = figure.size
    ActionChains(browser).move_to_element_with_offset(figure, -size["width"] // 4, -size["height"] // 4).click_and_hold() \
        .move_by_offset(size["width"] // 5, size["height"] // 4).release().perform()
    form = browser.find_element("id", "draw-face")
    assert int(form.find_element("css selector", "input[name='w']").get_attribute("value")) > 100  # the photo's pixels
    form.find_element("css selector", "input[name='name']").send_keys("Sky face")
    form.find_element("css selector", "button[type='submit']").click()
    wait_for(browser, lambda d: "done=" in d.current_url)
    (drawn,) = faces_in(indexer, library / "sky.jpg")
    assert drawn["person"] == "Sky face" and drawn["origin"] == "drawn"
    # "Not a face" on an unnamed face of another photo.
    browser.get(origin + "/faces/unnamed")
    tile = browser.find_element("css selector", "li.face[data-face-id]")
    face_id = int(tile.get_attribute("data-face-id"))
    tile.find_element("css selector", ".caption a").click()
    row = browser.find_element("xpath", f"//form[@action='/faces/{face_id}/name']")
    row.find_element("css selector", "button[value='dismiss']").click()
    wait_for(browser, lambda d: "done=" in d.current_url)
    photo = re.search(r"/photos/(\d+)", browser.current_url).group(1)
    assert 'class="box not-a-face"' in browser.page_source
    assert f'data-face-id="{face_id}"' not in (browser.get(origin + "/faces/unnamed") or browser.page_source)
    assert photo and indexer("undo").returncode == 0


def test_left_and_right_go_through_a_persons_photos_in_the_order_of_their_page(served, browser):
    from selenium.webdriver.common.keys import Keys

    indexer, library, origin, link, _, _ = served
    person = next(p for p in indexer.json_lines("people") if p["photos"] >= 3)
    open_app(browser, link, origin, "/people")
    browser.find_element("xpath", f"//span[@class='name'][text()='{person['name']}']/..").click()
    tiles = browser.find_elements("css selector", "li.face .caption a")
    order = [re.search(r"/photos/(\d+)", tile.get_attribute("href")).group(1) for tile in tiles]
    tiles[0].click()
    wait_for(browser, lambda d: f"/photos/{order[0]}" in d.current_url)
    assert "in=person:" in browser.current_url and "1 of" in browser.find_element("css selector", ".neighbours").text
    browser.find_element("tag name", "body").send_keys(Keys.ARROW_RIGHT)
    wait_for(browser, lambda d: f"/photos/{order[1]}?" in d.current_url)
    browser.find_element("tag name", "body").send_keys(Keys.ARROW_LEFT)
    wait_for(browser, lambda d: f"/photos/{order[0]}?" in d.current_url)


def test_every_page_fits_a_phone_and_the_photo_fits_the_window(served, browser):
    indexer, library, origin, link, _, _ = served
    person = indexer.json_lines("people")[0]["name"]
    open_app(browser, link, origin, "/people")
    person_path = re.search(r'href="(/people/\d+)"', browser.page_source).group(1)
    browser.get(origin + "/photos")
    photo_path = "/photos/" + browser.find_element("css selector", f"li.photo[data-path='{library / 'pair.jpg'}']").get_attribute("data-photo-id")
    cluster = indexer.json_lines("clusters")
    pages = ["/", "/people", person_path, "/clusters", "/faces/unnamed", "/photos", photo_path, photo_path + "?in=photos",
             "/review", "/history", f"/search?person={person}", "/train", f"{person_path}/merge?into={person_path.split('/')[-1]}"]
    if cluster:
        pages.append(f"/clusters/{cluster[0]['cluster']}")
    browser.set_window_size(390, 844)
    for path in pages:
        browser.get(origin + path)
        wide = browser.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
        assert wide[0] <= wide[1], f"{path} scrolls sideways at 390 px: {wide}"
        small = browser.execute_script(
            "return [...document.querySelectorAll('button')].filter(b => b.offsetParent && !b.classList.contains('small')"
            " && b.getBoundingClientRect().height < 40).map(b => b.textContent)")
        assert small == [], f"{path}: buttons under 40 px: {small}"
    browser.set_window_size(1280, 800)
    browser.get(origin + photo_path)
    wait_for(browser, lambda d: d.execute_script("return document.getElementById('photo').complete"))
    box = browser.execute_script("const r = document.getElementById('photo').getBoundingClientRect();"
                                 " return [r.width, r.height, window.innerWidth, window.innerHeight]")
    assert box[0] <= box[2] and box[1] <= box[3], f"the photo is larger than the window: {box}"
    labels = browser.execute_script(
        "return [...document.querySelectorAll('.box .label')].map(l => { const r = l.getBoundingClientRect();"
        " return [r.left, r.top, r.right, r.bottom]; })")
    for i, a in enumerate(labels):
        for b in labels[i + 1:]:
            assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]), f"labels overlap: {a} {b}"
