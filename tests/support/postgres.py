"""A real PostgreSQL server for the tests, started from the machine's own server binaries (Debian's
`postgresql` package, which `make test` installs when missing): no docker, no network. It listens on a
Unix socket in a temporary folder only. initdb refuses to run as root, so as root the server runs as
the `postgres` user that Debian's package creates."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from pathlib import Path


def server_binaries() -> Path | None:
    """The folder of initdb and pg_ctl (the newest installed version), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class PostgresServer:
    """One server in ``folder`` (its data and socket); ``url(database)`` is the SQLAlchemy URL."""

    PORT = 54329

    def __init__(self, folder: Path, binaries: Path):
        self.folder, self.binaries = folder, binaries
        self.data, self.socket = folder / "data", folder / "socket"
        self.socket.mkdir(parents=True)
        self.as_user = "postgres" if os.geteuid() == 0 else None
        if self.as_user:
            shutil.chown(folder, self.as_user)
            shutil.chown(self.socket, self.as_user)
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
        self.start()

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "server.log"), "-w", "start", "-o",
                  f"-k {self.socket} -c listen_addresses='' -p {self.PORT} -c fsync=off -c full_page_writes=off")

    def _run(self, program: str, *args: str) -> str:
        command = [str(self.binaries / program), *args]
        if self.as_user:
            command = ["runuser", "-u", self.as_user, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, cwd=self.folder)
        if done.returncode != 0:
            raise RuntimeError(f"{program} failed: {done.stderr or done.stdout}")
        return done.stdout

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@/{database}?host={self.socket}&port={self.PORT}"

    def sql(self, statement: str, database: str = "postgres") -> None:
        """Run one statement outside a transaction (CREATE / DROP DATABASE need that)."""
        import psycopg

        with psycopg.connect(host=str(self.socket), port=self.PORT, user="postgres", dbname=database, autocommit=True) as db:
            db.execute(statement)

    def create_database(self, name: str, template: str | None = None) -> str:
        """A new database (a copy of ``template`` when given); returns its URL."""
        self.sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.sql(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        return self.url(name)

    def stop(self) -> None:
        """Stop at once, as a crash would (``pg_ctl -m immediate``): connections are cut mid-transaction."""
        self._run("pg_ctl", "-D", str(self.data), "-w", "-m", "immediate", "stop")
