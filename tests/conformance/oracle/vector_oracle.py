#!/usr/bin/env python3
"""Vector conformance cases, with expectations computed by numpy (an oracle independent of the engine).

Writes tests/conformance/cases/vector_*.json. Run it from any directory:
    tests/conformance/oracle/.venv/bin/python tests/conformance/oracle/vector_oracle.py
(the venv needs the packages of requirements.txt). The engine is never called here.

Semantics checked (docs/vectors.md): vectors are L2-normalised before storing (norm in float64, stored as float32);
the query is normalised the same way; score = float32 dot product; results sorted by score descending, ties
by id ascending; by default only scores > 0, `min_score` keeps scores >= it; domain/type filters; k = 0
returns nothing; `search_like` excludes the node itself; blobs written by other programs that are malformed
or of another dimension are skipped, non-unit ones are normalised, zero vectors score 0.
"""

import json
import os
import struct

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = os.path.join(HERE, "..", "cases")


def unit(v):
    v = np.asarray(v, dtype=np.float32)
    n = np.sqrt(np.sum(v.astype(np.float64) ** 2))
    return (v.astype(np.float64) / n).astype(np.float32)


def ranked(store, query, k, min_score=None, domain=None, node_type=None, exclude=None):
    """store: list of (id, unit float32 vector or None, domain, type)."""
    q = unit(query)
    rows = []
    for node_id, v, d, t in store:
        if v is None or node_id == exclude:
            continue
        if domain is not None and d != domain:
            continue
        if node_type is not None and t != node_type:
            continue
        s = float(np.dot(v.astype(np.float64), q.astype(np.float64)))
        rows.append((node_id, s))
    rows.sort(key=lambda r: (-round(r[1], 6), r[0]))
    floor = 0.0 if min_score is None else min_score
    # Only the rows that can reach the result matter: those must not sit on the threshold, and
    # neighbouring distinct scores must be far enough apart for float32 to order them the same way.
    head = [r for r in rows if r[1] > floor - 1e-3][: k + 1]
    for _, s in head:
        assert s == floor or abs(s - floor) > 1e-4, "a score too close to the threshold would make the case fragile"
    for a, b in zip(head, head[1:]):
        assert a[1] == b[1] or abs(a[1] - b[1]) > 1e-5, (a, b)
    if min_score is None:
        rows = [r for r in rows if r[1] > 0]
    else:
        rows = [r for r in rows if r[1] >= min_score]
    return [{"id": i, "score": round(s, 7)} for i, s in rows[:k]]


def floats(v):
    return [float(x) for x in np.asarray(v, dtype=np.float32)]


def node(node_id, v, domain="knowledge", node_type="note"):
    return {"id": node_id, "type": node_type, "domain": domain, "embedding": floats(v)}


WRITTEN = {}


def write(name, description, steps):
    WRITTEN[name] = steps
    with open(os.path.join(CASES, f"vector_{name}.json"), "w") as f:
        json.dump({"name": f"vector_{name}", "description": description, "steps": steps}, f, indent=1)
        f.write("\n")


def search_basic():
    rng = np.random.default_rng(7)
    dim, n = 24, 300
    raw = rng.standard_normal((n, dim)).astype(np.float32)
    domains = ["knowledge", "code", "notes"]
    types = ["note", "file"]
    store, nodes = [], []
    for i in range(n):
        nid = f"n{i:04d}"
        d, t = domains[i % 3], types[i % 2]
        store.append((nid, unit(raw[i]), d, t))
        nodes.append(node(nid, raw[i], d, t))
    steps = [{"op": "open", "args": {}}, {"op": "upsert_nodes", "args": {"nodes": nodes}, "expect": n}]
    queries = rng.standard_normal((6, dim)).astype(np.float32)
    for qi, q in enumerate(queries):
        steps.append({"op": "search", "args": {"vector": floats(q), "k": 10}, "expect": ranked(store, q, 10)})
    q = queries[0]
    steps += [
        {"op": "search", "args": {"vector": floats(q), "k": 7, "domain": "code"}, "expect": ranked(store, q, 7, domain="code")},
        {"op": "search", "args": {"vector": floats(q), "k": 7, "type": "file"}, "expect": ranked(store, q, 7, node_type="file")},
        {"op": "search", "args": {"vector": floats(q), "k": 5, "domain": "notes", "type": "note"},
         "expect": ranked(store, q, 5, domain="notes", node_type="note")},
        {"op": "search", "args": {"vector": floats(q), "k": 0}, "expect": []},
        {"op": "search", "args": {"vector": floats(q), "k": 1000, "min_score": 0.35}, "expect": ranked(store, q, 1000, min_score=0.35)},
        {"op": "search", "args": {"vector": floats(q), "k": 12, "min_score": -0.2}, "expect": ranked(store, q, 12, min_score=-0.2)},
        {"op": "search", "args": {"vector": floats(q), "k": 10000}, "expect": ranked(store, q, 10000)},
        {"op": "search", "args": {"vector": floats(q * 1000.0), "k": 10}, "expect": ranked(store, q, 10)},
        {"op": "search_like", "args": {"id": "n0005", "k": 8}, "expect": ranked(store, raw[5], 8, exclude="n0005")},
        {"op": "search_like", "args": {"id": "n0006", "k": 8, "domain": "knowledge"},
         "expect": ranked(store, raw[6], 8, domain="knowledge", exclude="n0006")},
        {"op": "search_batch", "args": {"vectors": [floats(x) for x in queries[:4]], "k": 6},
         "expect": [ranked(store, x, 6) for x in queries[:4]]},
        {"op": "search_batch", "args": {"vectors": [floats(x) for x in queries[:3]], "k": 4, "type": "note"},
         "expect": [ranked(store, x, 4, node_type="note") for x in queries[:3]]},
    ]
    write("search_basic", "300 random 24-d vectors: top-k, filters, min_score, k = 0 and k > N, search_like, batch", steps)


def ties_and_normalisation():
    base = np.array([1.0, 2.0, 2.0, 0.0], dtype=np.float32)  # norm 3
    other = np.array([0.0, 0.0, 0.0, 5.0], dtype=np.float32)
    store = [("b", unit(base), "knowledge", "note"), ("a", unit(base), "knowledge", "note"),
             ("c", unit(base * 7), "knowledge", "note"), ("d", unit(other), "knowledge", "note")]
    steps = [
        {"op": "open", "args": {}},
        {"op": "upsert_node", "args": node("b", base)},
        {"op": "upsert_node", "args": node("a", base)},
        {"op": "upsert_node", "args": node("c", base * 7)},
        {"op": "upsert_node", "args": node("d", other)},
        {"op": "get_embedding", "args": {"id": "c"}, "expect": floats(unit(base))},
        {"op": "get_embedding", "args": {"id": "d"}, "expect": [0.0, 0.0, 0.0, 1.0]},
        {"op": "search", "args": {"vector": floats(base), "k": 10}, "expect": ranked(store, base, 10)},
        {"op": "search", "args": {"vector": floats(base), "k": 2}, "expect": ranked(store, base, 2)},
        {"op": "search", "args": {"vector": floats(other), "k": 10, "min_score": 0.0},
         "expect": ranked(store, other, 10, min_score=-0.5)[:1] + [{"id": x, "score": 0.0} for x in ["a", "b", "c"]]},
        {"op": "set_embedding", "args": {"id": "a", "vector": [3.0, 4.0, 0.0, 0.0]}},
        {"op": "get_embedding", "args": {"id": "a"}, "expect": [0.6, 0.8, 0.0, 0.0]},
        {"op": "stats", "args": {}, "expect": {"nodes": 4, "vectors": 4, "dimension": 4}},
    ]
    write("ties_and_normalisation", "equal scores ordered by id, vectors normalised on write, a zero score kept only with min_score", steps)


def invalid_vectors():
    steps = [
        {"op": "open", "args": {}},
        {"op": "search", "args": {"vector": [1.0, 0.0, 0.0], "k": 3}, "expect": []},
        {"op": "upsert_node", "args": {"id": "x", "embedding": [1.0, 0.0, 0.0]}},
        {"op": "stats", "args": {}, "expect": {"dimension": 3}},
        {"op": "upsert_node", "args": {"id": "e", "embedding": []}, "expect_error": "invalid_vector"},
        {"op": "upsert_node", "args": {"id": "z", "embedding": [0.0, 0.0, 0.0]}, "expect_error": "invalid_vector"},
        {"op": "upsert_node", "args": {"id": "t", "embedding": [1e-9, 0.0, 0.0]}, "expect_error": "invalid_vector"},
        {"op": "upsert_node", "args": {"id": "i", "embedding": [1e39, 0.0, 0.0]}, "expect_error": "invalid_vector"},
        {"op": "upsert_node", "args": {"id": "w", "embedding": [1.0, 0.0]}, "expect_error": "dimension_mismatch"},
        {"op": "upsert_nodes", "args": {"nodes": [{"id": "ok1", "embedding": [0.0, 1.0, 0.0]},
                                                   {"id": "bad", "embedding": [1.0, 0.0, 0.0, 0.0]}]},
         "expect_error": "dimension_mismatch"},
        {"op": "get_node", "args": {"id": "ok1"}, "expect": None},
        {"op": "set_embedding", "args": {"id": "x", "vector": [1.0, 2.0]}, "expect_error": "dimension_mismatch"},
        {"op": "set_embedding", "args": {"id": "missing", "vector": [1.0, 2.0, 3.0]}, "expect_error": "not_found"},
        {"op": "get_embedding", "args": {"id": "missing"}, "expect_error": "not_found"},
        {"op": "search", "args": {"vector": [1.0, 0.0], "k": 3}, "expect_error": "dimension_mismatch"},
        {"op": "search", "args": {"vector": [0.0, 0.0, 0.0], "k": 3}, "expect_error": "invalid_vector"},
        {"op": "search", "args": {"vector": [], "k": 3}, "expect_error": "invalid_vector"},
        {"op": "search_batch", "args": {"vectors": [[1.0, 0.0, 0.0], [1.0, 0.0]], "k": 3}, "expect_error": "invalid_argument"},
        {"op": "search_like", "args": {"id": "missing", "k": 3}, "expect_error": "not_found"},
        {"op": "upsert_node", "args": {"id": "novec"}},
        {"op": "search_like", "args": {"id": "novec", "k": 3}, "expect_error": "not_found"},
        {"op": "get_embedding", "args": {"id": "novec"}, "expect": None},
        {"op": "stats", "args": {}, "expect": {"nodes": 2, "vectors": 1, "dimension": 3}},
        {"op": "search", "args": {"vector": [1.0, 0.0, 0.0], "k": 3}, "expect": [{"id": "x", "score": 1.0}]},
    ]
    write("invalid", "every bad vector input with its error kind, and the database unchanged after each", steps)


def hexblob(v):
    return "x'" + b"".join(struct.pack("<f", float(x)) for x in v).hex() + "'"


def foreign_blobs():
    dim = 4
    good = {"g1": [1.0, 0.0, 0.0, 0.0], "g2": [0.6, 0.8, 0.0, 0.0], "g3": [0.0, 0.0, 1.0, 0.0]}
    q = np.array([0.9, 0.3, 0.1, 0.0], dtype=np.float32)
    store = [(k, unit(v), "knowledge", "note") for k, v in good.items()]
    # Written by another program: non-unit (normalised for scoring), zero, malformed, other dimension.
    store.append(("nonunit", unit([2.0, 2.0, 0.0, 0.0]), "knowledge", "note"))
    store_zero = store + [("zero", np.zeros(4, dtype=np.float32), "knowledge", "note")]
    sql = ";".join([
        f"INSERT INTO nodes (id, type, domain, embedding) VALUES ('nonunit', 'note', 'knowledge', {hexblob([2.0, 2.0, 0.0, 0.0])})",
        f"INSERT INTO nodes (id, type, domain, embedding) VALUES ('zero', 'note', 'knowledge', {hexblob([0.0] * 4)})",
        "INSERT INTO nodes (id, type, domain, embedding) VALUES ('short', 'note', 'knowledge', x'0000803f0000')",
        f"INSERT INTO nodes (id, type, domain, embedding) VALUES ('wide', 'note', 'knowledge', {hexblob([1.0, 0.0, 0.0, 0.0, 0.0])})",
        "INSERT INTO nodes (id, type, domain, embedding) VALUES ('text', 'note', 'knowledge', 'not a blob')",
    ])
    zero_scores = ranked(store, q, 10, min_score=-0.5)
    with_zero = sorted(zero_scores + [{"id": "zero", "score": 0.0}], key=lambda r: (-r["score"], r["id"]))
    steps = [
        {"op": "open", "args": {}},
        {"op": "upsert_nodes", "args": {"nodes": [node(k, v) for k, v in good.items()]}, "expect": 3},
        {"op": "search", "args": {"vector": floats(q), "k": 10}, "expect": ranked(store[:3], q, 10)},
        {"op": "raw_sql", "args": {"sql": sql}},
        {"op": "search", "args": {"vector": floats(q), "k": 10}, "expect": ranked(store, q, 10)},
        {"op": "search", "args": {"vector": floats(q), "k": 10, "min_score": -0.5}, "expect": with_zero},
        {"op": "search_like", "args": {"id": "nonunit", "k": 2}, "expect": ranked(store, [1.0, 1.0, 0.0, 0.0], 2, exclude="nonunit")},
        {"op": "search_like", "args": {"id": "short", "k": 2}, "expect_error": "not_found"},
        {"op": "get_embedding", "args": {"id": "short"}, "expect_error": "invalid_vector"},
        {"op": "health", "args": {}, "expect": {"vector_count": 8}},
        {"op": "stats", "args": {}, "expect": {"nodes": 8, "vectors": 8, "dimension": dim}},
        {"op": "upsert_node", "args": node("g4", [0.0, 0.0, 0.0, 1.0])},
        {"op": "search", "args": {"vector": [0.0, 0.0, 0.0, 1.0], "k": 1}, "expect": [{"id": "g4", "score": 1.0}]},
    ]
    assert store_zero
    write("foreign_blobs", "blobs written by another program: malformed and other-dimension skipped, non-unit normalised, zero scores 0; the cache sees the other connection's write", steps)


def delete_and_cache():
    a = [1.0, 0.0, 0.0]
    b = [0.8, 0.6, 0.0]
    c = [0.0, 1.0, 0.0]
    steps = [
        {"op": "open", "args": {}},
        {"op": "upsert_nodes", "args": {"nodes": [node("a", a), node("b", b), node("c", c)]}, "expect": 3},
        {"op": "search", "args": {"vector": a, "k": 3}, "expect": [{"id": "a", "score": 1.0}, {"id": "b", "score": 0.8}]},
        {"op": "delete_node", "args": {"id": "a"}},
        {"op": "search", "args": {"vector": a, "k": 3}, "expect": [{"id": "b", "score": 0.8}]},
        {"op": "upsert_node", "args": {"id": "b"}},
        {"op": "search", "args": {"vector": a, "k": 3}, "expect": []},
        {"op": "set_embedding", "args": {"id": "b", "vector": [2.0, 0.0, 0.0]}},
        {"op": "search", "args": {"vector": a, "k": 3}, "expect": [{"id": "b", "score": 1.0}]},
        {"op": "begin", "args": {}},
        {"op": "upsert_node", "args": node("d", [1.0, 0.1, 0.0])},
        {"op": "rollback", "args": {}},
        {"op": "search", "args": {"vector": a, "k": 3}, "expect": [{"id": "b", "score": 1.0}]},
        {"op": "begin", "args": {}},
        {"op": "upsert_node", "args": node("d", [1.0, 0.0, 0.0])},
        {"op": "commit", "args": {}},
        {"op": "search", "args": {"vector": a, "k": 3}, "expect": [{"id": "b", "score": 1.0}, {"id": "d", "score": 1.0}]},
        {"op": "raw_sql", "args": {"sql": "UPDATE nodes SET embedding = NULL WHERE id = 'b'"}},
        {"op": "search", "args": {"vector": a, "k": 3}, "expect": [{"id": "d", "score": 1.0}]},
        {"op": "close", "args": {}},
        {"op": "open", "args": {}},
        {"op": "search", "args": {"vector": c, "k": 3, "min_score": -1}, "expect": [{"id": "c", "score": 1.0}, {"id": "d", "score": 0.0}]},
    ]
    write("delete_and_cache", "the in-memory matrix follows deletes, re-writes, transactions and another connection's writes", steps)


def memory_codes():
    """search_basic, foreign_blobs and delete_and_cache again, every handle opened with vector_memory
    "codes" (only the int8 codes in memory): the same expectations (docs/vectors.md, "Bounded memory")."""
    for name in ("search_basic", "foreign_blobs", "delete_and_cache"):
        steps = []
        for step in WRITTEN[name]:
            if step["op"] == "open":
                step = {**step, "args": {**step["args"], "vector_memory": "codes"}}
            steps.append(step)
        if name == "delete_and_cache":
            steps.append({"op": "open", "args": {"vector_memory": "f16"}, "expect_error": "invalid_argument"})
        write(f"codes_{name}", f"vector_{name} on handles opened with vector_memory codes: the same results", steps)


if __name__ == "__main__":
    search_basic()
    ties_and_normalisation()
    invalid_vectors()
    foreign_blobs()
    delete_and_cache()
    memory_codes()
    print("wrote vector cases")
