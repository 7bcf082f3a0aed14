"""Alembic migration scripts (shipped in the package as ``indexer.migrations``)."""
