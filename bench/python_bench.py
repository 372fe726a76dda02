#!/usr/bin/env python3
"""Overhead of the Python binding, release builds only.

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


def per_call_ns(f, iters: int = 2000, rounds: int = 21) -> tuple:  # type: ignore[no-untyped-def]
    """Median wall-clock and thread-CPU nanoseconds per call."""
    wall, cpu = [], []
    for _ in range(rounds):
        s, c = time.perf_counter(), time.thread_time()
        for _ in range(iters):
            f()
        cpu.append((time.thread_time() - c) * 1e9 / iters)
        wall.append((time.perf_counter() - s) * 1e9 / iters)
    return statistics.median(wall), statistics.median(cpu)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--reps", type=int, default=60)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--skip-build", action="store_true")
    args = ap.parse_args()

    if not in_bench_venv():
        build(args.skip_build)
        # numpy's BLAS threads (used only to make the data) must not spin beside the engine's threads.
        os.environ["OPENBLAS_NUM_THREADS"] = "1"
        os.environ["OMP_NUM_THREADS"] = "1"
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
        os.sync()  # start each run with no dirty pages of the previous one still being written back
        exe = TARGET / "release" / "examples" / "bench_rust"
        out = subprocess.run([str(exe), str(DATA), str(n), str(dim), str(reps)], capture_output=True, text=True, check=True)
        return json.loads(out.stdout.strip().splitlines()[-1])

    def run_python() -> dict:
        path = DATA / "py.db"
        for s in ("", "-wal", "-shm"):
            pathlib.Path(f"{path}{s}").unlink(missing_ok=True)
        nodes = [{"id": f"r{i}", "type": "note"} for i in range(n)]
        os.sync()
        db = resonance.open(path)
        t, c = time.perf_counter(), time.thread_time()
        db.upsert_nodes(nodes, m)
        up_cpu, up = time.thread_time() - c, time.perf_counter() - t

        def search_ms(threads: object) -> tuple:
            def one(i: int) -> None:
                db.search(q[i % len(q)], k=10, threads=threads)

            for i in range(3):
                one(i)
            wall, cpu = [], []
            for i in range(reps):
                t, c = time.perf_counter(), time.thread_time()
                one(i)
                cpu.append((time.thread_time() - c) * 1e3)
                wall.append((time.perf_counter() - t) * 1e3)
            return statistics.median(wall), statistics.median(cpu)

        single, single_cpu = search_ms(1)
        all_threads, _ = search_ms(None)
        # The results must be the engine's: compare with numpy's top 10.
        top = np.argsort(-(m @ q[0]))[:10]
        assert [h.id for h in db.search(q[0], k=10)] == [f"r{i}" for i in top]
        row_id = f"r{n // 2}"
        get_ns, get_cpu_ns = per_call_ns(lambda: db.get_node(row_id))
        db.close()
        con = sqlite3.connect(path)
        sql = "SELECT id, type, title, domain, layer, hash, summary, meta, date FROM nodes WHERE id = ?"
        assert con.execute(sql, (row_id,)).fetchone() is not None
        # sqlite3 keeps the prepared statement in its statement cache: the same SQL text reuses it.
        sq_ns, sq_cpu_ns = per_call_ns(lambda: con.execute(sql, (row_id,)).fetchone())
        con.close()
        return {
            "upsert_rows_per_s": n / up,
            "upsert_cpu_rows_per_s": n / up_cpu,
            "search_single_thread_ms": single,
            "search_single_thread_cpu_ms": single_cpu,
            "search_all_threads_ms": all_threads,
            "get_node_ns": get_ns,
            "get_node_cpu_ns": get_cpu_ns,
            "sqlite3_ns": sq_ns,
            "sqlite3_cpu_ns": sq_cpu_ns,
        }

    # Interleaved rounds (Rust, Python, Rust, …); each figure is the best round's (the machine is
    # shared: the best round is the one least disturbed by other jobs).
    rust_runs, py_runs = [run_rust()], []
    for _ in range(args.rounds):
        py_runs.append(run_python())
        rust_runs.append(run_rust())

    def best(runs: list, key: str, higher: bool = False) -> float:
        vals = [r[key] for r in runs]
        return max(vals) if higher else min(vals)

    R = {k: best(rust_runs, k, k.endswith("per_s")) for k in rust_runs[0] if k not in ("n", "dim")}
    P = {k: best(py_runs, k, k.endswith("per_s")) for k in py_runs[0]}
    rows = [
        ("get_node, Python", P["get_node_ns"] / 1e3, P["get_node_cpu_ns"] / 1e3, "µs"),
        ("sqlite3 cached statement, same row", P["sqlite3_ns"] / 1e3, P["sqlite3_cpu_ns"] / 1e3, "µs"),
        ("get_node, Rust", R["get_node_ns"] / 1e3, R["get_node_cpu_ns"] / 1e3, "µs"),
        ("search top-10, 1 thread, Python", P["search_single_thread_ms"], P["search_single_thread_cpu_ms"], "ms"),
        ("search top-10, 1 thread, Rust", R["search_single_thread_ms"], R["search_single_thread_cpu_ms"], "ms"),
        ("search top-10, all threads, Python", P["search_all_threads_ms"], float("nan"), "ms"),
        ("search top-10, all threads, Rust", R["search_all_threads_ms"], float("nan"), "ms"),
        ("upsert_nodes 2-D array, Python", P["upsert_rows_per_s"], P["upsert_cpu_rows_per_s"], "rows/s"),
        ("upsert_nodes batch, Rust", R["upsert_rows_per_s"], R["upsert_cpu_rows_per_s"], "rows/s"),
    ]
    print(
        f"\nPython binding overhead: {n} x {dim} float32, top-10, {reps} reps, best of {args.rounds} rounds, "
        f"Python {sys.version.split()[0]}"
    )
    print(f"{'measure':<40}{'wall':>13}{'thread CPU':>13}  unit")
    for name, v, c, unit in rows:
        print(f"{name:<40}{v:>13.3f}{c:>13.3f}  {unit}")

    def verdict(ok: bool) -> str:
        return "PASS" if ok else "MISS"

    checks = [
        ("get_node / sqlite3 cached (CPU)", P["get_node_cpu_ns"] / P["sqlite3_cpu_ns"], 1.5),
        ("get_node / sqlite3 cached (wall)", P["get_node_ns"] / P["sqlite3_ns"], 1.5),
        ("search Python / Rust, 1 thread (CPU)", P["search_single_thread_cpu_ms"] / R["search_single_thread_cpu_ms"], 1.1),
        ("search Python / Rust, 1 thread (wall)", P["search_single_thread_ms"] / R["search_single_thread_ms"], 1.1),
        ("search Python / Rust, all threads (wall)", P["search_all_threads_ms"] / R["search_all_threads_ms"], 1.1),
        ("upsert_nodes time/row Python / Rust (CPU)", R["upsert_cpu_rows_per_s"] / P["upsert_cpu_rows_per_s"], 1.1),
        ("upsert_nodes time/row Python / Rust (wall)", R["upsert_rows_per_s"] / P["upsert_rows_per_s"], 1.1),
    ]
    print()
    for name, ratio, target in checks:
        print(f"{name:<44}{ratio:6.2f}x  (target <= {target}x)  {verdict(ratio <= target)}")


if __name__ == "__main__":
    main()
