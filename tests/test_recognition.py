"""The labelling rule and the classifier, on synthetic embeddings (no models, no database)."""

import numpy as np
import pytest

from indexer.naming.classifier import ClassifierUnusable, SvmClassifier
from indexer.vision.embed import l2_normalize
from indexer.naming.labels import one_name_per_photo
from indexer.naming.recognize import Match, Recognizer, Thresholds, calibrate, trainable


def clusters(people: int, faces: int, spread: float = 0.05, seed: int = 0, dimensions: int = 128):
    """Unit vectors around ``people`` random centres: (vectors, person ids 1..people, centres)."""
    rng = np.random.default_rng(seed)
    centres = l2_normalize(rng.normal(size=(people, dimensions)))
    ids = np.repeat(np.arange(1, people + 1), faces)
    vectors = l2_normalize(centres[ids - 1] + spread * rng.normal(size=(len(ids), dimensions)))
    return vectors, ids, centres


def near(centre: np.ndarray, spread: float = 0.05, seed: int = 99) -> np.ndarray:
    return l2_normalize((centre + spread * np.random.default_rng(seed).normal(size=centre.shape))[None, :])


@pytest.mark.parametrize("people", [2, 4])
def test_the_stored_classifier_gives_the_same_probabilities_as_scikit_learn(people):
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.model_selection import StratifiedKFold
    from sklearn.svm import LinearSVC

    vectors, ids, _ = clusters(people, 8, spread=0.3)
    ours = SvmClassifier.fit(vectors, ids)
    theirs = CalibratedClassifierCV(
        LinearSVC(C=1.0, class_weight="balanced", random_state=0), method="sigmoid",
        cv=StratifiedKFold(5, shuffle=True, random_state=0), ensemble=False,
    ).fit(vectors.astype(np.float64), ids)
    queries = l2_normalize(np.random.default_rng(5).normal(size=(20, 128)))
    np.testing.assert_allclose(ours.probabilities(queries), theirs.predict_proba(queries), atol=1e-9)
    assert list(ours.classes) == list(theirs.classes_)


def test_a_saved_classifier_loads_back_only_with_its_checksum(tmp_path):
    vectors, ids, _ = clusters(3, 5)
    classifier = SvmClassifier.fit(vectors, ids)
    path = tmp_path / "classifiers" / "c.npz"
    sha = classifier.save(path, {"people": {"1": "ann"}})
    loaded = SvmClassifier.load(path, sha)
    np.testing.assert_array_equal(loaded.probabilities(vectors), classifier.probabilities(vectors))
    data = bytearray(path.read_bytes())
    data[-10] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(ClassifierUnusable, match="does not match its recorded checksum"):
        SvmClassifier.load(path, sha)
    with pytest.raises(ClassifierUnusable, match="cannot read the classifier"):
        SvmClassifier.load(tmp_path / "missing.npz", sha)


def test_a_classifier_file_holding_pickled_objects_is_never_unpickled(tmp_path):
    import hashlib
    import io

    buffer = io.BytesIO()
    np.savez(buffer, classes=np.array([object()], dtype=object), weights=np.zeros((1, 2)), intercepts=np.zeros(1),
             sigmoid_a=np.zeros(1), sigmoid_b=np.zeros(1))
    path = tmp_path / "evil.npz"
    path.write_bytes(buffer.getvalue())
    with pytest.raises(ValueError, match="allow_pickle"):
        SvmClassifier.load(path, hashlib.sha256(buffer.getvalue()).hexdigest())


def recognizer_for(people=3, faces=6, max_distance=0.8, min_probability=0.6):
    vectors, ids, centres = clusters(people, faces)
    return Recognizer(vectors, ids, SvmClassifier.fit(vectors, ids), Thresholds(max_distance, min_probability)), centres


def test_a_face_near_a_known_person_gets_their_name_and_a_stranger_stays_unknown():
    recognizer, centres = recognizer_for()
    stranger = l2_normalize(np.random.default_rng(7).normal(size=(1, 128)))
    known, unknown = recognizer.match(np.vstack([near(centres[1]), stranger]))
    assert known is not None and known.person_id == 2 and known.score >= 0.6 and known.distance < 0.8
    assert unknown is None


def test_nearest_neighbours_and_the_svm_must_agree():
    recognizer, centres = recognizer_for()

    class DisagreeingSvm:
        classes = np.array([1, 2, 3])

        def probabilities(self, vectors):
            return np.tile([0.05, 0.05, 0.9], (len(vectors), 1))  # always says person 3

    recognizer.classifier = DisagreeingSvm()
    assert recognizer.match(near(centres[0])) == [None]
    assert recognizer.match(near(centres[2]))[0].person_id == 3


def test_an_svm_probability_below_the_threshold_means_unknown():
    recognizer, centres = recognizer_for(min_probability=0.999999)
    assert recognizer.match(near(centres[0])) == [None]


def test_with_one_person_nearest_neighbours_decide_and_the_score_is_the_cosine_similarity():
    vectors, ids, centres = clusters(1, 4)
    recognizer = Recognizer(vectors, ids, None, Thresholds(0.8, 0.0))
    (match,) = recognizer.match(near(centres[0]))
    assert match.person_id == 1
    assert match.score == pytest.approx(1 - match.distance**2 / 2, abs=1e-4)
    assert recognizer.match(l2_normalize(np.random.default_rng(3).normal(size=(1, 128)))) == [None]


def test_in_one_photo_a_person_goes_to_the_better_face_and_never_over_a_name_given_by_hand():
    decided = one_name_per_photo([
        ("a", "photo1", Match(1, 0.7, 0.5)),
        ("b", "photo1", Match(1, 0.9, 0.4)),
        ("c", "photo2", Match(1, 0.8, 0.4)),
        ("d", "photo3", Match(2, 0.99, 0.1)),
        ("e", "photo3", None),
    ], taken=[("photo3", 2)])
    assert decided == {"a": None, "b": Match(1, 0.9, 0.4), "c": Match(1, 0.8, 0.4), "d": None, "e": None}


def test_people_with_fewer_than_three_named_faces_are_not_trained():
    assert trainable(np.array([1, 1, 1, 2, 2, 3, 3, 3])).tolist() == [True, True, True, False, False, True, True, True]


def test_calibration_puts_the_distance_threshold_between_the_people_and_names_no_left_out_person():
    vectors, ids, _ = clusters(5, 8, spread=0.06)
    calibration = calibrate(vectors, ids, default_max_distance=1.2)
    thresholds = calibration.thresholds
    assert calibration.same_person_distance < thresholds.max_distance < calibration.different_person_distance
    assert 0.5 <= thresholds.min_probability < 1
    assert calibration.strangers_tested == 40 and calibration.strangers_named == 0
    assert calibration.accuracy == 1.0 and calibration.folds == 5
    assert all(scores.faces == 8 and scores.right == 8 for scores in calibration.per_person.values())
    assert "left-out people's nearest distances" in calibration.distance_source


def test_calibration_never_goes_above_the_models_limit():
    vectors, ids, _ = clusters(4, 6, spread=0.01)  # tight, far-apart people would allow a very loose threshold
    calibration = calibrate(vectors, ids, default_max_distance=0.9)
    assert calibration.thresholds.max_distance == 0.9
    assert "the model's limit" in calibration.distance_source


def test_calibration_of_a_single_person_uses_the_models_default_and_no_svm():
    vectors, ids, _ = clusters(1, 5)
    calibration = calibrate(vectors, ids, default_max_distance=1.0)
    assert calibration.thresholds.max_distance == 1.0 and calibration.thresholds.min_probability == 0.0
    assert calibration.probability_source == "no SVM (one person)"
    assert calibration.accuracy == 1.0


def test_with_many_people_each_is_learnt_against_their_nearest_and_the_rule_still_turns_strangers_away():
    from indexer.naming.classifier import NEAR_PEOPLE

    vectors, ids, _ = clusters(NEAR_PEOPLE + 20, 4, spread=0.06)
    classifier = SvmClassifier.fit(vectors, ids)
    probabilities = classifier.probabilities(vectors)
    assert np.allclose(probabilities.sum(axis=1), 1.0)
    assert (classifier.classes[probabilities.argmax(axis=1)] == ids).all()
    assert ((probabilities > 0).sum(axis=1) <= NEAR_PEOPLE + 1).all()  # only the nearest people share a face
    calibration = calibrate(vectors, ids, default_max_distance=1.2)
    # Above ten people they are left out a third at a time: still every face is a stranger once.
    assert calibration.strangers_tested == len(ids) and calibration.strangers_named == 0
    assert calibration.accuracy >= 0.95
    strangers = l2_normalize(np.random.default_rng(7).normal(size=(100, 128)))
    assert Recognizer(vectors, ids, classifier, calibration.thresholds).match(strangers) == [None] * 100


def test_platt_sigmoids_fitted_all_at_once_are_scikit_learns():
    from sklearn.calibration import _SigmoidCalibration

    from indexer.naming.classifier import _platt_sigmoids

    rng = np.random.default_rng(1)
    labels = [(rng.random(n) < 0.1).astype(int) | (np.arange(n) < 2) for n in (20, 150, 400)]
    decisions = [rng.normal(size=len(y)) + 2.5 * y - 1 for y in labels]
    a, b = _platt_sigmoids(decisions, labels)
    f = np.linspace(-3, 3, 50)
    for i, (d, y) in enumerate(zip(decisions, labels)):
        reference = _SigmoidCalibration().fit(d, y).predict(f)
        np.testing.assert_allclose(1 / (1 + np.exp(a[i] * f + b[i])), reference, atol=1e-6)


def test_a_linear_svm_fitted_through_liblinear_directly_is_linear_svcs_and_so_is_its_fallback(monkeypatch):
    import sys

    import sklearn.svm
    from sklearn.svm import LinearSVC

    from indexer.naming.classifier import SVM_C, linear_svm

    real_fit = LinearSVC.fit

    rng = np.random.default_rng(3)
    for faces in (60, 400):  # fewer faces than dimensions, and more
        vectors = l2_normalize(rng.normal(size=(faces, 128)))
        labels = (rng.random(faces) < 0.1).astype(np.int64) | (np.arange(faces) < 3)
        weights = rng.uniform(0.5, 2.0, faces)
        reference = LinearSVC(C=SVM_C, dual=True, random_state=0).fit(vectors, labels, sample_weight=weights)
        coefficients, intercept = linear_svm(vectors, labels, weights)
        np.testing.assert_array_equal(coefficients, reference.coef_[0])
        assert intercept == reference.intercept_[0]
        # Where scikit-learn has no such private binding, LinearSVC gives the same answer.
        fitted = []
        with monkeypatch.context() as patched:
            patched.delattr(sklearn.svm, "_liblinear")
            patched.setitem(sys.modules, "sklearn.svm._liblinear", None)  # importing it fails
            patched.setattr(LinearSVC, "fit", lambda self, *a, **k: fitted.append(1) or real_fit(self, *a, **k))
            fallback, fallback_intercept = linear_svm(vectors, labels, weights)
        assert fitted == [1]
        np.testing.assert_array_equal(fallback, coefficients)
        assert fallback_intercept == intercept


def test_stratified_folds_deal_each_label_round_every_fold():
    from indexer.naming.classifier import _stratified_folds

    labels = np.array([1] * 3 + [0] * 97)
    fold_of = _stratified_folds(labels, 3)
    assert sorted(fold_of[:3].tolist()) == [0, 1, 2]  # one positive face in each fold
    assert sorted(np.bincount(fold_of[3:]).tolist()) == [32, 32, 33]


def test_faces_named_as_different_people_that_are_the_same_picture_give_a_distance_of_0_not_below():
    vectors, ids, _ = clusters(12, 3, spread=0.05)
    copies = np.concatenate([vectors, vectors])  # every face again, named as somebody else
    calibration = calibrate(copies, np.concatenate([ids, ids + 100]), default_max_distance=1.0)
    assert calibration.thresholds.max_distance == 0.0
