#!/usr/bin/env python3
"""Graph conformance oracle: computes the expectations of tests/conformance/cases/graph_*.json with
networkx (docs/graph.md; the case format: docs/conformance.md), independently of the engine.

It installs nothing: run it from a venv that has the packages of requirements.txt, e.g.

    python3 -m venv tests/conformance/oracle/.venv
    tests/conformance/oracle/.venv/bin/pip install -r tests/conformance/oracle/requirements.txt
    tests/conformance/oracle/.venv/bin/python tests/conformance/oracle/graph_oracle.py

Semantics pinned here (and in core/src/graph): the graph is a networkx MultiDiGraph of the nodes and of
the edges whose two endpoints are nodes (the others are skipped and counted); every edge has weight 1,
so parallel edges add up where networkx sums weights (PageRank, Louvain) and collapse where it walks
adjacency (betweenness, BFS).
- neighbors = set(successors) | set(predecessors), sorted: a node is its own neighbour only through a
  self-loop. successors / predecessors distinct and sorted. degree = in + out (a self-loop counts 2).
- traverse = start + bfs_edges(depth_limit, neighbours in ascending id order).
- shortest_path = the path of BFS parents (first discoverer, neighbours ascending); its length is
  checked against nx.shortest_path_length.
- pagerank = nx.pagerank. betweenness = nx.betweenness_centrality (k = N when sampled, so the
  expectation does not depend on which pivots are drawn).
- communities: nx.community.louvain_communities's modularity is a floor (the seeds of two different
  generators cannot be matched).
- adamic_adar / link_candidates on nx.Graph(G) without self-loops; scores are summed over common
  neighbours in ascending id order (checked against nx.adamic_adar_index).
- pillars: top PageRank, ties (scores equal to 1e-12) by id.
"""

import json
import math
import os
import random
import sys
from collections import deque

import networkx as nx

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = os.path.normpath(os.path.join(HERE, "..", "cases"))

ALPHA, TOL, MAX_ITER = 0.85, 1e-6, 100


def r(x):
    """Floats rounded to 12 decimals: stable files, far inside the runners' 1e-5 tolerance."""
    return round(float(x), 12)


class Spec:
    """A graph as the database will hold it: node ids, (source, target, type) edge rows."""

    def __init__(self, name, description, nodes, edges):
        self.name = name
        self.description = description
        self.nodes = list(dict.fromkeys(nodes))
        rows, seen = [], set()
        for s, t, *ty in edges:
            ty = ty[0] if ty else "related_to"
            k = 0
            while (s, t, ty) in seen:  # a parallel edge needs its own type (primary key)
                k += 1
                ty = f"related_to_{k}"
            seen.add((s, t, ty))
            rows.append((s, t, ty))
        self.edges = rows
        node_set = set(self.nodes)
        self.G = nx.MultiDiGraph()
        self.G.add_nodes_from(self.nodes)
        self.skipped = 0
        for s, t, _ in rows:
            if s in node_set and t in node_set:
                self.G.add_edge(s, t)
            else:
                self.skipped += 1


# ---------------------------------------------------------------------------------------------------
# Expectations, each computed with networkx.


def neighbors(G, u):
    return sorted(set(G.successors(u)) | set(G.predecessors(u)))


def traverse(G, s, depth):
    return [s] + [v for _, v in nx.bfs_edges(G, s, depth_limit=depth, sort_neighbors=sorted)]


def shortest_path(G, s, t):
    if s == t:
        return [s]
    parent = {}
    for child, par in nx.bfs_predecessors(G, s, sort_neighbors=sorted):
        parent[child] = par
    if t not in parent:
        assert not nx.has_path(G, s, t)
        return None
    path = [t]
    while path[-1] != s:
        path.append(parent[path[-1]])
    path.reverse()
    assert len(path) - 1 == nx.shortest_path_length(G, s, t)
    return path


def simple_undirected(G):
    H = nx.Graph(G.to_undirected())
    H.remove_edges_from(list(nx.selfloop_edges(H)))
    return H


def adamic_adar(H, a, b):
    common = sorted(nx.common_neighbors(H, a, b))
    score = 0.0
    for w in common:
        score += 1 / math.log(H.degree(w))
    if common:
        ((_, _, nx_score),) = nx.adamic_adar_index(H, [(a, b)])
        assert abs(nx_score - score) < 1e-9, (a, b, nx_score, score)
    return score


def link_candidates(H, limit):
    out = []
    nodes = sorted(H)
    for i, a in enumerate(nodes):
        na = set(H[a])
        two = set()
        for w in na:
            two.update(H[w])
        for b in sorted(two):
            if b <= a or b in na:
                continue
            out.append((a, b, adamic_adar(H, a, b)))
    out.sort(key=lambda x: (-x[2], x[0], x[1]))
    return [{"source": a, "target": b, "score": r(s)} for a, b, s in out[:limit]]


def pagerank(G, alpha=ALPHA, tol=TOL, max_iter=MAX_ITER):
    return nx.pagerank(G, alpha=alpha, tol=tol, max_iter=max_iter) if len(G) else {}


def pillars(G, limit):
    pr = pagerank(G)
    order = sorted(pr, key=lambda v: (-round(pr[v] * 1e12), v))
    return [{"id": v, "pagerank": r(pr[v]), "degree": G.degree(v)} for v in order[:limit]]


def components(G):
    comps = [sorted(c) for c in nx.weakly_connected_components(G)]
    comps.sort(key=lambda c: (-len(c), c[0]))
    return comps


def louvain_modularity(G, resolution, seed):
    if G.number_of_edges() == 0:
        return 0.0
    comms = nx.community.louvain_communities(G, resolution=resolution, seed=seed)
    return nx.community.modularity(G, comms, resolution=resolution)


# ---------------------------------------------------------------------------------------------------
# Case construction.


def setup_steps(spec, batch):
    steps = [{"op": "open", "args": {}}]
    if batch:
        steps.append({"op": "upsert_nodes", "args": {"nodes": [{"id": n} for n in spec.nodes]}})
        steps.append(
            {
                "op": "add_edges",
                "args": {"edges": [{"source": s, "target": t, "type": ty} for s, t, ty in spec.edges]},
            }
        )
    else:
        for n in spec.nodes:
            steps.append({"op": "upsert_node", "args": {"id": n, "type": "concept"}})
        for s, t, ty in spec.edges:
            args = {"source": s, "target": t}
            if ty != "related_to":
                args["type"] = ty
            steps.append({"op": "add_edge", "args": args})
    return steps


def case(spec, probes, pairs, batch, seeds=(42,), extra=()):
    G, H = spec.G, simple_undirected(spec.G)
    steps = setup_steps(spec, batch)

    def add(op, args, expect=None, **kw):
        step = {"op": op, "args": args}
        step.update(kw)
        if "expect_error" not in kw and "expect_min_modularity" not in kw and "expect_same_as" not in kw:
            step["expect"] = expect
        steps.append(step)
        return len(steps) - 1

    n = G.number_of_nodes()
    e = G.number_of_edges()
    add(
        "graph_stats",
        {},
        {"nodes": n, "edges": e, "density": r(e / (n * (n - 1)) if n >= 2 else 0.0), "skipped_edges": spec.skipped},
    )
    for u in probes:
        add("neighbors", {"id": u}, neighbors(G, u))
        add("successors", {"id": u}, sorted(set(G.successors(u))))
        add("predecessors", {"id": u}, sorted(set(G.predecessors(u))))
        add("degree", {"id": u}, G.degree(u))
    for u in probes[:4]:
        for d in (0, 1, 2, 100):
            add("traverse", {"start": u, "max_depth": d}, traverse(G, u, d))
    for s, t in pairs:
        add("shortest_path", {"source": s, "target": t}, shortest_path(G, s, t))
    for alpha in (0.85, 0.5):
        pr = pagerank(G, alpha=alpha)
        add("pagerank", {"alpha": alpha, "tolerance": TOL, "max_iterations": MAX_ITER}, {k: r(v) for k, v in pr.items()})
    for normalized in (True, False):
        bc = nx.betweenness_centrality(G, normalized=normalized) if n else {}
        add("betweenness", {"normalized": normalized, "sample": None, "seed": 0}, {k: r(v) for k, v in bc.items()})
    if n:
        bc = nx.betweenness_centrality(G, k=n, normalized=True, seed=1)
        add("betweenness", {"normalized": True, "sample": n, "seed": 7}, {k: r(v) for k, v in bc.items()})
    for seed in seeds:
        for resolution in (1.0, 2.0):
            q = louvain_modularity(G, resolution, seed)
            first = add("communities", {"resolution": resolution, "seed": seed}, expect_min_modularity=r(q))
            add("communities", {"resolution": resolution, "seed": seed}, expect_same_as=first)
    add("components", {}, components(G))
    for a, b in pairs:
        if a != b and a in H and b in H:
            add("adamic_adar", {"a": a, "b": b}, r(adamic_adar(H, a, b)))
    for limit in (0, 5, 25):
        add("link_candidates", {"limit": limit}, link_candidates(H, limit))
    for limit in (0, 5, n + 3):
        add("pillars", {"limit": limit}, pillars(G, limit))
    # Unknown ids.
    ghost = "no-such-node"
    for op, args in [
        ("neighbors", {"id": ghost}),
        ("successors", {"id": ghost}),
        ("predecessors", {"id": ghost}),
        ("degree", {"id": ghost}),
        ("traverse", {"start": ghost, "max_depth": 2}),
        ("shortest_path", {"source": ghost, "target": probes[0] if probes else ghost}),
        ("shortest_path", {"source": probes[0] if probes else ghost, "target": ghost}),
        ("adamic_adar", {"a": ghost, "b": probes[0] if probes else ghost}),
    ]:
        add(op, args, expect_error="not_found")
    for step in extra:
        steps.append(step)
    return {"name": "graph_" + spec.name, "description": spec.description, "steps": steps}


def probes_of(spec, k, rng):
    G = spec.G
    nodes = sorted(G)
    picked = set(rng.sample(nodes, min(k, len(nodes))))
    picked.update(v for v, _ in nx.selfloop_edges(G))  # every self-loop node
    if nodes:
        picked.add(max(nodes, key=lambda v: (G.degree(v), v)))  # the hub
    return sorted(picked)


def pairs_of(spec, k, rng):
    nodes = sorted(spec.G)
    if not nodes:
        return []
    pairs = [(nodes[0], nodes[0])]
    for _ in range(k):
        pairs.append((rng.choice(nodes), rng.choice(nodes)))
    return pairs


# ---------------------------------------------------------------------------------------------------
# Graphs.


def karate():
    K = nx.karate_club_graph()
    nodes = [f"m{v:02d}" for v in K]
    edges = []
    for u, v in sorted(K.edges()):
        a, b = sorted((u, v))
        edges.append((f"m{a:02d}", f"m{b:02d}"))
        if (a + b) % 3 == 0:  # some ties go both ways
            edges.append((f"m{b:02d}", f"m{a:02d}"))
    return Spec(
        "karate",
        "Zachary's karate club (34 members, 78 ties) directed from the lower to the higher member number, "
        "a third of the ties reciprocated; expectations from networkx",
        nodes,
        edges,
    )


def les_miserables():
    L = nx.les_miserables_graph()
    nodes = sorted(L)
    edges = []
    for u, v, d in L.edges(data=True):
        edges.append((u, v))
        if d.get("weight", 1) >= 3:
            edges.append((v, u))
    return Spec(
        "les_miserables",
        "Les Misérables co-appearances (77 characters) as directed edges in networkx's order, ties of weight ≥ 3 "
        "reciprocated; expectations from networkx",
        nodes,
        edges,
    )


def random_graph(name, seed, n, m, blocks):
    rng = random.Random(seed)
    nodes = [f"n{i:03d}" for i in range(n)]
    edges = []
    size = n // blocks
    for _ in range(m):
        a = rng.randrange(n)
        if rng.random() < 0.75:  # mostly inside a block: real community structure
            b = (a // size) * size + rng.randrange(size)
            b = min(b, n - 1)
        else:  # otherwise preferential to low numbers (a skewed degree distribution)
            b = int(n * rng.random() ** 2)
        edges.append((nodes[a], nodes[b]))
    for _ in range(m // 20):  # parallel edges
        s, t = edges[rng.randrange(len(edges))]
        edges.append((s, t))
    for _ in range(3):  # self-loops
        v = nodes[rng.randrange(n)]
        edges.append((v, v))
    edges.append((nodes[1], "ghost-node"))  # dangling edges
    edges.append(("ghost-source", nodes[2]))
    isolated = [f"z-isolated-{i}" for i in range(2)]
    return Spec(
        name,
        f"Seeded random directed multigraph ({n} nodes, ~{m} edges, {blocks} blocks) with parallel edges, "
        "self-loops, two isolated nodes and two dangling edges; expectations from networkx",
        nodes + isolated,
        edges,
    )


def small_cases():
    out = []
    # Edge cases in single-row ops (upsert_node / add_edge), small enough to read.
    out.append(
        (
            Spec(
                "edge_cases",
                "Self-loops, parallel edges, a reversed edge, a dangling edge, an isolated node and two equal "
                "shortest paths (BFS in id order picks the first)",
                ["a", "b", "c", "d", "e", "f", "solo"],
                [
                    ("a", "c"), ("a", "b"), ("a", "b"), ("a", "b", "cites"), ("b", "a"),
                    ("b", "d"), ("c", "d"), ("d", "e"), ("e", "e"), ("e", "e", "cites"),
                    ("f", "a"), ("a", "ghost"), ("ghost", "ghost"),
                ],
            ),
            False,
        )
    )
    out.append(
        (
            Spec(
                "two_nodes",
                "Two nodes and one edge: betweenness is not normalised below three nodes",
                ["x", "y"],
                [("x", "y")],
            ),
            False,
        )
    )
    out.append(
        (
            Spec(
                "self_loop_only",
                "One node with a self-loop: its own neighbour, degree 2, PageRank 1",
                ["only"],
                [("only", "only")],
            ),
            False,
        )
    )
    out.append(
        (
            Spec(
                "dangling_only",
                "Nodes whose every edge dangles: no edge is kept, all are counted as skipped",
                ["p", "q", "r"],
                [("p", "missing"), ("missing", "q"), ("gone", "gone")],
            ),
            False,
        )
    )
    out.append(
        (
            Spec(
                "star_and_cycle",
                "A directed star and a 4-cycle with a chord: two components, several equal shortest paths",
                ["hub", "s1", "s2", "s3", "s4", "c1", "c2", "c3", "c4"],
                [("hub", "s1"), ("hub", "s2"), ("s3", "hub"), ("s4", "hub"), ("s1", "s2"),
                 ("c1", "c2"), ("c2", "c3"), ("c3", "c4"), ("c4", "c1"), ("c1", "c3")],
            ),
            False,
        )
    )
    return out


def empty_case():
    spec = Spec("empty", "An empty graph: every analysis returns an empty result, never an error", [], [])
    c = case(spec, [], [], batch=False)
    return c


def write(c):
    """One step per line: small diffs, readable, compact."""
    path = os.path.join(CASES, c["name"] + ".json")
    dump = lambda v: json.dumps(v, ensure_ascii=False, separators=(",", ":"))
    with open(path, "w", encoding="utf-8") as f:
        f.write('{"name":%s,\n "description":%s,\n "steps":[\n' % (dump(c["name"]), dump(c["description"])))
        f.write(",\n".join("  " + dump(step) for step in c["steps"]))
        f.write("\n]}\n")
    return path


def main():
    print("networkx", nx.__version__, file=sys.stderr)
    os.makedirs(CASES, exist_ok=True)
    rng = random.Random(20261123)
    written = []
    for spec in (karate(), les_miserables()):
        written.append(write(case(spec, probes_of(spec, 8, rng), pairs_of(spec, 10, rng), batch=True, seeds=(42, 7))))
    for spec in (random_graph("random_a", 1, 60, 220, 4), random_graph("random_b", 2, 150, 700, 6)):
        written.append(write(case(spec, probes_of(spec, 8, rng), pairs_of(spec, 12, rng), batch=True, seeds=(42, 7))))
    for spec, batch in small_cases():
        nodes = sorted(spec.G)
        pairs = [(a, b) for a in nodes for b in nodes][:: max(1, len(nodes) // 3)]
        written.append(write(case(spec, nodes, pairs, batch=batch, seeds=(42,))))
    written.append(write(empty_case()))
    for p in written:
        print(os.path.relpath(p), file=sys.stderr)


if __name__ == "__main__":
    main()
