// The conformance runner of tests/conformance/ (see its README) for Node and Bun: every case file is
// one test; every step runs through the public JS API. A case the runner cannot run is a failure.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { resonance, repoRoot, tempDir, cliPath, isBun } from './helpers.mjs';

const casesDir = path.join(repoRoot, 'tests', 'conformance', 'cases');
const files = readdirSync(casesDir).filter((f) => f.endsWith('.json')).sort();
const TOL = 1e-5;

// ---- comparison (README "Comparison") -------------------------------------------------------------

function matches(expected, actual, unordered = false) {
  if (expected === null) return actual === null;
  if (isBig(expected)) return typeof actual === 'bigint' && actual === BigInt(expected.slice(BIG.length));
  if (typeof expected === 'number') return typeof actual === 'number' && Math.abs(expected - actual) <= TOL;
  if (typeof expected === 'string' || typeof expected === 'boolean') return expected === actual;
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) return false;
    if (!unordered) return expected.every((e, i) => matches(e, actual[i]));
    const used = new Array(actual.length).fill(false);
    return expected.every((e) => {
      const i = actual.findIndex((a, j) => !used[j] && matches(e, a));
      if (i < 0) return false;
      used[i] = true;
      return true;
    });
  }
  if (typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return false;
    return Object.keys(expected).every((k) => k in actual && matches(expected[k], actual[k]));
  }
  return false;
}

// ---- argument and result mapping (README "Ops") ---------------------------------------------------

const vec = (v) => (v == null ? v : Float32Array.from(v));
const list = (a) => (a == null ? null : Array.from(a));

function nodeInput(a) {
  const n = { id: a.id };
  for (const k of ['type', 'title', 'domain', 'layer', 'hash', 'summary', 'date']) if (k in a) n[k] = a[k];
  if ('meta' in a) {
    if (typeof a.meta === 'string') n.metaJson = a.meta; // raw JSON text, so invalid JSON can be tested
    else n.meta = a.meta;
  }
  if ('embedding' in a) n.embedding = vec(a.embedding);
  return n;
}

function edgeInput(a) {
  const e = { source: a.source, target: a.target };
  if ('type' in a) e.type = a.type;
  if ('confidence' in a) e.confidence = a.confidence;
  if ('veracity' in a) e.veracity = a.veracity;
  if ('context_source' in a) e.contextSource = a.context_source;
  return e;
}

function nodeOut(n) {
  if (n === null) return null;
  const o = {
    id: n.id, type: n.type, title: n.title, domain: n.domain, layer: n.layer, hash: n.hash,
    summary: n.summary, meta: n.meta, date: n.date,
  };
  if (n.embedding != null) o.embedding = list(n.embedding);
  return o;
}

const edgeOut = (e) => ({
  source: e.source, target: e.target, type: e.type, confidence: e.confidence, veracity: e.veracity,
  context_source: e.contextSource,
});

function searchOptions(a) {
  const o = {};
  if ('k' in a) o.k = a.k;
  if ('min_score' in a && a.min_score !== null) o.minScore = a.min_score;
  if ('domain' in a) o.domain = a.domain;
  if ('type' in a) o.type = a.type;
  return o;
}

function snapshotOut(s) {
  return {
    nodes: s.nodes, edges: s.edges, vectors: s.vectors, dangling_edges: s.danglingEdges,
    dimension: s.dimension ?? null, history: s.history, label: s.label ?? null, meta: s.meta ?? null,
  };
}

const hitsOut = (h) => h.map(({ id, score }) => ({ id, score }));

function openOptions(a) {
  const o = {};
  if ('read_only' in a) o.readOnly = a.read_only;
  if ('migrate' in a) o.migrate = a.migrate;
  if ('allow_destructive' in a) o.allowDestructive = a.allow_destructive;
  if ('backup' in a) o.backup = a.backup;
  if ('busy_timeout_ms' in a) o.busyTimeoutMs = a.busy_timeout_ms;
  if ('allow_engine_writes' in a) o.allowEngineWrites = a.allow_engine_writes;
  if ('vector_memory' in a) o.vectorMemory = a.vector_memory;
  return o;
}

// ---- application SQL values (README "Application SQL") --------------------------------------------

// Case files are read with integers beyond 2^53 kept exact: such a literal (outside strings) becomes a
// marker string that `sqlIn` turns into a bigint and `matches` compares as one.
const BIG = '\u0000bigint:';
function parseCase(text) {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (ch === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (ch === '-' || (ch >= '0' && ch <= '9')) {
      const m = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400))[0];
      const integer = !/[.eE]/.test(m);
      out += integer && !Number.isSafeInteger(Number(m)) ? JSON.stringify(BIG + m) : m;
      i += m.length;
    } else {
      out += ch;
      i += 1;
    }
  }
  return JSON.parse(out);
}
const isBig = (v) => typeof v === 'string' && v.startsWith(BIG);

function sqlIn(v) {
  if (isBig(v)) return BigInt(v.slice(BIG.length));
  if (v !== null && typeof v === 'object') return Buffer.from(v.blob, 'hex');
  return v;
}
function sqlParams(p) {
  if (p === undefined) return [];
  if (Array.isArray(p)) return [p.map(sqlIn)];
  return [Object.fromEntries(Object.entries(p).map(([k, v]) => [k, sqlIn(v)]))];
}
// Safe-integer reads (so no integer is refused), back to numbers where exact, blobs as {blob: hex}.
function sqlOut(v) {
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v;
  if (v instanceof Uint8Array) return { blob: Buffer.from(v).toString('hex') };
  return v;
}

function appSteps(steps) {
  return steps.map((s) => {
    const o = { version: s.version, name: s.name, up: s.up };
    if ('down' in s) o.down = s.down;
    if ('destructive' in s) o.destructive = s.destructive;
    return o;
  });
}

class Runner {
  constructor(dir) {
    this.dir = dir;
    this.db = null;
  }

  get h() {
    if (!this.db) throw new Error('no open handle (the case did not open one)');
    return this.db;
  }

  async run(op, a) {
    const db = () => this.h;
    switch (op) {
      case 'open': {
        if (this.db) this.db.close();
        this.db = null;
        this.db = await resonance.open(path.join(this.dir, a.path ?? 'db.sqlite'), openOptions(a));
        return null;
      }
      case 'close':
        this.h.close();
        return null;
      case 'raw_sql':
        execFileSync(cliPath(), ['sql', '--raw', '--write', '--create', '--script', path.join(this.dir, a.path ?? 'db.sqlite'), a.sql], { stdio: 'pipe' });
        return null;
      case 'generate_id':
        return resonance.generateId(a.path);
      case 'upsert_node':
        db().upsertNode(nodeInput(a));
        return null;
      case 'upsert_nodes': {
        const nodes = a.nodes.map(nodeInput);
        if (db().inTransaction) {
          // Promises wait for a transaction to end: inside one, write node by node on this thread.
          for (const n of nodes) db().upsertNode(n);
          return nodes.length;
        }
        return await db().upsertNodes(nodes);
      }
      case 'get_node':
        return nodeOut(db().getNodeSync(a.id, a.with_embedding));
      case 'list_nodes': {
        const o = {};
        if ('domain' in a) o.domain = a.domain;
        if ('type' in a) o.type = a.type;
        if ('limit' in a && a.limit !== null) o.limit = a.limit;
        if ('offset' in a) o.offset = a.offset;
        if ('with_embeddings' in a) o.withEmbeddings = a.with_embeddings;
        return db().listNodes(o).map(nodeOut);
      }
      case 'delete_node':
        db().deleteNode(a.id);
        return null;
      case 'add_edge':
        return db().addEdge(edgeInput(a));
      case 'add_edges': {
        const edges = a.edges.map(edgeInput);
        if (db().inTransaction) {
          let n = 0;
          for (const e of edges) n += db().addEdge(e) ? 1 : 0;
          return n;
        }
        return await db().addEdges(edges);
      }
      case 'upsert_edge':
        db().upsertEdge(edgeInput(a));
        return null;
      case 'delete_edge':
        db().deleteEdge(a.source, a.target, a.type);
        return null;
      case 'edges_from':
        return db().edgesFrom(a.id).map(edgeOut);
      case 'edges_to':
        return db().edgesTo(a.id).map(edgeOut);
      case 'update_node': {
        const fields = {};
        for (const k of ['type', 'title', 'domain', 'layer', 'hash', 'summary', 'date']) if (k in a) fields[k] = a[k];
        if ('meta' in a) {
          if (typeof a.meta === 'string') fields.metaJson = a.meta; // raw JSON text
          else fields.meta = a.meta; // null clears
        }
        if ('embedding' in a) fields.embedding = a.embedding === null ? null : vec(a.embedding);
        db().updateNode(a.id, fields);
        return null;
      }
      case 'merge_meta':
        if (typeof a.patch === 'string') db().mergeMetaJson(a.id, a.patch);
        else db().mergeMeta(a.id, a.patch ?? null);
        return null;
      case 'update_meta':
        if (typeof a.meta === 'string') db().updateMetaJson(a.id, a.meta);
        else db().updateMeta(a.id, a.meta ?? null);
        return null;
      case 'history':
        return db().history(a.id).map((h) => ({
          entity_type: h.entityType, entity_id: h.entityId, action: h.action,
          old_value: h.oldValue, new_value: h.newValue,
        }));
      case 'stats': {
        const s = db().inTransaction ? db().statsSync() : await db().stats();
        return {
          nodes: s.nodes, edges: s.edges, vectors: s.vectors, dangling_edges: s.danglingEdges,
          dimension: s.dimension, history: s.history,
        };
      }
      case 'begin':
        db().begin();
        return null;
      case 'commit':
        db().commit();
        return null;
      case 'rollback':
        db().rollback();
        return null;
      case 'set_embedding':
        db().setEmbedding(a.id, vec(a.vector));
        return null;
      case 'get_embedding':
        return list(db().getEmbedding(a.id));
      case 'search': {
        const q = vec(a.vector);
        const o = searchOptions(a);
        return hitsOut(db().inTransaction ? db().searchSync(q, o) : await db().search(q, o));
      }
      case 'search_like':
        return hitsOut(await db().searchLike(a.id, searchOptions(a)));
      case 'search_batch': {
        const r = await db().searchBatch(a.vectors.map(vec), searchOptions(a));
        return r.ids.map((ids, i) => ids.map((id, j) => ({ id, score: r.scores[i][j] })));
      }
      case 'health': {
        const h = await db().health();
        return {
          journal_mode: h.journalMode, busy_timeout_ms: h.busyTimeoutMs, foreign_keys: h.foreignKeys,
          quick_check: h.quickCheck, schema_shape: h.schema.shape, pending: h.schema.pending,
          dangling_edges: h.danglingEdges, vector_count: h.vectors.count, write_probe: h.writeProbe,
          content: h.content,
          stats_errors: h.stats.errors.map((f) => f.code), stats_warnings: h.stats.warnings.map((f) => f.code),
        };
      }
      case 'record_stats':
        return snapshotOut(await db().recordStats({ label: a.label, metaJson: a.meta, keep: a.keep }));
      case 'stats_history':
        return db().statsHistory(a.limit).map(snapshotOut);
      case 'validate_stats': {
        const v = await db().validateStats({
          minEdgeDensity: a.min_edge_density, minEmbeddingCoverage: a.min_embedding_coverage,
          maxShrinkRatio: a.max_shrink_ratio, warnNoGrowth: a.warn_no_growth,
        });
        return { passed: v.passed, errors: v.errors.map((f) => f.code), warnings: v.warnings.map((f) => f.code) };
      }
      case 'migrate': {
        const o = {};
        if ('dry_run' in a) o.dryRun = a.dry_run;
        if ('allow_destructive' in a) o.allowDestructive = a.allow_destructive;
        if ('backup' in a) o.backup = a.backup;
        const r = await db().migrate(o);
        return { steps: r.steps.map((s) => s.id) };
      }
      case 'checkpoint': {
        const c = db().checkpoint(a.mode);
        return { busy: c.busy, log: c.log, checkpointed: c.checkpointed };
      }
      case 'neighbors':
        return db().neighbors(a.id);
      case 'successors':
        return db().successors(a.id);
      case 'predecessors':
        return db().predecessors(a.id);
      case 'degree':
        return db().degree(a.id);
      case 'traverse':
        return db().traverse(a.start, a.max_depth, a.direction);
      case 'shortest_path':
        return db().shortestPath(a.source, a.target, a.direction);
      case 'pagerank': {
        const o = {};
        if ('alpha' in a) o.alpha = a.alpha;
        if ('tolerance' in a) o.tolerance = a.tolerance;
        if ('max_iterations' in a) o.maxIterations = a.max_iterations;
        return await db().pagerank(o);
      }
      case 'betweenness': {
        const o = {};
        if ('normalized' in a) o.normalized = a.normalized;
        if ('sample' in a && a.sample !== null) o.sample = a.sample;
        if ('seed' in a) o.seed = a.seed;
        return await db().betweenness(o);
      }
      case 'communities': {
        const o = {};
        if ('resolution' in a) o.resolution = a.resolution;
        if ('seed' in a) o.seed = a.seed;
        return await db().communities(o);
      }
      case 'components':
        return await db().components();
      case 'adamic_adar':
        return db().adamicAdar(a.a, a.b);
      case 'link_candidates':
        return (await db().linkCandidates(a.limit)).map(({ source, target, score }) => ({ source, target, score }));
      case 'pillars':
        return (await db().pillars(a.limit)).map(({ id, pagerank, degree }) => ({ id, pagerank, degree }));
      case 'graph_stats': {
        const s = db().graphStats();
        return { nodes: s.nodes, edges: s.edges, density: s.density, skipped_edges: s.skippedEdges };
      }
      case 'execute': {
        const r = db().prepare(a.sql).safeIntegers().run(...sqlParams(a.params));
        return { changes: r.changes, last_insert_rowid: sqlOut(r.lastInsertRowid) };
      }
      case 'query': {
        const st = db().prepare(a.sql);
        if (!st.reader) {
          st.run(...sqlParams(a.params));
          return { columns: [], rows: [] };
        }
        const rows = st.raw().safeIntegers().all(...sqlParams(a.params));
        return { columns: st.columns().map((c) => c.name), rows: rows.map((r) => r.map(sqlOut)) };
      }
      case 'query_row': {
        const st = db().prepare(a.sql);
        if (!st.reader) {
          st.run(...sqlParams(a.params));
          return null;
        }
        const row = st.raw().safeIntegers().get(...sqlParams(a.params));
        return row === undefined ? null : { columns: st.columns().map((c) => c.name), values: row.map(sqlOut) };
      }
      case 'execute_batch':
        db().exec(a.sql);
        return null;
      case 'migrate_app': {
        const o = {};
        if ('to' in a) o.to = a.to;
        if ('dry_run' in a) o.dryRun = a.dry_run;
        if ('allow_destructive' in a) o.allowDestructive = a.allow_destructive;
        if ('no_backup' in a) o.backup = !a.no_backup;
        if ('accept_changed' in a) o.acceptChanged = a.accept_changed;
        const r = await db().migrateApp(a.namespace, appSteps(a.steps), o);
        return { steps: r.steps.map((s) => ({ version: s.version, direction: s.direction })) };
      }
      case 'app_migration_status': {
        const s = db().appMigrationStatus(a.namespace, appSteps(a.steps));
        return { applied: s.applied.map((x) => x.version), pending: s.pending.map((x) => x.version) };
      }
      default:
        throw new Error(`the Node runner has no op ${JSON.stringify(op)}`);
    }
  }
}

const show = (v) => JSON.stringify(v, (_, x) => (ArrayBuffer.isView(x) ? Array.from(x) : x))?.slice(0, 600);

async function runCase(file) {
  const c = parseCase(readFileSync(path.join(casesDir, file), 'utf8'));
  const r = new Runner(tempDir('resonance-conf-'));
  const values = [];
  try {
    for (const [i, step] of c.steps.entries()) {
      const where = `${c.name} step ${i} (${step.op} ${show(step.args ?? {})})`;
      let value;
      let error;
      try {
        value = await r.run(step.op, step.args ?? {});
      } catch (e) {
        error = e;
      }
      values.push(value);
      if ('expect_error' in step) {
        assert.ok(error, `${where}: expected error ${step.expect_error}, got ${show(value)}`);
        assert.equal(error.code, step.expect_error, `${where}: expected error ${step.expect_error}, got ${error.code}: ${error.message}`);
        continue;
      }
      if (error) throw new Error(`${where}: unexpected error ${error.code}: ${error.message}`);
      if ('expect' in step) {
        assert.ok(matches(step.expect, value, step.unordered === true), `${where}: expected ${show(step.expect)}, got ${show(value)}`);
      }
      if ('expect_min_modularity' in step) {
        const ids = r.h.listNodes().map((n) => n.id).sort();
        assert.deepEqual(Object.keys(value.partition).sort(), ids, `${where}: the partition must cover every node`);
        assert.ok(value.modularity >= step.expect_min_modularity - 0.01, `${where}: modularity ${value.modularity} < ${step.expect_min_modularity} - 0.01`);
      }
      if ('expect_same_as' in step) {
        assert.deepEqual(value, values[step.expect_same_as], `${where}: differs from step ${step.expect_same_as}`);
      }
    }
  } finally {
    if (r.db) r.db.close();
  }
}

let passed = 0;
let failed = 0;
for (const f of files) {
  test(`conformance ${f}`, async () => {
    try {
      await runCase(f);
      passed += 1;
    } catch (e) {
      failed += 1;
      throw e;
    }
  });
}

after(() => {
  console.log(`conformance (${isBun ? 'bun' : 'node'}): ${passed} passed, ${failed} failed of ${files.length} cases`);
});
