"""XMP face regions: the orientation maths against Pillow's own turning, reading both RDF forms and
Microsoft's regions safely, editing a sidecar without touching other tools' bytes, and export / import
through the CLI with the fake models (tests/test_e2e_xmp.py checks them with exiftool and real faces)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from indexer.outputs.xmp.regions import UnreadableXmp, read_regions, to_stored, to_upright
from indexer.outputs.xmp.sidecar import RegionToWrite, merge_sidecar, new_sidecar
from support.photos import make_photo

# Pillow's transpose that stores an upright image under each EXIF orientation (the inverse of exif_transpose).
STORE = {
    1: [], 2: [Image.Transpose.FLIP_LEFT_RIGHT], 3: [Image.Transpose.ROTATE_180], 4: [Image.Transpose.FLIP_TOP_BOTTOM],
    5: [Image.Transpose.TRANSPOSE], 6: [Image.Transpose.ROTATE_90], 7: [Image.Transpose.TRANSVERSE],
    8: [Image.Transpose.ROTATE_270],
}


@pytest.mark.parametrize("orientation", range(1, 9))
def test_an_upright_box_maps_to_where_the_face_is_in_the_stored_image_and_back(orientation, tmp_path):
    from indexer.vision.imaging import load_photo

    upright = np.zeros((40, 60, 3), dtype=np.uint8)
    upright[5:15, 30:50] = 255  # the "face": x 30, y 5, w 20, h 10
    image = Image.fromarray(upright)
    for step in STORE[orientation]:
        image = image.transpose(step)
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / "photo.png"
    image.save(path, exif=exif)
    assert (load_photo(path, 10) == upright).all()  # stored that way, read back upright
    stored = np.asarray(Image.open(path).convert("L")) > 128
    rows, columns = np.nonzero(stored)
    height, width = stored.shape
    expected = ((columns.min() + columns.max() + 1) / 2 / width, (rows.min() + rows.max() + 1) / 2 / height,
                (columns.max() + 1 - columns.min()) / width, (rows.max() + 1 - rows.min()) / height)
    area = to_stored((30, 5, 20, 10), (60, 40), orientation)
    assert area == pytest.approx(expected)
    assert to_upright(area, (60, 40), orientation) == pytest.approx((30, 5, 20, 10))


DIGIKAM_STYLE = b"""<?xpacket begin='\xef\xbb\xbf' id='W5M0MpCehiHzreSzNTczkc9d'?>
<x:xmpmeta xmlns:x='adobe:ns:meta/' x:xmptk='Image::ExifTool 12.57'>
<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>

 <rdf:Description rdf:about=''
  xmlns:dc='http://purl.org/dc/elements/1.1/'>
  <dc:subject>
   <rdf:Bag>
    <rdf:li>holiday &amp; sea</rdf:li>
   </rdf:Bag>
  </dc:subject>
 </rdf:Description>

 <rdf:Description rdf:about=''
  xmlns:mwg-rs='http://www.metadataworkinggroup.com/schemas/regions/'
  xmlns:stArea='http://ns.adobe.com/xmp/sType/Area#'
  xmlns:stDim='http://ns.adobe.com/xap/1.0/sType/Dimensions#'>
  <mwg-rs:Regions rdf:parseType='Resource'>
   <mwg-rs:AppliedToDimensions rdf:parseType='Resource'>
    <stDim:h>200</stDim:h>
    <stDim:unit>pixel</stDim:unit>
    <stDim:w>400</stDim:w>
   </mwg-rs:AppliedToDimensions>
   <mwg-rs:RegionList>
    <rdf:Bag>
     <rdf:li rdf:parseType='Resource'>
      <mwg-rs:Area rdf:parseType='Resource'>
       <stArea:h>0.2</stArea:h>
       <stArea:unit>normalized</stArea:unit>
       <stArea:w>0.1</stArea:w>
       <stArea:x>0.2</stArea:x>
       <stArea:y>0.15</stArea:y>
      </mwg-rs:Area>
      <mwg-rs:Name>Bob &lt;the builder&gt;</mwg-rs:Name>
      <mwg-rs:Type>Face</mwg-rs:Type>
     </rdf:li>
    </rdf:Bag>
   </mwg-rs:RegionList>
  </mwg-rs:Regions>
 </rdf:Description>
</rdf:RDF>
</x:xmpmeta>
<?xpacket end='w'?>"""

MICROSOFT_STYLE = b"""<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:MP="http://ns.microsoft.com/photo/1.2/"
  xmlns:MPRI="http://ns.microsoft.com/photo/1.2/t/RegionInfo#" xmlns:MPReg="http://ns.microsoft.com/photo/1.2/t/Region#">
<MP:RegionInfo><rdf:Description><MPRI:Regions><rdf:Bag>
<rdf:li><rdf:Description MPReg:Rectangle="0.1, 0.2, 0.3, 0.4" MPReg:PersonDisplayName="Cy"/></rdf:li>
</rdf:Bag></MPRI:Regions></rdf:Description></MP:RegionInfo>
</rdf:Description></rdf:RDF></x:xmpmeta>"""

ATTRIBUTE_STYLE = b"""<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:mwg-rs="http://www.metadataworkinggroup.com/schemas/regions/"
  xmlns:stArea="http://ns.adobe.com/xmp/sType/Area#"><mwg-rs:Regions rdf:parseType="Resource"><mwg-rs:RegionList><rdf:Bag>
<rdf:li><rdf:Description mwg-rs:Name="Dee" mwg-rs:Type="Face"><mwg-rs:Area stArea:x="0.5" stArea:y="0.5" stArea:w="0.2"
  stArea:h="0.3" stArea:unit="normalized"/></rdf:Description></rdf:li>
<rdf:li><rdf:Description mwg-rs:Name="Rex" mwg-rs:Type="Pet"><mwg-rs:Area stArea:x="0.1" stArea:y="0.1" stArea:w="0.1"
  stArea:h="0.1" stArea:unit="normalized"/></rdf:Description></rdf:li>
</rdf:Bag></mwg-rs:RegionList></mwg-rs:Regions></rdf:Description></rdf:RDF></x:xmpmeta>"""


def test_regions_are_read_in_both_rdf_forms_and_in_microsofts_schema():
    (bob,) = read_regions(DIGIKAM_STYLE)
    assert (bob.name, bob.kind, bob.face_id) == ("Bob <the builder>", "Face", None)
    assert bob.area == pytest.approx((0.2, 0.15, 0.1, 0.2))
    (cy,) = read_regions(MICROSOFT_STYLE)
    assert cy.name == "Cy" and cy.area == pytest.approx((0.25, 0.4, 0.3, 0.4))  # top-left corner → centre
    dee, rex = read_regions(ATTRIBUTE_STYLE)
    assert (dee.name, dee.kind, rex.kind) == ("Dee", "Face", "Pet") and dee.area == pytest.approx((0.5, 0.5, 0.2, 0.3))


def test_xmp_with_a_dtd_or_entities_is_refused_unread():
    laughs = b"""<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>
<x:xmpmeta xmlns:x="adobe:ns:meta/">&b;</x:xmpmeta>"""
    with pytest.raises(UnreadableXmp):
        read_regions(laughs)
    with pytest.raises(UnreadableXmp):
        read_regions(b"<x:xmpmeta xmlns:x='adobe:ns:meta/'><unclosed></x:xmpmeta>")


def test_a_sidecar_of_another_tool_keeps_every_byte_but_indexers_own_regions():
    ann = RegionToWrite(7, (0.5, 0.5, 0.1, 0.2), 'Ann & "Zoë" <A>')
    once = merge_sidecar(DIGIKAM_STYLE, [ann], (400, 200))
    start = once.index(b"<rdf:li xmlns")
    end = once.index(b"</rdf:li>", start) + len(b"</rdf:li>")
    assert once[:start].rstrip() + once[end:].lstrip() == DIGIKAM_STYLE[: start].rstrip() + DIGIKAM_STYLE[start:].lstrip()
    assert DIGIKAM_STYLE[:start] == once[:start]  # everything before, to the byte
    names = sorted(r.name for r in read_regions(once))
    assert names == ["Ann & \"Zoë\" <A>", "Bob <the builder>"]
    assert merge_sidecar(once, [ann], (400, 200)) == once  # the same export again changes nothing
    moved = merge_sidecar(once, [RegionToWrite(9, (0.6, 0.5, 0.1, 0.2), "Ann")], (400, 200))
    assert sorted((r.name, r.face_id) for r in read_regions(moved)) == [("Ann", 9), ("Bob <the builder>", None)]
    assert merge_sidecar(moved, [], (400, 200)).replace(b"\n", b"") == DIGIKAM_STYLE.replace(b"\n", b"")


def test_a_sidecar_without_regions_gets_them_beside_what_it_holds():
    plain = DIGIKAM_STYLE[: DIGIKAM_STYLE.index(b"\n <rdf:Description rdf:about=''\n  xmlns:mwg-rs")] + b"\n</rdf:RDF>\n</x:xmpmeta>\n"
    merged = merge_sidecar(plain, [RegionToWrite(1, (0.5, 0.5, 0.1, 0.1), "Ann")], (400, 200))
    end = plain.index(b"</rdf:RDF>")
    assert merged.startswith(plain[:end]) and merged.endswith(plain[end:])
    assert [r.name for r in read_regions(merged)] == ["Ann"]
    assert [r.name for r in read_regions(new_sidecar([RegionToWrite(2, (0.5, 0.5, 0.1, 0.1), None)], (10, 10)))] == [None]


@pytest.fixture
def named_library(run, tmp_path, use_people_models):
    """Three photos: ann alone, ann with bob, cy alone; ann and bob named by hand, cy not."""
    root = tmp_path / "photos"
    for i, faces in enumerate([["ann"], ["ann", "bob"], ["cy"]]):
        make_photo(root / f"p{i}.jpg", faces=faces, seed=i)
    run("index", str(root))
    for photo, box_x, name in ((0, 10, "Ann"), (1, 10, "Ann"), (1, 70, "Bob & <Co>")):
        faces = json.loads(run("show", str(root / f"p{photo}.jpg"), "--json").stdout)["faces"]
        run("label", str(next(f["face_id"] for f in faces if f["box"][0] == box_x)), name)
    return root


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_export_writes_sidecars_and_never_a_photo_and_a_fresh_index_imports_the_same_names(run, named_library, tmp_path, write_config):
    photos = {p: digest(p) for p in named_library.glob("*.jpg")}
    dry = json.loads(run("export-xmp", "--dry-run", "--json").stdout)
    assert len(dry["sidecars_written"]) == 3 and not list(named_library.glob("*.xmp"))
    report = json.loads(run("export-xmp", "--json").stdout)
    assert sorted(Path(s).name for s in report["sidecars_written"]) == ["p0.jpg.xmp", "p1.jpg.xmp", "p2.jpg.xmp"]
    assert report["regions"] == 4 and report["skipped"] == []
    assert {p: digest(p) for p in named_library.glob("*.jpg")} == photos
    assert sorted(r.name or "" for r in read_regions((named_library / "p1.jpg.xmp").read_bytes())) == ["Ann", "Bob & <Co>"]
    again = json.loads(run("export-xmp", "--json").stdout)
    assert again["sidecars_written"] == [] and again["sidecars_unchanged"] == 3
    assert [r.name for r in read_regions((named_library / "p2.jpg.xmp").read_bytes())] == [None]  # cy: unnamed
    json.loads(run("export-xmp", "--named-only", "--json").stdout)
    assert read_regions((named_library / "p2.jpg.xmp").read_bytes()) == []

    # A new index of the same photos, nobody named: importing gives the same names on the same faces.
    from typer.testing import CliRunner

    from indexer.cli import app

    fresh = write_config(f'[storage]\ndata_dir = "{tmp_path / "fresh"}"\n', name="fresh.toml")

    def in_fresh(*args: str) -> str:
        result = CliRunner().invoke(app, ["--config", str(fresh), *args], catch_exceptions=False)
        assert result.exit_code == 0, result.stderr
        return result.stdout

    in_fresh("index", str(named_library))
    imported = json.loads(in_fresh("import-xmp", "--json"))
    assert (imported["named"], imported["conflicts"], imported["without_face"]) == (3, [], [])
    for photo in ("p0.jpg", "p1.jpg", "p2.jpg"):
        before = json.loads(run("show", str(named_library / photo), "--json").stdout)["faces"]
        after = json.loads(in_fresh("show", str(named_library / photo), "--json"))["faces"]
        assert [(f["box"], f["person"], f["source"]) for f in after] == [(f["box"], f["person"], f["source"]) for f in before]
    assert json.loads(in_fresh("history", "--json").splitlines()[0])["action"] == "import-xmp"
    in_fresh("undo")
    assert json.loads(in_fresh("show", str(named_library / "p1.jpg"), "--json"))["faces"][0]["person"] is None


def test_import_leaves_a_different_hand_given_name_alone_unless_overwrite_and_reports_regions_without_a_face(run, named_library):
    (named_library / "p0.jpg.xmp").write_bytes(new_sidecar(
        [RegionToWrite(0, (0.075, 0.15, 0.1, 0.2), "Annie"), RegionToWrite(0, (0.9, 0.9, 0.05, 0.05), "Ghost")], (400, 200)))
    report = json.loads(run("import-xmp", "--json").stdout)
    assert [c["name"] for c in report["conflicts"]] == ["Annie"] and report["conflicts"][0]["indexed_as"] == "Ann"
    assert report["without_face"] == [{"photo": str(named_library / "p0.jpg"), "name": "Ghost"}]
    assert json.loads(run("show", str(named_library / "p0.jpg"), "--json").stdout)["faces"][0]["person"] == "Ann"
    assert json.loads(run("import-xmp", "--overwrite", "--json").stdout)["named"] == 1
    assert json.loads(run("show", str(named_library / "p0.jpg"), "--json").stdout)["faces"][0]["person"] == "Annie"


def test_a_region_drawn_around_the_whole_head_still_names_the_face_under_it(run, named_library):
    # cy's face is the square (10, 10, 40, 40) of a 400×200 photo; the region is twice as wide and high.
    sidecar = named_library / "p2.jpg.xmp"
    sidecar.write_bytes(new_sidecar([RegionToWrite(0, (0.075, 0.15, 0.2, 0.4), "Cy")], (400, 200)).replace(
        b"<indexer:FaceId>0</indexer:FaceId>", b""))  # as another tool wrote it
    assert json.loads(run("import-xmp", "--json").stdout)["named"] == 1
    assert json.loads(run("show", str(named_library / "p2.jpg"), "--json").stdout)["faces"][0]["person"] == "Cy"
    run("export-xmp")  # that region already names the face: no second box for it
    assert [(r.name, r.face_id) for r in read_regions(sidecar.read_bytes())] == [("Cy", None)]


def test_regions_embedded_in_a_photo_are_imported(run, named_library):
    photo = named_library / "p2.jpg"
    packet = new_sidecar([RegionToWrite(0, (0.075, 0.15, 0.1, 0.2), "Cy")], (400, 200))
    with Image.open(photo) as image:
        image.load()
        image.save(photo, quality=95, xmp=packet)
    run("index", str(named_library))  # the photo changed: read again
    assert json.loads(run("import-xmp", "--json").stdout)["named"] == 1
    assert json.loads(run("show", str(photo), "--json").stdout)["faces"][0]["person"] == "Cy"


def test_with_photo_xmp_naming_a_sidecar_two_files_would_share_is_not_written(run, named_library, write_config, tmp_path):
    (named_library / "p0.mov").write_bytes(b"a video beside the photo")
    config = write_config('[xmp]\nsidecar = "photo.xmp"\n')
    from typer.testing import CliRunner

    from indexer.cli import app

    result = CliRunner().invoke(app, ["--config", str(config), "export-xmp", "--json"], catch_exceptions=False)
    report = json.loads(result.stdout)
    assert sorted(Path(s).name for s in report["sidecars_written"]) == ["p1.xmp", "p2.xmp"]
    assert report["skipped"] == [{"photo": str(named_library / "p0.jpg"),
                                  "reason": 'p0.xmp would be shared with p0.mov: use [xmp] sidecar = "photo.jpg.xmp"'}]


def test_an_existing_sidecar_is_backed_up_once_and_keeps_its_mode(run, named_library):
    sidecar = named_library / "p0.jpg.xmp"
    sidecar.write_bytes(DIGIKAM_STYLE)
    sidecar.chmod(0o640)
    run("export-xmp")
    assert (named_library / "p0.jpg.xmp.before-indexer").read_bytes() == DIGIKAM_STYLE
    assert sidecar.stat().st_mode & 0o777 == 0o640
    assert b"holiday &amp; sea" in sidecar.read_bytes()
    run("label", str(json.loads(run("show", str(named_library / "p0.jpg"), "--json").stdout)["faces"][0]["face_id"]), "Ann B")
    run("export-xmp")
    assert (named_library / "p0.jpg.xmp.before-indexer").read_bytes() == DIGIKAM_STYLE  # not overwritten
    assert sorted(r.name for r in read_regions(sidecar.read_bytes())) == ["Ann B", "Bob <the builder>"]


def test_plain_exports_list_every_face_as_csv_or_json_lines(run, named_library, tmp_path):
    csv_text = run("export").stdout.splitlines()
    assert csv_text[0] == "face_id,photo,x,y,w,h,person,source,score" and len(csv_text) == 5
    assert csv_text[2].endswith(",70,10,40,40,Bob & <Co>,manual,1.0") or "Bob & <Co>,manual,1.0" in "".join(csv_text)
    rows = [json.loads(line) for line in run("export", "--format", "jsonl").stdout.splitlines()]
    assert [r["person"] for r in rows] == ["Ann", "Ann", "Bob & <Co>", None]
    assert rows[0] == {"face_id": rows[0]["face_id"], "photo": str(named_library / "p0.jpg"), "box": [10, 10, 40, 40],
                       "person": "Ann", "source": "manual", "score": 1.0}
    out = tmp_path / "faces.jsonl"
    run("export", "--format", "jsonl", "--out", str(out))
    assert out.read_text().splitlines() == run("export", "--format", "jsonl").stdout.splitlines()
    assert out.stat().st_mode & 0o777 == 0o600
    assert run("export", "--format", "xlsx", expect=1).stderr.strip() == "indexer: error: --format 'xlsx': choose csv or jsonl"
