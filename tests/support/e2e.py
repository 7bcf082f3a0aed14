"""End to end: the real command in a subprocess with a home of its own (``Indexer``), the trained sample
library every end-to-end module shares, and what is known of the sample library's group photo."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

import numpy as np

from indexer.sample import SampleLibrary
from support.cli import Backend, Cli, write_config


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


class Indexer(Cli):
    """The real command in a subprocess (``Cli``), with its own home: a config, a data folder and (with a
    PostgreSQL ``backend``) its own database on that server."""

    def __init__(self, home: Path, models_dir: Path | None = None, engine: str | None = None, backend: Backend = Backend()):
        self.home = home
        database = backend.new_database(home)
        env = {k: v for k, v in os.environ.items() if not k.startswith("INDEXER_")}
        env["XDG_CONFIG_HOME"] = str(home / "xdg-config")
        if models_dir is not None:
            env["INDEXER_MODELS_DIR"] = str(models_dir)
        super().__init__(write_config(home, backend, database, engine), in_process=False, data_dir=home / "data",
                         backend=backend, database=database, env=env, cwd=home)

    def use_engine(self, engine: str | None) -> None:
        """Write the config again with ``engine`` (None: the default)."""
        write_config(self.home, self.backend, self.database, engine)

    def name_rows(self) -> tuple[list, list, list]:
        return tuple(self.query(sql) for sql in NAME_ROWS)

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


def own_copy(trained, home: Path) -> tuple[Indexer, Path]:
    """The trained sample library (``train_sample``'s result, SQLite) in a home of its own, for a test that
    writes into the library folder (sidecars, new photos): the photos and the data folder as after
    training, with the photos' paths moved. Returns (its indexer, its library folder)."""
    _, library, _, copy = trained
    own = Indexer(home)
    shutil.copytree(library, home / "library")
    shutil.copytree(copy, home / "data")
    with sqlite3.connect(home / "data" / "indexer.db") as db:
        db.execute("UPDATE photos SET path = ? || substr(path, ?) WHERE path LIKE ? || '%'",
                   (str(home / "library"), len(str(library)) + 1, str(library) + "/"))
    return own, home / "library"


def copy_photos(paths: list[Path], dest: Path) -> Path:
    dest.mkdir(parents=True)
    for path in paths:
        shutil.copy2(path, dest / path.name)
    return dest


def small_library(sample: SampleLibrary, dest: Path) -> Path:
    """Five celebrity photos (one per person) and the group photo."""
    people = sorted(p.name for p in (sample.celebrities / "train").iterdir())
    return copy_photos([sample.photos("train", person)[0] for person in people] + [sample.group_photo], dest)
