// The Node writer of scripts/test-replication.sh (as writer.py): node writer.mjs DB ACKS SECONDS.
// One batch every 20 ms, each one transaction of NODES nodes with embeddings and EDGES edges; after
// the commit returns, "js-<batch> <unix ms>" is appended to ACKS.
import { appendFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const resonance = createRequire(import.meta.url)(path.join(here, '..', '..', 'node'));

const NODES = 5;
const EDGES = 4;
const DIM = 16;
const [dbPath, acks, secondsArg] = process.argv.slice(2);
const end = Date.now() + Number(secondsArg) * 1000;

let seed = 5;
const rand = () => {
  seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0;
  return seed / 0x100000000;
};
const db = resonance.openSync(dbPath, { externalReplicator: true });
let b = 0;
try {
  while (Date.now() < end) {
    const ids = Array.from({ length: NODES }, (_, i) => `js-${b}-${i}`);
    db.transaction(() => {
      for (const id of ids) {
        db.upsertNode({ id, type: 'repl', domain: 'js', meta: { batch: b },
          embedding: Float32Array.from({ length: DIM }, () => rand() - 0.45) });
      }
      for (let i = 0; i < EDGES; i++) db.addEdge({ source: ids[i], target: ids[i + 1], type: 'next' });
    });
    appendFileSync(acks, `js-${b} ${Date.now()}\n`);
    b += 1;
    await new Promise((r) => setTimeout(r, 20));
  }
} finally {
  db.close();
}
console.log(`js writer: ${b} batches`);
