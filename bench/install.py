"""What the runtime install costs, measured with a fresh virtualenv, run by hand:

    .venv/bin/python bench/install.py [--keep]

1. `pip install -c constraints.txt .` (the runtime, no extras) into a new virtualenv, twice: the first
   fills pip's cache where it is cold, the second is timed (a warm cache: what a reinstall, an upgrade or
   a second machine behind the same cache costs). The virtualenv's size on disk, and its largest packages.
2. `indexer models fetch` in that virtualenv into an empty models folder holding only FaceNet's weights
   (copied from this machine's models folder; MTCNN's archive comes from the download cache): the time to
   build and check the four ONNX files, and that the runtime has no TensorFlow.
3. For comparison, the size of this repository's .venv (the test install: the reference, postgres,
   cluster and test extras).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def size_mb(path: Path) -> float:
    """Bytes on disk under ``path`` (as du counts them, links not followed), in MB (10^6)."""
    done = subprocess.run(["du", "-s", "--block-size=1", str(path)], capture_output=True, text=True, check=True)
    return int(done.stdout.split()[0]) / 1e6


def fresh_install(root: Path) -> tuple[Path, float, float]:
    """A new virtualenv at ``root`` with the runtime installed; its python, the install's seconds and the
    size of the virtualenv before it (pip and setuptools, as every virtualenv holds them), in MB."""
    shutil.rmtree(root, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(root)], check=True)
    python = root / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--upgrade", "pip"],
                   check=True)
    empty = size_mb(root)
    started = time.perf_counter()
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    "-c", str(REPO / "constraints.txt"), str(REPO)], check=True)
    return python, time.perf_counter() - started, empty


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the virtualenv and models folder (printed)")
    args = parser.parse_args()
    from indexer.config import Config
    from indexer.vision.weights import get_model, weights_file

    work = Path(tempfile.mkdtemp(prefix="indexer-install-"))
    try:
        _, first, _ = fresh_install(work / "venv")
        python, warm, empty = fresh_install(work / "venv")
        site = next((work / "venv" / "lib").glob("python3*/site-packages"))
        total = size_mb(work / "venv")
        print(f"runtime install: the virtualenv {total:.0f} MB on disk ({total * 1e6 / 2**20:.0f} MiB), of which "
              f"{total - empty:.0f} MB installed by `pip install .` and {empty:.0f} MB the empty virtualenv's own "
              f"pip and setuptools; pip install {warm:.1f} s from a warm cache (first run, whatever the cache "
              f"held: {first:.1f} s)")
        largest = sorted(((size_mb(p), p.name) for p in site.iterdir() if p.is_dir()), reverse=True)[:8]
        print("  largest: " + ", ".join(f"{name} {mb:.0f} MB" for mb, name in largest))
        has = subprocess.run([str(python), "-c", "import importlib.util as u; print([m for m in ('tensorflow', "
                              "'keras', 'tf2onnx', 'onnx', 'mtcnn', 'keras_facenet', 'cv2', 'psycopg', 'distributed') "
                              "if u.find_spec(m)])"], capture_output=True, text=True, check=True).stdout.strip()
        print(f"  of the extras' packages it holds: {has}")

        spec = get_model("facenet128")
        models = work / "models"
        models.mkdir()
        shutil.copy2(weights_file(spec, Config().embedding.models_dir), weights_file(spec, models))
        env = {k: v for k, v in os.environ.items() if not k.startswith("INDEXER_")} | {
            "INDEXER_MODELS_DIR": str(models), "INDEXER_DATA_DIR": str(work / "data")}
        started = time.perf_counter()
        subprocess.run([str(work / "venv" / "bin" / "indexer"), "models", "fetch"], check=True, env=env, cwd=work,
                       stdout=subprocess.DEVNULL)
        print(f"models fetch (build and check mtcnn-propose, -refine, -output and facenet128.onnx, MTCNN's weights "
              f"from the cached archive): {time.perf_counter() - started:.1f} s")
        print(f"the test install (this repository's .venv, every extra): {size_mb(REPO / '.venv'):.0f} MB")
    finally:
        if args.keep:
            print(f"kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
