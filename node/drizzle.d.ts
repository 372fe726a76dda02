// Types of `resonance/drizzle` (drizzle.js): a Drizzle ORM driver over a Resonance handle.
import type { DrizzleConfig } from 'drizzle-orm'
import type { BaseSQLiteDatabase } from 'drizzle-orm/sqlite-core'
import type { AppMigrateOptions, AppMigrationReport, Database } from './index'
import type { StatementRunResult } from './resonance'

/** A Drizzle database over a Resonance handle (synchronous, like the better-sqlite3 driver);
 *  `$client` is the handle. */
export type ResonanceDrizzleDatabase<TSchema extends Record<string, unknown> = Record<string, never>> =
  BaseSQLiteDatabase<'sync', StatementRunResult, TSchema> & { $client: Database }

/** A Drizzle database over an open Resonance handle. */
export declare function drizzle<TSchema extends Record<string, unknown> = Record<string, never>>(
  client: Database,
  config?: DrizzleConfig<TSchema>,
): ResonanceDrizzleDatabase<TSchema>
export declare function drizzle<TSchema extends Record<string, unknown> = Record<string, never>>(
  config: DrizzleConfig<TSchema> & { client: Database },
): ResonanceDrizzleDatabase<TSchema>

/** Where the migrations are and how they run (the engine's application-migration options). */
export interface MigrationConfig extends AppMigrateOptions {
  /** A drizzle-kit output folder (`meta/_journal.json` and the `.sql` files). */
  migrationsFolder: string
  /** The namespace of the engine's application-migration ledger (default `"drizzle"`). */
  namespace?: string
}

/** Applies a drizzle-kit migrations folder as the engine's application migrations. */
export declare function migrate(
  db: ResonanceDrizzleDatabase<any>,
  config: MigrationConfig | string,
): AppMigrationReport
