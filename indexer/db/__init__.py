"""Storage: the schema, opening and migrating the database, and the queries the rest of indexer uses."""

# The newest revision in migrations/versions (tests/test_migrations.py checks that they agree). Knowing it
# here lets every command see that the database is up to date without loading Alembic (~0.15 s), and the
# read-only commands without loading SQLAlchemy.
SCHEMA_HEAD = "0017"
