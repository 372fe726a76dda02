#!/usr/bin/env python3
"""Overhead of the Python binding (issue 6), release builds only.

Measures, on the same data:
  1. `db.get_node(id)` against Python's `sqlite3` fetching the same row with a cached statement;
  2. `db.search(q, k=10)` from Python against the same `Database::search` timed in Rust
     (`python/examples/bench_rust.rs`), on one thread and on all threads;
  3. `db.upsert_nodes(nodes, embeddings_2d)` rows per second against the Rust `upsert_nodes` batch.

Usage: python3 bench/python_bench.py [--n 100000] [--dim 384] [--reps 60] [--skip-build]

It builds the release wheel into its own venv (`bench/.venv-py`, created when missing, with
`maturin build --release` and pip) and the Rust side with `cargo build --release --example bench_rust -p
resonance-python`, re-executes itself in that venv, prints a table with PASS/MISS per target and
always exits 0. The machine is shared: compare ratios, repeat a run.
"""

from __future__ import annotations

import argparse
import json
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
DATA = TARGET / "python-bench"


def in_bench_venv() -> bool:
    return pathlib.Path(sys.prefix).resolve() == VENV.resolve()


def build(skip: bool) -> None:
    env = dict(os.environ, CARGO_TARGET_DIR=str(TARGET))
    if not (VENV / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        (VENV / ".gitignore").write_text("*\n")
    py = str(VENV / "bin" / "python")
    if not skip:
        subprocess.run(
            [py, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", str(ROOT / "python" / "requirements-dev.txt")],
            check=True,
        )
        # A built wheel, not `maturin develop`: an editable install would put the release module next
        # to the sources, where the test venv's debug build lives too.
        wheels = TARGET / "python-bench" / "wheels"
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
        subprocess.run(
            ["cargo", "build", "--release", "--quiet", "--example", "bench_rust", "-p", "resonance-python"],
            cwd=ROOT,
            env=env,
            check=True,
        )


def median_ms(f, reps: int, warm: int = 3) -> float:  # type: ignore[no-untyped-def]
    for i in range(warm):
        f(i)
    t = []
    for i in range(reps):
        s = time.perf_counter()
        f(i)
        t.append((time.perf_counter() - s) * 1e3)
    return statistics.median(t)


def per_call_ns(f, iters: int = 2000, rounds: int = 21) -> float:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(rounds):
        s = time.perf_counter()
        for _ in range(iters):
            f()
        samples.append((time.perf_counter() - s) * 1e9 / iters)
    return statistics.median(samples)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--reps", type=int, default=60)
    ap.add_argument("--skip-build", action="store_true")
    args = ap.parse_args()

    if not in_bench_venv():
        build(args.skip_build)
        os.execv(str(VENV / "bin" / "python"), [str(VENV / "bin" / "python"), __file__, *sys.argv[1:], "--skip-build"])

    import numpy as np

    import resonance

    n, dim, reps = args.n, args.dim, args.reps
    DATA.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(42)
    m = rng.standard_normal((n, dim), dtype=np.float32)
    m /= np.linalg.norm(m, axis=1, keepdims=True)
    m = np.ascontiguousarray(m, dtype=np.float32)
    q = rng.standard_normal((32, dim), dtype=np.float32)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    q = np.ascontiguousarray(q, dtype=np.float32)
    m.astype("<f4").tofile(DATA / "matrix.f32")
    q.astype("<f4").tofile(DATA / "queries.f32")

    def run_rust() -> dict:
        exe = TARGET / "release" / "examples" / "bench_rust"
        out = subprocess.run([str(exe), str(DATA), str(n), str(dim), str(reps)], capture_output=True, text=True, check=True)
        return json.loads(out.stdout.strip().splitlines()[-1])

    rust_before = run_rust()

    path = DATA / "py.db"
    for s in ("", "-wal", "-shm"):
        pathlib.Path(f"{path}{s}").unlink(missing_ok=True)
    db = resonance.open(path)
    nodes = [{"id": f"r{i}", "type": "note"} for i in range(n)]
    t = time.perf_counter()
    db.upsert_nodes(nodes, m)
    py_upsert = n / (time.perf_counter() - t)

    py_single = median_ms(lambda i: db.search(q[i % len(q)], k=10, threads=1), reps)
    py_all = median_ms(lambda i: db.search(q[i % len(q)], k=10), reps)
    # The results must be the engine's: compare with numpy's top 10.
    top = np.argsort(-(m @ q[0]))[:10]
    assert [h.id for h in db.search(q[0], k=10)] == [f"r{i}" for i in top]

    row_id = f"r{n // 2}"
    py_get = per_call_ns(lambda: db.get_node(row_id))
    db.close()

    con = sqlite3.connect(path)
    sql = "SELECT id, type, title, domain, layer, hash, summary, meta, date FROM nodes WHERE id = ?"
    assert con.execute(sql, (row_id,)).fetchone() is not None
    # sqlite3 keeps the prepared statement in its statement cache: the same SQL text reuses it.
    sqlite_get = per_call_ns(lambda: con.execute(sql, (row_id,)).fetchone())
    con.close()

    rust_after = run_rust()

    def avg(key: str) -> float:
        return (rust_before[key] + rust_after[key]) / 2

    rows = [
        ("get_node, Python", py_get / 1e3, "µs"),
        ("sqlite3 cached statement, same row", sqlite_get / 1e3, "µs"),
        ("get_node, Rust", avg("get_node_ns") / 1e3, "µs"),
        ("search top-10, 1 thread, Python", py_single, "ms"),
        ("search top-10, 1 thread, Rust", avg("search_single_thread_ms"), "ms"),
        ("search top-10, all threads, Python", py_all, "ms"),
        ("search top-10, all threads, Rust", avg("search_all_threads_ms"), "ms"),
        ("upsert_nodes 2-D array, Python", py_upsert, "rows/s"),
        ("upsert_nodes batch, Rust", avg("upsert_rows_per_s"), "rows/s"),
    ]
    print(f"\nPython binding overhead: {n} x {dim} float32, top-10, {reps} reps, Python {sys.version.split()[0]}")
    print(f"{'measure':<42}{'value':>14}  unit")
    for name, v, unit in rows:
        print(f"{name:<42}{v:>14.3f}  {unit}")

    def verdict(ok: bool) -> str:
        return "PASS" if ok else "MISS"

    r_get = py_get / sqlite_get
    r_s1 = py_single / avg("search_single_thread_ms")
    r_sa = py_all / avg("search_all_threads_ms")
    r_up = avg("upsert_rows_per_s") / py_upsert
    print()
    print(f"get_node / sqlite3 cached:        {r_get:5.2f}x  (target <= 1.5x)  {verdict(r_get <= 1.5)}")
    print(f"search Python / Rust, 1 thread:   {r_s1:5.2f}x  (target <= 1.1x)  {verdict(r_s1 <= 1.1)}")
    print(f"search Python / Rust, all:        {r_sa:5.2f}x  (target <= 1.1x)  {verdict(r_sa <= 1.1)}")
    print(f"upsert_nodes time/row Py / Rust: {r_up:5.2f}x  (target ~1.0x)   {verdict(r_up <= 1.1)}")


if __name__ == "__main__":
    main()
