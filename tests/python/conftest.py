"""Shared fixtures of the Python binding tests."""

from __future__ import annotations

import os
import pathlib
from typing import Iterator

import numpy as np
import pytest

import resonance

REPO = pathlib.Path(__file__).resolve().parents[2]
CASES = REPO / "tests" / "conformance" / "cases"

# Filled by test_conformance.py, printed at the end of the run.
CONFORMANCE_RESULTS: dict[str, bool] = {}


@pytest.fixture
def db_path(tmp_path: pathlib.Path) -> pathlib.Path:
    return tmp_path / "db.sqlite"


@pytest.fixture
def db(db_path: pathlib.Path) -> Iterator[resonance.Database]:
    with resonance.open(db_path) as handle:
        yield handle


def unit_rows(n: int, dim: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    m = rng.standard_normal((n, dim)).astype(np.float32)
    m /= np.linalg.norm(m, axis=1, keepdims=True)
    return np.ascontiguousarray(m, dtype=np.float32)


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # type: ignore[no-untyped-def]
    if CONFORMANCE_RESULTS:
        ok = sum(CONFORMANCE_RESULTS.values())
        total = len(CONFORMANCE_RESULTS)
        terminalreporter.write_line(
            f"conformance (python runner): {ok} of {total} cases passed"
            + ("" if ok == total else "; failing: " + ", ".join(sorted(k for k, v in CONFORMANCE_RESULTS.items() if not v)))
        )
    if os.environ.get("RESONANCE_CLI") is None:
        terminalreporter.write_line("note: RESONANCE_CLI is not set; raw_sql steps fail")
