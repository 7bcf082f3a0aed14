"""How `train` grows with the number of people, run by hand:

    .venv/bin/python bench/train_scale.py [--people 5 50 500 2000] [--faces 3]

Synthetic identities shaped like facenet128's: each person a random direction in 128-d, each face that
direction plus Gaussian noise, normalised, so that two faces of one person are ~0.86 apart (L2) and of
two people ~1.41 (facenet128 on the sample library: 0.86 and 1.44). For each library size it times what
`indexer train` computes (calibration with simulated strangers, cross-validation, the final SVM) and
prints the seconds, the seconds per named face, the thresholds, the cross-validated outcome of the
named faces (right, wrong, unknown), and how
many of a set of stranger faces (people nobody named) the trained rule names.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from indexer.vision.embed import l2_normalize
from indexer.naming.recognize import Recognizer, calibrate

NOISE = 0.0677  # per dimension: same-person L2 ≈ 0.86 after normalising
MODEL_LIMIT = 1.0  # facenet128's max_distance


def faces_of(people: int, faces: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    centres = l2_normalize(rng.normal(size=(people, 128)).astype(np.float32))
    ids = np.repeat(np.arange(people), faces)
    return l2_normalize(centres[ids] + rng.normal(scale=NOISE, size=(len(ids), 128)).astype(np.float32)), ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, nargs="+", default=[5, 50, 500, 2000])
    parser.add_argument("--faces", type=int, default=3, help="named faces per person (default 3)")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    strangers, _ = faces_of(200, 1, rng)
    print(f"{'people':>6} {'faces':>6} {'seconds':>8} {'ms/face':>8} {'max_dist':>8} {'min_prob':>8} {'right':>6} {'wrong':>6} "
          f"{'unknown':>7} {'strangers named':>16}")
    for people in args.people:
        vectors, ids = faces_of(people, args.faces, rng)
        start = time.perf_counter()
        calibration = calibrate(vectors, ids, MODEL_LIMIT, fit=True)
        classifier = calibration.classifier
        seconds = time.perf_counter() - start
        named = sum(m is not None for m in Recognizer(vectors, ids, classifier, calibration.thresholds).match(strangers))
        t = calibration.thresholds
        scores = calibration.per_person.values()
        right, wrong, unknown = (sum(getattr(s, k) for s in scores) for k in ("right", "wrong", "unknown"))
        print(f"{people:>6} {len(ids):>6} {seconds:>8.1f} {1000 * seconds / len(ids):>8.1f} {t.max_distance:>8.3f} "
              f"{t.min_probability:>8.3f} {right:>6} {wrong:>6} {unknown:>7} {named:>10} of {len(strangers)}", flush=True)


if __name__ == "__main__":
    main()
