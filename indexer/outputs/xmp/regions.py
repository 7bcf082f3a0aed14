"""Face regions as XMP holds them: the Metadata Working Group's ``mwg-rs:Regions`` (digiKam, Lightroom,
darktable, exiftool, Picasa) and Microsoft Photo's ``MP:RegionInfo``, read from XMP safely, and mapped
between the index's upright boxes and the image as stored.

MWG (Guidelines 2.0, section 5.9): a region applies to the image as stored, before the EXIF orientation
is applied; ``stArea:x``/``y`` are its centre and ``w``/``h`` its size, normalised 0–1 by the stored
width and height. Microsoft's ``MPReg:Rectangle`` is "x, y, w, h" from the top-left corner, normalised
the same way. indexer's boxes are pixels of the upright photo, so they are turned through the
orientation both ways (``to_stored``, ``to_upright``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
X = "adobe:ns:meta/"
MWG_RS = "http://www.metadataworkinggroup.com/schemas/regions/"
ST_AREA = "http://ns.adobe.com/xmp/sType/Area#"
ST_DIM = "http://ns.adobe.com/xap/1.0/sType/Dimensions#"
MP = "http://ns.microsoft.com/photo/1.2/"
MP_RI = "http://ns.microsoft.com/photo/1.2/t/RegionInfo#"
MP_REG = "http://ns.microsoft.com/photo/1.2/t/Region#"
# indexer's own field in the regions it writes (the face id), so that a later export replaces exactly
# those and never another tool's.
INDEXER = "http://ns.indexer.invalid/xmp/1.0/"
PREFIXES = {"rdf": RDF, "x": X, "mwg-rs": MWG_RS, "stArea": ST_AREA, "stDim": ST_DIM, "indexer": INDEXER}

Area = tuple[float, float, float, float]  # centre x, centre y, width, height; 0–1 of the stored image


@dataclass(frozen=True)
class Region:
    """A face region as read: ``area`` in the stored image (see Area), the person's name (None: none
    given), the region's type ("Face", "Pet", ...), and the face id when indexer wrote it."""

    area: Area
    name: str | None
    kind: str
    face_id: int | None = None
    source: str | None = None  # the sidecar it was read from (None: embedded in the photo, or not said)


def to_stored(box: tuple[float, float, float, float], upright_size: tuple[int, int], orientation: int) -> Area:
    """The MWG area (centre, size; 0–1 of the stored image) of ``box`` ([x, y, w, h] pixels of the upright
    photo of ``upright_size`` (width, height)), for a file with EXIF ``orientation`` (1–8)."""
    x, y, w, h = box
    width, height = upright_size
    u, v, a, b = (x + w / 2) / width, (y + h / 2) / height, w / width, h / height
    transforms = {
        1: (u, v, a, b), 2: (1 - u, v, a, b), 3: (1 - u, 1 - v, a, b), 4: (u, 1 - v, a, b),
        5: (v, u, b, a), 6: (v, 1 - u, b, a), 7: (1 - v, 1 - u, b, a), 8: (1 - v, u, b, a),
    }
    return transforms.get(orientation, transforms[1])


def to_upright(area: Area, upright_size: tuple[int, int], orientation: int) -> tuple[float, float, float, float]:
    """``to_stored`` backwards: the box [x, y, w, h] in pixels of the upright photo."""
    s, t, a, b = area
    transforms = {
        1: (s, t, a, b), 2: (1 - s, t, a, b), 3: (1 - s, 1 - t, a, b), 4: (s, 1 - t, a, b),
        5: (t, s, b, a), 6: (1 - t, s, b, a), 7: (1 - t, 1 - s, b, a), 8: (t, 1 - s, b, a),
    }
    u, v, w, h = transforms.get(orientation, transforms[1])
    width, height = upright_size
    return ((u - w / 2) * width, (v - h / 2) * height, w * width, h * height)


class UnreadableXmp(Exception):
    """XMP that is not well-formed, or that declares a DTD or entities (refused unread)."""


def read_regions(xmp: bytes | str) -> list[Region]:
    """The face regions of an XMP packet or sidecar, MWG's and Microsoft's; regions without a usable area
    are left out. Parsed by defusedxml: a DTD or entity declaration is refused (UnreadableXmp), so a file
    can never expand entities or reach the network."""
    import defusedxml.ElementTree as safe
    from defusedxml import DefusedXmlException

    if isinstance(xmp, str):
        xmp = xmp.encode("utf-8")
    xmp = xmp.strip(b"\x00 \t\r\n")
    try:
        root = safe.fromstring(xmp, forbid_dtd=True)
    except (DefusedXmlException, SyntaxError, ValueError) as e:  # ParseError is a SyntaxError
        raise UnreadableXmp(str(e) or type(e).__name__) from e
    regions = []
    for region_list in root.iter(f"{{{MWG_RS}}}RegionList"):
        for item in region_list.iter(f"{{{RDF}}}li"):
            region = _mwg_region(item)
            if region is not None:
                regions.append(region)
    for region_list in root.iter(f"{{{MP_RI}}}Regions"):
        for item in region_list.iter(f"{{{RDF}}}li"):
            region = _microsoft_region(item)
            if region is not None:
                regions.append(region)
    return regions


def _value(element, namespace: str, name: str) -> str | None:
    """A simple property of a struct, written as an attribute or as a child element (both RDF forms);
    a language alternative (rdf:Alt) gives its first value. None when it is not there; "" when it is,
    empty."""
    key = f"{{{namespace}}}{name}"
    for holder in (element, *element.findall(f"{{{RDF}}}Description")):
        if key in holder.attrib:
            return holder.attrib[key].strip()
        child = holder.find(key)
        if child is not None:
            items = list(child.iter(f"{{{RDF}}}li"))
            return ((items[0].text if items else child.text) or "").strip()
    return None


def _struct(element, namespace: str, name: str):
    """A struct property: the child element (parseType="Resource", or holding an rdf:Description)."""
    for holder in (element, *element.findall(f"{{{RDF}}}Description")):
        child = holder.find(f"{{{namespace}}}{name}")
        if child is not None:
            description = child.find(f"{{{RDF}}}Description")
            return description if description is not None else child
    return None


def _mwg_region(item) -> Region | None:
    area = _struct(item, MWG_RS, "Area")
    if area is None:
        return None
    try:
        values = [float(_value(area, ST_AREA, key) or "nan") for key in ("x", "y", "w", "h")]
    except ValueError:
        return None
    unit = _value(area, ST_AREA, "unit") or "normalized"
    if unit != "normalized" or not all(0 <= v <= 1 for v in values) or values[2] <= 0 or values[3] <= 0:
        return None
    face_id = _value(item, INDEXER, "FaceId")
    return Region(area=tuple(values), name=_value(item, MWG_RS, "Name"), kind=_value(item, MWG_RS, "Type") or "Face",
                  face_id=int(face_id) if face_id and re.fullmatch(r"[0-9]{1,18}", face_id) else None)


def _microsoft_region(item) -> Region | None:
    rectangle = _value(item, MP_REG, "Rectangle")
    if not rectangle:
        return None
    try:
        x, y, w, h = (float(part) for part in rectangle.split(","))
    except ValueError:
        return None
    if w <= 0 or h <= 0 or not all(0 <= v <= 1 for v in (x, y, w, h)):
        return None
    return Region(area=(x + w / 2, y + h / 2, w, h), name=_value(item, MP_REG, "PersonDisplayName"), kind="Face")
