"""The README is part of the interface: every command and every config key is documented there."""

from dataclasses import fields
from pathlib import Path

from indexer.cli import app, models_app
from indexer.config import DetectionConfig, EmbeddingConfig, LibraryConfig, RuntimeConfig, SearchConfig, StorageConfig

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def command_names(typer_app) -> list[str]:
    return [c.name or c.callback.__name__ for c in typer_app.registered_commands]


def test_the_first_two_commands_of_the_readme_are_demo_and_test():
    commands = [line.split("#")[0].strip() for line in README.split("```sh", 1)[1].split("```", 1)[0].splitlines()]
    assert [c for c in commands if c] == ["make demo", "make test"]


def test_every_command_has_a_section_in_the_readme():
    for name in command_names(app):
        assert f"### `indexer {name}" in README, name
    for name in command_names(models_app):
        assert f"`indexer models {name}" in README, name


def test_every_config_key_is_in_the_readme_table():
    for section, settings in [("library", LibraryConfig), ("storage", StorageConfig),
                              ("detection", DetectionConfig), ("embedding", EmbeddingConfig), ("search", SearchConfig),
                              ("runtime", RuntimeConfig)]:
        for field in fields(settings):
            assert f"| `[{section}] {field.name}` |" in README, (section, field.name)


def test_ci_runs_the_readme_test_command():
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text()
    assert "make test" in ci
