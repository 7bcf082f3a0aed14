"""PostgreSQL through the database URL, against a real server (support/postgres.py), with the fake models:
every command answers as it does on SQLite, the writer lock is PostgreSQL's advisory lock (shared by
every machine on the database, gone when its holder dies), and an older schema is upgraded only by
`indexer init`, after the user was told what to back up."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from support.cli import Cli
from support.photos import make_photo, unsorted_library


@pytest.fixture
def on_postgres(postgres, write_config, tmp_path, request):
    """A config whose database is a new PostgreSQL database (data_dir still holds the vector files)."""
    url = postgres.create_database(re.sub(r"\W", "_", request.node.name)[:60])
    return Cli(write_config(f'[storage]\ndata_dir = "{tmp_path / "pg-data"}"\ndatabase_url = "{url}"\n', name="pg.toml")), url


def script(run, photos: Path) -> list[str]:
    """A user's session: index, name by hand, clusters, train, find, undo, export; every answer."""
    answers = [run("index", str(photos), "--json").stdout]
    shown = run.json("show", str(photos / "p0.jpg"))
    answers.append(json.dumps(shown["faces"]))
    clusters = run.json_lines("clusters")
    answers.append(json.dumps(clusters))
    run("label", "--cluster", str(clusters[0]["cluster"]), "Ann")
    run("label", "--cluster", str(clusters[1]["cluster"]), "Bob")
    for command in (["train", "--json"], ["people", "--json"], ["find", "ann", "--json"], ["history", "--json"],
                    ["review", "--json"], ["similar", "1", "--json"], ["errors", "--json"], ["lost-names", "--json"],
                    ["export", "--format", "jsonl"]):
        answers.append(run(*command).stdout)
    run("rename", "Ann", "Anne")
    run("merge", "Bob", "Anne")
    answers += [run("people", "--json").stdout, run("find", "anne", "--json").stdout]
    run("undo")  # the merge
    answers += [run("people", "--json").stdout, run("history", "--json").stdout]
    # Faces drawn by hand: with add-face, and from a region over no face (the sidecar the test wrote).
    answers.append(run("add-face", str(photos / "p0.jpg"), "200,120,40,40", "--name", "Eve", "--json").stdout)
    answers.append(run("import-xmp", "--json").stdout)
    answers.append(run("show", str(photos / "p1.jpg"), "--json").stdout)
    run("undo")  # the import: its drawn face goes
    answers += [run("show", str(photos / "p1.jpg"), "--json").stdout, run("similar", "9", "--json").stdout]
    status = run.json("status")
    answers.append(json.dumps({k: status[k] for k in ("photos", "faces", "people", "labelled_faces", "vectors", "errors")}))
    # Times differ, and so does where each configuration keeps its files.
    return [re.sub(r"\d{4}-\d\d-\d\dT[\d:.]+Z?|\"seconds\": [\d.]+|\"classifier\": \"[^\"]*\"", "<varies>", a) for a in answers]


def test_every_command_answers_on_postgresql_as_it_does_on_sqlite(run, on_postgres, tmp_path, use_people_models):
    photos = unsorted_library(tmp_path / "photos")
    make_photo(photos / "broken.jpg", faces=1).write_bytes(b"not a photo")
    from indexer.outputs.xmp.sidecar import RegionToWrite, new_sidecar

    (photos / "p1.jpg.xmp").write_bytes(new_sidecar([RegionToWrite(0, (0.55, 0.7, 0.1, 0.2), "Dee")], (400, 200)))
    postgres_run, _ = on_postgres
    on_sqlite = script(run, photos)
    assert '"faces_added": 8, "faces_named": 0, "names_lost": 0, "errors": 1' in on_sqlite[0]  # and the broken file
    drawn, imported, shown, undone = (json.loads(answer) for answer in on_sqlite[-6:-2])
    assert (drawn["face_id"], drawn["origin"], [d["name"] for d in imported["drawn"]]) == (9, "drawn", ["Dee"])
    assert [f["origin"] for f in shown["faces"]] == ["detected", "drawn"] and len(undone["faces"]) == 1
    on_postgresql = script(postgres_run, photos)
    for sqlite_answer, postgresql_answer in zip(on_sqlite, on_postgresql, strict=True):
        assert postgresql_answer.split(", ") == sqlite_answer.split(", ")


def test_the_writer_lock_is_the_databases_so_a_second_machine_waits_and_a_dead_holder_frees_it(on_postgres, tmp_path,
                                                                                               use_fake_models):
    run, url = on_postgres
    make_photo(tmp_path / "photos" / "a.jpg", faces=1)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; from indexer.db.lock import writer_lock\n"
         f"with writer_lock(Path({str(tmp_path / 'other-host')!r}), 'index', {url!r}):\n"
         "    print('holding', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True)
    (tmp_path / "other-host").mkdir()
    try:
        assert holder.stdout.readline().strip() == "holding"
        refused = run("index", str(tmp_path / "photos"), expect=75)
        assert re.fullmatch(rf"indexer: error: another indexer index is writing to this index \(pid {holder.pid}, since "
                            r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\); try again when it has finished\n", refused.stderr)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    for _ in range(50):  # the server notices the dead connection at once; give it a moment all the same
        if run("index", str(tmp_path / "photos"), expect=None).exit_code == 0:
            break
        time.sleep(0.1)
    assert run.json("status")["photos"] == 1


def test_an_older_schema_is_upgraded_only_by_init_after_saying_what_to_back_up(on_postgres, postgres, use_fake_models):
    from alembic import command
    from sqlalchemy import create_engine

    from indexer.db.session import _alembic_config

    run, url = on_postgres
    engine = create_engine(url)
    with engine.begin() as connection:
        command.upgrade(_alembic_config(connection), "0006")
    engine.dispose()
    from indexer.db import SCHEMA_HEAD

    refused = run("people", expect=1)
    assert f"has schema revision 0006 and this indexer needs {SCHEMA_HEAD}: back it up first (e.g. pg_dump --format=custom " \
           f"--file=indexer-before-{SCHEMA_HEAD}.dump" in refused.stderr and "then run `indexer init` to upgrade it" in refused.stderr
    run("status", expect=1)
    assert run.json("init")["schema"] == SCHEMA_HEAD
    assert run("people").exit_code == 0


def test_a_second_machine_on_the_same_database_refreshes_its_own_vector_cache_when_the_database_moved_on(
        on_postgres, write_config, tmp_path, use_people_models):
    first_host, url = on_postgres
    second_host = Cli(write_config(f'[storage]\ndata_dir = "{tmp_path / "second-host"}"\ndatabase_url = "{url}"\n',
                                   name="second.toml"))
    photos = tmp_path / "photos"
    for i, faces in enumerate([["ann"], ["ann", "bob"], ["bob"]]):
        make_photo(photos / f"p{i}.jpg", faces=faces, seed=i)
    first_host("index", str(photos))
    assert second_host("similar", "1", "--json").stdout == first_host("similar", "1", "--json").stdout
    assert second_host.json("status")["vectors"] == 4  # its own FAISS file, from the database
    make_photo(photos / "p3.jpg", faces=["ann"], seed=3)
    first_host("index", str(photos))  # the database moves on; the second host's file is now behind it
    similar = second_host.json_lines("similar", "5")
    assert similar and second_host.json("status")["vectors"] == 5
    assert second_host("similar", "5", "--json").stdout == first_host("similar", "5", "--json").stdout


def test_a_database_that_goes_away_mid_run_is_one_line_naming_the_cause_and_the_run_is_failed_not_running(
        write_config, tmp_path, use_fake_models):
    """Its own server, stopped as by a crash (pg_ctl -m immediate) between two batches of a run."""
    import shutil
    import tempfile

    from support.postgres import PostgresServer, server_binaries

    if server_binaries() is None:
        pytest.skip("no PostgreSQL server here: `make test` installs Debian's postgresql as root with apt-get")
    folder = Path(tempfile.mkdtemp(prefix="indexer-tests-postgres-crash-"))
    server = PostgresServer(folder, server_binaries())
    try:
        run = Cli(write_config(f'[storage]\ndata_dir = "{tmp_path / "pg-data"}"\n'
                               f'database_url = "{server.create_database("crash")}"\n[embedding]\nbatch_size = 1\n',
                               name="crash.toml"))
        for n in range(4):
            make_photo(tmp_path / "photos" / f"p{n}.jpg", faces=1, seed=n)
        _, embedder = use_fake_models
        real, calls = embedder.embed, []

        def crash_after_the_first_batch(crops):
            calls.append(1)
            if len(calls) == 2:
                server.stop()
            return real(crops)

        embedder.embed = crash_after_the_first_batch
        result = run("index", str(tmp_path / "photos"), expect=1)
        lines = result.stderr.strip().splitlines()
        assert lines[-1].startswith("indexer: error: the database went away or cannot be reached: "), result.stderr
        assert "error: unexpected" not in result.stderr and "Traceback" not in result.stderr
        server.start()
        embedder.embed = real
        status = run.json("status")
        assert status["last_run"]["status"] == "failed" and "went away" in status["last_run"]["summary"]["error"]
        assert run.json("index", str(tmp_path / "photos"))["errors"] == 0
        assert run.json("status")["photos"] == 4
    finally:
        try:
            server.stop()
        except RuntimeError:
            pass  # stopped already
        shutil.rmtree(folder, ignore_errors=True)
