"""Storage: the schema, opening and migrating the database, and the queries the rest of indexer uses."""
