#!/usr/bin/env python3
"""Application SQL from Python against Python's `sqlite3`, release builds only, measured in one run:

  1. a point query: `db.query_one("SELECT ... FROM t WHERE id = ?", (id,))` against
     `conn.execute(same SQL, (id,)).fetchone()` on the same row of the same table (target <= 1.2x);
  2. 100,000 inserts into an application table with `db.executemany` in one transaction against
     `sqlite3`'s `executemany` in one transaction (target: >= 0.9x sqlite3's rows per second).

Both sides use the same file settings (WAL, synchronous=NORMAL: the engine's canon) on separate files.

Usage: python3 bench/python_sql_bench.py [--rows 100000] [--rounds 5] [--skip-build]

It builds the release wheel into `bench/.venv-py` (as bench/python_bench.py does: `maturin build
--release`, then pip), re-executes itself there, prints a table with PASS/MISS per target and always
exits 0. The machine is shared: compare ratios, repeat a run.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
VENV = ROOT / "bench" / ".venv-py"
TARGET = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
DATA = TARGET / "python-sql-bench"


def in_bench_venv() -> bool:
    return pathlib.Path(sys.prefix).resolve() == VENV.resolve()


def build(skip: bool) -> None:
    env = dict(os.environ, CARGO_TARGET_DIR=str(TARGET))
    if not (VENV / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        (VENV / ".gitignore").write_text("*\n")
    py = str(VENV / "bin" / "python")
    if skip:
        return
    subprocess.run(
        [py, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", str(ROOT / "python" / "requirements-dev.txt")],
        check=True,
    )
    wheels = DATA / "wheels"
    shutil.rmtree(wheels, ignore_errors=True)
    subprocess.run(
        [str(VENV / "bin" / "maturin"), "build", "--release", "--quiet", "--out", str(wheels)],
        cwd=ROOT / "python",
        env=env,
        check=True,
    )
    subprocess.run(
        [py, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--force-reinstall", "--no-deps", *map(str, wheels.glob("*.whl"))],
        check=True,
    )


def per_call_ns(f, iters: int = 5000, rounds: int = 21) -> tuple:  # type: ignore[no-untyped-def]
    """Median wall-clock and thread-CPU nanoseconds per call."""
    wall, cpu = [], []
    for _ in range(rounds):
        s, c = time.perf_counter(), time.thread_time()
        for _ in range(iters):
            f()
        cpu.append((time.thread_time() - c) * 1e9 / iters)
        wall.append((time.perf_counter() - s) * 1e9 / iters)
    return statistics.median(wall), statistics.median(cpu)


SCHEMA = "CREATE TABLE docs(id INTEGER PRIMARY KEY, name TEXT NOT NULL, score REAL, body TEXT, data BLOB)"
INSERT = "INSERT INTO docs(name, score, body, data) VALUES (?, ?, ?, ?)"
POINT = "SELECT id, name, score, body FROM docs WHERE id = ?"


def fresh(path: pathlib.Path) -> None:
    for s in ("", "-wal", "-shm"):
        pathlib.Path(f"{path}{s}").unlink(missing_ok=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--skip-build", action="store_true")
    args = ap.parse_args()
    if not in_bench_venv():
        build(args.skip_build)
        os.execv(str(VENV / "bin" / "python"), [str(VENV / "bin" / "python"), __file__, *sys.argv[1:], "--skip-build"])

    import resonance

    DATA.mkdir(parents=True, exist_ok=True)
    rows = [(f"doc-{i}", i * 0.5, f"body of document {i} " * 3, bytes(16)) for i in range(args.rows)]

    def insert_resonance() -> float:
        path = DATA / "r.db"
        fresh(path)
        with resonance.open(path, backup=False) as db:
            db.executescript(SCHEMA)
            t = time.perf_counter()
            with db.transaction():
                db.executemany(INSERT, rows)
            dt = time.perf_counter() - t
            assert db.query_one("SELECT count(*) FROM docs") == (len(rows),)
        return len(rows) / dt

    def insert_sqlite3() -> float:
        path = DATA / "s.db"
        fresh(path)
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute(SCHEMA)
        t = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(INSERT, rows)
        conn.execute("COMMIT")
        dt = time.perf_counter() - t
        assert conn.execute("SELECT count(*) FROM docs").fetchone() == (len(rows),)
        conn.close()
        return len(rows) / dt

    # Interleaved rounds; the best of each side.
    r_ins, s_ins = [], []
    for _ in range(args.rounds):
        s_ins.append(insert_sqlite3())
        r_ins.append(insert_resonance())

    db = resonance.open(DATA / "r.db", backup=False)
    conn = sqlite3.connect(DATA / "s.db", isolation_level=None)
    ident = args.rows // 2
    a = db.query_one(POINT, (ident,))
    b = conn.execute(POINT, (ident,)).fetchone()
    assert a == b, (a, b)
    r_point, s_point = [], []
    for _ in range(args.rounds):
        s_point.append(per_call_ns(lambda: conn.execute(POINT, (ident,)).fetchone()))
        r_point.append(per_call_ns(lambda: db.query_one(POINT, (ident,))))
    rp = min(r_point, key=lambda x: x[1])
    sp = min(s_point, key=lambda x: x[1])

    print(f"{'measure':<44}{'wall':>12}{'thread CPU':>13}  unit")
    print(f"{'query_one point query, resonance':<44}{rp[0] / 1000:>12.3f}{rp[1] / 1000:>13.3f}  µs")
    print(f"{'execute().fetchone(), sqlite3':<44}{sp[0] / 1000:>12.3f}{sp[1] / 1000:>13.3f}  µs")
    print(f"{'executemany in one transaction, resonance':<44}{max(r_ins):>12.0f}{'':>13}  rows/s")
    print(f"{'executemany in one transaction, sqlite3':<44}{max(s_ins):>12.0f}{'':>13}  rows/s")
    point = rp[1] / sp[1]
    ins = max(r_ins) / max(s_ins)
    print()
    print(f"point query resonance / sqlite3, CPU: {point:.2f}x (target <= 1.2x): {'PASS' if point <= 1.2 else 'MISS'}")
    print(f"executemany throughput resonance / sqlite3: {ins:.2f}x (target >= 0.9x): {'PASS' if ins >= 0.9 else 'MISS'}")
    print(f"(sqlite {sqlite3.sqlite_version} in Python's sqlite3; rows {args.rows}, rounds {args.rounds})")
    db.close()
    conn.close()


if __name__ == "__main__":
    main()
