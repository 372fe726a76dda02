"""The Python writer of scripts/test-replication.sh.

Usage: writer.py DB ACKS SECONDS. Writes one batch every 20 ms for SECONDS: each batch is one
transaction of NODES nodes with embeddings and EDGES edges (a chain through the batch). After each
commit returns it appends "py-<batch> <unix ms>" to ACKS: the batch is acknowledged. Any error
ends the run with exit status 1.
"""
import sys
import time

import numpy as np

import resonance

NODES = 5
EDGES = 4
DIM = 16


def main() -> int:
    db_path, acks, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    rng = np.random.default_rng(11)
    end = time.monotonic() + seconds
    b = 0
    with resonance.open(db_path, external_replicator=True) as db, open(acks, "a", buffering=1) as log:
        while time.monotonic() < end:
            ids = [f"py-{b}-{i}" for i in range(NODES)]
            vectors = rng.standard_normal((NODES, DIM)).astype(np.float32) + 0.05
            with db.transaction():
                db.upsert_nodes([{"id": i, "type": "repl", "domain": "py", "meta": {"batch": b}} for i in ids], vectors)
                for i in range(EDGES):
                    db.add_edge(ids[i], ids[i + 1], "next")
            log.write(f"py-{b} {time.time() * 1000:.0f}\n")
            b += 1
            time.sleep(0.02)
    print(f"py writer: {b} batches")
    return 0


if __name__ == "__main__":
    sys.exit(main())
