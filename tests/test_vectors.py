from datetime import datetime

import numpy as np
import pytest
from sqlalchemy import delete

from indexer.vision.embed import l2_normalize
from indexer.vectors.index import VectorIndex, VectorKind


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


def near(vectors: np.ndarray, seed: int = 7) -> np.ndarray:
    """New faces of the same people: each of ``vectors`` moved a little."""
    return l2_normalize(vectors + np.random.default_rng(seed).normal(scale=0.05, size=vectors.shape).astype(np.float32))


def recall_at_10(approximate: VectorIndex, exact: VectorIndex, queries: np.ndarray) -> float:
    _, want = exact.search(queries, 10)
    _, got = approximate.search(queries, 10)
    return float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(want, got, strict=True)]))


def test_the_approximate_index_finds_the_exact_10_nearest_of_clustered_faces_and_survives_a_save(tmp_path):
    vectors = clustered(6000, people=300)
    ids = np.arange(10, 6010, dtype=np.int64)
    exact = VectorIndex.build(128, "exact", ids, vectors)
    approximate = VectorIndex.build(128, "hnsw", ids, vectors)
    assert approximate.kind == "hnsw" and len(approximate) == 6000
    assert sorted(approximate.ids()) == list(ids)
    queries = near(vectors[::30])
    assert recall_at_10(approximate, exact, queries) >= 0.99
    approximate.save(tmp_path / "hnsw.faiss")
    again = VectorIndex.read(tmp_path / "hnsw.faiss", 128)
    assert again.kind == "hnsw" and len(again) == 6000 and recall_at_10(again, exact, queries) >= 0.99


def test_a_removed_face_never_comes_back_not_even_after_a_save_and_more_faces(tmp_path):
    vectors = clustered(3000, people=150)
    ids = np.arange(1, 3001, dtype=np.int64)
    index = VectorIndex.build(128, "hnsw", ids, vectors)
    removed = ids[::7]
    assert index.remove([*removed, 99999]) == len(removed) and index.remove(removed) == 0
    assert len(index) == 3000 - len(removed) and not np.isin(index.ids(), removed).any()
    _, found = index.search(vectors[removed], 10)  # the removed faces themselves as queries
    assert not np.isin(found, removed).any() and (found >= 0).all()
    index.save(tmp_path / "v.faiss")
    again = VectorIndex.read(tmp_path / "v.faiss", 128)
    again.add(np.arange(3001, 3101, dtype=np.int64), near(vectors[:100]))  # a nightly run adds
    _, found = again.search(vectors, 30)
    assert not np.isin(found, removed).any() and len(again) == 3100 - len(removed)
    assert abs(again.deleted_share - len(removed) / 3100) < 1e-9


def test_the_exact_index_removes_for_real():
    index = VectorIndex.build(128, "exact", np.arange(1, 101, dtype=np.int64), clustered(100, people=10))
    assert index.remove([1, 2, 500]) == 2 and len(index) == 98 and index.deleted_share == 0


def test_the_library_switches_to_an_approximate_index_above_the_configured_size_and_back(fake_library, tmp_path):
    from indexer.db.models import Face, Photo

    library = fake_library("[search]\napproximate_above = 1000\n")
    assert library.vector_kind(999) == "exact" and library.vector_kind(1001) == "hnsw"
    assert library.vector_kind(600, current="hnsw") == "hnsw" and library.vector_kind(400, current="hnsw") == "exact"
    vectors = clustered(1200, people=60)
    with library.transaction() as session:
        photo = Photo(path="/photos/crowd.jpg", size=1, mtime_ns=1, indexed_at=datetime(2026, 1, 1))
        session.add(photo)
        session.add_all(Face(photo=photo, box_x=0, box_y=0, box_w=1, box_h=1, detection=1.0, landmarks={},
                             embedding=v.astype("<f4").tobytes(), embedding_model="facenet128") for v in vectors)
    index = library.checked_vectors("facenet128", 128)
    assert index.kind == "hnsw" and len(index) == 1200
    assert VectorIndex.read(library.vectors_path("facenet128"), 128).kind == "hnsw"  # written so
    exact = VectorIndex.build(128, "exact", np.arange(1, 1201, dtype=np.int64), vectors)
    assert recall_at_10(index, exact, near(vectors[::12])) >= 0.99  # at the switch-over point
    with library.transaction() as session:
        session.execute(delete(Face).where(Face.id > 1150))
    index.remove(range(1151, 1201))  # as a run does: the graph keeps tombstones (4 %)
    index.save(library.vectors_path("facenet128"))
    again = library.checked_vectors("facenet128", 128)
    assert again.deleted_share > 0 and sorted(again.ids()) == list(range(1, 1151))  # kept, not rebuilt
    with library.transaction() as session:
        session.execute(delete(Face).where(Face.id > 1000))
    again.remove(range(1001, 1151))
    again.save(library.vectors_path("facenet128"))
    rebuilt = library.checked_vectors("facenet128", 128)  # 17 % tombstones: built anew from the database
    assert rebuilt.kind == "hnsw" and rebuilt.deleted_share == 0 and sorted(rebuilt.ids()) == list(range(1, 1001))
    with library.transaction() as session:
        session.execute(delete(Face).where(Face.id > 500))
    assert library.checked_vectors("facenet128", 128).kind == "hnsw"  # 500: not yet below half of 1000
    with library.transaction() as session:
        session.execute(delete(Face).where(Face.id > 450))
    index = library.checked_vectors("facenet128", 128)
    assert index.kind == "exact" and sorted(index.ids()) == list(range(1, 451))


@pytest.mark.parametrize("kind", [VectorKind.EXACT, VectorKind.HNSW])
def test_the_count_read_from_a_file_header_is_what_faiss_reads_tombstones_taken_off(tmp_path, kind):
    from indexer.vectors.file import stored_vectors

    path = tmp_path / "faces.faiss"
    assert stored_vectors(path, 8) == 0
    index = VectorIndex.build(8, kind, np.arange(40), unit_vectors(40, 8))
    index.remove(np.arange(5))
    index.save(path)
    assert stored_vectors(path, 8) == len(VectorIndex.read(path, 8)) == 35
    assert stored_vectors(path, 16) is None  # another model's dimensions
    path.write_bytes(b"not faiss at all")
    assert stored_vectors(path, 8) is None
