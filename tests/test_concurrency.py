"""Two users at once: the app and a terminal naming and undoing the same faces. Every change of names is
checked and made under one lock; an undo reverts the event it names, and refuses one whose names a later
change touched; every action says which event it made. Nothing the history says is in force is lost
(``support.history.names_against_history``). Fake models, a real SQLite (and PostgreSQL for the app)."""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
import threading
from contextlib import contextmanager

import pytest

from indexer.config import load_config
from indexer.library import Library
from support.history import names_against_history
from support.photos import make_photo

TOKEN = "the-token"
HOST = "http://127.0.0.1:8765"


@pytest.fixture
def library(run, tmp_path, use_people_models):
    """Three photos of one face each, indexed; nobody named. Returns their face ids."""
    root = tmp_path / "photos"
    for number, person in enumerate(["ann", "bob", "cy"]):
        make_photo(root / f"p{number}.jpg", faces=[person], seed=number)
    run("index", str(root))
    return [run.json("show", str(root / f"p{n}.jpg"))["faces"][0]["face_id"] for n in range(3)]


def events(run) -> list[dict]:
    return run.json_lines("history")


def meanwhile(monkeypatch, change, after: bool = False) -> None:
    """Make ``change()`` happen once, from another connection, right before the next write transaction
    begins (``after``: right after it commits): what another user does at the worst moment."""
    real = Library.transaction
    pending = [change]

    @contextmanager
    def transaction(self):
        if pending and not after:
            pending.pop()()
        with real(self) as session:
            yield session
        if pending and after:
            pending.pop()()

    monkeypatch.setattr(Library, "transaction", transaction)


def label_elsewhere(config, face_id: int, name: str):
    from indexer.naming.people import label_face

    return lambda: label_face(Library(load_config(config)), face_id, name)


def test_undo_reverts_the_newest_event_as_it_is_under_the_lock_and_names_it(run, library, config, monkeypatch):
    face = library[0]
    run("label", str(face), "Ann")
    meanwhile(monkeypatch, label_elsewhere(config, face, "Bob"))  # named again while `undo` starts
    undone = run("undo", "--json").json_lines()[0]
    newest = events(run)[1]
    assert newest["description"].endswith(f"face {face}: Ann → Bob, in {newest['description'].split(', in ')[1]}")
    assert undone["undone"] == newest["id"]  # the change that was the newest when the undo took the lock
    assert names_against_history(run.query) == []
    assert run.json("show", str(config.parent / "photos" / "p0.jpg"))["faces"][0]["person"] == "Ann"


def test_undo_of_a_given_event_is_refused_when_a_later_change_touched_its_faces(run, library):
    face, other, _ = library
    first = run.json("label", str(face), "Ann")["event"]
    run("label", str(face), "Bob")
    before = run.query("SELECT id, person_id, label_source, label_score FROM faces ORDER BY id")
    refused = run("undo", "--event", str(first), expect=1)
    assert refused.stderr.startswith(f"indexer: error: #{first} is no longer the newest change of its names: #") \
        and "nothing was undone" in refused.stderr and len(refused.stderr.splitlines()) == 1
    assert run.query("SELECT id, person_id, label_source, label_score FROM faces ORDER BY id") == before
    assert all(event["undone_by"] is None for event in events(run))


def test_undo_of_a_given_event_goes_ahead_past_later_changes_of_other_names(run, library):
    face, other, _ = library
    run("label", str(other), "Bob")  # Bob exists before: a later label of his does not depend on this event
    first = run.json("label", str(face), "Ann")["event"]
    run("label", str(library[2]), "Bob")
    undone = run("undo", "--event", str(first))
    assert undone.stdout.startswith(f"undone #{first}: face {face}: unnamed → Ann")
    assert names_against_history(run.query) == []
    assert [row[0] for row in run.query("SELECT name FROM people ORDER BY name")] == ["Bob"]


def test_undo_refuses_to_remove_a_person_a_later_change_named_somebody_after(run, library):
    face, other, _ = library
    first = run.json("label", str(face), "Ann")["event"]  # makes Ann
    run("label", str(other), "Ann")
    refused = run("undo", "--event", str(first), expect=1)
    assert "no longer the newest change of its names" in refused.stderr
    assert [row[0] for row in run.query("SELECT name FROM people")] == ["Ann"]


def test_undo_of_an_event_that_is_no_change_or_was_undone_is_one_line(run, library):
    first = run.json("label", str(library[0]), "Ann")["event"]
    run("undo")
    for event in (str(first), "999999"):
        refused = run("undo", "--event", event, expect=1)
        assert refused.stderr.strip() == (f"indexer: error: #{event} is no longer the newest change of its names, nor any "
                                          "change that can be undone (see `indexer history`); nothing was undone")
    assert "--event goes with one change" in run("undo", "2", "--event", str(first), expect=2).stderr


@pytest.fixture(params=["sqlite", "postgresql"])
def app(request, tmp_path, write_config, use_people_models):
    """The app over a library of three one-face photos (SQLite, or PostgreSQL), and the CLI on it."""
    from starlette.testclient import TestClient

    from indexer.web.app import make_app
    from support.cli import Backend, Cli

    if request.param == "sqlite":
        config = write_config()
        cli = Cli(config, data_dir=tmp_path / "data")
    else:
        server, database = request.getfixturevalue("postgres"), "t" + re.sub(r"\W", "_", request.node.name)[:50].lower()
        url = server.create_database(database)
        config = write_config(f'[storage]\ndata_dir = "{tmp_path / "pg-data"}"\ndatabase_url = "{url}"\n', name="pg.toml")
        cli = Cli(config, backend=Backend("postgresql", server), database=database)
    root = tmp_path / "photos"
    for number, person in enumerate(["ann", "bob", "cy"]):
        make_photo(root / f"p{number}.jpg", faces=[person], seed=number)
    cli("index", str(root))
    faces = [cli.json("show", str(root / f"p{n}.jpg"))["faces"][0]["face_id"] for n in range(3)]
    served = make_app(Library(load_config(config)), TOKEN, ["127.0.0.1"])
    with TestClient(served, base_url=HOST, follow_redirects=False) as client:
        client.get(f"/?token={TOKEN}")
        client.csrf = served.state.served.csrf
        yield client, cli, config, faces


def post(client, path: str, data: dict, expect: int | None = 303):
    sent = client.post(path, data={"csrf": client.csrf, **data}, headers={"origin": HOST})
    assert expect is None or sent.status_code == expect, sent.text
    return sent


def test_the_app_reports_the_event_its_action_made_not_the_newest_one(app, monkeypatch):
    client, cli, config, (face, other, _) = app
    meanwhile(monkeypatch, label_elsewhere(config, other, "Cy"), after=True)  # right after the app's change commits
    done = post(client, f"/faces/{face}/name", {"name": "Bob", "do": "name"}).headers["location"]
    event = int(done.split("done=")[1].split("#")[0])
    described = {e["id"]: e["description"] for e in events(cli)}
    assert described[event].startswith(f"face {face}: unnamed → Bob") and len(described) == 2


def test_the_apps_undo_is_refused_when_the_faces_were_named_again_after_the_page_was_shown(app, monkeypatch):
    client, cli, config, (face, _, _) = app
    done = post(client, f"/faces/{face}/name", {"name": "Bob", "do": "name"}).headers["location"]
    event = done.split("done=")[1].split("#")[0]
    meanwhile(monkeypatch, label_elsewhere(config, face, "Ann"))  # between the click and the undo
    refused = post(client, "/undo", {"event": event}, expect=400)
    assert "no longer the newest change" in refused.text
    assert cli.json("show", str(config.parent / "photos" / "p0.jpg"))["faces"][0]["person"] == "Ann"
    assert names_against_history(cli.query) == []


# The terminal's side of the race: a process of its own naming and undoing through the CLI, in a loop.
TERMINAL = """
import json, random, sys
from typer.testing import CliRunner
from indexer.cli import app
config, faces, rounds, seed = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
runner, rng, mine, said = CliRunner(), random.Random(seed), [], {"named": 0, "undone": 0, "refused": 0}
for _ in range(rounds):
    if mine and rng.random() < 0.4:
        done = runner.invoke(app, ["--config", config, "undo", "--event", str(mine.pop(rng.randrange(len(mine)))), "--json"])
        said["undone" if done.exit_code == 0 else "refused"] += 1
        assert done.exit_code in (0, 1), done.output
        continue
    done = runner.invoke(app, ["--config", config, "label", str(rng.choice(faces)), rng.choice(["Ann", "Bob", "Cy"]), "--json"])
    assert done.exit_code == 0, done.output
    if json.loads(done.stdout)["event"] is not None:  # else the face had that name already
        mine.append(json.loads(done.stdout)["event"])
        said["named"] += 1
print(json.dumps(said))
"""


def test_the_app_and_a_terminal_naming_and_undoing_the_same_faces_at_once_lose_nothing(app):
    client, cli, config, faces = app
    rounds = 150
    terminal = subprocess.Popen([sys.executable, "-c", TERMINAL, str(config), json.dumps(faces), str(rounds), "1"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    rng, mine, said = random.Random(2), [], {"named": 0, "undone": 0, "refused": 0}
    for _ in range(rounds):
        if mine and rng.random() < 0.4:
            answer = post(client, "/undo", {"event": str(mine.pop(rng.randrange(len(mine))))}, expect=None)
            assert answer.status_code in (303, 400), answer.text
            said["undone" if answer.status_code == 303 else "refused"] += 1
            continue
        done = post(client, f"/faces/{rng.choice(faces)}/name", {"name": rng.choice(["Ann", "Bob", "Cy"]), "do": "name"})
        if "done=" in done.headers["location"]:  # else the face had that name already: no change, no event
            mine.append(int(done.headers["location"].split("done=")[1].split("#")[0]))
            said["named"] += 1
    out, err = terminal.communicate(timeout=600)
    assert terminal.returncode == 0, err
    theirs = json.loads(out)
    assert names_against_history(cli.query) == []
    # Both sides named and undid, and some undos met a later change of the other side's (the race happened).
    assert said["undone"] and theirs["undone"] and said["refused"] + theirs["refused"] > 0, (said, theirs)
    assert cli.query("SELECT count(*) FROM name_events WHERE action <> 'undo'") == [(said["named"] + theirs["named"],)]


def test_two_threads_of_the_app_undoing_and_naming_lose_nothing(app):
    client, cli, config, faces = app
    errors = []

    def name_and_undo(seed: int) -> None:
        rng = random.Random(seed)
        try:
            for _ in range(40):
                done = post(client, f"/faces/{rng.choice(faces)}/name", {"name": rng.choice(["Ann", "Bob"]), "do": "name"})
                if rng.random() < 0.5 and "done=" in done.headers["location"]:
                    post(client, "/undo", {"event": done.headers["location"].split("done=")[1].split("#")[0]}, expect=None)
        except Exception as e:  # reported below, not lost in the thread
            errors.append(e)

    threads = [threading.Thread(target=name_and_undo, args=(seed,)) for seed in (3, 4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and names_against_history(cli.query) == []


def test_opening_the_library_again_never_drops_the_locks_this_process_holds_on_its_database(run, library, config):
    """POSIX locks belong to the process: closing any descriptor of the database file drops those SQLite's
    connections hold, and another process may then checkpoint the WAL away under them (this corrupted the
    database of the race above)."""
    import sqlite3

    database = config.parent / "data" / "indexer.db"
    reading = sqlite3.connect(database)
    reading.execute("BEGIN")
    reading.execute("SELECT count(*) FROM faces").fetchall()  # a read transaction: SQLite holds its shared lock
    probe = ("import fcntl, sys\nwith open(sys.argv[1], 'rb+') as f:\n    try:\n        fcntl.lockf(f, fcntl.LOCK_EX | "
             "fcntl.LOCK_NB, 0, 0)\n        print('free')\n    except OSError:\n        print('held')\n")
    assert subprocess.run([sys.executable, "-c", probe, str(database)], capture_output=True, text=True).stdout == "held\n"
    Library(load_config(config))  # as a second command of one process, or the app's pages, would
    assert subprocess.run([sys.executable, "-c", probe, str(database)], capture_output=True, text=True).stdout == "held\n"
    reading.rollback()
    reading.close()
