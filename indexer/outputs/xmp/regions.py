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

import math
import re
from dataclasses import dataclass, replace

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
X = "adobe:ns:meta/"
MWG_RS = "http://www.metadataworkinggroup.com/schemas/regions/"
ST_AREA = "http://ns.adobe.com/xmp/sType/Area#"
ST_DIM = "http://ns.adobe.com/xap/1.0/sType/Dimensions#"
# Writers spell the struct namespaces both ways (MWG's guidelines use the first; exiftool and Lightroom
# write ST_AREA and ST_DIM above, some others the second): both are read.
AREA_NAMESPACES = (ST_AREA, "http://ns.adobe.com/xap/1.0/sType/Area#")
DIMENSIONS_NAMESPACES = (ST_DIM, "http://ns.adobe.com/xmp/sType/Dimensions#")
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
    """A region as read: ``area`` in the stored image (see Area), the person's name (None: none given),
    the region's type ("Face", "Pet", "Focus", "BarCode"; "Face" when none is given), the face id when
    indexer wrote it, the schema it was read from ("mwg" or "mp"), and ``problem``: why its area cannot
    be used (not finite, not positive, larger than the photo, ...), None when it can."""

    area: Area
    name: str | None
    kind: str
    face_id: int | None = None
    source: str | None = None  # the sidecar it was read from (None: embedded in the photo, or not said)
    schema: str = "mwg"
    problem: str | None = None

    @property
    def usable(self) -> bool:
        return self.problem is None


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
    """Every region of an XMP packet or sidecar, MWG's and Microsoft's, in the order written; a region
    whose area cannot be used is there with its ``problem``. Parsed by defusedxml: a DTD or entity
    declaration is refused (UnreadableXmp), so a file can never expand entities or reach the network."""
    import defusedxml.ElementTree as safe
    from defusedxml import DefusedXmlException

    if isinstance(xmp, str):
        xmp = xmp.encode("utf-8")
    xmp = xmp.strip(b"\x00 \t\r\n")
    try:
        root = safe.fromstring(xmp, forbid_dtd=True)
    except DefusedXmlException as e:  # its str() is a repr: DTDForbidden(name='x', …)
        raise UnreadableXmp("it declares a DTD or entities, which XMP never needs (refused unread)") from e
    except (SyntaxError, ValueError) as e:  # ParseError is a SyntaxError
        raise UnreadableXmp(f"not well-formed XML: {e}" if str(e) else "not well-formed XML") from e
    regions = []
    for info in root.iter(f"{{{MWG_RS}}}Regions"):
        info = _resolved(info)
        dimensions = _dimensions(_struct(info, MWG_RS, "AppliedToDimensions"))
        region_list = _struct(info, MWG_RS, "RegionList")
        regions += [_mwg_region(item, dimensions) for item in _items(region_list)]
    for region_list in root.iter(f"{{{MP_RI}}}Regions"):
        regions += [_microsoft_region(_resolved(item)) for item in _items(region_list)]
    return regions


def _items(array) -> list:
    """The items of an RDF array property (rdf:Bag, rdf:Seq or rdf:Alt), each resolved to the element
    holding its fields."""
    if array is None:
        return []
    return [_resolved(item) for kind in ("Bag", "Seq", "Alt") for container in array.findall(f"{{{RDF}}}{kind}")
            for item in container.findall(f"{{{RDF}}}li")]


def _resolved(element):
    """A struct's element: itself (attributes or parseType="Resource"), or the rdf:Description in it."""
    description = element.find(f"{{{RDF}}}Description")
    return description if description is not None else element


def _value(element, namespaces: str | tuple[str, ...], name: str) -> str | None:
    """A simple property of a struct, written as an attribute or as a child element (both RDF forms),
    under any of ``namespaces``; a language alternative (rdf:Alt) gives its first value. None when it is
    not there; "" when it is, empty."""
    for namespace in (namespaces,) if isinstance(namespaces, str) else namespaces:
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
            return _resolved(child)
    return None


def _dimensions(element) -> tuple[float, float] | None:
    """``AppliedToDimensions`` (width, height) when given in pixels, else None."""
    if element is None:
        return None
    try:
        w, h = (float(_value(element, DIMENSIONS_NAMESPACES, key) or "nan") for key in ("w", "h"))
    except ValueError:
        return None
    unit = (_value(element, DIMENSIONS_NAMESPACES, "unit") or "pixel").lower()
    return (w, h) if unit == "pixel" and math.isfinite(w) and math.isfinite(h) and w > 0 and h > 0 else None


def area_problem(area: tuple[float, float, float, float]) -> str | None:
    """Why a normalised area (centre x, y; width, height; 0–1 of the image) cannot be a face's, or None.
    A region reaching past an edge is fine (a face cut by the frame); one wider or taller than the image,
    or centred outside it, is not."""
    if not all(math.isfinite(v) for v in area):
        return "its area is not a finite number"
    x, y, w, h = area
    if w <= 0 or h <= 0:
        return "its area's width or height is not positive"
    if w > 1.001 or h > 1.001:
        return "its area is larger than the photo"
    if not (0 <= x <= 1 and 0 <= y <= 1):
        return "its area lies outside the photo"
    return None


def _numbers(texts: list[str | None]) -> list[float] | None:
    try:
        return [float(text) for text in texts] if all(text for text in texts) else None
    except ValueError:
        return None


def _mwg_region(item, dimensions: tuple[float, float] | None) -> Region:
    face_id = _value(item, INDEXER, "FaceId")
    region = Region(area=(0.0, 0.0, 0.0, 0.0), name=_value(item, MWG_RS, "Name"), kind=_value(item, MWG_RS, "Type") or "Face",
                    face_id=int(face_id) if face_id and re.fullmatch(r"[0-9]{1,18}", face_id) else None)
    area = _struct(item, MWG_RS, "Area")
    if area is None:
        return replace(region, problem="it has no area")
    values = _numbers([_value(area, AREA_NAMESPACES, key) for key in ("x", "y", "w", "h")])
    if values is None:
        return replace(region, problem="its area is not four numbers")
    unit = (_value(area, AREA_NAMESPACES, "unit") or "normalized").lower()  # Lightroom 6 leaves it out
    if unit == "pixel":
        if dimensions is None:
            return replace(region, problem="its area is in pixels without the AppliedToDimensions they are of")
        values = [values[0] / dimensions[0], values[1] / dimensions[1], values[2] / dimensions[0], values[3] / dimensions[1]]
    elif unit != "normalized":
        return replace(region, problem=f"its area's unit is {unit[:40]!r}, not normalized or pixel")
    return replace(region, area=tuple(values), problem=area_problem(tuple(values)))


def _microsoft_region(item) -> Region:
    region = Region(area=(0.0, 0.0, 0.0, 0.0), name=_value(item, MP_REG, "PersonDisplayName"), kind="Face", schema="mp")
    rectangle = _value(item, MP_REG, "Rectangle")
    if not rectangle:
        return replace(region, problem="it has no rectangle")
    values = _numbers(rectangle.split(","))
    if values is None or len(values) != 4:
        return replace(region, problem="its rectangle is not four numbers")
    x, y, w, h = values
    area = (x + w / 2, y + h / 2, w, h)  # from the top-left corner to the centre
    return replace(region, area=area, problem=area_problem(area))
