"""Where a 12-megapixel photo's time goes, stage by stage, run by hand (about a minute):

    .venv/bin/python bench/speed_stages.py [--photos 8]

The same 4000×3000 composites as bench/speed.py, each stage of indexer's pipeline timed alone in one
process, models loaded and warm (ONNX): decoding to a Pillow image (and what an array of it would cost;
and decoding at 1/2 and 1/4 by JPEG's own scaling, for comparison), the copy for the detector (from the
image; from an array; by Pillow's ``reduce`` then bilinear), MTCNN's image pyramid, its networks with the
work between them, the crops, FaceNet on the photo's faces. Medians per photo, in ms. An index run does
the decoding, the copy and the pyramid in its reading thread, overlapped with the rest.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from PIL import Image

from indexer.config import Config, StorageConfig
from indexer.library import Library
from indexer.sample import cached_sample_library
from indexer.vision.cascade import pyramid
from indexer.vision.detect import PreparedPhoto, scaled_for_detection
from indexer.vision.imaging import crop_face, load_photo, load_upright

from speed import make_canvases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=int, default=8, help="how many 4000×3000 composites (default 8)")
    count = parser.parse_args().photos
    sample = cached_sample_library()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        canvases = make_canvases(sample.photos("val") + sample.photos("train"), work / "canvases", count + 1)
        library = Library(replace(Config(), storage=StorageConfig(data_dir=work / "data")))
        detector, embedder, margin = library.detector(), library.embedder(), library.config.embedding.margin
        detector.detect(load_photo(canvases[-1], 120))  # warm-up: the networks load and run once
        embedder.embed([np.zeros((embedder.input_size,) * 2 + (3,), np.uint8)] * 4)
        times: dict[str, list[float]] = {}

        def timed(stage: str, work):
            start = time.perf_counter()
            result = work()
            times.setdefault(stage, []).append((time.perf_counter() - start) * 1000)
            return result

        faces = 0
        for path in canvases[:count]:
            image = timed("decode + upright (Pillow image)", lambda: load_upright(path, 120))
            pixels = timed("  the image as an array", lambda: np.asarray(image))
            timed("decode at 1/2 (JPEG draft)", lambda: load_upright(path, 120, scale=0.5))
            timed("decode at 1/4 (JPEG draft)", lambda: load_upright(path, 120, scale=0.25))
            size = detector.working_size(*image.size)
            small = timed("copy for the detector (from the image)", lambda: scaled_for_detection(image, size))
            timed("  from the array instead", lambda: scaled_for_detection(pixels, size))
            timed("  reduce(3) + bilinear instead", lambda: np.asarray(
                image.reduce(3).resize(size, Image.Resampling.BILINEAR)))
            made = timed("image pyramid", lambda: pyramid(small))
            found = timed("networks and the work between", lambda: detector.detect(PreparedPhoto(small, image.size, made)))
            crops = timed("crops from the image", lambda: [crop_face(image, f.box, margin, embedder.input_size) for f in found])
            faces += len(crops)
            timed("FaceNet on the photo's faces", lambda: embedder.embed(crops))
        print(f"{count} photos of 12 MP, {faces} faces; ms per photo (median):")
        for stage, values in times.items():
            print(f"  {stage:<40}{statistics.median(values):7.1f}")


if __name__ == "__main__":
    main()
