from pathlib import Path

import pytest

from indexer.config import Config, load_config, parse_config
from indexer.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]


def test_without_any_file_the_built_in_defaults_apply():
    config = load_config()
    assert config.path is None
    assert config.library.roots == (Path("~/Pictures").expanduser(),)
    assert config.storage.data_dir == Path("~/.local/share/indexer").expanduser()
    assert config.embedding.model == "facenet128"


def test_the_repository_config_toml_documents_exactly_the_built_in_defaults():
    documented = load_config(REPO / "config.toml")
    defaults = Config()
    assert documented.library == defaults.library
    assert documented.storage == defaults.storage
    assert documented.detection == defaults.detection
    assert documented.embedding == defaults.embedding
    assert documented.search == defaults.search
    assert documented.runtime == defaults.runtime


def test_an_explicit_config_beats_the_environment_which_beats_the_working_folder(tmp_path, monkeypatch, isolated_home):
    for name in ("explicit", "env", "cwd", "user"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "config.toml").write_text(f'[storage]\ndata_dir = "{name}-data"\n')
    user_dir = tmp_path / "xdg-config" / "indexer"
    user_dir.mkdir(parents=True)
    (user_dir / "config.toml").write_text((tmp_path / "user" / "config.toml").read_text())
    (isolated_home / "config.toml").write_text((tmp_path / "cwd" / "config.toml").read_text())
    monkeypatch.setenv("INDEXER_CONFIG", str(tmp_path / "env" / "config.toml"))

    assert load_config(tmp_path / "explicit" / "config.toml").storage.data_dir == tmp_path / "explicit" / "explicit-data"
    assert load_config().storage.data_dir == tmp_path / "env" / "env-data"
    monkeypatch.delenv("INDEXER_CONFIG")
    assert load_config().storage.data_dir == isolated_home / "cwd-data"
    (isolated_home / "config.toml").unlink()
    assert load_config().storage.data_dir == user_dir / "user-data"


def test_relative_paths_resolve_against_the_config_files_folder_and_tilde_expands(tmp_path):
    config = parse_config(
        {"library": {"roots": ["photos", "~/Pictures"]}, "embedding": {"models_dir": "weights"}}, base_dir=tmp_path
    )
    assert config.library.roots == (tmp_path / "photos", Path.home() / "Pictures")
    assert config.embedding.models_dir == tmp_path / "weights"
    assert config.storage.url == f"sqlite:///{Path.home()}/.local/share/indexer/indexer.db"


def test_environment_overrides_data_and_models_folders(write_config, monkeypatch, isolated_home):
    monkeypatch.setenv("INDEXER_DATA_DIR", "elsewhere")
    monkeypatch.setenv("INDEXER_MODELS_DIR", "/opt/weights")
    config = load_config(write_config())
    assert config.storage.data_dir == isolated_home / "elsewhere"
    assert config.embedding.models_dir == Path("/opt/weights")


def test_the_environment_can_name_the_database_and_a_bad_url_is_one_line(write_config, monkeypatch, isolated_home):
    monkeypatch.setenv("INDEXER_DATABASE_URL", "postgresql+psycopg://indexer@db.lan/photos")
    assert load_config(write_config()).storage.url == "postgresql+psycopg://indexer@db.lan/photos"
    monkeypatch.setenv("INDEXER_DATABASE_URL", "sqlite:///here.db")  # relative: to the current folder
    assert load_config(write_config()).storage.url == f"sqlite:///{isolated_home / 'here.db'}"
    monkeypatch.setenv("INDEXER_DATABASE_URL", "not a url")
    with pytest.raises(ConfigError, match=r"^\$INDEXER_DATABASE_URL: url must be a database URL like sqlite:////path/indexer.db"):
        load_config(write_config())


def test_extensions_are_normalised_to_lower_case_without_dots():
    config = parse_config({"library": {"extensions": [".JPG", "Heic"]}}, base_dir=Path("/"))
    assert config.library.extensions == {"jpg", "heic"}


@pytest.mark.parametrize(
    "text, message",
    [
        ("[detection]\nmin_face_sise = 20\n", "unknown key 'min_face_sise' in [detection]"),
        ("[detection]\nmin_confidence = 2\n", "min_confidence must be a number from 0 to 1, not 2"),
        ("[detection]\nmin_face_size = 5\n", "min_face_size must be a whole number from 10 to 4000, not 5"),
        ("[embedding]\nbatch_size = \"big\"\n", "batch_size must be a whole number from 1 to 1024, not 'big'"),
        ("[library]\nroots = \"~/Pictures\"\n", "roots must be a list of non-empty strings"),
        ("[embedding]\nmodel = \"vgg\"\n", "model = 'vgg' is not a known model"),
        ("[librar]\nroots = []\n", "unknown section [librar]"),
        ("[library\n", "not valid TOML"),
    ],
)
def test_a_wrong_config_is_refused_with_the_file_and_key_named(write_config, text, message):
    path = write_config(text)
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert message in str(error.value)
    assert str(path) in str(error.value)


def test_a_missing_explicit_config_file_is_an_error(tmp_path, monkeypatch):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.toml")
    monkeypatch.setenv("INDEXER_CONFIG", str(tmp_path / "gone.toml"))
    with pytest.raises(ConfigError, match=r"from \$INDEXER_CONFIG"):
        load_config()


def test_a_key_of_an_earlier_version_is_a_warning_not_an_error(run, write_config):
    write_config("[search]\nprobes = 64\n")
    result = run("status")
    assert "[search] probes is no longer used (approximate search is an HNSW graph now" in result.stderr
