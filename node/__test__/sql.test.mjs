// Application SQL through the package (docs/sql.md, node/README.md "Application SQL"): better-sqlite3's
// Statement API over the engine's connection. The same file runs under node --test and bun test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { resonance, tempDir, expectCode, isBun, packageDir } from './helpers.mjs';

function fresh(options) {
  const file = path.join(tempDir('resonance-sql-'), 'db.sqlite');
  return { file, db: resonance.openSync(file, options) };
}

/** sha256 of the database file and its WAL, byte for byte. */
function fileHash(file) {
  const h = createHash('sha256');
  for (const f of [file, `${file}-wal`]) if (existsSync(f)) h.update(readFileSync(f));
  return h.digest('hex');
}

test('every value type round-trips; integers beyond 2^53 need safeIntegers()', () => {
  const { db } = fresh();
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v)');
  const ins = db.prepare('INSERT INTO t (v) VALUES (?)');
  const big = 2n ** 53n + 1n;
  const values = [null, 0, 1, -1, 2 ** 53 - 1, -(2 ** 53 - 1), 2.5, -0, 1e300, '', 'héllo 😀 \u0000 x', Buffer.alloc(0), Buffer.from([0, 255, 16]), new Uint8Array([7, 8])];
  for (const v of values) ins.run(v);
  ins.run(big);
  ins.run(-(2n ** 63n));
  ins.run(true);
  ins.run(false);
  ins.run(undefined);
  const read = db.prepare('SELECT v FROM t WHERE id = ?').pluck();
  values.forEach((v, i) => {
    const got = read.get(i + 1);
    if (v instanceof Uint8Array) {
      assert.ok(Buffer.isBuffer(got), `row ${i + 1} is a Buffer`);
      assert.deepEqual([...got], [...v]);
    } else {
      assert.ok(Object.is(got, v), `row ${i + 1}: ${String(got)} is ${String(v)}`);
    }
  });
  const types = db.prepare('SELECT typeof(v) FROM t ORDER BY id').pluck().all();
  assert.deepEqual(types, ['null', 'integer', 'integer', 'integer', 'integer', 'integer', 'real', 'real', 'real', 'text', 'text', 'blob', 'blob', 'blob', 'integer', 'integer', 'integer', 'integer', 'null']);
  const bigId = values.length + 1;
  // Without safeIntegers a too-large integer is refused, never rounded (better-sqlite3's RangeError).
  const e = assert.throws(() => read.get(bigId), (err) => err.code === 'invalid_argument' && /safeIntegers/.test(err.message));
  void e;
  assert.equal(read.safeIntegers().get(bigId), big);
  assert.equal(read.get(bigId + 1), -(2n ** 63n));
  assert.equal(read.get(bigId + 2), 1n);
  assert.equal(read.get(7), 2.5, 'reals stay numbers in safe mode');
  assert.equal(read.safeIntegers(false).get(bigId + 2), 1);
  // bigint in, compared exactly
  assert.equal(db.prepare('SELECT v = ? FROM t WHERE id = ?').pluck().get(big, bigId), 1);
  const r = ins.safeIntegers().run(3);
  assert.equal(typeof r.lastInsertRowid, 'bigint');
  assert.equal(typeof ins.safeIntegers(false).run(4).lastInsertRowid, 'number');
  db.close();
});

test('values that are not SQL values are invalid_argument', () => {
  const { db } = fresh();
  const st = db.prepare('SELECT ?');
  for (const bad of [Symbol('x'), () => 1, new Date(), new Map(), 2n ** 64n, new Float32Array(2), [1, 2]]) {
    assert.throws(() => st.get([bad]), (e) => e.code === 'invalid_argument', String(typeof bad));
  }
  assert.throws(() => st.get('\ud800'), (e) => e.code === 'invalid_argument');
  db.close();
});

test('parameters: positional as arguments or one array, named from one object (with or without prefix)', () => {
  const { db } = fresh();
  assert.deepEqual(db.prepare('SELECT ? AS a, ? AS b').get(1, 'two'), { a: 1, b: 'two' });
  assert.deepEqual(db.prepare('SELECT ? AS a, ? AS b').get([1, 'two']), { a: 1, b: 'two' });
  assert.deepEqual(db.prepare('SELECT ?2 AS a, ?1 AS b').get('x', 'y'), { a: 'y', b: 'x' });
  assert.deepEqual(db.prepare('SELECT :a + @b + $c AS s').get({ a: 1, b: 2, c: 3 }), { s: 6 });
  assert.deepEqual(db.prepare('SELECT :a + @b AS s').get({ ':a': 1, '@b': 2 }), { s: 3 });
  assert.deepEqual(db.prepare('SELECT :a AS s').get(Object.assign(Object.create(null), { a: 5 })), { s: 5 });
  for (const [sql, args] of [['SELECT ?, ?', [1]], ['SELECT ?', [1, 2]], ['SELECT :a, :b', [{ a: 1 }]], ['SELECT ?', [{ a: 1 }]]]) {
    assert.throws(() => db.prepare(sql).get(...args), (e) => e.code === 'invalid_argument', sql);
  }
  assert.throws(() => db.prepare('SELEC 1'), (e) => e.code === 'sqlite');
  assert.throws(() => db.prepare('SELECT 1; SELECT 2'), (e) => e.code === 'invalid_argument');
  assert.throws(() => db.prepare('  '), (e) => e.code === 'invalid_argument');
  db.close();
});

test('pluck, raw, columns, bind, iterate, reader/readonly/source', () => {
  const { db } = fresh();
  db.exec('CREATE TABLE u (id INTEGER PRIMARY KEY, name TEXT NOT NULL); INSERT INTO u (name) VALUES (\'a\'), (\'b\'), (\'c\')');
  const st = db.prepare('SELECT id, name, id * 2 AS twice FROM u WHERE id >= ? ORDER BY id');
  assert.equal(st.reader, true);
  assert.equal(st.readonly, true);
  assert.equal(st.source, 'SELECT id, name, id * 2 AS twice FROM u WHERE id >= ? ORDER BY id');
  assert.equal(st.database, db);
  assert.deepEqual(st.all(2), [{ id: 2, name: 'b', twice: 4 }, { id: 3, name: 'c', twice: 6 }]);
  assert.deepEqual(st.raw().all(2), [[2, 'b', 4], [3, 'c', 6]]);
  assert.deepEqual(st.pluck().all(2), [2, 3]);
  assert.deepEqual(st.pluck(false).get(3), { id: 3, name: 'c', twice: 6 });
  assert.equal(st.get(99), undefined);
  assert.deepEqual([...st.iterate(1)].map((r) => r.name), ['a', 'b', 'c']);
  assert.deepEqual(st.columns(), [
    { name: 'id', column: 'id', table: 'u', database: 'main', type: 'INTEGER' },
    { name: 'name', column: 'name', table: 'u', database: 'main', type: 'TEXT' },
    { name: 'twice', column: null, table: null, database: null, type: null },
  ]);
  const ins = db.prepare('INSERT INTO u (name) VALUES (?)');
  assert.equal(ins.reader, false);
  assert.equal(ins.readonly, false);
  assert.throws(() => ins.get('x'), (e) => e.code === 'invalid_argument');
  assert.throws(() => ins.columns(), (e) => e.code === 'invalid_argument');
  assert.deepEqual(ins.run('d'), { changes: 1, lastInsertRowid: 4 });
  const bound = db.prepare('SELECT name FROM u WHERE id = ?').pluck().bind(2);
  assert.equal(bound.get(), 'b');
  assert.throws(() => bound.get(3), (e) => e.code === 'invalid_argument');
  assert.throws(() => bound.bind(3), (e) => e.code === 'invalid_argument');
  // A SELECT * recompiled after the table changed returns the new columns.
  const star = db.prepare('SELECT * FROM u WHERE id = 1');
  assert.deepEqual(star.get(), { id: 1, name: 'a' });
  db.exec('ALTER TABLE u ADD COLUMN extra TEXT DEFAULT \'e\'');
  assert.deepEqual(star.get(), { id: 1, name: 'a', extra: 'e' });
  assert.equal(db.exec('SELECT 1'), db, 'exec returns the handle');
  db.close();
  assert.throws(() => st.get(1), (e) => e.code === 'closed');
});

test('transaction(fn) covers SQL statements and engine calls together', () => {
  const { db } = fresh();
  db.exec('CREATE TABLE notes (id INTEGER PRIMARY KEY, node TEXT UNIQUE)');
  const ins = db.prepare('INSERT INTO notes (node) VALUES (?)');
  const count = db.prepare('SELECT count(*) FROM notes').pluck();
  assert.throws(() => db.transaction(() => {
    db.upsertNode({ id: 'n1' });
    ins.run('n1');
    ins.run('n1'); // UNIQUE: throws half-way
  }), (e) => e.code === 'constraint');
  assert.equal(db.getNodeSync('n1'), null);
  assert.equal(count.get(), 0);
  db.transaction(() => {
    db.upsertNode({ id: 'n2' });
    ins.run('n2');
  });
  assert.equal(db.getNodeSync('n2').id, 'n2');
  assert.equal(count.get(), 1);
  db.close();
});

test('a Promise form inside a transaction rejects with invalid_argument', async () => {
  const { db } = fresh();
  db.begin();
  await expectCode(() => db.prepare('SELECT 1').getAsync(), 'invalid_argument', assert);
  db.rollback();
  assert.deepEqual(await db.prepare('SELECT 1 AS x').getAsync(), { x: 1 });
  assert.deepEqual(await db.prepare('SELECT 1 AS x').pluck().allAsync(), [1]);
  db.exec('CREATE TABLE t (x)');
  assert.deepEqual(await db.prepare('INSERT INTO t VALUES (?)').runAsync(5), { changes: 1, lastInsertRowid: 1 });
  db.close();
});

test('each authorizer refusal is invalid_argument and leaves the file unchanged', () => {
  const { file, db } = fresh();
  db.upsertNode({ id: 'a' });
  db.checkpoint('truncate');
  const before = fileHash(file);
  for (const sql of ['DROP TABLE nodes', "INSERT INTO nodes (id) VALUES ('x')", "ATTACH ':memory:' AS other", 'PRAGMA journal_mode=DELETE', 'BEGIN', 'UPDATE edges SET type = 1', 'PRAGMA wal_checkpoint']) {
    assert.throws(() => db.prepare(sql).run(), (e) => e.code === 'invalid_argument', sql);
    assert.throws(() => db.exec(sql), (e) => e.code === 'invalid_argument', sql);
  }
  assert.equal(fileHash(file), before);
  db.close();
});

test('a read-only handle refuses writes with readonly', async () => {
  const { file, db } = fresh();
  db.exec('CREATE TABLE t (x)');
  db.close();
  const ro = await resonance.open(file, { readOnly: true });
  assert.deepEqual(ro.prepare('SELECT count(*) AS n FROM t').get(), { n: 0 });
  assert.throws(() => ro.prepare('INSERT INTO t VALUES (1)').run(), (e) => e.code === 'readonly');
  assert.throws(() => ro.exec('INSERT INTO t VALUES (1)'), (e) => e.code === 'readonly');
  ro.close();
});

test('interrupt() stops a long allAsync from the event loop; the handle works after', async () => {
  const { db } = fresh();
  const long = db.prepare('WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c');
  const p = long.allAsync();
  let ticks = 0;
  const timer = setInterval(() => { ticks += 1; }, 5);
  await new Promise((r) => setTimeout(r, 100));
  db.interrupt();
  await expectCode(() => p, 'interrupted', assert);
  clearInterval(timer);
  assert.ok(ticks >= 5, `the event loop ran while the query did (${ticks} ticks)`);
  assert.deepEqual(db.prepare('SELECT 2 AS x').get(), { x: 2 });
  db.close();
});

// A Statement owns its compiled statement (node/src/fast.rs, core PreparedSql): the edges of that.
test('a prepared statement follows schema changes between calls (SQLite recompiles it)', () => {
  const { db } = fresh();
  db.exec('CREATE TABLE t (x)');
  const ins = db.prepare('INSERT INTO t (x) VALUES (?)');
  const star = db.prepare('SELECT * FROM t ORDER BY rowid');
  const raw = db.prepare('SELECT * FROM t ORDER BY rowid').raw();
  ins.run(1);
  assert.deepEqual(star.get(), { x: 1 });
  assert.deepEqual(star.all(), [{ x: 1 }]);
  db.exec('ALTER TABLE t ADD COLUMN y DEFAULT 7');
  assert.deepEqual(star.get(), { x: 1, y: 7 });
  assert.deepEqual(raw.get(), [1, 7]);
  assert.deepEqual(star.all(), [{ x: 1, y: 7 }]);
  assert.deepEqual(star.get(), { x: 1, y: 7 }, 'the next call keeps the new names');
  db.exec('DROP TABLE t');
  assert.throws(() => ins.run(2), (e) => e.code === 'sqlite' && /no such table: t/.test(e.message));
  assert.throws(() => star.get(), (e) => e.code === 'sqlite' && /no such table: t/.test(e.message));
  db.exec('CREATE TABLE t (z, x)');
  assert.deepEqual(ins.run(3), { changes: 1, lastInsertRowid: 1 });
  assert.deepEqual(star.get(), { z: null, x: 3 });
  db.close();
});

test('a schema change cannot give a prepared statement rights it was not compiled with', async () => {
  const { db } = fresh();
  db.upsertNode({ id: 'a', title: 'before' });
  db.exec('CREATE TABLE t (x)');
  const ins = db.prepare('INSERT INTO t (x) VALUES (?)');
  ins.run(1);
  // A trigger whose body writes an engine table: the statement recompiles (in application mode)
  // at its next run, and the authorizer refuses the write.
  db.exec("CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE nodes SET title = 'after'; END");
  assert.throws(() => ins.run(2), (e) => e.code === 'invalid_argument' && /nodes/.test(e.message));
  assert.throws(() => db.transaction(() => ins.run(3)), (e) => e.code === 'invalid_argument');
  assert.equal(db.getNodeSync('a').title, 'before');
  assert.deepEqual(db.prepare('SELECT x FROM t').pluck().all(), [1]);
  db.exec('DROP TRIGGER tr');
  assert.equal(ins.run(4).changes, 1);
  db.close();
  // With allowEngineWrites the trigger's write is allowed, and the engine's caches follow it.
  const { db: compat } = fresh({ allowEngineWrites: true });
  compat.upsertNode({ id: 'a', embedding: new Float32Array([1, 0]) });
  compat.upsertNode({ id: 'b', embedding: new Float32Array([0, 1]) });
  compat.exec('CREATE TABLE t (x)');
  const put = compat.prepare('INSERT INTO t (x) VALUES (?)');
  put.run(1);
  assert.equal((await compat.search(new Float32Array([1, 0]), { k: 1 }))[0].id, 'a');
  compat.exec("CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE nodes SET embedding = new.x WHERE id = 'b'; END");
  put.run(Buffer.from(new Float32Array([1, 0]).buffer));
  compat.prepare("UPDATE nodes SET embedding = ? WHERE id = 'a'").run(Buffer.from(new Float32Array([0, 1]).buffer));
  assert.equal((await compat.search(new Float32Array([1, 0]), { k: 1 }))[0].id, 'b');
  compat.close();
});

test('prepared statements after close, across transactions, and prepared before a transaction callback', () => {
  const { file, db } = fresh();
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)');
  const ins = db.prepare('INSERT INTO t (v) VALUES (?)');
  const get = db.prepare('SELECT v FROM t WHERE id = ?').pluck();
  const count = db.prepare('SELECT count(*) FROM t').pluck();
  // Used inside a transaction callback: reads see the transaction's own writes.
  db.transaction(() => {
    assert.equal(ins.run('a').lastInsertRowid, 1);
    assert.equal(get.get(1), 'a');
    assert.equal(count.get(), 1);
  });
  // After the transaction ended: a write runs in its own transaction and commits.
  assert.equal(ins.run('b').lastInsertRowid, 2);
  const other = resonance.openSync(file);
  assert.equal(other.prepare('SELECT count(*) FROM t').pluck().get(), 2);
  // A transaction that throws rolls back what the statements wrote; they keep working.
  assert.throws(() => db.transaction(() => { ins.run('c'); throw new Error('boom'); }), /boom/);
  assert.equal(count.get(), 2);
  db.begin();
  ins.run('d');
  db.rollback();
  assert.equal(count.get(), 2);
  assert.equal(ins.run('e').changes, 1);
  assert.equal(other.prepare('SELECT v FROM t ORDER BY id DESC').pluck().get(), 'e');
  // A statement prepared inside a transaction outlives it.
  let late;
  db.transaction(() => { late = db.prepare('SELECT max(id) FROM t').pluck(); assert.equal(late.get(), 3); });
  assert.equal(late.get(), 3);
  // Many statements, some dropped: closing finalizes the rest (the file opens again cleanly).
  for (let i = 0; i < 200; i++) db.prepare(`SELECT ${i} + count(*) FROM t`).pluck().get();
  db.close();
  for (const [name, call] of [['run', () => ins.run('f')], ['get', () => get.get(1)], ['all', () => count.all()], ['iterate', () => [...count.iterate()]]]) {
    assert.throws(call, (e) => e.code === 'closed', name);
  }
  other.close();
  const again = resonance.openSync(file);
  assert.equal(again.prepare('SELECT count(*) FROM t').pluck().get(), 3);
  again.close();
});

test('interrupt() stops a long getAsync of a prepared statement; the statement runs again after', async () => {
  const { db } = fresh();
  const long = db.prepare('WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ?) SELECT count(*) FROM c').pluck();
  const p = long.getAsync(1e12);
  await new Promise((r) => setTimeout(r, 100));
  db.interrupt();
  await expectCode(() => p, 'interrupted', assert);
  assert.equal(long.get(10), 10);
  const q = long.allAsync(1e12);
  await new Promise((r) => setTimeout(r, 50));
  db.interrupt();
  await expectCode(() => q, 'interrupted', assert);
  assert.deepEqual(long.all(5), [5]);
  db.close();
});

test('the fast path keeps the general path\'s rules: argument counts, kinds, bound and named parameters', () => {
  const { db } = fresh();
  db.exec('CREATE TABLE t (a, b, c)');
  const ins = db.prepare('INSERT INTO t VALUES (?, ?, ?)');
  assert.throws(() => ins.run(1, 2), (e) => e.code === 'invalid_argument' && /3 parameter\(s\), 2 value\(s\) given/.test(e.message));
  assert.throws(() => ins.run(1, 2, 3, 4), (e) => e.code === 'invalid_argument');
  assert.throws(() => ins.run(1, {}, 3), (e) => e.code === 'invalid_argument' && e.napiStatus === 'InvalidArg');
  assert.throws(() => ins.run(1, Symbol('s'), 3), (e) => e.code === 'invalid_argument');
  assert.throws(() => ins.run(1, 2n ** 64n, 3), (e) => e.code === 'invalid_argument');
  // Lone surrogates: a TypeError naming the first such parameter, before any other check.
  const lone = (n) => (e) => e instanceof TypeError && e.code === 'invalid_argument' && e.message === `SQL parameter ${n} holds a lone UTF-16 surrogate, which has no UTF-8 form`;
  const far = 'x'.repeat(300); // beyond a text slot: read through N-API
  assert.throws(() => ins.run('\ud800', 2, 3), lone(1));
  assert.throws(() => ins.run('a', 'b', '\udc00'), lone(3));
  assert.throws(() => ins.run('\ud800', 2), lone(1));
  assert.throws(() => ins.run(1, {}, '\ud800'), lone(3));
  assert.throws(() => ins.run(`${far}\ud800`, 'y\ud800', 3), lone(1));
  assert.throws(() => ins.run('ok', `${far}\ud800`, '\ud800'), lone(2));
  assert.throws(() => ins.run('\ud800', `${far}\ud800`, 3), lone(1));
  assert.throws(() => db.prepare('SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9').get(1, 2, 3, 4, 5, 6, 7, 8, 'a\ud800'), lone(9));
  assert.equal(db.prepare('SELECT count(*) FROM t').pluck().get(), 0);
  assert.deepEqual(db.prepare('SELECT ?, ?, ?').raw().get('\ufffd ok', `${far}\ufffd`, '😀'.repeat(100)), ['\ufffd ok', `${far}\ufffd`, '😀'.repeat(100)]);
  const long = 'x'.repeat(100000) + 'é😀';
  ins.run(long, true, new Uint8Array([1, 2]));
  ins.run([null, 2.5, -0]);
  db.prepare('INSERT INTO t VALUES (?, ?, ?)').bind('b', 1, 2).run();
  db.prepare('INSERT INTO t VALUES (:a, @b, $c)').run({ a: 'n', b: 2, c: 3 });
  const rows = db.prepare('SELECT * FROM t ORDER BY rowid').raw().all();
  assert.equal(rows[0][0], long);
  assert.deepEqual(rows.slice(0, 1).map((r) => [r[1], [...r[2]]]), [[1, [1, 2]]]);
  assert.deepEqual(rows.slice(1), [[null, 2.5, -0], ['b', 1, 2], ['n', 2, 3]]);
  assert.ok(Object.is(db.prepare('SELECT c FROM t WHERE rowid = 2').pluck().get(), -0));
  // Rows: many columns, text with characters beyond the BMP in several columns, blobs and bigints.
  const cols = Array.from({ length: 70 }, (_, i) => `${i} AS c${i}`).join(', ');
  const wide = db.prepare(`SELECT ${cols}`).get();
  assert.equal(Object.keys(wide).length, 70);
  assert.equal(wide.c69, 69);
  assert.deepEqual(db.prepare("SELECT 'a😀b' AS x, 1 AS n, 'é' AS y, x'0102' AS z, NULL AS w, '' AS e").get(), { x: 'a😀b', n: 1, y: 'é', z: Buffer.from([1, 2]), w: null, e: '' });
  const safe = db.prepare("SELECT 9007199254740993 AS big, 'x' AS s").safeIntegers();
  assert.deepEqual(safe.get(), { big: 9007199254740993n, s: 'x' });
  assert.throws(() => db.prepare('SELECT 9007199254740993 AS big').get(), (e) => e.code === 'invalid_argument' && /"big"/.test(e.message));
  assert.deepEqual(db.prepare('INSERT INTO t VALUES (1, 2, 3)').safeIntegers().run(), { changes: 1, lastInsertRowid: 5n });
  db.close();
});

// Calls through `run`/`get` whose every outcome (value, or error name/code/message) is printed as
// JSON: under Bun, the same script with the bun:ffi path (node/src/bun.rs) and without it
// (RESONANCE_BUN_FFI=0) must print the same.
const OUTCOMES = `
const resonance = require(process.argv[2]);
const path = require('node:path');
const db = resonance.openSync(path.join(process.argv[3], 'db.sqlite'));
const out = [];
const record = (f) => {
  try {
    const v = f();
    out.push(['ok', Buffer.isBuffer(v) ? [...v] : v]);
  } catch (e) {
    out.push(['err', e.name, e.code, e.message, e.napiStatus ?? null]);
  }
};
db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE, n)');
const ins = db.prepare('INSERT INTO t (v, n) VALUES (?, ?)');
const get = db.prepare('SELECT * FROM t WHERE v = ?');
const long = 'é😀x'.repeat(40000); // beyond the shared byte buffer: it grows
const row = db.prepare("SELECT ? || ? AS s, ? AS n");
for (const args of [['a', 1], ['b', null], ['ü😀', 2.5], [long, -0], ['a', 3], [null, 1], ['c'], ['d', 1, 2], ['e', 2n ** 70n], ['f', {}], ['g', true], ['h\ud800', 1], ['i', Buffer.from([1])]]) {
  record(() => ins.run(...args));
}
for (const v of ['a', 'ü😀', long, 'zz', 'i']) record(() => get.get(v));
record(() => get.raw().get('b'));
record(() => row.get(long, long, 7)); // a row text beyond the byte buffer
record(() => row.get('x', '', null));
record(() => db.prepare("SELECT x'0102' AS b, 'x' AS s, 9007199254740993 AS big").get());
record(() => db.prepare("SELECT 9007199254740993 AS big, ? AS s").safeIntegers().get('s'));
record(() => db.prepare("SELECT 9007199254740993 AS big, ? AS s").get('s'));
record(() => db.prepare('INSERT INTO t (v) VALUES (?) RETURNING id, v').get('ret'));
record(() => db.prepare('SELECT v FROM t WHERE id = ?').pluck().get(1));
record(() => ins.safeIntegers().run('j', 1));
// Statements made and dropped (collected): the ones kept work on.
for (let i = 0; i < 2000; i++) db.prepare('SELECT ? AS i').get(String(i));
if (typeof Bun !== 'undefined') Bun.gc(true);
for (let i = 0; i < 2000; i++) db.prepare('SELECT ? AS i').get(String(i));
record(() => get.get('b'));
record(() => ins.run('k', 'k'));
db.close();
record(() => ins.run('l', 1));
record(() => get.get('a'));
console.log(JSON.stringify(out, (k, v) => (typeof v === 'bigint' ? String(v) + 'n' : v)));
`;

test('run/get give the same values and errors with and without Bun\'s bun:ffi path', { skip: !isBun && 'Bun only' }, () => {
  const script = path.join(tempDir('resonance-sql-ffi-'), 'outcomes.cjs');
  writeFileSync(script, OUTCOMES);
  const outcome = (ffi) => {
    const r = spawnSync(process.execPath, [script, packageDir, tempDir('resonance-sql-ffi-')], { env: { ...process.env, RESONANCE_BUN_FFI: ffi }, encoding: 'utf8', maxBuffer: 1 << 26 });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout);
  };
  const on = outcome('1');
  assert.deepEqual(on, outcome('0'));
  assert.equal(on.length, 31);
  assert.deepEqual(on[0], ['ok', { changes: 1, lastInsertRowid: 1 }]);
  assert.equal(on[4][2], 'constraint');
  assert.deepEqual(on.slice(-2).map((o) => o[2]), ['closed', 'closed']);
});

test('allowEngineWrites: a raw UPDATE of nodes.embedding is seen by the next search', async () => {
  const { db } = fresh({ allowEngineWrites: true, statementCacheSize: 64 });
  db.upsertNode({ id: 'a', embedding: new Float32Array([1, 0]) });
  db.upsertNode({ id: 'b', embedding: new Float32Array([0, 1]) });
  assert.equal((await db.search(new Float32Array([1, 0]), { k: 1 }))[0].id, 'a');
  const v = Buffer.from(new Float32Array([1, 0]).buffer);
  assert.equal(db.prepare("UPDATE nodes SET embedding = ? WHERE id = 'b'").run(v).changes, 1);
  db.prepare("UPDATE nodes SET embedding = ? WHERE id = 'a'").run(Buffer.from(new Float32Array([0, 1]).buffer));
  assert.equal((await db.search(new Float32Array([1, 0]), { k: 1 }))[0].id, 'b');
  db.close();
  const { db: strict } = fresh();
  assert.throws(() => strict.prepare("UPDATE nodes SET title = 'x'"), (e) => e.code === 'invalid_argument');
  strict.close();
});

test('migrateApp: dry run, up, status, down, destructive refused; from a directory and at open', async () => {
  const { file, db } = fresh();
  const steps = [
    { version: 1, name: 'users', up: 'CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);', down: 'DROP TABLE users;' },
    { version: 2, name: 'tasks', up: 'CREATE TABLE tasks (id INTEGER PRIMARY KEY, title TEXT);', down: 'DROP TABLE tasks;' },
  ];
  const tables = () => db.prepare("SELECT name FROM sqlite_master WHERE name IN ('users', 'tasks') ORDER BY name").pluck().all();
  const dry = await db.migrateApp('app', steps, { dryRun: true });
  assert.equal(dry.dryRun, true);
  assert.deepEqual(dry.steps.map((s) => [s.version, s.direction]), [[1, 'up'], [2, 'up']]);
  assert.deepEqual(tables(), []);
  const up = await db.migrateApp('app', steps, { backup: false });
  assert.deepEqual(up.steps.map((s) => s.version), [1, 2]);
  assert.deepEqual(tables(), ['tasks', 'users']);
  const st = db.appMigrationStatus('app', [...steps, { version: 3, name: 'later', up: 'CREATE TABLE later (x);' }]);
  assert.deepEqual(st.applied.map((a) => a.version), [1, 2]);
  assert.deepEqual(st.pending, [{ version: 3, name: 'later' }]);
  assert.match(st.applied[0].checksum, /^[0-9a-f]{64}$/);
  await expectCode(() => db.migrateApp('app', steps, { to: 1, backup: false }), 'destructive_refused', assert);
  assert.deepEqual(tables(), ['tasks', 'users']);
  const down = await db.migrateApp('app', steps, { to: 1, backup: false, allowDestructive: true });
  assert.deepEqual(down.steps.map((s) => [s.version, s.direction]), [[2, 'down']]);
  assert.deepEqual(tables(), ['users']);
  await expectCode(() => db.migrateApp('app', [{ version: 1, name: 'users', up: 'CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);' },
    { version: 2, name: 'drop', up: 'DROP TABLE users;' }], { backup: false }), 'destructive_refused', assert);
  assert.deepEqual(tables(), ['users']);
  assert.throws(() => db.migrateApp('app', [{ version: 1.5, name: 'x', up: 'SELECT 1' }]), (e) => e.code === 'invalid_argument');
  db.close();

  const dir = path.join(path.dirname(file), 'migrations');
  mkdirSync(dir);
  writeFileSync(path.join(dir, '0001_items.sql'), 'CREATE TABLE items (id INTEGER PRIMARY KEY);\n-- down\nDROP TABLE items;\n');
  const other = path.join(path.dirname(file), 'other.sqlite');
  const db2 = resonance.openSync(other, { appMigrations: { shop: dir } });
  assert.deepEqual(db2.appMigrationStatus('shop', dir).applied.map((a) => a.name), ['items']);
  assert.equal(db2.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'items'").pluck().get(), 1);
  db2.close();
});
