"""The real command in a subprocess, with its own config and data folder, and what is known of the
sample library's group photo."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from indexer.sample import SampleLibrary


# The six faces of the group photo, [x, y, w, h], as MTCNN finds them with the default settings.
GROUP_FACES = [[64, 265, 97, 129], [269, 152, 96, 117], [466, 265, 103, 140],
               [743, 343, 99, 132], [911, 62, 101, 136], [1134, 272, 93, 125]]
FALSE_SEVENTH = [1199, 535, 14, 17]  # what MTCNN also reports at confidence 0.82: not a face


def group_face_index(box: list[int]) -> int | None:
    """Which of GROUP_FACES ``box`` is (centres within 15 px), or None for none of them."""
    centre = np.array(box[:2]) + np.array(box[2:]) / 2
    for index, expected in enumerate(GROUP_FACES):
        if np.abs(centre - (np.array(expected[:2]) + np.array(expected[2:]) / 2)).max() < 15:
            return index
    return None


def name_rows(database: Path) -> tuple[list, list, list]:
    """Everything names are made of, as stored in a SQLite file: each face's label, each person, each
    lost name."""
    with sqlite3.connect(database) as db:
        return tuple(db.execute(sql).fetchall() for sql in NAME_ROWS)


NAME_ROWS = ("SELECT id, person_id, label_source, label_score FROM faces ORDER BY id",
             "SELECT id, name, created_at FROM people ORDER BY id", "SELECT * FROM lost_names ORDER BY id")


@dataclass(frozen=True)
class Backend:
    """Where an Indexer keeps its database: "sqlite" (a file in its data folder) or "postgresql" (a new
    database on ``server``, a support.postgres.PostgresServer)."""

    name: str = "sqlite"
    server: Any = None

    def new_database(self, home: Path) -> str | None:
        """The name of a new, empty database for ``home`` (None: SQLite)."""
        if self.server is None:
            return None
        database = "t" + hashlib.sha1(str(home).encode()).hexdigest()[:16]
        self.server.create_database(database)
        return database


class Indexer:
    """Runs `python -m indexer` in a subprocess with its own config and data folder (and, with a
    PostgreSQL ``backend``, its own database on that server)."""

    def __init__(self, home: Path, models_dir: Path | None = None, engine: str | None = None, backend: Backend = Backend()):
        self.home = home
        self.config = home / "config.toml"
        home.mkdir(parents=True, exist_ok=True)
        self.backend = backend
        self.database = backend.new_database(home)
        self.use_engine(engine)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("INDEXER_")}
        self.env["XDG_CONFIG_HOME"] = str(home / "xdg-config")
        if models_dir is not None:
            self.env["INDEXER_MODELS_DIR"] = str(models_dir)

    def use_engine(self, engine: str | None) -> None:
        """Write the config: this home's data folder and database, and ``engine`` (None: the default)."""
        runtime = f'[runtime]\nengine = "{engine}"\n' if engine else ""
        database = f'database_url = "{self.backend.server.url(self.database)}"\n' if self.database else ""
        self.config.write_text(f'[storage]\ndata_dir = "{self.home / "data"}"\n{database}{runtime}')

    def __call__(self, *args: str, expect: int = 0) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [sys.executable, "-m", "indexer", "--config", str(self.config), *args],
            capture_output=True, text=True, env=self.env, cwd=self.home,
        )
        assert done.returncode == expect, f"exit {done.returncode}\nstdout: {done.stdout}\nstderr: {done.stderr}"
        return done

    def json(self, *args: str, expect: int = 0):
        return json.loads(self(*args, "--json", expect=expect).stdout)

    def name_rows(self) -> tuple[list, list, list]:
        return tuple(self.query(sql) for sql in NAME_ROWS)

    def query(self, sql: str, *params) -> list[tuple]:
        """Rows of one statement (``?`` parameters) on this index's database, as SQLite gives them (JSON as
        text) whichever database it is."""
        if self.database is None:
            with sqlite3.connect(self.home / "data" / "indexer.db") as db:
                return db.execute(sql, params).fetchall()
        import psycopg

        server = self.backend.server
        with psycopg.connect(host=str(server.socket), port=server.PORT, user="postgres", dbname=self.database) as db:
            rows = db.execute(sql.replace("%", "%%").replace("?", "%s"), params).fetchall()
        return [tuple(json.dumps(v) if isinstance(v, dict | list) else v for v in row) for row in rows]

    def query_when_ready(self, sql: str, *params) -> list[tuple] | None:
        """``query``, or None while the database or its tables do not exist yet (a run is starting)."""
        try:
            return self.query(sql, *params)
        except sqlite3.OperationalError:
            return None
        except Exception as e:  # psycopg's UndefinedTable, when psycopg is what runs it
            if type(e).__module__.startswith("psycopg"):
                return None
            raise

    def snapshot(self) -> None:
        """Keep a copy of the database as it is now (PostgreSQL; a SQLite file is copied with the data folder)."""
        if self.database is not None:
            self.backend.server.create_database(f"{self.database}_copy", template=self.database)

    def restore_database(self) -> None:
        """The database as ``snapshot`` kept it."""
        if self.database is not None:
            self.backend.server.create_database(self.database, template=f"{self.database}_copy")

    def faces_of(self, name: str) -> list[list[int]]:
        rows = self.query(
            "SELECT box_x, box_y, box_w, box_h FROM faces JOIN photos ON photos.id = faces.photo_id "
            "WHERE photos.path LIKE ? ORDER BY box_x", f"%/{name}"
        )
        return [list(r) for r in rows]


def train_sample(sample: SampleLibrary, home: Path, engine: str, backend: Backend = Backend()):
    """Index the val photos and the group photo into ``home`` with ``engine``, enroll the train folders,
    train; returns (indexer, library folder, train report, a copy of the data folder as it is then)."""
    library = home / "library"
    shutil.copytree(sample.celebrities / "val", library / "val")
    shutil.copy2(sample.group_photo, library / "group.jpg")
    indexer = Indexer(home, engine=engine, backend=backend)
    indexer("index", str(library))
    enrolled = indexer.json("enroll", "--folders", str(sample.celebrities / "train"))
    assert len(enrolled["enrolled"]) == 93 and enrolled["no_face"] == [] and enrolled["failed"] == []
    report = indexer.json("train")
    copy = home.parent / f"{home.name}-copy"
    shutil.copytree(home / "data", copy)
    indexer.snapshot()
    return indexer, library, report, copy


def restore(indexer: Indexer, copy: Path) -> None:
    """Put ``indexer``'s data folder back as ``copy`` holds it, so what an earlier test did is gone."""
    shutil.rmtree(indexer.home / "data")
    shutil.copytree(copy, indexer.home / "data")
    indexer.restore_database()


def restored(trained):
    """A trained sample library (``train_sample``'s result) with its data folder as it was right after
    training."""
    indexer, _, _, copy = trained
    restore(indexer, copy)
    return trained


def copy_photos(paths: list[Path], dest: Path) -> Path:
    dest.mkdir(parents=True)
    for path in paths:
        shutil.copy2(path, dest / path.name)
    return dest


def small_library(sample: SampleLibrary, dest: Path) -> Path:
    """Five celebrity photos (one per person) and the group photo."""
    people = sorted(p.name for p in (sample.celebrities / "train").iterdir())
    return copy_photos([sample.photos("train", person)[0] for person in people] + [sample.group_photo], dest)
