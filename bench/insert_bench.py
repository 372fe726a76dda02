#!/usr/bin/env python3
"""Bulk insert, side by side in one run: 100,000 nodes with 384-d float32 vectors in one transaction.

- Resonance: `core/examples/bench_insert.rs` (one `upsert_nodes` call: validation, normalisation, the
  history row of every node, the cache bookkeeping — more work per row than the contenders).
- Python's sqlite3: a prepared INSERT of the same rows (`executemany`) in one transaction, WAL,
  synchronous=NORMAL (the settings Resonance uses).
- better-sqlite3 (Node): the same, when `node/node_modules/better-sqlite3` is installed.

Runs each contender `--reps` times alternately and prints medians and ratios. Release build.
Usage: python3 bench/insert_bench.py [--rows 100000] [--dim 384] [--reps 3]
"""

import argparse
import array
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

BETTER_SQLITE3 = r"""
const Database = require(process.argv[2]);
const [n, dim, path] = [Number(process.argv[3]), Number(process.argv[4]), process.argv[5]];
const db = new Database(path);
db.pragma('journal_mode = WAL'); db.pragma('synchronous = NORMAL');
db.exec('CREATE TABLE nodes (id text PRIMARY KEY NOT NULL, type text, title text, domain text, layer text, embedding blob, hash text, meta text, date text, summary text)');
const rows = [];
for (let i = 0; i < n; i++) {
  const v = new Float32Array(dim); for (let j = 0; j < dim; j++) v[j] = Math.random() - 0.5;
  rows.push(['node-' + String(i).padStart(7, '0'), 'note', 'Title ' + i, 'knowledge', 'experience', Buffer.from(v.buffer), null, '{"i":' + i + '}', null, null]);
}
const stmt = db.prepare('INSERT INTO nodes VALUES (?,?,?,?,?,?,?,?,?,?)');
const t = process.hrtime.bigint();
db.transaction((rs) => { for (const r of rs) stmt.run(r); })(rows);
const s = Number(process.hrtime.bigint() - t) / 1e9;
console.log(JSON.stringify({seconds: s}));
"""


def python_sqlite3(n, dim, path):
    import sqlite3
    random.seed(1)
    c = sqlite3.connect(path, isolation_level=None)
    c.execute("PRAGMA journal_mode=WAL")
    c.execute("PRAGMA synchronous=NORMAL")
    c.execute("CREATE TABLE nodes (id text PRIMARY KEY NOT NULL, type text, title text, domain text, layer text, "
              "embedding blob, hash text, meta text, date text, summary text)")
    rows = [(f"node-{i:07d}", "note", f"Title {i}", "knowledge", "experience",
             array.array("f", (random.random() - 0.5 for _ in range(dim))).tobytes(), None, f'{{"i":{i}}}', None, None)
            for i in range(n)]
    t = time.perf_counter()
    c.execute("BEGIN")
    c.executemany("INSERT INTO nodes VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
    c.execute("COMMIT")
    dt = time.perf_counter() - t
    c.close()
    return dt


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    subprocess.run(["cargo", "build", "--release", "--example", "bench_insert", "-p", "resonance"], cwd=ROOT, check=True)
    exe = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "examples", "bench_insert")
    bs3 = os.path.join(ROOT, "node", "node_modules", "better-sqlite3")
    times = {"resonance upsert_nodes": [], "python sqlite3": []}
    if os.path.isdir(bs3) and shutil.which("node"):
        times["better-sqlite3"] = []
    for _ in range(a.reps):
        with tempfile.TemporaryDirectory() as d:
            out = subprocess.run([exe, str(a.rows), str(a.dim), d], check=True, capture_output=True, text=True).stdout
            times["resonance upsert_nodes"].append(json.loads(out)["seconds"])
        with tempfile.TemporaryDirectory() as d:
            times["python sqlite3"].append(python_sqlite3(a.rows, a.dim, os.path.join(d, "p.db")))
        if "better-sqlite3" in times:
            with tempfile.TemporaryDirectory() as d:
                out = subprocess.run(["node", "-e", BETTER_SQLITE3, bs3, str(a.rows), str(a.dim), os.path.join(d, "b.db")],
                                     check=True, capture_output=True, text=True).stdout
                times["better-sqlite3"].append(json.loads(out)["seconds"])
    ours = statistics.median(times["resonance upsert_nodes"])
    print(f"{a.rows} rows x {a.dim}-d, one transaction, median of {a.reps}")
    print(f"{'contender':28} {'median s':>9} {'rows/s':>9}  resonance speed vs it")
    for k, v in times.items():
        m = statistics.median(v)
        print(f"{k:28} {m:9.3f} {a.rows / m:9.0f}  {m / ours:5.2f}x {'PASS' if ours <= m * 1.0 or k.startswith('resonance') else 'MISS'}")
    if "better-sqlite3" not in times:
        print("(better-sqlite3 not installed in node/node_modules: not compared)")


if __name__ == "__main__":
    sys.exit(main())
