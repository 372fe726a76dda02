// Application SQL through the Node/Bun addon (release build) against the runtime's own SQLite client,
// ratios measured in one run:
//   1. `db.prepare(sql).get(id)` of one row vs bun:sqlite `stmt.get` (Bun) and better-sqlite3
//      `stmt.get` (Node, when it can be loaded); target ≤ 1.3×.
//   2. 100,000 inserts into an application table in one `transaction` vs bun:sqlite /
//      better-sqlite3 doing the same; target: throughput ≥ 0.9× theirs.
//   3. A Drizzle `select … where id = ?` (a prepared Drizzle query) through `resonance/drizzle` vs
//      the same query through drizzle-orm's bun-sqlite driver (Bun) or better-sqlite3 driver (Node,
//      when drizzle-orm can load better-sqlite3 by its package name: NODE_PATH=/tmp/bs3/node_modules);
//      target ≤ 1.3×.
// The other client opens its own file (never the addon's: one SQLite library per file per process).
//
// Build first:   (cd node && npm ci && npm run build:bench)
// better-sqlite3 (optional, Node; kept out of the package's dependencies):
//                npm install --prefix /tmp/bs3 better-sqlite3@12 && NODE_PATH=/tmp/bs3/node_modules BETTER_SQLITE3=/tmp/bs3/node_modules/better-sqlite3 node bench/node_sql_bench.mjs
// Run:           node bench/node_sql_bench.mjs      and      node/node_modules/.bin/bun bench/node_sql_bench.mjs
// Env:           BENCH_ROWS (10000 rows to read from), BENCH_INSERTS (100000); RESONANCE_BUN_FFI=0 (Bun:
//                the N-API path instead of bun:ffi)
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
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
const ROWS = Number(process.env.BENCH_ROWS ?? 10000);
const INSERTS = Number(process.env.BENCH_INSERTS ?? 100000);
const dir = mkdtempSync(path.join(tmpdir(), 'resonance-sqlbench-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

// The other client: bun:sqlite under Bun, better-sqlite3 under Node when BETTER_SQLITE3 names it.
async function otherClient() {
  if (isBun) {
    const { Database } = await import('bun:sqlite');
    return { name: 'bun:sqlite', open: (f) => { const d = new Database(f); d.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL'); return d; } };
  }
  const where = process.env.BETTER_SQLITE3;
  if (!where) return null;
  try {
    const Better = require(where);
    return { name: 'better-sqlite3', open: (f) => { const d = new Better(f); d.pragma('journal_mode = WAL'); d.pragma('synchronous = NORMAL'); return d; } };
  } catch (e) {
    console.log(`better-sqlite3 could not be loaded from ${where}: ${e.message}`);
    return null;
  }
}

const SCHEMA = 'CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, score REAL, tag TEXT)';
const INSERT = 'INSERT INTO items (name, score, tag) VALUES (?, ?, ?)';
const GET = 'SELECT id, name, score, tag FROM items WHERE id = ?';

function timePerOp(fn, n) {
  for (let i = 0; i < Math.min(n, 20000); i++) fn(i); // warm-up
  const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn(i);
  return Number(process.hrtime.bigint() - t) / n; // ns per op
}

function fill(insertMany) {
  const t = process.hrtime.bigint();
  insertMany();
  return Number(process.hrtime.bigint() - t) / 1e6; // ms
}

const other = await otherClient();
const db = resonance.openSync(path.join(dir, 'resonance.db'));
db.exec(SCHEMA);
const ins = db.prepare(INSERT);
const rInsertMs = [];
const oInsertMs = [];
let odb = null;
let oins = null;
if (other) {
  odb = other.open(path.join(dir, 'other.db'));
  odb.exec(SCHEMA);
  oins = odb.prepare(INSERT);
}
// Inserts: alternate the two clients, three rounds each, keep the best.
for (let round = 0; round < 3; round++) {
  db.exec('DELETE FROM items');
  rInsertMs.push(fill(() => db.transaction(() => {
    for (let i = 0; i < INSERTS; i++) ins.run(`item ${i}`, i * 0.5, i % 7 === 0 ? null : 'tag');
  })));
  if (other) {
    odb.exec('DELETE FROM items');
    const many = odb.transaction(() => {
      for (let i = 0; i < INSERTS; i++) oins.run(`item ${i}`, i * 0.5, i % 7 === 0 ? null : 'tag');
    });
    oInsertMs.push(fill(() => many()));
  }
}

const N = Math.max(ROWS, 200000);
const get = db.prepare(GET);
const ids = Array.from({ length: 4096 }, (_, i) => 1 + ((i * 7919) % ROWS));
const rGet = [];
const oGet = [];
const oget = other ? odb.prepare(GET) : null;
for (let round = 0; round < 5; round++) {
  rGet.push(timePerOp((i) => get.get(ids[i & 4095]), N));
  if (other) oGet.push(timePerOp((i) => oget.get(ids[i & 4095]), N));
}
const check = get.get(ids[0]);
if (check.id !== ids[0] || typeof check.name !== 'string') throw new Error('the bench read the wrong row');

const best = (a) => Math.min(...a);
const us = (ns) => `${(ns / 1000).toFixed(2)} µs`;
console.log(`runtime: ${runtime}${isBun ? ` (bun:ffi path ${process.env.RESONANCE_BUN_FFI === '0' ? 'off: RESONANCE_BUN_FFI=0' : 'on'})` : ''}; rows ${ROWS}, inserts ${INSERTS}${other ? `; against ${other.name}` : '; no other client loaded'}`);
console.log(`prepare(...).get(id)        resonance ${us(best(rGet))}${other ? `   ${other.name} ${us(best(oGet))}   ratio ${(best(rGet) / best(oGet)).toFixed(2)}× (target ≤ 1.3×)` : ''}`);
const rate = (ms) => `${Math.round(INSERTS / (ms / 1000)).toLocaleString('en')} rows/s (${ms.toFixed(0)} ms)`;
console.log(`${INSERTS} inserts in one transaction   resonance ${rate(best(rInsertMs))}${other ? `   ${other.name} ${rate(best(oInsertMs))}   throughput ratio ${(best(oInsertMs) / best(rInsertMs)).toFixed(2)}× (target ≥ 0.9×)` : ''}`);
// 3. Drizzle: the same prepared select through both drivers.
async function drizzleRatio() {
  // drizzle-orm is node/'s dev dependency: resolved from there (its CommonJS build, as drizzle.js uses).
  const nodeRequire = createRequire(path.join(root, 'node', 'package.json'));
  const { sqliteTable, integer, text, real } = nodeRequire('drizzle-orm/sqlite-core');
  const { eq, sql: dsql } = nodeRequire('drizzle-orm');
  const items = sqliteTable('items', { id: integer('id').primaryKey(), name: text('name').notNull(), score: real('score'), tag: text('tag') });
  const ours = require(path.join(root, 'node', 'bench-build', 'drizzle.js')).drizzle(db);
  let theirs = null;
  let theirName = null;
  try {
    if (isBun) {
      theirs = nodeRequire('drizzle-orm/bun-sqlite').drizzle(odb);
      theirName = 'drizzle bun-sqlite';
    } else if (odb) {
      theirs = nodeRequire('drizzle-orm/better-sqlite3').drizzle(odb);
      theirName = 'drizzle better-sqlite3';
    }
  } catch (e) {
    console.log(`drizzle's driver for ${other?.name} could not be loaded: ${e.message}`);
  }
  const q = (d) => d.select().from(items).where(eq(items.id, dsql.placeholder('id'))).prepare();
  const oq = q(ours);
  const tq = theirs ? q(theirs) : null;
  const r = [];
  const t = [];
  for (let round = 0; round < 5; round++) {
    r.push(timePerOp((i) => oq.get({ id: ids[i & 4095] }), N / 2));
    if (tq) t.push(timePerOp((i) => tq.get({ id: ids[i & 4095] }), N / 2));
  }
  if (oq.get({ id: ids[0] }).id !== ids[0]) throw new Error('the Drizzle bench read the wrong row');
  console.log(`drizzle select where id = ?   resonance ${us(best(r))}${tq ? `   ${theirName} ${us(best(t))}   ratio ${(best(r) / best(t)).toFixed(2)}× (target ≤ 1.3×)` : ''}`);
}
await drizzleRatio();
db.close();
if (odb) odb.close();
