// The application-SQL typings (resonance.d.ts: Database.prepare, Statement and its modes) as a program
// `tsc --noEmit --strict` must accept; the @ts-expect-error lines must fail to type-check.
import { openSync, Statement, type StatementColumn, type StatementRunResult, type AppMigrationReport, type AppMigrationStatus } from '../resonance.js';

interface User {
  id: number;
  email: string | null;
}

async function sqlUsage(): Promise<void> {
  const db = openSync('app.db', { allowEngineWrites: false, statementCacheSize: 256, appMigrations: { app: 'migrations' } });
  const same: typeof db = db.exec('CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, email TEXT)');
  const ins = db.prepare('INSERT INTO users (email) VALUES (?)');
  const r: StatementRunResult = ins.run('a@b.c');
  const changes: number = r.changes;
  const rowid: number | bigint = r.lastInsertRowid;

  const byId = db.prepare<User>('SELECT id, email FROM users WHERE id = ?');
  const u: User | undefined = byId.get(1);
  const all: User[] = byId.all([1]);
  const named: User | undefined = db.prepare<User>('SELECT id, email FROM users WHERE id = :id').get({ id: 1 });
  const email: string | null | undefined = u?.email;
  for (const row of byId.iterate(1)) {
    const id: number = row.id;
    void id;
  }
  const plucked: number | string | null | undefined = byId.pluck().get(1);
  const raw: (number | string | null)[][] = byId.raw().all(1);
  const safe: number | bigint | string | null | undefined = byId.safeIntegers().pluck().get(1);
  const safeRow = db.prepare<User>('SELECT id, email FROM users').safeIntegers().get();
  const safeId: number | bigint | undefined = safeRow?.id;
  const back: User | undefined = byId.raw().raw(false).safeIntegers(false).get(1);
  const cols: StatementColumn[] = byId.columns();
  const bound: Statement<User> = byId.bind(1);
  const flags: [boolean, boolean, string] = [bound.reader, bound.readonly, bound.source];
  const later: User[] = await byId.allAsync(1);
  const one: User | undefined = await byId.getAsync(1);
  const ran: StatementRunResult = await ins.runAsync(Buffer.from([1]));
  const generic = db.prepare('SELECT 1 AS x').get();
  const x: unknown = generic?.['x'];

  const report: AppMigrationReport = await db.migrateApp('app', [{ version: 1, name: 'users', up: 'CREATE TABLE users (id INTEGER PRIMARY KEY)', down: 'DROP TABLE users' }], { dryRun: true, backup: false, to: 1 });
  const status: AppMigrationStatus = db.appMigrationStatus('app', 'migrations');
  const n: number = db.transaction(() => ins.run(null, 1n, true, new Uint8Array(1)).changes);

  // @ts-expect-error a plucked row is not an object
  const wrong: User | undefined = byId.pluck().get(1);
  // @ts-expect-error in safe mode an INTEGER may be a bigint
  const unsafe: number | undefined = db.prepare<User>('SELECT id FROM users').safeIntegers().get()?.id;
  // @ts-expect-error objects are not SQL values (one plain object is the named parameters)
  ins.run({ a: 1 }, 2);
  // @ts-expect-error a statement's rows are not a Promise
  void byId.all(1).then;
  console.log(same, changes, rowid, u, all, named, email, plucked, raw, safe, safeId, back, cols, flags, later, one, ran, x, report, status, n, wrong, unsafe);
  db.close();
}

declare const console: { log(...args: unknown[]): void };
declare const Buffer: { from(a: number[]): Uint8Array };
void sqlUsage();
