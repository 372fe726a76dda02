"""The .pyi stubs match the native module (mypy's stubtest), and the package type-checks."""

from __future__ import annotations

import ast
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
    # InterruptedError is reached as resonance.InterruptedError only: in __all__, a star import
    # would shadow the builtin of that name.
    assert "InterruptedError" not in exported and hasattr(resonance, "InterruptedError")
    assert native - {"__version__", "InterruptedError"} <= exported | {"open"}
    for name in resonance.__all__:
        assert hasattr(resonance, name), name
    assert (PYTHON_DIR / "resonance" / "py.typed").exists()


def test_the_shipped_module_holds_only_the_api() -> None:
    # The private `_…` functions are test hooks (python/src/test_hooks.rs), compiled only with the
    # `test-hooks` cargo feature that scripts/test-python.sh turns on: off by default and not named by
    # the maturin configuration the wheels are built with; never in __all__ nor in the stubs.
    assert all(not n.startswith("_") or n.startswith("__") for n in resonance._native.__all__)
    stub = ast.parse((PYTHON_DIR / "resonance" / "_native.pyi").read_text(encoding="utf-8"))
    private = [
        n.name
        for n in stub.body
        if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n.name.startswith("_")
    ]
    assert private == []
    cargo = (PYTHON_DIR / "Cargo.toml").read_text(encoding="utf-8")
    default = [line for line in cargo.splitlines() if line.strip().startswith("default")]
    assert all("test-hooks" not in line for line in default), default
    assert "test-hooks" in cargo
    assert "test-hooks" not in (PYTHON_DIR / "pyproject.toml").read_text(encoding="utf-8")
    # This test build has them (the tests that call them would fail otherwise).
    assert callable(getattr(resonance._native, "_raise_engine_error", None))
