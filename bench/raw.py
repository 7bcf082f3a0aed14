"""What a camera RAW costs to read, against the JPEG of the same picture, run by hand:

    .venv/bin/python bench/raw.py [--repeat 7]

Makes a 12-megapixel photo (4000×3000, as bench/speed.py makes them: portraits pasted on a blown-up
backdrop) and, from it, DNGs as cameras write RAWs (tests/support/raw.py: a 16-bit Bayer mosaic, 24 MB
uncompressed): with a full-size JPEG preview (Canon, Nikon, phones' ProRAW), with a small one (a quarter
of each side, as Sony's 1616×1080 beside a 24 MP mosaic: too small, so a half-size demosaic), and with
none. Times what the index does with each (``vision.imaging.load_upright``, the median of --repeat runs
after one warm-up), and a full-size demosaic for comparison, and prints the milliseconds and each against
the JPEG (goal: a RAW with a full-size preview at most 1.5× the JPEG).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from indexer.sample import cached_sample_library, composite_photo
from indexer.vision.imaging import DEFAULT_FORMATS, load_upright
from indexer.vision.raw import raw_frame

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from support.raw import write_dng  # noqa: E402


def median_ms(action, repeat: int) -> float:
    action()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=7, help="timed runs of each (default 7)")
    args = parser.parse_args()
    sample = cached_sample_library()
    portraits = sample.photos("train")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        jpeg = composite_photo(portraits[7], portraits[:3], [60, 160, 320], (4000, 3000), np.random.default_rng(0),
                               tmp / "photo.jpg", blur=2)
        with Image.open(jpeg) as image:
            picture = image.convert("RGB")
        files = {
            "JPEG (quality 92)": jpeg,
            "DNG, full-size JPEG preview": write_dng(tmp / "full-preview.dng", picture, "jpeg"),
            "DNG, preview 1/4 of each side": write_dng(tmp / "small-preview.dng", picture, "jpeg", preview_scale=0.25),
            "DNG, no preview": write_dng(tmp / "no-preview.dng", picture, None),
        }
        base = None
        print(f"{'file':34} {'MB':>5} {'read as':>8} {'size':>11} {'ms':>7} {'× JPEG':>7}")
        for label, path in files.items():
            ms = median_ms(lambda path=path: load_upright(path, 120, DEFAULT_FORMATS), args.repeat)
            base = base or ms
            how = raw_frame(path, 120).source if path.suffix == ".dng" else "JPEG"
            size = load_upright(path, 120, DEFAULT_FORMATS).size
            print(f"{label:34} {path.stat().st_size / 1e6:5.1f} {how:>8} {size[0]:>5}×{size[1]:<5} {ms:7.0f} {ms / base:7.2f}")
        import rawpy

        def full_demosaic() -> None:
            with rawpy.imread(str(files["DNG, no preview"])) as raw:
                raw.postprocess(use_camera_wb=True, output_bps=8)

        ms = median_ms(full_demosaic, max(3, args.repeat // 2))
        print(f"{'DNG, full-size demosaic (for scale)':34} {'':5} {'full':>8} {'4000×3000':>11} {ms:7.0f} {ms / base:7.2f}")


if __name__ == "__main__":
    main()
