"""What files built to hurt cost now, run by hand:

    .venv/bin/python bench/limits.py [--regions 1000 2000 5000 10000] [--seconds 60]

1. An XMP sidecar of N named face regions, each over no detected face (so each asks for a face to be
   drawn), beside a 4000×3000 photo: `indexer import-xmp --dry-run` and `indexer import-xmp`, each in a
   new process through the real command (ONNX), timed, with the peak resident memory of each. The regions
   are planned in time linear in N, at most ``[xmp] max_drawn_faces`` (200) are drawn whatever N, and the
   memory stays that of one batch of crops (before: 10 000 regions made 9 999 faces in 6.5 minutes and
   13.7 GB; 2 000 took 148 s, and --dry-run was quadratic in N).
2. A video of ``--seconds`` seconds at 25 frames a second, 640×360, whose every frame is another scene (a
   cut at each frame), with a face: `indexer index` of it with the default ``[library]
   max_cut_samples_per_minute`` (60) and with the limit lifted (3600): seconds and frames looked at (before,
   60 s of such film took 261 s).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from indexer.sample import cached_sample_library

from commands import clean_environment

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from support.videos import make_video  # noqa: E402
from support.xmp import region_item, regions_packet  # noqa: E402


PEAK = """
import resource, sys
from indexer.cli import main
sys.argv = ["indexer", *sys.argv[1:]]
try:
    main()
finally:
    print(f"peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}", file=sys.stderr)
"""


def run(data: Path, *args: str) -> tuple[float, float, str]:
    """`indexer -q ARGS` in a new process: (seconds, its peak resident memory in MB, stdout)."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", PEAK, "-q", *args], capture_output=True, text=True,
                          env=clean_environment(data))
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"indexer {' '.join(args)} failed ({done.returncode}):\n{done.stderr}")
    peak = int(done.stderr.rsplit("peak ", 1)[1].split()[0])
    return seconds, peak / 1024, done.stdout


def sidecars(regions: list[int]) -> None:
    print("XMP sidecars of N regions over no face, beside a 4000×3000 photo (faces drawn at most [xmp] max_drawn_faces)")
    print(f"{'regions':>8}  {'dry-run s':>9}  {'import s':>8}  {'drawn':>5}  {'peak MB':>7}")
    for count in regions:
        with tempfile.TemporaryDirectory() as folder:
            root, data = Path(folder) / "photos", Path(folder) / "data"
            root.mkdir()
            noise = np.random.default_rng(1).integers(0, 255, (3000, 4000, 3), dtype=np.uint8)
            Image.fromarray(noise).save(root / "crowd.jpg", quality=90)  # no face: every region asks for one
            run(data, "index", str(root))
            side = int(np.ceil(np.sqrt(count)))
            items = [region_item(f"P{n}", ((n % side + 0.5) / side, (n // side + 0.5) / side, 0.6 / side, 0.6 / side))
                     for n in range(count)]
            (root / "crowd.jpg.xmp").write_bytes(regions_packet(*items, dimensions=(4000, 3000)))
            dry, _, _ = run(data, "import-xmp", "--dry-run")
            seconds, peak, out = run(data, "import-xmp", "--json")
            print(f"{count:>8}  {dry:>9.1f}  {seconds:>8.1f}  {len(json.loads(out)['drawn']):>5}  {peak:>7.0f}")


def flicker(seconds: int) -> None:
    sample = cached_sample_library()
    with tempfile.TemporaryDirectory() as folder:
        scenes = [np.asarray(Image.open(sample.photos("val", person)[0]).convert("RGB").resize((640, 360)))
                  for person in ("madonna", "elton_john")]
        video = make_video(Path(folder) / "videos" / "flicker.mp4",
                           (scenes[i % 2] // (1 + (i // 2) % 2) for i in range(25 * seconds)), 25)
        print(f"a video of {seconds} s cutting at every frame (25 fps, 640×360)")
        for limit in (60, 3600):
            config = Path(folder) / f"limit-{limit}.toml"
            config.write_text(f"[library]\nmax_cut_samples_per_minute = {limit}\n")
            spent, peak, _ = run(Path(folder) / f"data-{limit}", "--config", str(config), "index", str(video.parent))
            print(f"  max_cut_samples_per_minute = {limit:>4}: {spent:.1f} s, peak {peak:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--regions", type=int, nargs="+", default=[1000, 2000, 5000, 10000])
    parser.add_argument("--seconds", type=int, default=60)
    options = parser.parse_args()
    sidecars(options.regions)
    flicker(options.seconds)


if __name__ == "__main__":
    main()
