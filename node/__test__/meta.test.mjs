// Node metadata across the boundary: every read returns the same value for the same stored text
// (parsed by JSON.parse at any depth), and a meta value is written as JSON.stringify writes it or
// refused with invalid_argument, never silently turned into `{}`. Runs under `node --test` and `bun test`.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { resonance, tempDir, cliPath, expectCode } from './helpers.mjs';

const nested = (depth) => '['.repeat(depth) + ']'.repeat(depth);

describe('stored meta reads back the same from every call', () => {
  const DEPTHS = [1, 127, 128, 129, 1000];
  let db;
  let file;
  before(() => {
    file = path.join(tempDir(), 'deep.db');
    db = resonance.openSync(file);
    for (const d of DEPTHS) db.upsertNode({ id: `d${d}`, embedding: [1, 0] });
    db.upsertNode({ id: 'text' });
    db.close();
    // Written by another program (the core itself refuses meta nested this deep), and one legacy
    // row whose meta is not JSON at all.
    const sets = DEPTHS.map((d) => `UPDATE nodes SET meta = '${nested(d)}' WHERE id = 'd${d}';`).join(' ');
    execFileSync(cliPath(), ['sql', '--raw', '--write', '--script', file, `${sets} UPDATE nodes SET meta = 'not json {' WHERE id = 'text';`], { stdio: 'pipe' });
    db = resonance.openSync(file);
  });
  after(() => db.close());

  for (const d of DEPTHS) {
    test(`meta nested ${d} deep: getNodeSync, getNodeSync(withEmbedding), getNode and listNodes agree`, async () => {
      const id = `d${d}`;
      const reads = {
        getNodeSync: db.getNodeSync(id).meta,
        'getNodeSync(withEmbedding)': db.getNodeSync(id, true).meta,
        getNode: (await db.getNode(id)).meta,
        'getNode(withEmbedding)': (await db.getNode(id, true)).meta,
        listNodes: db.listNodes({ limit: 100 }).find((n) => n.id === id).meta,
        'listNodes(withEmbeddings)': db.listNodes({ limit: 100, withEmbeddings: true }).find((n) => n.id === id).meta,
      };
      const expected = JSON.parse(nested(d));
      for (const [call, meta] of Object.entries(reads)) {
        assert.ok(Array.isArray(meta), `${call} returned ${typeof meta} for depth ${d}`);
        assert.deepEqual(meta, expected, `${call} at depth ${d}`);
      }
    });
  }

  test('meta that is not JSON reads back as its text from every call', async () => {
    assert.equal(db.getNodeSync('text').meta, 'not json {');
    assert.equal(db.getNodeSync('text', true).meta, 'not json {');
    assert.equal((await db.getNode('text')).meta, 'not json {');
    assert.equal(db.listNodes({ limit: 100 }).find((n) => n.id === 'text').meta, 'not json {');
  });
});

describe('meta values are written as JSON.stringify writes them, or refused', () => {
  let db;
  before(() => {
    db = resonance.openSync(path.join(tempDir(), 'values.db'));
    db.upsertNode({ id: 'm' });
  });
  after(() => db.close());

  const when = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6));
  const stored = [
    ['a Date', () => when, '2026-01-02T03:04:05.006Z'],
    ['a nested Date', () => ({ at: when, list: [when] }), { at: '2026-01-02T03:04:05.006Z', list: ['2026-01-02T03:04:05.006Z'] }],
    ['an object with toJSON', () => ({ toJSON: () => ({ v: 1 }) }), { v: 1 }],
    ['a boxed string and number', () => [new String('s'), new Number(2)], ['s', 2]],
    ['an undefined property (omitted)', () => ({ a: 1, b: undefined }), { a: 1 }],
  ];
  const refused = [
    ['a Map', () => new Map([['k', 1]]), /Map/],
    ['a nested Set', () => ({ tags: new Set(['a']) }), /Set/],
    ['a WeakMap', () => new WeakMap(), /WeakMap/],
    ['a BigInt', () => 10n, /BigInt/],
    ['a nested BigInt', () => ({ n: [1n] }), /BigInt/],
    ['a function', () => () => 1, /function/],
    ['a function property', () => ({ f() {} }), /function/],
    ['a Symbol', () => Symbol('s'), /symbol/i],
    ['NaN', () => NaN, /NaN/],
    ['a nested Infinity', () => ({ x: Infinity }), /Infinity/],
    ['undefined in an array', () => [1, undefined], /undefined/],
    ['a circular object', () => { const o = {}; o.self = o; return o; }, /circular/i],
  ];
  const writers = [
    ['upsertNode', (v) => db.upsertNode({ id: 'm', meta: v })],
    ['upsertNodes', (v) => db.upsertNodes([{ id: 'm', meta: v }])],
    ['upsertNodesSync', (v) => db.upsertNodesSync([{ id: 'm', meta: v }])],
    ['updateMeta', (v) => db.updateMeta('m', v)],
  ];

  for (const [writer, write] of writers) {
    for (const [label, value, expected] of stored) {
      test(`${writer}: ${label} is stored as JSON.stringify writes it`, async () => {
        const v = value();
        await write(v);
        assert.deepEqual(db.getNodeSync('m').meta, expected);
        assert.deepEqual(db.getNodeSync('m').meta, JSON.parse(JSON.stringify(v)));
      });
    }
    for (const [label, value, message] of refused) {
      test(`${writer}: ${label} is refused with invalid_argument`, async () => {
        db.updateMetaJson('m', '{"kept":true}');
        const err = await expectCode(() => write(value()), 'invalid_argument', assert);
        assert.match(err.message, message);
        assert.deepEqual(db.getNodeSync('m').meta, { kept: true });
      });
    }
  }

  test('metaJson still wins over meta, and meta: null clears', () => {
    db.upsertNode({ id: 'm', meta: new Map(), metaJson: '[1]' });
    assert.deepEqual(db.getNodeSync('m').meta, [1]);
    db.upsertNode({ id: 'm', meta: null });
    assert.equal(db.getNodeSync('m').meta, null);
    db.updateMeta('m', { a: 1 });
    db.updateMeta('m', null);
    assert.equal(db.getNodeSync('m').meta, null);
  });
});

describe('partial updates and merge patches', () => {
  let db;
  before(() => {
    db = resonance.openSync(path.join(tempDir(), 'update.db'));
  });
  after(() => db.close());

  test('updateNode changes only the fields given; null clears; the embedding is kept', async () => {
    db.upsertNode({ id: 'a', type: 'note', title: 'old', meta: { k: 1 }, embedding: [3, 4] });
    db.updateNode('a', { title: 'new' });
    let n = db.getNodeSync('a', true);
    assert.equal(n.title, 'new');
    assert.equal(n.type, 'note');
    assert.deepEqual(n.meta, { k: 1 });
    assert.ok(Math.abs(n.embedding[0] - 0.6) < 1e-6);
    db.updateNode('a', { type: null, meta: null, domain: null });
    n = db.getNodeSync('a', true);
    assert.equal(n.type, null);
    assert.equal(n.meta, null);
    assert.equal(n.domain, 'knowledge');
    assert.ok(n.embedding);
    db.updateNode('a', { meta: { d: new Date(0) }, embedding: null });
    n = db.getNodeSync('a', true);
    assert.deepEqual(n.meta, { d: '1970-01-01T00:00:00.000Z' });
    assert.equal(n.embedding, null);
    const h = db.history('a').at(-1);
    assert.equal(h.action, 'update');
    assert.deepEqual(h.oldValue.embedding, { dimension: 2 });
    assert.equal(h.newValue.embedding, null);
    await expectCode(() => db.updateNode('missing', { title: 't' }), 'not_found', assert);
    await expectCode(() => db.updateNode('a', { meta: new Map() }), 'invalid_argument', assert);
    await expectCode(() => db.updateNode('a', { title: 3 }), 'invalid_argument', assert);
  });

  test('mergeMeta applies a JSON merge patch (RFC 7386)', async () => {
    db.upsertNode({ id: 'm', meta: { a: 1, b: { c: 2, x: 0 } } });
    db.mergeMeta('m', { b: { c: null, d: 3 }, e: 'new' });
    assert.deepEqual(db.getNodeSync('m').meta, { a: 1, b: { x: 0, d: 3 }, e: 'new' });
    const h = db.history('m').at(-1);
    assert.equal(h.action, 'update_meta');
    assert.deepEqual(h.oldValue, { a: 1, b: { c: 2, x: 0 } });
    db.mergeMeta('m', null);
    assert.equal(db.getNodeSync('m').meta, null);
    await expectCode(() => db.mergeMeta('missing', {}), 'not_found', assert);
    await expectCode(() => db.mergeMeta('m', new Set()), 'invalid_argument', assert);
    await expectCode(() => db.mergeMetaJson('m', '{nope'), 'invalid_argument', assert);
  });
});
