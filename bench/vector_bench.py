#!/usr/bin/env python3
"""Exact top-10 vector search: Resonance against numpy, faiss and sqlite-vec on one machine, in one run.

Generates 100,000 x 384 random unit float32 vectors (fixed seed), builds and runs
`core/examples/bench_search.rs` on them, times the contenders on the same data, prints a table of
median milliseconds with Resonance's ratio against each, and PASS/MISS for the targets. Always exits 0
(a benchmark, not a test); a contender that cannot be installed is reported as missing.

Runs itself inside bench/.venv (Debian's /usr/bin/python3, whose sqlite3 can load extensions), creating
it and installing numpy, threadpoolctl, faiss-cpu and sqlite-vec when missing. OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE are removed from the environment (they pin an old, slow OpenBLAS kernel on this
machine); the BLAS that threadpoolctl then reports is printed.

Usage: python3 bench/vector_bench.py [--n 100000] [--dim 384] [--reps 40] [--skip-build]
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / "bench" / ".venv"
VENV_PY = VENV / "bin" / "python"
DATA = ROOT / "target" / "vector-bench"
PACKAGES = ["numpy", "threadpoolctl", "faiss-cpu", "sqlite-vec"]
CLEARED = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


# The module each package of PACKAGES is imported as, where the names differ.
MODULES = {"faiss-cpu": "faiss", "sqlite-vec": "sqlite_vec"}


def ensure_venv_and_reexec(marker="RESONANCE_VECTOR_BENCH_CHILD", packages=PACKAGES, script=__file__):
    """Re-executes `script` under bench/.venv (created with Debian's python3, whose sqlite3 loads
    extensions, and filled with `packages` when one is missing) with the OpenBLAS overrides removed,
    once: the child sees `marker` set to 1. vector_scale_bench.py calls it too."""
    if os.environ.get(marker) == "1":
        return
    if not VENV_PY.exists():
        base = "/usr/bin/python3" if Path("/usr/bin/python3").exists() else sys.executable
        if subprocess.run([base, "-m", "venv", str(VENV)]).returncode != 0:
            print("python3 -m venv failed; installing python3-venv with apt-get", flush=True)
            subprocess.run(["apt-get", "update"], check=False)
            subprocess.run(["apt-get", "install", "-y", "python3-venv"], check=False)
            shutil.rmtree(VENV, ignore_errors=True)
            subprocess.run([base, "-m", "venv", str(VENV)], check=True)
    modules = ", ".join(MODULES.get(p, p) for p in packages)
    missing = subprocess.run(
        [str(VENV_PY), "-c", f"import {modules}"],
        capture_output=True,
    ).returncode
    if missing:
        subprocess.run([str(VENV_PY), "-m", "pip", "install", "-q", *packages], check=False)
    env = {k: v for k, v in os.environ.items() if k not in CLEARED}
    env[marker] = "1"
    os.execve(str(VENV_PY), [str(VENV_PY), script, *sys.argv[1:]], env)


def median_ms(fn, reps, warm=2, one_thread=False):
    """Median wall-clock ms, and for one-thread contenders also the median CPU time of this thread
    (steadier than wall-clock when other jobs share the machine); None otherwise."""
    for _ in range(warm):
        fn()
    times, cpu = [], []
    for _ in range(reps):
        t, c = time.perf_counter(), time.thread_time()
        fn()
        cpu.append((time.thread_time() - c) * 1e3)
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times), (statistics.median(cpu) if one_thread else None)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--reps", type=int, default=40)
    ap.add_argument("--skip-build", action="store_true")
    args = ap.parse_args()

    import numpy as np
    from threadpoolctl import threadpool_info, threadpool_limits

    n, dim, k, nb = args.n, args.dim, 10, 100
    print(f"# Resonance vector benchmark: {n} x {dim} float32 unit vectors, top-{k}, batch of {nb}")
    print(f"# cleared from the environment: {', '.join(CLEARED)}; cpus: {os.cpu_count()}")
    for lib in threadpool_info():
        print(
            "# BLAS: {} {} {} kernel={} threads={}".format(
                lib.get("internal_api"),
                lib.get("version"),
                Path(lib.get("filepath", "")).name,
                lib.get("architecture"),
                lib.get("num_threads"),
            )
        )

    # Data: fixed seed, unit rows, written raw little-endian for the Rust example.
    rng = np.random.default_rng(20261123)
    m = rng.standard_normal((n, dim), dtype=np.float32)
    m /= np.linalg.norm(m, axis=1, keepdims=True)
    qs = rng.standard_normal((nb, dim), dtype=np.float32)
    qs /= np.linalg.norm(qs, axis=1, keepdims=True)
    m = np.ascontiguousarray(m, dtype="<f4")
    qs = np.ascontiguousarray(qs, dtype="<f4")
    DATA.mkdir(parents=True, exist_ok=True)
    mpath, qpath = DATA / f"matrix_{n}x{dim}.f32", DATA / f"queries_{nb}x{dim}.f32"
    m.tofile(mpath)
    qs.tofile(qpath)

    # Resonance (release build of the example).
    if not args.skip_build:
        subprocess.run(
            ["cargo", "build", "--release", "--example", "bench_search", "-p", "resonance"],
            cwd=ROOT,
            check=True,
        )
    exe = ROOT / "target" / "release" / "examples" / "bench_search"

    def run_resonance():
        out = subprocess.run(
            [str(exe), str(mpath), str(n), str(dim), str(qpath), str(args.reps * 2)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return json.loads(out)

    # Resonance runs before and after the contenders (the machine is shared): the mean of both
    # medians is reported, and both are printed.
    res = run_resonance()
    print(f"# Resonance kernel: {res['kernel']}, matrix load {res['load_ms']:.0f} ms")

    # Correctness: the first query's top-10 against numpy's exact answer.
    s0 = m @ qs[0]
    want = np.argsort(-s0, kind="stable")[:k].tolist()
    got = res["first_query_rows"]
    print(f"# top-{k} of query 0 equals numpy's: {got == want}" + ("" if got == want else f" (got {got}, want {want})"))

    qi = [0]

    def next_q():
        qi[0] = (qi[0] + 1) % nb
        return qs[qi[0]]

    def np_search():
        s = m @ next_q()
        idx = np.argpartition(s, -k)[-k:]
        return idx[np.argsort(-s[idx])]

    results = {}
    with threadpool_limits(limits=1):
        results["numpy matvec+argpartition, 1 thread"] = median_ms(np_search, args.reps, one_thread=True)
        results["numpy matrix.sum() (bandwidth floor), 1 thread"] = median_ms(m.sum, args.reps, one_thread=True)
    results["numpy matvec+argpartition, all threads"] = median_ms(np_search, args.reps)

    def np_batch():
        s = m @ qs.T
        return np.argpartition(s, -k, axis=0)[-k:]

    results["numpy batch-100 matmul (M @ Q.T), all threads"] = median_ms(lambda: m @ qs.T, max(5, args.reps // 4))
    results["numpy batch-100 matmul+argpartition, all threads"] = median_ms(np_batch, max(5, args.reps // 4))

    try:
        import faiss

        faiss.omp_set_num_threads(1)
        index = faiss.IndexFlatIP(dim)
        index.add(m)
        results["faiss IndexFlatIP, 1 thread"] = median_ms(
            lambda: index.search(next_q()[None, :], k), args.reps, one_thread=True
        )
        faiss.omp_set_num_threads(os.cpu_count() or 1)
        results["faiss IndexFlatIP batch-100, all threads"] = median_ms(
            lambda: index.search(qs, k), max(5, args.reps // 4)
        )
        del index
    except Exception as e:  # noqa: BLE001 - a missing contender is reported, not fatal
        print(f"# faiss unavailable: {e}")

    try:
        import sqlite3

        import sqlite_vec

        db = sqlite3.connect(":memory:")
        db.enable_load_extension(True)
        sqlite_vec.load(db)
        db.enable_load_extension(False)
        db.execute(f"CREATE VIRTUAL TABLE v USING vec0(embedding float[{dim}])")
        with db:
            db.executemany(
                "INSERT INTO v(rowid, embedding) VALUES (?, ?)",
                ((i, m[i].tobytes()) for i in range(n)),
            )
        sql = "SELECT rowid, distance FROM v WHERE embedding MATCH ? AND k = ? ORDER BY distance"
        got_sv = [r[0] for r in db.execute(sql, (qs[0].tobytes(), k))]
        print(f"# sqlite-vec {db.execute('SELECT vec_version()').fetchone()[0]} top-{k} equals numpy's: {got_sv == want}")
        results["sqlite-vec vec0 exact KNN, 1 thread"] = median_ms(
            lambda: db.execute(sql, (next_q().tobytes(), k)).fetchall(), max(5, args.reps // 4), one_thread=True
        )
        db.close()
    except Exception as e:  # noqa: BLE001
        print(f"# sqlite-vec unavailable: {e}")

    res2 = run_resonance()
    fields = (
        "single_thread_ms",
        "all_threads_ms",
        "batch_ms",
        "batch_single_thread_ms",
        "single_thread_cpu_ms",
        "batch_single_thread_cpu_ms",
        "quantised_single_thread_ms",
        "quantised_all_threads_ms",
        "quantised_batch_ms",
        "quantised_batch_single_thread_ms",
        "quantised_single_thread_cpu_ms",
        "quantised_batch_single_thread_cpu_ms",
    )
    for f in fields:
        print(f"# Resonance {f}: {res[f]:.3f} before, {res2[f]:.3f} after the contenders")
        res[f] = (res[f] + res2[f]) / 2
    r1, ra, rb, rb1 = (
        res["single_thread_ms"],
        res["all_threads_ms"],
        res["batch_ms"],
        res["batch_single_thread_ms"],
    )
    c1 = res["single_thread_cpu_ms"]

    print()
    print("wall = median wall-clock ms; cpu = median CPU ms of the calling thread (1-thread runs only);")
    print("ratio = Resonance / contender (< 1: Resonance is faster)")
    print(f"{'contender':<52} {'wall':>9} {'ratio':>6} {'cpu':>9} {'ratio':>6}")
    print(f"{'Resonance search, 1 thread':<52} {r1:>9.3f} {'':>6} {c1:>9.3f}")
    print(f"{'Resonance search, all threads':<52} {ra:>9.3f}")
    print(f"{'Resonance search_batch-100, all threads':<52} {rb:>9.3f}")
    print(f"{'Resonance search_batch-100, 1 thread':<52} {rb1:>9.3f} {'':>6} {res['batch_single_thread_cpu_ms']:>9.3f}")
    q1, qa, qb, qb1, qc1 = (
        res["quantised_single_thread_ms"],
        res["quantised_all_threads_ms"],
        res["quantised_batch_ms"],
        res["quantised_batch_single_thread_ms"],
        res["quantised_single_thread_cpu_ms"],
    )
    print(f"{'Resonance int8 first pass, 1 thread (vs f32 path)':<52} {q1:>9.3f} {q1 / r1:>5.2f}x {qc1:>9.3f} {qc1 / c1:>5.2f}x")
    print(f"{'Resonance int8 first pass, all threads':<52} {qa:>9.3f} {qa / ra:>5.2f}x")
    print(f"{'Resonance int8 first pass, batch-100, all threads':<52} {qb:>9.3f} {qb / rb:>5.2f}x")
    print(
        f"{'Resonance int8 first pass, batch-100, 1 thread':<52} {qb1:>9.3f} {qb1 / rb1:>5.2f}x "
        f"{res['quantised_batch_single_thread_cpu_ms']:>9.3f}"
    )
    print(
        f"# int8 codes: {res['code_mb']:.1f} MB (f32 matrix {n * dim * 4 / 1e6:.1f} MB), the first two "
        f"searches (the second builds them) took {res['quantised_first_ms']:.1f} ms, {res['quantised_first_cpu_ms']:.1f} ms CPU; int8 and f32 paths gave the same hits: "
        f"{str(res['quantised_same_results']).lower()} (run 1), {str(res2['quantised_same_results']).lower()} (run 2)"
    )
    print(
        f"# resident memory of bench_search after its searches (f32 matrix + codes + queries): "
        f"{res2['rss_mb']:.0f} MB, peak {res2['peak_rss_mb']:.0f} MB (the peak includes the raw file read before the load)"
    )
    for name, (t, c) in results.items():
        if "batch" in name:
            mine = rb
        elif "all threads" in name:
            mine = ra
        else:
            mine = r1
        cpu = f"{c:>9.3f} {c1 / c:>5.2f}x" if c is not None else ""
        print(f"{name:<52} {t:>9.3f} {mine / t:>5.2f}x {cpu}")

    print()
    g = results.get
    # (label, contender, test on (ours, theirs), which of ours, CPU-time check possible)
    checks = [
        ("one query, 1 thread <= numpy 1 thread", "numpy matvec+argpartition, 1 thread", lambda o, t: o <= t, "1"),
        ("one query, 1 thread <= faiss 1 thread", "faiss IndexFlatIP, 1 thread", lambda o, t: o <= t, "1"),
        (
            "one query, 1 thread <= 1.25x bandwidth floor (numpy sum)",
            "numpy matrix.sum() (bandwidth floor), 1 thread",
            lambda o, t: o <= 1.25 * t,
            "1",
        ),
        ("one query, all cores <= numpy all cores", "numpy matvec+argpartition, all threads", lambda o, t: o <= t, "all"),
        (
            "one query, 1 thread >= 5x faster than sqlite-vec",
            "sqlite-vec vec0 exact KNN, 1 thread",
            lambda o, t: 5 * o <= t,
            "1",
        ),
        (
            "batch-100 <= 1.5x numpy matmul (M @ Q.T alone)",
            "numpy batch-100 matmul (M @ Q.T), all threads",
            lambda o, t: o <= 1.5 * t,
            "batch",
        ),
    ]
    ours = {"1": r1, "all": ra, "batch": rb}
    # Issue 15's warm-query targets for the int8 first pass (the issue sets the f32-path ratio at 1M).
    same = bool(res["quantised_same_results"] and res2["quantised_same_results"])
    print(f"{'PASS' if same else 'MISS'}  int8 first pass: the same hits as the f32 path (20 queries, batch)")
    print(f"{'PASS' if q1 <= 0.4 * r1 else 'MISS'}  int8 one query, 1 thread <= 0.4x today's f32 path ({q1 / r1:.2f}x)"
          f"   (by thread CPU time: {'PASS' if qc1 <= 0.4 * c1 else 'MISS'}, {qc1 / c1:.2f}x)")
    fa = g("faiss IndexFlatIP, 1 thread")
    if fa is None:
        print("MISS  int8 one query, 1 thread <= 0.35x faiss IndexFlatIP 1 thread (contender unavailable)")
    else:
        extra = "" if fa[1] is None else f"   (by thread CPU time: {'PASS' if qc1 <= 0.35 * fa[1] else 'MISS'}, {qc1 / fa[1]:.2f}x)"
        print(f"{'PASS' if q1 <= 0.35 * fa[0] else 'MISS'}  int8 one query, 1 thread <= 0.35x faiss IndexFlatIP 1 thread ({q1 / fa[0]:.2f}x){extra}")
    for label, name, ok, which in checks:
        theirs = g(name)
        if theirs is None:
            print(f"MISS  {label} (contender unavailable)")
            continue
        verdict = "PASS" if ok(ours[which], theirs[0]) else "MISS"
        extra = ""
        if which == "1" and theirs[1] is not None:
            extra = f"   (by thread CPU time: {'PASS' if ok(c1, theirs[1]) else 'MISS'})"
        print(f"{verdict}  {label}{extra}")
    return 0


if __name__ == "__main__":
    # A benchmark, not a test: report any failure and exit 0.
    try:
        ensure_venv_and_reexec()
        main()
    except Exception as e:  # noqa: BLE001
        print(f"ERROR: the vector benchmark could not finish: {e!r}", flush=True)
    sys.exit(0)
