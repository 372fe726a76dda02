"""One of the two cross-process writers (tests/cross, run by scripts/test-cross.sh): the Python one.

Usage: writer.py DB WORKDIR BATCHES. Imports the binding, signals readiness (WORKDIR/ready.py), waits
for WORKDIR/go, then opens DB (the fresh file the Node writer opens at the same moment) and writes
BATCHES batches, the first half back to back (the other writer waits in SQLite's busy handler), the
second half 2 ms apart (the commits interleave). Each batch is one explicit transaction: NODES nodes
with embeddings (upsert_nodes), EDGES edges (add_edge) and an upsert of the node "shared" that both
writers overwrite. Any error, busy included, is counted and ends the run with exit status 1. Prints
one JSON line: counts, errors, start and end times.
"""
import json
import os
import sys
import time

import numpy as np

import resonance

NODES = 5  # per batch
EDGES = 5  # per batch
DIM = 8
PAUSE_S = 0.002  # between the batches of the second half, outside the transaction


def main() -> int:
    db_path, work, batches = sys.argv[1], sys.argv[2], int(sys.argv[3])
    name = "py"
    open(os.path.join(work, f"ready.{name}"), "w").close()
    deadline = time.monotonic() + 60
    while not os.path.exists(os.path.join(work, "go")):
        if time.monotonic() > deadline:
            print(json.dumps({"writer": name, "error": "no go signal within 60 s"}))
            return 1
        time.sleep(0.001)

    t0 = time.time()
    errors = []
    nodes = edges = shared = 0
    db = resonance.open(db_path)
    rng = np.random.default_rng(1)
    try:
        for b in range(batches):
            ids = [f"{name}-{b}-{i}" for i in range(NODES)]
            vectors = rng.standard_normal((NODES, DIM)).astype(np.float32) + 0.1
            try:
                with db.transaction():
                    nodes += db.upsert_nodes(
                        [{"id": i, "type": "cross", "domain": name, "meta": {"batch": b}} for i in ids], vectors
                    )
                    for i in range(EDGES):
                        # A chain through the batch, closed back to the batch before.
                        src = ids[i]
                        dst = ids[i + 1] if i + 1 < NODES else f"{name}-{max(b - 1, 0)}-0"
                        if db.add_edge(src, dst, "cross", confidence=0.5, context_source=name):
                            edges += 1
                    db.upsert_node("shared", type="cross", title=f"{name} batch {b}")
                    shared += 1
            except resonance.Error as e:  # busy included: counted, surfaced, fails the run
                errors.append(f"batch {b}: {e.code}: {e}")
            if b >= batches // 2:
                time.sleep(PAUSE_S)
    finally:
        db.close()
    t1 = time.time()
    print(json.dumps({"writer": name, "batches": batches, "nodes": nodes, "edges": edges, "shared": shared,
                      "errors": errors, "start_ms": t0 * 1000, "end_ms": t1 * 1000}))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
