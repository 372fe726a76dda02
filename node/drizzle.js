'use strict';
// `resonance/drizzle`: a Drizzle ORM driver over a Resonance handle (docs/node.md, "Drizzle").
// Synchronous like drizzle-orm's better-sqlite3 driver, whose session it follows: every query is a
// `db.prepare(sql)` Statement of the handle (compiled under the engine's authorizer, cached by its
// text in the connection's statement cache), a Drizzle transaction is the handle's
// `transaction(fn)` (so Resonance's own calls made inside it join it), and `migrate` applies a
// drizzle-kit migrations folder through the engine's application migrations (`migrateAppSync`:
// backup, one `BEGIN IMMEDIATE` per step with its ledger row, re-planned under the lock). drizzle-orm
// is a peer dependency. Nothing here decides what SQL may do: the core does.
const fs = require('node:fs');
const path = require('node:path');
const {
  entityKind,
  DefaultLogger,
  NoopLogger,
  createTableRelationsHelpers,
  extractTablesRelationalConfig,
  fillPlaceholders,
  mapResultRow,
} = require('drizzle-orm');
const { NoopCache } = require('drizzle-orm/cache/core');
const {
  BaseSQLiteDatabase,
  SQLiteSyncDialect,
  SQLiteSession,
  SQLiteTransaction,
  SQLitePreparedQuery,
} = require('drizzle-orm/sqlite-core');
const { readMigrationFiles } = require('drizzle-orm/migrator');
const { Database } = require('./resonance.js');

function argError(msg) {
  const e = new TypeError(msg);
  e.code = 'invalid_argument';
  return e;
}

class ResonancePreparedQuery extends SQLitePreparedQuery {
  static [entityKind] = 'ResonancePreparedQuery';

  constructor(stmt, query, logger, cache, queryMetadata, cacheConfig, fields, executeMethod, isResponseInArrayMode, customResultMapper) {
    super('sync', executeMethod, query, cache, queryMetadata, cacheConfig);
    this.stmt = stmt;
    this.logger = logger;
    this.fields = fields;
    this._isResponseInArrayMode = isResponseInArrayMode;
    this.customResultMapper = customResultMapper;
  }

  #params(placeholderValues) {
    const params = fillPlaceholders(this.query.params, placeholderValues ?? {});
    this.logger.logQuery(this.query.sql, params);
    return params;
  }

  run(placeholderValues) {
    return this.stmt.run(this.#params(placeholderValues));
  }

  all(placeholderValues) {
    const { fields, joinsNotNullableMap, stmt, customResultMapper } = this;
    if (!fields && !customResultMapper) return stmt.all(this.#params(placeholderValues));
    const rows = this.values(placeholderValues);
    if (customResultMapper) return customResultMapper(rows);
    return rows.map((row) => mapResultRow(fields, row, joinsNotNullableMap));
  }

  get(placeholderValues) {
    const params = this.#params(placeholderValues);
    const { fields, stmt, joinsNotNullableMap, customResultMapper } = this;
    if (!fields && !customResultMapper) return stmt.get(params);
    const row = stmt.raw().get(params);
    if (!row) return undefined;
    if (customResultMapper) return customResultMapper([row]);
    return mapResultRow(fields, row, joinsNotNullableMap);
  }

  values(placeholderValues) {
    return this.stmt.raw().all(this.#params(placeholderValues));
  }

  /** @internal */
  isResponseInArrayMode() {
    return this._isResponseInArrayMode;
  }
}

class ResonanceSession extends SQLiteSession {
  static [entityKind] = 'ResonanceSession';

  constructor(client, dialect, schema, options = {}) {
    super(dialect);
    this.client = client;
    this.schema = schema;
    this.logger = options.logger ?? new NoopLogger();
    this.cache = options.cache ?? new NoopCache();
  }

  prepareQuery(query, fields, executeMethod, isResponseInArrayMode, customResultMapper, queryMetadata, cacheConfig) {
    const stmt = this.client.prepare(query.sql);
    return new ResonancePreparedQuery(stmt, query, this.logger, this.cache, queryMetadata, cacheConfig, fields, executeMethod, isResponseInArrayMode, customResultMapper);
  }

  // The handle's own transaction (always `BEGIN IMMEDIATE`: Drizzle's `behavior` option has nothing
  // to choose); it commits when `transaction` returns and rolls back when it throws.
  transaction(transaction, _config = {}) {
    const tx = new ResonanceTransaction('sync', this.dialect, this, this.schema);
    return this.client.transaction(() => transaction(tx));
  }
}

class ResonanceTransaction extends SQLiteTransaction {
  static [entityKind] = 'ResonanceTransaction';

  // Drizzle nests a transaction as a SAVEPOINT statement, which the engine refuses in application
  // SQL (the handle owns the transaction state): refused here, before anything runs.
  transaction(_transaction) {
    throw argError('resonance/drizzle: nested transactions (savepoints) are not supported; run the work in the outer transaction');
  }
}

class ResonanceDrizzleDatabase extends BaseSQLiteDatabase {
  static [entityKind] = 'ResonanceDrizzleDatabase';
}

/**
 * A Drizzle database over an open Resonance handle: `drizzle(db, { schema, logger, casing })`, or
 * `drizzle({ client: db, schema, … })`. `$client` is the handle.
 */
function drizzle(client, config) {
  if (client !== null && typeof client === 'object' && !(client instanceof Database) && client.client !== undefined) {
    const { client: c, ...rest } = client;
    return drizzle(c, rest);
  }
  if (!(client instanceof Database)) {
    throw argError('resonance/drizzle: drizzle(db, config) needs an open Resonance Database (from open/openSync)');
  }
  config = config ?? {};
  const dialect = new SQLiteSyncDialect({ casing: config.casing });
  let logger;
  if (config.logger === true) logger = new DefaultLogger();
  else if (config.logger !== false) logger = config.logger;
  let schema;
  if (config.schema) {
    const tables = extractTablesRelationalConfig(config.schema, createTableRelationsHelpers);
    schema = { fullSchema: config.schema, schema: tables.tables, tableNamesMap: tables.tableNamesMap };
  }
  const session = new ResonanceSession(client, dialect, schema, { logger, cache: config.cache });
  const db = new ResonanceDrizzleDatabase('sync', dialect, session, schema);
  db.$client = client;
  return db;
}

// One step's SQL as a script: drizzle-kit's chunks (split at `--> statement-breakpoint`), each ended
// by a semicolon.
function script(chunks) {
  return chunks
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => (s.endsWith(';') ? s : `${s};`))
    .join('\n');
}

/**
 * Applies a drizzle-kit migrations folder (`meta/_journal.json` and its `.sql` files, read by
 * drizzle-orm's own reader) as the engine's application migrations of `namespace` (default
 * `"drizzle"`): step `idx + 1` named by its tag. Each step commits with its ledger row in
 * `resonance_app_migrations`; an applied step whose file changed is refused (`schema_too_new`).
 * Returns the core's report.
 */
function migrate(db, config) {
  const client = db?.$client;
  if (!(client instanceof Database)) {
    throw argError('resonance/drizzle: migrate(db, config) needs a database made by this module\'s drizzle()');
  }
  const folder = typeof config === 'string' ? config : config?.migrationsFolder;
  if (typeof folder !== 'string') throw argError('resonance/drizzle: migrate(db, { migrationsFolder }) needs a folder');
  const migrations = readMigrationFiles({ migrationsFolder: folder });
  const journal = JSON.parse(fs.readFileSync(path.join(folder, 'meta', '_journal.json'), 'utf8'));
  const steps = journal.entries.map((entry, i) => ({
    version: entry.idx + 1,
    name: entry.tag,
    up: script(migrations[i].sql),
  }));
  const { namespace = 'drizzle', ...options } = typeof config === 'object' ? config : {};
  delete options.migrationsFolder;
  delete options.migrationsTable;
  delete options.migrationsSchema;
  return client.migrateAppSync(namespace, steps, options);
}

module.exports = {
  drizzle,
  migrate,
  ResonanceDrizzleDatabase,
  ResonanceSession,
  ResonanceTransaction,
  ResonancePreparedQuery,
};
