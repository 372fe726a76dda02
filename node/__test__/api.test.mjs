// The public JS API, call by call: open/openSync, store, vectors, graph, maintenance, transactions,
// close/dispose. Runs unchanged under `node --test` and `bun test`.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { resonance, tempDir, expectCode } from './helpers.mjs';

const close = (a, b, tol = 1e-6) => Math.abs(a - b) <= tol;

describe('open', () => {
  test('open() resolves to a Database; statsSync() of a new file is empty', async () => {
    const dir = tempDir();
    const db = await resonance.open(path.join(dir, 'deep', 'er', 'x.db'));
    assert.ok(db instanceof resonance.Database);
    const s = db.statsSync();
    assert.equal(s.nodes, 0);
    assert.equal(s.edges, 0);
    assert.equal(s.dimension, null);
    assert.ok(s.dbBytes > 0);
    assert.equal(db.readOnly, false);
    assert.equal(db.closed, false);
    assert.ok(db.path.endsWith('x.db'));
    assert.deepEqual(db.warnings, []);
    db.close();
  });

  test('openSync() and the async stats() agree', async () => {
    const db = resonance.openSync(path.join(tempDir(), 'x.db'), { busyTimeoutMs: 2000, backup: false });
    db.upsertNode({ id: 'a' });
    assert.deepEqual(await db.stats(), db.statsSync());
    db.close();
  });

  test('generateId reproduces the application rule', () => {
    assert.equal(resonance.generateId('./docs/README.md'), 'docs-readme');
    assert.equal(resonance.generateId('docs/My Note.MD'), 'docs-my-note-md');
    assert.equal(resonance.generateId('Über/ñ.md'), 'ber');
  });
});

describe('store', () => {
  let db;
  before(() => {
    db = resonance.openSync(path.join(tempDir(), 'store.db'));
  });
  after(() => db.close());

  test('upsertNode / getNodeSync / getNode: plain objects, meta parsed, defaults, nulls', async () => {
    db.upsertNode({ id: 'a', type: 'note', title: 'A', meta: { tags: ['x'], n: 1 }, summary: 's', date: '2026-01-01' });
    const a = db.getNodeSync('a');
    assert.deepEqual(a, {
      id: 'a', type: 'note', title: 'A', domain: 'knowledge', layer: 'experience', hash: null, summary: 's',
      meta: { tags: ['x'], n: 1 }, date: '2026-01-01', embedding: null,
    });
    assert.deepEqual(await db.getNode('a'), a);
    assert.equal(db.getNodeSync('missing'), null);
    assert.equal(await db.getNode('missing'), null);
    // The whole row is written: fields not given become NULL.
    db.upsertNode({ id: 'a', metaJson: '[1,2]' });
    const a2 = db.getNodeSync('a');
    assert.equal(a2.title, null);
    assert.deepEqual(a2.meta, [1, 2]);
  });

  test('upsertNodes (async) writes all or nothing', async () => {
    assert.equal(await db.upsertNodes([{ id: 'b', domain: 'd1' }, { id: 'c', domain: 'd2', type: 't' }]), 2);
    await assert.rejects(db.upsertNodes([{ id: 'e' }, { id: '' }]), (e) => e.code === 'invalid_argument' && /#1/.test(e.message));
    assert.equal(db.getNodeSync('e'), null);
  });

  test('listNodes filters and pages in id order', () => {
    assert.deepEqual(db.listNodes().map((n) => n.id), ['a', 'b', 'c']);
    assert.deepEqual(db.listNodes({ domain: 'd2' }).map((n) => n.id), ['c']);
    assert.deepEqual(db.listNodes({ type: 't' }).map((n) => n.id), ['c']);
    assert.deepEqual(db.listNodes({ limit: 1, offset: 1 }).map((n) => n.id), ['b']);
  });

  test('edges: addEdge, addEdges, upsertEdge, edgesFrom/To, deleteEdge', async () => {
    assert.equal(db.addEdge({ source: 'a', target: 'b' }), true);
    assert.equal(db.addEdge({ source: 'a', target: 'b' }), false);
    assert.equal(await db.addEdges([{ source: 'a', target: 'c', type: 'cites' }, { source: 'a', target: 'b' }]), 1);
    db.upsertEdge({ source: 'a', target: 'b', confidence: 0.5, veracity: 0.25, contextSource: 'test' });
    assert.deepEqual(db.edgesFrom('a'), [
      { source: 'a', target: 'b', type: 'related_to', confidence: 0.5, veracity: 0.25, contextSource: 'test' },
      { source: 'a', target: 'c', type: 'cites', confidence: 1, veracity: 1, contextSource: null },
    ]);
    assert.deepEqual(db.edgesTo('c').map((e) => e.source), ['a']);
    db.deleteEdge('a', 'c', 'cites');
    assert.deepEqual(db.edgesTo('c'), []);
    await expectCode(() => db.deleteEdge('a', 'c', 'cites'), 'not_found', assert);
  });

  test('updateMeta, updateMetaJson and history', () => {
    db.updateMeta('b', { k: 'v' });
    assert.deepEqual(db.getNodeSync('b').meta, { k: 'v' });
    db.updateMetaJson('b', '"text"');
    assert.equal(db.getNodeSync('b').meta, 'text');
    db.updateMeta('b', null);
    assert.equal(db.getNodeSync('b').meta, null);
    const h = db.history('b');
    assert.deepEqual(h.map((e) => e.action), ['insert', 'update_meta', 'update_meta', 'update_meta']);
    assert.equal(h[1].newValue.k, 'v');
    assert.equal(h[0].entityType, 'node');
    assert.ok(typeof h[0].timestamp === 'string');
  });

  test('deleteNode removes the node with its edges', () => {
    db.deleteNode('b');
    assert.equal(db.getNodeSync('b'), null);
    assert.deepEqual(db.edgesFrom('a'), []);
    assert.equal(db.statsSync().danglingEdges, 0);
  });

  test('pruneHistory keeps the newest rows', () => {
    const before = db.statsSync().history;
    assert.ok(before > 3);
    assert.equal(db.pruneHistory({ keepLast: 3 }), before - 3);
    assert.equal(db.statsSync().history, 3);
  });
});

describe('transactions', () => {
  let db;
  before(() => {
    db = resonance.openSync(path.join(tempDir(), 'tx.db'));
  });
  after(() => db.close());

  test('transaction(fn) commits and returns what fn returns', () => {
    const r = db.transaction(() => {
      db.upsertNode({ id: 'a' });
      db.upsertNode({ id: 'b' });
      assert.equal(db.inTransaction, true);
      return { written: 2 };
    });
    assert.deepEqual(r, { written: 2 });
    assert.equal(db.inTransaction, false);
    assert.equal(db.statsSync().nodes, 2);
  });

  test('transaction(fn) rolls back and rethrows the same error when fn throws', () => {
    const boom = new TypeError('boom');
    assert.throws(() => db.transaction(() => {
      db.upsertNode({ id: 'c' });
      throw boom;
    }), (e) => e === boom);
    assert.equal(db.getNodeSync('c'), null);
    assert.equal(db.inTransaction, false);
  });

  test('a failing call inside fn rolls everything back with its code', async () => {
    await expectCode(() => db.transaction(() => {
      db.upsertNode({ id: 'd' });
      db.deleteNode('nope');
    }), 'not_found', assert);
    assert.equal(db.getNodeSync('d'), null);
  });

  test('nested transaction(fn) is invalid_argument and the outer one still commits', async () => {
    db.transaction(() => {
      db.upsertNode({ id: 'e' });
      assert.throws(() => db.transaction(() => 1), (e) => e.code === 'invalid_argument');
    });
    assert.notEqual(db.getNodeSync('e'), null);
  });

  test('begin/commit/rollback', async () => {
    db.begin();
    db.upsertNode({ id: 'f' });
    db.rollback();
    assert.equal(db.getNodeSync('f'), null);
    await expectCode(() => db.commit(), 'invalid_argument', assert);
  });
});

describe('vectors', () => {
  let db;
  before(async () => {
    db = await resonance.open(path.join(tempDir(), 'vec.db'));
    await db.upsertNodes([
      { id: 'x', embedding: new Float32Array([1, 0, 0]), domain: 'd' },
      { id: 'y', embedding: [0.8, 0.6, 0] },
      { id: 'z', embedding: new Float32Array([0, 0, 3]), type: 'far' },
    ]);
  });
  after(() => db.close());

  test('getEmbedding returns a normalised Float32Array; setEmbedding normalises', () => {
    const z = db.getEmbedding('z');
    assert.ok(z instanceof Float32Array);
    assert.deepEqual(Array.from(z), [0, 0, 1]);
    db.setEmbedding('z', new Float32Array([0, 2, 0]));
    assert.deepEqual(Array.from(db.getEmbedding('z')), [0, 1, 0]);
    db.upsertNode({ id: 'novec' });
    assert.equal(db.getEmbedding('novec'), null);
    assert.ok(db.getNodeSync('x', true).embedding instanceof Float32Array);
    assert.equal(db.getNodeSync('x').embedding, null);
    assert.equal(db.statsSync().dimension, 3);
  });

  test('search / searchSync: plain {id, score}, sorted, filters, k = 0', async () => {
    const q = new Float32Array([1, 0, 0]);
    const hits = await db.search(q);
    assert.deepEqual(hits.map((h) => h.id), ['x', 'y']);
    assert.ok(close(hits[0].score, 1) && close(hits[1].score, 0.8));
    assert.deepEqual(db.searchSync(q), hits);
    assert.deepEqual((await db.search(q, { domain: 'd' })).map((h) => h.id), ['x']);
    assert.deepEqual((await db.search(q, { minScore: -1 })).map((h) => h.id), ['x', 'y', 'z']);
    assert.deepEqual(await db.search(q, { k: 0 }), []);
    assert.deepEqual((await db.search([2, 0, 0], { k: 1 })).map((h) => h.id), ['x']);
  });

  test('the query is copied when the call is made: the caller may reuse its array at once', async () => {
    const q = new Float32Array([1, 0, 0]);
    const pending = db.search(q, { k: 1 });
    q.set([0, 1, 0]);
    assert.equal((await pending)[0].id, 'x');
    const qs = [new Float32Array([0, 1, 0])];
    const pendingBatch = db.searchBatch(qs, { k: 1 });
    qs[0].set([1, 0, 0]);
    assert.equal((await pendingBatch).ids[0][0], 'z');
  });

  test('searchLike excludes the node itself', async () => {
    assert.deepEqual((await db.searchLike('x')).map((h) => h.id), ['y']);
  });

  test('searchBatch resolves to ids and Float32Array scores per query', async () => {
    const r = await db.searchBatch([new Float32Array([1, 0, 0]), new Float32Array([0, 1, 0])], { k: 2 });
    assert.deepEqual(r.ids, [['x', 'y'], ['z', 'y']]);
    assert.ok(r.scores[0] instanceof Float32Array);
    assert.ok(close(r.scores[0][0], 1, 1e-6) && close(r.scores[1][1], 0.6, 1e-6));
    assert.deepEqual(await db.searchBatch([]), { ids: [], scores: [] });
  });

  test('vectorIndexInfo', () => {
    const i = db.vectorIndexInfo();
    assert.equal(i.dimension, 3);
    assert.equal(i.rows, 3);
    assert.equal(typeof i.kernel, 'string');
  });
});

describe('graph', () => {
  let db;
  before(async () => {
    db = resonance.openSync(path.join(tempDir(), 'graph.db'));
    await db.upsertNodes(['a', 'b', 'c', 'd', 'solo'].map((id) => ({ id })));
    await db.addEdges([
      { source: 'a', target: 'b' }, { source: 'b', target: 'c' }, { source: 'c', target: 'a' },
      { source: 'c', target: 'd' }, { source: 'a', target: 'ghost' },
    ]);
  });
  after(() => db.close());

  test('neighbourhoods, traverse, shortestPath, degree, adamicAdar, graphStats', () => {
    assert.deepEqual(db.neighbors('c'), ['a', 'b', 'd']);
    assert.deepEqual(db.successors('c'), ['a', 'd']);
    assert.deepEqual(db.predecessors('a'), ['c']);
    assert.equal(db.degree('c'), 3);
    assert.deepEqual(db.traverse('a', 1), ['a', 'b']);
    assert.deepEqual(db.shortestPath('a', 'd'), ['a', 'b', 'c', 'd']);
    assert.equal(db.shortestPath('d', 'a'), null);
    assert.ok(db.adamicAdar('a', 'b') >= 0);
    assert.deepEqual(db.graphStats(), { nodes: 5, edges: 4, density: 4 / 20, skippedEdges: 1 });
  });

  test('the heavy analytics are Promises', async () => {
    const pr = db.pagerank();
    assert.ok(pr instanceof Promise);
    const scores = await pr;
    assert.deepEqual(Object.keys(scores), ['a', 'b', 'c', 'd', 'solo']);
    assert.ok(close(Object.values(scores).reduce((x, y) => x + y, 0), 1));
    const bc = await db.betweenness();
    assert.equal(Object.keys(bc).length, 5);
    assert.ok(bc.c > 0);
    const sampled = await db.betweenness({ sample: 2, seed: 1 });
    assert.equal(Object.keys(sampled).length, 5);
    const comm = await db.communities({ seed: 3 });
    assert.deepEqual(Object.keys(comm.partition).sort(), ['a', 'b', 'c', 'd', 'solo']);
    assert.equal(typeof comm.modularity, 'number');
    assert.deepEqual(await db.communities({ seed: 3 }), comm);
    assert.deepEqual(await db.components(), [['a', 'b', 'c', 'd'], ['solo']]);
    const lc = await db.linkCandidates(5);
    assert.ok(lc.every((c) => typeof c.source === 'string' && typeof c.score === 'number'));
    const pillars = await db.pillars(2);
    assert.equal(pillars.length, 2);
    assert.deepEqual(Object.keys(pillars[0]).sort(), ['degree', 'id', 'pagerank']);
  });
});

describe('maintenance', () => {
  let db;
  let dir;
  before(() => {
    dir = tempDir();
    db = resonance.openSync(path.join(dir, 'm.db'));
    db.upsertNode({ id: 'a', embedding: [1, 0] });
  });
  after(() => db.close());

  test('health() reports the hardening canon', async () => {
    const h = await db.health();
    assert.equal(h.journalMode, 'wal');
    assert.equal(h.busyTimeoutMs, 5000);
    assert.equal(h.foreignKeys, true);
    assert.equal(h.quickCheck, 'ok');
    assert.equal(h.writeProbe, 'ok');
    assert.equal(h.vectors.count, 1);
    assert.deepEqual(h.vectors.dimensions, { 2: 1 });
    assert.deepEqual(h.schema.pending, []);
    assert.ok(Array.isArray(h.problems));
  });

  test('migrate({dryRun}) on a current database has nothing to do', async () => {
    const r = await db.migrate({ dryRun: true });
    assert.equal(r.dryRun, true);
    assert.deepEqual(r.steps, []);
    assert.equal(r.backup, null);
  });

  test('backup() to a path and into backups/', async () => {
    const dest = path.join(dir, 'copy.db');
    assert.equal(await db.backup(dest), dest);
    assert.ok(existsSync(dest));
    const copy = resonance.openSync(dest, { readOnly: false });
    assert.equal(copy.getNodeSync('a').id, 'a');
    copy.close();
    const auto = await db.backup();
    assert.ok(auto.includes('backups'));
    assert.ok(existsSync(auto));
  });

  test('checkpoint, optimize, vacuum', async () => {
    const c = db.checkpoint('truncate');
    assert.equal(c.busy, 0);
    db.optimize();
    await db.vacuum();
    assert.equal(db.getNodeSync('a').id, 'a');
  });
});

describe('close and dispose', () => {
  test('close() waits for a pending Promise, is idempotent, later calls throw closed', async () => {
    const db = resonance.openSync(path.join(tempDir(), 'c.db'));
    db.upsertNode({ id: 'a', embedding: [1, 0] });
    const pending = db.search([1, 0]);
    db.close();
    // close() waited for the search started before it (promises.test.mjs runs this 200 times).
    assert.equal((await pending)[0].id, 'a');
    db.close();
    assert.equal(db.closed, true);
    await expectCode(() => db.listNodes(), 'closed', assert);
  });

  test('[Symbol.dispose] closes (what `using` calls)', () => {
    const db = resonance.openSync(path.join(tempDir(), 'd.db'));
    assert.equal(typeof db[Symbol.dispose], 'function');
    db[Symbol.dispose]();
    assert.equal(db.closed, true);
  });

  test('a handle dropped without close() is closed by the garbage collector without a crash', async () => {
    for (let i = 0; i < 20; i++) resonance.openSync(path.join(tempDir(), `gc${i}.db`)).upsertNode({ id: 'a' });
    if (typeof globalThis.gc === 'function') globalThis.gc();
    else if (globalThis.Bun) globalThis.Bun.gc(true);
    await new Promise((r) => setTimeout(r, 10));
    assert.ok(true);
  });
});
