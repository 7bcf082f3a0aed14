"""What a video costs to index, against its sampled frames as photos, and its memory, run by hand:

    .venv/bin/python bench/video.py [--minutes 1] [--long 10]

Makes a 1080p clip (30 fps, H.264, ``--minutes`` long) of 12-megapixel-style composites (bench/speed.py's:
portraits pasted on a blown-up backdrop, faces 60–640 px) panning slowly, with a cut to another composite
every 15 s, and the frames the index samples from it (one a second and the first after each cut) saved
as JPEGs (quality 92) — the same pictures, as photos. In one process with the models loaded and warm
(ONNX): times ``FaceAnalyser.read_video`` on the clip against ``FaceAnalyser.batches`` on the photos and
prints seconds per video-minute and the ratio (goal: at most 2×). Then, each in a new process through
`indexer index`, the peak resident memory for the clip and for a ``--long``-minute one (the same clip
repeated, remuxed without encoding): a video is streamed, so the two should be alike.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from indexer.config import load_config
from indexer.indexing.analyse import FaceAnalyser
from indexer.indexing.plan import ToRead
from indexer.indexing.scan import look_at
from indexer.library import Library
from indexer.sample import cached_sample_library, composite_photo
from indexer.vision.video import sample_frames

from commands import clean_environment

SIZE = (1920, 1080)
FPS = 30
CUT_EVERY = 15  # seconds


def make_clip(path: Path, composites: list[Path], minutes: float) -> None:
    import av

    canvases = [np.asarray(Image.open(c).convert("RGB").resize((2400, 1350))) for c in composites]
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = *SIZE, "yuv420p"
        stream.options = {"preset": "veryfast", "crf": "23"}
        for i in range(int(minutes * 60 * FPS)):
            canvas = canvases[(i // (CUT_EVERY * FPS)) % len(canvases)]
            x = (i % (CUT_EVERY * FPS)) * (canvas.shape[1] - SIZE[0]) // (CUT_EVERY * FPS)
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(canvas[135 : 135 + SIZE[1], x : x + SIZE[0]]), format="rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def repeat_clip(clip: Path, path: Path, times: int) -> None:
    """``clip`` ``times`` over, remuxed (no encoding)."""
    import av

    with av.open(str(clip)) as source, av.open(str(path), "w") as out:
        stream_in = source.streams.video[0]
        stream_out = out.add_stream_from_template(stream_in)
        length = None
        for turn in range(times):
            source.seek(0)
            last = 0
            for packet in source.demux(stream_in):
                if packet.dts is None:
                    continue
                last = max(last, packet.pts + (packet.duration or 0))
                if turn:
                    packet.pts += turn * length
                    packet.dts += turn * length
                packet.stream = stream_out
                out.mux(packet)
            length = length or last


def peak_mb(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(peak resident memory in MB, seconds) of a command run alone in a child process."""
    started = time.perf_counter()
    code = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    done = subprocess.run([sys.executable, "-c", code, *command], capture_output=True, text=True, env=env, check=True)
    return int(done.stdout.split()[-1]) / 1024, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=1.0, help="the clip's length (default 1)")
    parser.add_argument("--long", type=int, default=10, help="the long clip, in repeats of the clip (default 10)")
    args = parser.parse_args()
    sample = cached_sample_library()
    portraits = sample.photos("train")
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        composites = [composite_photo(portraits[(5 * k + 7) % len(portraits)], [portraits[(5 * k + j) % len(portraits)] for j in range(4)],
                                      [60, 120, 240, 480], (4000, 3000), rng, tmp / f"composite-{k}.jpg", blur=2) for k in range(4)]
        clip = tmp / "clips" / "clip.mp4"
        clip.parent.mkdir()
        started = time.perf_counter()
        make_clip(clip, composites, args.minutes)
        print(f"clip: {args.minutes:g} min of 1080p at {FPS} fps, {clip.stat().st_size / 1e6:.0f} MB "
              f"(encoded in {time.perf_counter() - started:.0f} s)")
        frames = tmp / "frames"
        frames.mkdir()
        sampled = 0
        for frame in sample_frames(clip, 120, lambda w, h: (w, h)):
            Image.fromarray(frame.pixels).save(frames / f"{frame.time:08.3f}.jpg", quality=92)
            sampled += 1
        print(f"sampled frames: {sampled}")

        library = Library(load_config(None))
        analyser = FaceAnalyser.for_library(library)
        photos = [ToRead(look_at(str(p)), None) for p in sorted(frames.glob("*.jpg"))]
        list(analyser.batches(photos[:4]))  # warm up both paths
        analyser.read_video(str(clip), lambda: False)
        started = time.perf_counter()
        found = analyser.read_video(str(clip))
        video_s = time.perf_counter() - started
        started = time.perf_counter()
        faces = sum(len(item.faces) for batch in analyser.batches(photos) for item in batch)
        photos_s = time.perf_counter() - started
        per_minute = 60 / (args.minutes * 60)
        print(f"the clip as a video: {video_s:.1f} s ({video_s * per_minute:.1f} s per video-minute), {len(found.faces)} appearances")
        print(f"its {sampled} frames as photos: {photos_s:.1f} s, {faces} faces")
        print(f"video / photos: {video_s / photos_s:.2f}")

        long_clip = tmp / "long" / "long.mp4"
        long_clip.parent.mkdir()
        repeat_clip(clip, long_clip, args.long)
        for label, folder in ((f"{args.minutes:g} min", clip.parent), (f"{args.minutes * args.long:g} min", long_clip.parent)):
            env = clean_environment(tmp / f"data-{folder.name}")
            peak, seconds = peak_mb([sys.executable, "-m", "indexer", "-q", "index", str(folder)], env)
            print(f"`indexer index` of the {label} clip: peak RSS {peak:.0f} MB, {seconds:.0f} s")


if __name__ == "__main__":
    main()
