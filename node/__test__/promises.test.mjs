// Promise calls and the handle's transaction and life cycle: a Promise call made while a transaction
// is open on the handle is refused (it would run on a worker thread and commit outside the
// transaction), the synchronous forms join the transaction, and close() lets every Promise call
// started before it finish. Runs unchanged under `node --test` and `bun test`.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { resonance, tempDir, expectCode } from './helpers.mjs';

const V = (...xs) => new Float32Array(xs);
const tick = () => new Promise((r) => setTimeout(r, 50));

// Every Promise-returning method of a handle, with arguments it accepts, and the synchronous form
// the refusal names ('' when there is none).
const PROMISE_CALLS = [
  ['upsertNodes', (db) => db.upsertNodes([{ id: 'p1' }]), 'upsertNodesSync'],
  ['addEdges', (db) => db.addEdges([{ source: 'a', target: 'b', type: 'p' }]), 'addEdgesSync'],
  ['getNode', (db) => db.getNode('a'), 'getNodeSync'],
  ['stats', (db) => db.stats(), 'statsSync'],
  ['search', (db) => db.search(V(1, 0)), 'searchSync'],
  ['searchLike', (db) => db.searchLike('a'), ''],
  ['searchBatch', (db) => db.searchBatch([V(1, 0)]), ''],
  ['pagerank', (db) => db.pagerank(), ''],
  ['betweenness', (db) => db.betweenness(), ''],
  ['communities', (db) => db.communities(), ''],
  ['components', (db) => db.components(), ''],
  ['linkCandidates', (db) => db.linkCandidates(), ''],
  ['pillars', (db) => db.pillars(), ''],
  ['health', (db) => db.health(), ''],
  ['migrate', (db) => db.migrate({ dryRun: true }), ''],
  ['backup', (db) => db.backup(path.join(tempDir(), 'b.db')), ''],
  ['vacuum', (db) => db.vacuum(), ''],
];

describe('Promise calls inside a transaction', () => {
  let db;
  before(() => {
    db = resonance.openSync(path.join(tempDir(), 'ptx.db'));
    db.upsertNode({ id: 'a', embedding: V(1, 0) });
    db.upsertNode({ id: 'b', embedding: V(0, 1) });
    db.addEdge({ source: 'a', target: 'b' });
  });
  after(() => db.close());

  test('upsertNodes() inside transaction(fn) that rolls back is refused and commits nothing', async () => {
    let pending;
    const boom = new Error('roll back');
    assert.throws(() => db.transaction(() => {
      pending = db.upsertNodes([{ id: 'inside' }]);
      pending.catch(() => {}); // awaited below
      throw boom;
    }), (e) => e === boom);
    const err = await expectCode(() => pending, 'invalid_argument', assert);
    assert.match(err.message, /upsertNodes/);
    assert.match(err.message, /upsertNodesSync/);
    await tick();
    assert.equal(db.getNodeSync('inside'), null);
    assert.equal(db.inTransaction, false);
  });

  test('upsertNodes() after begin() is refused; the transaction stays usable and commits its own writes', async () => {
    db.begin();
    const pending = db.upsertNodes([{ id: 'refused' }]);
    await expectCode(() => pending, 'invalid_argument', assert);
    assert.equal(db.inTransaction, true);
    db.upsertNode({ id: 'joined' });
    db.commit();
    await tick();
    assert.equal(db.getNodeSync('refused'), null);
    assert.notEqual(db.getNodeSync('joined'), null);
    db.deleteNode('joined');
  });

  for (const [name, call, sync] of PROMISE_CALLS) {
    test(`${name}() inside transaction(fn) rejects with invalid_argument naming ${sync || 'no Sync form'}`, async () => {
      let pending;
      db.transaction(() => {
        pending = call(db);
        pending.catch(() => {});
      });
      assert.ok(pending instanceof Promise, `${name} returns a Promise`);
      const err = await expectCode(() => pending, 'invalid_argument', assert);
      assert.match(err.message, new RegExp(`${name}\\(\\)`));
      if (sync) assert.match(err.message, new RegExp(sync));
      // Outside the transaction the same call works.
      await call(db);
    });
  }

  test('upsertNodesSync / addEdgesSync join the transaction (rolled back with it, committed with it)', () => {
    assert.throws(() => db.transaction(() => {
      assert.equal(db.upsertNodesSync([{ id: 's1' }, { id: 's2' }]), 2);
      assert.equal(db.addEdgesSync([{ source: 's1', target: 's2' }]), 1);
      throw new Error('undo');
    }), /undo/);
    assert.equal(db.getNodeSync('s1'), null);
    assert.deepEqual(db.edgesFrom('s1'), []);
    db.transaction(() => {
      db.upsertNodesSync([{ id: 's1' }, { id: 's2' }]);
      db.addEdgesSync([{ source: 's1', target: 's2' }]);
    });
    assert.notEqual(db.getNodeSync('s2'), null);
    assert.equal(db.edgesFrom('s1').length, 1);
    assert.equal(db.addEdgesSync([{ source: 's1', target: 's2' }]), 0);
  });

  test('a Promise call started before the transaction still runs, on its own', async () => {
    const pending = db.upsertNodes([{ id: 'before' }]);
    db.transaction(() => db.upsertNode({ id: 'during' }));
    assert.equal(await pending, 1);
    assert.notEqual(db.getNodeSync('before'), null);
  });
});

describe('close() while Promise calls are pending', () => {
  const ROUNDS = 200;

  test(`every pending call started before close() finishes (${ROUNDS} rounds, same outcome each time)`, { timeout: 300_000 }, async () => {
    const file = path.join(tempDir(), 'close.db');
    const outcomes = new Map();
    for (let i = 0; i < ROUNDS; i++) {
      const db = resonance.openSync(file);
      if (i === 0) db.upsertNode({ id: 'seed', embedding: V(1, 0) });
      const calls = [
        db.upsertNodes([{ id: `n${i}`, embedding: V(1, i + 1) }]),
        db.search(V(1, 0), { k: 1 }),
        db.getNode('seed'),
        db.stats(),
      ];
      db.close();
      assert.equal(db.closed, true);
      const settled = await Promise.allSettled(calls);
      const shape = settled.map((s) => (s.status === 'fulfilled' ? 'ok' : `rejected:${s.reason?.code}`)).join(',');
      outcomes.set(shape, (outcomes.get(shape) ?? 0) + 1);
      assert.equal(settled[0].value, 1);
    }
    console.log('close() while pending, outcomes:', Object.fromEntries(outcomes));
    assert.deepEqual([...outcomes.keys()], ['ok,ok,ok,ok']);
    const db = resonance.openSync(file);
    assert.equal(db.statsSync().nodes, ROUNDS + 1);
    db.close();
  });

  test('a call made after close() rejects with closed', async () => {
    const db = resonance.openSync(path.join(tempDir(), 'closed.db'));
    db.close();
    await expectCode(() => db.upsertNodes([{ id: 'x' }]), 'closed', assert);
    await expectCode(() => db.search(V(1, 0)), 'closed', assert);
  });

  test('close() with a transaction open rolls it back; a Promise started before begin() still finishes', async () => {
    const file = path.join(tempDir(), 'closetx.db');
    const db = resonance.openSync(file);
    const pending = db.upsertNodes([{ id: 'early' }]);
    db.begin();
    db.upsertNode({ id: 'uncommitted' });
    db.close();
    assert.equal(await pending, 1);
    const again = resonance.openSync(file);
    assert.notEqual(again.getNodeSync('early'), null);
    assert.equal(again.getNodeSync('uncommitted'), null);
    again.close();
  });
});
