// Stats history and validation through the Node binding (docs/stats.md). Runs under `node --test`
// and `bun test`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { resonance, tempDir, expectCode } from './helpers.mjs';

test('record, read back, keep and judge', async () => {
  const db = resonance.openSync(path.join(tempDir(), 's.db'));
  try {
    const empty = db.validateStatsSync();
    assert.deepEqual(empty.errors.map((f) => f.code), ['empty_database']);
    assert.equal(empty.snapshot.id, undefined); // the live counts: no row id
    db.upsertNode({ id: 'a', embedding: [1, 0] });
    db.upsertNode({ id: 'b', embedding: [0, 1] });
    db.addEdge({ source: 'a', target: 'b' });
    const s = await db.recordStats({ label: 'first', meta: { run: 1 } });
    assert.equal(s.nodes, 2);
    assert.equal(s.dimension, 2);
    assert.equal(s.label, 'first');
    assert.equal(s.meta, '{"run":1}');
    db.recordStatsSync({ metaJson: '{"run": 2}' });
    const v = await db.validateStats();
    assert.deepEqual(v.warnings.map((f) => f.code), ['no_growth']);
    assert.equal(v.passed, true);
    assert.deepEqual(db.validateStatsSync({ warnNoGrowth: false }).warnings, []);
    assert.equal((await db.health()).stats.warnings[0].code, 'no_growth');
    for (let i = 0; i < 4; i++) db.recordStatsSync({ label: `k${i}`, keep: 2 });
    assert.deepEqual(db.statsHistory().map((h) => h.label), ['k3', 'k2']);
    assert.equal(db.statsHistory(1).length, 1);
  } finally {
    db.close();
  }
});

test('bad input is a typed error and writes nothing', async () => {
  const db = resonance.openSync(path.join(tempDir(), 'b.db'));
  try {
    db.recordStatsSync();
    await expectCode(() => db.recordStatsSync({ label: 'x'.repeat(10 * 1024 * 1024) }), 'invalid_argument', assert);
    await expectCode(() => db.recordStatsSync({ metaJson: '{not json' }), 'invalid_argument', assert);
    await expectCode(() => db.recordStats({ keep: 0 }), 'invalid_argument', assert);
    await expectCode(() => db.validateStatsSync({ maxShrinkRatio: 2 }), 'invalid_argument', assert);
    assert.equal(db.statsHistory().length, 1);
  } finally {
    db.close();
  }
});

test('a read-only handle reads the history and refuses to record', async () => {
  const file = path.join(tempDir(), 'r.db');
  const db = resonance.openSync(file);
  db.recordStatsSync({ label: 'rw' });
  db.close();
  const ro = resonance.openSync(file, { readOnly: true });
  try {
    await expectCode(() => ro.recordStatsSync(), 'readonly', assert);
    assert.deepEqual(ro.statsHistory(5).map((h) => h.label), ['rw']);
  } finally {
    ro.close();
  }
});

test('externalReplicator refuses a truncate checkpoint', () => {
  const db = resonance.openSync(path.join(tempDir(), 'x.db'), { externalReplicator: true });
  try {
    assert.throws(() => db.checkpoint('truncate'), (e) => e.code === 'invalid_argument');
    db.checkpoint('passive');
  } finally {
    db.close();
  }
});
