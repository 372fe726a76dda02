#!/usr/bin/env python3
"""Issue 15, item 4: vector search at scale, side by side in one run.

For each data set — 100,000 and 1,000,000 x 384 random unit float32 vectors (fixed seed, the same data
as bench/vector_bench.py) and the demo's real-text vectors (`resonance demo`, 512-d) — it measures:

- fresh-handle first search: a NEW process opens the file and answers one top-10 query; the time from
  just before the open to the answer, with the files in the OS page cache ("warm") and evicted from it
  with posix_fadvise(DONTNEED) on the database and every sidecar ("evicted"; other engineers' files
  are left alone). Contenders: Resonance (a database built through the engine, opened with
  `resonance.open`), sqlite-vec `vec0` (a file database), numpy (`np.load` of an .npy file), faiss
  (`faiss.read_index` of an IndexFlatIP file);
- in the same process after that first answer: warm single query on 1 thread and all threads, a batch
  of 100 queries, and the resident memory (VmRSS, VmHWM) of the process;
- Resonance's warm int8 first pass against its f32 path (core/examples/bench_search.rs, thread CPU
  time), identical hits checked;
- sqlite-vec's quantised vec0 columns (int8[D], bit[D]) where the installed version has them, with
  their recall@10 against the exact answer.

Resonance is driven through its Python binding (built with maturin and installed into bench/.venv):
the same process model as every contender here (a Python process that imports its library before the
clock starts), and the binding's `open` takes the engine's open options by keyword, so the
`vector_memory="codes"|"matrix"` option is measured when the installed build has it and reported as
"not available on this build" when `open` rejects it (a TypeError), with no edit to this script.

Prints tables and PASS/MISS lines for the issue's targets; always exits 0.

Usage: python3 bench/vector_scale_bench.py [--sizes 100000,1000000] [--no-demo] [--reps N]
       [--first-reps N] [--skip-build] [--no-quantised-vec0] [--clean]
"""

import argparse
import glob
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
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
DATA = TARGET / "vector-bench"
PACKAGES = ["numpy", "threadpoolctl", "faiss-cpu", "sqlite-vec", "maturin"]
K = 10
NB = 100
SEED = 20261123


# ----------------------------------------------------------------------------------------------------
# Environment and builds


def ensure_venv_and_reexec():
    """Re-executes under bench/.venv once (vector_bench.py's, with this script's packages)."""
    from vector_bench import ensure_venv_and_reexec as reexec

    reexec("RESONANCE_SCALE_BENCH_CHILD", PACKAGES, __file__)


def build(skip):
    env = dict(os.environ, CARGO_TARGET_DIR=str(TARGET))
    if skip:
        return
    wheels = DATA / "wheels"
    shutil.rmtree(wheels, ignore_errors=True)
    print("# building the Python binding (maturin build --release) and the examples", flush=True)
    subprocess.run(
        [str(VENV / "bin" / "maturin"), "build", "--release", "--quiet", "--out", str(wheels)],
        cwd=ROOT / "python",
        env=env,
        check=True,
    )
    subprocess.run(
        [str(VENV_PY), "-m", "pip", "install", "-q", "--force-reinstall", "--no-deps", *map(str, wheels.glob("*.whl"))],
        check=True,
    )
    subprocess.run(
        ["cargo", "build", "--release", "--quiet", "--example", "bench_search", "-p", "resonance"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    subprocess.run(["cargo", "build", "--release", "--quiet", "-p", "resonance-cli"], cwd=ROOT, env=env, check=True)


# ----------------------------------------------------------------------------------------------------
# Page cache


def sidecars(path):
    """The file and every file beside it whose name starts with its name (-wal, -shm, any sidecar)."""
    return sorted(p for p in glob.glob(glob.escape(str(path)) + "*") if os.path.isfile(p))


def evict(path):
    """Drops the file and its sidecars from the page cache (fsync first: dirty pages stay cached)."""
    for p in sidecars(path):
        fd = os.open(p, os.O_RDONLY)
        try:
            os.fsync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def warm_cache(path):
    for p in sidecars(path):
        with open(p, "rb") as f:
            while f.read(1 << 24):
                pass


def resident_bytes(path):
    """Bytes of the file and its sidecars in the page cache, by `fincore` (None without it)."""
    if not shutil.which("fincore"):
        return None
    total = 0
    for p in sidecars(path):
        out = subprocess.run(["fincore", "-b", "-n", "-o", "RES", p], capture_output=True, text=True).stdout.split()
        if out:
            total += int(out[0])
    return total


# ----------------------------------------------------------------------------------------------------
# Children: each measures one contender in a fresh process and prints one JSON line.


def rss():
    st = Path("/proc/self/status").read_text()
    f = {l.split(":")[0]: l.split(":")[1].strip() for l in st.splitlines() if ":" in l}
    mb = lambda k: int(f.get(k, "0 kB").split()[0]) / 1e3  # noqa: E731
    return mb("VmRSS"), mb("VmHWM")


def med(fn, reps, warm=2):
    for _ in range(warm):
        fn()
    w, c = [], []
    for _ in range(reps):
        t, tc = time.perf_counter(), time.thread_time()
        fn()
        c.append((time.thread_time() - tc) * 1e3)
        w.append((time.perf_counter() - t) * 1e3)
    return statistics.median(w), statistics.median(c)


def child(args):
    import numpy as np
    from threadpoolctl import threadpool_limits

    qs = np.fromfile(args.queries, dtype="<f4").reshape(-1, args.dim)
    qi = [0]

    def nq():
        qi[0] = (qi[0] + 1) % len(qs)
        return qs[qi[0]]

    out = {}
    reps, kind, path = args.reps, args.kind, args.path
    rss0 = rss()[0]
    if kind == "resonance":
        import resonance

        opts = {} if args.vector_memory is None else {"vector_memory": args.vector_memory}
        t0 = time.perf_counter()
        try:
            db = resonance.open(path, **opts)
        except TypeError as e:
            print(json.dumps({"unavailable": str(e)}))
            return
        first = db.search(qs[0], k=K)
        out["first_ms"] = (time.perf_counter() - t0) * 1e3
        out["first_ids"] = [h.id for h in first]
        out["first_scores"] = [h.score for h in first]
        if args.first_only:
            return finish(out, rss0)
        # The second search may build the int8 codes: timed apart.
        t = time.perf_counter()
        db.search(qs[1], k=K)
        out["second_ms"] = (time.perf_counter() - t) * 1e3
        out["one_thread"] = med(lambda: db.search(nq(), k=K, threads=1), reps)
        out["all_threads"] = med(lambda: db.search(nq(), k=K), reps)
        out["batch"] = med(lambda: db.search_batch(qs, k=K), max(3, reps // 4), warm=1)
        try:
            out["info"] = {k: v for k, v in db.vector_index_info().items() if isinstance(v, (int, float, str, bool))}
        except Exception:  # noqa: BLE001
            pass
    elif kind == "vec0":
        import sqlite3

        import sqlite_vec

        sql = "SELECT rowid, distance FROM v WHERE embedding MATCH ? AND k = ? ORDER BY distance"
        t0 = time.perf_counter()
        db = sqlite3.connect(path)
        db.enable_load_extension(True)
        sqlite_vec.load(db)
        first = db.execute(sql, (qs[0].tobytes(), K)).fetchall()
        out["first_ms"] = (time.perf_counter() - t0) * 1e3
        out["first_ids"] = [r[0] for r in first]
        if args.first_only:
            return finish(out, rss0)
        out["one_thread"] = med(lambda: db.execute(sql, (nq().tobytes(), K)).fetchall(), max(3, reps // 2), warm=1)
    elif kind == "numpy":
        t0 = time.perf_counter()
        m = np.load(path)
        s = m @ qs[0]
        idx = np.argpartition(s, -K)[-K:]
        first = idx[np.argsort(-s[idx], kind="stable")]
        out["first_ms"] = (time.perf_counter() - t0) * 1e3
        out["first_ids"] = first.tolist()
        if args.first_only:
            return finish(out, rss0)

        def one():
            s = m @ nq()
            idx = np.argpartition(s, -K)[-K:]
            return idx[np.argsort(-s[idx])]

        with threadpool_limits(limits=1):
            out["one_thread"] = med(one, reps)
        out["all_threads"] = med(one, reps)
        out["batch"] = med(lambda: np.argpartition(m @ qs.T, -K, axis=0)[-K:], max(3, reps // 4), warm=1)
    elif kind == "faiss":
        import faiss

        t0 = time.perf_counter()
        index = faiss.read_index(path)
        _, ids = index.search(qs[:1], K)
        out["first_ms"] = (time.perf_counter() - t0) * 1e3
        out["first_ids"] = ids[0].tolist()
        if args.first_only:
            return finish(out, rss0)
        faiss.omp_set_num_threads(1)
        out["one_thread"] = med(lambda: index.search(nq()[None, :], K), reps)
        faiss.omp_set_num_threads(os.cpu_count() or 1)
        out["all_threads"] = med(lambda: index.search(nq()[None, :], K), reps)
        out["batch"] = med(lambda: index.search(qs, K), max(3, reps // 4), warm=1)
    elif kind == "vec0q":
        import sqlite3

        import sqlite_vec

        exact = json.loads(Path(args.exact).read_text())
        db = sqlite3.connect(path)
        db.enable_load_extension(True)
        sqlite_vec.load(db)
        scale = float(db.execute("SELECT value FROM meta WHERE key = 'int8_scale'").fetchone()[0])
        for table, wrap, conv in (
            ("vi8", "vec_int8(?)", lambda q: np.clip(np.rint(q * scale), -127, 127).astype(np.int8).tobytes()),
            ("vbit", "vec_quantize_binary(?)", lambda q: q.tobytes()),
        ):
            sql = f"SELECT rowid FROM {table} WHERE embedding MATCH {wrap} AND k = ? ORDER BY distance"
            try:
                got = [[r[0] for r in db.execute(sql, (conv(qs[i]), K))] for i in range(len(exact))]
            except sqlite3.Error as e:
                out[table] = {"error": str(e)}
                continue
            recall = statistics.mean(len(set(g) & set(w)) / K for g, w in zip(got, exact))
            out[table] = {"recall": recall, "one_thread": med(lambda: db.execute(sql, (conv(nq()), K)).fetchall(), max(3, reps // 2), warm=1)}
    finish(out, rss0)


def finish(out, rss0):
    out["rss_before_mb"] = rss0
    out["rss_mb"], out["hwm_mb"] = rss()
    print(json.dumps(out))


def run_child(kind, path, queries, dim, reps, vector_memory=None, exact=None, warm=True):
    cmd = [str(VENV_PY), __file__, "--child", kind, "--path", str(path), "--queries", str(queries), "--dim", str(dim), "--reps", str(reps)]
    if vector_memory:
        cmd += ["--vector-memory", vector_memory]
    if exact:
        cmd += ["--exact", str(exact)]
    if not warm:
        cmd += ["--first-only"]
    # The Python binding must be the installed wheel, not the sources next to this file.
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=str(DATA))
    lines = [l for l in p.stdout.splitlines() if l.startswith("{")]
    if p.returncode != 0 or not lines:
        raise RuntimeError(f"{kind} child failed: {p.stderr.strip()[-800:]}")
    return json.loads(lines[-1])


# ----------------------------------------------------------------------------------------------------
# Data sets


def generated(n, dim):
    """The fixed-seed matrix and queries of bench/vector_bench.py (written raw and as .npy)."""
    import numpy as np

    rng = np.random.default_rng(SEED)
    m = rng.standard_normal((n, dim), dtype=np.float32)
    m /= np.linalg.norm(m, axis=1, keepdims=True)
    qs = rng.standard_normal((NB, dim), dtype=np.float32)
    qs /= np.linalg.norm(qs, axis=1, keepdims=True)
    m = np.ascontiguousarray(m, dtype="<f4")
    qs = np.ascontiguousarray(qs, dtype="<f4")
    return m, qs, [f"r{i:09d}" for i in range(n)]


def demo_set():
    """The demo's real-text vectors: `resonance demo` builds its database; every embedding is read
    back (id order) and the first 100 stored vectors are the queries."""
    import sqlite3

    import numpy as np

    d = DATA / "demo"
    d.mkdir(parents=True, exist_ok=True)
    db = d / "demo.db"
    for p in sidecars(db):
        os.remove(p)
    exe = TARGET / "release" / "resonance"
    subprocess.run([str(exe), "demo", "--db", str(db)], check=True, capture_output=True)
    con = sqlite3.connect(db)
    rows = con.execute("SELECT id, embedding FROM nodes WHERE embedding IS NOT NULL ORDER BY id").fetchall()
    con.close()
    ids = [r[0] for r in rows]
    m = np.stack([np.frombuffer(r[1], dtype="<f4") for r in rows])
    qs = np.ascontiguousarray(m[: min(NB, len(m))])
    return m, qs, ids, db


def build_files(name, m, qs, ids, res_db=None, quantised_vec0=True):
    """Writes (once, cached by a stamp) the files every contender opens."""
    import sqlite3

    import numpy as np

    d = DATA / name
    d.mkdir(parents=True, exist_ok=True)
    n, dim = m.shape
    files = {"dir": d, "queries": d / "queries.f32", "npy": d / "matrix.npy", "faiss": d / "flat.faiss", "vec0": d / "vec0.db", "vec0q": d / "vec0q.db"}
    qs.tofile(files["queries"])
    files["resonance"] = res_db or d / "resonance.db"
    stamp = d / "stamp.json"
    want = {"n": n, "dim": dim, "seed": SEED, "quantised_vec0": quantised_vec0, "version": 1}
    if stamp.exists() and json.loads(stamp.read_text()) == want and all(Path(files[k]).exists() for k in ("npy", "faiss", "vec0", "resonance")):
        return files
    t = time.perf_counter()
    np.save(files["npy"], m)
    import faiss

    index = faiss.IndexFlatIP(dim)
    index.add(m)
    faiss.write_index(index, str(files["faiss"]))
    del index
    import sqlite_vec

    for p in sidecars(files["vec0"]):
        os.remove(p)
    con = sqlite3.connect(files["vec0"])
    con.enable_load_extension(True)
    sqlite_vec.load(con)
    con.execute(f"CREATE VIRTUAL TABLE v USING vec0(embedding float[{dim}])")
    with con:
        con.executemany("INSERT INTO v(rowid, embedding) VALUES (?, ?)", ((i, m[i].tobytes()) for i in range(n)))
    con.close()
    if quantised_vec0:
        for p in sidecars(files["vec0q"]):
            os.remove(p)
        con = sqlite3.connect(files["vec0q"])
        con.enable_load_extension(True)
        sqlite_vec.load(con)
        # One global scale for the int8 codes (unit rows: components well inside [-1, 1]).
        scale = 127.0 / float(np.abs(m).max())
        con.execute("CREATE TABLE meta(key TEXT PRIMARY KEY, value)")
        con.execute("INSERT INTO meta VALUES ('int8_scale', ?)", (scale,))
        try:
            con.execute(f"CREATE VIRTUAL TABLE vi8 USING vec0(embedding int8[{dim}])")
            con.execute(f"CREATE VIRTUAL TABLE vbit USING vec0(embedding bit[{dim}])")
            codes = np.clip(np.rint(m * scale), -127, 127).astype(np.int8)
            with con:
                con.executemany("INSERT INTO vi8(rowid, embedding) VALUES (?, vec_int8(?))", ((i, codes[i].tobytes()) for i in range(n)))
                con.executemany(
                    "INSERT INTO vbit(rowid, embedding) VALUES (?, vec_quantize_binary(?))", ((i, m[i].tobytes()) for i in range(n))
                )
        except sqlite3.Error as e:
            print(f"# sqlite-vec quantised columns unavailable: {e}")
        con.commit()
        con.close()
    if res_db is None:
        import resonance

        for p in sidecars(files["resonance"]):
            os.remove(p)
        # Built through the engine (upsert_nodes), so whatever search layout the engine keeps beside the
        # BLOBs is written as it would be for an application.
        with resonance.open(str(files["resonance"])) as db:
            step = 50_000
            for s in range(0, n, step):
                db.upsert_nodes([{"id": ids[i], "type": "doc"} for i in range(s, min(n, s + step))], m[s : s + step])
            db.checkpoint() if hasattr(db, "checkpoint") else None
    stamp.write_text(json.dumps(want))
    print(f"# {name}: files built in {time.perf_counter() - t:.1f} s", flush=True)
    return files


# ----------------------------------------------------------------------------------------------------
# One data set


def fmt(v, w=9, p=1):
    return f"{v:>{w}.{p}f}" if isinstance(v, (int, float)) and v == v else f"{'-':>{w}}"


def bench_set(name, m, qs, ids, files, args, summary):
    import numpy as np

    n, dim = m.shape
    reps_first = args.first_reps if args.first_reps else (3 if n >= 500_000 else 5)
    reps = args.reps if args.reps else (10 if n >= 500_000 else 40)
    print(f"\n## {name}: {n} x {dim}, top-{K}, batch of {len(qs)}; fresh-handle runs: median of {reps_first}", flush=True)
    s0 = m @ qs[0]
    want_rows = np.argsort(-s0, kind="stable")[:K].tolist()
    want_ids = [ids[i] for i in want_rows]
    exact_all = [np.argsort(-(m @ q), kind="stable")[:K].tolist() for q in qs[:20]]
    exact_path = files["dir"] / "exact.json"
    exact_path.write_text(json.dumps(exact_all))

    contenders = [("Resonance (default open)", "resonance", files["resonance"], None)]
    contenders += [(f"Resonance vector_memory={vm}", "resonance", files["resonance"], vm) for vm in ("matrix", "codes")]
    contenders += [
        ("sqlite-vec vec0 float", "vec0", files["vec0"], None),
        ("numpy np.load(.npy)", "numpy", files["npy"], None),
        ("faiss read_index(IndexFlatIP)", "faiss", files["faiss"], None),
    ]
    rows = {}
    for label, kind, path, vm in contenders:
        got = {}
        reason = ""
        for state in ("warm", "evicted"):
            runs = []
            for _ in range(reps_first):
                if state == "warm":
                    warm_cache(path)
                    left = None
                else:
                    evict(path)
                    left = resident_bytes(path)
                # The warm searches run in the last process of the page-cache-warm runs only.
                last = state == "warm" and len(runs) == reps_first - 1
                try:
                    r = run_child(kind, path, files["queries"], dim, reps, vm, warm=last)
                except RuntimeError as e:
                    # A contender that fails is reported, and the run goes on.
                    r = {"unavailable": str(e)}
                if "unavailable" in r:
                    reason = r["unavailable"]
                    break
                r["left_in_cache"] = left
                runs.append(r)
            if not runs:
                got = None
                break
            got[state] = runs
        if got is None:
            print(f"# {label}: not available on this build ({reason[-300:]})")
            rows[label] = None
            continue
        rows[label] = got
        first = got["warm"][-1]
        ok = first["first_ids"] == (want_ids if kind == "resonance" else want_rows)
        left = [r["left_in_cache"] for r in got["evicted"] if r["left_in_cache"] is not None]
        note = f", {max(left)} bytes of its files still cached after eviction" if left else ""
        print(f"# {label}: top-{K} of query 0 equals numpy's exact: {ok}{note}", flush=True)

    hdr_lines = [
        "fresh = a new process: open + first top-10 (median ms); warm = after it, same process (median ms);",
        "RSS/HWM = VmRSS/VmHWM (MB) of that process after its searches; base = its VmRSS before the open (Python, numpy,",
        "the library imported); 2nd = the second search (Resonance builds its int8 codes there); 1 thr cpu = thread CPU ms;",
        "the in-memory rows are bench_search (a Rust process; its RSS holds the f32 matrix and the codes)",
        f"{'contender':<38} {'fresh warm':>10} {'evicted':>9} {'2nd':>8} {'1 thr':>8} {'1thr cpu':>8} {'all thr':>8} {'batch':>8} {'RSS':>7} {'HWM':>7} {'base':>5}",
    ]
    table = []
    for label, got in rows.items():
        if got is None:
            table.append(f"{label:<38} not available on this build")
            continue
        w = statistics.median(r["first_ms"] for r in got["warm"])
        e = statistics.median(r["first_ms"] for r in got["evicted"])
        last = got["warm"][-1]
        one = last.get("one_thread", (float("nan"), float("nan")))
        al = last.get("all_threads", (float("nan"), float("nan")))
        ba = last.get("batch", (float("nan"), float("nan")))
        table.append(
            f"{label:<38} {fmt(w, 10)} {fmt(e)} {fmt(last.get('second_ms', float('nan')), 8)} {fmt(one[0], 8, 2)} {fmt(one[1], 8, 2)} "
            f"{fmt(al[0], 8, 2)} {fmt(ba[0], 8)} {fmt(last['rss_mb'], 7, 0)} {fmt(last['hwm_mb'], 7, 0)} {fmt(last['rss_before_mb'], 5, 0)}"
        )
        summary.setdefault(name, {})[label] = {"fresh_warm": w, "fresh_evicted": e, "one": one, "all": al, "batch": ba, "rss": last["rss_mb"], "hwm": last["hwm_mb"]}

    if args.quantised_vec0 and files["vec0q"].exists():
        try:
            q = run_child("vec0q", files["vec0q"], files["queries"], dim, reps, exact=exact_path)
            for t, label in (("vi8", "int8"), ("vbit", "bit")):
                r = q.get(t, {})
                if "error" in r:
                    print(f"# sqlite-vec vec0 {label}[{dim}]: {r['error']}")
                else:
                    print(f"# sqlite-vec vec0 {label}[{dim}] warm query {r['one_thread'][0]:.2f} ms (cpu {r['one_thread'][1]:.2f}), recall@{K} {r['recall']:.3f} over 20 queries")
                    summary[name][f"sqlite-vec vec0 {label}"] = r
                    nan = float("nan")
                    qlabel = f"vec0 {label}[{dim}], recall@10 {r['recall']:.2f}"
                    table.append(
                        f"{qlabel:<38} {fmt(nan, 10)} {fmt(nan)} {fmt(nan, 8)} "
                        f"{fmt(r['one_thread'][0], 8, 2)} {fmt(r['one_thread'][1], 8, 2)}"
                    )
        except Exception as e:  # noqa: BLE001
            print(f"# sqlite-vec quantised: {e}")

    # Resonance's warm f32 path against the int8 first pass (the in-memory matrix, thread CPU time).
    if name == "demo":
        print_table(hdr_lines, table)
    else:
        exe = TARGET / "release" / "examples" / "bench_search"
        raw = DATA / f"matrix_{n}x{dim}.f32"
        if not raw.exists() or raw.stat().st_size != n * dim * 4:
            m.tofile(raw)
        out = subprocess.run([str(exe), str(raw), str(n), str(dim), str(files["queries"]), str(max(20, reps * 2))], capture_output=True, text=True)
        try:
            bs = json.loads(out.stdout)
        except ValueError:
            print(f"# bench_search failed: {out.stderr.strip()[-400:]}")
            print_table(hdr_lines, table)
            return
        summary[name]["bench_search"] = bs
        print(
            f"# bench_search (in-memory matrix, one thread, thread CPU ms): f32 path {bs['single_thread_cpu_ms']:.2f}, "
            f"int8 first pass {bs['quantised_single_thread_cpu_ms']:.2f} ({bs['quantised_single_thread_cpu_ms'] / bs['single_thread_cpu_ms']:.2f}x); "
            f"wall {bs['single_thread_ms']:.2f} / {bs['quantised_single_thread_ms']:.2f}; same hits: {bs['quantised_same_results']}; "
            f"top-{K} of query 0 equals numpy's: {bs['first_query_rows'] == want_rows}"
        )
        nan = float("nan")
        for label, pre in (("Resonance f32 path, in-memory", ""), ("Resonance int8 first pass, in-memory", "quantised_")):
            table.append(
                f"{label:<38} {fmt(nan, 10)} {fmt(nan)} {fmt(nan, 8)} {fmt(bs[pre + 'single_thread_ms'], 8, 2)} "
                f"{fmt(bs[pre + 'single_thread_cpu_ms'], 8, 2)} {fmt(bs[pre + 'all_threads_ms'], 8, 2)} {fmt(bs[pre + 'batch_ms'], 8)} "
                f"{fmt(bs['rss_mb'] if pre else nan, 7, 0)} {fmt(bs['peak_rss_mb'] if pre else nan, 7, 0)} {fmt(nan, 5)}"
            )
        print_table(hdr_lines, table)


def print_table(hdr_lines, table):
    print()
    for l in hdr_lines:
        print(l)
    for l in table:
        print(l)


def verdicts(summary):
    print("\n## Issue 15 targets (ratios within this run)")
    lines = []

    def line(ok, text):
        lines.append(f"{'PASS' if ok else 'MISS'}  {text}")

    for name in summary:
        s = summary[name]
        vec0 = s.get("sqlite-vec vec0 float")
        for label in ("Resonance (default open)", "Resonance vector_memory=matrix", "Resonance vector_memory=codes"):
            r = s.get(label)
            short = label.replace("Resonance ", "")
            if r is None:
                if label != "Resonance (default open)":
                    lines.append(f"MISS  {name} {short}: not available on this build")
                continue
            warm_one = r["all"][0]
            if name != "demo":
                line(r["fresh_warm"] <= 2 * warm_one, f"{name} {short}: fresh handle, page cache warm, {r['fresh_warm']:.1f} ms <= 2x one warm search ({warm_one:.2f} ms, all threads): {r['fresh_warm'] / warm_one:.1f}x")
            if vec0:
                line(r["fresh_evicted"] <= vec0["fresh_evicted"], f"{name} {short}: fresh handle, evicted, {r['fresh_evicted']:.1f} ms <= sqlite-vec vec0 cold {vec0['fresh_evicted']:.1f} ms: {r['fresh_evicted'] / vec0['fresh_evicted']:.2f}x")
        bs = s.get("bench_search")
        fa = s.get("faiss read_index(IndexFlatIP)")
        if bs and name.startswith("1M"):
            c1, q1 = bs["single_thread_cpu_ms"], bs["quantised_single_thread_cpu_ms"]
            line(q1 <= 0.4 * c1 and bs["quantised_same_results"], f"{name}: int8 warm one query, 1 thread <= 0.4x the f32 path, identical hits: {q1:.2f} / {c1:.2f} ms CPU = {q1 / c1:.2f}x, same: {bs['quantised_same_results']}")
        if bs and fa:
            q1 = bs["quantised_single_thread_cpu_ms"]
            line(q1 <= 0.35 * fa["one"][1], f"{name}: int8 warm one query, 1 thread <= 0.35x faiss IndexFlatIP 1 thread: {q1:.2f} / {fa['one'][1]:.2f} ms CPU = {q1 / fa['one'][1]:.2f}x")
        if name.startswith("1M"):
            r = s.get("Resonance vector_memory=codes")
            if r is None:
                lines.append(f"MISS  {name}: codes-only mode resident memory <= 0.5 GB: not available on this build")
            else:
                line(r["rss"] <= 500, f"{name}: codes-only mode resident memory {r['rss']:.0f} MB (VmRSS after open + searches, peak {r['hwm']:.0f} MB) <= 500 MB")
    for l in lines:
        print(l)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="100000,1000000")
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--reps", type=int, default=0, help="warm searches per process (default 40, 10 at 1M)")
    ap.add_argument("--first-reps", type=int, default=0, help="fresh processes per state (default 5, 3 at 1M)")
    ap.add_argument("--no-demo", action="store_true")
    ap.add_argument("--no-quantised-vec0", dest="quantised_vec0", action="store_false")
    ap.add_argument("--skip-build", action="store_true")
    ap.add_argument("--clean", action="store_true", help="remove each generated set's files after measuring it")
    ap.add_argument("--child")
    ap.add_argument("--path")
    ap.add_argument("--queries")
    ap.add_argument("--vector-memory")
    ap.add_argument("--exact")
    ap.add_argument("--first-only", action="store_true")
    args = ap.parse_args()
    if args.child:
        args.kind = args.child
        return child(args)

    print(f"# vector_scale_bench: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, cpus {os.cpu_count()}, load average {os.getloadavg()[0]:.2f}")
    build(args.skip_build)
    DATA.mkdir(parents=True, exist_ok=True)
    summary = {}
    if not args.no_demo:
        m, qs, ids, db = demo_set()
        files = build_files("demo", m, qs, ids, res_db=db, quantised_vec0=args.quantised_vec0)
        bench_set("demo", m, qs, ids, files, args, summary)
    for n in [int(s) for s in args.sizes.split(",") if s]:
        name = f"{n // 1000}k" if n < 1_000_000 else f"{n // 1_000_000}M"
        d = DATA / f"{name}x{args.dim}"
        # The files of a set take ~18 bytes per component (7 GB at 1M x 384); the disk is shared.
        need = 19 * n * args.dim + (1 << 28)
        have = shutil.disk_usage(DATA).free + sum(p.stat().st_size for p in d.glob("*") if p.is_file())
        if have < need:
            print(f"\n## {name}: skipped, {have / 1e9:.1f} GB free for its files, {need / 1e9:.1f} GB needed")
            continue
        m, qs, ids = generated(n, args.dim)
        files = build_files(d.name, m, qs, ids, quantised_vec0=args.quantised_vec0)
        bench_set(name, m, qs, ids, files, args, summary)
        del m
        if args.clean:
            shutil.rmtree(d, ignore_errors=True)
    verdicts(summary)
    print(f"# load average at the end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    # A benchmark, not a test: report any failure and exit 0.
    try:
        ensure_venv_and_reexec()
        main()
    except Exception as e:  # noqa: BLE001
        import traceback

        traceback.print_exc()
        print(f"ERROR: the scale benchmark could not finish: {e!r}", flush=True)
    sys.exit(0)
