import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from indexer.db.models import Base
from indexer.db.session import current_revision, make_engine, upgrade_to_head
from indexer.errors import DatabaseError

HEAD = "0017"


def test_the_head_revision_indexer_checks_for_is_the_newest_migration():
    from alembic.script import ScriptDirectory

    from indexer.db import SCHEMA_HEAD
    from indexer.db.session import migrations_dir

    assert SCHEMA_HEAD == HEAD == ScriptDirectory(str(migrations_dir())).get_current_head()


def test_an_empty_database_migrates_to_head_and_matches_the_models(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'new' / 'indexer.db'}")
    assert current_revision(engine) is None
    upgrade_to_head(engine)
    assert current_revision(engine) == HEAD
    assert set(inspect(engine).get_table_names()) >= {"photos", "faces", "people", "runs", "classifiers"}
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_upgrading_twice_changes_nothing(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'indexer.db'}")
    upgrade_to_head(engine)
    upgrade_to_head(engine)
    assert current_revision(engine) == HEAD


def test_face_ids_are_never_reused_after_a_delete(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'indexer.db'}")
    upgrade_to_head(engine)
    with engine.begin() as c:
        c.execute(text("INSERT INTO photos (id, path, size, mtime_ns, indexed_at) VALUES (1, '/a.jpg', 1, 1, '2026-01-01')"))
        insert = text(
            "INSERT INTO faces (photo_id, box_x, box_y, box_w, box_h, detection, landmarks, embedding, embedding_model,"
            " created_at) VALUES (1, 0, 0, 1, 1, 1.0, '{}', x'00', 'm', '2026-01-01') RETURNING id"
        )
        first = c.execute(insert).scalar()
        c.execute(text("DELETE FROM faces"))
        second = c.execute(insert).scalar()
    assert second == first + 1


def test_a_database_from_a_newer_indexer_is_refused(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'indexer.db'}")
    upgrade_to_head(engine)
    with engine.begin() as c:
        c.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(DatabaseError, match=r"made by a newer version of indexer \(schema revision 9999\)"):
        upgrade_to_head(engine)


def test_sqlite_enforces_foreign_keys_and_uses_wal(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'indexer.db'}")
    upgrade_to_head(engine)
    with engine.begin() as c:
        assert c.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert c.execute(text("PRAGMA journal_mode")).scalar() == "wal"


def test_a_database_of_the_first_release_upgrades_in_place_and_keeps_its_faces(tmp_path):
    from alembic import command

    from indexer.db.session import _alembic_config

    engine = make_engine(f"sqlite:///{tmp_path / 'indexer.db'}")
    with engine.begin() as connection:
        command.upgrade(_alembic_config(connection), "0001")
    with engine.begin() as c:
        c.execute(text("INSERT INTO photos (id, path, size, mtime_ns, indexed_at) VALUES (1, '/a.jpg', 1, 1, '2026-01-01')"))
        c.execute(text("INSERT INTO people (id, name, created_at) VALUES (1, 'Ann', '2026-01-01')"))
        c.execute(text(
            "INSERT INTO faces (photo_id, box_x, box_y, box_w, box_h, detection, landmarks, embedding, embedding_model,"
            " person_id, label_source, created_at) VALUES (1, 0, 0, 1, 1, 1.0, '{}', x'00', 'm', 1, 'manual', '2026-01-01')"
        ))
    assert current_revision(engine) == "0001"
    upgrade_to_head(engine)
    assert current_revision(engine) == HEAD
    with engine.connect() as c:
        assert c.execute(text("SELECT person_id, label_source FROM faces")).all() == [(1, "manual")]
    (backup,) = tmp_path.glob(f"indexer.db.before-{HEAD}-*.bak")
    old = make_engine(f"sqlite:///{backup}")
    assert current_revision(old) == "0001"
    with old.connect() as c:
        assert c.execute(text("SELECT count(*) FROM faces")).scalar() == 1
    assert backup.stat().st_mode & 0o777 == 0o600


def test_a_new_database_is_not_backed_up(tmp_path):
    upgrade_to_head(make_engine(f"sqlite:///{tmp_path / 'indexer.db'}"))
    assert list(tmp_path.glob("*.bak")) == []


def test_the_upgrade_that_copies_the_faces_table_keeps_face_ids_from_being_used_again(tmp_path):
    from alembic import command

    from indexer.db.session import _alembic_config

    engine = make_engine(f"sqlite:///{tmp_path / 'indexer.db'}")
    with engine.begin() as connection:
        command.upgrade(_alembic_config(connection), "0005")
    insert = text(
        "INSERT INTO faces (photo_id, box_x, box_y, box_w, box_h, detection, landmarks, embedding, embedding_model,"
        " created_at) VALUES (1, 0, 0, 1, 1, 1.0, '{}', x'00', 'm', '2026-01-01') RETURNING id"
    )
    with engine.begin() as c:
        c.execute(text("INSERT INTO photos (id, path, size, mtime_ns, indexed_at) VALUES (1, '/a.jpg', 1, 1, '2026-01-01')"))
        ids = [c.execute(insert).scalar() for _ in range(3)]
        c.execute(text("DELETE FROM faces WHERE id = :id"), {"id": ids[-1]})  # the newest face goes
    upgrade_to_head(engine)  # 0006 copies the faces table
    with engine.begin() as c:
        assert c.execute(insert).scalar() == ids[-1] + 1
        assert c.execute(text("SELECT count(*) FROM faces")).scalar() == 3
