// Heavy calls run off the event loop: a 5 ms timer keeps firing (drift under 20 ms) while one long
// search and one long PageRank run. A blocked loop would show a drift of the whole call (hundreds of
// ms); a busy shared machine can delay a single wake-up past 20 ms on its own, so each check gets up to
// three attempts and passes on the first one under 20 ms (the idle drift is printed for comparison).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { resonance, tempDir } from './helpers.mjs';

const DIM = 256;
const ROWS = 20000;
const GRAPH_NODES = 5000;
const GRAPH_EDGES = 40000;
let db;

// A deterministic generator (xorshift32) so every run builds the same data.
function rng(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 0x100000000;
  };
}

before(async () => {
  db = await resonance.open(path.join(tempDir(), 'loop.sqlite'));
  const r = rng(7);
  const nodes = [];
  for (let i = 0; i < ROWS; i++) {
    const v = new Float32Array(DIM);
    for (let j = 0; j < DIM; j++) v[j] = r() - 0.5;
    nodes.push({ id: `n${i}`, embedding: v });
  }
  await db.upsertNodes(nodes);
  const edges = [];
  for (let i = 0; i < GRAPH_EDGES; i++) {
    edges.push({ source: `n${Math.floor(r() * GRAPH_NODES)}`, target: `n${Math.floor(r() * GRAPH_NODES)}`, type: `t${i % 3}` });
  }
  await db.addEdges(edges);
  // Let the garbage collector settle after building 20,000 arrays, so its pauses do not count.
  await new Promise((r) => setTimeout(r, 300));
});

after(() => db?.close());

/** Runs `work()` while a 5 ms interval measures how late each tick fires. */
async function driftDuring(work) {
  const period = 5;
  let last = performance.now();
  let ticks = 0;
  let worst = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last - period);
    last = now;
    ticks += 1;
  }, period);
  const t0 = performance.now();
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return { elapsed: performance.now() - t0, ticks, worst };
}

/** Up to three attempts of `measure()`; the first with a drift under 20 ms wins, else the best one. */
async function bestOf3(measure) {
  let best;
  for (let i = 0; i < 3; i++) {
    const m = await measure();
    if (!best || m.worst < best.worst) best = m;
    if (m.worst < 20) break;
    const idle = await driftDuring(() => new Promise((r) => setTimeout(r, Math.min(m.elapsed, 1000))));
    console.log(`attempt ${i + 1}: drift ${m.worst.toFixed(1)} ms over ${m.elapsed.toFixed(0)} ms (idle drift now ${idle.worst.toFixed(1)} ms)`);
  }
  return best;
}

test('a timer keeps firing while a long search runs', { timeout: 120_000 }, async () => {
  const r = rng(11);
  const queries = [];
  for (let i = 0; i < 16; i++) {
    const q = new Float32Array(DIM);
    for (let j = 0; j < DIM; j++) q[j] = r() - 0.5;
    queries.push(q);
  }
  // One call: a batch of queries over every row, in a single pool task.
  let result;
  const m = await bestOf3(() => driftDuring(async () => {
    result = await db.searchBatch(queries, { k: 10, minScore: -1, threads: 1 });
  }));
  assert.equal(result.ids.length, 16);
  assert.equal(result.ids[0].length, 10);
  assert.ok(m.elapsed >= 60, `the search should take a while to make the test meaningful (${m.elapsed.toFixed(1)} ms)`);
  assert.ok(m.ticks >= Math.floor(m.elapsed / 5 / 3), `the timer fired ${m.ticks} times in ${m.elapsed.toFixed(1)} ms`);
  assert.ok(m.worst < 20, `timer drift ${m.worst.toFixed(1)} ms during a ${m.elapsed.toFixed(1)} ms search`);
  console.log(`search batch: ${m.elapsed.toFixed(1)} ms, ${m.ticks} ticks, worst drift ${m.worst.toFixed(2)} ms`);
});

test('a timer keeps firing while a long PageRank runs', { timeout: 120_000 }, async () => {
  let pr;
  const m = await bestOf3(() => driftDuring(async () => {
    // The first call builds the graph snapshot too (in the pool task); a tiny tolerance runs many iterations.
    pr = await db.pagerank({ tolerance: 1e-15, maxIterations: 300 });
  }));
  assert.equal(Object.keys(pr).length, ROWS);
  const total = Object.values(pr).reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(total - 1) < 1e-6, `PageRank sums to ${total}`);
  assert.ok(m.elapsed >= 60, `PageRank should take a while to make the test meaningful (${m.elapsed.toFixed(1)} ms)`);
  assert.ok(m.ticks >= Math.floor(m.elapsed / 5 / 3), `the timer fired ${m.ticks} times in ${m.elapsed.toFixed(1)} ms`);
  assert.ok(m.worst < 20, `timer drift ${m.worst.toFixed(1)} ms during a ${m.elapsed.toFixed(1)} ms PageRank`);
  console.log(`pagerank: ${m.elapsed.toFixed(1)} ms, ${m.ticks} ticks, worst drift ${m.worst.toFixed(2)} ms`);
});

test('a timer keeps firing while stats() counts (statsSync() would block)', { timeout: 120_000 }, async () => {
  // stats() reads every table; several calls in a row make the work long enough to measure. They
  // queue on the handle's lock in the pool, so the event loop has nothing to do but the timer.
  let all;
  const m = await bestOf3(() => driftDuring(async () => {
    all = await Promise.all(Array.from({ length: 8 }, () => db.stats()));
  }));
  for (const s of all) {
    assert.equal(s.nodes, ROWS);
    assert.equal(s.edges, all[0].edges);
  }
  const t0 = performance.now();
  db.statsSync();
  const sync = performance.now() - t0;
  assert.ok(m.elapsed >= 60, `stats() should take a while to make the test meaningful (${m.elapsed.toFixed(1)} ms)`);
  assert.ok(m.ticks >= Math.floor(m.elapsed / 5 / 3), `the timer fired ${m.ticks} times in ${m.elapsed.toFixed(1)} ms`);
  assert.ok(m.worst < 20, `timer drift ${m.worst.toFixed(1)} ms during ${m.elapsed.toFixed(1)} ms of stats()`);
  console.log(`stats() x8: ${m.elapsed.toFixed(1)} ms, ${m.ticks} ticks, worst drift ${m.worst.toFixed(2)} ms; one statsSync(): ${sync.toFixed(1)} ms on the loop`);
});
