"""`train` against enrolling the same people, through the real commands, run by hand:

    .venv/bin/python bench/train_vs_enroll.py [--people 600] [--photos 3]

Makes a folder per person, each with `--photos` photos drawn at random from the sample library's 118
celebrity photos, in a throw-away data folder; times `indexer enroll --folders` over them (decode,
detect, embed and store, start-up included), then `indexer train` over the faces it named (start-up
included). Goal: train at most a quarter of the enrol time for 600 people × 3 photos.

This is the hard case for train on both sides: the sample photos are the smallest a library holds
(~275 × 275 px, so enrolling them is quick; 12 MP photos take ~10× longer per photo), and since 600
"people" share 118 photos of five celebrities, their identities clash (the same face is named as
several people), which makes every SVM work longer than on real people. bench/train_scale.py measures
train alone on well-separated synthetic people at several sizes.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import tempfile
from pathlib import Path

from indexer.sample import cached_sample_library

from commands import indexer_in


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=600)
    parser.add_argument("--photos", type=int, default=3, help="photos per person (default 3)")
    args = parser.parse_args()
    sample = cached_sample_library()
    pool = sample.photos("train") + sample.photos("val")
    chooser = random.Random(0)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        indexer = indexer_in(tmp / "data")

        people = tmp / "people"
        for person in range(args.people):
            folder = people / f"person{person:04d}"
            folder.mkdir(parents=True)
            for number, photo in enumerate(chooser.sample(pool, args.photos)):
                shutil.copyfile(photo, folder / f"{number}{photo.suffix}")
        enroll_seconds, out = indexer("enroll", "--folders", str(people), "--json")
        enrolled = json.loads(out)
        print(f"enroll: {args.people} people, {len(enrolled['enrolled'])} photos named, "
              f"{len(enrolled['no_face'])} without a face: {enroll_seconds:.1f} s")
        train_seconds, out = indexer("train", "--json")
        report = json.loads(out)
        print(f"train: {len(report['people'])} people learnt: {train_seconds:.1f} s "
              f"= {train_seconds / enroll_seconds:.2f} of the enrol time (goal ≤ 0.25)")


if __name__ == "__main__":
    main()
