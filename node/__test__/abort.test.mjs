// Cancellation of the long Promise calls: `{ signal }` (an AbortSignal) and `db.interrupt()`.
// Aborting a running call rejects it with `interrupted` (asserted within 1 s, the latency printed);
// an already-aborted signal rejects at once without running; the handle stays usable after either.
// Runs unchanged under `node --test` and `bun test`.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { resonance, tempDir, expectCode } from './helpers.mjs';

const DIM = 64;
const NODES = 4000; // in the graph
const VECTORS = 20000; // rows searched (the core checks for cancellation every 4096 rows)
const EDGES = 40000;

function rng(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 0x100000000;
  };
}
const r = rng(3);
const vec = () => {
  const v = new Float32Array(DIM);
  for (let j = 0; j < DIM; j++) v[j] = r() - 0.5;
  return v;
};

let db;
before(async () => {
  db = await resonance.open(path.join(tempDir(), 'abort.db'));
  const nodes = [];
  for (let i = 0; i < VECTORS; i++) nodes.push({ id: i < NODES ? `n${i}` : `v${i}`, embedding: vec() });
  await db.upsertNodes(nodes);
  const edges = [];
  for (let i = 0; i < EDGES; i++) edges.push({ source: `n${Math.floor(r() * NODES)}`, target: `n${Math.floor(r() * NODES)}` });
  await db.addEdges(edges);
});
after(() => db?.close());

const queries = Array.from({ length: 64 }, vec);
const manyNodes = () => Array.from({ length: 100000 }, (_, i) => ({ id: `bulk${i}`, title: 't' }));

// Each long call, given its options with a signal.
const LONG = [
  ['betweenness', (signal) => db.betweenness({ normalized: true, signal })],
  ['pagerank', (signal) => db.pagerank({ tolerance: Number.MIN_VALUE, maxIterations: 1e9, signal })],
  ['communities', (signal) => db.communities({ resolution: 1, signal })],
  ['linkCandidates', (signal) => db.linkCandidates(1000000, { signal })],
  ['searchBatch', (signal) => db.searchBatch(queries, { k: 10, minScore: -1, threads: 1, signal })],
  ['upsertNodes', (signal) => db.upsertNodes(manyNodes(), { signal })],
];

/** Starts `start(signal)`, aborts after `delay` ms, and returns how long after the abort it settled. */
async function abortAfter(start, delay) {
  const ac = new AbortController();
  const p = start(ac.signal);
  await new Promise((res) => setTimeout(res, delay));
  const t0 = performance.now();
  ac.abort();
  let err;
  let value;
  try {
    value = await p;
  } catch (e) {
    err = e;
  }
  return { err, value, ms: performance.now() - t0 };
}

describe('AbortSignal', () => {
  for (const [name, start] of LONG) {
    test(`${name}({ signal }): aborting a running call rejects with interrupted within 1 s; the handle stays usable`, async () => {
      const before = db.statsSync().nodes;
      const { err, ms } = await abortAfter(start, 100);
      console.log(`${name}: rejected ${ms.toFixed(1)} ms after abort()`);
      assert.ok(err, `${name} finished before the abort: make it longer`);
      assert.equal(err.code, 'interrupted', err.message);
      assert.ok(ms <= 1000, `${name} took ${ms.toFixed(1)} ms to stop`);
      assert.equal(db.statsSync().nodes, before, 'an interrupted write is rolled back');
      assert.equal((await db.search(queries[1], { k: 1 })).length, 1);
    });
  }

  const ALL = [
    ['search', (signal) => db.search(queries[0], { signal })],
    ['searchLike', (signal) => db.searchLike('n1', { signal })],
    ['searchBatch', (signal) => db.searchBatch([queries[0]], { signal })],
    ['pagerank', (signal) => db.pagerank({ signal })],
    ['betweenness', (signal) => db.betweenness({ signal, sample: 4 })],
    ['communities', (signal) => db.communities({ signal })],
    ['components', (signal) => db.components({ signal })],
    ['linkCandidates', (signal) => db.linkCandidates(5, { signal })],
    ['pillars', (signal) => db.pillars(5, { signal })],
    ['upsertNodes', (signal) => db.upsertNodes([{ id: 'never' }], { signal })],
    ['addEdges', (signal) => db.addEdges([{ source: 'n1', target: 'never' }], { signal })],
    ['migrate', (signal) => db.migrate({ dryRun: true, signal })],
    ['backup', (signal) => db.backup(path.join(tempDir(), 'never.db'), { signal })],
  ];
  for (const [name, start] of ALL) {
    test(`${name}({ signal }) with an already-aborted signal rejects at once without running; a live signal changes nothing`, async () => {
      const ac = new AbortController();
      ac.abort(new Error('stop'));
      const t0 = performance.now();
      const err = await expectCode(() => start(ac.signal), 'interrupted', assert);
      assert.ok(performance.now() - t0 < 1000);
      assert.match(err.message, new RegExp(`${name}\\(\\)`));
      assert.equal(db.getNodeSync('never'), null);
      assert.deepEqual(db.edgesTo('never'), []);
      // A signal that never aborts: the call runs as without one.
      await start(new AbortController().signal);
      if (name === 'upsertNodes') db.deleteNode('never');
      if (name === 'addEdges') db.deleteEdge('n1', 'never');
    });
  }

  test('a signal that is not an AbortSignal is invalid_argument', async () => {
    await expectCode(() => db.pagerank({ signal: 42 }), 'invalid_argument', assert);
    await expectCode(() => db.linkCandidates(5, { signal: {} }), 'invalid_argument', assert);
  });
});

describe('db.interrupt()', () => {
  test('stops a running betweenness with interrupted within 1 s; the next call runs', async () => {
    const p = db.betweenness({ normalized: true });
    await new Promise((res) => setTimeout(res, 100));
    const t0 = performance.now();
    db.interrupt();
    const err = await expectCode(() => p, 'interrupted', assert);
    const ms = performance.now() - t0;
    console.log(`interrupt(): betweenness rejected ${ms.toFixed(1)} ms after interrupt()`);
    assert.ok(ms <= 1000, `took ${ms.toFixed(1)} ms`);
    assert.match(err.message, /interrupt/);
    assert.equal(Object.keys(await db.pagerank()).length, VECTORS);
  });

  test('is a no-op when nothing runs', async () => {
    db.interrupt();
    assert.equal((await db.components()).length > 0, true);
  });

  test('errorCodes() lists interrupted and _testError maps it', async () => {
    assert.ok(resonance.errorCodes().includes('interrupted'));
    await expectCode(() => resonance._testError('interrupted'), 'interrupted', assert);
    await expectCode(() => resonance._testError('interrupted', true), 'interrupted', assert);
  });
});
