"""The .pyi stubs match the native module (mypy's stubtest), and the package type-checks."""

from __future__ import annotations

import pathlib
import subprocess
import sys

import resonance

PYTHON_DIR = pathlib.Path(__file__).resolve().parents[2] / "python"


def test_stubtest() -> None:
    r = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "resonance._native"],
        cwd=PYTHON_DIR,
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stdout + r.stderr


def test_mypy_on_the_package() -> None:
    r = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "resonance"],
        cwd=PYTHON_DIR,
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stdout + r.stderr


def test_package_reexports_every_public_native_name() -> None:
    native = {n for n in resonance._native.__all__ if not n.startswith("_")}
    exported = set(resonance.__all__)
    assert native - {"__version__"} <= exported | {"open"}
    for name in resonance.__all__:
        assert hasattr(resonance, name), name
    assert (PYTHON_DIR / "resonance" / "py.typed").exists()
