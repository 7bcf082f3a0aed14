"""XMP packets as other tools write them, for the tests: MWG face regions (and Microsoft's copies)."""

from __future__ import annotations


def xmp(body: str, dimensions: str = "") -> bytes:
    """An XMP packet holding mwg-rs:Regions whose RegionList is ``body`` (and AppliedToDimensions)."""
    return f"""<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:mwg-rs="http://www.metadataworkinggroup.com/schemas/regions/"
 xmlns:stArea="http://ns.adobe.com/xmp/sType/Area#" xmlns:xArea="http://ns.adobe.com/xap/1.0/sType/Area#"
 xmlns:stDim="http://ns.adobe.com/xap/1.0/sType/Dimensions#" xmlns:xDim="http://ns.adobe.com/xmp/sType/Dimensions#">
<mwg-rs:Regions rdf:parseType="Resource">{dimensions}<mwg-rs:RegionList>{body}</mwg-rs:RegionList></mwg-rs:Regions>
</rdf:Description></rdf:RDF></x:xmpmeta>""".encode()


MP_TWIN = """<rdf:Description rdf:about="" xmlns:MP="http://ns.microsoft.com/photo/1.2/"
 xmlns:MPRI="http://ns.microsoft.com/photo/1.2/t/RegionInfo#" xmlns:MPReg="http://ns.microsoft.com/photo/1.2/t/Region#">
<MP:RegionInfo rdf:parseType="Resource"><MPRI:Regions><rdf:Bag>{items}</rdf:Bag></MPRI:Regions></MP:RegionInfo></rdf:Description>"""


def with_mp(packet: bytes, *rectangles: tuple[str, str]) -> bytes:
    """``packet`` with Microsoft's copies of regions: (name, "x, y, w, h" from the top-left corner)."""
    items = "".join(f'<rdf:li MPReg:PersonDisplayName="{name}" MPReg:Rectangle="{rectangle}"/>' for name, rectangle in rectangles)
    return packet.replace(b"</rdf:RDF>", MP_TWIN.format(items=items).encode() + b"</rdf:RDF>")


def region_item(name: str | None, area: tuple[float, float, float, float], kind: str = "Face") -> str:
    x, y, w, h = area
    named = f"<mwg-rs:Name>{name}</mwg-rs:Name>" if name is not None else ""
    return (f'<rdf:li rdf:parseType="Resource">{named}<mwg-rs:Type>{kind}</mwg-rs:Type><mwg-rs:Area stArea:x="{x}" '
            f'stArea:y="{y}" stArea:w="{w}" stArea:h="{h}" stArea:unit="normalized"/></rdf:li>')


def regions_packet(*items: str, dimensions: tuple[int, int] = (400, 200)) -> bytes:
    w, h = dimensions
    return xmp("<rdf:Bag>" + "".join(items) + "</rdf:Bag>",
               f'<mwg-rs:AppliedToDimensions stDim:w="{w}" stDim:h="{h}" stDim:unit="pixel"/>')
