"""``indexer serve``: a local web app over the index for naming, review and undo.

A Starlette app (``app``) on uvicorn (``server``), bound to 127.0.0.1 by default, behind a random access
token. It renders the gallery's own templates (``outputs.gallery``) with forms added, reads one page at a
time in one consistent read (``content``), makes face pictures on demand with the gallery's code
(``pictures``), and changes names only through the same functions as the CLI (``naming``), so each action
is one event of the history that ``indexer undo`` reverts.
"""
