// Checks the file the two cross-process writers wrote (tests/cross, run by scripts/test-cross.sh):
// every node and edge of both is there, the counts are exact (nodes, edges, vectors, history rows),
// neither writer surfaced an error (busy included), the writes interleaved, integrity_check is ok.
// Usage: node check.mjs DB PY_JSON JS_JSON BATCHES CLI. Prints the one-line figure; exits 1 on a
// failed check.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const resonance = createRequire(import.meta.url)(path.join(here, '..', '..', 'node'));
const [dbPath, pyJson, jsJson, batchesArg, cli] = process.argv.slice(2);
const batches = Number(batchesArg);
const NODES = 5;
const EDGES = 5;
const failures = [];
const check = (ok, what) => {
  if (!ok) failures.push(what);
};

const report = (file) => {
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  try {
    return JSON.parse(lines[lines.length - 1]);
  } catch {
    failures.push(`${file}: no report line: ${lines.slice(-5).join(' | ')}`);
    return { errors: ['no report'] };
  }
};
const writers = { py: report(pyJson), js: report(jsJson) };
for (const [w, r] of Object.entries(writers)) {
  check(r.errors?.length === 0, `${w} writer errors: ${JSON.stringify(r.errors ?? r.error)}`);
  check(r.nodes === batches * NODES, `${w} writer wrote ${r.nodes} nodes, expected ${batches * NODES}`);
  check(r.edges === batches * EDGES, `${w} writer added ${r.edges} edges, expected ${batches * EDGES}`);
  check(r.shared === batches, `${w} writer upserted the shared node ${r.shared} times, expected ${batches}`);
}

const sql = (q) => execFileSync(cli, ['sql', '--raw', '--json', dbPath, q], { maxBuffer: 256 << 20 }).toString().trim().split('\n')
  .filter(Boolean).map((l) => JSON.parse(l));

const db = resonance.openSync(dbPath, { readOnly: true });
const stats = db.statsSync();
const nodeIds = new Set(sql('SELECT id FROM nodes').map((r) => r.id));
const edgeKeys = new Set(sql('SELECT source, target, type FROM edges').map((r) => `${r.source}|${r.target}|${r.type}`));
let missingNodes = 0;
let missingEdges = 0;
for (const w of ['py', 'js']) {
  for (let b = 0; b < batches; b++) {
    for (let i = 0; i < NODES; i++) {
      if (!nodeIds.has(`${w}-${b}-${i}`)) missingNodes += 1;
      const target = i + 1 < NODES ? `${w}-${b}-${i + 1}` : `${w}-${Math.max(b - 1, 0)}-0`;
      if (!edgeKeys.has(`${w}-${b}-${i}|${target}|cross`)) missingEdges += 1;
    }
  }
}
const wantNodes = 2 * batches * NODES + 1;
const wantEdges = 2 * batches * EDGES;
const wantHistory = 2 * batches * (NODES + EDGES + 1);
check(missingNodes === 0, `${missingNodes} nodes missing`);
check(missingEdges === 0, `${missingEdges} edges missing`);
check(stats.nodes === wantNodes, `${stats.nodes} nodes, expected ${wantNodes}`);
check(stats.edges === wantEdges, `${stats.edges} edges, expected ${wantEdges}`);
check(stats.vectors === 2 * batches * NODES, `${stats.vectors} vectors, expected ${2 * batches * NODES}`);
check(stats.history === wantHistory, `${stats.history} history rows, expected ${wantHistory}`);
check(stats.danglingEdges === 0, `${stats.danglingEdges} dangling edges`);
check(db.history('shared').length === 2 * batches, `the shared node has ${db.history('shared').length} history rows, expected ${2 * batches}`);
// Both writers' vectors are searchable through one matrix of one dimension.
const hits = db.searchSync(new Float32Array(8).fill(1), { k: 2 * batches * NODES, minScore: -1 });
check(hits.length === 2 * batches * NODES, `search saw ${hits.length} vectors`);
db.close();

// Contention: the writers' time windows overlap, and their commits interleave (history row order).
const order = sql("SELECT substr(entity_id, 1, 3) AS w, json_extract(new_value, '$.title') AS t FROM history ORDER BY id")
  .map((r) => (r.w === 'sha' ? r.t.slice(0, 2) : r.w.slice(0, 2)));
let switches = 0;
for (let i = 1; i < order.length; i++) if (order[i] !== order[i - 1]) switches += 1;
const overlapMs = Math.min(writers.py.end_ms, writers.js.end_ms) - Math.max(writers.py.start_ms, writers.js.start_ms);
check(switches >= 10, `only ${switches} switches between the writers in commit order: no contention`);
check(overlapMs > 0, `the writers did not overlap in time (${overlapMs.toFixed(0)} ms)`);

const integrity = sql('PRAGMA integrity_check').map((r) => r.integrity_check).join('; ');
check(integrity === 'ok', `integrity_check: ${integrity}`);

const spanMs = Math.max(writers.py.end_ms, writers.js.end_ms) - Math.min(writers.py.start_ms, writers.js.start_ms);
const busy = [...(writers.py.errors ?? []), ...(writers.js.errors ?? [])].filter((e) => /busy/.test(e)).length;
console.log(`cross writers: python + node, ${batches} batches each on one fresh file in ${(spanMs / 1000).toFixed(1)} s `
  + `(overlap ${(overlapMs / 1000).toFixed(1)} s, ${switches} writer switches in commit order): ${stats.nodes} nodes, `
  + `${stats.edges} edges, ${stats.vectors} vectors, ${stats.history} history rows, all exact; ${busy} busy errors; `
  + `integrity_check ${integrity}`);
if (failures.length) {
  for (const f of failures) console.error(`FAILED: ${f}`);
  process.exit(1);
}
