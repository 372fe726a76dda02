"""Every error kind of docs/errors.md surfaces as its own `resonance.<Kind>Error` with `.code`."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import resonance

KINDS = {
    "invalid_argument": resonance.InvalidArgumentError,
    "invalid_vector": resonance.InvalidVectorError,
    "dimension_mismatch": resonance.DimensionMismatchError,
    "not_found": resonance.NotFoundError,
    "busy": resonance.BusyError,
    "readonly": resonance.ReadonlyError,
    "corrupt": resonance.CorruptError,
    "not_a_database": resonance.NotADatabaseError,
    "constraint": resonance.ConstraintError,
    "schema_unknown": resonance.SchemaUnknownError,
    "schema_too_new": resonance.SchemaTooNewError,
    "migration_failed": resonance.MigrationFailedError,
    "destructive_refused": resonance.DestructiveRefusedError,
    "closed": resonance.ClosedError,
    "io": resonance.IoError,
    "sqlite": resonance.SqliteError,
    "internal": resonance.InternalError,
    "interrupted": resonance.InterruptedError,
}


def other_process_sql(path: pathlib.Path, sql: str) -> None:
    """Runs SQL on the file from another process, as another program would (in this process Python's
    own sqlite3 would not share the engine's POSIX locks)."""
    code = "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.executescript(sys.argv[2]); c.commit(); c.close()"
    subprocess.run([sys.executable, "-c", code, str(path), sql], check=True)


def test_one_class_per_kind() -> None:
    assert resonance.error_codes() == list(KINDS)
    for code, cls in KINDS.items():
        assert issubclass(cls, resonance.Error)
        assert cls.code == code
        assert cls.__module__ == "resonance"
        assert getattr(resonance, cls.__name__) is cls
    assert len(set(KINDS.values())) == len(KINDS)
    # Argument-like errors are also ValueErrors, a missing entity a LookupError.
    assert issubclass(resonance.InvalidArgumentError, ValueError)
    assert issubclass(resonance.DimensionMismatchError, ValueError)
    assert issubclass(resonance.NotFoundError, LookupError)


@pytest.mark.parametrize("code", list(KINDS))
def test_mapping_of_every_kind(code: str) -> None:
    # The one mapping function, fed each engine error kind.
    with pytest.raises(KINDS[code]) as info:
        resonance._native._raise_engine_error(code)
    assert info.value.code == code
    assert type(info.value) is KINDS[code]


def test_panic_becomes_internal_error() -> None:
    with pytest.raises(resonance.InternalError, match="deliberate test panic") as info:
        resonance._native._panic_in_engine()
    assert info.value.code == "internal"
    # pyo3's PanicException derives from BaseException: make sure that is not what we got.
    assert isinstance(info.value, Exception)


def test_invalid_argument(db: resonance.Database) -> None:
    with pytest.raises(resonance.InvalidArgumentError) as info:
        db.upsert_node("")
    assert info.value.code == "invalid_argument"
    with pytest.raises(resonance.InvalidArgumentError):
        db.upsert_node("a", meta="{not json")
    with pytest.raises(resonance.InvalidArgumentError):
        db.checkpoint("sideways")


def test_invalid_vector(db: resonance.Database) -> None:
    db.upsert_node("a")
    for bad in ([0.0, 0.0, 0.0], [float("nan"), 1.0, 0.0], [], [float("inf"), 0.0, 1.0]):
        with pytest.raises(resonance.InvalidVectorError) as info:
            db.set_embedding("a", np.array(bad, dtype=np.float32))
        assert info.value.code == "invalid_vector"


def test_dimension_mismatch(db: resonance.Database) -> None:
    db.upsert_node("a", embedding=np.ones(4, np.float32))
    with pytest.raises(resonance.DimensionMismatchError) as info:
        db.upsert_node("b", embedding=np.ones(3, np.float32))
    assert (info.value.expected, info.value.got) == (4, 3)
    assert "4" in str(info.value) and "3" in str(info.value)
    with pytest.raises(resonance.DimensionMismatchError):
        db.search(np.ones(5, np.float32))


def test_not_found(db: resonance.Database) -> None:
    with pytest.raises(resonance.NotFoundError, match="nope"):
        db.delete_node("nope")
    with pytest.raises(resonance.NotFoundError):
        db.delete_edge("a", "b")
    with pytest.raises(resonance.NotFoundError):
        db.set_embedding("nope", np.ones(3, np.float32))
    with pytest.raises(resonance.NotFoundError):
        db.search_like("nope")


def test_busy(db_path: pathlib.Path) -> None:
    db = resonance.open(db_path, busy_timeout_ms=1000)
    # Another process holds the write lock (in this process, Python's own sqlite3 library would not
    # conflict with the engine's: POSIX locks are per process).
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(db_path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(resonance.BusyError) as info:
            db.upsert_node("a")
        assert info.value.code == "busy"
    finally:
        holder.communicate("done\n", timeout=30)
    db.upsert_node("a")
    db.close()


HOLD_LOCK = """
import sqlite3, sys
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.readline()
c.execute("ROLLBACK")
"""


def test_readonly(db_path: pathlib.Path) -> None:
    resonance.open(db_path).close()
    with resonance.open(db_path, read_only=True) as ro:
        assert ro.read_only
        assert ro.get_node("a") is None
        with pytest.raises(resonance.ReadonlyError):
            ro.upsert_node("a")


def test_corrupt(db_path: pathlib.Path) -> None:
    with resonance.open(db_path) as db:
        db.upsert_nodes([{"id": f"n{i}", "title": "x" * 200} for i in range(200)])
        db.checkpoint("truncate")
    size = db_path.stat().st_size
    with open(db_path, "r+b") as f:
        f.seek(4096)
        f.write(b"\xff" * (size - 4096))
    with pytest.raises(resonance.CorruptError):
        with resonance.open(db_path) as db:
            db.list_nodes()


def test_not_a_database(tmp_path: pathlib.Path) -> None:
    p = tmp_path / "junk.db"
    p.write_bytes(b"this is not sqlite " * 400)
    with pytest.raises(resonance.NotADatabaseError):
        resonance.open(p)
    assert p.read_bytes() == b"this is not sqlite " * 400


def test_constraint(db_path: pathlib.Path) -> None:
    with resonance.open(db_path) as db:
        db.upsert_node("a", title="t")
        other_process_sql(db_path, "CREATE UNIQUE INDEX one_title ON nodes(title);")
        with pytest.raises(resonance.ConstraintError, match="UNIQUE"):
            db.upsert_node("b", title="t")


def test_a_planted_trigger_never_fires_for_engine_writes(db_path: pathlib.Path) -> None:
    with resonance.open(db_path) as db:
        db.upsert_node("a")
        other_process_sql(db_path, "CREATE TRIGGER no_insert BEFORE INSERT ON nodes BEGIN SELECT RAISE(ABORT, 'no inserts'); END;")
        db.upsert_node("b")
        assert db.get_node("b") is not None


def test_schema_unknown(tmp_path: pathlib.Path) -> None:
    p = tmp_path / "other.db"
    other_process_sql(p, "CREATE TABLE documents (id INTEGER PRIMARY KEY, body TEXT);")
    before = p.read_bytes()
    with pytest.raises(resonance.SchemaUnknownError, match="documents"):
        resonance.open(p)
    assert p.read_bytes() == before


def test_schema_too_new(db_path: pathlib.Path) -> None:
    resonance.open(db_path).close()
    other_process_sql(db_path, "INSERT INTO resonance_schema_history VALUES (99, 'future', '2030-01-01T00:00:00Z', '1');")
    with pytest.raises(resonance.SchemaTooNewError, match="V99"):
        resonance.open(db_path)


def test_closed(db_path: pathlib.Path) -> None:
    db = resonance.open(db_path)
    db.close()
    db.close()  # idempotent
    assert db.closed
    for call in (lambda: db.get_node("a"), lambda: db.upsert_node("a"), db.stats, lambda: db.search([1.0, 0.0])):
        with pytest.raises(resonance.ClosedError) as info:
            call()
        assert info.value.code == "closed"


def test_io(tmp_path: pathlib.Path) -> None:
    f = tmp_path / "a_file"
    f.write_text("x")
    with pytest.raises(resonance.IoError):
        resonance.open(f / "sub" / "db.sqlite")
    with pytest.raises(resonance.IoError):
        resonance.open(tmp_path / "missing" / "db.sqlite", read_only=True)


def test_sqlite(db_path: pathlib.Path) -> None:
    with resonance.open(db_path) as db:
        db.upsert_node("a")
        other_process_sql(db_path, "DROP TABLE edges;")
        with pytest.raises(resonance.SqliteError) as info:
            db.edges_from("a")
        assert info.value.extended_code == 1
        assert "no such table" in str(info.value)


def test_busy_timeout_below_minimum(db_path: pathlib.Path) -> None:
    with pytest.raises(resonance.InvalidArgumentError, match="busy_timeout_ms"):
        resonance.open(db_path, busy_timeout_ms=10)


def test_errors_carry_context(db: resonance.Database) -> None:
    with pytest.raises(resonance.NotFoundError) as info:
        db.delete_node("some-id")
    assert "some-id" in str(info.value)
    assert os.fspath(db.path).endswith("db.sqlite")
