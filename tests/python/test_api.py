"""The Python API over the whole core: store, vectors, graph, maintenance, transactions, life cycle."""

from __future__ import annotations

import pathlib
import subprocess
import sys

import numpy as np
import pytest

import resonance


def test_open_and_stats_from_a_fresh_interpreter(tmp_path: pathlib.Path) -> None:
    # The "done when" line.
    r = subprocess.run(
        [sys.executable, "-c", "import resonance; print(resonance.open('x.db').stats())"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("Stats(") and "nodes=0" in r.stdout


def test_generate_id() -> None:
    assert resonance.generate_id("./docs/README.md") == "docs-readme"
    assert resonance.generate_id("docs/My Note.MD") == "docs-my-note-md"
    assert resonance.generate_id("Über/ñ.md") == "ber"


def test_node_round_trip(db: resonance.Database) -> None:
    db.upsert_node(
        "a", type="doc", title="A", domain="d", layer="l", hash="h", summary="s",
        meta={"tags": ["x", "y"], "n": 1}, date="2026-01-01",
    )
    n = db.get_node("a")
    assert n is not None
    assert (n.id, n.type, n.title, n.domain, n.layer, n.hash, n.summary, n.date) == (
        "a", "doc", "A", "d", "l", "h", "s", "2026-01-01",
    )
    assert n.meta == {"tags": ["x", "y"], "n": 1}
    assert n.meta is n.meta  # parsed once
    assert n.meta_json is not None and '"tags"' in n.meta_json
    assert n.to_dict()["meta"] == {"tags": ["x", "y"], "n": 1}
    assert n == db.get_node("a")
    with pytest.raises(AttributeError):
        n.title = "B"  # type: ignore[misc]
    # The whole row is written: fields not given become NULL, domain/layer default.
    db.upsert_node("a", meta='{"raw": true}')
    n = db.get_node("a")
    assert n is not None and n.title is None and n.domain == "knowledge" and n.layer == "experience"
    assert n.meta == {"raw": True}
    assert db.get_node("missing") is None
    assert "Node(id=\"a\"" in repr(n)


def test_list_update_delete_history(db: resonance.Database) -> None:
    assert db.upsert_nodes([{"id": f"n{i}", "type": "doc" if i % 2 else "note"} for i in range(5)]) == 5
    assert [n.id for n in db.list_nodes()] == [f"n{i}" for i in range(5)]
    assert [n.id for n in db.list_nodes(type="doc")] == ["n1", "n3"]
    assert [n.id for n in db.list_nodes(limit=2, offset=1)] == ["n1", "n2"]
    db.update_meta("n0", {"k": "v"})
    assert db.get_node("n0").meta == {"k": "v"}  # type: ignore[union-attr]
    h = db.history("n0")
    assert [e.action for e in h] == ["insert", "update_meta"]
    assert h[1].new_value == {"k": "v"} or "k" in str(h[1].new_value)
    db.delete_node("n4")
    assert db.get_node("n4") is None
    assert db.stats().nodes == 4
    assert db.prune_history(keep_last=1) >= 1
    assert len(db.history("n0")) <= 1


def test_edges(db: resonance.Database) -> None:
    db.upsert_nodes([{"id": "a"}, {"id": "b"}, {"id": "c"}])
    assert db.add_edge("a", "b") is True
    assert db.add_edge("a", "b") is False
    assert db.add_edge("a", "b", "cites", confidence=0.5) is True
    assert db.add_edges([("b", "c"), ("c", "a", "cites"), {"source": "a", "target": "c", "veracity": 0.2}]) == 3
    out = db.edges_from("a")
    assert [(e.target, e.type) for e in out] == [("b", "cites"), ("b", "related_to"), ("c", "related_to")]
    assert out[0].confidence == 0.5 and out[2].veracity == 0.2
    db.upsert_edge("a", "b", "cites", confidence=0.9, context_source="manual")
    e = db.edges_from("a")[0]
    assert (e.confidence, e.context_source) == (0.9, "manual")
    assert e.to_dict()["type"] == "cites"
    assert [e.source for e in db.edges_to("c")] == ["a", "b"]
    db.delete_edge("a", "b", "cites")
    db.delete_edge("a", "b")
    assert [e.target for e in db.edges_from("a")] == ["c"]
    with pytest.raises(resonance.InvalidArgumentError):
        db.add_edges([{"source": "a", "target": "b", "weight": 3}])


def test_vectors(db: resonance.Database) -> None:
    db.upsert_node("a", type="doc", embedding=np.array([1, 0, 0], np.float32))
    db.upsert_node("b", type="note", embedding=np.array([1, 1, 0], np.float32))
    db.upsert_node("c", domain="other", embedding=np.array([0, 0, 1], np.float32))
    db.upsert_node("d")
    db.set_embedding("d", np.array([-1, 0, 0], np.float32))
    hits = db.search(np.array([1, 0.1, 0], np.float32))
    assert [h.id for h in hits] == ["a", "b"]  # only scores > 0 by default
    hid, score = hits[0]
    assert hid == "a" and 0.99 < score <= 1.0
    assert [h.id for h in db.search([1, 0.1, 0], min_score=-1.0)] == ["a", "b", "c", "d"]
    assert [h.id for h in db.search([1, 0.1, 0], type="note")] == ["b"]
    assert db.search([1, 0, 0], domain="other", min_score=-1)[0].id == "c"
    assert db.search([1, 0, 0], k=0) == []
    assert [h.id for h in db.search_like("a")] == ["b"]
    assert db.search([1, 0, 0], k=1, threads=1) == db.search([1, 0, 0], k=1)
    assert db.search([1, 0, 0], k=1)[0] == resonance.Hit("a", 1.0)
    info = db.vector_index_info()
    assert info["dimension"] == 3 and info["rows"] == 4
    assert db.stats().vectors == 4 and db.stats().dimension == 3

    assert info["memory"] == "matrix"


def test_vector_memory_codes_answers_like_the_matrix(tmp_path: pathlib.Path) -> None:
    rng = np.random.default_rng(3)
    vectors = rng.standard_normal((5000, 32)).astype(np.float32)
    path = tmp_path / "m.db"
    with resonance.open(path) as db:
        db.upsert_nodes([{"id": f"n{i:05d}", "domain": "ab"[i % 2], "embedding": v} for i, v in enumerate(vectors)])
    queries = rng.standard_normal((3, 32)).astype(np.float32)
    with resonance.open(path, vector_memory="matrix") as m, resonance.open(path, vector_memory="codes") as c:
        for q in queries:
            assert c.search(q, k=15) == m.search(q, k=15)
            assert c.search(q, k=5, domain="b", min_score=-1) == m.search(q, k=5, domain="b", min_score=-1)
        (ci, cs), (mi, ms) = c.search_batch(queries, k=4), m.search_batch(queries, k=4)
        assert ci.tolist() == mi.tolist() and cs.tobytes() == ms.tobytes()
        assert c.search_like("n00042") == m.search_like("n00042")
        assert (c.vector_index_info()["memory"], m.vector_index_info()["memory"]) == ("codes", "matrix")
    with pytest.raises(resonance.InvalidArgumentError, match="vector_memory"):
        resonance.open(path, vector_memory="f16")


def test_graph(db: resonance.Database) -> None:
    db.upsert_nodes([{"id": x} for x in "abcde"])
    db.add_edges([("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"), ("a", "ghost")])
    assert db.neighbors("c") == ["a", "b", "d"]
    assert db.successors("c") == ["a", "d"]
    assert db.predecessors("a") == ["c"]
    assert db.degree("c") == 3
    assert db.traverse("a") == ["a", "b", "c", "d"]
    assert db.traverse("a", max_depth=1) == ["a", "b"]
    assert db.shortest_path("a", "d") == ["a", "b", "c", "d"]
    assert db.shortest_path("d", "a") is None
    assert db.shortest_path("d", "a", direction="incoming") == ["d", "c", "b", "a"]
    assert db.shortest_path("d", "b", direction="both") == ["d", "c", "b"]
    assert db.traverse("d", direction="incoming") == ["d", "c", "b", "a"]
    assert db.traverse("e", direction="both") == ["e"]
    with pytest.raises(resonance.InvalidArgumentError, match="sideways"):
        db.traverse("a", direction="sideways")
    assert db.pagerank(alpha=None) == db.pagerank()  # None means the engine's default
    pr = db.pagerank()
    assert set(pr) == set("abcde") and abs(sum(pr.values()) - 1) < 1e-6
    bc = db.betweenness()
    assert bc["c"] > 0 and bc["e"] == 0
    assert set(db.betweenness(sample=2, seed=1)) == set("abcde")
    com = db.communities(seed=1)
    assert set(com.partition) == set("abcde") and isinstance(com.modularity, float)
    assert db.components() == [["a", "b", "c", "d"], ["e"]]
    assert db.adamic_adar("a", "d") > 0
    cands = db.link_candidates(limit=3)
    assert all(isinstance(s, str) and isinstance(t, str) and isinstance(x, float) for s, t, x in cands)
    assert all(isinstance(c, resonance.LinkCandidate) and c.score > 0 for c in cands)
    pillars = db.pillars(limit=2)
    assert len(pillars) == 2 and pillars[0].pagerank >= pillars[1].pagerank
    assert isinstance(pillars[0], resonance.Pillar) and pillars[0].degree == db.degree(pillars[0].id)
    assert len(db.pillars()) == 5  # the default limit is above 5
    g = db.graph_stats()
    assert (g.nodes, g.edges, g.skipped_edges) == (5, 4, 1)
    assert g.to_dict()["density"] == pytest.approx(4 / 20)
    with pytest.raises(resonance.NotFoundError):
        db.neighbors("nope")


def test_maintenance(db: resonance.Database, tmp_path: pathlib.Path) -> None:
    db.upsert_node("a", embedding=[1.0, 0.0])
    h = db.health()
    assert h.journal_mode == "wal" and h.quick_check == "ok" and h.write_probe == "ok"
    assert h.busy_timeout_ms == 5000 and h.foreign_keys is True
    assert h.schema["shape"] == "current" and h.vectors["count"] == 1
    assert h.problems == []
    assert "journal_mode" in h.to_dict()
    plan = db.migrate(dry_run=True)
    assert plan.dry_run is True and plan.steps == []
    dest = tmp_path / "copy.db"
    assert db.backup(dest) == dest and dest.exists()
    auto = db.backup()
    assert auto.exists() and auto.parent.name == "backups"
    c = db.checkpoint("truncate")
    assert c.busy == 0
    db.optimize()
    db.vacuum()
    with resonance.open(dest) as copy:
        assert copy.get_node("a") is not None


def test_transactions(db: resonance.Database) -> None:
    with db.transaction() as tx:
        assert tx is db and db.in_transaction
        db.upsert_node("a")
        db.upsert_node("b")
    assert not db.in_transaction
    assert db.stats().nodes == 2
    with pytest.raises(RuntimeError):
        with db.transaction():
            db.upsert_node("c")
            raise RuntimeError("boom")
    assert db.get_node("c") is None and not db.in_transaction
    db.begin()
    db.upsert_node("d")
    db.rollback()
    assert db.get_node("d") is None
    db.begin()
    db.upsert_node("e")
    db.commit()
    assert db.get_node("e") is not None
    with pytest.raises(resonance.InvalidArgumentError):
        db.commit()


def test_context_manager_and_close(db_path: pathlib.Path) -> None:
    with resonance.open(db_path) as db:
        db.upsert_node("a")
        assert not db.closed
    assert db.closed
    db.close()
    with pytest.raises(resonance.ClosedError):
        db.get_node("a")
    with resonance.open(db_path, read_only=True) as ro:
        assert ro.get_node("a") is not None and ro.read_only
    assert "closed" in repr(db)


def test_open_options(tmp_path: pathlib.Path) -> None:
    p = tmp_path / "deep" / "folder" / "db.sqlite"
    with resonance.open(p, busy_timeout_ms=2000, backup=False, migrate=True) as db:
        assert db.health().busy_timeout_ms == 2000
        assert db.path == p
        assert db.warnings == []
    with resonance.open(str(p), migrate=False, allow_destructive=False) as db:
        assert db.stats().nodes == 0


def test_long_calls_inside_a_transaction_join_it(db: resonance.Database) -> None:
    """Bulk writes and analytics inside `with db.transaction()` run in that transaction (on the
    caller's thread): a rollback discards them, and vacuum is refused as inside a transaction."""
    with pytest.raises(RuntimeError):
        with db.transaction():
            assert db.upsert_nodes([{"id": "a"}, {"id": "b"}]) == 2
            assert db.add_edges([{"source": "a", "target": "b"}]) == 1
            assert set(db.pagerank()) == {"a", "b"}
            with pytest.raises(resonance.InvalidArgumentError):
                db.vacuum()
            raise RuntimeError("roll back")
    assert db.get_node("a") is None and db.stats().edges == 0
    with db.transaction():
        db.upsert_nodes([{"id": "c"}])
    assert db.get_node("c") is not None
