"""An index as an older indexer left it, for the tests of an upgrade: the schema steps undone in place,
through ``Cli.query`` (SQLite or PostgreSQL), keeping every row (a rebuilt table would take its faces with
it through their foreign keys)."""

from __future__ import annotations


def before_people_shown(cli) -> None:
    """The index of ``cli`` (a support.cli.Cli) as it was before schema 0017: no people.hidden nor
    people.cover_face_id."""
    for column in ("hidden", "cover_face_id"):
        cli.query(f"ALTER TABLE people DROP COLUMN {column}")
    cli.query("UPDATE alembic_version SET version_num = '0016'")


def before_dates(cli) -> None:
    """The index of ``cli`` as it was before schema 0016 (dates taken): no date columns, the faces' photo
    index of before (and none of what came after)."""
    before_people_shown(cli)
    cli.query("DROP INDEX ix_photos_taken_at")
    cli.query("DROP INDEX ix_faces_photo_person")
    cli.query("CREATE INDEX ix_faces_photo_id ON faces (photo_id)")
    for column in ("taken_at", "taken_offset", "taken_from"):
        cli.query(f"ALTER TABLE photos DROP COLUMN {column}")
    cli.query("UPDATE alembic_version SET version_num = '0015'")
