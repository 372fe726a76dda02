// The `vectorMemory` open option (docs/vectors.md, "Bounded memory"): a handle that keeps only the
// int8 codes answers as one that keeps the f32 matrix. Runs under `node --test` and `bun test`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { resonance, tempDir, expectCode } from './helpers.mjs';

function rng(seed) {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648 - 0.5;
  };
}

test('vectorMemory codes gives the matrix results', async () => {
  const file = path.join(tempDir(), 'm.db');
  const r = rng(9);
  const vec = () => Array.from({ length: 32 }, r);
  const w = resonance.openSync(file);
  w.upsertNodesSync(Array.from({ length: 5000 }, (_, i) => ({
    id: `n${String(i).padStart(5, '0')}`,
    domain: i % 2 ? 'a' : 'b',
    embedding: vec(),
  })));
  w.close();
  const m = resonance.openSync(file, { vectorMemory: 'matrix' });
  const c = resonance.openSync(file, { vectorMemory: 'codes' });
  try {
    const queries = [vec(), vec(), vec()];
    for (const q of queries) {
      assert.deepEqual(c.searchSync(q, { k: 15 }), m.searchSync(q, { k: 15 }));
      const o = { k: 5, domain: 'b', minScore: -1 };
      assert.deepEqual(c.searchSync(q, o), m.searchSync(q, o));
    }
    assert.deepEqual(await c.searchBatch(queries, { k: 4 }), await m.searchBatch(queries, { k: 4 }));
    assert.deepEqual(await c.searchLike('n00042'), await m.searchLike('n00042'));
    assert.equal(c.vectorIndexInfo().memory, 'codes');
    assert.equal(m.vectorIndexInfo().memory, 'matrix');
  } finally {
    m.close();
    c.close();
  }
  await expectCode(() => resonance.openSync(file, { vectorMemory: 'f16' }), 'invalid_argument', assert);
});
