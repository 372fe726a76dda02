"""The reader of scripts/test-replication.sh: reader.py DB STOPFILE. Searches the source while the
writers write (a read-only handle once the file exists), until STOPFILE appears; prints how many
searches ran. Any error ends it with exit status 1."""
import os
import sys
import time

import numpy as np

import resonance


def main() -> int:
    db_path, stop = sys.argv[1], sys.argv[2]
    rng = np.random.default_rng(3)
    n = 0
    with resonance.open(db_path, read_only=True) as db:
        while not os.path.exists(stop):
            q = rng.standard_normal(16).astype(np.float32)
            db.search(q, k=5)
            n += 1
            time.sleep(0.01)
    print(f"reader: {n} searches")
    return 0


if __name__ == "__main__":
    sys.exit(main())
