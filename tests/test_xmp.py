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
from support.xmp import region_item, regions_packet, with_mp, xmp

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
        faces = run.json("show", str(root / f"p{photo}.jpg"))["faces"]
        run("label", str(next(f["face_id"] for f in faces if f["box"][0] == box_x)), name)
    return root


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_export_writes_sidecars_and_never_a_photo_and_a_fresh_index_imports_the_same_names(run, named_library, tmp_path, write_config):
    photos = {p: digest(p) for p in named_library.glob("*.jpg")}
    dry = run.json("export-xmp", "--dry-run")
    assert len(dry["sidecars_written"]) == 3 and not list(named_library.glob("*.xmp"))
    report = run.json("export-xmp")
    assert sorted(Path(s).name for s in report["sidecars_written"]) == ["p0.jpg.xmp", "p1.jpg.xmp", "p2.jpg.xmp"]
    assert report["regions"] == 4 and report["skipped"] == []
    assert {p: digest(p) for p in named_library.glob("*.jpg")} == photos
    assert sorted(r.name or "" for r in read_regions((named_library / "p1.jpg.xmp").read_bytes())) == ["Ann", "Bob & <Co>"]
    again = run.json("export-xmp")
    assert again["sidecars_written"] == [] and again["sidecars_unchanged"] == 3
    assert [r.name for r in read_regions((named_library / "p2.jpg.xmp").read_bytes())] == [None]  # cy: unnamed
    run.json("export-xmp", "--named-only")
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
        before = run.json("show", str(named_library / photo))["faces"]
        after = json.loads(in_fresh("show", str(named_library / photo), "--json"))["faces"]
        assert [(f["box"], f["person"], f["source"]) for f in after] == [(f["box"], f["person"], f["source"]) for f in before]
    assert json.loads(in_fresh("history", "--json").splitlines()[0])["action"] == "import-xmp"
    in_fresh("undo")
    assert json.loads(in_fresh("show", str(named_library / "p1.jpg"), "--json"))["faces"][0]["person"] is None


def test_import_leaves_a_different_hand_given_name_alone_unless_overwrite_and_draws_faces_where_regions_have_none(run, named_library):
    # Issue 23: a region over no face of ours was reported and dropped (without_face); it is a face drawn
    # by hand now, unless it is too small to embed ([detection] min_face_size, 20 px).
    (named_library / "p0.jpg.xmp").write_bytes(new_sidecar(
        [RegionToWrite(0, (0.075, 0.15, 0.1, 0.2), "Annie"), RegionToWrite(0, (0.9, 0.9, 0.05, 0.05), "Ghost"),
         RegionToWrite(0, (0.5, 0.9, 0.03, 0.03), "Speck")], (400, 200)))
    report = run.json("import-xmp")
    assert [c["name"] for c in report["conflicts"]] == ["Annie"] and report["conflicts"][0]["indexed_as"] == "Ann"
    assert [(d["photo"], d["name"], d["box"]) for d in report["drawn"]] == [(str(named_library / "p0.jpg"), "Ghost", [350, 175, 20, 10])]
    assert [(b["name"], "too small to draw a face" in b["reason"]) for b in report["bad_regions"]] == [("Speck", True)]
    assert report["without_face"] == []
    assert run.json("show", str(named_library / "p0.jpg"))["faces"][0]["person"] == "Ann"
    assert run.json("import-xmp", "--overwrite")["named"] == 1
    assert run.json("show", str(named_library / "p0.jpg"))["faces"][0]["person"] == "Annie"


def test_a_region_drawn_around_the_whole_head_still_names_the_face_under_it(run, named_library):
    # cy's face is the square (10, 10, 40, 40) of a 400×200 photo; the region is twice as wide and high.
    sidecar = named_library / "p2.jpg.xmp"
    sidecar.write_bytes(new_sidecar([RegionToWrite(0, (0.075, 0.15, 0.2, 0.4), "Cy")], (400, 200)).replace(
        b"<indexer:FaceId>0</indexer:FaceId>", b""))  # as another tool wrote it
    assert run.json("import-xmp")["named"] == 1
    assert run.json("show", str(named_library / "p2.jpg"))["faces"][0]["person"] == "Cy"
    run("export-xmp")  # that region already names the face: no second box for it
    assert [(r.name, r.face_id) for r in read_regions(sidecar.read_bytes())] == [("Cy", None)]


def test_regions_embedded_in_a_photo_are_imported(run, named_library):
    photo = named_library / "p2.jpg"
    packet = new_sidecar([RegionToWrite(0, (0.075, 0.15, 0.1, 0.2), "Cy")], (400, 200))
    with Image.open(photo) as image:
        image.load()
        image.save(photo, quality=95, xmp=packet)
    run("index", str(named_library))  # the photo changed: read again
    assert run.json("import-xmp")["named"] == 1
    assert run.json("show", str(photo))["faces"][0]["person"] == "Cy"


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
    run("label", str(run.json("show", str(named_library / "p0.jpg"))["faces"][0]["face_id"]), "Ann B")
    run("export-xmp")
    assert (named_library / "p0.jpg.xmp.before-indexer").read_bytes() == DIGIKAM_STYLE  # not overwritten
    assert sorted(r.name for r in read_regions(sidecar.read_bytes())) == ["Ann B", "Bob <the builder>"]


def test_plain_exports_list_every_face_as_csv_or_json_lines(run, named_library, tmp_path):
    csv_text = run("export").stdout.splitlines()
    assert csv_text[0] == "face_id,photo,x,y,w,h,person,source,score,origin,time" and len(csv_text) == 5
    assert csv_text[2].endswith(",70,10,40,40,Bob & <Co>,manual,1.0") or "Bob & <Co>,manual,1.0" in "".join(csv_text)
    rows = [json.loads(line) for line in run("export", "--format", "jsonl").stdout.splitlines()]
    assert [r["person"] for r in rows] == ["Ann", "Ann", "Bob & <Co>", None]
    assert rows[0] == {"face_id": rows[0]["face_id"], "photo": str(named_library / "p0.jpg"), "box": [10, 10, 40, 40],
                       "person": "Ann", "source": "manual", "score": 1.0, "origin": "detected", "time": None}
    out = tmp_path / "faces.jsonl"
    run("export", "--format", "jsonl", "--out", str(out))
    assert out.read_text().splitlines() == run("export", "--format", "jsonl").stdout.splitlines()
    assert out.stat().st_mode & 0o777 == 0o600
    assert run("export", "--format", "xlsx", expect=1).stderr.strip() == "indexer: error: --format 'xlsx': choose csv or jsonl"


# --- regions as other tools write them (issue 23) ----------------------------------------------------

SAME_AREA = (0.55, 0.7, 0.1, 0.2)  # centre x, y; w, h: the box 200, 120, 40, 40 of a 400×200 photo
WRITTEN_AS = {
    "digiKam, elements": '<rdf:Bag><rdf:li rdf:parseType="Resource"><mwg-rs:Name>Dee</mwg-rs:Name><mwg-rs:Type>Face'
                         '</mwg-rs:Type><mwg-rs:Area rdf:parseType="Resource"><stArea:x>0.55</stArea:x><stArea:y>0.7'
                         '</stArea:y><stArea:w>0.1</stArea:w><stArea:h>0.2</stArea:h><stArea:unit>normalized</stArea:unit>'
                         '</mwg-rs:Area></rdf:li></rdf:Bag>',
    "attributes in a description": '<rdf:Bag><rdf:li><rdf:Description mwg-rs:Name="Dee" mwg-rs:Type="Face"><mwg-rs:Area>'
                                   '<rdf:Description stArea:x="0.55" stArea:y="0.7" stArea:w="0.1" stArea:h="0.2" '
                                   'stArea:unit="normalized"/></mwg-rs:Area></rdf:Description></rdf:li></rdf:Bag>',
    "a Seq, no type": '<rdf:Seq><rdf:li rdf:parseType="Resource"><mwg-rs:Name>Dee</mwg-rs:Name><mwg-rs:Area stArea:x="0.55" '
                      'stArea:y="0.7" stArea:w="0.1" stArea:h="0.2" stArea:unit="normalized"/></rdf:li></rdf:Seq>',
    "Lightroom, no unit": '<rdf:Bag><rdf:li mwg-rs:Name="Dee" mwg-rs:Type="Face" rdf:parseType="Resource"><mwg-rs:Area '
                          'stArea:x="0.55" stArea:y="0.7" stArea:w="0.1" stArea:h="0.2"/></rdf:li></rdf:Bag>',
    "the xap spelling of stArea": '<rdf:Bag><rdf:li rdf:parseType="Resource"><mwg-rs:Name>Dee</mwg-rs:Name><mwg-rs:Area '
                                  'xArea:x="0.55" xArea:y="0.7" xArea:w="0.1" xArea:h="0.2" xArea:unit="normalized"/></rdf:li></rdf:Bag>',
    "a name in a language alternative": '<rdf:Bag><rdf:li rdf:parseType="Resource"><mwg-rs:Name><rdf:Alt><rdf:li '
                                        'xml:lang="x-default">Dee</rdf:li></rdf:Alt></mwg-rs:Name><mwg-rs:Area stArea:x="0.55" '
                                        'stArea:y="0.7" stArea:w="0.1" stArea:h="0.2"/></rdf:li></rdf:Bag>',
}
IN_PIXELS = '<rdf:Bag><rdf:li rdf:parseType="Resource"><mwg-rs:Name>Dee</mwg-rs:Name><mwg-rs:Area stArea:x="440" stArea:y="280" ' \
            'stArea:w="80" stArea:h="80" stArea:unit="pixel"/></rdf:li></rdf:Bag>'


@pytest.mark.parametrize("form", WRITTEN_AS)
def test_a_region_reads_the_same_however_it_is_written(form):
    (region,) = read_regions(xmp(WRITTEN_AS[form]))
    assert (region.name, region.kind, region.problem, region.schema) == ("Dee", "Face", None, "mwg")
    assert region.area == pytest.approx(SAME_AREA)


@pytest.mark.parametrize("dimensions", [
    '<mwg-rs:AppliedToDimensions stDim:w="800" stDim:h="400" stDim:unit="pixel"/>',
    '<mwg-rs:AppliedToDimensions rdf:parseType="Resource"><xDim:w>800</xDim:w><xDim:h>400</xDim:h></mwg-rs:AppliedToDimensions>',
])
def test_a_region_in_pixels_is_read_against_the_dimensions_it_applied_to(dimensions):
    (region,) = read_regions(xmp(IN_PIXELS, dimensions))
    assert region.problem is None and region.area == pytest.approx(SAME_AREA)
    (without,) = read_regions(xmp(IN_PIXELS))
    assert without.problem == "its area is in pixels without the AppliedToDimensions they are of"


@pytest.mark.parametrize("area, problem", [
    ('x="nan" y="0.5" w="0.1" h="0.1"', "not a finite number"),
    ('x="0.5" y="inf" w="0.1" h="0.1"', "not a finite number"),
    ('x="0.5" y="0.5" w="0" h="0.1"', "not positive"),
    ('x="0.5" y="0.5" w="0.1" h="-0.1"', "not positive"),
    ('x="0.5" y="0.5" w="1.5" h="0.1"', "larger than the photo"),
    ('x="1.4" y="0.5" w="0.1" h="0.1"', "outside the photo"),
    ('x="0.5" y="0.5" w="0.1"', "not four numbers"),
    ('x="0.5" y="0.5" w="one" h="0.1"', "not four numbers"),
    ('x="0.5" y="0.5" w="0.1" h="0.1" unit="inch"', "unit is 'inch'"),
])
def test_an_area_that_cannot_be_a_face_is_read_with_why(area, problem):
    attributes = " ".join(f"stArea:{part}" for part in area.split(" "))
    body = f'<rdf:Bag><rdf:li rdf:parseType="Resource"><mwg-rs:Name>Dee</mwg-rs:Name><mwg-rs:Area {attributes}/></rdf:li></rdf:Bag>'
    (region,) = read_regions(xmp(body))
    assert problem in region.problem and not region.usable


@pytest.fixture
def faceless(run, tmp_path, use_people_models):
    """A library of one photo where the detector finds no face, dee's face at 200, 120, 40, 40, and one of
    dee the detector finds (the nearest face to a drawn dee)."""
    root = tmp_path / "photos"
    make_photo(root / "dee-missed.jpg", faces=0, seed=1, elsewhere={"dee": (200, 120)})
    make_photo(root / "dee-found.jpg", faces=["dee"], seed=2)
    run("index", str(root))
    return root


def test_regions_over_no_face_become_faces_drawn_by_hand_and_what_cannot_be_a_face_is_said_once(run, faceless):
    photo = faceless / "dee-missed.jpg"
    assert run.json("show", str(photo))["faces"] == []
    packet = with_mp(regions_packet(
        region_item("Dee", SAME_AREA), region_item("Rex", (0.2, 0.2, 0.1, 0.1), kind="Pet"),
        region_item(None, (0.5, 0.5, 0.05, 0.05), kind="Focus"), region_item("", (0.8, 0.5, 0.1, 0.2)),
        region_item("Nan", (float("nan"), 0.5, 0.1, 0.1)), region_item("Big", (0.5, 0.5, 1.2, 0.5)),
        region_item(None, (0.3, 0.3, 0.1, 0.2))),  # an unnamed face region says nothing to take in
        ("Dee", "0.5, 0.6, 0.1, 0.2"), ("Rex", "0.15, 0.15, 0.1, 0.1"))  # digiKam's Microsoft copies
    (faceless / "dee-missed.jpg.xmp").write_bytes(packet)
    with Image.open(photo) as image:  # the same regions embedded in the photo too
        image.load()
        image.save(photo, quality=95, xmp=packet)
    run("index", str(faceless))

    result = run("import-xmp", "--json")
    report = json.loads(result.stdout)
    assert [(d["photo"], d["name"], d["box"]) for d in report["drawn"]] == [(str(photo), "Dee", [200, 120, 40, 40])]
    assert (report["named"], report["photos_with_regions"], report["conflicts"], report["without_face"]) == (0, 1, [], [])
    reasons = {b["name"]: b["reason"] for b in report["bad_regions"]}
    assert len(report["bad_regions"]) == len(reasons) == 5  # each once, though written twice
    assert reasons == {"Rex": "a Pet region, not a face", None: "a Focus region, not a face", "": reasons[""],
                       "Nan": "its area is not a finite number", "Big": "its area is larger than the photo"}
    assert "empty" in reasons[""] or "name" in reasons[""]
    assert all(b["sidecar"] == str(faceless / "dee-missed.jpg.xmp") for b in report["bad_regions"])

    (face,) = run.json("show", str(photo))["faces"]
    assert (face["box"], face["person"], face["source"], face["origin"]) == ([200, 120, 40, 40], "Dee", "manual", "drawn")
    nearest = run("similar", str(face["face_id"]), "--json").json_lines()[0]
    assert nearest["photo"] == str(faceless / "dee-found.jpg")  # embedded from its box like any face
    assert run.json_lines("history")[0]["action"] == "import-xmp"

    again = run.json("import-xmp")  # nothing new the second time
    assert (again["named"], again["drawn"], again["already_named"], again["event"]) == (0, [], 1, None)
    run("undo")
    assert run.json("show", str(photo))["faces"] == []
    assert run.json("check")["problems"] == []


def test_only_microsofts_regions_are_used_where_a_photo_has_no_mwg_region(run, faceless):
    (faceless / "dee-missed.jpg.xmp").write_bytes(MICROSOFT_STYLE.replace(b"0.1, 0.2, 0.3, 0.4", b"0.5, 0.6, 0.1, 0.2"))
    report = run.json("import-xmp")
    assert [(d["name"], d["box"]) for d in report["drawn"]] == [("Cy", [200, 120, 40, 40])]


@pytest.mark.parametrize("orientation", [6, 8, 3])
def test_a_region_on_an_exif_rotated_photo_is_drawn_where_the_face_is_upright(run, faceless, orientation):
    photo = faceless / "dee-missed.jpg"
    with Image.open(photo) as image:
        upright = image.convert("RGB")
    exif = Image.Exif()
    exif[0x0112] = orientation
    upright.transpose(STORE[orientation][0]).save(photo, exif=exif, quality=95)
    run("index", str(faceless))
    area = to_stored((200, 120, 40, 40), (400, 200), orientation)
    (faceless / "dee-missed.jpg.xmp").write_bytes(regions_packet(region_item("Dee", area), dimensions=(200, 400) if orientation != 3 else (400, 200)))
    report = run.json("import-xmp")
    assert [(d["name"], d["box"]) for d in report["drawn"]] == [("Dee", [200, 120, 40, 40])]
    (face,) = run.json("show", str(photo))["faces"]
    assert run("similar", str(face["face_id"]), "--json").json_lines()[0]["photo"] == str(faceless / "dee-found.jpg")


def test_a_photo_resized_after_tagging_is_drawn_by_the_normalised_area(run, faceless):
    photo = faceless / "dee-missed.jpg"
    (faceless / "dee-missed.jpg.xmp").write_bytes(xmp(IN_PIXELS, '<mwg-rs:AppliedToDimensions stDim:w="800" stDim:h="400"/>'))
    with Image.open(photo) as image:
        image.resize((200, 100)).save(photo, quality=95)  # tagged at 800×400, now 200×100
    run("index", str(faceless))
    report = run.json("import-xmp")
    assert [(d["name"], d["box"]) for d in report["drawn"]] == [("Dee", [100, 60, 20, 20])]


def test_an_import_right_after_an_export_creates_and_names_nothing_new(run, faceless, tmp_path):
    photo = faceless / "dee-missed.jpg"
    run("add-face", str(photo), "200,120,40,40", "--name", "Dee")
    found = run.json("show", str(faceless / "dee-found.jpg"))["faces"][0]
    run("label", str(found["face_id"]), "Dee")
    exported = run.json("export-xmp")
    assert exported["regions"] == 2
    assert [r.name for r in read_regions((faceless / "dee-missed.jpg.xmp").read_bytes())] == ["Dee"]
    before = run("export", "--format", "jsonl").stdout
    report = run.json("import-xmp")
    assert (report["named"], report["drawn"], report["already_named"], report["bad_regions"]) == (0, [], 2, [])
    assert run("export", "--format", "jsonl").stdout == before
    assert run.json_lines("history")[0]["action"] == "label"  # no new event
