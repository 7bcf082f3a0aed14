"""A static HTML gallery of the index: everyone named, the clusters of unnamed faces, and every photo with
faces, its boxes drawn over it. It opens from disk (``file://``) or from any static web server: no server
of ours, no CDN, relative links only, so the folder can be moved or published.

``build.build_gallery`` writes or refreshes it (``content``: what it shows; ``pages``; ``images``). A refresh makes pictures only for faces and photos that have
none yet (a face id never changes its face; a photo's preview is named after its content), rewrites only
the pages whose text changed, and removes the pictures and pages of what the index no longer holds.
Every file is written atomically (a browser never sees half a page) and owner-only, like the data folder.
Names and paths are escaped by the template engine (Jinja2 with autoescaping) wherever they appear.
"""
