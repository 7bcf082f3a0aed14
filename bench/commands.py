"""What the benches share: the real `indexer` command in a new process, on a data folder of its own."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path


def clean_environment(data_dir: Path) -> dict[str, str]:
    """This process's environment without any INDEXER_* setting (the developer's own config must not
    reach a bench), and INDEXER_DATA_DIR = ``data_dir``."""
    return {k: v for k, v in os.environ.items() if not k.startswith("INDEXER_")} | {"INDEXER_DATA_DIR": str(data_dir)}


def indexer_in(data_dir: Path) -> Callable[..., tuple[float, str]]:
    """A function running `indexer -q ARGS...` with its data in ``data_dir``: it returns (seconds, its
    stdout); a failure ends the bench with the command's stderr."""
    env = clean_environment(data_dir)

    def indexer(*args: str) -> tuple[float, str]:
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "indexer", "-q", *args], capture_output=True, text=True, env=env)
        if done.returncode != 0:
            sys.exit(f"indexer {' '.join(args)} failed ({done.returncode}):\n{done.stderr}")
        return time.perf_counter() - start, done.stdout

    return indexer


def number_option(doc: str, option: str, default: int, help: str) -> int:
    """The one whole-number option of a bench (``--repeat``, ``--copies``), its ``doc`` shown by --help."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(option, type=int, default=default, help=help)
    return getattr(parser.parse_args(), option.lstrip("-"))
