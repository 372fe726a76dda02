"""The Python runner of the conformance suite (tests/conformance/README.md): one test per case file.

A case this runner cannot run (an unknown op, a missing CLI for raw_sql) fails; nothing is skipped.
"""

from __future__ import annotations

import json
import math
import os
import pathlib
import subprocess
from typing import Any, Callable, Dict, List, Optional

import pytest

import resonance

from conftest import CASES, CONFORMANCE_RESULTS

TOL = 1e-5


class CaseError(AssertionError):
    pass


def matches(expected: Any, actual: Any, unordered: bool = False) -> bool:
    """The suite's comparison: numbers within 1e-5, lists in order (or as multisets), objects by the
    expected keys, null only equals null."""
    if expected is None:
        return actual is None
    if isinstance(expected, bool) or isinstance(actual, bool):
        return isinstance(actual, bool) and isinstance(expected, bool) and expected == actual
    if isinstance(expected, (int, float)):
        return (
            isinstance(actual, (int, float))
            and not (isinstance(actual, float) and math.isnan(actual))
            and abs(float(expected) - float(actual)) <= TOL
        )
    if isinstance(expected, str):
        return isinstance(actual, str) and expected == actual
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return False
        if not unordered:
            return all(matches(e, a) for e, a in zip(expected, actual))
        remaining = list(actual)
        for e in expected:
            for i, a in enumerate(remaining):
                if matches(e, a):
                    del remaining[i]
                    break
            else:
                return False
        return True
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            k in actual and matches(v, actual[k]) for k, v in expected.items()
        )
    raise CaseError(f"cannot compare expected value {expected!r}")


def node_dict(n: Optional[resonance.Node]) -> Optional[Dict[str, Any]]:
    if n is None:
        return None
    d = n.to_dict()
    if "embedding" in d and d["embedding"] is not None:
        d["embedding"] = [float(x) for x in d["embedding"]]
    return d


def hits(v: List[resonance.Hit]) -> List[Dict[str, Any]]:
    return [{"id": h.id, "score": float(h.score)} for h in v]


def search_kwargs(a: Dict[str, Any]) -> Dict[str, Any]:
    return {k: a[k] for k in ("k", "min_score", "domain", "type") if k in a}


def sql_value(v: Any) -> Any:
    """A case's SQL value as a Python parameter: null, int, float, str, or {"blob": hex} as bytes."""
    if isinstance(v, dict):
        if set(v) != {"blob"} or not isinstance(v["blob"], str):
            raise CaseError(f"bad SQL value {v!r}")
        return bytes.fromhex(v["blob"])
    if isinstance(v, list):
        raise CaseError(f"bad SQL value {v!r}")
    return v


def sql_value_json(v: Any) -> Any:
    """A result value as the cases expect it (bytes as {"blob": hex})."""
    if isinstance(v, bytes):
        return {"blob": v.hex()}
    return v


def sql_params(a: Dict[str, Any]) -> Any:
    """The `params` argument: a list (positional), an object (named) or absent (none)."""
    p = a.get("params")
    if p is None:
        return None
    if isinstance(p, list):
        return [sql_value(v) for v in p]
    if isinstance(p, dict):
        return {k: sql_value(v) for k, v in p.items()}
    raise CaseError(f"bad params {p!r}")


class Runner:
    def __init__(self, workdir: pathlib.Path) -> None:
        self.dir = workdir
        self.db: Optional[resonance.Database] = None

    def close(self) -> None:
        if self.db is not None:
            self.db.close()
            self.db = None

    def handle(self) -> resonance.Database:
        if self.db is None:
            raise CaseError("no database is open")
        return self.db

    def raw_sql(self, a: Dict[str, Any]) -> None:
        cli = os.environ.get("RESONANCE_CLI")
        if not cli:
            raise CaseError("raw_sql needs the CLI: set RESONANCE_CLI")
        path = self.dir / a.get("path", "db.sqlite")
        r = subprocess.run([cli, "sql", "--raw", "--write", "--create", "--script", str(path), a["sql"]], capture_output=True, text=True)
        if r.returncode != 0:
            raise CaseError(f"resonance sql failed ({r.returncode}): {r.stderr.strip()}")

    def op(self, name: str, a: Dict[str, Any]) -> Any:
        if name == "open":
            self.close()
            keys = ("read_only", "migrate", "allow_destructive", "backup", "busy_timeout_ms", "allow_engine_writes", "vector_memory")
            kwargs = {k: a[k] for k in keys if k in a}
            self.db = resonance.open(self.dir / a.get("path", "db.sqlite"), **kwargs)
            return None
        if name == "generate_id":
            return resonance.generate_id(a["path"])
        if name == "raw_sql":
            return self.raw_sql(a)
        if name == "close":
            self.handle().close()
            return None
        db = self.handle()
        ops: Dict[str, Callable[[], Any]] = {
            "upsert_node": lambda: db.upsert_node(a["id"], **{k: v for k, v in a.items() if k != "id"}),
            "upsert_nodes": lambda: db.upsert_nodes(a["nodes"]),
            "get_node": lambda: node_dict(db.get_node(a["id"], with_embedding=a.get("with_embedding"))),
            "list_nodes": lambda: [node_dict(n) for n in db.list_nodes(**a)],
            "delete_node": lambda: db.delete_node(a["id"]),
            "add_edge": lambda: db.add_edge(**a),
            "add_edges": lambda: db.add_edges(a["edges"]),
            "upsert_edge": lambda: db.upsert_edge(**a),
            "delete_edge": lambda: db.delete_edge(**a),
            "edges_from": lambda: [e.to_dict() for e in db.edges_from(a["id"])],
            "edges_to": lambda: [e.to_dict() for e in db.edges_to(a["id"])],
            "update_meta": lambda: db.update_meta(a["id"], a.get("meta")),
            "update_node": lambda: db.update_node(a["id"], **{k: v for k, v in a.items() if k != "id"}),
            "merge_meta": lambda: db.merge_meta(a["id"], a.get("patch")),
            "history": lambda: [
                {
                    "entity_type": h.entity_type,
                    "entity_id": h.entity_id,
                    "action": h.action,
                    "old_value": h.old_value,
                    "new_value": h.new_value,
                }
                for h in db.history(a["id"])
            ],
            "stats": lambda: db.stats().to_dict(),
            "record_stats": lambda: db.record_stats(a.get("label"), a.get("meta"), keep=a.get("keep")).to_dict(),
            "stats_history": lambda: [h.to_dict() for h in db.stats_history(a.get("limit"))],
            "validate_stats": lambda: self.verdict(db.validate_stats(**a)),
            "begin": db.begin,
            "commit": db.commit,
            "rollback": db.rollback,
            "set_embedding": lambda: db.set_embedding(a["id"], a["vector"]),
            "get_embedding": lambda: (lambda e: None if e is None else [float(x) for x in e])(db.get_embedding(a["id"])),
            "search": lambda: hits(db.search(a["vector"], **search_kwargs(a))),
            "search_like": lambda: hits(db.search_like(a["id"], **search_kwargs(a))),
            "search_batch": lambda: self.search_batch(db, a),
            "health": lambda: self.health(db),
            "migrate": lambda: {
                "steps": [s["id"] for s in db.migrate(**{k: a[k] for k in ("dry_run", "allow_destructive", "backup") if k in a}).steps]
            },
            "checkpoint": lambda: db.checkpoint(a.get("mode")).to_dict(),
            "neighbors": lambda: db.neighbors(a["id"]),
            "successors": lambda: db.successors(a["id"]),
            "predecessors": lambda: db.predecessors(a["id"]),
            "degree": lambda: db.degree(a["id"]),
            "traverse": lambda: db.traverse(a["start"], a.get("max_depth"), direction=a.get("direction")),
            "shortest_path": lambda: db.shortest_path(a["source"], a["target"], direction=a.get("direction")),
            "pagerank": lambda: db.pagerank(**a),
            "betweenness": lambda: db.betweenness(**a),
            "communities": lambda: db.communities(**a).to_dict(),
            "components": db.components,
            "adamic_adar": lambda: db.adamic_adar(a["a"], a["b"]),
            "link_candidates": lambda: [
                {"source": c.source, "target": c.target, "score": c.score} for c in db.link_candidates(**a)
            ],
            "pillars": lambda: [{"id": p.id, "pagerank": p.pagerank, "degree": p.degree} for p in db.pillars(**a)],
            "graph_stats": lambda: db.graph_stats().to_dict(),
            "execute": lambda: self.execute(db, a),
            "query": lambda: self.query(db, a),
            "query_row": lambda: self.query_row(db, a),
            "execute_batch": lambda: db.executescript(a["sql"]),
            "migrate_app": lambda: self.migrate_app(db, a),
            "app_migration_status": lambda: self.app_migration_status(db, a),
        }
        if name not in ops:
            raise CaseError(f"the Python runner does not know op {name!r}")
        return ops[name]()

    # ---- application SQL (README, "Application SQL") ----

    @staticmethod
    def execute(db: resonance.Database, a: Dict[str, Any]) -> Dict[str, Any]:
        r = db.execute(a["sql"], sql_params(a))
        return {"changes": r.rowcount, "last_insert_rowid": r.lastrowid}

    @staticmethod
    def query(db: resonance.Database, a: Dict[str, Any]) -> Dict[str, Any]:
        rows = db.query(a["sql"], sql_params(a))
        # Python's query returns Rows, which carry the column names; an empty result has none to
        # read them from, so its `columns` is [] (no case expects the columns of an empty result).
        columns = rows[0].keys() if rows else []
        return {"columns": columns, "rows": [[sql_value_json(v) for v in r] for r in rows]}

    @staticmethod
    def query_row(db: resonance.Database, a: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        r = db.query_one(a["sql"], sql_params(a))
        if r is None:
            return None
        return {"columns": r.keys(), "values": [sql_value_json(v) for v in r]}

    @staticmethod
    def migrate_app(db: resonance.Database, a: Dict[str, Any]) -> Dict[str, Any]:
        kwargs = {k: a[k] for k in ("to", "dry_run", "allow_destructive", "accept_changed") if k in a}
        if "no_backup" in a:
            kwargs["backup"] = not a["no_backup"]
        r = db.migrate_app(a["namespace"], a["steps"], **kwargs)
        return {"steps": [{"version": s["version"], "direction": s["direction"]} for s in r.steps]}

    @staticmethod
    def app_migration_status(db: resonance.Database, a: Dict[str, Any]) -> Dict[str, Any]:
        st = db.app_migration_status(a["namespace"], a["steps"])
        return {"applied": [s["version"] for s in st.applied], "pending": [p["version"] for p in st.pending]}

    @staticmethod
    def search_batch(db: resonance.Database, a: Dict[str, Any]) -> List[List[Dict[str, Any]]]:
        ids, scores = db.search_batch(a["vectors"], **search_kwargs(a))
        out = []
        for i in range(ids.shape[0]):
            out.append(
                [{"id": ids[i, j], "score": float(scores[i, j])} for j in range(ids.shape[1]) if ids[i, j] is not None]
            )
        return out

    @staticmethod
    def health(db: resonance.Database) -> Dict[str, Any]:
        h = db.health()
        return {
            "journal_mode": h.journal_mode,
            "busy_timeout_ms": h.busy_timeout_ms,
            "foreign_keys": h.foreign_keys,
            "quick_check": h.quick_check,
            "schema_shape": h.schema["shape"],
            "pending": h.schema["pending"],
            "dangling_edges": h.dangling_edges,
            "vector_count": h.vectors["count"],
            "write_probe": h.write_probe,
            "content": h.content,
            "stats_errors": [f["code"] for f in h.stats["errors"]],
            "stats_warnings": [f["code"] for f in h.stats["warnings"]],
        }

    @staticmethod
    def verdict(v: Any) -> Dict[str, Any]:
        return {
            "passed": v.passed,
            "errors": [f["code"] for f in v.errors],
            "warnings": [f["code"] for f in v.warnings],
        }


def run_case(path: pathlib.Path, workdir: pathlib.Path) -> None:
    case = json.loads(path.read_text())
    runner = Runner(workdir)
    values: List[Any] = []
    try:
        for i, step in enumerate(case["steps"]):
            op, args = step["op"], step.get("args") or {}
            where = f"{case['name']} step {i} ({op} {json.dumps(args)[:200]})"
            try:
                value = runner.op(op, args)
            except resonance.Error as e:
                values.append(None)
                if "expect_error" in step:
                    if e.code != step["expect_error"]:
                        raise CaseError(f"{where}: expected error {step['expect_error']}, got {e.code}: {e}") from e
                    continue
                raise CaseError(f"{where}: unexpected error {e.code}: {e}") from e
            values.append(value)
            if "expect_error" in step:
                raise CaseError(f"{where}: expected error {step['expect_error']}, got {value!r}")
            if "expect" in step and not matches(step["expect"], value, step.get("unordered", False)):
                raise CaseError(f"{where}: expected {json.dumps(step['expect'])[:2000]}, got {value!r}"[:4000])
            if "expect_min_modularity" in step:
                g = runner.handle().graph_stats()
                part = value["partition"]
                if len(part) != g.nodes:
                    raise CaseError(f"{where}: partition covers {len(part)} of {g.nodes} nodes")
                if value["modularity"] < step["expect_min_modularity"] - 0.01:
                    raise CaseError(f"{where}: modularity {value['modularity']} < {step['expect_min_modularity']}")
            if "expect_same_as" in step:
                j = step["expect_same_as"]
                if value != values[j]:
                    raise CaseError(f"{where}: differs from step {j}: {value!r} != {values[j]!r}")
    finally:
        runner.close()


CASE_FILES = sorted(CASES.glob("*.json"))


def test_there_are_cases() -> None:
    assert CASE_FILES, f"no conformance cases in {CASES}"


@pytest.mark.parametrize("case", CASE_FILES, ids=[p.stem for p in CASE_FILES])
def test_case(case: pathlib.Path, tmp_path: pathlib.Path) -> None:
    CONFORMANCE_RESULTS[case.stem] = False
    run_case(case, tmp_path)
    CONFORMANCE_RESULTS[case.stem] = True
