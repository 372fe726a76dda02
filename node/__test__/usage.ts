// A small typed program against the committed index.d.ts: `tsc --noEmit -p __test__` must accept it.
// (Type-checked only; the runtime behaviour is tested by the .mjs files.)
import {
  open,
  openSync,
  generateId,
  errorCodes,
  Database,
  type Node,
  type NodeInput,
  type Hit,
  type BatchResult,
  type HealthReport,
  type Stats,
} from '../resonance.js';

// No @types/node here: the addon's typings must stand on their own.
declare const console: { log(...args: unknown[]): void };

interface CodedError extends Error {
  code: string;
}

async function main(): Promise<void> {
  const db: Database = await open('memory/.amalfa/resonance.db', { busyTimeoutMs: 5000, migrate: true });
  const stats: Stats = db.statsSync();
  const dim: number | null = stats.dimension;

  const input: NodeInput = { id: generateId('./docs/README.md'), type: 'note', meta: { tags: ['a'] }, embedding: new Float32Array(384) };
  db.upsertNode(input);
  const written: number = await db.upsertNodes([input, { id: 'b', embedding: [0.1, 0.2] }]);

  const node: Node | null = db.getNodeSync(input.id, true);
  if (node !== null) {
    const meta: unknown = node.meta;
    const v: Float32Array | null = node.embedding;
    const t: string | null = node.type;
    console.log(meta, v?.length, t);
  }
  const later: Node | null = await db.getNode('b');

  const hits: Hit[] = await db.search(new Float32Array(384), { k: 5, minScore: 0.1, domain: 'knowledge' });
  const first: string | undefined = hits[0]?.id;
  const same: Hit[] = db.searchSync([1, 0, 0]);
  const batch: BatchResult = await db.searchBatch([new Float32Array(384)], { k: 3 });
  const scores: Float32Array | undefined = batch.scores[0];

  const n: number = db.transaction(() => {
    db.addEdge({ source: 'a', target: 'b', type: 'cites', confidence: 0.5 });
    return 1;
  });

  const pr: Record<string, number> = await db.pagerank({ alpha: 0.85 });
  const ac = new AbortController();
  const pairs = await db.linkCandidates(10, { signal: ac.signal });
  const upserted: number = await db.upsertNodes([{ id: 'x', meta: { at: new Date() } }], { signal: ac.signal });
  const inTx: number = db.transaction(() => db.upsertNodesSync([{ id: 'y' }]) + db.addEdgesSync([]));
  db.interrupt();
  const comm = await db.communities({ seed: 1 });
  const m: number = comm.modularity;
  const health: HealthReport = await db.health();
  const journal: string = health.journalMode;
  const plan = await db.migrate({ dryRun: true });
  const ids: string[] = plan.steps.map((s) => s.id);
  const path: string = await db.backup();
  const kinds: string[] = errorCodes();

  try {
    db.deleteNode('nope');
  } catch (e) {
    const code: string = (e as CodedError).code;
    console.log(code);
  }
  console.log(dim, written, later, first, same, scores, n, pr, m, journal, ids, path, kinds);
  // @ts-expect-error a query is a Float32Array or an array of numbers, not text
  void db.search('text');
  // @ts-expect-error getNodeSync is synchronous: its result is not a Promise
  void db.getNodeSync('a').then;
  // @ts-expect-error nodes need an id
  db.upsertNode({ title: 'no id' });
  db.close();

  {
    using scoped = openSync('other.db', { readOnly: false });
    scoped.upsertNode({ id: 'x' });
  }
}

void main();
