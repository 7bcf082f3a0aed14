"""The command line: exit codes, stdout/stderr, JSON shapes. Indexing here uses the fake models."""

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from indexer.cli import app
from indexer.db import SCHEMA_HEAD

from support.photos import make_photo

SUMMARY_KEYS = ["scanned", "new", "changed", "unchanged", "removed", "moved", "kept", "companions", "limited", "faces_added", "faces_named", "names_lost", "errors",
                "remaining", "dates_ignored", "seconds"]
STATUS_KEYS = {"photos", "faces", "people", "labelled_faces", "vectors", "errors", "last_run"}


@pytest.fixture
def photos(tmp_path):
    root = tmp_path / "photos"
    make_photo(root / "a.jpg", faces=2, seed=1)
    make_photo(root / "b" / "c.jpg", faces=1, seed=2)
    return root


def test_index_json_prints_exactly_the_summary_keys_on_stdout(run, photos, use_fake_models):
    result = run("index", str(photos), "--json")
    summary = json.loads(result.stdout)
    assert list(summary) == SUMMARY_KEYS
    assert (summary["scanned"], summary["new"], summary["faces_added"], summary["errors"]) == (2, 2, 3, 0)


def test_index_text_lists_the_counts(run, photos, use_fake_models):
    result = run("index", str(photos))
    lines = dict(line.split(maxsplit=1) for line in result.stdout.splitlines())
    assert lines["new"] == "2" and lines["faces_added"] == "3" and set(lines) == set(SUMMARY_KEYS)


def test_status_after_a_run_counts_photos_faces_and_vectors(run, photos, use_fake_models):
    run("index", str(photos))
    result = run("status", "--json")
    status = json.loads(result.stdout)
    assert STATUS_KEYS <= set(status)
    assert (status["photos"], status["faces"], status["vectors"], status["errors"], status["people"]) == (2, 3, 3, 0, 0)
    assert status["last_run"]["status"] == "completed" and status["last_run"]["summary"]["new"] == 2
    text = run("status").stdout
    assert "faces           3" in text and "last_run        " in text and "completed" in text


def test_status_of_a_new_library_says_never(run):
    result = run("status")
    assert "photos          0" in result.stdout and "never" in result.stdout


def test_a_bad_file_is_reported_on_stderr_and_the_run_exits_0(run, photos, use_fake_models):
    (photos / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really")
    result = run("index", str(photos), "--json")
    assert json.loads(result.stdout)["errors"] == 1
    assert "broken.jpg" in result.stderr and "warning" in result.stderr


def test_a_root_that_does_not_exist_is_one_line_and_exit_1(run, tmp_path):
    result = run("index", str(tmp_path / "nowhere"), expect=1)
    assert result.stderr == f"indexer: error: folder to index does not exist: {tmp_path / 'nowhere'}\n"
    assert result.stdout == ""


def test_a_bad_config_is_one_line_and_exit_1(write_config):
    path = write_config("[detection]\nmin_confidence = 7\n", name="bad.toml")
    result = CliRunner().invoke(app, ["--config", str(path), "status"])
    assert result.exit_code == 1
    assert result.stderr == f"indexer: error: {path}: min_confidence must be a number from 0 to 1, not 7\n"


def test_bad_usage_exits_2_and_says_what_was_wrong(run):
    result = run("index", "--frobnicate", expect=2)
    assert result.stderr.strip().endswith("Error: No such option: --frobnicate") and result.stdout == ""
    result = run("no-such-command", expect=2)
    assert result.stderr.strip().endswith("Error: No such command 'no-such-command'.") and result.stdout == ""


def test_init_creates_the_database_and_tells_where_things_live(run, tmp_path):
    result = run("init", "--json")
    report = json.loads(result.stdout)
    assert report["schema"] == SCHEMA_HEAD and report["data_dir"] == str(tmp_path / "data")
    assert (tmp_path / "data" / "indexer.db").is_file()
    assert (tmp_path / "data").stat().st_mode & 0o777 == 0o700  # embeddings are biometric data
    assert report["model"] == "facenet128"


def test_models_list_marks_the_configured_model(run):
    result = run("models", "list", "--json")
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert rows["facenet128"]["configured"] and rows["facenet128"]["dimensions"] == 128
    assert rows["keras-facenet-20180402-114759"]["dimensions"] == 512
    assert not rows["keras-facenet-20180402-114759"]["configured"]


def test_models_fetch_of_an_unknown_model_is_exit_1(run):
    result = run("models", "fetch", "--model", "vgg", expect=1)
    assert result.stderr.startswith("indexer: error: unknown model 'vgg'")


def test_models_fetch_from_a_wrong_file_is_exit_1_with_the_way_out(run, tmp_path):
    (tmp_path / "w.h5").write_bytes(b"nope")
    result = run("models", "fetch", "--from", str(tmp_path / "w.h5"), expect=1)
    assert "is not the weights of facenet128" in result.stderr and "indexer models fetch --model facenet128" in result.stderr


def test_help_and_status_do_not_import_tensorflow(write_config):
    config = write_config()
    probe = (
        "import sys; from indexer.cli import app; from typer.testing import CliRunner; "
        f"r = CliRunner().invoke(app, ['--config', {str(config)!r}, 'status']); assert r.exit_code == 0, r.output; "
        "CliRunner().invoke(app, ['--help']); "
        "print(sorted(m for m in ('tensorflow', 'keras', 'mtcnn') if m in sys.modules))"
    )
    output = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert output.strip() == "[]"
