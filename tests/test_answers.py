"""The read-only answers (indexer.answers): the same statements (db.reads) give the same answers through the
standard library's sqlite3 (what `find`, `people`, `show`, `errors` and `status` use on SQLite) and through
SQLAlchemy (what they use on any other database, and what Library.status uses); reading never creates or
upgrades a database: a missing one reads as empty, an older one is refused with the command that upgrades
it, and a newer one is refused."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from indexer.answers import people as answers_people, photos as answers_photos, query as answers_query, status as answers_status
from indexer.config import load_config
from indexer.db.reader import Reader
from indexer.db.urls import plain_sqlite_file as sqlite_path
from indexer.errors import DatabaseError
from indexer.library import Library
from indexer.naming.names import PersonNotFound

from support.photos import make_photo


@pytest.fixture
def named_library(run, tmp_path, config, use_people_models):
    """A library with ann and bob named, one of bob's faces by hand, and one unreadable file."""
    root = tmp_path / "photos"
    make_photo(root / "p1.jpg", faces=["ann", "bob"], seed=1)
    make_photo(root / "p2.jpg", faces=["ann"], seed=2)
    (root / "broken.jpg").write_bytes(b"\xff\xd8 not a photo")
    run("index", str(root))
    library = Library(load_config(config))
    with library.engine.begin() as c:
        ids = [row[0] for row in c.execute(text("SELECT id FROM faces ORDER BY photo_id, box_x"))]
    run("label", str(ids[0]), "Ann")
    run("label", str(ids[2]), "Ann")
    run("label", str(ids[1]), "bob")
    return library, root


def both_readers(library: Library):
    """A reader through sqlite3 and one through SQLAlchemy, on the same database."""
    return Reader.open(library.config), Reader(library.engine.connect(), through_sqlalchemy=True)


def test_both_ways_of_reading_give_the_same_answers(named_library):
    library, root = named_library
    plain, through_sqlalchemy = both_readers(library)
    for reader in (plain, through_sqlalchemy):
        assert [(p.name, p.faces, p.photos, p.manual_faces) for p in answers_people.people(reader)] == [("Ann", 2, 2, 2), ("bob", 1, 1, 1)]
    ann = answers_query.Query.of([" ANN "], sort="best")
    assert answers_query.find(plain, ann) == answers_query.find(through_sqlalchemy, ann)
    photos = answers_query.find(plain, ann)
    assert {face.person for p in photos for face in p.matches} == {"Ann"}
    assert [p.path for p in photos] == sorted(str(p) for p in (root / "p1.jpg", root / "p2.jpg"))
    assert answers_photos.photo_record(plain, str(root / "p1.jpg")) == answers_photos.photo_record(through_sqlalchemy, str(root / "p1.jpg"))
    assert [f.path for f in answers_photos.failed_files(plain)] == [str(root / "broken.jpg")]
    assert answers_photos.failed_files(plain) == answers_photos.failed_files(through_sqlalchemy)
    status = answers_status.status(plain, library.config)
    with library.session() as session:  # and inside a session of the library's own, as a writer reads
        in_session = answers_status.status(Reader.of_session(session), library.config)
    assert status == answers_status.status(through_sqlalchemy, library.config) == in_session
    assert (status.photos, status.faces, status.people, status.labelled_faces, status.errors) == (2, 3, 2, 3, 1)
    assert status.last_run.status == "completed" and status.last_run.summary["errors"] == 1


def test_a_name_nobody_has_names_the_closest(named_library):
    library, _ = named_library
    with pytest.raises(PersonNotFound, match=r"no person named 'Anne' \(closest: Ann\)"):
        answers_query.find(Reader.open(library.config), answers_query.Query.of(["Anne"]))


def test_reading_a_library_that_does_not_exist_yet_reads_it_as_empty_and_creates_nothing(write_config, tmp_path):
    config = load_config(write_config())
    with Reader.open(config) as reader:
        assert answers_people.people(reader) == []
        assert answers_status.status(reader, config).photos == 0
    assert not (tmp_path / "data").exists()


def test_reading_an_older_database_is_refused_with_the_command_that_upgrades_it_and_changes_nothing(write_config, tmp_path):
    config = load_config(write_config())
    with Library(config).engine.begin() as c:
        c.execute(text("UPDATE alembic_version SET version_num = '0006'"))
    database = tmp_path / "data" / "indexer.db"
    before = database.read_bytes()
    with pytest.raises(DatabaseError, match=r"has schema revision 0006 and this indexer needs .*: run `indexer init`"):
        Reader.open(config)
    assert database.read_bytes() == before and not list(database.parent.glob("*.bak"))


def test_reading_a_database_of_a_newer_indexer_is_refused(write_config):
    config = load_config(write_config())
    with Library(config).engine.begin() as c:
        c.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(DatabaseError, match="made by a newer version of indexer"):
        Reader.open(config)


def test_only_a_plain_sqlite_file_is_read_without_sqlalchemy():
    assert str(sqlite_path("sqlite:////srv/i.db")) == "/srv/i.db"
    assert sqlite_path("sqlite://") is None and sqlite_path("sqlite:///:memory:") is None
    assert sqlite_path("sqlite:////srv/i.db?timeout=30") is None
    assert sqlite_path("postgresql+psycopg://host/indexer") is None
