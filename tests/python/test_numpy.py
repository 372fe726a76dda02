"""numpy in and out: float32 arrays read in place, clear errors for anything else, arrays returned."""

from __future__ import annotations

import array
import pathlib
import tracemalloc

import numpy as np
import pytest

import resonance

from conftest import unit_rows


def test_vector_is_read_in_place() -> None:
    v = np.random.default_rng(1).standard_normal(1_000_000).astype(np.float32)
    assert resonance._native._vector_address(v) == v.ctypes.data
    # A read-only array too.
    v.flags.writeable = False
    assert resonance._native._vector_address(v) == v.ctypes.data


def test_matrix_is_read_in_place() -> None:
    m = unit_rows(10_000, 64)
    assert resonance._native._matrix_address(m) == m.ctypes.data


def test_float32_buffers_are_read_in_place() -> None:
    a = array.array("f", [1.0, 2.0, 3.0])
    assert resonance._native._vector_address(a) == a.buffer_info()[0]
    v = np.arange(8, dtype=np.float32)
    assert resonance._native._vector_address(memoryview(v)) == v.ctypes.data


def test_large_query_is_not_copied_by_the_binding(tmp_path: pathlib.Path) -> None:
    dim = 2_000_000  # 8 MB per vector
    rng = np.random.default_rng(2)
    with resonance.open(tmp_path / "big.db") as db:
        vecs = [rng.standard_normal(dim).astype(np.float32) for _ in range(3)]
        for i, v in enumerate(vecs):
            db.upsert_node(f"n{i}", embedding=v)
        db.search(vecs[0], k=3)  # warm the matrix
        tracemalloc.start()
        try:
            tracemalloc.reset_peak()
            hits = db.search(vecs[1], k=3, min_score=-1.0)
            db.set_embedding("n2", vecs[2])
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert hits[0].id == "n1"
        # numpy reports its allocations to tracemalloc: a copy of the 8 MB query would show here.
        assert peak < 1_000_000, f"peak traced allocation {peak} bytes: the query was copied"


def test_wrong_dtype_names_astype(db: resonance.Database) -> None:
    db.upsert_node("a", embedding=np.ones(3, np.float32))
    for bad in (np.ones(3), np.ones(3, np.float16), np.ones(3, np.int32)):
        with pytest.raises(resonance.InvalidArgumentError, match=r"astype\(np\.float32\)"):
            db.search(bad)
        with pytest.raises(resonance.InvalidArgumentError, match=r"astype\(np\.float32\)"):
            db.set_embedding("a", bad)
    with pytest.raises(resonance.InvalidArgumentError, match=r"astype\(np\.float32\)"):
        db.search(array.array("d", [1.0, 0.0, 0.0]))


def test_wrong_shape_and_layout(db: resonance.Database) -> None:
    db.upsert_node("a", embedding=np.ones(3, np.float32))
    with pytest.raises(resonance.InvalidArgumentError, match="1-D"):
        db.search(np.ones((1, 3), np.float32))
    with pytest.raises(resonance.InvalidArgumentError, match="ascontiguousarray"):
        db.search(np.ones(6, np.float32)[::2])
    with pytest.raises(resonance.InvalidArgumentError, match="2-D"):
        db.search_batch(np.ones(3, np.float32))
    with pytest.raises(resonance.InvalidArgumentError, match="ascontiguousarray"):
        db.search_batch(np.ones((3, 4), np.float32).T)
    with pytest.raises(resonance.InvalidArgumentError):
        db.search("abc")
    with pytest.raises(resonance.InvalidArgumentError):
        db.search([1.0, "x", 0.0])
    with pytest.raises(resonance.InvalidArgumentError, match="same length"):
        db.search_batch([[1.0, 0.0, 0.0], [1.0, 0.0]])


def test_lists_and_buffers_are_accepted(db: resonance.Database) -> None:
    db.upsert_node("a", embedding=[1, 0, 0])
    db.upsert_node("b", embedding=array.array("f", [0.0, 1.0, 0.0]))
    db.upsert_node("c", embedding=(0.0, 0.0, 1.0))
    assert [h.id for h in db.search([1.0, 0.1, 0.0])] == ["a", "b"]
    assert [h.id for h in db.search(memoryview(np.array([0, 0, 1], np.float32)))] == ["c"]


def test_embeddings_come_back_as_float32_arrays(db: resonance.Database) -> None:
    db.upsert_node("a", embedding=np.array([3, 4, 0], np.float32))
    e = db.get_embedding("a")
    assert isinstance(e, np.ndarray) and e.dtype == np.float32 and e.shape == (3,)
    np.testing.assert_allclose(e, [0.6, 0.8, 0.0], atol=1e-6)
    n = db.get_node("a", with_embedding=True)
    assert n is not None and n.embedding is not None and n.embedding.dtype == np.float32
    assert db.get_node("a").embedding is None  # type: ignore[union-attr]
    db.upsert_node("b")
    assert db.get_embedding("b") is None


def test_upsert_nodes_with_a_2d_array(db: resonance.Database) -> None:
    m = unit_rows(500, 16)
    n = db.upsert_nodes([{"id": f"n{i:03}", "type": "doc"} for i in range(500)], m)
    assert n == 500
    np.testing.assert_allclose(db.get_embedding("n123"), m[123], atol=1e-6)
    hits = db.search(m[42], k=1)
    assert hits[0].id == "n042" and abs(hits[0].score - 1.0) < 1e-5
    with pytest.raises(resonance.InvalidArgumentError, match="rows"):
        db.upsert_nodes([{"id": "x"}], m)


def test_search_batch_returns_arrays(db: resonance.Database) -> None:
    m = unit_rows(200, 8, seed=3)
    db.upsert_nodes([{"id": f"n{i:03}"} for i in range(200)], m)
    ids, scores = db.search_batch(m[:5], k=3)
    assert ids.shape == (5, 3) and ids.dtype == object
    assert scores.shape == (5, 3) and scores.dtype == np.float32
    assert list(ids[:, 0]) == [f"n{i:03}" for i in range(5)]
    np.testing.assert_allclose(scores[:, 0], 1.0, atol=1e-5)
    # The same answers as one search at a time.
    for i in range(5):
        single = db.search(m[i], k=3)
        assert [h.id for h in single] == list(ids[i])
    # Rows with fewer hits are padded with None / NaN.
    q = np.stack([m[0], -m[0]])
    ids, scores = db.search_batch(q, k=500)
    counts = [sum(x is not None for x in row) for row in ids]
    assert ids.shape[1] == max(counts) < 200 and min(counts) < max(counts)
    short = int(np.argmin(counts))
    assert ids[short, -1] is None and np.isnan(scores[short, -1])
    ids, scores = db.search_batch(np.zeros((0, 8), np.float32))
    assert ids.shape[0] == 0 and scores.shape[0] == 0
