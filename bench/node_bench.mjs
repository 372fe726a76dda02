// Overhead of the Node/Bun addon, on a release build of the addon:
//   1. getNodeSync(id) vs the same row through better-sqlite3's `stmt.get` (Node) or `bun:sqlite` (Bun);
//      target: within 1.5×.
//   2. `await db.search(q)` vs the same search in Rust (node/examples/search_timing.rs) plus the
//      Promise round trip of a search that does no scoring (k = 0); target: within 1.1×.
//
// Build first:   (cd node && npm ci && npm run build:bench)     (release addon + the package entry)
//                cargo build --release --target x86_64-unknown-linux-gnu -p resonance-node --example search_timing
// Run:           node bench/node_bench.mjs      and      node/node_modules/.bin/bun bench/node_bench.mjs
// Env:           BENCH_ROWS (20000), BENCH_DIM (384)
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const require = createRequire(import.meta.url);
const isBun = typeof globalThis.Bun !== 'undefined';
const runtime = isBun ? `bun ${Bun.version}` : `node ${process.version}`;

const addonPath = path.join(root, 'node', 'bench-build', 'resonance.js');
if (!existsSync(addonPath)) {
  console.error(`no release build at ${addonPath}: run (cd node && npm run build:bench) first`);
  process.exit(2);
}
const resonance = require(addonPath);

const ROWS = Number(process.env.BENCH_ROWS ?? 20000);
const DIM = Number(process.env.BENCH_DIM ?? 384);
const dir = mkdtempSync(path.join(tmpdir(), 'resonance-bench-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const file = path.join(dir, 'bench.db');

let seed = 12345;
const rnd = () => {
  seed ^= seed << 13; seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5; seed >>>= 0;
  return seed / 0x100000000 - 0.5;
};
const randomVector = () => {
  const v = new Float32Array(DIM);
  for (let i = 0; i < DIM; i++) v[i] = rnd();
  return v;
};

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** ns per call of each synchronous function: the best of `rounds` rounds of `n` calls, the functions
 *  taking turns round by round so a busy machine slows them alike. */
function timeSync(fns, n = 50000, rounds = 15) {
  for (const fn of fns) for (let i = 0; i < n / 10; i++) fn();
  const best = fns.map(() => Infinity);
  for (let r = 0; r < rounds; r++) {
    fns.forEach((fn, j) => {
      const t = process.hrtime.bigint();
      for (let i = 0; i < n; i++) fn();
      best[j] = Math.min(best[j], Number(process.hrtime.bigint() - t) / n);
    });
  }
  return best;
}

/** µs per awaited call of an async `fn`: the median of `n` sequential calls. */
async function timeAsync(fn, n = 200) {
  for (let i = 0; i < 10; i++) await fn();
  const ts = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await fn();
    ts.push(Number(process.hrtime.bigint() - t) / 1000);
  }
  return median(ts);
}

// ---- data ---------------------------------------------------------------------------------------
let db = await resonance.open(file);
const nodes = [];
for (let i = 0; i < ROWS; i++) {
  nodes.push({
    id: `node-${String(i).padStart(6, '0')}`, type: 'note', title: `Note ${i}`, hash: `h${i}`,
    summary: 'a short summary', meta: { tags: ['a', 'b'], n: i }, date: '2026-01-01', embedding: randomVector(),
  });
}
await db.upsertNodes(nodes);
db.checkpoint('truncate');
const id = nodes[ROWS >> 1].id;
console.log(`# Resonance addon overhead — ${runtime}, ${ROWS} nodes × ${DIM} dims, release build`);

// ---- 1. getNodeSync vs the runtime's best SQLite client --------------------------------------------
const cols = 'id, type, title, domain, layer, hash, summary, meta, date';
const sql = `SELECT ${cols} FROM nodes WHERE id = ?`;
let other = null;
if (isBun) {
  const { Database } = await import('bun:sqlite');
  const b = new Database(file, { readonly: true });
  const stmt = b.prepare(sql);
  other = { name: 'bun:sqlite stmt.get', get: () => stmt.get(id), close: () => b.close() };
} else {
  try {
    const Better = require('better-sqlite3');
    const b = new Better(file, { readonly: true });
    const stmt = b.prepare(sql);
    other = { name: 'better-sqlite3 stmt.get', get: () => stmt.get(id), close: () => b.close() };
  } catch (e) {
    try {
      const { DatabaseSync } = await import('node:sqlite');
      const b = new DatabaseSync(file, { readOnly: true });
      const stmt = b.prepare(sql);
      other = { name: 'node:sqlite stmt.get', get: () => stmt.get(id), close: () => b.close() };
    } catch {
      other = null;
      console.log(`(no SQLite client for Node here: better-sqlite3 is not installed — its 13.x needs Node ≥ 22, 12.x builds from source — and node:sqlite needs Node ≥ 22.5)`);
    }
  }
}
const ours = () => db.getNodeSync(id);
const [oursNs, theirsNs] = timeSync(other ? [ours, other.get] : [ours, ours]);
const row = db.getNodeSync(id);
console.log(`getNodeSync(id)            ${oursNs.toFixed(0).padStart(7)} ns/call   (row has ${Object.keys(row).length} fields, meta parsed)`);
if (other) {
  const got = other.get();
  if (got.id !== id) throw new Error('the other client read another row');
  console.log(`${other.name.padEnd(26)} ${theirsNs.toFixed(0).padStart(7)} ns/call   (meta as text)`);
  console.log(`ratio                      ${(oursNs / theirsNs).toFixed(2).padStart(7)} ×          (target ≤ 1.5)`);
  const parsed = () => {
    const r = other.get();
    r.meta = JSON.parse(r.meta);
    return r;
  };
  const [oursAgain, parsedNs] = timeSync([ours, parsed]);
  console.log(`… + JSON.parse(meta)       ${parsedNs.toFixed(0).padStart(7)} ns/call   (like for like: ratio ${(oursAgain / parsedNs).toFixed(2)} ×)`);
  other.close();
}

// ---- 2. search: JS Promise vs Rust + round trip ----------------------------------------------------
const timingBinEarly = [
  path.join(process.env.CARGO_TARGET_DIR ?? path.join(root, 'target'), 'x86_64-unknown-linux-gnu', 'release', 'examples', 'search_timing'),
  path.join(process.env.CARGO_TARGET_DIR ?? path.join(root, 'target'), 'release', 'examples', 'search_timing'),
].find(existsSync);
if (timingBinEarly) {
  const q0 = path.join(dir, 'q0.f32');
  writeFileSync(q0, Buffer.from(randomVector().buffer));
  const r = JSON.parse(execFileSync(timingBinEarly, [file, q0, '1', '1', '1'], { encoding: 'utf8', env: { ...process.env, GET_ID: id } }));
  console.log(`core get_node(id) in Rust  ${r.get_node_ns.toFixed(0).padStart(7)} ns/call   (the share of getNodeSync the binding cannot remove)`);
}

// A fresh handle, like the Rust side: its vector matrix is loaded from the file in one go (the first
// handle's matrix grew row by row with the writes above).
db.close();
db = await resonance.open(file);

const q = randomVector();
const qfile = path.join(dir, 'query.f32');
writeFileSync(qfile, Buffer.from(q.buffer));
const K = 10;
const target = process.env.CARGO_TARGET_DIR ?? path.join(root, 'target');
const timingBin = [
  path.join(target, 'x86_64-unknown-linux-gnu', 'release', 'examples', 'search_timing'),
  path.join(target, 'release', 'examples', 'search_timing'),
].find(existsSync);

/** Medians of awaited calls, the functions taking turns call by call. */
async function timeAsyncMany(fns, n = 300) {
  for (const fn of fns) for (let i = 0; i < 10; i++) await fn();
  const ts = fns.map(() => []);
  for (let i = 0; i < n; i++) {
    for (const [j, fn] of fns.entries()) {
      const t = process.hrtime.bigint();
      await fn();
      ts[j].push(Number(process.hrtime.bigint() - t) / 1000);
    }
  }
  return ts.map(median);
}

const rustSearch = (threads) => {
  // The best of three runs of 200 searches each (the machine may be shared).
  let best = null;
  for (let i = 0; i < 3; i++) {
    const r = JSON.parse(execFileSync(timingBin, [file, qfile, String(K), '200', String(threads)], { encoding: 'utf8' }));
    if (!best || r.median_us < best.median_us) best = r;
  }
  return best;
};

for (const threads of [1, 0]) {
  const o = threads ? { k: K, threads } : { k: K };
  const label = threads ? 'one thread' : 'all cores';
  const [jsUs, syncUs, tripUs] = await timeAsyncMany([
    () => db.search(q, o),
    async () => db.searchSync(q, o),
    () => db.search(q, { ...o, k: 0 }),
  ]);
  const jsIds = (await db.search(q, o)).map((h) => h.id);
  console.log(`-- search, ${label}`);
  console.log(`await search(q, k=${K})      ${jsUs.toFixed(1).padStart(7)} µs median`);
  console.log(`searchSync(q, k=${K})        ${syncUs.toFixed(1).padStart(7)} µs median`);
  console.log(`Promise round trip (k=0)   ${tripUs.toFixed(1).padStart(7)} µs median`);
  if (timingBin) {
    const rust = rustSearch(threads);
    if (JSON.stringify(rust.ids) !== JSON.stringify(jsIds)) throw new Error(`Rust and JS disagree: ${rust.ids} vs ${jsIds}`);
    console.log(`Rust db.search (same query) ${rust.median_us.toFixed(1).padStart(6)} µs median`);
    console.log(`ratio JS / (Rust + trip)   ${(jsUs / (rust.median_us + tripUs)).toFixed(2).padStart(7)} ×          (target ≤ 1.1)`);
  } else {
    console.log('(Rust timing skipped: build it with cargo build --release --target x86_64-unknown-linux-gnu -p resonance-node --example search_timing)');
  }
}
db.close();
