"""End to end, `indexer serve`: the real command serving an index made with the real models from the sample
library's photos, driven in a real headless Chromium (selenium, as the gallery's tests): name a cluster by
typing a name and clicking a face to leave it out, answer the review with the keyboard, undo from the
page, and check with `indexer find`; a hostile name; the token and CSRF refusals; an `index` running
meanwhile; a clean stop."""

from __future__ import annotations

import http.cookiejar
import json
import shutil
import signal
import subprocess
import urllib.error
import urllib.parse
import urllib.request

import pytest

from support.e2e import Indexer, copy_photos

pytestmark = pytest.mark.e2e

HOSTILE_NAME = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def served(sample, tmp_path_factory):
    """Four photos of Madonna and four of Jerry Seinfeld, nobody named, indexed (two clusters of four),
    served by `indexer serve`: (indexer, library folder, link, server process)."""
    home = tmp_path_factory.mktemp("serve")
    library = copy_photos([*sample.photos("train", "madonna")[:4], *sample.photos("train", "jerry_seinfeld")[:4]],
                          home / "library")
    indexer = Indexer(home / "home")
    indexer("index", str(library))
    server = indexer.popen("serve", "--port", "0", stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    link = server.stdout.readline().strip()
    assert link.startswith("http://127.0.0.1:"), server.stderr.read() if server.poll() is not None else link
    yield indexer, library, link, server
    if server.poll() is None:
        server.kill()
        server.wait()


def clusters(indexer) -> list[dict]:
    return indexer.json_lines("clusters")


def found(indexer, name: str) -> set[int]:
    ran = indexer("find", name, "--json", expect=None)
    return {face["face_id"] for line in ran.stdout.splitlines() for face in json.loads(line)["matches"]}


def assert_no_dialog(browser) -> None:
    from selenium.common.exceptions import NoAlertPresentException

    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text


def suggestion(browser) -> tuple[int, str]:
    """The face the review page asks about, and who it may be."""
    shown = browser.find_element("id", "suggestion")
    return int(shown.get_attribute("data-face-id")), shown.find_element("css selector", "input[name='person']").get_attribute("value")


def review_until(browser, origin: str, wanted, timeout: float = 60) -> tuple[int, str]:
    """The suggestion the review page asks about once ``wanted(it)`` holds (the queue is computed in the
    background after a change)."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        browser.get(origin + "/review")
        shown = browser.find_elements("id", "suggestion")
        if shown and "being brought up to date" not in browser.page_source and wanted(suggestion(browser)):
            return suggestion(browser)
        assert time.monotonic() < deadline, browser.page_source
        time.sleep(0.5)


def press(browser, key: str) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(browser).send_keys(key).perform()


def wait_for(browser, condition, timeout: float = 30):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, timeout).until(lambda driver: condition(driver))


def test_name_a_cluster_leaving_a_face_out_answer_the_review_with_y_and_n_and_undo_both(served, browser):
    indexer, library, link, _ = served
    origin = link.split("/?")[0]
    madonna, jerry = sorted(clusters(indexer), key=lambda c: min(f["face_id"] for f in c["faces"]))
    left_out = madonna["faces"][-1]["face_id"]
    browser.get(link)  # the token becomes a cookie and leaves the address bar
    assert browser.current_url == origin + "/"
    browser.find_element("css selector", f"li.cluster[data-cluster-id='{madonna['cluster']}'] a").click()
    browser.find_element("css selector", f"input[name='except'][value='{left_out}']").find_element("xpath", "..").click()
    assert browser.find_element("css selector", f"input[name='except'][value='{left_out}']").is_selected()
    field = browser.find_element("css selector", "#name-cluster input[name='name']")
    field.send_keys("Madonna")
    field.submit()
    # naming flows on (issue 35): to the next cluster, largest first, or to the faces nobody named
    wait_for(browser, lambda d: "done=" in d.current_url and ("/clusters/" in d.current_url or "/faces/unnamed" in d.current_url))
    assert "Done: cluster" in browser.find_element("css selector", "form.done").text
    assert found(indexer, "Madonna") == {f["face_id"] for f in madonna["faces"] if f["sure"]} - {left_out}
    # The face left out is "not Madonna" now (issue 35): never suggested as her. Two of Jerry's faces named
    # from the CLI one by one: the review now has his other two to ask about.
    jerry_named = sorted(f["face_id"] for f in jerry["faces"])[:2]
    for face_id in jerry_named:
        indexer("label", str(face_id), "Jerry")
    first = review_until(browser, origin, lambda shown: True)
    assert first[1] == "Jerry" and first[0] != left_out
    press(browser, "y")
    wait_for(browser, lambda d: "done=" in d.current_url)
    second, url = suggestion(browser), browser.current_url
    assert second[0] != first[0]
    press(browser, "n")
    wait_for(browser, lambda d: d.current_url != url)
    assert first[0] in found(indexer, first[1]) and second[0] not in found(indexer, second[1])
    history = [line["action"] for line in indexer.json_lines("history")]
    assert history[:4] == ["reject", "confirm", "label", "label"]

    for _ in range(2):  # undo both answers from the history page, the newest first
        browser.get(origin + "/history")
        browser.find_element("css selector", "table.history button").click()
        wait_for(browser, lambda d: "Done: undo" in d.page_source)
    assert found(indexer, "Madonna") == {f["face_id"] for f in madonna["faces"] if f["sure"]} - {left_out}
    assert found(indexer, "Jerry") == set(jerry_named)
    assert first[0] not in found(indexer, first[1])
    review_until(browser, origin, lambda shown: shown == first)  # asked again: the answers are undone
    assert_no_dialog(browser)


def test_a_hostile_name_shows_as_text_and_never_runs(served, browser):
    indexer, _, link, _ = served
    origin = link.split("/?")[0]
    browser.get(link)
    browser.get(origin + "/people")
    browser.find_element("css selector", "li.person a").click()
    browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})  # the forms need no script
    try:
        field = browser.find_element("css selector", "form[action$='/rename'] input[name='name']")
        field.clear()
        field.send_keys(HOSTILE_NAME)
        browser.find_element("css selector", "form[action$='/rename'] button").click()
        wait_for(browser, lambda d: "done=" in d.current_url)
    finally:
        browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})
    assert browser.find_element("tag name", "h1").text == HOSTILE_NAME
    assert_no_dialog(browser)
    browser.get(origin + "/")
    assert HOSTILE_NAME in browser.find_element("css selector", "ul.people").text
    assert_no_dialog(browser)
    indexer("undo")


def test_without_the_token_or_without_the_csrf_token_nothing_is_served_or_changed(served):
    indexer, _, link, _ = served
    origin = link.split("/?")[0]
    face = clusters(indexer)[0]["faces"][0]["face_id"] if clusters(indexer) else 1
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{origin}/people", timeout=10)
    assert refused.value.code == 403
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    browser.open(link, timeout=10).read()
    form = urllib.parse.urlencode({"name": "Mallory", "do": "name"}).encode()
    with pytest.raises(urllib.error.HTTPError) as forged:
        browser.open(urllib.request.Request(f"{origin}/faces/{face}/name", data=form, headers={"Origin": origin}), timeout=10)
    assert forged.value.code == 403
    assert indexer("find", "Mallory", expect=1).returncode == 1


def test_names_given_while_an_index_runs_are_all_kept_and_the_server_stops_cleanly(served, browser, sample):
    indexer, library, link, server = served
    origin = link.split("/?")[0]
    unnamed = [face["face_id"] for cluster in clusters(indexer) for face in cluster["faces"]]
    unnamed += [face_id for (face_id,) in indexer.query("SELECT id FROM faces WHERE person_id IS NULL AND label_source IS NULL")]
    for photo in sample.photos("train", "madonna")[4:8]:
        shutil.copy2(photo, library / f"new-{photo.name}")
    night = indexer.popen("index", str(library), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wait_for(browser, lambda _: (indexer.query_when_ready("SELECT status FROM runs ORDER BY id DESC LIMIT 1") or [(None,)])[0][0]
             == "running", timeout=120)
    browser.get(link)
    named = {}
    for face_id in sorted(set(unnamed))[:2]:
        (photo_id,) = indexer.query("SELECT photo_id FROM faces WHERE id = ?", face_id)[0]
        browser.get(f"{origin}/photos/{photo_id}")
        box = browser.find_element("id", f"face-{face_id}")  # placed over the photo by its style (allowed by the CSP)
        assert box.size["width"] > 10 and box.location["x"] >= browser.find_element("id", "photo").location["x"]
        row = browser.find_element("css selector", f"form[action='/faces/{face_id}/name']")
        row.find_element("css selector", "input[name='name']").send_keys(f"Guest {face_id}")
        row.find_element("css selector", "button[value='name']").click()
        wait_for(browser, lambda d: "Done: face" in d.page_source)
        named[face_id] = f"Guest {face_id}"
    assert len(named) == 2
    assert night.wait(timeout=600) == 0, night.stderr.read()
    for face_id, name in named.items():
        assert found(indexer, name) == {face_id}
    assert indexer.query("SELECT count(*) FROM photos")[0][0] == 12
    server.send_signal(signal.SIGTERM)
    assert server.wait(timeout=30) == 0
