// `resonance/amalfa`: the original application's storage API (`ResonanceDB`) over a Resonance
// handle, under node --test and bun test: every method, the original shapes, the core's defaults
// and history rows, edge upserts, transactions, the file-must-exist rule, getRawDb() with bun:sqlite's
// `$name` parameters and engine-table writes the engine's caches follow, bad input typed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { resonance, require, packageDir, tempDir, expectCode, cliPath } from './helpers.mjs';

const { ResonanceDB, VectorEngine, DatabaseFactory, connectToResonance, performHealthCheck } = require(path.join(packageDir, 'amalfa.js'));

/** A ResonanceDB over a fresh (created, then reopened) file. */
function fresh() {
  const file = path.join(tempDir('resonance-amalfa-'), 'resonance.db');
  resonance.openSync(file).close();
  return { file, db: new ResonanceDB(file) };
}

/** sha256 of the database file and its WAL. */
function fileHash(file) {
  const h = createHash('sha256');
  for (const f of [file, `${file}-wal`]) if (existsSync(f)) h.update(readFileSync(f));
  return h.digest('hex');
}

const vec = (...v) => new Float32Array(v);

test('the ESM entry exports the same class', async () => {
  const esm = await import(path.join(packageDir, 'amalfa.mjs'));
  const cjs = require(path.join(packageDir, 'amalfa.js'));
  assert.deepEqual(Object.keys(esm).sort(), Object.keys(cjs).sort());
  for (const k of Object.keys(cjs)) assert.equal(esm[k], cjs[k], k);
});

test('new ResonanceDB(path): the file must exist (io, nothing created); an existing one is opened and migrated', () => {
  const dir = tempDir('resonance-amalfa-');
  const missing = path.join(dir, 'missing.db');
  const err = (() => {
    try {
      new ResonanceDB(missing);
    } catch (e) {
      return e;
    }
  })();
  assert.ok(err instanceof Error);
  assert.equal(err.code, 'io');
  assert.equal(existsSync(missing), false);
  assert.throws(() => new ResonanceDB(42), (e) => e.code === 'invalid_argument');
  const { db } = fresh();
  assert.equal(db.resonance.readOnly, false);
  assert.deepEqual(db.getStats().nodes, 0);
  db.close();
});

test('insertNode / getNode: label stored as title, the core\'s defaults, the history row, the original shape', () => {
  const { db } = fresh();
  db.insertNode({ id: 'n1', type: 'note', label: 'First', summary: 's', hash: 'h1', meta: { a: 1 }, date: '2026-01-02', embedding: vec(3, 4) });
  db.insertNode({ id: 'n2', label: 'Bare' });
  const n1 = db.getNode('n1');
  assert.deepEqual(Object.keys(n1).sort(), ['date', 'domain', 'embedding', 'hash', 'id', 'label', 'layer', 'meta', 'summary', 'type']);
  assert.equal(n1.label, 'First');
  assert.equal(n1.domain, 'knowledge');
  assert.equal(n1.layer, 'experience');
  assert.equal(n1.type, 'note');
  assert.equal(n1.summary, 's');
  assert.equal(n1.hash, 'h1');
  assert.deepEqual(n1.meta, { a: 1 });
  assert.equal(n1.date, '2026-01-02');
  assert.ok(n1.embedding instanceof Float32Array);
  assert.ok(Math.abs(n1.embedding[0] - 0.6) < 1e-6 && Math.abs(n1.embedding[1] - 0.8) < 1e-6); // normalised by the core
  const n2 = db.getNode('n2');
  assert.equal('embedding' in n2, false);
  assert.deepEqual(n2.meta, {});
  assert.equal(n2.type, null);
  assert.equal(db.resonance.prepare('SELECT title FROM nodes WHERE id = ?').pluck().get('n2'), 'Bare');
  assert.equal(db.getNode('nope'), null);
  const h = db.resonance.history('n1');
  assert.equal(h.length, 1);
  assert.equal(h[0].action, 'insert');
  assert.equal(h[0].newValue.title, 'First');
  db.close();
});

test('getNodes / getNodesByType / getNodeHash', () => {
  const { db } = fresh();
  for (let i = 0; i < 5; i++) {
    db.insertNode({ id: `k${i}`, type: i % 2 ? 'odd' : 'even', label: `K${i}`, domain: i < 3 ? 'a' : 'b', hash: `h${i}`, embedding: vec(1, i) });
  }
  assert.deepEqual(db.getNodes().map((n) => n.id), ['k0', 'k1', 'k2', 'k3', 'k4']);
  assert.deepEqual(db.getNodes({ domain: 'a' }).map((n) => n.id), ['k0', 'k1', 'k2']);
  assert.deepEqual(db.getNodes({ type: 'odd' }).map((n) => n.id), ['k1', 'k3']);
  assert.deepEqual(db.getNodes({ limit: 2, offset: 1 }).map((n) => n.id), ['k1', 'k2']);
  assert.ok(db.getNodes()[0].embedding instanceof Float32Array);
  const light = db.getNodes({ excludeContent: true });
  assert.equal(light.length, 5);
  assert.ok(light.every((n) => !('embedding' in n) && n.label !== null));
  assert.deepEqual(db.getNodesByType('even').map((n) => n.id), ['k0', 'k2', 'k4']);
  assert.equal(db.getNodesByType('even')[0].label, 'K0');
  assert.equal(db.getNodeHash('k3'), 'h3');
  assert.equal(db.getNodeHash('nope'), null);
  db.close();
});

test('updateNodeMeta (history with old and new meta) and updateNodeDate', () => {
  const { db } = fresh();
  db.insertNode({ id: 'm', label: 'M', meta: { v: 1 } });
  db.updateNodeMeta('m', { v: 2, semantic_tokens: ['x'] });
  assert.deepEqual(db.getNode('m').meta, { v: 2, semantic_tokens: ['x'] });
  const h = db.resonance.history('m');
  assert.equal(h.length, 2);
  assert.equal(h[1].action, 'update_meta');
  assert.deepEqual(h[1].oldValue, { v: 1 });
  assert.deepEqual(h[1].newValue, { v: 2, semantic_tokens: ['x'] });
  db.updateNodeDate('m', '2026-03-04');
  assert.equal(db.getNode('m').date, '2026-03-04');
  db.updateNodeDate('m', new Date('2026-05-06T07:08:09.000Z'));
  assert.equal(db.getNode('m').date, '2026-05-06T07:08:09.000Z');
  assert.equal(db.resonance.history('m').length, 4);
  assert.equal(db.getNode('m').label, 'M'); // the other fields are kept
  db.close();
});

test('insertEdge is insert-or-ignore (type default related_to); insertSemanticEdge upserts the weights; getEdges is out-edges', () => {
  const { db } = fresh();
  for (const id of ['a', 'b', 'c']) db.insertNode({ id, label: id });
  assert.equal(db.insertEdge('a', 'b'), true);
  assert.equal(db.insertEdge('a', 'b'), false);
  assert.equal(db.insertEdge('a', 'b', 'cites'), true);
  db.insertEdge('c', 'a');
  assert.deepEqual(db.getEdges('a'), [
    { source: 'a', target: 'b', type: 'cites', confidence: 1, veracity: 1, context_source: null },
    { source: 'a', target: 'b', type: 'related_to', confidence: 1, veracity: 1, context_source: null },
  ]);
  db.insertSemanticEdge('a', 'c', 'supports');
  assert.deepEqual(db.getEdges('a').find((e) => e.target === 'c'), { source: 'a', target: 'c', type: 'supports', confidence: 1, veracity: 1, context_source: null });
  db.insertSemanticEdge('a', 'c', 'supports', 0.5, 0.25, 'doc.md');
  const edges = db.getEdges('a');
  assert.equal(edges.length, 3);
  assert.deepEqual(edges.find((e) => e.target === 'c'), { source: 'a', target: 'c', type: 'supports', confidence: 0.5, veracity: 0.25, context_source: 'doc.md' });
  const h = db.resonance.history('a|supports|c');
  assert.deepEqual(h.map((r) => r.action), ['insert', 'update']);
  assert.deepEqual(db.getEdges('c').map((e) => e.target), ['a']);
  assert.deepEqual(db.getEdges('b'), []);
  db.close();
});

test('getStats: nodes, edges, vectors, semantic_tokens, db_size_bytes', () => {
  const { db, file } = fresh();
  db.insertNode({ id: 'a', label: 'a', embedding: vec(1, 0), meta: { semantic_tokens: { x: 1 } } });
  db.insertNode({ id: 'b', label: 'b', meta: { other: 'semantic_tokens' } });
  db.insertNode({ id: 'c', label: 'c' });
  db.insertEdge('a', 'b');
  db.checkpoint('truncate');
  const s = db.getStats();
  assert.deepEqual(Object.keys(s).sort(), ['db_size_bytes', 'edges', 'nodes', 'semantic_tokens', 'vectors']);
  assert.equal(s.nodes, 3);
  assert.equal(s.edges, 1);
  assert.equal(s.vectors, 1);
  assert.equal(s.semantic_tokens, 2);
  assert.equal(s.db_size_bytes, readFileSync(file).length);
  db.close();
});

test('getLexicon: concepts of the lexicon domain with label, aliases and definition', () => {
  const { db } = fresh();
  db.insertNode({ id: 'c1', type: 'concept', domain: 'lexicon', label: 'Graph', meta: { aliases: ['network'], definition: 'nodes and edges' } });
  db.insertNode({ id: 'c2', type: 'concept', domain: 'lexicon', label: 'Bare', summary: 'from the summary' });
  db.insertNode({ id: 'c3', type: 'note', domain: 'lexicon', label: 'Not a concept' });
  db.insertNode({ id: 'c4', type: 'concept', label: 'Not in the lexicon' });
  assert.deepEqual(db.getLexicon(), [
    { id: 'c1', label: 'Graph', aliases: ['network'], definition: 'nodes and edges' },
    { id: 'c2', label: 'Bare', aliases: [], definition: 'from the summary' },
  ]);
  db.close();
});

test('beginTransaction / commit / rollback: a rollback leaves nothing', () => {
  const { db, file } = fresh();
  db.insertNode({ id: 'keep', label: 'keep' });
  db.beginTransaction();
  db.insertNode({ id: 't1', label: 't1', embedding: vec(1, 1) });
  db.insertEdge('t1', 'keep');
  db.updateNodeMeta('keep', { changed: true });
  db.getRawDb().run('UPDATE nodes SET title = $t WHERE id = $id', { $t: 'raw', $id: 'keep' });
  db.rollback();
  assert.equal(db.getNode('t1'), null);
  assert.deepEqual(db.getEdges('t1'), []);
  assert.deepEqual(db.getNode('keep').meta, {});
  assert.equal(db.getNode('keep').label, 'keep');
  assert.equal(db.resonance.history('t1').length, 0);
  assert.equal(db.getStats().vectors, 0);
  db.beginTransaction();
  db.insertNode({ id: 't2', label: 't2' });
  db.commit();
  assert.equal(db.getNode('t2').label, 't2');
  db.close();
  const again = new ResonanceDB(file);
  assert.deepEqual(again.getNodes().map((n) => n.id), ['keep', 't2']);
  again.close();
});

test('checkpoint, close, generateId', () => {
  const { db } = fresh();
  db.insertNode({ id: 'x', label: 'x' });
  const cp = db.checkpoint();
  assert.equal(typeof cp.checkpointed, 'number');
  assert.equal(db.generateId('docs/A Note.md'), resonance.generateId('docs/A Note.md'));
  assert.equal(ResonanceDB.generateId('docs/A Note.md'), resonance.generateId('docs/A Note.md'));
  db.close();
  db.close();
  assert.throws(() => db.getNode('x'), (e) => e.code === 'closed');
});

test('getRawDb: bun:sqlite\'s prepare/query/run surface with $name, :name, bare and positional parameters', () => {
  const { db } = fresh();
  const raw = db.getRawDb();
  assert.equal(db.getRawDb(), raw);
  raw.run('CREATE TABLE app (id INTEGER PRIMARY KEY, name TEXT)');
  assert.deepEqual(raw.run('INSERT INTO app (name) VALUES ($name)', { $name: 'one' }), { changes: 1, lastInsertRowid: 1 });
  raw.prepare('INSERT INTO app (name) VALUES (?)').run('two');
  raw.prepare('INSERT INTO app (name) VALUES (:name)').run({ name: 'three' }); // better-sqlite3's bare keys
  raw.prepare('INSERT INTO app (name) VALUES (?1)').run(['four']);
  assert.deepEqual(raw.prepare('SELECT name FROM app WHERE id = $id').get({ $id: 1 }), { name: 'one' });
  assert.equal(raw.prepare('SELECT name FROM app WHERE id = $id').get({ $id: 99 }), null);
  assert.deepEqual(raw.query('SELECT id, name FROM app WHERE id > ? ORDER BY id').all(2), [{ id: 3, name: 'three' }, { id: 4, name: 'four' }]);
  assert.deepEqual(raw.query('SELECT count(*) AS n FROM app').get(), { n: 4 });
  assert.deepEqual(raw.prepare('SELECT id, name FROM app WHERE id = 1').values(), [[1, 'one']]);
  assert.deepEqual(raw.prepare('SELECT id, name FROM app').columnNames, ['id', 'name']);
  const r = raw.run("INSERT INTO app (name) VALUES ('five'); INSERT INTO app (name) VALUES ('six')");
  assert.deepEqual(r, { changes: 1, lastInsertRowid: 6 });
  // bun:sqlite's transaction(fn): a function running fn in one transaction, rolled back on throw.
  const insertMany = raw.transaction((names) => {
    for (const name of names) raw.prepare('INSERT INTO app (name) VALUES ($name)').run({ $name: name });
    assert.equal(raw.inTransaction, true);
    if (names.includes('boom')) throw new Error('boom');
    return names.length;
  });
  assert.equal(insertMany(['seven', 'eight']), 2);
  assert.throws(() => insertMany(['nine', 'boom']), /boom/);
  assert.deepEqual(raw.query('SELECT count(*) AS n FROM app').get(), { n: 8 });
  assert.equal(raw.inTransaction, false);
  db.close();
});

test('getRawDb: writes to nodes are seen by getNode and search (the core drops its caches)', () => {
  const { db } = fresh();
  db.insertNode({ id: 'a', label: 'A', embedding: vec(1, 0, 0) });
  db.insertNode({ id: 'b', label: 'B', embedding: vec(0.8, 0.6, 0) });
  const q = vec(1, 0, 0);
  assert.deepEqual(db.resonance.searchSync(q).map((h) => h.id), ['a', 'b']);
  assert.equal(db.getNode('a').label, 'A');
  const raw = db.getRawDb();
  assert.equal(raw.run('UPDATE nodes SET title = $title, meta = $meta WHERE id = $id', { $title: 'A2', $meta: '{"k":1}', $id: 'a' }).changes, 1);
  assert.equal(db.getNode('a').label, 'A2');
  assert.deepEqual(db.getNode('a').meta, { k: 1 });
  raw.prepare("INSERT INTO nodes (id, type, title, domain, layer) VALUES ($id, 'note', $title, 'knowledge', 'experience')").run({ $id: 'c', $title: 'C' });
  assert.equal(db.getNode('c').label, 'C');
  assert.equal('embedding' in db.getNode('c'), false);
  assert.deepEqual(db.resonance.searchSync(q).map((h) => h.id), ['a', 'b']);
  raw.run('UPDATE nodes SET embedding = NULL WHERE id = ?', 'a');
  assert.deepEqual(db.resonance.searchSync(q).map((h) => h.id), ['b']);
  raw.run('INSERT INTO edges (source, target, type) VALUES (?, ?, ?)', 'c', 'b', 'raw');
  assert.deepEqual(db.getEdges('c').map((e) => e.type), ['raw']);
  assert.deepEqual(db.resonance.successors('c'), ['b']);
  assert.equal(db.getStats().nodes, 3);
  db.close();
});

test('bad input is invalid_argument and the database is unchanged', async () => {
  const { db, file } = fresh();
  db.insertNode({ id: 'a', label: 'A' });
  db.insertEdge('a', 'a');
  db.checkpoint('truncate');
  const before = fileHash(file);
  const bad = [
    () => db.insertNode(null),
    () => db.insertNode('a'),
    () => db.insertNode({ label: 'no id' }),
    () => db.insertNode({ id: '', label: 'empty id' }),
    () => db.insertNode({ id: 'x', meta: { big: 1n } }),
    () => db.insertNode({ id: 'x', label: 42 }),
    () => db.insertNode({ id: 'x', embedding: vec(NaN, 1) }),
    () => db.getNode(1),
    () => db.getNodes('domain'),
    () => db.getNodes({ limit: -1 }),
    () => db.getNodesByType(null),
    () => db.getNodeHash(undefined),
    () => db.updateNodeMeta('a', new Map()),
    () => db.updateNodeDate('a', 5),
    () => db.insertEdge('a', 7),
    () => db.insertEdge('a', ''),
    () => db.insertSemanticEdge('a', 'a', 'x', NaN),
    () => db.insertSemanticEdge('a', 'a', 'x', 'high'),
    () => db.getEdges({}),
    () => db.getRawDb().prepare(5),
    () => db.getRawDb().run('UPDATE nodes SET title = ? WHERE id = ?', 1n << 70n, 'a'),
  ];
  for (const [i, f] of bad.entries()) {
    const err = await expectCode(f, f === bad[6] ? 'invalid_vector' : 'invalid_argument', assert).catch((e) => {
      throw new Error(`case ${i}: ${e.message}`);
    });
    assert.ok(err);
  }
  db.checkpoint('truncate');
  assert.equal(fileHash(file), before);
  assert.equal(db.getNode('a').label, 'A');
  db.close();
});

// A file as the original application left it, written by another program (the CLI's raw SQL, in its
// own process): its three Drizzle migrations with their ledger rows, rows written with raw SQL
// (an embedding stored as it came, not normalised; meta NULL, text and JSON).
test('a file the original application wrote: opened (adopted), read back in the original shapes, written', () => {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const { readMigrationFiles } = require('drizzle-orm/migrator');
  const files = readMigrationFiles({ migrationsFolder: path.join(here, 'drizzle', 'amalfa') });
  const blob = (...v) => `X'${Buffer.from(new Float32Array(v).buffer).toString('hex')}'`;
  const script = [
    'PRAGMA journal_mode = WAL',
    ...files.flatMap((m) => m.sql),
    'CREATE TABLE IF NOT EXISTS "__drizzle_migrations" (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at numeric)',
    ...files.map((m) => `INSERT INTO "__drizzle_migrations" (hash, created_at) VALUES ('${m.hash}', ${m.folderMillis})`),
    `INSERT INTO nodes (id, type, title, domain, layer, embedding, hash, meta, date, summary) VALUES
      ('doc-a', 'document', 'Doc A', 'knowledge', 'experience', ${blob(3, 4, 0)}, 'ha', '{"semantic_tokens":{"x":1}}', '2025-01-01', 'about a'),
      ('doc-b', 'document', 'Doc B', 'knowledge', 'experience', ${blob(0, 0, 2)}, 'hb', NULL, '2025-01-02', NULL),
      ('term', 'concept', 'Term', 'lexicon', 'experience', NULL, NULL, '{"aliases":["t"],"definition":"a word"}', NULL, NULL)`,
    "INSERT INTO edges (source, target, type, confidence, veracity, context_source) VALUES ('doc-a', 'doc-b', 'related_to', 1, 1, NULL), ('doc-a', 'term', 'defines', 0.7, 0.9, 'doc-a.md')",
  ].join(';\n');
  const file = path.join(tempDir('resonance-amalfa-'), 'resonance.db');
  execFileSync(cliPath(), ['sql', '--raw', '--write', '--create', '--script', file, script], { stdio: 'pipe' });
  const db = new ResonanceDB(file);
  const a = db.getNode('doc-a');
  assert.deepEqual({ ...a, embedding: undefined }, {
    id: 'doc-a', type: 'document', label: 'Doc A', domain: 'knowledge', layer: 'experience', summary: 'about a',
    embedding: undefined, hash: 'ha', meta: { semantic_tokens: { x: 1 } }, date: '2025-01-01',
  });
  assert.equal(a.embedding.length, 3);
  assert.deepEqual(db.getNode('doc-b').meta, {});
  assert.deepEqual(db.getNodes({ excludeContent: true }).map((n) => n.id), ['doc-a', 'doc-b', 'term']);
  assert.deepEqual(db.getNodesByType('document').map((n) => n.label), ['Doc A', 'Doc B']);
  assert.equal(db.getNodeHash('doc-b'), 'hb');
  assert.deepEqual(db.getEdges('doc-a'), [
    { source: 'doc-a', target: 'doc-b', type: 'related_to', confidence: 1, veracity: 1, context_source: null },
    { source: 'doc-a', target: 'term', type: 'defines', confidence: 0.7, veracity: 0.9, context_source: 'doc-a.md' },
  ]);
  const s = db.getStats();
  assert.deepEqual([s.nodes, s.edges, s.vectors, s.semantic_tokens], [3, 2, 2, 1]);
  assert.deepEqual(db.getLexicon(), [{ id: 'term', label: 'Term', aliases: ['t'], definition: 'a word' }]);
  assert.deepEqual(db.resonance.searchSync(vec(1, 0, 0)).map((h) => h.id), ['doc-a']);
  assert.deepEqual(db.getRawDb().query('SELECT count(*) AS n FROM __drizzle_migrations').get(), { n: 3 });
  db.insertNode({ id: 'doc-c', label: 'Doc C', embedding: vec(0, 1, 0) });
  db.updateNodeMeta('doc-b', { semantic_tokens: [] });
  assert.equal(db.getStats().semantic_tokens, 2);
  assert.deepEqual(db.resonance.searchSync(vec(0, 1, 0)).map((h) => h.id), ['doc-c', 'doc-a']);
  db.close();
});

test('VectorEngine.searchByVector: hits with id, score and title, from the engine\'s search', () => {
  const { db } = fresh();
  db.insertNode({ id: 'a', label: 'A', embedding: vec(1, 0, 0) });
  db.insertNode({ id: 'b', label: 'B', embedding: vec(0.6, 0.8, 0) });
  db.insertNode({ id: 'c', label: 'C', embedding: vec(0, 0, 1) });
  const engine = new VectorEngine(db);
  const hits = engine.searchByVector(vec(1, 0, 0), 5);
  assert.deepEqual(hits.map(({ id, title }) => ({ id, title })), [{ id: 'a', title: 'A' }, { id: 'b', title: 'B' }]);
  const ref = db.resonance.searchSync(vec(1, 0, 0), { k: 5 });
  assert.deepEqual(hits.map((h) => [h.id, h.score]), ref.map((h) => [h.id, h.score]));
  assert.deepEqual(engine.searchByVector(vec(1, 0, 0), 1).map((h) => h.id), ['a']);
  assert.deepEqual(new VectorEngine(db.getRawDb()).searchByVector([0, 0, 1]).map((h) => h.id), ['c']);
  assert.throws(() => new VectorEngine({}), (e) => e.code === 'invalid_argument');
  assert.throws(() => engine.searchByVector(vec(1, 0), 1), (e) => e.code === 'dimension_mismatch');
  db.close();
});

test('DatabaseFactory.connect / connectToResonance / performHealthCheck', async () => {
  const { db, file } = fresh();
  db.insertNode({ id: 'a', label: 'A', embedding: vec(1, 0) });
  db.close();
  const ro = DatabaseFactory.connect(file, { readonly: true });
  assert.equal(ro.resonance.readOnly, true);
  assert.deepEqual(ro.query('SELECT title FROM nodes WHERE id = $id').get({ $id: 'a' }), { title: 'A' });
  assert.throws(() => ro.run("UPDATE nodes SET title = 'x'"), (e) => e.code === 'readonly');
  assert.deepEqual(await performHealthCheck(ro), { status: 'Healthy', mode: 'wal' });
  ro.close();
  const rw = connectToResonance(file, { readonly: false });
  assert.equal(rw.resonance.readOnly, false);
  assert.deepEqual(await performHealthCheck(rw), { status: 'Healthy', mode: 'wal' });
  // A vector written raw, not unit length: a problem of the report.
  rw.run("UPDATE nodes SET embedding = X'0000404000008040' WHERE id = 'a'");
  const err = await expectCode(() => performHealthCheck(rw), undefined, assert);
  assert.match(err.message, /not unit length/);
  assert.ok(err.problems.some((p) => /not unit length/.test(p)));
  rw.close();
  const again = new ResonanceDB(file);
  await assert.rejects(performHealthCheck(again), /not unit length/);
  await assert.rejects(performHealthCheck(null), (e) => e.code === 'invalid_argument');
  again.close();
  await expectCode(() => DatabaseFactory.connect(path.join(path.dirname(file), 'none.db'), { readonly: true }), 'io', assert);
});
