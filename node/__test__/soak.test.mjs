// Soak: open / query / close cycles on one small database, 20,000 by default and 1,000,000
// with RESONANCE_SOAK=1. A cycle is openSync, getNodeSync, a small searchSync, statsSync and close().
// The resident memory at the end (after a full garbage collection) may exceed the one after a warm-up
// of 10% of the cycles (after one too) by at most 5%: a handle, a statement or a buffer leaked per
// cycle shows up as growth. Logs both figures and the cycles per second. Runs under `node --test` and `bun test`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { createRequire } from 'node:module';
import { resonance, tempDir, isBun } from './helpers.mjs';

const require = createRequire(import.meta.url);
const CYCLES = process.env.RESONANCE_SOAK === '1' ? 1_000_000 : 20_000;
const WARMUP = Math.floor(CYCLES / 10);
const DIM = 16;

/** A full collection: Bun.gc(true), else global.gc (--expose-gc), else V8's gc exposed on demand. */
function gcFunction() {
  if (isBun) return () => Bun.gc(true);
  if (typeof globalThis.gc === 'function') return globalThis.gc;
  require('node:v8').setFlagsFromString('--expose-gc');
  return require('node:vm').runInNewContext('gc');
}

test(`soak: ${CYCLES.toLocaleString('en')} open / getNodeSync / searchSync / statsSync / close cycles, resident memory flat`, { timeout: CYCLES > 100_000 ? 86_400_000 : 600_000 }, async () => {
  const file = path.join(tempDir('resonance-soak-'), 'soak.sqlite');
  const setup = resonance.openSync(file);
  const nodes = [];
  for (let i = 0; i < 50; i++) {
    const v = new Float32Array(DIM);
    for (let j = 0; j < DIM; j++) v[j] = Math.sin(i * 7 + j);
    nodes.push({ id: `n${i}`, type: 'note', title: `node ${i}`, meta: { i }, embedding: v });
  }
  await setup.upsertNodes(nodes);
  await setup.addEdges(nodes.slice(1).map((n, i) => ({ source: nodes[i].id, target: n.id })));
  setup.close();

  const gc = gcFunction();
  const query = new Float32Array(DIM).fill(0.25);
  const cycle = (i) => {
    const db = resonance.openSync(file);
    const n = db.getNodeSync(`n${i % 50}`);
    if (n === null || n.id !== `n${i % 50}`) throw new Error(`cycle ${i}: getNodeSync returned ${JSON.stringify(n)}`);
    const hits = db.searchSync(query, { k: 3, minScore: -1 });
    if (hits.length !== 3) throw new Error(`cycle ${i}: ${hits.length} hits`);
    if (db.statsSync().nodes !== 50) throw new Error(`cycle ${i}: stats`);
    db.close();
  };
  // Yield to the event loop now and then (libuv work, finalizers, Bun's timers).
  const run = async (from, to) => {
    for (let i = from; i < to; i++) {
      cycle(i);
      if (i % 1000 === 999) await new Promise((r) => setImmediate(r));
    }
  };

  const t0 = performance.now();
  await run(0, WARMUP);
  gc();
  await new Promise((r) => setTimeout(r, 50));
  gc();
  const warm = process.memoryUsage().rss;
  const t1 = performance.now();
  await run(WARMUP, CYCLES);
  const t2 = performance.now();
  gc();
  await new Promise((r) => setTimeout(r, 50));
  gc();
  const end = process.memoryUsage().rss;

  const mb = (b) => (b / 1048576).toFixed(1);
  const rate = ((CYCLES - WARMUP) / ((t2 - t1) / 1000)).toFixed(0);
  const growth = ((end - warm) / warm) * 100;
  const runtime = isBun ? `bun ${Bun.version}` : `node ${process.version}`;
  console.log(`node soak: ${CYCLES} cycles in ${((t2 - t0) / 1000).toFixed(1)} s (${rate} cycles/s after the warm-up), `
    + `rss after ${WARMUP} warm-up cycles ${mb(warm)} MB, at the end ${mb(end)} MB (${growth >= 0 ? '+' : ''}${growth.toFixed(2)}%) (runtime: ${runtime})`);
  // Growth is what a leak looks like; memory handed back to the system is no failure.
  assert.ok(growth <= 5, `resident memory grew ${growth.toFixed(2)}% (${mb(warm)} → ${mb(end)} MB), more than 5%`);
});
