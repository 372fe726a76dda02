"""Application migrations from Python: db.migrate_app / db.app_migration_status from a directory of
.sql files and from AppMigration objects or dicts, dry runs, the destructive gate, drift, down steps
and resonance.open(app_migrations=...)."""

from __future__ import annotations

import pathlib
import pickle

import pytest

import resonance


def write_steps(d: pathlib.Path) -> pathlib.Path:
    d.mkdir(exist_ok=True)
    (d / "0001_notes.sql").write_text(
        "CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT);\n-- down\nDROP TABLE notes;\n"
    )
    (d / "0002_tags.sql").write_text(
        "CREATE TABLE tags(note INTEGER, tag TEXT);\n-- down\nDROP TABLE tags;\n"
    )
    (d / "README.md").write_text("not a step")
    return d


def tables(db: resonance.Database) -> list[str]:
    return [
        r[0]
        for r in db.query(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('notes', 'tags', 'old') ORDER BY name"
        )
    ]


def test_directory_up_status_and_down(db: resonance.Database, tmp_path: pathlib.Path) -> None:
    d = write_steps(tmp_path / "migrations")
    st = db.app_migration_status("app", d)
    assert st.namespace == "app"
    assert st.applied == []
    assert st.pending == [{"version": 1, "name": "notes"}, {"version": 2, "name": "tags"}]

    r = db.migrate_app("app", str(d), backup=False)
    assert isinstance(r, resonance.AppMigrationReport)
    assert r.namespace == "app" and r.dry_run is False and r.backup is None
    assert [(s["version"], s["name"], s["direction"]) for s in r.steps] == [(1, "notes", "up"), (2, "tags", "up")]
    assert r.steps[0]["sql"].startswith("CREATE TABLE notes")
    assert r.accepted_changes == []
    assert tables(db) == ["notes", "tags"]

    st = db.app_migration_status("app", d)
    assert [a["version"] for a in st.applied] == [1, 2]
    assert st.pending == []
    assert len(st.applied[0]["checksum"]) == 64 and st.applied[0]["applied_at"]

    # Nothing left to do: an empty report.
    assert db.migrate_app("app", d).steps == []

    # Down to version 1: a down step is destructive.
    with pytest.raises(resonance.DestructiveRefusedError) as e:
        db.migrate_app("app", d, to=1)
    assert e.value.code == "destructive_refused"
    assert tables(db) == ["notes", "tags"]
    r = db.migrate_app("app", d, to=1, allow_destructive=True, backup=False)
    assert [(s["version"], s["direction"], s["destructive"]) for s in r.steps] == [(2, "down", True)]
    assert tables(db) == ["notes"]
    assert [p["version"] for p in db.app_migration_status("app", d).pending] == [2]


def test_backup_by_default(db: resonance.Database, tmp_path: pathlib.Path) -> None:
    d = write_steps(tmp_path / "migrations")
    r = db.migrate_app("app", d)
    assert r.backup is not None and pathlib.Path(r.backup).exists()


def test_dry_run_changes_nothing(db: resonance.Database, tmp_path: pathlib.Path) -> None:
    d = write_steps(tmp_path / "migrations")
    r = db.migrate_app("app", d, dry_run=True)
    assert r.dry_run is True
    assert [s["version"] for s in r.steps] == [1, 2]
    assert tables(db) == []
    assert [p["version"] for p in db.app_migration_status("app", d).pending] == [1, 2]


def test_declared_destructive_marker_is_refused(db: resonance.Database, tmp_path: pathlib.Path) -> None:
    d = tmp_path / "m"
    d.mkdir()
    (d / "0001_old.sql").write_text("CREATE TABLE old(x);\n")
    db.migrate_app("app", d, backup=False)
    (d / "0002_drop_old.sql").write_text("-- resonance:destructive\nDROP TABLE old;\n")
    plan = db.migrate_app("app", d, dry_run=True)
    assert [(s["version"], s["destructive"]) for s in plan.steps] == [(2, True)]
    with pytest.raises(resonance.DestructiveRefusedError):
        db.migrate_app("app", d, backup=False)
    assert tables(db) == ["old"]
    db.migrate_app("app", d, allow_destructive=True, backup=False)
    assert tables(db) == []


def test_steps_from_code_objects_and_dicts(db: resonance.Database) -> None:
    step = resonance.AppMigration(1, "notes", "CREATE TABLE notes(id INTEGER PRIMARY KEY)", "DROP TABLE notes")
    assert step.version == 1 and step.name == "notes" and step.down == "DROP TABLE notes"
    assert step.destructive is False
    assert step == resonance.AppMigration(1, "notes", "CREATE TABLE notes(id INTEGER PRIMARY KEY)", "DROP TABLE notes")
    assert len(step.checksum()) == 64
    steps = [step, {"version": 2, "name": "tags", "up": "CREATE TABLE tags(t TEXT)"}]
    r = db.migrate_app("app", steps, backup=False)
    assert [s["version"] for s in r.steps] == [1, 2]
    assert tables(db) == ["notes", "tags"]
    # Step 2 has no down section: it cannot be undone.
    with pytest.raises(resonance.MigrationFailedError):
        db.migrate_app("app", steps, to=0, allow_destructive=True)
    # The report pickles and compares by value.
    assert pickle.loads(pickle.dumps(r)) == r


def test_drift_is_schema_too_new(db: resonance.Database) -> None:
    db.migrate_app("app", [{"version": 1, "name": "a", "up": "CREATE TABLE notes(x)"}], backup=False)
    changed = [{"version": 1, "name": "a", "up": "CREATE TABLE notes(x, y)"}]
    with pytest.raises(resonance.SchemaTooNewError) as e:
        db.migrate_app("app", changed)
    assert e.value.code == "schema_too_new"
    # A ledger ahead of the steps given (a newer application migrated this file).
    with pytest.raises(resonance.SchemaTooNewError):
        db.migrate_app("app", [])
    r = db.migrate_app("app", changed, accept_changed=True, backup=False)
    assert r.accepted_changes == [1] and r.steps == []
    assert db.migrate_app("app", changed).steps == []


def test_bad_arguments(db: resonance.Database, tmp_path: pathlib.Path) -> None:
    with pytest.raises(resonance.InvalidArgumentError):
        db.migrate_app("app", 42)  # type: ignore[arg-type]
    with pytest.raises(resonance.InvalidArgumentError):
        db.migrate_app("app", [{"name": "no version", "up": "SELECT 1"}])
    with pytest.raises(resonance.InvalidArgumentError):
        db.migrate_app("app", [{"version": True, "name": "x", "up": "SELECT 1"}])
    with pytest.raises(resonance.InvalidArgumentError):
        db.migrate_app("", [])
    with pytest.raises(resonance.InvalidArgumentError):
        db.migrate_app("app", [{"version": 0, "name": "zero", "up": "SELECT 1"}])
    with pytest.raises(resonance.InvalidArgumentError):
        db.migrate_app("app", [], to="1")  # type: ignore[arg-type]
    with pytest.raises(resonance.IoError):
        db.migrate_app("app", tmp_path / "missing")
    with pytest.raises(resonance.InvalidArgumentError):
        resonance.AppMigration("1", "x", "SELECT 1")  # type: ignore[arg-type]


def test_engine_tables_stay_out_of_reach(db: resonance.Database) -> None:
    with pytest.raises(resonance.MigrationFailedError):
        db.migrate_app("app", [{"version": 1, "name": "evil", "up": "DROP TABLE nodes"}], backup=False)
    assert db.app_migration_status("app", []).applied == []


def test_open_applies_app_migrations(tmp_path: pathlib.Path) -> None:
    d = write_steps(tmp_path / "migrations")
    path = tmp_path / "db.sqlite"
    with resonance.open(path, app_migrations={"app": d, "other": [{"version": 1, "name": "o", "up": "CREATE TABLE old(x)"}]}) as db:
        assert tables(db) == ["notes", "old", "tags"]
        assert [a["version"] for a in db.app_migration_status("app", d).applied] == [1, 2]
        assert [a["version"] for a in db.app_migration_status("other", [{"version": 1, "name": "o", "up": "CREATE TABLE old(x)"}]).applied] == [1]
    with pytest.raises(resonance.InvalidArgumentError):
        resonance.open(path, app_migrations=["not", "a", "mapping"])  # type: ignore[arg-type]
    # A changed step at open refuses the open.
    (d / "0001_notes.sql").write_text("CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT, more TEXT);\n")
    with pytest.raises(resonance.SchemaTooNewError):
        resonance.open(path, app_migrations={"app": d})
