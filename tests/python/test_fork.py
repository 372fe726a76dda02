"""After os.fork(), a handle opened by the parent refuses to work in the child; the child can open its
own handle and search (rayon's pools, which do not survive fork, are not used there)."""

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
