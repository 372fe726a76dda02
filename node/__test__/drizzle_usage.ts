// The `resonance/drizzle` typings (drizzle.d.ts) as a program `tsc --noEmit --strict` must accept;
// the @ts-expect-error lines must fail to type-check.
import { eq } from 'drizzle-orm';
import { sqliteTable, integer, text } from 'drizzle-orm/sqlite-core';
import { openSync, type AppMigrationReport } from '../resonance.js';
import { drizzle, migrate, type ResonanceDrizzleDatabase } from '../drizzle.js';

const users = sqliteTable('users', {
  id: integer('id').primaryKey(),
  email: text('email').notNull(),
});
const schema = { users };

function drizzleUsage(): void {
  const client = openSync('app.db');
  const db: ResonanceDrizzleDatabase<typeof schema> = drizzle(client, { schema });
  const report: AppMigrationReport = migrate(db, { migrationsFolder: 'drizzle', namespace: 'app', backup: false });
  void report;
  const rows: { id: number; email: string }[] = db.select().from(users).where(eq(users.id, 1)).all();
  const one: { id: number; email: string } | undefined = db.query.users.findFirst({ where: eq(users.email, 'a') }).sync();
  const changes: number = db.insert(users).values({ email: 'a' }).run().changes;
  const other = drizzle({ client, schema });
  other.transaction((tx) => {
    tx.delete(users).run();
  });
  const sameClient: typeof client = db.$client;
  void rows; void one; void changes; void sameClient;
  // @ts-expect-error: the client is a Resonance handle, nothing else
  drizzle('app.db');
  // @ts-expect-error: a migrations folder is required
  migrate(db, { namespace: 'app' });
}
void drizzleUsage;
