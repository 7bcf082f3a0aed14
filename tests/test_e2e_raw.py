"""End to end, camera RAW and shots with the real models: DNGs made from sample photos (tests/support/raw.py)
added to the trained sample library — RAW-only shots read from a full-size preview, from the mosaic (no
preview), and turned by the RAW's own orientation; a RAW+JPEG pair. Faces are found and named in the
RAW-only shots where they are in the JPEGs; the pair counts once in find, people and train; deleting its
JPEG leaves the shot, and its names, in the RAW."""

from __future__ import annotations

import shutil

import pytest
from PIL import Image

from support.e2e import own_copy
from support.raw import write_dng

pytestmark = pytest.mark.e2e


def largest(faces: list[dict]) -> dict:
    return max(faces, key=lambda f: f["box"][2] * f["box"][3])


@pytest.fixture(scope="module")
def raws(trained_sample, sample, tmp_path_factory):
    """The trained sample library in a home of its own, with a folder of RAWs added and indexed:
    (indexer, library, the index run's summary, mindy_kaling's faces named by hand and photos before)."""
    indexer, library = own_copy(trained_sample("onnx"), tmp_path_factory.mktemp("raw") / "home")
    named_before = next(p["faces"] for p in indexer.json("train")["people"] if p["name"] == "mindy_kaling")
    photos_before = next(p["photos"] for p in indexer.json_lines("people") if p["name"] == "mindy_kaling")
    folder = library / "raw"
    madonna, jerry, mindy = (sample.photos("val", person) for person in ("madonna", "jerry_seinfeld", "mindy_kaling"))
    with Image.open(madonna[1]) as image:
        write_dng(folder / "madonna-preview.dng", image.convert("RGB"), "jpeg")
    with Image.open(madonna[3]) as image:
        write_dng(folder / "madonna-mosaic.dng", image.convert("RGB"), None)
    with Image.open(jerry[0]) as image:
        write_dng(folder / "jerry-turned.dng", image.convert("RGB").transpose(Image.Transpose.ROTATE_90), "jpeg", orientation=6)
    shutil.copy2(mindy[1], folder / "IMG_0001.JPG")
    with Image.open(mindy[1]) as image:
        write_dng(folder / "IMG_0001.DNG", image.convert("RGB"), "jpeg")
    summary = indexer.json("index", str(library))
    return indexer, library, summary, (named_before, photos_before)


def test_faces_are_found_and_named_in_raw_only_shots(raws, sample):
    indexer, library, summary, _ = raws
    assert (summary["new"], summary["companions"], summary["errors"]) == (5, 1, 0)
    for name, person in (("madonna-preview.dng", "madonna"), ("madonna-mosaic.dng", "madonna"), ("jerry-turned.dng", "jerry_seinfeld")):
        face = largest(indexer.json("show", str(library / "raw" / name))["faces"])
        assert (face["person"], face["source"]) == (person, "auto"), name
    # Turned upright by the RAW's orientation: the face where the JPEG has it.
    jpeg = largest(indexer.json("show", str(library / "val" / "jerry_seinfeld" / sample.photos("val", "jerry_seinfeld")[0].name))["faces"])
    raw = largest(indexer.json("show", str(library / "raw" / "jerry-turned.dng"))["faces"])
    assert all(abs(a - b) <= 3 for a, b in zip(raw["box"], jpeg["box"], strict=True))
    found = [line["photo"] for line in indexer.json_lines("find", "madonna")]
    assert {str(library / "raw" / "madonna-preview.dng"), str(library / "raw" / "madonna-mosaic.dng")} <= set(found)


def test_a_raw_and_jpeg_pair_counts_once_and_survives_its_jpeg(raws):
    indexer, library, _, (named_before, photos_before) = raws
    jpeg, raw = library / "raw" / "IMG_0001.JPG", library / "raw" / "IMG_0001.DNG"
    assert indexer.json("show", str(raw))["faces_from"] == str(jpeg)
    face = largest(indexer.json("show", str(jpeg))["faces"])
    assert face["person"] == "mindy_kaling"
    (line,) = [line for line in indexer.json_lines("find", "mindy_kaling") if line["photo"] in (str(jpeg), str(raw))]
    assert line["files"] == [str(jpeg), str(raw)]
    indexer("label", str(face["face_id"]), "mindy_kaling")
    report = indexer.json("train")
    assert next(p["faces"] for p in report["people"] if p["name"] == "mindy_kaling") == named_before + 1
    people = {p["name"]: p for p in indexer.json_lines("people")}
    assert people["mindy_kaling"]["photos"] == photos_before + 1 == len(indexer.json_lines("find", "mindy_kaling"))

    jpeg.unlink()
    summary = indexer.json("index", str(library))
    assert (summary["removed"], summary["names_lost"]) == (0, 0)
    after = largest(indexer.json("show", str(raw))["faces"])
    assert (after["person"], after["source"]) == ("mindy_kaling", "manual")
    assert indexer("lost-names").stdout.strip() == ""
