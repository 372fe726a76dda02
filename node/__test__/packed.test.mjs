// getNodeSync's fast path (one packed string across N-API, unpacked by the package entry by the
// layout the addon states) gives exactly what the native conversion of getNode gives, for every
// field: absent (null), empty, non-ASCII, emoji (surrogate pairs), NUL, long. Runs under
// `node --test` and `bun test`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { resonance, tempDir } from './helpers.mjs';

const FIELDS = ['type', 'title', 'domain', 'layer', 'hash', 'summary', 'date'];
const VALUES = ['', 'plain', 'é ü ß — 中文', '😀 🧠 👩‍👩‍👧', 'a\u0000b\u0000', 'x'.repeat(70_000)];

test('every packed field round-trips as getNode reads it', async () => {
  const db = resonance.openSync(path.join(tempDir(), 'packed.db'));
  try {
    const nodes = [{ id: 'only-id' }];
    VALUES.forEach((v, i) => {
      const n = { id: `n${i}` };
      for (const f of FIELDS) n[f] = v;
      n.meta = { v, list: [v, null, 1] };
      nodes.push(n);
    });
    // Each field alone, the others absent: the lengths in the header must line up.
    FIELDS.forEach((f, i) => nodes.push({ id: `alone-${i}-😀`, [f]: VALUES[3] }));
    nodes.push({ id: 'meta-text', meta: '😀' });
    for (const n of nodes) db.upsertNode(n);
    for (const n of nodes) {
      const fast = db.getNodeSync(n.id);
      const native = await db.getNode(n.id);
      assert.deepEqual(fast, native, n.id);
      assert.deepEqual(Object.keys(fast), Object.keys(native), n.id);
      assert.equal(fast.id, n.id);
      for (const f of FIELDS) {
        const want = n[f] ?? (f === 'domain' ? 'knowledge' : f === 'layer' ? 'experience' : null);
        assert.equal(fast[f], want, `${n.id}.${f}`);
      }
      assert.deepEqual(fast.meta, n.meta ?? null, `${n.id}.meta`);
      assert.equal(fast.embedding, null);
    }
    assert.equal(db.getNodeSync('missing'), null);
  } finally {
    db.close();
  }
});
