"""Writing face regions into an XMP sidecar without disturbing anything else in it.

A new sidecar is a plain XMP packet holding ``mwg-rs:Regions``. An existing one is edited as text:
every byte outside the regions indexer wrote before stays as it was. The file is read twice: by
defusedxml (it must be well-formed and declare no DTD or entities, else it is left alone), and by expat
for the byte offsets of the elements to edit. Then:
- with an ``mwg-rs:Regions`` list: indexer's earlier items (those carrying ``indexer:FaceId``) are cut
  out and the new ones put at the end of the list; other tools' items are kept byte for byte;
- without one: a new ``rdf:Description`` holding the regions goes at the end of ``rdf:RDF``.
The XML of the new parts is made by ElementTree, so names are escaped (``&``, ``<``, quotes) and UTF-8.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from xml.parsers import expat

from indexer.outputs.xmp.regions import INDEXER, MWG_RS, PREFIXES, RDF, ST_AREA, ST_DIM, X, Area, UnreadableXmp, read_regions


@dataclass(frozen=True)
class RegionToWrite:
    """One face, as indexer writes it: its area in the stored image, its person (None: unnamed)."""

    face_id: int
    area: Area
    name: str | None


for _prefix, _uri in PREFIXES.items():
    ET.register_namespace(_prefix, _uri)


def _q(namespace: str, name: str) -> str:
    return f"{{{namespace}}}{name}"


def region_item(region: RegionToWrite) -> ET.Element:
    """The ``rdf:li`` of one region (a struct, as ``rdf:parseType="Resource"``)."""
    item = ET.Element(_q(RDF, "li"), {_q(RDF, "parseType"): "Resource"})
    x, y, w, h = region.area
    ET.SubElement(item, _q(MWG_RS, "Area"), {
        _q(ST_AREA, "x"): f"{x:.6f}", _q(ST_AREA, "y"): f"{y:.6f}", _q(ST_AREA, "w"): f"{w:.6f}",
        _q(ST_AREA, "h"): f"{h:.6f}", _q(ST_AREA, "unit"): "normalized"})
    if region.name is not None:
        ET.SubElement(item, _q(MWG_RS, "Name")).text = region.name
    ET.SubElement(item, _q(MWG_RS, "Type")).text = "Face"
    ET.SubElement(item, _q(INDEXER, "FaceId")).text = str(region.face_id)
    return item


def regions_element(regions: list[RegionToWrite], stored_size: tuple[int, int]) -> ET.Element:
    """``mwg-rs:Regions``: the stored image's size (``AppliedToDimensions``) and the list."""
    element = ET.Element(_q(MWG_RS, "Regions"), {_q(RDF, "parseType"): "Resource"})
    ET.SubElement(element, _q(MWG_RS, "AppliedToDimensions"), {
        _q(ST_DIM, "w"): str(stored_size[0]), _q(ST_DIM, "h"): str(stored_size[1]), _q(ST_DIM, "unit"): "pixel"})
    bag = ET.SubElement(ET.SubElement(element, _q(MWG_RS, "RegionList")), _q(RDF, "Bag"))
    bag.extend(region_item(r) for r in regions)
    return element


def _text(element: ET.Element) -> str:
    ET.indent(element, space=" ")
    return ET.tostring(element, encoding="unicode")


def new_sidecar(regions: list[RegionToWrite], stored_size: tuple[int, int]) -> bytes:
    """A whole sidecar holding only these regions."""
    meta = ET.Element(_q(X, "xmpmeta"), {_q(X, "xmptk"): "indexer"})
    description = ET.SubElement(ET.SubElement(meta, _q(RDF, "RDF")), _q(RDF, "Description"), {_q(RDF, "about"): ""})
    description.append(regions_element(regions, stored_size))
    return ("<?xpacket begin='\ufeff' id='W5M0MpCehiHzreSzNTczkc9d'?>\n" + _text(meta)
            + "\n<?xpacket end='w'?>\n").encode("utf-8")


class SidecarNotEditable(Exception):
    """A sidecar indexer will not edit (not well-formed, a DTD, not XMP); ``str(e)`` says why."""


def merge_sidecar(old: bytes, regions: list[RegionToWrite], stored_size: tuple[int, int]) -> bytes:
    """``old`` with indexer's regions replaced by ``regions``; every other byte kept. Raises
    SidecarNotEditable."""
    try:
        old.decode("utf-8")
        present = read_regions(old)  # well-formed, no DTD or entities
    except (UnicodeDecodeError, UnreadableXmp) as e:
        raise SidecarNotEditable(f"not readable as UTF-8 XMP ({e})") from e
    ours = sorted((r.face_id, tuple(round(v, 6) for v in r.area), r.name) for r in present if r.face_id is not None)
    if ours == sorted((r.face_id, tuple(round(v, 6) for v in r.area), r.name) for r in regions):
        return old  # what indexer wrote last time is what it would write now
    spans = _Spans(old)
    bag = spans.first(MWG_RS, "RegionList", RDF, "Bag")
    new = "".join(_text(region_item(r)) + "\n" for r in regions).encode("utf-8")
    if bag is not None:
        if bag.empty:  # <rdf:Bag/>
            start_tag = old[bag.start : bag.end].rstrip(b">").rstrip(b"/").rstrip() + b">"
            return old[: bag.start] + start_tag + b"\n" + new + b"</" + bag.qname + b">" + old[bag.end :]
        cuts = []  # indexer's earlier items, each with the blank space before it
        for item in spans.children(bag):
            if item.tag == (RDF, "li") and item.ours:
                start = item.start
                while start > bag.inner_start and old[start - 1 : start] in b" \t\r\n":
                    start -= 1
                cuts.append((start, item.end))
        insert_at = bag.inner_end
        while insert_at > bag.inner_start and old[insert_at - 1 : insert_at] in b" \t":
            insert_at -= 1  # before the end tag's indentation
        pieces, position = [], 0
        for start, end in cuts:
            pieces.append(old[position:start])
            position = end
        pieces.append(old[position:insert_at])
        if new and not b"".join(pieces).endswith(b"\n"):
            pieces.append(b"\n")
        return b"".join(pieces) + new + old[insert_at:]
    if spans.first(MWG_RS, "Regions") is not None:
        raise SidecarNotEditable("it has mwg-rs:Regions without a RegionList")
    rdf = spans.first(RDF, "RDF")
    if rdf is None or rdf.empty:
        raise SidecarNotEditable("it holds no rdf:RDF")
    description = ET.Element(_q(RDF, "Description"), {_q(RDF, "about"): ""})
    description.append(regions_element(regions, stored_size))
    return old[: rdf.inner_end] + (_text(description) + "\n").encode("utf-8") + old[rdf.inner_end :]


@dataclass
class _Element:
    tag: tuple[str, str]  # (namespace, local name)
    qname: bytes  # as written, with its prefix
    start: int  # byte offset of "<"
    inner_start: int = -1  # just after the start tag's ">"
    inner_end: int = -1  # the "<" of the end tag
    end: int = -1  # just after the end tag's ">"
    empty: bool = False  # <tag/>
    parent: int | None = None
    ours: bool = False  # holds indexer's own field: a region indexer wrote


_QNAME = re.compile(rb"<([^\s/>]+)")


def _start_tag_end(data: bytes, offset: int) -> int:
    """The offset of the ">" that ends the start tag at ``offset`` (a ">" inside a quoted attribute value
    does not)."""
    quote = None
    for index in range(offset, len(data)):
        byte = data[index : index + 1]
        if quote is not None:
            if byte == quote:
                quote = None
        elif byte in (b'"', b"'"):
            quote = byte
        elif byte == b">":
            return index
    raise SidecarNotEditable("a start tag never ends")


class _Spans:
    """The byte offsets of every element of an XML document, from expat."""

    def __init__(self, data: bytes):
        self.data = data
        self.elements: list[_Element] = []
        stack: list[int] = []
        parser = expat.ParserCreate(namespace_separator=" ")

        def start(name: str, attributes: dict) -> None:
            offset = parser.CurrentByteIndex
            namespace, _, local = name.rpartition(" ")
            close = _start_tag_end(data, offset)
            element = _Element((namespace, local), _QNAME.match(data, offset).group(1), offset, inner_start=close + 1,
                               empty=data[close - 1 : close] == b"/", parent=stack[-1] if stack else None)
            if namespace == INDEXER or any(key.startswith(INDEXER + " ") for key in attributes):
                self._mark_ours(stack)
            self.elements.append(element)
            stack.append(len(self.elements) - 1)

        def end(name: str) -> None:
            element = self.elements[stack.pop()]
            if element.empty:
                element.inner_end = element.inner_start
                element.end = element.inner_start
            else:
                element.inner_end = parser.CurrentByteIndex
                element.end = data.index(b">", element.inner_end) + 1

        parser.StartElementHandler = start
        parser.EndElementHandler = end
        try:
            parser.Parse(data, True)
        except expat.ExpatError as e:
            raise SidecarNotEditable(f"not well-formed XML ({e})") from e

    def _mark_ours(self, stack: list[int]) -> None:
        for index in reversed(stack):
            if self.elements[index].tag == (RDF, "li"):
                self.elements[index].ours = True
                return

    def first(self, *path: str) -> _Element | None:
        """The first element whose tag and ancestors end with ``path`` (namespace, name pairs)."""
        wanted = [(path[i], path[i + 1]) for i in range(0, len(path), 2)]
        for element in self.elements:
            chain, current = [], element
            while current is not None and len(chain) < len(wanted):
                chain.insert(0, current.tag)
                current = self.elements[current.parent] if current.parent is not None else None
            if chain == wanted:
                return element
        return None

    def children(self, parent: _Element) -> list[_Element]:
        index = self.elements.index(parent)
        return [e for e in self.elements if e.parent == index]
