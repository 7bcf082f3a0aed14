"""Peak memory of an index run as the library grows, run by hand:

    .venv/bin/python bench/memory.py [--sizes 10 40]

Makes 4000×3000 photos (as bench/speed.py does) and runs `indexer index` in a new process on libraries
of each size, with each engine, printing the peak resident memory (RSS) of each run, read by /usr/bin/time. Photos are
streamed (decoded one ahead, dropped after their faces are cropped), so the peak should not grow with
the number of photos; what does grow is a few hundred bytes per file of bookkeeping. (Between 10 and
20 photos TensorFlow's rises once, by ~300 MB: from the second batch of faces on, FaceNet runs as a traced
graph.)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from speed import make_canvases

from indexer.vision.engines import ENGINES
from indexer.sample import cached_sample_library

from commands import clean_environment


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 40])
    args = parser.parse_args()
    sample = cached_sample_library()
    portraits = sample.photos("val") + sample.photos("train")
    with tempfile.TemporaryDirectory() as tmp:
        photos = make_canvases(portraits, Path(tmp) / "all", max(args.sizes))
        for size in args.sizes:
            library = Path(tmp) / f"library-{size}"
            library.mkdir()
            for photo in photos[:size]:
                os.link(photo, library / photo.name)
            for engine in ENGINES:
                config = Path(tmp) / f"{engine}.toml"
                config.write_text(f'[runtime]\nengine = "{engine}"\n')
                env = clean_environment(Path(tmp) / f"data-{size}-{engine}")
                done = subprocess.run(
                    ["/usr/bin/time", "-f", "%M %e", sys.executable, "-m", "indexer", "-q", "-c", str(config), "index", str(library)],
                    capture_output=True, text=True, env=env, check=True,
                )
                peak_kib, seconds = done.stderr.strip().splitlines()[-1].split()
                print(f"{size:>4} photos of 12 MP, {engine:<10}: peak RSS {int(peak_kib) / 1024:6.0f} MB, {float(seconds):.1f} s")


if __name__ == "__main__":
    main()
