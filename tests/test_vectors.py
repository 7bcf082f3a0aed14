import numpy as np

from indexer.embed import l2_normalize
from indexer.vectors import VectorIndex


def unit_vectors(n: int, d: int = 8, seed: int = 0) -> np.ndarray:
    return l2_normalize(np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32))


def test_search_finds_the_same_vector_at_distance_zero_by_face_id():
    index = VectorIndex(8)
    vectors = unit_vectors(5)
    index.add(np.array([10, 20, 30, 40, 50]), vectors)
    distances, ids = index.search(vectors[2], k=2)
    assert ids[0, 0] == 30 and distances[0, 0] < 1e-3
    assert 0 < distances[0, 1] <= 2


def test_removed_ids_are_no_longer_found_and_saved_files_read_back(tmp_path):
    index = VectorIndex(8)
    index.add(np.array([1, 2, 3]), unit_vectors(3))
    assert index.remove([2, 99]) == 1
    index.save(tmp_path / "vectors" / "v.faiss")
    again = VectorIndex.read(tmp_path / "vectors" / "v.faiss", 8)
    assert sorted(again.ids()) == [1, 3] and len(again) == 2
    assert [p.name for p in (tmp_path / "vectors").iterdir()] == ["v.faiss"]  # no temporary file left behind


def test_a_missing_damaged_or_other_dimension_file_reads_as_none(tmp_path):
    assert VectorIndex.read(tmp_path / "none.faiss", 8) is None
    (tmp_path / "junk.faiss").write_bytes(b"not faiss")
    assert VectorIndex.read(tmp_path / "junk.faiss", 8) is None
    VectorIndex(8).save(tmp_path / "eight.faiss")
    assert VectorIndex.read(tmp_path / "eight.faiss", 16) is None


def test_fewer_faces_than_asked_for_pad_with_minus_one():
    index = VectorIndex(8)
    index.add(np.array([7]), unit_vectors(1))
    _, ids = index.search(unit_vectors(1, seed=1), k=3)
    assert list(ids[0]) == [7, -1, -1]
