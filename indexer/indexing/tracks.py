"""A video's faces, one per appearance: the faces found in its sampled frames, linked into tracks.

A *track* is one person's continuous appearance: a face of one sampled frame continues a track of the
frame before (SAMPLE gap at most MAX_GAP samples, no cut in between) when its embedding is within
LINK_DISTANCE of the track's last face, each face joining at most one track and each track taking at most
one face per frame, nearest pairs first — so two people seen together are never one track, and a face
that looks like nobody seen just before starts a new one. A track is kept as one face: its best frame
(the largest, sharpest, surest face: ``quality``) gives the box, the time and the detection score; the
mean of all its frames' embeddings (unit length again) is its embedding, what recognition, grouping and
search use; its span is the time from its first frame to its last.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# FaceNet L2 distance under which faces of consecutive samples are the same person: the same face a
# second apart is ~0.3–0.6, two people ~1.2–1.5 (docs/naming.md: 0.86 is the mean between photos).
LINK_DISTANCE = 0.8
MAX_GAP = 2  # samples a track may go unseen (a blink, a face turned away) and still go on


@dataclass
class FrameFace:
    """A face of a sampled frame: its time (seconds), box ([x, y, w, h], the video's upright pixels),
    detection score, landmarks, embedding (unit length) and sharpness (variance of the Laplacian of its
    grey crop)."""

    time: float
    box: tuple[int, int, int, int]
    confidence: float
    landmarks: dict[str, tuple[int, int]]
    vector: np.ndarray
    sharpness: float

    @property
    def quality(self) -> float:
        """How good a picture of the face it is: its size, sharpness and detection score together."""
        return min(self.box[2], self.box[3]) * self.confidence * self.sharpness / (self.sharpness + 50.0)


@dataclass
class Track:
    """One appearance: its faces in time order."""

    faces: list[FrameFace] = field(default_factory=list)
    last_sample: int = 0  # the index of the sample it was last seen in

    @property
    def best(self) -> FrameFace:
        return max(self.faces, key=lambda f: f.quality)

    @property
    def span(self) -> tuple[float, float]:
        return self.faces[0].time, self.faces[-1].time

    @property
    def vector(self) -> np.ndarray:
        mean = np.mean([f.vector for f in self.faces], axis=0)
        return (mean / (np.linalg.norm(mean) or 1.0)).astype(np.float32)


class Tracker:
    """Links the faces of sampled frames, given in time order, into tracks (see the module)."""

    def __init__(self):
        self.open: list[Track] = []
        self.done: list[Track] = []
        self.sample = -1

    def add(self, faces: list[FrameFace], after_cut: bool) -> None:
        """The faces of the next sampled frame; ``after_cut``: a cut comes just before it."""
        self.sample += 1
        if after_cut:
            self.done += self.open
            self.open = []
        live = [t for t in self.open if self.sample - t.last_sample <= MAX_GAP + 1]
        self.done += [t for t in self.open if t not in live]
        pairs = sorted((float(np.linalg.norm(t.faces[-1].vector - f.vector)), i, j)
                       for i, t in enumerate(live) for j, f in enumerate(faces))
        taken_tracks, taken_faces = set(), set()
        for distance, i, j in pairs:
            if distance > LINK_DISTANCE:
                break
            if i in taken_tracks or j in taken_faces:
                continue
            taken_tracks.add(i)
            taken_faces.add(j)
            live[i].faces.append(faces[j])
            live[i].last_sample = self.sample
        self.open = live + [Track([f], self.sample) for j, f in enumerate(faces) if j not in taken_faces]

    def tracks(self) -> list[Track]:
        """Every track, by the time it starts."""
        return sorted(self.done + self.open, key=lambda t: (t.span[0], t.best.box[0]))


def sharpness(grey: np.ndarray) -> float:
    """The variance of the Laplacian of a grey crop (float, any size): higher is sharper."""
    g = grey.astype(np.float32)
    laplacian = g[1:-1, :-2] + g[1:-1, 2:] + g[:-2, 1:-1] + g[2:, 1:-1] - 4 * g[1:-1, 1:-1]
    return float(laplacian.var()) if laplacian.size else 0.0
