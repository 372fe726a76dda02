"""Replication lag from one probe restore (scripts/test-replication.sh): lag.py PROBE ACKS T_MS.

PROBE was restored from the replica starting at unix time T_MS (ms). The lag is T_MS minus the
acknowledgement time of the newest batch the probe holds: how far behind the source the replica
was at that moment (an upper bound: a batch is acknowledged just after its commit). Prints it in ms
("none" when the probe holds no batch), then how many acknowledged batches the probe lacks.
"""
import sqlite3
import sys


def main() -> int:
    probe, acks, t = sys.argv[1], sys.argv[2], float(sys.argv[3])
    acked = {}
    with open(acks) as f:
        for line in f:
            bid, ms = line.split()
            acked[bid] = float(ms)
    c = sqlite3.connect(f"file:{probe}?mode=ro", uri=True)
    present = [r[0][: -len("-0")] for r in c.execute("SELECT id FROM nodes WHERE id LIKE '%-0'")]
    c.close()
    newest = max((acked[b] for b in present if b in acked), default=None)
    missing = len(set(acked) - set(present))
    print("none" if newest is None else f"{t - newest:.0f}", missing)
    return 0


if __name__ == "__main__":
    sys.exit(main())
