"""A video's faces, one per appearance: the faces found in its sampled frames, linked into tracks.

A *track* is one person's continuous appearance. A face of a sampled frame continues a track seen at most
MAX_GAP samples before, with no cut in between, when its embedding is within LINK_DISTANCE of the track's
last face — or within NEAR_LINK_DISTANCE when it is also near the same place (``geometry.near_in_time``:
a face moves little in a second or two, and a drawn or turning face changes its look more than its
place). A face the detector lost for up to LOST_SECONDS continues its track across a cut too (a flash, a
frame the cut test took for a new shot), but only near the same place *and* within NEAR_LINK_DISTANCE.
Each face joins at most one track and each track takes at most one face per frame, nearest pairs first —
so two people seen together are never one track, and a face that looks like nobody seen just before
starts a new one. A track is kept as one face: its best frame (the largest, sharpest, surest face:
``quality``) gives the box, the time and the detection score; the mean of all its frames' embeddings
(``embed.mean_face``) is its embedding, what recognition, grouping and search use; its span is the time
from its first frame to its last.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from indexer.geometry import near_in_time
from indexer.vision.embed import mean_face

# FaceNet L2 distance under which faces of consecutive samples are the same person: the same face a
# second apart is ~0.3–0.6, two people ~1.2–1.5 (docs/naming.md: 0.86 is the mean between photos).
LINK_DISTANCE = 0.8
MAX_GAP = 2  # samples a track may go unseen (a blink, a face turned away) and still go on
# Near the same place, a face that far from the track's last one is still the same person: under the
# distance between two people (~1.2–1.5), over what a turning or drawn face changes (docs/performance.md,
# "Hard faces")
NEAR_LINK_DISTANCE = 1.0
LOST_SECONDS = 1.0  # a track lost this long (seconds between sampled frames, beyond SAMPLE_EVERY) goes on after a cut


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
    cut_since: bool = False  # a cut came after it was last seen

    @property
    def best(self) -> FrameFace:
        return max(self.faces, key=lambda f: f.quality)

    @property
    def span(self) -> tuple[float, float]:
        return self.faces[0].time, self.faces[-1].time

    @property
    def vector(self) -> np.ndarray:
        return mean_face([f.vector for f in self.faces])


class Tracker:
    """Links the faces of sampled frames, given in time order, into tracks (see the module)."""

    def __init__(self, sample_every: float = 1.0):
        self.open: list[Track] = []
        self.done: list[Track] = []
        self.sample = -1
        self.sample_every = sample_every  # seconds between regular samples (video.SAMPLE_EVERY)

    def add(self, faces: list[FrameFace], after_cut: bool) -> None:
        """The faces of the next sampled frame; ``after_cut``: a cut comes just before it."""
        self.sample += 1
        at = faces[0].time if faces else None
        if after_cut:
            for track in self.open:
                track.cut_since = True
        live = [t for t in self.open if self._may_go_on(t, at)]
        self.done += [t for t in self.open if t not in live]
        pairs = sorted((float(np.linalg.norm(t.faces[-1].vector - f.vector)), i, j)
                       for i, t in enumerate(live) for j, f in enumerate(faces))
        taken_tracks, taken_faces = set(), set()
        for distance, i, j in pairs:
            if distance > NEAR_LINK_DISTANCE:
                break
            if i in taken_tracks or j in taken_faces or not self._links(live[i], faces[j], distance):
                continue
            taken_tracks.add(i)
            taken_faces.add(j)
            live[i].faces.append(faces[j])
            live[i].last_sample, live[i].cut_since = self.sample, False
        self.open = live + [Track([f], self.sample) for j, f in enumerate(faces) if j not in taken_faces]

    def _may_go_on(self, track: Track, at: float | None) -> bool:
        """Whether a track may still take a face of this sample (at ``at`` seconds; None: no face in it)."""
        if track.cut_since:
            last = track.faces[-1].time
            return at is None or at - last <= self.sample_every + LOST_SECONDS
        return self.sample - track.last_sample <= MAX_GAP + 1

    @staticmethod
    def _links(track: Track, face: FrameFace, distance: float) -> bool:
        """Whether ``face``, ``distance`` from the track's last face, continues it (see the module)."""
        if distance <= LINK_DISTANCE and not track.cut_since:
            return True
        return distance <= NEAR_LINK_DISTANCE and near_in_time(track.faces[-1].box, face.box)

    def tracks(self) -> list[Track]:
        """Every track, by the time it starts."""
        return sorted(self.done + self.open, key=lambda t: (t.span[0], t.best.box[0]))


def sharpness(grey: np.ndarray) -> float:
    """The variance of the Laplacian of a grey crop (float, any size): higher is sharper."""
    g = grey.astype(np.float32)
    laplacian = g[1:-1, :-2] + g[1:-1, 2:] + g[:-2, 1:-1] + g[2:, 1:-1] - 4 * g[1:-1, 1:-1]
    return float(laplacian.var()) if laplacian.size else 0.0
