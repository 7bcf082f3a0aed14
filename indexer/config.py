"""Settings: built-in defaults, then one TOML file, then INDEXER_* environment variables.

The file is the first of: ``--config PATH``, ``$INDEXER_CONFIG``, ``./config.toml``, and
``config.toml`` in the user's config folder (``$XDG_CONFIG_HOME/indexer``, else ``~/.config/indexer``).
Relative paths in the file resolve against the file's folder; ``~`` is expanded. Every path the
program uses is resolved here and nowhere else.
"""

from __future__ import annotations

import logging
import math
import os
import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from indexer.vision.engines import DEFAULT_ENGINE, ENGINES
from indexer.vision.media import RAW_ENDINGS, VIDEO_ENDINGS
from indexer.errors import ConfigError
from indexer.vision.weights import MODELS, DEFAULT_MODEL

log = logging.getLogger(__name__)

# Keys earlier versions read and this one ignores, with why (a warning says so: an error would stop a nightly run)
RETIRED_KEYS = {
    "search": {"probes": "approximate search is an HNSW graph now, not IVF cells; [search] candidates sets its breadth"},
}

CONFIG_ENV = "INDEXER_CONFIG"
DATA_DIR_ENV = "INDEXER_DATA_DIR"
MODELS_DIR_ENV = "INDEXER_MODELS_DIR"
DATABASE_URL_ENV = "INDEXER_DATABASE_URL"
DATABASE_FILENAME = "indexer.db"
MAX_FACE_SIZE = 4000  # [detection] min_face_size, pixels: a face larger than most photos is no setting


def user_config_dir() -> Path:
    """The folder holding the user's own ``config.toml``."""
    base = os.environ.get("XDG_CONFIG_HOME") or "~/.config"
    return Path(base).expanduser() / "indexer"


def user_cache_dir() -> Path:
    """The folder for downloads and model weights, shared by every library of this user."""
    base = os.environ.get("XDG_CACHE_HOME") or "~/.cache"
    return Path(base).expanduser() / "indexer"


def downloads_dir() -> Path:
    """Where archives fetched from the package registry are kept (verified by sha256; safe to delete)."""
    return user_cache_dir() / "downloads"


@dataclass(frozen=True)
class LibraryConfig:
    roots: tuple[Path, ...] = (Path("~/Pictures").expanduser(),)
    extensions: frozenset[str] = frozenset(
        {"jpg", "jpeg", "png", "webp", "bmp", "tif", "tiff", "heic", "heif", "avif"} | RAW_ENDINGS | VIDEO_ENDINGS
    )
    exclude: tuple[str, ...] = ("@eaDir", "#recycle")
    max_megapixels: float = 120.0
    # A run removes the photos gone from disk only while they are at most this share of the photos it
    # holds under the roots (up to 10 are always removed); more at once needs `indexer index --prune`.
    max_removed_share: float = 0.2
    # The most seconds one file may take to read (checked between the frames of a video): one slower is
    # stopped, said, and left alone until it changes or `index --retry-stopped` (a feature film: ~6 min).
    max_seconds_per_file: float = 1800.0
    # A video's frames looked at for its cuts (the first frame of each new scene), at most this many in a
    # minute of film on top of its frame a second: a video that cuts at every frame costs what it shows.
    max_cut_samples_per_minute: int = 60


@dataclass(frozen=True)
class StorageConfig:
    data_dir: Path = Path("~/.local/share/indexer").expanduser()
    database_url: str | None = None

    @property
    def url(self) -> str:
        """The SQLAlchemy URL of the database: ``database_url``, else a SQLite file in ``data_dir``."""
        return self.database_url or f"sqlite:///{self.data_dir / DATABASE_FILENAME}"

    @property
    def vectors_dir(self) -> Path:
        """Where the FAISS files live: one per embedding model."""
        return self.data_dir / "vectors"

    def vectors_file(self, model_name: str) -> Path:
        """The FAISS file of one embedding model."""
        return self.vectors_dir / f"{model_name}.faiss"


@dataclass(frozen=True)
class DetectionConfig:
    min_face_size: int = 20
    tiny_face_size: int = 12  # in a small photo, faces down to this are looked for (vision/detect.SMALL_PHOTO_PIXELS)
    # Faces smaller than this fraction of the photo's shorter side are not looked for either (1/40: 75 px
    # in a 4000×3000 photo); the photo is searched at the size where such a face is min_face_size px.
    min_face_fraction: float = 0.025
    min_confidence: float = 0.8
    pnet_threshold: float = 0.6
    rnet_threshold: float = 0.6


@dataclass(frozen=True)
class EmbeddingConfig:
    model: str = DEFAULT_MODEL
    batch_size: int = 32
    margin: float = 0.1
    models_dir: Path = field(default_factory=lambda: user_cache_dir() / "models")


@dataclass(frozen=True)
class SearchConfig:
    # Up to this many faces of a model, nearest-neighbour search is exact (1 million: ~65 ms a query);
    # above it, approximate (an HNSW graph; bench/search_scale.py measures both).
    approximate_above: int = 500_000
    # Faces an approximate query looks at, at most (HNSW's efSearch): more is slower and nearer to exact.
    candidates: int = 256  # vectors.DEFAULT_CANDIDATES (not imported here: FAISS would load with the config)


@dataclass(frozen=True)
class RuntimeConfig:
    # Where the networks run: "onnx" (ONNX Runtime: starts in under a second) or "tensorflow" (the reference).
    engine: str = DEFAULT_ENGINE


@dataclass(frozen=True)
class GalleryConfig:
    # The folder of the static HTML gallery that `indexer index` refreshes at the end of each run
    # (None: it does not; `indexer gallery OUT` writes one by hand).
    dir: Path | None = None


@dataclass(frozen=True)
class ComputeConfig:
    # The Dask scheduler ("tcp://host:8786") whose workers read the photos of `indexer index`; None: this
    # machine reads them.
    scheduler: str | None = None


@dataclass(frozen=True)
class IndexConfig:
    # Photos `indexer index` reads at once, each decoded and searched for faces by a worker thread: "auto"
    # (None here) is the cores the process may use (``workers_here``); --workers N for one run.
    workers: int | None = None

    def workers_here(self, engine: str = DEFAULT_ENGINE) -> int:
        """``workers``, or for "auto" the cores this process may use now — on ONNX Runtime. TensorFlow runs
        its graphs on its own pools of threads, which ours do not share: one worker (bench/speed.py: two
        were 13 % slower)."""
        from indexer.vision.engines import TENSORFLOW
        from indexer.vision.engines.cores import usable_cores

        if self.workers is not None:
            return self.workers
        return 1 if engine == TENSORFLOW else usable_cores()


MAX_WORKERS = 64
# The word of [index] workers for "as many as the cores". Written in capitals and lowered: the word in
# lower case is also a label source's, which tests/test_layout.py keeps to its enum everywhere else.
WORKERS_AUTO = "AUTO".lower()


@dataclass(frozen=True)
class XmpConfig:
    # How a photo's XMP sidecar is named: "photo.jpg.xmp" (digiKam, darktable, Immich) or "photo.xmp"
    # (Adobe Lightroom and Bridge, Capture One, Mylio).
    sidecar: str = "photo.jpg.xmp"
    # The most faces one file (a sidecar, or a photo's own XMP) may have drawn by `import-xmp`: the regions
    # over no detected face. A real photo has tens; a file asking for thousands would cost minutes and GBs.
    max_drawn_faces: int = 200


@dataclass(frozen=True)
class Config:
    """The whole configuration. ``path`` is the file it was read from, or None for the defaults."""

    path: Path | None = None
    library: LibraryConfig = field(default_factory=LibraryConfig)
    storage: StorageConfig = field(default_factory=StorageConfig)
    detection: DetectionConfig = field(default_factory=DetectionConfig)
    embedding: EmbeddingConfig = field(default_factory=EmbeddingConfig)
    search: SearchConfig = field(default_factory=SearchConfig)
    runtime: RuntimeConfig = field(default_factory=RuntimeConfig)
    gallery: GalleryConfig = field(default_factory=GalleryConfig)
    xmp: XmpConfig = field(default_factory=XmpConfig)
    compute: ComputeConfig = field(default_factory=ComputeConfig)
    index: IndexConfig = field(default_factory=IndexConfig)

    @property
    def face_settings(self) -> str:
        """The settings that decide which faces a photo yields and their vectors, as one string, and the
        engine that ran the networks. Each photo records the one it was indexed with; a photo indexed with
        other settings is indexed again (``same_face_settings``), but not for another engine: both find
        the same faces and vectors (tests/test_e2e_engines.py)."""
        d, e = self.detection, self.embedding
        return (
            f"model={e.model} margin={e.margin:g} crop=upright min_face_size={d.min_face_size} tiny={d.tiny_face_size} min_face_fraction={d.min_face_fraction:g} "
            f"min_confidence={d.min_confidence:g} pnet={d.pnet_threshold:g} rnet={d.rnet_threshold:g}"
            f"{ENGINE_SETTING}{self.runtime.engine}"
        )


ENGINE_SETTING = " engine="


def same_face_settings(recorded: str | None, current: str) -> bool:
    """Whether a photo indexed with the face settings ``recorded`` holds what ``current`` would find:
    equal apart from the engine (earlier versions recorded none: they ran TensorFlow)."""
    if recorded is None:
        return False
    return recorded.split(ENGINE_SETTING)[0] == current.split(ENGINE_SETTING)[0]


def find_config_file(explicit: Path | None = None) -> Path | None:
    """The config file to read, by the documented lookup order; None when there is none."""
    if explicit is not None:
        if not explicit.expanduser().is_file():
            raise ConfigError(f"config file not found: {explicit}")
        return explicit.expanduser().absolute()
    from_env = os.environ.get(CONFIG_ENV)
    if from_env:
        path = Path(from_env).expanduser()
        if not path.is_file():
            raise ConfigError(f"config file not found: {from_env} (from ${CONFIG_ENV})")
        return path.absolute()
    for candidate in (Path.cwd() / "config.toml", user_config_dir() / "config.toml"):
        if candidate.is_file():
            return candidate
    return None


def load_config(explicit: Path | None = None) -> Config:
    """Read the configuration by the lookup order, apply INDEXER_* overrides, and check every value."""
    path = find_config_file(explicit)
    if path is None:
        config = Config()
    else:
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as e:
            raise ConfigError(f"cannot read config file {path}: {e}") from e
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{path}: not valid TOML: {e}") from e
        config = parse_config(raw, base_dir=path.parent, path=path)
    config = _apply_environment(config)
    data_dir = config.storage.data_dir
    if data_dir.exists() and not data_dir.is_dir():
        raise ConfigError(f"[storage] data_dir {data_dir} is a file, not a folder")
    return config


def parse_config(raw: dict[str, Any], base_dir: Path, path: Path | None = None) -> Config:
    """Build a Config from a parsed TOML document; relative paths resolve against ``base_dir``."""
    where = str(path) if path else "config"
    reader = _Reader(raw, where, base_dir)
    defaults = Config()
    unknown = sorted(set(raw) - {"library", "storage", "detection", "embedding", "search", "runtime", "gallery", "xmp", "compute", "index"})
    if unknown:
        raise ConfigError(f"{where}: unknown section [{unknown[0]}]")

    lib = reader.section("library", LibraryConfig)
    roots = defaults.library.roots
    if "roots" in lib:
        roots = tuple(reader.path("roots", p) for p in reader.strings(lib, "roots", []))
    library = LibraryConfig(
        roots=roots,
        extensions=reader.extensions(lib, "extensions", sorted(defaults.library.extensions)),
        exclude=tuple(reader.strings(lib, "exclude", list(defaults.library.exclude))),
        max_megapixels=reader.number(lib, "max_megapixels", defaults.library.max_megapixels, low=1),
        max_removed_share=reader.number(lib, "max_removed_share", defaults.library.max_removed_share, low=0, high=1),
        max_seconds_per_file=reader.number(lib, "max_seconds_per_file", defaults.library.max_seconds_per_file, low=1),
        max_cut_samples_per_minute=reader.integer(lib, "max_cut_samples_per_minute",
                                                  defaults.library.max_cut_samples_per_minute, low=0, high=3600),
    )

    sto = reader.section("storage", StorageConfig)
    storage = StorageConfig(
        data_dir=reader.path("data_dir", sto["data_dir"]) if "data_dir" in sto else defaults.storage.data_dir,
        database_url=reader.database_url(sto, "database_url"),
    )

    det = reader.section("detection", DetectionConfig)
    detection = DetectionConfig(
        min_face_size=reader.integer(det, "min_face_size", defaults.detection.min_face_size, low=10, high=MAX_FACE_SIZE),
        tiny_face_size=reader.integer(det, "tiny_face_size", defaults.detection.tiny_face_size, low=10, high=MAX_FACE_SIZE),
        min_face_fraction=reader.number(det, "min_face_fraction", defaults.detection.min_face_fraction, low=0, high=0.5),
        min_confidence=reader.number(det, "min_confidence", defaults.detection.min_confidence, low=0, high=1),
        pnet_threshold=reader.number(det, "pnet_threshold", defaults.detection.pnet_threshold, low=0, high=1),
        rnet_threshold=reader.number(det, "rnet_threshold", defaults.detection.rnet_threshold, low=0, high=1),
    )

    emb = reader.section("embedding", EmbeddingConfig)
    model = reader.string(emb, "model", defaults.embedding.model)
    if model not in MODELS:
        raise ConfigError(f"{where}: [embedding] model = {model!r} is not a known model; known: {', '.join(MODELS)}")
    embedding = EmbeddingConfig(
        model=model,
        batch_size=reader.integer(emb, "batch_size", defaults.embedding.batch_size, low=1, high=1024),
        margin=reader.number(emb, "margin", defaults.embedding.margin, low=0, high=1),
        models_dir=reader.path("models_dir", emb["models_dir"])
        if "models_dir" in emb
        else defaults.embedding.models_dir,
    )

    sea = reader.section("search", SearchConfig)
    search = SearchConfig(
        approximate_above=reader.integer(sea, "approximate_above", defaults.search.approximate_above, low=1000),
        candidates=reader.integer(sea, "candidates", defaults.search.candidates, low=10, high=100_000),
    )
    run = reader.section("runtime", RuntimeConfig)
    engine = reader.string(run, "engine", defaults.runtime.engine)
    if engine not in ENGINES:
        raise ConfigError(f"{where}: [runtime] engine = {engine!r} is not an engine; choose {' or '.join(map(repr, ENGINES))}")
    runtime = RuntimeConfig(engine=engine)
    gal = reader.section("gallery", GalleryConfig)
    gallery = GalleryConfig(dir=reader.path("dir", gal["dir"]) if "dir" in gal else None)
    xmp_table = reader.section("xmp", XmpConfig)
    sidecar = reader.string(xmp_table, "sidecar", defaults.xmp.sidecar)
    if sidecar not in ("photo.jpg.xmp", "photo.xmp"):
        raise ConfigError(f'{where}: [xmp] sidecar = {sidecar!r}: choose "photo.jpg.xmp" or "photo.xmp"')
    xmp = XmpConfig(sidecar=sidecar, max_drawn_faces=reader.integer(xmp_table, "max_drawn_faces",
                                                                    defaults.xmp.max_drawn_faces, low=1, high=100_000))
    return Config(
        path=path, library=library, storage=storage, detection=detection, embedding=embedding, search=search,
        runtime=runtime, gallery=gallery, xmp=xmp,
        compute=ComputeConfig(scheduler=reader.string(reader.section("compute", ComputeConfig), "scheduler", None)),
        index=IndexConfig(workers=reader.workers(reader.section("index", IndexConfig), "workers")),
    )


def _apply_environment(config: Config) -> Config:
    """INDEXER_DATA_DIR, INDEXER_DATABASE_URL and INDEXER_MODELS_DIR override the file; relative to the
    current folder."""
    data_dir = os.environ.get(DATA_DIR_ENV)
    if data_dir:
        config = replace(config, storage=replace(config.storage, data_dir=Path(data_dir).expanduser().absolute()))
    database_url = os.environ.get(DATABASE_URL_ENV)
    if database_url:
        url = _Reader({}, f"${DATABASE_URL_ENV}", Path.cwd()).database_url({"url": database_url}, "url")
        config = replace(config, storage=replace(config.storage, database_url=url))
    models_dir = os.environ.get(MODELS_DIR_ENV)
    if models_dir:
        config = replace(
            config, embedding=replace(config.embedding, models_dir=Path(models_dir).expanduser().absolute())
        )
    return config


class _Reader:
    """Typed access to a TOML table that names the file and key in every error."""

    def __init__(self, raw: dict[str, Any], where: str, base_dir: Path):
        self.raw, self.where, self.base_dir = raw, where, base_dir

    def section(self, name: str, settings: type) -> dict[str, Any]:
        """The table ``[name]``; a key that ``settings`` does not have is an error, not silently ignored."""
        table = self.raw.get(name, {})
        if not isinstance(table, dict):
            raise ConfigError(f"{self.where}: [{name}] must be a table")
        known = {f.name for f in fields(settings)}
        retired = RETIRED_KEYS.get(name, {})
        for key in sorted(set(table) & set(retired)):
            log.warning("%s: [%s] %s is no longer used (%s); remove it", self.where, name, key, retired[key])
        unknown = sorted(set(table) - known - set(retired))
        if unknown:
            raise ConfigError(f"{self.where}: unknown key {unknown[0]!r} in [{name}]; known: {', '.join(sorted(known))}")
        return table

    def _fail(self, key: str, expected: str, value: Any) -> ConfigError:
        return ConfigError(f"{self.where}: {key} must be {expected}, not {value!r}")

    def string(self, table: dict[str, Any], key: str, default: str | None) -> str | None:
        value = table.get(key, default)
        if value is not None and not isinstance(value, str):
            raise self._fail(key, "a string", value)
        return value

    def strings(self, table: dict[str, Any], key: str, default: list[str] | None) -> list[str]:
        value = table.get(key, default)
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self._fail(key, "a list of non-empty strings", value)
        return value

    def extensions(self, table: dict[str, Any], key: str, default: list[str]) -> frozenset[str]:
        """File endings, lower case without the dot: letters and digits only ("jpg", not "." or "*")."""
        endings = [value.lower().lstrip(".") for value in self.strings(table, key, default)]
        for ending in endings:
            if not re.fullmatch(r"[a-z0-9]+", ending):
                raise self._fail(key, 'a list of file endings of letters and digits, like "jpg"', table[key])
        return frozenset(endings)

    def database_url(self, table: dict[str, Any], key: str) -> str | None:
        """A SQLAlchemy URL; the file of a relative SQLite URL is relative to the config file's folder."""
        url = self.string(table, key, None)
        if url is None:
            return None
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        from indexer.db.urls import POSTGRESQL, SQLITE, shown

        try:
            parsed = make_url(url)
            port = parsed.port
        except (ArgumentError, ValueError):
            raise self._fail(key, "a database URL like sqlite:////path/indexer.db", shown(url)) from None
        if parsed.get_backend_name() not in (SQLITE, POSTGRESQL):
            raise ConfigError(f"{self.where}: {key}: only SQLite and PostgreSQL are supported, not {parsed.get_backend_name()!r}")
        if port is not None and not 0 < port < 65536:
            raise self._fail(key, "a database URL with a port from 1 to 65535", shown(url))
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            database = Path(parsed.database).expanduser()
            if not database.is_absolute():
                url = parsed.set(database=str((self.base_dir / database).absolute())).render_as_string(hide_password=False)
        return url

    def integer(self, table: dict[str, Any], key: str, default: int, low: int, high: int | None = None) -> int:
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
            raise self._fail(key, f"a whole number from {low}" + (f" to {high}" if high is not None else " up"), value)
        return value

    def workers(self, table: dict[str, Any], key: str) -> int | None:
        """A count of workers, or WORKERS_AUTO (None)."""
        value = table.get(key, WORKERS_AUTO)
        if value == WORKERS_AUTO:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_WORKERS:
            raise self._fail(key, f'"auto" or a whole number from 1 to {MAX_WORKERS}', value)
        return value

    def number(self, table: dict[str, Any], key: str, default: float, low: float, high: float | None = None) -> float:
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < low or (
            high is not None and value > high
        ):
            raise self._fail(key, f"a number from {low}" + (f" to {high}" if high is not None else " up"), value)
        return float(value)

    def path(self, key: str, value: Any) -> Path:
        if not isinstance(value, str) or not value or "\0" in value:
            raise self._fail(key, "a path (text, without NUL characters)", value)
        path = Path(value).expanduser()
        return path if path.is_absolute() else (self.base_dir / path).absolute()
