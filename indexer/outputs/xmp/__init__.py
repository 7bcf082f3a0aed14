"""Names that travel: face regions out to XMP sidecars (``export``) and in from sidecars and from XMP
embedded in photos (``imports``), in the Metadata Working Group's schema that digiKam, Lightroom,
darktable, Mylio and exiftool read and write; the XMP itself is ``regions`` (reading) and ``sidecar``
(editing), a photo's sidecars and faces ``photos``.

Export never writes a photo, only its sidecar, and in an existing sidecar only the regions indexer wrote
before (see ``sidecar.merge_sidecar``); the sidecar as it was is kept once, beside it, as
``<sidecar>.before-indexer``. Import names faces by hand, as one event in the history (undo takes it
back); a named region over no face of the index becomes a face drawn by hand.
"""
