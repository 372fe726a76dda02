// The `resonance/amalfa` typings (amalfa.d.ts) as a program `tsc --noEmit --strict` must accept;
// the @ts-expect-error lines must fail to type-check.
import { ResonanceDB, VectorEngine, DatabaseFactory, connectToResonance, performHealthCheck, type VectorHit, type HealthCheckError, type AmalfaNode, type AmalfaStats, type LexiconEntry, type AmalfaEdge } from '../amalfa.js';
import type { Database, StatementRunResult } from '../resonance.js';

function amalfaUsage(): void {
  const db = new ResonanceDB('memory/.amalfa/resonance.db');
  db.insertNode({ id: 'n1', type: 'note', label: 'First', embedding: new Float32Array([1, 0]), meta: { a: 1 } });
  db.insertNode({ id: 'n2' });
  const n: AmalfaNode | null = db.getNode('n1');
  const label: string | null | undefined = n?.label;
  const emb: Float32Array | undefined = n?.embedding;
  const nodes: AmalfaNode[] = db.getNodes({ domain: 'knowledge', type: 'note', limit: 10, offset: 0, excludeContent: true });
  const byType: AmalfaNode[] = db.getNodesByType('note');
  const hash: string | null = db.getNodeHash('n1');
  db.updateNodeMeta('n1', { semantic_tokens: [] });
  db.updateNodeDate('n1', '2026-01-01');
  db.updateNodeDate('n1', new Date());
  const added: boolean = db.insertEdge('n1', 'n2');
  db.insertEdge('n1', 'n2', 'cites');
  db.insertSemanticEdge('n1', 'n2', 'supports');
  db.insertSemanticEdge('n1', 'n2', 'supports', 0.5, 0.9, 'doc.md');
  const edges: AmalfaEdge[] = db.getEdges('n1');
  const stats: AmalfaStats = db.getStats();
  const tokens: number = stats.semantic_tokens;
  const lexicon: LexiconEntry[] = db.getLexicon();
  db.beginTransaction();
  db.rollback();
  db.beginTransaction();
  db.commit();
  db.checkpoint();
  db.checkpoint('truncate');
  const id: string = db.generateId('a.md') + ResonanceDB.generateId('b.md');
  const handle: Database = db.resonance;
  const raw = db.getRawDb();
  const row = raw.prepare<{ id: string; title: string | null }>('SELECT id, title FROM nodes WHERE id = $id').get({ $id: 'n1' });
  const title: string | null | undefined = row?.title;
  const all: { n: number }[] = raw.query<{ n: number }>('SELECT count(*) AS n FROM nodes').all();
  const res: StatementRunResult = raw.run('UPDATE nodes SET title = ? WHERE id = ?', 't', 'n1');
  raw.prepare('SELECT 1').run();
  void [label, emb, nodes, byType, hash, added, edges, tokens, lexicon, id, handle, title, all, res];
  // @ts-expect-error label is a string
  db.insertNode({ id: 'x', label: 1 });
  // @ts-expect-error an id is needed
  db.insertNode({ label: 'x' });
  // @ts-expect-error getNode may return null
  const bad: AmalfaNode = db.getNode('n1');
  void bad;
  // @ts-expect-error the constructor takes a path
  new ResonanceDB();
  db.close();
}
async function helpersUsage(): Promise<void> {
  const raw = DatabaseFactory.connect('a.db', { readonly: true });
  const raw2 = connectToResonance('a.db');
  const hits: VectorHit[] = new VectorEngine(raw).searchByVector(new Float32Array(3), 5);
  const title: string | null | undefined = hits[0]?.title;
  const ok: { status: 'Healthy'; mode: string } = await performHealthCheck(new ResonanceDB('a.db'));
  await performHealthCheck(raw2.resonance).catch((e: HealthCheckError) => e.problems);
  void [title, ok];
  raw.close();
}
void amalfaUsage;
void helpersUsage;
