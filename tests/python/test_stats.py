"""Stats history and validation through the Python binding (docs/stats.md)."""

import sqlite3

import numpy as np
import pytest

import resonance


def test_record_history_and_verdict(tmp_path):
    with resonance.open(tmp_path / "a.db") as db:
        v = db.validate_stats()
        assert [f["code"] for f in v.errors] == ["empty_database"]
        assert v.snapshot["id"] is None and not v.passed
        db.upsert_node("a", embedding=np.array([1.0, 0.0], dtype=np.float32))
        db.upsert_node("b", embedding=np.array([0.0, 1.0], dtype=np.float32))
        db.add_edge("a", "b")
        s = db.record_stats("first", {"run": 1})
        assert (s.nodes, s.edges, s.vectors, s.dimension) == (2, 1, 2, 2)
        assert s.label == "first" and s.meta == '{"run":1}'
        db.record_stats(meta='{"run": 2}')
        assert [f["code"] for f in db.validate_stats().warnings] == ["no_growth"]
        assert db.validate_stats(warn_no_growth=False).warnings == []
        assert db.health().stats["warnings"][0]["code"] == "no_growth"
        for i in range(4):
            db.record_stats(f"k{i}", keep=2)
        assert [h.label for h in db.stats_history()] == ["k3", "k2"]
        assert len(db.stats_history(1)) == 1


def test_bad_input_is_typed_and_writes_nothing(tmp_path):
    p = tmp_path / "a.db"
    with resonance.open(p) as db:
        db.record_stats()
        with pytest.raises(resonance.InvalidArgumentError):
            db.record_stats("x" * (10 * 1024 * 1024))
        with pytest.raises(resonance.InvalidArgumentError):
            db.record_stats(meta="{not json")
        with pytest.raises(resonance.InvalidArgumentError):
            db.record_stats(keep=0)
        with pytest.raises(resonance.InvalidArgumentError):
            db.validate_stats(max_shrink_ratio=float("nan"))
        assert len(db.stats_history()) == 1


def test_read_only_reads_history_and_refuses_to_record(tmp_path):
    p = tmp_path / "a.db"
    with resonance.open(p) as db:
        db.record_stats("rw")
    with resonance.open(p, read_only=True) as ro:
        with pytest.raises(resonance.ReadonlyError):
            ro.record_stats()
        assert [h.label for h in ro.stats_history(5)] == ["rw"]


def test_crafted_rows_are_corrupt(tmp_path):
    p = tmp_path / "a.db"
    with resonance.open(p) as db:
        db.record_stats()
    c = sqlite3.connect(p)
    c.execute(
        "INSERT INTO resonance_stats_history VALUES (9, 't', -1, 0, 0, 0, NULL, 0, 0, 0, NULL, NULL)"
    )
    c.commit()
    c.close()
    with resonance.open(p) as db:
        with pytest.raises(resonance.CorruptError, match="row 9"):
            db.stats_history()
        assert db.health().stats["errors"][0]["code"] == "stats_unreadable"


def test_external_replicator_refuses_truncate(tmp_path):
    with resonance.open(tmp_path / "a.db", external_replicator=True) as db:
        with pytest.raises(resonance.InvalidArgumentError, match="external_replicator"):
            db.checkpoint("truncate")
        db.checkpoint("passive")
        assert db.health().external_replicator is True
