"""Partial updates, merge patches, and the value types a user pickles, hashes and unpacks."""

from __future__ import annotations

import pathlib
import pickle
import re
import subprocess
import sys

import numpy as np
import pytest

import resonance


def test_update_node_keeps_what_is_not_given(db: resonance.Database) -> None:
    db.upsert_node("a", type="note", title="old", meta={"k": 1}, embedding=np.array([3, 4], np.float32))
    db.update_node("a", title="new")
    n = db.get_node("a", with_embedding=True)
    assert n is not None
    assert (n.title, n.type, n.meta) == ("new", "note", {"k": 1})
    assert n.embedding is not None and np.allclose(n.embedding, [0.6, 0.8])
    h = db.history("a")[-1]
    assert h.action == "update"
    assert h.old_value["title"] == "old" and h.new_value["title"] == "new"
    assert h.new_value["embedding"] == {"dimension": 2}
    # None clears; domain goes back to its default; embedding=None removes the vector.
    db.update_node("a", type=None, domain=None, embedding=None)
    n = db.get_node("a", with_embedding=True)
    assert n is not None
    assert (n.type, n.domain, n.title, n.embedding) == (None, "knowledge", "new", None)
    with pytest.raises(resonance.NotFoundError):
        db.update_node("missing", title="t")
    with pytest.raises(resonance.InvalidArgumentError, match="unknown field"):
        db.update_node("a", colour="red")
    with pytest.raises(resonance.InvalidArgumentError):
        db.update_node("a", title=3)


def test_merge_meta_is_a_json_merge_patch(db: resonance.Database) -> None:
    db.upsert_node("a", meta={"a": 1, "b": {"c": 2, "x": 0}})
    db.merge_meta("a", {"b": {"c": None, "d": 3}, "e": "new"})
    n = db.get_node("a")
    assert n is not None and n.meta == {"a": 1, "b": {"x": 0, "d": 3}, "e": "new"}
    h = db.history("a")[-1]
    assert h.action == "update_meta"
    assert h.old_value == {"a": 1, "b": {"c": 2, "x": 0}}
    assert h.new_value == n.meta
    with pytest.raises(resonance.NotFoundError):
        db.merge_meta("missing", {})
    with pytest.raises(resonance.InvalidArgumentError):
        db.merge_meta("a", "{not json")


def test_value_types_pickle_and_compare_by_value(db: resonance.Database) -> None:
    db.upsert_node("a", type="t", meta={"k": [1, 2]}, embedding=np.array([1, 0], np.float32))
    db.upsert_node("b", embedding=np.array([0, 1], np.float32))
    db.add_edge("a", "b", "cites", confidence=0.5)
    node = db.get_node("a", with_embedding=True)
    edge = db.edges_from("a")[0]
    hit = db.search(np.array([1, 0], np.float32), k=1)[0]
    history = db.history("a")[0]
    values: list[object] = [node, edge, hit, history, db.stats(), db.checkpoint("passive"), db.health()]
    for v in values:
        back = pickle.loads(pickle.dumps(v))
        assert type(back) is type(v)
        assert back == v, type(v).__name__
    back_node = pickle.loads(pickle.dumps(node))
    assert back_node.meta == {"k": [1, 2]} and back_node.embedding is not None
    # Hashable by value: Hit and Edge (immutable); Node is not (meta is a dict).
    assert hash(hit) == hash(pickle.loads(pickle.dumps(hit)))
    assert hash(edge) == hash(db.edges_from("a")[0])
    assert len({edge, db.edges_from("a")[0]}) == 1
    with pytest.raises(TypeError):
        hash(node)


def test_hit_is_a_typed_pair(db: resonance.Database) -> None:
    db.upsert_node("a", embedding=np.array([1, 0], np.float32))
    (hit,) = db.search(np.array([1, 0], np.float32), k=1)
    hid, score = hit
    assert (hid, score) == (hit.id, hit.score) == (hit[0], hit[1]) == ("a", pytest.approx(1.0))
    assert isinstance(hit, tuple) and len(hit) == 2
    assert repr(hit).startswith("Hit(id='a', score=")


def test_mypy_types_unpacked_hits(tmp_path: pathlib.Path) -> None:
    src = tmp_path / "use_hits.py"
    src.write_text(
        "import numpy as np\n"
        "import resonance\n"
        "def f(db: resonance.Database) -> None:\n"
        "    for id, score in db.search(np.zeros(2, np.float32)):\n"
        "        reveal_type(id)\n"
        "        reveal_type(score)\n"
        "        s: str = id\n"
        "        x: float = score\n"
    )
    r = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", str(src)],
        capture_output=True,
        text=True,
    )
    revealed = re.findall(r'Revealed type is "(?:builtins\.)?(\w+)"', r.stdout)
    assert revealed == ["str", "float"], r.stdout
    assert r.returncode == 0 and "error:" not in r.stdout, r.stdout


def test_with_on_a_closed_handle_raises_closed(db_path: pathlib.Path) -> None:
    db = resonance.open(db_path)
    db.close()
    with pytest.raises(resonance.ClosedError):
        with db:
            pass


def test_checkpoint_read_only_and_backup_read_only(db_path: pathlib.Path, tmp_path: pathlib.Path) -> None:
    with resonance.open(db_path) as db:
        db.upsert_node("a")
        copy = db.backup(tmp_path / "copy.db")
        with resonance.open(db_path, read_only=True) as ro:
            with pytest.raises(resonance.ReadonlyError):
                ro.checkpoint("passive")
            h = ro.health()
            assert (h.synchronous, h.temp_store) == ("NORMAL", "MEMORY")
    with resonance.open(copy, read_only=True) as ro:
        assert ro.get_node("a") is not None
    wal = pathlib.Path(str(db_path) + "-wal")
    assert wal.exists() and wal.stat().st_size == 0
