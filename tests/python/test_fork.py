"""After os.fork(), a handle opened by the parent refuses to work in the child; the child can open its
own handle and search (the core runs a child's parallel work in pools of the child's own: rayon's
threads do not survive fork)."""

from __future__ import annotations

import os
import pathlib
import sys

import numpy as np
import pytest

import resonance

from conftest import unit_rows

pytestmark = pytest.mark.skipif(not hasattr(os, "fork") or sys.platform == "darwin", reason="needs fork()")


def _in_child(fn) -> int:  # type: ignore[no-untyped-def]
    """Runs fn() in a forked child; returns its exit code (0 when fn returned True)."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            code = 0 if fn() else 3
        except BaseException:  # noqa: BLE001
            import traceback

            traceback.print_exc()
            code = 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def test_parent_handle_refuses_in_child(tmp_path: pathlib.Path) -> None:
    m = unit_rows(20_000, 32, seed=1)
    db = resonance.open(tmp_path / "db.sqlite")
    db.upsert_nodes([{"id": f"n{i}"} for i in range(20_000)], m)
    # The parent used rayon's global pool and a capped search pool before the fork.
    db.search(m[0], k=3)
    db.search(m[0], k=3, threads=2)
    db.add_edge("n0", "n1")
    db.pagerank()

    def child() -> bool:
        try:
            db.get_node("n1")
        except resonance.ClosedError as e:
            assert "fork" in str(e) and str(os.getpid()) in str(e)
        else:
            return False
        try:
            db.search(m[0])
        except resonance.ClosedError:
            pass
        else:
            return False
        # close() refuses too, and dropping the handle must not touch the parent's connection.
        try:
            db.close()
        except resonance.ClosedError:
            pass
        # A handle of the child's own works, including a parallel search and graph analytics.
        with resonance.open(tmp_path / "db.sqlite") as mine:
            hits = mine.search(m[5], k=1)
            assert hits[0].id == "n5"
            assert mine.search(m[6], k=1, threads=2)[0].id == "n6"
            ids, _ = mine.search_batch(m[:4], k=1)
            assert list(ids[:, 0]) == ["n0", "n1", "n2", "n3"]
            mine.add_edge("n1", "n2")
            assert mine.pagerank()
            assert mine.betweenness()
            assert mine.communities().partition
        return True

    assert _in_child(child) == 0
    # The parent's handle is untouched.
    assert db.get_node("n1") is not None
    assert db.search(m[7], k=1)[0].id == "n7"
    assert db.health().quick_check == "ok"
    db.close()


def _wait(pid: int, limit: float) -> int | None:
    """Waits for a forked child up to `limit` seconds; None (after SIGKILL) when it hung."""
    import signal
    import time

    deadline = time.monotonic() + limit
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() >= deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return None
        time.sleep(0.002)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_fork_while_threads_are_inside_engine_calls(tmp_path: pathlib.Path) -> None:
    """8 threads search, upsert batches and open/close their own handles while the main thread forks
    40 times; every child opens new handles (the same file and a new one), writes and reads, and must
    neither hang nor fail."""
    import threading

    shared = tmp_path / "shared.sqlite"
    dim = 16
    m = unit_rows(300, dim, seed=3)
    db = resonance.open(shared)
    db.upsert_nodes([{"id": f"seed-{i}"} for i in range(300)], m)
    stop = threading.Event()
    errors: list[BaseException] = []
    calls = [0]

    def worker(t: int) -> None:
        i = 0
        try:
            while not stop.is_set():
                i += 1
                if t % 3 == 0:
                    db.search(m[i % 300], k=5, threads=1)
                elif t % 3 == 1:
                    ids = [f"w{t}-{(i * 10 + j) % 200}" for j in range(10)]
                    db.upsert_nodes([{"id": x} for x in ids], m[:10])
                else:
                    with resonance.open(shared, read_only=bool(i % 2)) as mine:
                        assert mine.get_node("seed-1") is not None
                calls[0] += 1
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    import time

    while calls[0] < 50 and not errors:
        time.sleep(0.005)

    hung: list[int] = []
    failed: list[tuple[int, int]] = []
    for k in range(40):
        own = tmp_path / f"child-{k}.sqlite"
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                for path in (shared, own):
                    with resonance.open(path) as h:
                        h.upsert_nodes([{"id": f"forked-{k}"}])
                        code = 0 if h.get_node(f"forked-{k}") is not None else 3
                    if code:
                        break
            except BaseException:  # noqa: BLE001
                code = 2
            finally:
                os._exit(code)
        r = _wait(pid, 30.0)
        if r is None:
            hung.append(k)
        elif r != 0:
            failed.append((k, r))
    stop.set()
    for th in threads:
        th.join(timeout=60)
    assert not errors, errors
    assert not hung, f"children hung: {hung}"
    assert not failed, f"children failed (k, code): {failed}"
    for k in range(40):
        assert db.get_node(f"forked-{k}") is not None
    assert db.health().quick_check == "ok"
    db.close()
