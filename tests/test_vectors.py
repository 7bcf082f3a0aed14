from datetime import datetime

import numpy as np
from sqlalchemy import delete

from indexer.embed import l2_normalize
from indexer.vectors import VectorIndex


def clustered(n: int, people: int, seed: int = 0) -> np.ndarray:
    """``n`` unit vectors in ``people`` tight clusters, as faces of a few people are."""
    rng = np.random.default_rng(seed)
    centres = l2_normalize(rng.normal(size=(people, 128)).astype(np.float32))
    return l2_normalize(centres[np.arange(n) % people] + rng.normal(scale=0.04, size=(n, 128)).astype(np.float32))


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


def test_an_approximate_index_finds_the_exact_neighbours_of_clustered_faces_and_survives_a_save(tmp_path):
    vectors = clustered(6000, people=300)
    ids = np.arange(10, 6010, dtype=np.int64)
    exact = VectorIndex.build(128, "exact", ids, vectors)
    approximate = VectorIndex.build(128, "ivf", ids, vectors, probes=16)
    assert approximate.kind == "ivf" and len(approximate) == 6000
    assert sorted(approximate.ids()) == list(ids)
    queries = vectors[:50]
    _, want = exact.search(queries, 5)
    _, got = approximate.search(queries, 5)
    assert np.mean([len(set(a) & set(b)) / 5 for a, b in zip(want, got, strict=True)]) > 0.9
    assert approximate.remove([10, 11]) == 2 and 10 not in approximate.ids()
    approximate.save(tmp_path / "ivf.faiss")
    again = VectorIndex.read(tmp_path / "ivf.faiss", 128, probes=16)
    assert again.kind == "ivf" and len(again) == 5998


def test_the_library_switches_to_an_approximate_index_above_the_configured_size_and_back(fake_library, tmp_path):
    from indexer.db.models import Face, Photo

    library = fake_library("[search]\napproximate_above = 1000\n")
    assert library.vector_kind(999) == "exact" and library.vector_kind(1001) == "ivf"
    assert library.vector_kind(600, current="ivf") == "ivf" and library.vector_kind(400, current="ivf") == "exact"
    vectors = clustered(1200, people=60)
    with library.transaction() as session:
        photo = Photo(path="/photos/crowd.jpg", size=1, mtime_ns=1, indexed_at=datetime(2026, 1, 1))
        session.add(photo)
        session.add_all(Face(photo=photo, box_x=0, box_y=0, box_w=1, box_h=1, detection=1.0, landmarks={},
                             embedding=v.astype("<f4").tobytes(), embedding_model="facenet128") for v in vectors)
    index = library.checked_vectors("facenet128", 128)
    assert index.kind == "ivf" and len(index) == 1200
    assert VectorIndex.read(library.vectors_path("facenet128"), 128).kind == "ivf"  # written so
    with library.transaction() as session:
        session.execute(delete(Face).where(Face.id > 500))
    assert library.checked_vectors("facenet128", 128).kind == "ivf"  # 500: not yet below half of 1000
    with library.transaction() as session:
        session.execute(delete(Face).where(Face.id > 450))
    index = library.checked_vectors("facenet128", 128)
    assert index.kind == "exact" and sorted(index.ids()) == list(range(1, 451))
