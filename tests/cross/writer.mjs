// One of the two cross-process writers (tests/cross, run by scripts/test-cross.sh): the Node one.
//
// Usage: node writer.mjs DB WORKDIR BATCHES. Loads the addon, signals readiness (WORKDIR/ready.js),
// waits for WORKDIR/go, then opens DB (the fresh file the Python writer opens at the same moment) and
// writes BATCHES batches, the first half back to back, the second 2 ms apart (as writer.py). Even
// batches are one transaction(fn) of synchronous calls (upsertNode ×5 with embeddings, addEdge ×5,
// the shared node); odd ones go through the Promise API (upsertNodes, addEdges, then the shared
// node), each call its own transaction. Any error, busy included, is counted and ends the run with
// exit status 1. Prints one JSON line: counts, errors, start and end times.
import { existsSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const resonance = createRequire(import.meta.url)(path.join(here, '..', '..', 'node'));

const NODES = 5;
const EDGES = 5;
const DIM = 8;
const PAUSE_MS = 2; // between the batches of the second half, outside the transaction
const [dbPath, work, batchesArg] = process.argv.slice(2);
const batches = Number(batchesArg);
const name = 'js';

writeFileSync(path.join(work, `ready.${name}`), '');
const deadline = Date.now() + 60_000;
while (!existsSync(path.join(work, 'go'))) {
  if (Date.now() > deadline) {
    console.log(JSON.stringify({ writer: name, error: 'no go signal within 60 s' }));
    process.exit(1);
  }
  await new Promise((r) => setTimeout(r, 1));
}

let seed = 7;
const rand = () => {
  seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0;
  return seed / 0x100000000;
};
const t0 = Date.now();
const errors = [];
let nodes = 0;
let edges = 0;
let shared = 0;
const db = await resonance.open(dbPath);
try {
  for (let b = 0; b < batches; b++) {
    const ids = Array.from({ length: NODES }, (_, i) => `${name}-${b}-${i}`);
    const batchNodes = ids.map((id) => ({
      id, type: 'cross', domain: name, meta: { batch: b },
      embedding: Float32Array.from({ length: DIM }, () => rand() - 0.4),
    }));
    const batchEdges = Array.from({ length: EDGES }, (_, i) => ({
      source: ids[i], target: i + 1 < NODES ? ids[i + 1] : `${name}-${Math.max(b - 1, 0)}-0`,
      type: 'cross', confidence: 0.5, contextSource: name,
    }));
    const sharedNode = { id: 'shared', type: 'cross', title: `${name} batch ${b}` };
    try {
      if (b % 2 === 0) {
        db.transaction(() => {
          for (const n of batchNodes) db.upsertNode(n);
          nodes += NODES;
          for (const e of batchEdges) if (db.addEdge(e)) edges += 1;
          db.upsertNode(sharedNode);
          shared += 1;
        });
      } else {
        nodes += await db.upsertNodes(batchNodes);
        edges += await db.addEdges(batchEdges);
        db.upsertNode(sharedNode);
        shared += 1;
      }
    } catch (e) {
      errors.push(`batch ${b}: ${e.code}: ${e.message}`);
    }
    if (b >= batches / 2) await new Promise((r) => setTimeout(r, PAUSE_MS));
  }
} finally {
  db.close();
}
console.log(JSON.stringify({ writer: name, batches, nodes, edges, shared, errors, start_ms: t0, end_ms: Date.now() }));
process.exit(errors.length ? 1 : 0);
