"""The one way tests run the `indexer` command: ``Cli``, on a config file of its own, either in this process
(Typer's CliRunner: fast, and the fake models patched in by a fixture reach it) or in a subprocess (a new
interpreter with the real models, as a user runs it). Its database is SQLite in the data folder or a
PostgreSQL database on a test server (``Backend``), and ``query`` reads it either way."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Ran:
    """What one command did: its exit status and what it printed."""

    exit_code: int
    stdout: str
    stderr: str

    @property
    def returncode(self) -> int:
        return self.exit_code

    def json_lines(self) -> list[Any]:
        """stdout as one JSON value per line (what `--json` prints for a list)."""
        return [json.loads(line) for line in self.stdout.splitlines()]


@dataclass(frozen=True)
class Backend:
    """Where a Cli's database is: "sqlite" (a file in its data folder) or "postgresql" (a new database on
    ``server``, a support.postgres.PostgresServer)."""

    name: str = "sqlite"
    server: Any = None

    def new_database(self, home: Path) -> str | None:
        """The name of a new, empty database for ``home`` (None: SQLite)."""
        if self.server is None:
            return None
        database = "t" + hashlib.sha1(str(home).encode()).hexdigest()[:16]
        self.server.create_database(database)
        return database


class Cli:
    """`indexer --config CONFIG ARGS...`. ``in_process``: through CliRunner (the test's monkeypatches
    apply); else `python -m indexer` in a subprocess with ``env`` and ``cwd``. ``data_dir`` and
    ``database`` (a PostgreSQL database on ``backend``'s server) are where ``query`` looks; ``python`` is
    the interpreter a subprocess runs (another virtualenv's, to try an install without some packages)."""

    def __init__(self, config: Path, in_process: bool = True, data_dir: Path | None = None, backend: Backend = Backend(),
                 database: str | None = None, env: dict[str, str] | None = None, cwd: Path | None = None):
        self.config, self.in_process, self.data_dir = config, in_process, data_dir
        self.backend, self.database = backend, database
        self.env = env if env is not None else dict(os.environ)
        self.cwd = cwd
        self.python = sys.executable

    def __call__(self, *args: str, expect: int | None = 0, input: str | None = None) -> Ran:
        """Run one command; assert its exit status is ``expect`` (None: any)."""
        if self.in_process:
            from typer.testing import CliRunner

            from indexer.cli import app

            result = CliRunner().invoke(app, ["--config", str(self.config), *args], catch_exceptions=False, input=input)
            ran = Ran(result.exit_code, result.stdout, result.stderr)
        else:
            done = subprocess.run([self.python, "-m", "indexer", "--config", str(self.config), *args],
                                  capture_output=True, text=True, env=self.env, cwd=self.cwd, input=input)
            ran = Ran(done.returncode, done.stdout, done.stderr)
        if expect is not None:
            assert ran.exit_code == expect, f"exit {ran.exit_code}\nstdout: {ran.stdout}\nstderr: {ran.stderr}"
        return ran

    def json(self, *args: str, expect: int = 0) -> Any:
        """The one JSON value `ARGS --json` prints."""
        return json.loads(self(*args, "--json", expect=expect).stdout)

    def json_lines(self, *args: str, expect: int = 0) -> list[Any]:
        """The JSON values, one per line, that `ARGS --json` prints."""
        return self(*args, "--json", expect=expect).json_lines()

    def popen(self, *args: str, **options) -> subprocess.Popen:
        """The command started in a subprocess, not waited for (to interrupt it, or to run two at once)."""
        return subprocess.Popen([self.python, "-m", "indexer", "--config", str(self.config), *args],
                                env=self.env, cwd=self.cwd, **options)

    def query(self, sql: str, *params) -> list[tuple]:
        """Rows of one statement (``?`` parameters) on this index's database, as SQLite gives them (JSON as
        text) whichever database it is."""
        if self.database is None:
            with sqlite3.connect(self.data_dir / "indexer.db") as db:
                return db.execute(sql, params).fetchall()
        import psycopg

        server = self.backend.server
        with psycopg.connect(host=str(server.socket), port=server.PORT, user="postgres", dbname=self.database) as db:
            cursor = db.execute(sql.replace("%", "%%").replace("?", "%s"), params)
            rows = cursor.fetchall() if cursor.description is not None else []  # an UPDATE returns none
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


def faces(run: Cli, photo: Path | str) -> list[dict]:
    """The faces `show --json` lists of one photo, with ``run`` (a Cli)."""
    return run.json("show", str(photo))["faces"]


def write_config(home: Path, backend: Backend, database: str | None, engine: str | None = None, extra: str = "") -> Path:
    """``home/config.toml``: the data folder ``home/data``, the database (None: SQLite there), the engine
    (None: the default) and any ``extra`` TOML."""
    home.mkdir(parents=True, exist_ok=True)
    url = f'database_url = "{backend.server.url(database)}"\n' if database else ""
    runtime = f'[runtime]\nengine = "{engine}"\n' if engine else ""
    config = home / "config.toml"
    config.write_text(f'[storage]\ndata_dir = "{home / "data"}"\n{url}{runtime}{extra}')
    return config
