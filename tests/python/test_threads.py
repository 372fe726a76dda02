"""Concurrency: the GIL is released during engine work, one handle is shared by threads, close() is
safe while other threads are inside calls."""

from __future__ import annotations

import pathlib
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import List

import numpy as np
import pytest

import resonance

from conftest import unit_rows

N_ROWS, DIM, N_QUERIES = 40_000, 64, 96


@pytest.fixture(scope="module")
def search_db(tmp_path_factory: pytest.TempPathFactory) -> resonance.Database:
    path = tmp_path_factory.mktemp("threads") / "db.sqlite"
    db = resonance.open(path)
    m = unit_rows(N_ROWS, DIM, seed=7)
    db.upsert_nodes([{"id": f"n{i:06}"} for i in range(N_ROWS)], m)
    return db


def test_eight_threads_in_search_leave_python_running(search_db: resonance.Database) -> None:
    """Eight threads in `search` at once hold no GIL while in the engine: another Python thread keeps
    running throughout. (How much faster eight threads are than one is a benchmark, not a test: see
    bench/python_bench.py; this machine is shared.)"""
    queries = unit_rows(N_QUERIES, DIM, seed=8)
    done = threading.Event()
    ticks = 0

    def python_work() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            time.sleep(0)

    def one(i: int) -> str:
        return search_db.search(queries[i], k=10, threads=1)[0].id

    t = threading.Thread(target=python_work)
    t.start()
    try:
        with ThreadPoolExecutor(8) as ex:
            ids = list(ex.map(one, range(len(queries))))
    finally:
        done.set()
        t.join()
    assert len(ids) == len(queries) and all(i.startswith("n") for i in ids)
    assert ticks > 100, f"only {ticks} Python steps ran while eight threads searched"


def test_gil_is_released_during_search(search_db: resonance.Database) -> None:
    queries = unit_rows(64, DIM, seed=9)
    done = threading.Event()
    ticks = 0

    def python_work() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            time.sleep(0)

    t = threading.Thread(target=python_work)
    t.start()
    try:
        # One long native call: a batch search over the whole matrix, single-threaded.
        start = time.perf_counter()
        for _ in range(3):
            search_db.search_batch(queries, k=10, threads=1)
        elapsed = time.perf_counter() - start
    finally:
        done.set()
        t.join()
    # With the GIL held for the whole call the other thread could only run between calls.
    assert ticks > 100, f"only {ticks} Python steps ran during {elapsed:.3f}s of native work"


def test_shared_handle_readers_and_writers(db: resonance.Database) -> None:
    errors: List[BaseException] = []
    m = unit_rows(400, 8, seed=10)

    def writer(w: int) -> None:
        try:
            for i in range(50):
                db.upsert_node(f"w{w}-{i}", meta={"i": i}, embedding=m[w * 50 + i])
                db.add_edge(f"w{w}-{i}", f"w{w}-{max(i - 1, 0)}")
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    def reader() -> None:
        try:
            for i in range(100):
                db.search(m[i], k=5)
                db.get_node(f"w0-{i % 50}")
                db.stats()
                db.neighbors("w0-0") if db.get_node("w0-0") else None
        except resonance.NotFoundError:
            pass
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    threads += [threading.Thread(target=reader) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert db.stats().nodes == 200


def test_close_while_other_threads_are_inside_calls(tmp_path: pathlib.Path) -> None:
    db = resonance.open(tmp_path / "db.sqlite")
    m = unit_rows(5000, 32, seed=11)
    db.upsert_nodes([{"id": f"n{i}"} for i in range(5000)], m)
    outcomes: List[str] = []
    started = threading.Barrier(5)

    def worker(k: int) -> None:
        started.wait()
        try:
            while True:
                db.search(m[k], k=5)
                db.get_node("n1")
                db.upsert_node(f"x{k}")
        except resonance.ClosedError:
            outcomes.append("closed")
        except BaseException as e:  # noqa: BLE001
            outcomes.append(repr(e))

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    started.wait()
    time.sleep(0.2)
    db.close()
    db.close()
    for t in threads:
        t.join(timeout=60)
    assert outcomes == ["closed"] * 4


def test_transaction_blocks_other_threads_until_commit(db: resonance.Database) -> None:
    order: List[str] = []
    in_tx = threading.Event()

    def other() -> None:
        in_tx.wait()
        db.upsert_node("from-other")
        order.append("other wrote")

    t = threading.Thread(target=other)
    t.start()
    with db.transaction():
        db.upsert_node("in-tx")
        in_tx.set()
        time.sleep(0.2)
        order.append("committing")
    t.join()
    assert order == ["committing", "other wrote"]
    assert db.get_node("in-tx") is not None and db.get_node("from-other") is not None
