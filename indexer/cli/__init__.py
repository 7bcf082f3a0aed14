"""The ``indexer`` command: parse options, call one library function, print the result.

One module per group of commands (``library``, ``people``, ``review``, ``answers``, ``gallery``, ``exchange``,
``models``), each command thin;
what they share (options, errors and exit codes, output) is in ``base``. Results go to stdout (plain
text, or JSON with ``--json``); progress and messages go to stderr. Exit status: 0 done, 1 the request
cannot be done (one line says why), 2 bad usage, 75 another writer holds the index (try later), 130
interrupted. No TensorFlow, FAISS or SQL is imported here; commands import what they need when they run.
"""

# Each module registers its commands as it is imported, in this order, which is the order `--help` lists them.
from indexer.cli import library, people, review, answers, gallery, exchange, models  # noqa: F401, I001
from indexer.cli.base import app, models_app

__all__ = ["app", "models_app", "main"]


def main() -> None:
    """Console-script entry point."""
    app()
