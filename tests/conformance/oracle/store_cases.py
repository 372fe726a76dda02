#!/usr/bin/env python3
"""Store conformance cases (nodes, edges, history, transactions, ids, errors, handles).

The expectations are written out by hand from docs/schema.md and docs/errors.md (the case format:
docs/conformance.md) — nothing is computed by the engine.
Writes tests/conformance/cases/store_*.json; needs only the standard library.
"""

import json
import os

CASES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cases")


def write(name, description, steps):
    with open(os.path.join(CASES, f"store_{name}.json"), "w") as f:
        json.dump({"name": f"store_{name}", "description": description, "steps": steps}, f, indent=1, ensure_ascii=False)
        f.write("\n")


def full_node(**kw):
    base = {"id": None, "type": None, "title": None, "domain": "knowledge", "layer": "experience", "hash": None,
            "summary": None, "meta": None, "date": None}
    base.update(kw)
    return base


OPEN = {"op": "open", "args": {}}

write("upsert_get", "upsert writes the whole row with defaults; get returns it; missing is null", [
    OPEN,
    {"op": "upsert_node", "args": {"id": "docs-readme", "type": "document", "title": "Read me", "domain": "docs",
                                   "layer": "source", "hash": "abc", "summary": "A summary", "meta": {"tags": ["a", "b"], "n": 1},
                                   "date": "2026-01-01"}, "expect": None},
    {"op": "get_node", "args": {"id": "docs-readme"},
     "expect": full_node(id="docs-readme", type="document", title="Read me", domain="docs", layer="source", hash="abc",
                         summary="A summary", meta={"tags": ["a", "b"], "n": 1}, date="2026-01-01")},
    {"op": "upsert_node", "args": {"id": "docs-readme", "title": "Only a title"}},
    {"op": "get_node", "args": {"id": "docs-readme"}, "expect": full_node(id="docs-readme", title="Only a title")},
    {"op": "get_node", "args": {"id": "nope"}, "expect": None},
    {"op": "upsert_node", "args": {"id": ""}, "expect_error": "invalid_argument"},
    {"op": "stats", "args": {}, "expect": {"nodes": 1, "edges": 0, "vectors": 0, "dangling_edges": 0, "dimension": None}},
])

write("meta", "meta must be valid JSON; update_meta replaces it; unknown ids are not_found", [
    OPEN,
    {"op": "upsert_node", "args": {"id": "a", "meta": "{not json"}, "expect_error": "invalid_argument"},
    {"op": "get_node", "args": {"id": "a"}, "expect": None},
    {"op": "upsert_node", "args": {"id": "a", "meta": "{\"k\": \"it's; DROP TABLE nodes; -- 100%\"}"}},
    {"op": "get_node", "args": {"id": "a"}, "expect": {"meta": {"k": "it's; DROP TABLE nodes; -- 100%"}}},
    {"op": "update_meta", "args": {"id": "a", "meta": {"k": 2, "nested": {"x": [1, 2, 3]}}}},
    {"op": "get_node", "args": {"id": "a"}, "expect": {"meta": {"k": 2, "nested": {"x": [1, 2, 3]}}}},
    {"op": "update_meta", "args": {"id": "a", "meta": "[1, 2"}, "expect_error": "invalid_argument"},
    {"op": "update_meta", "args": {"id": "missing", "meta": {}}, "expect_error": "not_found"},
    {"op": "get_node", "args": {"id": "a"}, "expect": {"meta": {"k": 2, "nested": {"x": [1, 2, 3]}}}},
])

write("edges", "add_edge inserts or ignores, upsert_edge updates, types are case-sensitive, edges may dangle", [
    OPEN,
    {"op": "upsert_nodes", "args": {"nodes": [{"id": "a"}, {"id": "b"}, {"id": "c"}]}, "expect": 3},
    {"op": "add_edge", "args": {"source": "a", "target": "b"}, "expect": True},
    {"op": "add_edge", "args": {"source": "a", "target": "b"}, "expect": False},
    {"op": "add_edge", "args": {"source": "a", "target": "b", "type": "Related_To"}, "expect": True},
    {"op": "add_edge", "args": {"source": "a", "target": "c", "type": "cites", "confidence": 0.5, "veracity": 0.25,
                                "context_source": "docs/a.md"}, "expect": True},
    {"op": "add_edge", "args": {"source": "a", "target": "c", "type": "cites", "confidence": 0.9}, "expect": False},
    {"op": "edges_from", "args": {"id": "a"}, "expect": [
        {"source": "a", "target": "b", "type": "Related_To", "confidence": 1.0, "veracity": 1.0, "context_source": None},
        {"source": "a", "target": "b", "type": "related_to", "confidence": 1.0, "veracity": 1.0, "context_source": None},
        {"source": "a", "target": "c", "type": "cites", "confidence": 0.5, "veracity": 0.25, "context_source": "docs/a.md"}]},
    {"op": "upsert_edge", "args": {"source": "a", "target": "c", "type": "cites", "confidence": 0.9, "veracity": 0.8}},
    {"op": "edges_to", "args": {"id": "c"}, "expect": [
        {"source": "a", "target": "c", "type": "cites", "confidence": 0.9, "veracity": 0.8, "context_source": None}]},
    {"op": "add_edge", "args": {"source": "c", "target": "ghost"}, "expect": True},
    {"op": "stats", "args": {}, "expect": {"nodes": 3, "edges": 4, "dangling_edges": 1}},
    {"op": "add_edges", "args": {"edges": [{"source": "b", "target": "c"}, {"source": "a", "target": "b"}]}, "expect": 1},
    {"op": "delete_edge", "args": {"source": "a", "target": "b", "type": "Related_To"}},
    {"op": "delete_edge", "args": {"source": "a", "target": "b", "type": "Related_To"}, "expect_error": "not_found"},
    {"op": "add_edge", "args": {"source": "", "target": "b"}, "expect_error": "invalid_argument"},
    {"op": "add_edge", "args": {"source": "a", "target": "b", "type": ""}, "expect_error": "invalid_argument"},
    {"op": "edges_from", "args": {"id": "nobody"}, "expect": []},
    {"op": "stats", "args": {}, "expect": {"edges": 4}},
])

write("delete_node", "deleting a node takes its edges (both directions) with it; unknown ids are not_found", [
    OPEN,
    {"op": "upsert_nodes", "args": {"nodes": [{"id": "a"}, {"id": "b"}, {"id": "c"}]}, "expect": 3},
    {"op": "add_edges", "args": {"edges": [{"source": "a", "target": "b"}, {"source": "c", "target": "a"},
                                           {"source": "b", "target": "c"}]}, "expect": 3},
    {"op": "delete_node", "args": {"id": "a"}},
    {"op": "get_node", "args": {"id": "a"}, "expect": None},
    {"op": "edges_to", "args": {"id": "a"}, "expect": []},
    {"op": "edges_from", "args": {"id": "a"}, "expect": []},
    {"op": "stats", "args": {}, "expect": {"nodes": 2, "edges": 1, "dangling_edges": 0}},
    {"op": "delete_node", "args": {"id": "a"}, "expect_error": "not_found"},
])

write("history", "history records upserts, edge inserts, meta updates and deletes, embeddings by dimension only", [
    OPEN,
    {"op": "upsert_node", "args": {"id": "n", "title": "one", "embedding": [3.0, 4.0]}},
    {"op": "upsert_node", "args": {"id": "n", "title": "two"}},
    {"op": "update_meta", "args": {"id": "n", "meta": {"v": 1}}},
    {"op": "upsert_node", "args": {"id": "m"}},
    {"op": "add_edge", "args": {"source": "n", "target": "m", "type": "cites"}},
    {"op": "add_edge", "args": {"source": "n", "target": "m", "type": "cites"}, "expect": False},
    {"op": "delete_node", "args": {"id": "n"}},
    {"op": "history", "args": {"id": "n"}, "expect": [
        {"entity_type": "node", "entity_id": "n", "action": "insert", "old_value": None,
         "new_value": {"id": "n", "title": "one", "embedding": {"dimension": 2}}},
        {"entity_type": "node", "entity_id": "n", "action": "update",
         "old_value": {"title": "one", "embedding": {"dimension": 2}}, "new_value": {"title": "two", "embedding": None}},
        {"entity_type": "node", "entity_id": "n", "action": "update_meta", "old_value": None, "new_value": {"v": 1}},
        {"entity_type": "node", "entity_id": "n", "action": "delete", "old_value": {"title": "two"},
         "new_value": None}]},
    {"op": "history", "args": {"id": "n|cites|m"}, "expect": [
        {"entity_type": "edge", "entity_id": "n|cites|m", "action": "insert", "old_value": None,
         "new_value": {"source": "n", "target": "m", "type": "cites", "confidence": 1.0, "veracity": 1.0}}]},
    {"op": "history", "args": {"id": "nobody"}, "expect": []},
])

write("transactions", "begin/commit/rollback: a rolled-back write is gone, a committed one stays, misuse is invalid_argument", [
    OPEN,
    {"op": "begin", "args": {}},
    {"op": "upsert_node", "args": {"id": "a"}},
    {"op": "add_edge", "args": {"source": "a", "target": "b"}, "expect": True},
    {"op": "get_node", "args": {"id": "a"}, "expect": {"id": "a"}},
    {"op": "rollback", "args": {}},
    {"op": "get_node", "args": {"id": "a"}, "expect": None},
    {"op": "stats", "args": {}, "expect": {"nodes": 0, "edges": 0, "history": 0}},
    {"op": "begin", "args": {}},
    {"op": "begin", "args": {}, "expect_error": "invalid_argument"},
    {"op": "upsert_node", "args": {"id": "a"}},
    {"op": "upsert_node", "args": {"id": "", "title": "bad"}, "expect_error": "invalid_argument"},
    {"op": "upsert_node", "args": {"id": "b"}},
    {"op": "commit", "args": {}},
    {"op": "stats", "args": {}, "expect": {"nodes": 2}},
    {"op": "commit", "args": {}, "expect_error": "invalid_argument"},
    {"op": "rollback", "args": {}, "expect_error": "invalid_argument"},
    {"op": "upsert_nodes", "args": {"nodes": [{"id": "c"}, {"id": "d", "meta": "{oops"}]}, "expect_error": "invalid_argument"},
    {"op": "get_node", "args": {"id": "c"}, "expect": None},
])

write("list_nodes", "list_nodes filters by domain and type, pages with limit/offset, in id order", [
    OPEN,
    {"op": "upsert_nodes", "args": {"nodes": [
        {"id": "e", "type": "note", "domain": "code"}, {"id": "a", "type": "note"}, {"id": "c", "type": "file"},
        {"id": "b", "type": "file", "domain": "code"}, {"id": "d", "type": "note", "embedding": [1.0, 0.0]}]}, "expect": 5},
    {"op": "list_nodes", "args": {}, "expect": [{"id": "a"}, {"id": "b"}, {"id": "c"}, {"id": "d"}, {"id": "e"}]},
    {"op": "list_nodes", "args": {"domain": "code"}, "expect": [{"id": "b", "domain": "code"}, {"id": "e", "domain": "code"}]},
    {"op": "list_nodes", "args": {"type": "note"}, "expect": [{"id": "a"}, {"id": "d"}, {"id": "e"}]},
    {"op": "list_nodes", "args": {"type": "note", "domain": "knowledge"}, "expect": [{"id": "a"}, {"id": "d"}]},
    {"op": "list_nodes", "args": {"limit": 2, "offset": 1}, "expect": [{"id": "b"}, {"id": "c"}]},
    {"op": "list_nodes", "args": {"limit": 0}, "expect": []},
    {"op": "list_nodes", "args": {"offset": 10}, "expect": []},
    {"op": "list_nodes", "args": {"type": "note", "with_embeddings": True, "limit": 2, "offset": 1},
     "expect": [{"id": "d", "embedding": [1.0, 0.0]}, {"id": "e"}]},
])

write("generate_id", "the application's path → id rule", [
    {"op": "generate_id", "args": {"path": "./docs/README.md"}, "expect": "docs-readme"},
    {"op": "generate_id", "args": {"path": "docs/My Note.MD"}, "expect": "docs-my-note-md"},
    {"op": "generate_id", "args": {"path": "Über/ñ.md"}, "expect": "ber"},
    {"op": "generate_id", "args": {"path": "/abs//path/file.ts"}, "expect": "abs-path-file"},
    {"op": "generate_id", "args": {"path": "src/index.js"}, "expect": "src-index"},
    {"op": "generate_id", "args": {"path": "data/config.json"}, "expect": "data-config"},
    {"op": "generate_id", "args": {"path": "notes/2024 -- Plan (v2).md"}, "expect": "notes-2024-plan-v2"},
])

odd = ["it's", "a;b", "--comment", "100%", "x' OR '1'='1", "名前", "emoji 🙂", "tab\tand\nnewline", "back\\slash"]
write("odd_strings", "ids and values with quotes, semicolons, --, %, and Unicode round-trip exactly", [
    OPEN,
    *[{"op": "upsert_node", "args": {"id": s, "title": s, "meta": {"s": s}}} for s in odd],
    *[{"op": "get_node", "args": {"id": s}, "expect": {"id": s, "title": s, "meta": {"s": s}}} for s in odd],
    {"op": "add_edge", "args": {"source": odd[0], "target": odd[4], "type": odd[1]}, "expect": True},
    {"op": "edges_from", "args": {"id": odd[0]}, "expect": [{"source": odd[0], "target": odd[4], "type": odd[1]}]},
    {"op": "stats", "args": {}, "expect": {"nodes": len(odd), "edges": 1}},
])

write("handles", "read-only handles refuse writes with readonly and change nothing; use after close is closed", [
    OPEN,
    {"op": "upsert_node", "args": {"id": "a", "title": "A"}},
    {"op": "health", "args": {}, "expect": {"journal_mode": "wal", "busy_timeout_ms": 5000, "foreign_keys": True,
                                            "quick_check": "ok", "schema_shape": "current", "pending": [],
                                            "dangling_edges": 0, "vector_count": 0, "write_probe": "ok"}},
    {"op": "migrate", "args": {"dry_run": True}, "expect": {"steps": []}},
    {"op": "checkpoint", "args": {"mode": "passive"}},
    {"op": "checkpoint", "args": {"mode": "sideways"}, "expect_error": "invalid_argument"},
    {"op": "close", "args": {}},
    {"op": "get_node", "args": {"id": "a"}, "expect_error": "closed"},
    {"op": "close", "args": {}},
    {"op": "open", "args": {"read_only": True}},
    {"op": "get_node", "args": {"id": "a"}, "expect": {"id": "a", "title": "A"}},
    {"op": "upsert_node", "args": {"id": "b"}, "expect_error": "readonly"},
    {"op": "add_edge", "args": {"source": "a", "target": "b"}, "expect_error": "readonly"},
    {"op": "delete_node", "args": {"id": "a"}, "expect_error": "readonly"},
    {"op": "begin", "args": {}, "expect_error": "readonly"},
    {"op": "health", "args": {}, "expect": {"write_probe": "skipped (read-only handle)"}},
    {"op": "stats", "args": {}, "expect": {"nodes": 1, "edges": 0}},
    {"op": "open", "args": {"path": "other/new.db", "read_only": True}, "expect_error": "io"},
    {"op": "open", "args": {"busy_timeout_ms": 10}, "expect_error": "invalid_argument"},
    {"op": "raw_sql", "args": {"path": "junk.db", "sql": "CREATE TABLE documents (id INTEGER PRIMARY KEY, body TEXT)"}},
    {"op": "open", "args": {"path": "junk.db"}, "expect_error": "schema_unknown"},
])

# docs/stats.md: the stats history and its verdict, by hand from the rules and default thresholds.
write("stats_history", "record_stats writes snapshots (label, JSON meta, keep), stats_history reads them newest first, validate_stats judges the newest against the one before with stable codes; bad input is invalid_argument and writes nothing; a read-only handle reads but cannot record", [
    {"op": "open", "args": {}},
    {"op": "validate_stats", "args": {}, "expect": {"passed": False, "errors": ["empty_database"], "warnings": []}},
    {"op": "upsert_node", "args": {"id": "a", "embedding": [1, 0]}},
    {"op": "upsert_node", "args": {"id": "b", "embedding": [0, 1]}},
    {"op": "add_edge", "args": {"source": "a", "target": "b"}},
    {"op": "record_stats", "args": {"label": "first", "meta": "{\"run\":1}"},
     "expect": {"nodes": 2, "edges": 1, "vectors": 2, "dangling_edges": 0, "dimension": 2, "label": "first", "meta": "{\"run\":1}"}},
    {"op": "validate_stats", "args": {}, "expect": {"passed": True, "errors": [], "warnings": []}},
    {"op": "record_stats", "args": {}, "expect": {"nodes": 2, "label": None, "meta": None}},
    {"op": "validate_stats", "args": {}, "expect": {"passed": True, "errors": [], "warnings": ["no_growth"]}},
    {"op": "validate_stats", "args": {"warn_no_growth": False}, "expect": {"passed": True, "warnings": []}},
    {"op": "health", "args": {}, "expect": {"stats_errors": [], "stats_warnings": ["no_growth"]}},
    {"op": "add_edge", "args": {"source": "b", "target": "gone"}},
    {"op": "upsert_node", "args": {"id": "c"}},
    {"op": "record_stats", "args": {"label": "bare"}, "expect": {"nodes": 3, "vectors": 2, "dangling_edges": 1}},
    {"op": "validate_stats", "args": {}, "expect": {"passed": True, "errors": [],
                                                    "warnings": ["low_embedding_coverage", "dangling_edges_rising"]}},
    {"op": "validate_stats", "args": {"min_embedding_coverage": 0.5}, "expect": {"warnings": ["dangling_edges_rising"]}},
    {"op": "delete_node", "args": {"id": "a"}},
    {"op": "delete_node", "args": {"id": "c"}},
    {"op": "record_stats", "args": {"label": "after delete", "keep": 3}, "expect": {"nodes": 1, "edges": 1}},
    {"op": "validate_stats", "args": {}, "expect": {"passed": False, "errors": ["shrinkage", "shrinkage", "shrinkage"]}},
    {"op": "validate_stats", "args": {"max_shrink_ratio": 1}, "expect": {"passed": True, "errors": []}},
    {"op": "stats_history", "args": {"limit": 10}, "expect": [
        {"label": "after delete", "nodes": 1}, {"label": "bare", "nodes": 3}, {"label": None, "nodes": 2}]},
    {"op": "stats_history", "args": {"limit": 1}, "expect": [{"label": "after delete"}]},
    {"op": "record_stats", "args": {"meta": "{not json"}, "expect_error": "invalid_argument"},
    {"op": "record_stats", "args": {"label": "x" * 1025}, "expect_error": "invalid_argument"},
    {"op": "record_stats", "args": {"keep": 0}, "expect_error": "invalid_argument"},
    {"op": "validate_stats", "args": {"max_shrink_ratio": 1.5}, "expect_error": "invalid_argument"},
    {"op": "stats_history", "args": {"limit": 10}, "expect": [{"label": "after delete"}, {"label": "bare"}, {"label": None}]},
    {"op": "close", "args": {}},
    {"op": "open", "args": {"read_only": True}},
    {"op": "record_stats", "args": {}, "expect_error": "readonly"},
    {"op": "stats_history", "args": {"limit": 1}, "expect": [{"label": "after delete", "nodes": 1}]},
])

print("wrote store cases")
