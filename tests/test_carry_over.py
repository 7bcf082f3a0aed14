"""Which face of a re-read photo a name given by hand goes to (indexer.naming.labels.carry_over)."""

import numpy as np

from indexer.db.queries import ManualLabel
from indexer.vision.embed import l2_normalize
from indexer.naming.labels import carry_over

rng = np.random.default_rng(0)
ANN, BOB = l2_normalize(rng.normal(size=(2, 128)).astype(np.float32))
BOX = (100, 100, 80, 100)


def label(vector, box=BOX, model="facenet128", person=1):
    return ManualLabel(box, person, 1.0, np.asarray(vector, dtype="<f4").tobytes(), model, "Ann")


def near(vector, distance):
    """A unit vector ``distance`` (L2) from ``vector``."""
    other = l2_normalize(rng.normal(size=(1, 128)).astype(np.float32))[0]
    other -= vector * float(other @ vector)
    other /= np.linalg.norm(other)
    angle = 2 * np.arcsin(distance / 2)
    return (np.cos(angle) * vector + np.sin(angle) * other).astype(np.float32)


def test_a_name_goes_to_the_face_at_the_same_place_that_looks_the_same():
    boxes = [(400, 100, 80, 100), (104, 96, 78, 104)]
    placed, lost = carry_over([label(ANN)], boxes, np.stack([near(ANN, 0.2), near(ANN, 0.5)]), "facenet128")
    assert list(placed) == [1] and lost == []  # the face at the other place is nearer, but elsewhere


def test_a_name_never_goes_to_somebody_else_at_the_same_place():
    placed, lost = carry_over([label(ANN)], [BOX], np.stack([BOB]), "facenet128")
    assert placed == {} and len(lost) == 1


def test_a_face_a_bit_further_than_the_limit_is_not_the_same_face():
    assert carry_over([label(ANN)], [BOX], np.stack([near(ANN, 0.95)]), "facenet128")[0] == {}
    assert list(carry_over([label(ANN)], [BOX], np.stack([near(ANN, 0.85)]), "facenet128")[0]) == [0]


def test_after_a_change_of_model_a_name_goes_by_place_only_on_the_same_bytes():
    other_model = np.stack([l2_normalize(rng.normal(size=(1, 512)).astype(np.float32))[0]])
    assert list(carry_over([label(ANN)], [BOX], other_model, "keras-facenet-512", same_content=True)[0]) == [0]
    assert carry_over([label(ANN)], [BOX], other_model, "keras-facenet-512", same_content=False)[0] == {}


def test_two_names_never_go_to_one_face():
    placed, lost = carry_over([label(ANN), label(near(ANN, 0.3), person=2)], [BOX], np.stack([ANN]), "facenet128")
    assert [p.person_id for p in placed.values()] == [1] and [p.person_id for p in lost] == [2]
