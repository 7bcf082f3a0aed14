"""indexer: a face index for photo libraries."""

__version__ = "0.1.0"
