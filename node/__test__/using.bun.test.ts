// Bun only (Node 20 cannot parse `using`): `using db = openSync(...)` closes the handle at the end of
// the block through `Symbol.dispose`.
import { test, expect } from 'bun:test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openSync, type Database } from '../resonance.js';

test('using closes the handle at the end of the block', () => {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'resonance-using-')), 'u.db');
  let escaped: Database | undefined;
  {
    using db = openSync(file);
    db.upsertNode({ id: 'a' });
    escaped = db;
    expect(db.closed).toBe(false);
  }
  expect(escaped.closed).toBe(true);
  expect(() => escaped!.statsSync()).toThrow(expect.objectContaining({ code: 'closed' }));
  using again = openSync(file);
  expect(again.getNodeSync('a')?.id).toBe('a');
});
