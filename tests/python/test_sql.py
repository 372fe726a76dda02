"""Application SQL from Python: db.execute / query / query_one / executemany / executescript, their
parameters and values, Row, the authorizer's refusals, transactions, read-only handles and interrupts."""

from __future__ import annotations

import collections
import hashlib
import json
import math
import pathlib
import subprocess
import sys
import threading
import time
from typing import Any, Iterator

import numpy as np
import pytest

import resonance

INFINITE = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"


@pytest.fixture
def app(db: resonance.Database) -> Iterator[resonance.Database]:
    db.executescript(
        "CREATE TABLE t(v);"
        "CREATE TABLE notes(id INTEGER PRIMARY KEY, node TEXT NOT NULL, body TEXT)"
    )
    yield db


def file_digest(path: pathlib.Path) -> dict[str, str]:
    out = {}
    for p in [path, path.with_name(path.name + "-wal")]:
        if p.exists():
            out[p.name] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


VALUES: list[Any] = [
    None,
    0,
    1,
    -1,
    2**63 - 1,
    -(2**63),
    0.0,
    -0.0,
    1.5,
    -1e308,
    5e-324,
    "",
    "plain",
    "unicode: é ☃ 𝄞 日本",
    "nul\x00inside\x00",
    b"",
    b"\x00\x01\xff" * 10,
]


@pytest.mark.parametrize("value", VALUES, ids=[repr(v)[:30] for v in VALUES])
def test_every_value_round_trips(app: resonance.Database, value: Any) -> None:
    app.execute("INSERT INTO t(v) VALUES (?)", (value,))
    row = app.query_one("SELECT v, typeof(v) FROM t")
    assert row is not None
    got = row[0]
    assert type(got) is type(value)
    assert got == value
    if isinstance(value, float):
        assert math.copysign(1.0, got) == math.copysign(1.0, value)
    assert row[1] == {type(None): "null", int: "integer", float: "real", str: "text", bytes: "blob"}[type(value)]


def test_bool_bytearray_memoryview_and_subclasses(app: resonance.Database) -> None:
    class MyInt(int):
        pass

    app.executemany(
        "INSERT INTO t(v) VALUES (?)",
        [(True,), (False,), (bytearray(b"ab"),), (memoryview(b"xyz"),), (MyInt(7),), (np.float64(2.5),)],
    )
    assert [r[0] for r in app.query("SELECT v FROM t ORDER BY rowid")] == [1, 0, b"ab", b"xyz", 7, 2.5]


def test_bad_values_name_the_parameter(app: resonance.Database) -> None:
    with pytest.raises(resonance.InvalidArgumentError, match=r"parameter 2 .*2\*\*63"):
        app.execute("INSERT INTO t(v) VALUES (?), (?)", (1, 2**63))
    with pytest.raises(resonance.InvalidArgumentError, match=r"parameter 1 .*got list"):
        app.execute("INSERT INTO t(v) VALUES (?)", ([1],))
    with pytest.raises(resonance.InvalidArgumentError, match=r'parameter "x".*got object'):
        app.execute("INSERT INTO t(v) VALUES (:x)", {"x": object()})
    with pytest.raises(resonance.InvalidArgumentError, match=r"parameter set 1: parameter 1 .*got dict"):
        app.executemany("INSERT INTO t(v) VALUES (?)", [(1,), ({},)])
    with pytest.raises(resonance.InvalidArgumentError, match="params must be a tuple or list"):
        app.execute("INSERT INTO t(v) VALUES (?)", "a")
    with pytest.raises(resonance.InvalidArgumentError, match="must be str"):
        app.execute("INSERT INTO t(v) VALUES (:x)", {1: 2})
    with pytest.raises(resonance.InvalidArgumentError, match="lone surrogate"):
        app.execute("INSERT INTO t(v) VALUES (?)", ("\ud800",))
    with pytest.raises(resonance.InvalidArgumentError, match="1 parameter"):
        app.execute("INSERT INTO t(v) VALUES (?)", (1, 2))
    assert app.query("SELECT * FROM t") == []


def test_positional_and_named_parameters(app: resonance.Database) -> None:
    app.execute("INSERT INTO notes(node, body) VALUES (?, ?)", ("a", "by position"))
    app.execute("INSERT INTO notes(node, body) VALUES (?2, ?1)", ["numbered", "b"])
    app.execute("INSERT INTO notes(node, body) VALUES (:node, @body)", {"node": "c", "@body": "named"})
    app.execute("INSERT INTO notes(node, body) VALUES ($node, :body)", {":node": "d", "body": "prefixed"})

    class Params(collections.abc.Mapping):  # type: ignore[type-arg]
        def __init__(self, d: dict[str, Any]) -> None:
            self.d = d

        def __getitem__(self, k: str) -> Any:
            return self.d[k]

        def __iter__(self) -> Iterator[str]:
            return iter(self.d)

        def __len__(self) -> int:
            return len(self.d)

    app.execute("INSERT INTO notes(node, body) VALUES (:node, :body)", Params({"node": "e", "body": "mapping"}))
    rows = app.query("SELECT node, body FROM notes ORDER BY id")
    assert rows == [("a", "by position"), ("b", "numbered"), ("c", "named"), ("d", "prefixed"), ("e", "mapping")]
    assert app.query_one("SELECT body FROM notes WHERE node = :n", {"n": "c"}) == ("named",)
    with pytest.raises(resonance.InvalidArgumentError, match="no value given"):
        app.execute("INSERT INTO notes(node, body) VALUES (:node, :body)", {"node": "x"})


def test_execute_result_and_rows(app: resonance.Database) -> None:
    r = app.execute("INSERT INTO notes(node, body) VALUES ('a', 'x')")
    assert (r.rowcount, r.lastrowid) == (1, 1)
    assert isinstance(r, resonance.ExecuteResult) and "rowcount=1" in repr(r)
    r = app.executemany("INSERT INTO notes(node, body) VALUES (?, ?)", [("b", "y"), ("c", None)])
    assert (r.rowcount, r.lastrowid) == (2, 3)
    assert app.execute("UPDATE notes SET body = 'z'").rowcount == 3
    assert app.execute("SELECT * FROM notes").rowcount == 0

    rows = app.query("SELECT id, node AS name, body FROM notes ORDER BY id")
    assert len(rows) == 3
    row = rows[1]
    assert isinstance(row, resonance.Row)
    assert row[0] == 2 and row[-1] == "z" and row[1:] == ("b", "z")
    assert row["name"] == "b" and row["NAME"] == "b" and row["id"] == 2
    assert len(row) == 3 and list(row) == [2, "b", "z"] and "b" in row
    ident, name, body = row
    assert (ident, name, body) == (2, "b", "z")
    assert row.keys() == ["id", "name", "body"]
    assert row.to_dict() == {"id": 2, "name": "b", "body": "z"}
    assert row.as_tuple() == (2, "b", "z")
    assert row == (2, "b", "z") and row != (2, "b") and row == rows[1] and row != rows[0]
    assert hash(row) == hash((2, "b", "z"))
    assert repr(row) == "Row(id=2, name='b', body='z')"
    # One tuple of column names per result.
    assert rows[0].keys() == rows[2].keys()
    with pytest.raises(IndexError):
        row[3]
    with pytest.raises(IndexError):
        row["missing"]
    assert app.query_one("SELECT * FROM notes WHERE id = ?", (99,)) is None
    assert app.query("SELECT * FROM notes WHERE id = ?", (99,)) == []


def test_a_failed_transaction_leaves_nodes_and_app_tables_untouched(
    app: resonance.Database, db_path: pathlib.Path
) -> None:
    app.upsert_node("kept", title="before")
    with pytest.raises(resonance.ConstraintError):
        with app.transaction():
            app.upsert_node("kept", title="changed")
            app.upsert_node("new-node")
            app.execute("INSERT INTO notes(id, node, body) VALUES (1, 'kept', 'first')")
            # The second row repeats the primary key: the call fails half-way.
            app.executemany(
                "INSERT INTO notes(id, node, body) VALUES (?, ?, ?)",
                [(2, "kept", "ok"), (1, "kept", "dup"), (3, "kept", "never")],
            )
    assert not app.in_transaction
    node = app.get_node("kept")
    assert node is not None and node.title == "before"
    assert app.get_node("new-node") is None
    assert app.query("SELECT * FROM notes") == []
    # Outside a transaction executemany is all or nothing too.
    with pytest.raises(resonance.ConstraintError, match="parameter set 1"):
        app.executemany("INSERT INTO notes(id, node) VALUES (?, ?)", [(5, "a"), (5, "b")])
    assert app.query("SELECT * FROM notes") == []
    # And a committed one keeps both.
    with app.transaction():
        app.upsert_node("both")
        app.execute("INSERT INTO notes(node) VALUES ('both')")
    assert app.get_node("both") is not None
    assert app.query_one("SELECT count(*) FROM notes")[0] == 1  # type: ignore[index]


@pytest.mark.parametrize(
    "sql",
    [
        "DROP TABLE nodes",
        "INSERT INTO nodes(id) VALUES ('raw')",
        "ATTACH DATABASE ':memory:' AS other",
        "PRAGMA journal_mode=DELETE",
        "BEGIN",
        "UPDATE edges SET confidence = 0",
        "CREATE INDEX nodes_title ON nodes(title)",
    ],
)
def test_authorizer_refusals_leave_the_file_byte_identical(
    app: resonance.Database, db_path: pathlib.Path, sql: str
) -> None:
    app.upsert_node("a", title="t")
    app.checkpoint("truncate")
    before = file_digest(db_path)
    for call in (app.execute, app.query, app.query_one, app.executescript):
        with pytest.raises(resonance.InvalidArgumentError):
            call(sql)
    with pytest.raises(resonance.InvalidArgumentError):
        app.executescript(f"INSERT INTO notes(node) VALUES ('x'); {sql}")
    assert file_digest(db_path) == before
    assert app.query("SELECT * FROM notes") == []
    assert app.stats().nodes == 1
    assert app.query_one("PRAGMA journal_mode") == ("wal",)


def test_read_only_handle(db_path: pathlib.Path) -> None:
    with resonance.open(db_path) as db:
        db.executescript("CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT)")
        db.execute("INSERT INTO notes(body) VALUES ('x')")
    with resonance.open(db_path, read_only=True) as ro:
        assert ro.query("SELECT body FROM notes") == [("x",)]
        with pytest.raises(resonance.ReadonlyError):
            ro.execute("INSERT INTO notes(body) VALUES ('y')")
        with pytest.raises(resonance.ReadonlyError):
            ro.executemany("INSERT INTO notes(body) VALUES (?)", [("y",)])
        with pytest.raises((resonance.ReadonlyError, resonance.InvalidArgumentError)):
            ro.executescript("INSERT INTO notes(body) VALUES ('y')")
        assert ro.query("SELECT body FROM notes") == [("x",)]


@pytest.mark.parametrize("call", ["query", "query_one", "execute"])
def test_interrupt_from_another_thread(db: resonance.Database, call: str) -> None:
    timer = threading.Timer(0.3, db.interrupt)
    timer.start()
    t0 = time.monotonic()
    try:
        with pytest.raises(resonance.InterruptedError):
            getattr(db, call)(INFINITE)
    finally:
        timer.cancel()
    assert time.monotonic() - t0 < 5
    assert db.query_one("SELECT 1 + 1") == (2,)


CHILD = r"""
import json, os, signal, sys, threading, time
import resonance

db = resonance.open(sys.argv[1])
fired = []
def fire():
    fired.append(time.monotonic())
    os.kill(os.getpid(), signal.SIGINT)
threading.Timer(0.3, fire).start()
try:
    db.query(sys.argv[2])
    print(json.dumps({"stopped": False}))
except KeyboardInterrupt:
    latency = time.monotonic() - fired[0]
    print(json.dumps({"stopped": True, "latency": latency, "after": db.query_one("SELECT 2")[0]}))
"""


def test_ctrl_c_stops_a_long_query(tmp_path: pathlib.Path) -> None:
    r = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path / "c.db"), INFINITE],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["stopped"] and out["after"] == 2, out
    assert out["latency"] < 1.0, out


def test_allow_engine_writes_makes_a_raw_embedding_update_visible(db_path: pathlib.Path) -> None:
    a = np.array([1, 0, 0, 0], dtype=np.float32)
    b = np.array([0, 1, 0, 0], dtype=np.float32)
    with resonance.open(db_path) as db:
        db.upsert_node("a", embedding=a)
        db.upsert_node("b", embedding=b)
        with pytest.raises(resonance.InvalidArgumentError, match="nodes"):
            db.execute("UPDATE nodes SET embedding = ? WHERE id = 'b'", (a.tobytes(),))
    with resonance.open(db_path, allow_engine_writes=True) as db:
        assert db.search(a, k=1)[0].id == "a"
        target = np.array([0, 0, 1, 0], dtype=np.float32)
        r = db.execute("UPDATE nodes SET embedding = ? WHERE id = 'b'", (target.tobytes(),))
        assert r.rowcount == 1
        hit = db.search(target, k=1)[0]
        assert hit.id == "b" and hit.score == pytest.approx(1.0)


def test_executemany_of_ten_thousand_rows(app: resonance.Database) -> None:
    r = app.executemany(
        "INSERT INTO notes(node, body) VALUES (?, ?)",
        ((f"n{i}", f"body {i}") for i in range(10_000)),
    )
    assert r.rowcount == 10_000 and r.lastrowid == 10_000
    assert app.query_one("SELECT count(*), max(id), min(body) FROM notes") == (10_000, 10_000, "body 0")
    stats = app.query("SELECT node FROM notes WHERE id > ?", (9_990,))
    assert [row["node"] for row in stats] == [f"n{i}" for i in range(9_990, 10_000)]


def test_executescript_and_statement_cache_option(db_path: pathlib.Path) -> None:
    with resonance.open(db_path, statement_cache_size=4) as db:
        db.executescript(
            """
            CREATE TABLE a(x INTEGER);
            INSERT INTO a VALUES (1);
            INSERT INTO a VALUES (2);
            """
        )
        for i in range(20):
            assert db.query_one(f"SELECT x + {i} FROM a WHERE x = ?", (1,)) == (1 + i,)
        with pytest.raises(resonance.InvalidArgumentError, match="more than one statement"):
            db.execute("INSERT INTO a VALUES (3); INSERT INTO a VALUES (4)")
        with pytest.raises(resonance.SqliteError):
            db.executescript("INSERT INTO a VALUES (5); INSERT INTO missing VALUES (6)")
        assert [r[0] for r in db.query("SELECT x FROM a ORDER BY x")] == [1, 2]
    with pytest.raises(resonance.InvalidArgumentError):
        resonance.open(db_path, statement_cache_size=-1)


def test_closed_handle_refuses_sql(db_path: pathlib.Path) -> None:
    db = resonance.open(db_path)
    db.close()
    with pytest.raises(resonance.ClosedError):
        db.query("SELECT 1")
    with pytest.raises(resonance.ClosedError):
        db.execute("SELECT 1")
