"""The documentation is part of the interface: the README is the front door (two commands, short), and
docs/ holds every command with every option of its `--help`, and every key of every config section."""

import re
from dataclasses import fields
from pathlib import Path

import click
import typer.main

from indexer.cli import app
from indexer.config import Config

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
COMMANDS = (ROOT / "docs" / "commands.md").read_text()
CONFIGURATION = (ROOT / "docs" / "configuration.md").read_text()


def commands() -> dict[str, click.Command]:
    """Every command, by its full name ("index", "models fetch")."""
    group = typer.main.get_command(app)
    found = {}
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found |= {f"{name} {sub}": subcommand for sub, subcommand in command.commands.items()}
        else:
            found[name] = command
    return found


def section(name: str) -> str:
    """The text of docs/commands.md under the heading of `indexer NAME` (up to the next heading)."""
    found = re.search(rf"^## [^\n]*`indexer {re.escape(name)}[ `][^\n]*\n(.*?)(?=^## |\Z)", COMMANDS, re.M | re.S)
    assert found is not None, f"docs/commands.md has no section for `indexer {name}`"
    return found.group(0)


def test_the_first_two_commands_of_the_readme_are_demo_and_test():
    commands_shown = [line.split("#")[0].strip() for line in README.split("```sh", 1)[1].split("```", 1)[0].splitlines()]
    assert [c for c in commands_shown if c] == ["make demo", "make test"]


def test_the_readme_is_a_front_door_that_fits_on_two_screens_and_its_links_lead_somewhere():
    assert len(README.splitlines()) <= 200
    for link in re.findall(r"\]\((docs/[^)#]+)", README):
        assert (ROOT / link).is_file(), link


def test_every_command_and_every_option_of_its_help_is_in_the_commands_doc():
    for name, command in commands().items():
        if command.hidden:
            continue
        text = section(name)
        for parameter in command.params:
            if getattr(parameter, "hidden", False) or isinstance(parameter, click.Argument):
                continue
            for option in [*parameter.opts, *parameter.secondary_opts]:
                if option.startswith("--"):
                    assert option in text, f"`indexer {name}`: {option} is not documented in docs/commands.md"


def test_every_config_key_of_every_section_is_in_the_configuration_doc():
    for section_field in fields(Config):
        if section_field.name == "path":
            continue
        for key in fields(section_field.default_factory):
            assert f"| `[{section_field.name}] {key.name}` |" in CONFIGURATION, (section_field.name, key.name)


def test_every_link_between_the_docs_leads_to_a_file():
    for page in (ROOT / "docs").glob("*.md"):
        for link in re.findall(r"\]\(([a-z-]+\.md)", page.read_text()):
            assert (ROOT / "docs" / link).is_file(), (page.name, link)


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci
