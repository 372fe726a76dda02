"""Handles x Python threads x processes on one file.

Threads of this process open and close read-write and read-only handles and write through them while a
long-lived handle writes too; at the same time another process writes through CPython's own sqlite3 (a
different SQLite build) and, when installed, the sqlite3 shell. No committed row may be lost, nothing may
fail but with `busy`, and (Linux) the long-lived handle's POSIX lock stays visible in /proc/locks: closing
any descriptor of the file in this process would drop it (docs/connections.md). About 4 s.

CPython's sqlite3 runs in a child process only: two SQLite libraries in one process break each other's
locks, which is the rule this test must not break itself.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys
import threading
import time
from typing import List, Optional, Set

import resonance

SECONDS = 4.0

PY_WRITER = """
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
end = time.monotonic() + float(sys.argv[2])
n = 0
while time.monotonic() < end:
    c.execute("INSERT INTO nodes (id) VALUES (?)", ("py-%d" % n,))
    n += 1
c.close()
print(n)
"""


def lock_count(path: pathlib.Path) -> Optional[int]:
    """This process's POSIX locks on `path` in /proc/locks (None without /proc/locks)."""
    if not os.path.exists("/proc/locks"):
        return None
    inode = str(os.stat(path).st_ino)
    pid = str(os.getpid())

    def read() -> int:
        with open("/proc/locks") as f:
            rows = [line.split() for line in f]
        return sum(
            1
            for r in rows
            if len(r) >= 6 and r[1] == "POSIX" and r[4] == pid and r[5].split(":")[-1] == inode
        )

    # /proc/locks is read in chunks while other processes lock and unlock: re-read a zero.
    n = read()
    for _ in range(5):
        if n:
            break
        time.sleep(0.01)
        n = read()
    return n


def test_threads_python_sqlite3_and_the_shell_writing_one_file_lose_nothing(
    tmp_path: pathlib.Path,
) -> None:
    path = tmp_path / "shared.db"
    a = resonance.open(path)
    a.upsert_node("a-0")
    committed: Set[str] = {"a-0"}
    bad: List[str] = []
    lock = threading.Lock()

    py = subprocess.Popen(
        [sys.executable, "-c", PY_WRITER, str(path), str(SECONDS)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    shell_rows = 300
    shell = None
    if shutil.which("sqlite3"):
        script = ".timeout 30000\n.bail on\n" + "".join(
            f"INSERT INTO nodes (id) VALUES ('sh-{i}');\n" for i in range(shell_rows)
        )
        shell = subprocess.Popen(
            ["sqlite3", str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert shell.stdin is not None
        shell.stdin.write(script)
        shell.stdin.close()

    stop = threading.Event()

    def worker(t: int) -> None:
        i = 0
        while not stop.is_set():
            i += 1
            try:
                if t < 2:
                    with resonance.open(path) as h:
                        h.upsert_node(f"t{t}-{i}")
                    with lock:
                        committed.add(f"t{t}-{i}")
                elif t == 2:
                    with resonance.open(path, read_only=True) as h:
                        assert h.get_node("a-0") is not None
                else:
                    a.upsert_node(f"a-{i}")
                    with lock:
                        committed.add(f"a-{i}")
            except resonance.BusyError:
                pass
            except Exception as e:  # noqa: BLE001 - every other failure is reported
                with lock:
                    bad.append(f"thread {t}: {type(e).__name__}: {e}")

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(4)]
    for th in threads:
        th.start()
    end = time.monotonic() + SECONDS
    samples = 0
    try:
        while time.monotonic() < end:
            n = lock_count(path)
            if n is not None:
                samples += 1
                assert n >= 1, f"the long-lived handle lost its lock after {samples} samples"
            time.sleep(0.02)
    finally:
        stop.set()
        for th in threads:
            th.join()
    out, err = py.communicate(timeout=60)
    assert py.returncode == 0, err
    py_rows = int(out.strip())
    if shell is not None:
        shell.wait(timeout=60)
        assert shell.returncode == 0, shell.stderr.read() if shell.stderr else ""
    assert bad == []
    a.close()

    with resonance.open(path) as check:
        lost = [i for i in committed if check.get_node(i) is None]
        assert lost == []
        assert py_rows > 0
        assert [j for j in range(py_rows) if check.get_node(f"py-{j}") is None] == []
        if shell is not None:
            assert [j for j in range(shell_rows) if check.get_node(f"sh-{j}") is None] == []
        assert check.health().quick_check == "ok"
