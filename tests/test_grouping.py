"""Grouping unnamed faces among hundreds of people (naming.grouping), on synthetic FaceNet-like faces
(support/crowds.py): no group mixes people in a crowd where the rule before chained them, look-alikes
stay apart, a person whose photos differ a lot stays one group, a burst of one stranger is one group."""

from __future__ import annotations

import numpy as np
import pytest

from indexer.naming import grouping
from indexer.naming.grouping import FaceToGroup
from support.crowds import coverage, crowd, faces, first_pass, group_faces, largest_shares, purity, sample_like


def plain(count: int) -> list[FaceToGroup]:
    return [FaceToGroup(photo=i, core_quality=True) for i in range(count)]


@pytest.mark.parametrize("seed", [0, 1])
def test_in_a_crowd_of_600_people_with_three_photos_each_no_group_mixes_people(seed):
    vectors, who = crowd(seed=seed)
    before = first_pass(vectors, plain(len(who)), link=0.95)
    assert purity(before, who) < 0.8  # the rule before chained people, as on the real crowd (0.782)
    labels = group_faces(vectors, plain(len(who)), link=0.95)
    assert purity(labels, who) >= 0.99
    assert coverage(labels) >= 0.5  # and still groups most faces


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_in_a_library_like_the_samples_each_person_is_one_group_of_most_of_their_faces(seed):
    vectors, who = sample_like(seed)
    labels = group_faces(vectors, plain(len(who)), link=0.95)
    assert purity(labels, who) >= 0.98
    assert min(largest_shares(labels, who, list(range(8)))) >= 0.8
    for person in range(8):  # one or two groups, never ten
        assert len(set(labels[(who == person) & (labels >= 0)].tolist())) <= 2


def test_two_look_alikes_among_strangers_are_never_one_group():
    # Two people 0.67 apart (siblings), 15 photos each, among 300 strangers of the crowd.
    rng = np.random.default_rng(4)
    base = rng.normal(size=128)
    base /= np.linalg.norm(base)
    sibling = base + 0.95 * rng.normal(size=128) / np.sqrt(128)
    sibling /= np.linalg.norm(sibling)
    assert 0.6 < np.linalg.norm(base - sibling) < 0.7  # their photos: 0.58 apart within a person, 0.84 across
    twins = np.stack([base] * 15 + [sibling] * 15) + 0.45 * rng.normal(size=(30, 128)) / np.sqrt(128)
    twins /= np.linalg.norm(twins, axis=1, keepdims=True)
    strangers, theirs = crowd(people=100, seed=5)
    vectors = np.concatenate([twins, strangers]).astype(np.float32)
    who = np.concatenate([[0] * 15, [1] * 15, 2 + theirs])
    labels = group_faces(vectors, plain(len(who)), link=0.95)
    assert not set(labels[:15].tolist()) & set(labels[15:30].tolist()) - {-1}
    assert purity(labels, who) >= 0.99


def test_a_burst_of_one_stranger_among_a_crowd_is_one_group():
    burst, _ = faces([12], people_dims=20, sigma=0.2, spread=0.3, seed=8)  # twelve photos in a minute
    others, _ = crowd(people=300, seed=9)
    vectors = np.concatenate([burst, others])
    who = np.concatenate([[0] * 12, 1 + np.repeat(np.arange(300), 3)])
    labels = group_faces(vectors, plain(len(who)), link=0.95)
    assert len(set(labels[:12].tolist())) == 1 and labels[0] >= 0
    assert set(who[labels == labels[0]].tolist()) == {0}


def test_each_face_gets_its_distance_to_its_group_and_doubtful_ones_are_unsure():
    vectors, who = sample_like(0)
    quality = [i % 10 != 3 for i in range(len(who))]  # every tenth face small or doubtful
    found = grouping.grouping(vectors, [FaceToGroup(i, q) for i, q in enumerate(quality)], link=0.95)
    grouped = found.labels >= 0
    assert np.all(np.isnan(found.distance[~grouped])) and np.all(found.distance[grouped] < 0.95 * 1.2)
    assert not found.sure[~grouped].any()
    doubtful = grouped & ~np.array(quality)
    assert doubtful.any() and not found.sure[doubtful].any()
    assert found.sure[grouped & np.array(quality)].mean() > 0.95
