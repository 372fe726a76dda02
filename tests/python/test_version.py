"""One version: ``resonance.__version__`` (compiled into the native module from Cargo.toml), the installed
distribution's metadata (maturin copies it from Cargo.toml) and the workspace ``Cargo.toml`` agree."""

from __future__ import annotations

import importlib.metadata
import re

import resonance

from conftest import REPO


def workspace_version() -> str:
    text = (REPO / "Cargo.toml").read_text(encoding="utf-8")
    section = text.split("[workspace.package]", 1)[1]
    m = re.search(r'^version = "([^"]+)"', section, re.M)
    assert m, "Cargo.toml has no [workspace.package] version"
    return m.group(1)


def test_version_is_the_workspace_version() -> None:
    assert resonance.__version__ == workspace_version()


def test_distribution_metadata_agrees() -> None:
    assert importlib.metadata.version("resonance") == resonance.__version__
