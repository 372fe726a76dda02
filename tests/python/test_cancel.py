"""Cancellation: Ctrl-C stops a long call with KeyboardInterrupt, db.interrupt() from another thread
stops it with resonance.InterruptedError; the handle keeps working and a stopped write changes nothing.

Latencies are printed and asserted loosely (<= 1 s, the target is 100 ms) because the test machine may
be loaded; the calls stopped are sized to run for many seconds in the debug build the tests use."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys
import threading
import time

import numpy as np

import resonance

LATENCY_S = 1.0


def hub_graph(db: resonance.Database, spokes: int) -> None:
    """A hub with `spokes` spokes, plus a ring through the spokes (so exact betweenness is a BFS from
    every node over every edge)."""
    ids = [f"s{i:05d}" for i in range(spokes)]
    db.upsert_nodes([{"id": "hub"}] + [{"id": i} for i in ids])
    edges = [("hub", i) for i in ids] + [(ids[k], ids[(k + 1) % spokes]) for k in range(spokes)]
    db.add_edges(edges)


def test_interrupted_error_is_a_resonance_error_not_the_builtin() -> None:
    cls = resonance.InterruptedError
    assert issubclass(cls, resonance.Error)
    assert cls.code == "interrupted"
    assert cls is not InterruptedError  # the builtin (EINTR), an OSError
    assert not issubclass(cls, OSError)
    assert "InterruptedError" not in resonance.__all__
    assert "interrupted" in resonance.error_codes()


def test_interrupt_from_another_thread(tmp_path: pathlib.Path) -> None:
    with resonance.open(tmp_path / "hub.db") as db:
        hub_graph(db, 20_000)
        db.graph_stats()  # load the snapshot: the call below is pure computation
        fired: list[float] = []

        def stop() -> None:
            fired.append(time.monotonic())
            db.interrupt()

        timer = threading.Timer(0.3, stop)
        timer.start()
        try:
            db.betweenness()
            raise AssertionError("betweenness finished before the interrupt (make the graph bigger)")
        except resonance.InterruptedError as e:
            latency = time.monotonic() - fired[0]
            print(f"betweenness stopped {latency * 1000:.0f} ms after db.interrupt(): {e}")
            assert e.code == "interrupted"
            assert latency <= LATENCY_S
        finally:
            timer.cancel()
        # The handle works afterwards, and interrupt() with nothing running changes nothing.
        db.interrupt()
        assert db.graph_stats().nodes == 20_001
        assert len(db.link_candidates(3)) == 3


CHILD = r"""
import json, os, signal, sys, threading, time
import numpy as np
import resonance

db = resonance.open(sys.argv[1])
spokes = 20_000
ids = [f"s{i:05d}" for i in range(spokes)]
db.upsert_nodes([{"id": "hub"}] + [{"id": i} for i in ids])
db.add_edges([("hub", i) for i in ids] + [(ids[k], ids[(k + 1) % spokes]) for k in range(spokes)])
rng = np.random.default_rng(1)
vecs = rng.standard_normal((20_000, 64)).astype(np.float32)
db.upsert_nodes([{"id": f"v{i:05d}"} for i in range(20_000)], embeddings=vecs)
db.graph_stats()
queries = rng.standard_normal((20_000, 64)).astype(np.float32)
before = db.stats().nodes

def ctrl_c_during(name, call):
    fired = []
    def send():
        fired.append(time.monotonic())
        os.kill(os.getpid(), signal.SIGINT)
    t = threading.Timer(0.3, send)
    t.start()
    try:
        call()
        t.cancel()
        return {"call": name, "finished": True}
    except KeyboardInterrupt:
        return {"call": name, "latency": time.monotonic() - fired[0]}

results = [
    ctrl_c_during("betweenness", lambda: db.betweenness()),
    ctrl_c_during("pagerank", lambda: db.pagerank(tolerance=1e-300, max_iterations=10_000_000)),
    ctrl_c_during("communities", lambda: [db.communities(seed=s) for s in range(1000)]),
    ctrl_c_during("search_batch", lambda: [db.search_batch(queries, k=10) for _ in range(1000)]),
    ctrl_c_during("upsert_nodes", lambda: db.upsert_nodes([{"id": f"bulk{i:07d}"} for i in range(2_000_000)])),
]
# The handle still works, and the stopped bulk write left nothing.
after = db.stats().nodes
ok = len(db.link_candidates(3)) == 3 and db.get_node("bulk0000000") is None
print(json.dumps({"results": results, "before": before, "after": after, "ok": ok}))
"""


def test_ctrl_c_raises_keyboard_interrupt_within_a_second(tmp_path: pathlib.Path) -> None:
    r = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path / "child.db")],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    # How long each call takes depends on the machine and the build: a call that finished before the
    # signal (0.3 s) says nothing and is reported; every call that was stopped must stop in time, and
    # the biggest one (betweenness on the 20,000-spoke hub) must have been stopped.
    stopped = [res for res in out["results"] if "latency" in res]
    for res in out["results"]:
        if "latency" not in res:
            print(f"{res['call']}: finished before Ctrl-C")
            continue
        print(f"{res['call']}: KeyboardInterrupt {res['latency'] * 1000:.0f} ms after SIGINT")
        assert res["latency"] <= LATENCY_S, res
    assert any(res["call"] == "betweenness" for res in stopped), out["results"]
    assert out["ok"], out
    assert out["before"] == out["after"], out
