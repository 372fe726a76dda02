"""Reliability of the Python binding (items 5 and 7).

1. A bad-input matrix: every public call that takes arguments, fed None in every argument position,
   wrong types, bad vectors and arrays, out-of-range integers, huge and hostile ids (SQL metacharacters,
   NUL bytes, lone surrogates), use after close, transaction misuse. Every case must raise its exact
   `resonance.Error` subclass (checked by class and `.code`) or return the correct non-error result; the
   process stays alive and the database is unchanged: a content hash of the file, read by the CLI in
   another process, is taken before and after the matrix and after every case of a writing method.
   Calls that legitimately write (None for an optional argument of a writer, a hostile id stored and
   read back) run on a separate scratch database.

   No case expects Python's own TypeError/OverflowError/UnicodeEncodeError: the binding raises
   `InvalidArgumentError` for a wrong type, None where a value is required, a negative or too large
   integer and a str that cannot be UTF-8 (pyo3 adds the note "while processing '<argument>'").

2. A soak: open / get_node + search + stats / close cycles on one small database (20,000 by default,
   1,000,000 with RESONANCE_SOAK=1); resident memory at the end must not exceed the RSS after warm-up
   (10% of the cycles) by more than 5%.
"""

from __future__ import annotations

import gc
import hashlib
import itertools
import math
import os
import pathlib
import subprocess
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import numpy as np
import pytest

import resonance

REPO = pathlib.Path(__file__).resolve().parents[2]
COUNTS = REPO / "target" / "reliability-counts"

IA = resonance.InvalidArgumentError
IV = resonance.InvalidVectorError
DM = resonance.DimensionMismatchError
NF = resonance.NotFoundError
CL = resonance.ClosedError
IO = resonance.IoError

DIM = 4
NODES = 5
BIG_ID = "x" * (1 << 20)  # 1 MB
SQL = "'; DROP TABLE nodes; --"


# ---- the content hash, read by another process -------------------------------------------------------


def cli() -> str:
    c = os.environ.get("RESONANCE_CLI") or str(REPO / "target" / "debug" / "resonance")
    if not os.path.exists(c):
        pytest.fail(f"the CLI {c} is missing: run through scripts/test-python.sh (it builds it and sets RESONANCE_CLI)")
    return c


def content_hash(path: pathlib.Path) -> str:
    """sha256 of the rows of nodes and edges and the number of history rows, as the CLI prints them."""
    h = hashlib.sha256()
    for sql in (
        "SELECT * FROM nodes ORDER BY id",
        "SELECT * FROM edges ORDER BY 1,2,3",
        "SELECT count(*) FROM history",
    ):
        r = subprocess.run([cli(), "sql", "--raw", "--json", str(path), sql], capture_output=True, timeout=60)
        assert r.returncode == 0, f"{sql}: {r.stderr.decode(errors='replace')}"
        h.update(sql.encode() + b"\0" + r.stdout + b"\0")
    return h.hexdigest()


def seed(db: resonance.Database) -> None:
    rng = np.random.default_rng(7)
    m = rng.standard_normal((NODES, DIM)).astype(np.float32)
    m /= np.linalg.norm(m, axis=1, keepdims=True)
    db.upsert_nodes(
        [{"id": f"n{i}", "type": "note" if i % 2 == 0 else "doc", "domain": "d1", "meta": {"i": i}} for i in range(NODES)],
        np.ascontiguousarray(m),
    )
    db.add_edges([("n0", "n1", "cites"), ("n1", "n2", "cites"), ("n2", "n3"), ("n3", "n0")])


# ---- results made comparable -------------------------------------------------------------------------


def norm(r: Any) -> Any:
    """A result as plain data (hits, nodes, records, arrays), to compare two calls."""
    if isinstance(r, resonance.Hit):
        return ("hit", r.id, round(r.score, 6))
    if isinstance(r, np.ndarray):
        return ("array", r.dtype.str, r.shape, [norm(x) for x in r.ravel().tolist()])
    if isinstance(r, float) and math.isnan(r):
        return "nan"
    if isinstance(r, float):
        return round(r, 9)
    if isinstance(r, (list, tuple)):
        return [norm(x) for x in r]
    if isinstance(r, dict):
        return {k: norm(v) for k, v in r.items()}
    if hasattr(r, "to_dict"):
        return norm(r.to_dict())
    return r


@dataclass
class Check:
    """A correct non-error result: `ok(result)` says whether the result is right."""

    what: str
    ok: Callable[[Any], bool]


def returns(value: Any) -> Check:
    return Check(f"returns {value!r}", lambda r: norm(r) == norm(value))


def empty_batch(rows: int) -> Check:
    return Check(
        f"empty ({rows}, 0) result arrays",
        lambda r: r[0].shape == (rows, 0) and r[1].shape == (rows, 0) and r[1].dtype == np.float32,
    )


# ---- the case table ------------------------------------------------------------------------------------


@dataclass
class Case:
    name: str
    run: Callable[[], Any]
    expect: Any  # an exception class, or a Check
    where: str = "main"  # "main" (the hashed database), "scratch" (a successful write), "closed", "none"
    writes: bool = False  # a writing method: the main database's hash is taken after the case


@dataclass
class Param:
    name: str
    kind: str  # see BAD below
    valid: Any  # a value, or a zero-argument callable making a fresh one
    id_like: bool = False  # names an entity (or a filter value): hostile ids apply
    missing: Any = None  # the result for a hostile value here, when not the method's `missing`


@dataclass
class Method:
    name: str
    params: list[Param]
    owner: str = "db"  # "db" (a Database method), "module" (resonance.<name>), "Hit"
    writes: bool = False
    missing: Any = None  # the result for an id naming nothing (an exception class or a Check)
    legit_ok: Optional[Check] = None  # the result of a successful write (scratch database)
    stores_text: tuple[str, ...] = ()  # text params a write stores verbatim (round-tripped on scratch)


class Fresh:
    """A valid value made anew for each call (a new backup path)."""

    def __init__(self, make: Callable[[], Any]) -> None:
        self.make = make


def vec(values: Any = None, dtype: Any = np.float32) -> np.ndarray:
    if values is None:
        values = [0.6, 0.8, 0.0, 0.0]
    return np.array(values, dtype=dtype)


def mat(rows: int = 2, dim: int = DIM, dtype: Any = np.float32) -> np.ndarray:
    m = np.zeros((rows, dim), dtype=dtype)
    for i in range(rows):
        m[i, i % dim] = 1.0
    return m


NAN, INF = float("nan"), float("inf")

# Bad values per kind of parameter: (label, value, expected). Kinds ending in "?" accept None (the default).
BAD: dict[str, list[tuple[str, Any, Any]]] = {
    "str": [("None", None, IA), ("int", 3, IA), ("bytes", b"n0", IA), ("list", ["n0"], IA), ("lone surrogate", "\ud800", IA)],
    "str?": [("int", 3, IA), ("dict", {"a": 1}, IA), ("lone surrogate", "\ud800", IA)],
    "usize": [("None", None, IA), ("str", "3", IA), ("float", 1.5, IA), ("negative", -1, IA), ("2**64", 2**64, IA)],
    "usize?": [("str", "3", IA), ("float", 1.5, IA), ("negative", -1, IA), ("2**64", 2**64, IA)],
    "u32": [("None", None, IA), ("str", "7", IA), ("negative", -1, IA), ("2**32", 2**32, IA)],
    "u32?": [("str", "7", IA), ("negative", -1, IA), ("2**32", 2**32, IA)],
    "u64": [("None", None, IA), ("str", "1", IA), ("negative", -1, IA), ("2**64", 2**64, IA)],
    "u64?": [("str", "1", IA), ("negative", -1, IA), ("2**64", 2**64, IA)],
    "float": [("None", None, IA), ("str", "0.5", IA), ("list", [0.5], IA)],
    "float?": [("str", "0.5", IA), ("list", [0.5], IA)],
    "bool": [("None", None, IA), ("str", "yes", IA), ("int", 1, IA)],
    "bool?": [("str", "yes", IA), ("int", 1, IA)],
    "path": [("None", None, IA), ("int", 3, IA), ("list", ["x.db"], IA), ("lone surrogate", "\ud800.db", IA)],
    "path?": [("int", 3, IA), ("list", ["x.db"], IA), ("lone surrogate", "\ud800.db", IA)],
    "vector": [
        ("None", None, IA),
        ("str", "abcd", IA),
        ("dict", {"a": 1.0}, IA),
        ("float64 array", vec(dtype=np.float64), IA),
        ("int32 array", vec([1, 0, 0, 0], dtype=np.int32), IA),
        ("2-D array", vec().reshape(1, DIM), IA),
        ("non-contiguous array", np.repeat(vec(), 2)[::2], IA),
        ("0-d array", np.float32(1.0), IA),
        ("list holding a str", [1.0, "x", 0.0, 0.0], IA),
        ("list holding None", [1.0, None, 0.0, 0.0], IA),
        ("list holding 10**400", [10**400, 0.0, 0.0, 0.0], IA),
        ("bytes", b"\x00\x00\x80?" * DIM, IA),  # a buffer of uint8, not float32
        ("NaN", vec([NAN, 1.0, 0.0, 0.0]), IV),
        ("Inf", vec([INF, 1.0, 0.0, 0.0]), IV),
        ("-Inf list", [0.0, -INF, 0.0, 0.0], IV),
        ("all zero", vec([0.0] * DIM), IV),
        ("empty", vec([]), IV),
        ("empty list", [], IV),
        ("wrong dimension", vec([1.0, 0.0, 0.0]), DM),
        ("wrong dimension list", [1.0] * (DIM + 1), DM),
    ],
    "matrix": [
        ("None", None, IA),
        ("str", "abcd", IA),
        ("dict", {"a": [1.0]}, IA),
        ("float64 array", mat(dtype=np.float64), IA),
        ("1-D float32 array", vec(), IA),
        ("3-D array", mat().reshape(1, 2, DIM), IA),
        ("non-contiguous (transposed)", np.ones((DIM, 2), np.float32).T, IA),
        ("flat list", [1.0, 0.0, 0.0, 0.0], IA),
        ("ragged list", [[1.0, 0.0, 0.0, 0.0], [1.0, 0.0]], IA),
        ("NaN row", np.vstack([mat(1), vec([NAN, 0, 0, 1]).reshape(1, DIM)]).astype(np.float32), IV),
        ("Inf row", np.vstack([mat(1), vec([0, INF, 0, 1]).reshape(1, DIM)]).astype(np.float32), IV),
        ("all-zero row", np.vstack([mat(1), np.zeros((1, DIM))]).astype(np.float32), IV),
        ("wrong dimension", mat(2, DIM - 1), DM),
    ],
    "meta": [
        ("invalid JSON text", "{not json", IA),
        ("NaN (json.dumps writes NaN, not JSON)", {"x": NAN}, IA),
        ("not serialisable", {"x": object()}, IA),
        ("lone surrogate", {"x": "\ud800"}, IA),
        ("lone surrogate in JSON text", '{"x": "\ud800"}', IA),
    ],
}
# Optional vectors/matrices: the same bad values, None excepted (None is the default).
BAD["vector?"] = [b for b in BAD["vector"] if b[0] != "None"]
BAD["matrix?"] = [b for b in BAD["matrix"] if b[0] != "None"]
BAD["meta?"] = BAD["meta"]
NONE_OK = {k for k in BAD if k.endswith("?")}

# Ids that name nothing: huge, SQL metacharacters (a LIKE would match "n%"/"n_" to n0), quotes, NUL.
HOSTILE_IDS = [
    ("1 MB id", BIG_ID),
    ("SQL injection", SQL),
    ("percent", "%"),
    ("underscore", "_"),
    ("n%", "n%"),
    ("n_", "n_"),
    ("single quote", "'"),
    ("double quote", '"'),
    ("backslash", "\\"),
    ("NUL", "\x00"),
    ("n0 + NUL", "n0\x00"),
]

_backup_counter = itertools.count()


def methods(tmp: pathlib.Path, main_path: pathlib.Path) -> list[Method]:
    S = "str"
    empty_list = returns([])

    def search_opts(no_match: Any) -> list[Param]:
        return [
            Param("min_score", "float?", -1.0),
            Param("domain", "str?", "d1", id_like=True, missing=no_match),
            Param("type", "str?", "note", id_like=True, missing=no_match),
            Param("threads", "usize?", 1),
        ]

    return [
        # ---- module functions and the Hit constructor
        Method("open", [Param("path", "path", main_path), Param("read_only", "bool?", False), Param("migrate", "bool?", True),
                        Param("allow_destructive", "bool?", False), Param("backup", "bool?", False),
                        Param("busy_timeout_ms", "u32?", 5000), Param("backup_retention_days", "u32?", 7)], owner="module", writes=True,
               legit_ok=Check("opens", lambda r: r.close() is None)),
        Method("generate_id", [Param("path", S, "docs/README.md")], owner="module"),
        Method("Hit", [Param("id", S, "a"), Param("score", "float", 0.5)], owner="Hit"),
        # ---- store
        Method("upsert_node", [Param("id", S, "n0", id_like=True), Param("type", "str?", "changed", id_like=True),
                               Param("title", "str?", "changed"), Param("domain", "str?", "changed", id_like=True),
                               Param("layer", "str?", "changed"), Param("hash", "str?", "changed"),
                               Param("summary", "str?", "changed"), Param("meta", "meta?", {"changed": True}),
                               Param("date", "str?", "2030-01-01"), Param("embedding", "vector?", lambda: vec())],
               writes=True, missing="write", legit_ok=returns(None), stores_text=("id", "type", "domain")),
        Method("upsert_nodes", [Param("nodes", "nodes", lambda: [{"id": "n0", "type": "changed"}, {"id": "n1", "type": "changed"}]),
                                Param("embeddings", "matrix?", lambda: mat(2))], writes=True, legit_ok=returns(2)),
        Method("get_node", [Param("id", S, "n0", id_like=True), Param("with_embedding", "bool?", True)], missing=returns(None)),
        Method("list_nodes", [Param("domain", "str?", "d1", id_like=True), Param("type", "str?", "note", id_like=True),
                              Param("limit", "usize?", 10), Param("offset", "usize?", 0), Param("with_embeddings", "bool?", False)],
               missing=empty_list),
        Method("delete_node", [Param("id", S, "n0", id_like=True)], writes=True, missing=NF),
        Method("update_meta", [Param("id", S, "n0", id_like=True), Param("meta", "meta?", {"changed": 1})],
               writes=True, missing=NF, legit_ok=returns(None)),
        Method("update_node", [Param("id", S, "n0", id_like=True),
                               Param("type", "str?", "changed", id_like=True, missing="write"),
                               Param("title", "str?", "changed"), Param("meta", "meta?", {"changed": True}),
                               Param("embedding", "vector?", lambda: vec())],
               writes=True, missing=NF, legit_ok=returns(None), stores_text=("type",)),
        Method("merge_meta", [Param("id", S, "n0", id_like=True), Param("patch", "meta?", {"changed": 1})],
               writes=True, missing=NF, legit_ok=returns(None)),
        Method("history", [Param("entity_id", S, "n0", id_like=True)], missing=empty_list),
        Method("prune_history", [Param("older_than_days", "u32?", 36500), Param("keep_last", "u64?", 10**6)],
               writes=True, legit_ok=returns(0)),
        # ---- edges
        Method("add_edge", [Param("source", S, "n0", id_like=True), Param("target", S, "n4", id_like=True),
                            Param("type", "str?", "changed", id_like=True), Param("confidence", "float?", 0.5),
                            Param("veracity", "float?", 0.5), Param("context_source", "str?", "x")],
               writes=True, missing="write", legit_ok=Check("returns a bool", lambda r: isinstance(r, bool)),
               stores_text=("source", "target", "type")),
        Method("add_edges", [Param("edges", "edges", lambda: [("n0", "n4", "changed")])], writes=True),
        Method("upsert_edge", [Param("source", S, "n0", id_like=True), Param("target", S, "n1", id_like=True),
                               Param("type", "str?", "cites", id_like=True), Param("confidence", "float?", 0.25),
                               Param("veracity", "float?", 0.25), Param("context_source", "str?", "x")],
               writes=True, missing="write", legit_ok=returns(None), stores_text=("source", "target", "type")),
        Method("delete_edge", [Param("source", S, "n0", id_like=True), Param("target", S, "n1", id_like=True),
                               Param("type", "str?", "cites", id_like=True)], writes=True, missing=NF),
        Method("edges_from", [Param("id", S, "n0", id_like=True)], missing=empty_list),
        Method("edges_to", [Param("id", S, "n0", id_like=True)], missing=empty_list),
        # ---- vectors
        Method("set_embedding", [Param("id", S, "n0", id_like=True), Param("vector", "vector", lambda: vec())],
               writes=True, missing=NF),
        Method("get_embedding", [Param("id", S, "n0", id_like=True)], missing=NF),
        Method("search", [Param("vector", "vector", lambda: vec()), Param("k", "usize?", 3), *search_opts(empty_list)], missing=empty_list),
        Method("search_like", [Param("id", S, "n0", id_like=True), Param("k", "usize?", 3), *search_opts(empty_list)], missing=NF),
        Method("search_batch", [Param("vectors", "matrix", lambda: mat(2)), Param("k", "usize?", 3), *search_opts(empty_batch(2))],
               missing=empty_batch(2)),
        # ---- graph
        *[Method(m, [Param("id", S, "n0", id_like=True)], missing=NF) for m in ("neighbors", "successors", "predecessors", "degree")],
        Method("traverse", [Param("start", S, "n0", id_like=True), Param("max_depth", "usize?", 2),
                            Param("direction", "str?", "both")], missing=NF),
        Method("shortest_path", [Param("source", S, "n0", id_like=True), Param("target", S, "n2", id_like=True),
                                 Param("direction", "str?", "both")], missing=NF),
        Method("pagerank", [Param("alpha", "float?", 0.85), Param("tolerance", "float?", 1e-6),
                            Param("max_iterations", "usize?", 100)]),
        Method("betweenness", [Param("normalized", "bool?", True), Param("sample", "usize?", 2), Param("seed", "u64?", 1)]),
        Method("communities", [Param("resolution", "float?", 1.0), Param("seed", "u64?", 1)]),
        Method("adamic_adar", [Param("a", S, "n0", id_like=True), Param("b", S, "n2", id_like=True)], missing=NF),
        Method("link_candidates", [Param("limit", "usize?", 3)]),
        Method("pillars", [Param("limit", "usize?", 3)]),
        # ---- maintenance (content-neutral, but hashed like writers)
        Method("migrate", [Param("dry_run", "bool?", True), Param("allow_destructive", "bool?", False),
                           Param("backup", "bool?", False), Param("backup_retention_days", "u32?", 7)],
               writes=True, legit_ok=Check("returns a migration report", lambda r: r is not None)),
        Method("backup", [Param("dest", "path?", Fresh(lambda: tmp / f"backup-{next(_backup_counter)}.db"))], writes=True,
               legit_ok=Check("returns the backup's path, which exists", lambda r: pathlib.Path(r).exists())),
        Method("checkpoint", [Param("mode", "str?", "passive")], writes=True,
               legit_ok=Check("returns SQLite's answer", lambda r: r is not None)),
    ]


@dataclass
class Env:
    db: resonance.Database
    scratch: resonance.Database
    closed: resonance.Database
    main_path: pathlib.Path
    tmp: pathlib.Path
    cases: list[Case] = field(default_factory=list)


def value_of(v: Any) -> Any:
    if isinstance(v, Fresh):
        return v.make()
    if callable(v):
        return v()
    return v


def target_of(env: Env, m: Method, where: str) -> Callable[..., Any]:
    if m.owner == "module":
        return getattr(resonance, m.name)
    if m.owner == "Hit":
        return resonance.Hit
    handle = {"main": env.db, "scratch": env.scratch, "closed": env.closed}[where]
    return getattr(handle, m.name)


def call(env: Env, m: Method, where: str, override: dict[str, Any], omit: tuple[str, ...] = ()) -> Callable[[], Any]:
    """A call of `m` with valid arguments but `override` (all passed by keyword: pyo3 extracts a keyword
    and a positional argument the same way)."""

    def run() -> Any:
        kwargs = {p.name: override[p.name] if p.name in override else value_of(p.valid) for p in m.params if p.name not in omit}
        return target_of(env, m, where)(**kwargs)

    return run


def same_as_default(env: Env, m: Method, name: str) -> Check:
    """None for an optional argument behaves as leaving it out."""
    return Check(f"same as leaving {name} out", lambda r: norm(r) == norm(call(env, m, "main", {}, omit=(name,))()))


def round_trip(env: Env, m: Method, name: str, value: str) -> Check:
    """A hostile text stored by a write on the scratch database reads back verbatim."""

    def ok(r: Any) -> bool:
        s = env.scratch
        if m.name in ("upsert_node", "update_node"):
            node = s.get_node(value if name == "id" else "n0")
            if node is None:
                return False
            got = {"id": node.id, "type": node.type, "domain": node.domain}[name]
            if got != value:
                return False
            if name == "domain":
                return [n.id for n in s.list_nodes(domain=value)] == ["n0"]
            return True
        src = value if name == "source" else "n0"
        edges = [(e.source, e.target, e.type) for e in s.edges_from(src)]
        return any({"source": e[0], "target": e[1], "type": e[2]}[name] == value for e in edges)

    return Check(f"{name} stored and read back verbatim", ok)


def build_cases(env: Env) -> list[Case]:
    cases: list[Case] = []
    all_methods = methods(env.tmp, env.main_path)

    def add(name: str, run: Callable[[], Any], expect: Any, where: str = "main", writes: bool = False) -> None:
        cases.append(Case(name, run, expect, where, writes))

    for m in all_methods:
        label = m.name if m.owner != "db" else f"db.{m.name}"
        for p in m.params:
            # Bad values of the parameter's kind (None included where a value is required).
            for what, bad, expected in BAD.get(p.kind, []):
                add(f"{label}({p.name}={what})", call(env, m, "main", {p.name: bad}), expected, writes=m.writes)
            # None where None is the default: the correct result, not an error.
            if p.kind in NONE_OK:
                if m.writes:
                    ok = m.legit_ok or returns(None)
                    add(f"{label}({p.name}=None) [scratch]", call(env, m, "scratch", {p.name: None}), ok, "scratch")
                else:
                    add(f"{label}({p.name}=None)", call(env, m, "main", {p.name: None}), same_as_default(env, m, p.name))
            # Ids (and filter values) naming nothing.
            missing = p.missing if p.missing is not None else m.missing
            if p.id_like and missing is not None:
                for what, hostile in HOSTILE_IDS:
                    n = f"{label}({p.name}={what})"
                    if missing == "write":
                        if p.name in m.stores_text:
                            add(n + " [scratch]", call(env, m, "scratch", {p.name: hostile}), round_trip(env, m, p.name, hostile), "scratch")
                    else:
                        add(n, call(env, m, "main", {p.name: hostile}), missing, writes=m.writes)
        # Use after close: valid arguments, closed handle.
        if m.owner == "db":
            add(f"closed db.{m.name}(valid arguments)", call(env, m, "closed", {}), CL, "closed")

    db, sc, closed = env.db, env.scratch, env.closed
    q = vec()

    # ---- node dicts of upsert_nodes
    for key in ("id", "type", "title", "domain", "layer", "hash", "summary", "date"):
        for what, bad in (("int", 3), ("lone surrogate", "\ud800"), ("list", ["x"])):
            add(f"db.upsert_nodes(nodes[0].{key}={what})", lambda key=key, bad=bad: db.upsert_nodes([{"id": "n0", key: bad}]), IA, writes=True)
        if key == "id":
            add("db.upsert_nodes(nodes[0].id=None)", lambda: db.upsert_nodes([{"id": None}]), IA, writes=True)
        else:
            add(f"db.upsert_nodes(nodes[0].{key}=None) [scratch]", lambda key=key: sc.upsert_nodes([{"id": "n0", key: None}]), returns(1), "scratch")
    add("db.upsert_nodes(nodes[0].meta=invalid JSON)", lambda: db.upsert_nodes([{"id": "n0", "meta": "{nope"}]), IA, writes=True)
    add("db.upsert_nodes(nodes[0].meta=object())", lambda: db.upsert_nodes([{"id": "n0", "meta": object()}]), IA, writes=True)
    add("db.upsert_nodes(nodes[0].meta=None) [scratch]", lambda: sc.upsert_nodes([{"id": "n0", "meta": None}]), returns(1), "scratch")
    for what, bad, expected in BAD["vector?"]:
        add(f"db.upsert_nodes(nodes[0].embedding={what})", lambda bad=bad: db.upsert_nodes([{"id": "n0", "embedding": bad}]), expected, writes=True)
    add("db.upsert_nodes(nodes[0].embedding=None) [scratch]", lambda: sc.upsert_nodes([{"id": "n0", "embedding": None}]), returns(1), "scratch")
    for what, bad in (
        ("None", None),
        ("str", "n0"),
        ("dict", {"id": "n0"}),
        ("int", 3),
        ("[None]", [None]),
        ("[str]", ["n0"]),
        ("[tuple]", [("n0",)]),
        ("missing id", [{"type": "x"}]),
        ("unknown key", [{"id": "n0", "bogus": 1}]),
        ("int key", [{"id": "n0", 3: "x"}]),
        ("empty id", [{"id": ""}]),
        ("second of two bad", [{"id": "n0", "type": "changed"}, {"id": 5}]),
    ):
        add(f"db.upsert_nodes(nodes={what})", lambda bad=bad: db.upsert_nodes(bad), IA, writes=True)
    add("db.upsert_nodes(embeddings with 2 rows for 1 node)", lambda: db.upsert_nodes([{"id": "n0"}], mat(2)), IA, writes=True)
    add("db.upsert_nodes(embedding in a node and embeddings)", lambda: db.upsert_nodes([{"id": "n0", "embedding": vec()}], mat(1)), IA, writes=True)
    add("db.upsert_nodes(embeddings of rows of length 0)", lambda: db.upsert_nodes([{"id": "n0"}], np.zeros((1, 0), np.float32)), IV, writes=True)
    add("db.upsert_nodes([]) writes nothing", lambda: db.upsert_nodes([]), returns(0), writes=True)

    # ---- edge dicts and tuples of add_edges
    good = {"source": "n0", "target": "n4", "type": "changed"}
    for key, what, bad in (
        ("source", "None", None), ("source", "int", 3), ("source", "lone surrogate", "\ud800"),
        ("target", "None", None), ("target", "int", 3), ("target", "lone surrogate", "\ud800"),
        ("type", "int", 3), ("type", "lone surrogate", "\ud800"), ("type", "empty", ""),
        ("confidence", "str", "x"), ("confidence", "NaN", NAN), ("confidence", "Inf", INF),
        ("veracity", "str", "x"), ("veracity", "NaN", NAN), ("veracity", "-Inf", -INF),
        ("context_source", "int", 3), ("context_source", "lone surrogate", "\ud800"),
        ("bogus", "unknown key", 1),
    ):
        add(f"db.add_edges(edges[0].{key}={what})", lambda key=key, bad=bad: db.add_edges([{**good, key: bad}]), IA, writes=True)
    for key in ("type", "confidence", "veracity", "context_source"):
        add(f"db.add_edges(edges[0].{key}=None) [scratch]", lambda key=key: sc.add_edges([{**good, key: None}]),
            Check("returns 0 or 1", lambda r: r in (0, 1)), "scratch")
    for what, bad in (
        ("str", "n0"),
        ("dict", good),
        ("None", None),
        ("[None]", [None]),
        ("[str]", ["n0"]),
        ("[1-tuple]", [("n0",)]),
        ("[4-tuple]", [("n0", "n1", "t", 0.5)]),
        ("[(None, n1)]", [(None, "n1")]),
        ("[(n0, 3)]", [("n0", 3)]),
        ("[(n0, n1, 3)]", [("n0", "n1", 3)]),
        ("[(surrogate, n1)]", [("\ud800", "n1")]),
        ("[list pair]", [["n0", "n1"]]),
        ("int key", [{1: "n0"}]),
        ("empty source", [("", "n1")]),
        ("second of two bad", [("n0", "n4", "changed"), ("n0", None)]),
    ):
        add(f"db.add_edges(edges={what})", lambda bad=bad: db.add_edges(bad), IA, writes=True)
    add("db.add_edges([(n0, n1, None)]) [scratch]", lambda: sc.add_edges([("n0", "n1", None)]), Check("returns 0 or 1", lambda r: r in (0, 1)), "scratch")
    add("db.add_edges([]) writes nothing", lambda: db.add_edges([]), returns(0), writes=True)

    # ---- values the engine checks
    for name, run, expected in (
        ("db.upsert_node(id=empty)", lambda: db.upsert_node(""), IA),
        ("db.add_edge(source=empty)", lambda: db.add_edge("", "n1"), IA),
        ("db.add_edge(target=empty)", lambda: db.add_edge("n0", ""), IA),
        ("db.add_edge(type=empty)", lambda: db.add_edge("n0", "n1", ""), IA),
        ("db.add_edge(confidence=NaN)", lambda: db.add_edge("n0", "n4", confidence=NAN), IA),
        ("db.add_edge(veracity=Inf)", lambda: db.add_edge("n0", "n4", veracity=INF), IA),
        ("db.upsert_edge(confidence=NaN)", lambda: db.upsert_edge("n0", "n1", "cites", confidence=NAN), IA),
        ("db.upsert_edge(veracity=-Inf)", lambda: db.upsert_edge("n0", "n1", "cites", veracity=-INF), IA),
        ("db.update_meta(meta=invalid JSON)", lambda: db.update_meta("n0", "{nope"), IA),
        ("db.upsert_node(embedding=wrong dimension, new id)", lambda: db.upsert_node("new", embedding=vec([1.0, 0.0])), DM),
        ("db.set_embedding(n0, wrong dimension 5)", lambda: db.set_embedding("n0", vec([1.0] * 5)), DM),
        ("db.checkpoint(mode=sideways)", lambda: db.checkpoint("sideways"), IA),
        ("db.checkpoint(mode=SQL injection)", lambda: db.checkpoint("passive); DROP TABLE nodes; --"), IA),
        ("db.checkpoint(mode=empty)", lambda: db.checkpoint(""), IA),
        ("db.backup(dest=the database itself)", lambda: db.backup(env.main_path), IA),
        ("db.backup(dest=with NUL)", lambda: db.backup(env.tmp / "a\x00b.db"), IA),
        ("db.prune_history(keep_last=2**64-1) deletes nothing", lambda: db.prune_history(keep_last=2**64 - 1), returns(0)),
        ("db.commit() without a transaction", lambda: db.commit(), IA),
        ("db.rollback() without a transaction", lambda: db.rollback(), IA),
        ("open(path=empty)", lambda: resonance.open(""), IA),
        ("open(path=a directory)", lambda: resonance.open(env.tmp), IO),
        # The core rejects a path no file can have before touching the file system.
        ("open(path=with NUL)", lambda: resonance.open(env.tmp / "a\x00b.db"), IA),
        ("open(busy_timeout_ms=10, below the minimum)", lambda: resonance.open(env.main_path, busy_timeout_ms=10), IA),
        ("open(read_only, missing file)", lambda: resonance.open(env.tmp / "missing.db", read_only=True), IO),
    ):
        add(name, run, expected, writes=True)
    add("db.begin() twice", lambda: _begin_twice(db), IA, writes=True)
    add("db.vacuum() inside a transaction", lambda: _in_tx(db, db.vacuum), IA, writes=True)
    add("db.upsert_node(id=None) inside a transaction", lambda: _in_tx(db, lambda: db.upsert_node(None)), IA, writes=True)  # type: ignore[arg-type]

    for name, run, expected in (
        ("db.search(min_score=NaN)", lambda: db.search(q, min_score=NAN), IA),
        ("db.search(threads=0)", lambda: db.search(q, threads=0), IA),
        ("db.search_like(threads=0)", lambda: db.search_like("n0", threads=0), IA),
        ("db.search_batch(threads=0)", lambda: db.search_batch(mat(2), threads=0), IA),
        ("db.search(min_score=Inf)", lambda: db.search(q, min_score=INF), returns([])),
        ("db.search(k=0)", lambda: db.search(q, 0), returns([])),
        ("db.search_like(k=0)", lambda: db.search_like("n0", 0), returns([])),
        ("db.search_batch(k=0)", lambda: db.search_batch(mat(2), 0), empty_batch(2)),
        ("db.search(k>N) returns all N", lambda: db.search(q, 1000, min_score=-1.0), Check(f"{NODES} hits, sorted", lambda r: len(r) == NODES and _sorted(r))),
        ("db.search(k=2**63) returns all N", lambda: db.search(q, 2**63, min_score=-1.0), Check(f"{NODES} hits", lambda r: len(r) == NODES)),
        ("db.search_like(k>N) returns N-1", lambda: db.search_like("n0", 1000, min_score=-1.0),
         Check(f"{NODES - 1} hits without n0", lambda r: len(r) == NODES - 1 and "n0" not in [h.id for h in r] and _sorted(r))),
        ("db.search_batch(k>N) returns all N per row", lambda: db.search_batch(mat(2), 1000, min_score=-1.0),
         Check(f"(2, {NODES}) arrays", lambda r: r[0].shape == (2, NODES) and not np.isnan(r[1]).any())),
        ("db.search_batch(0 rows)", lambda: db.search_batch(np.zeros((0, DIM), np.float32)), empty_batch(0)),
        ("db.search_batch([])", lambda: db.search_batch([]), empty_batch(0)),
        ("db.search_batch(rows of length 0)", lambda: db.search_batch(np.zeros((2, 0), np.float32)), IV),
        ("db.link_candidates(limit=0)", lambda: db.link_candidates(0), returns([])),
        ("db.pillars(limit=0)", lambda: db.pillars(0), returns([])),
        ("db.list_nodes(limit=0)", lambda: db.list_nodes(limit=0), returns([])),
        ("db.list_nodes(limit=2**63)", lambda: db.list_nodes(limit=2**63), IA),
        ("db.list_nodes(offset=2**63)", lambda: db.list_nodes(offset=2**63), IA),
        ("db.list_nodes(offset>N)", lambda: db.list_nodes(offset=1000), returns([])),
        ("db.traverse(max_depth=0)", lambda: db.traverse("n0", 0), returns(["n0"])),
        ("db.shortest_path(n0, n0)", lambda: db.shortest_path("n0", "n0"), returns(["n0"])),
        ("db.get_node(id=empty)", lambda: db.get_node(""), returns(None)),
        ("db.history(entity_id=empty)", lambda: db.history(""), returns([])),
        ("db.pagerank(alpha=NaN)", lambda: db.pagerank(NAN), IA),
        ("db.pagerank(alpha=2)", lambda: db.pagerank(2.0), IA),
        ("db.pagerank(alpha=-0.1)", lambda: db.pagerank(-0.1), IA),
        ("db.pagerank(tolerance=-1)", lambda: db.pagerank(0.85, -1.0), IA),
        ("db.pagerank(tolerance=0)", lambda: db.pagerank(0.85, 0.0), IA),
        ("db.pagerank(tolerance=NaN)", lambda: db.pagerank(0.85, NAN), IA),
        ("db.pagerank(max_iterations=0)", lambda: db.pagerank(0.85, 1e-6, 0), IA),
        ("db.communities(resolution=NaN)", lambda: db.communities(NAN), IA),
        ("db.communities(resolution=Inf)", lambda: db.communities(INF), IA),
        ("db.communities(resolution=-1)", lambda: db.communities(-1.0), IA),
        ("db.betweenness(sample=0)", lambda: db.betweenness(True, 0), IA),
        ("db.betweenness(sample>N)", lambda: db.betweenness(True, 1000, 1), Check("a score per node", lambda r: len(r) == NODES)),
        ("generate_id(path=empty)", lambda: resonance.generate_id(""), Check("returns a str", lambda r: isinstance(r, str))),
        ("generate_id(path=SQL)", lambda: resonance.generate_id(SQL), Check("returns a str", lambda r: isinstance(r, str))),
        ("Hit(score=NaN)", lambda: resonance.Hit("a", NAN), Check("keeps NaN", lambda r: math.isnan(r.score))),
    ):
        add(name, run, expected)

    # ---- hostile text stored on the scratch database and read back verbatim
    for what, text in HOSTILE_IDS:
        add(f"scratch upsert_node(id={what}) round trip", lambda text=text: _store_and_read(sc, text), returns([]), "scratch")
    add("scratch upsert_node(title=1 MB, meta=1 MB) round trip", lambda: _big_fields(sc), returns(True), "scratch")

    # ---- the life cycle of a closed handle
    for name, run, expected in (
        ("closed db.close() again", closed.close, returns(None)),
        ("closed db.__exit__()", lambda: closed.__exit__(None, None, None), returns(False)),
        ("closed db.closed", lambda: closed.closed, returns(True)),
        ("closed db.in_transaction", lambda: closed.in_transaction, returns(False)),
        ("closed db.path", lambda: closed.path.name, returns("closed.db")),
        ("closed db.stats()", closed.stats, CL),
        ("closed db.begin()", closed.begin, CL),
        ("closed db.commit()", closed.commit, CL),
        ("closed db.rollback()", closed.rollback, CL),
        ("closed db.transaction().__enter__()", lambda: closed.transaction().__enter__(), CL),
        ("closed db.components()", closed.components, CL),
        ("closed db.graph_stats()", closed.graph_stats, CL),
        ("closed db.health()", closed.health, CL),
        ("closed db.vector_index_info()", closed.vector_index_info, CL),
        ("closed db.optimize()", closed.optimize, CL),
        ("closed db.vacuum()", closed.vacuum, CL),
        ("closed db.search(vector=None)", lambda: closed.search(None), IA),  # arguments are checked first
    ):
        add(name, run, expected, "closed")

    # ---- controls, last: each call with its valid arguments succeeds (so every bad case above differs
    # from a good call by its one bad argument); writers run on the scratch database.
    succeeds = Check("succeeds", lambda r: True)
    for m in sorted(all_methods, key=lambda m: (m.name.startswith("delete_"), m.name == "delete_node")):  # deletes last
        label = m.name if m.owner != "db" else f"db.{m.name}"
        if m.name == "open":
            add("open(valid arguments) control", call(env, m, "main", {}), Check("opens", lambda r: r.close() is None), writes=True)
        elif m.writes and m.owner == "db":
            add(f"{label}(valid arguments) control [scratch]", call(env, m, "scratch", {}), m.legit_ok or succeeds, "scratch")
        else:
            add(f"{label}(valid arguments) control", call(env, m, "main", {}), succeeds)
    return cases


def _sorted(hits: list[resonance.Hit]) -> bool:
    return all((a.score, b.id) >= (b.score, a.id) for a, b in zip(hits, hits[1:]))


def _begin_twice(db: resonance.Database) -> None:
    db.begin()
    try:
        db.begin()
    finally:
        db.rollback()


def _in_tx(db: resonance.Database, f: Callable[[], Any]) -> Any:
    with db.transaction():
        return f()


def _store_and_read(db: resonance.Database, text: str) -> list[str]:
    """Stores `text` as an id, type, domain, title, meta key and value and edge type, reads it all back,
    deletes it; returns what went wrong. (Earlier cases may have stored this id, or edges from it.)"""
    problems = []
    count = db.stats().nodes - (db.get_node(text) is not None)
    db.upsert_node(text, type=text, domain=text, title=text, meta={text: text})
    n = db.get_node(text)
    if n is None or (n.id, n.type, n.domain, n.title, n.meta) != (text, text, text, text, {text: text}):
        problems.append(f"read back {n!r}")
    if [x.id for x in db.list_nodes(domain=text)] != [text] or [x.id for x in db.list_nodes(type=text)] != [text]:
        problems.append("list_nodes by domain/type")
    edges_before = [(e.source, e.target, e.type) for e in db.edges_from(text)]
    db.add_edge(text, "n0", text)
    added = set((e.source, e.target, e.type) for e in db.edges_from(text)) - set(edges_before)
    if added != {(text, "n0", text)}:
        problems.append(f"edges_from after add_edge: {added}")
    db.delete_edge(text, "n0", text)
    if [(e.source, e.target, e.type) for e in db.edges_from(text)] != edges_before:
        problems.append("edges_from after delete_edge")
    db.delete_node(text)
    # The tables are all still there, and nothing else went.
    if db.get_node(text) is not None or db.stats().nodes != count or db.get_node("n0") is None:
        problems.append("delete_node")
    return problems


def _big_fields(db: resonance.Database) -> bool:
    db.upsert_node("big", title=BIG_ID, meta={"v": BIG_ID})
    n = db.get_node("big")
    ok = n is not None and n.title == BIG_ID and n.meta == {"v": BIG_ID}
    db.delete_node("big")
    return ok


def outcome(case: Case) -> Optional[str]:
    """None when the case behaved as expected, else what went wrong."""
    try:
        result = case.run()
    except BaseException as e:  # noqa: BLE001 - anything but the expected class is a finding
        if isinstance(e, (KeyboardInterrupt, SystemExit)):
            raise
        if isinstance(case.expect, type):
            if type(e) is not case.expect:
                return f"raised {type(e).__name__}: {e} (expected {case.expect.__name__})"
            if e.code != case.expect.code:  # type: ignore[attr-defined]
                return f"code {e.code!r}, expected {case.expect.code!r}"  # type: ignore[attr-defined]
            return None
        return f"raised {type(e).__name__}: {str(e)[:300]} (expected: {case.expect.what})"
    if isinstance(case.expect, type):
        return f"returned {str(norm(result))[:200]} (expected {case.expect.__name__})"
    try:
        if case.expect.ok(result):
            return None
    except Exception as e:  # noqa: BLE001
        return f"checking the result raised {type(e).__name__}: {e}"
    return f"returned {str(norm(result))[:200]} (expected: {case.expect.what})"


def test_bad_input_matrix(tmp_path: pathlib.Path) -> None:
    main_path = tmp_path / "main.db"
    scratch_path = tmp_path / "scratch.db"
    closed_path = tmp_path / "closed.db"
    db = resonance.open(main_path)
    seed(db)
    scratch = resonance.open(scratch_path)
    seed(scratch)
    closed = resonance.open(closed_path)
    seed(closed)
    closed.close()
    env = Env(db, scratch, closed, main_path, tmp_path)
    cases = build_cases(env)
    names = [c.name for c in cases]
    dupes = {n for n in names if names.count(n) > 1}
    assert not dupes, f"duplicate case names: {sorted(dupes)}"

    # The hash sees a write (of one float of one embedding) and does not move without one.
    h0 = content_hash(scratch_path)
    assert content_hash(scratch_path) == h0
    scratch.set_embedding("n4", vec([0.6, 0.8, 0.0, 1e-3]))
    assert content_hash(scratch_path) != h0

    before = content_hash(main_path)
    failures: list[str] = []
    for case in cases:
        problem = outcome(case)
        if problem is None and case.writes and case.where == "main":
            after = content_hash(main_path)
            if after != before:
                problem = "the database changed"
                before = after  # report the next change on its own
        if problem is None and db.in_transaction:
            problem = "left a transaction open"
            db.rollback()
        if problem is not None:
            failures.append(f"{case.name}: {problem}")
    changed_at_end = content_hash(main_path) != before
    # The handle still works after the matrix, and the scratch database was really written to.
    assert db.stats().nodes == NODES and not db.closed
    assert scratch.get_node("n2") is not None
    db.close()
    scratch.close()
    # Reopened from scratch, it is the same database.
    with resonance.open(main_path) as again:
        assert [n.id for n in again.list_nodes()] == [f"n{i}" for i in range(NODES)]

    ok = len(cases) - len(failures)
    line = (
        f"python bad-input matrix: {len(cases)} cases, {ok} typed errors or correct results, "
        + ("database unchanged" if not changed_at_end and not any("changed" in f for f in failures) else "DATABASE CHANGED")
        + ("" if not failures else f", {len(failures)} failed")
    )
    COUNTS.mkdir(parents=True, exist_ok=True)
    (COUNTS / "python.txt").write_text(line + "\n" + "".join(f"  {f}\n" for f in failures))
    print("\n" + line)
    for f in failures:
        print("  FAILED", f)
    assert not failures, f"{len(failures)} of {len(cases)} cases failed:\n" + "\n".join(failures)
    assert not changed_at_end


# ---- soak -----------------------------------------------------------------------------------------------


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc (Linux)")
def test_soak_open_query_close(tmp_path: pathlib.Path) -> None:
    cycles = 1_000_000 if os.environ.get("RESONANCE_SOAK") == "1" else 20_000
    warm_at = cycles // 10
    path = tmp_path / "soak.db"
    with resonance.open(path) as db:
        seed(db)
    q = vec()
    rss_warm = fds_warm = 0
    start = time.perf_counter()
    warm_time = start
    for i in range(cycles):
        db = resonance.open(path)
        node = db.get_node(f"n{i % NODES}")
        hits = db.search(q, 3)
        stats = db.stats()
        db.close()
        if node is None or len(hits) == 0 or stats.nodes != NODES:
            pytest.fail(f"cycle {i}: wrong results {node!r} {hits!r} {stats!r}")
        if i + 1 == warm_at:
            gc.collect()
            rss_warm = rss_bytes()
            fds_warm = len(os.listdir("/proc/self/fd"))
            warm_time = time.perf_counter()
    elapsed = time.perf_counter() - start
    gc.collect()
    rss_end = rss_bytes()
    fds_end = len(os.listdir("/proc/self/fd"))
    per_s = cycles / elapsed
    growth = (rss_end - rss_warm) / rss_warm
    line = (
        f"python soak: {cycles} open/get_node+search+stats/close cycles in {elapsed:.1f} s ({per_s:,.0f} cycles/s, "
        f"{1e3 * elapsed / cycles:.3f} ms each), RSS after warm-up ({warm_at} cycles) {rss_warm / 2**20:.1f} MiB, "
        f"at the end {rss_end / 2**20:.1f} MiB ({growth:+.1%}; after warm-up {(cycles - warm_at) / (time.perf_counter() - warm_time):,.0f} cycles/s), "
        f"open file descriptors {fds_warm} -> {fds_end}"
    )
    COUNTS.mkdir(parents=True, exist_ok=True)
    (COUNTS / "python-soak.txt").write_text(line + "\n")
    print("\n" + line)
    assert not (tmp_path / "backups").exists() or not any((tmp_path / "backups").iterdir()), "opening made backups"
    assert fds_end <= fds_warm, line
    # Growth is what a leak looks like; a smaller RSS at the end (the allocator giving memory back) is fine.
    assert rss_end <= rss_warm * 1.05, line
