// The original application's three Drizzle migrations (__test__/drizzle/amalfa: drizzle-kit's file
// format, reconstructed from the DDL in core/src/schema.rs until each file's sha256 is the hash the
// application's ledgers hold) against Resonance's own creation of a fresh file. Under node --test and
// bun test: drizzle-orm's reader hashes the files to exactly the `__drizzle_migrations` rows a fresh
// Resonance file holds, so drizzle-orm's migrator sees such a file as fully migrated. Under Bun also:
// drizzle-orm's own migrator (its bun-sqlite driver, on an in-memory bun:sqlite database: never the
// engine's file) applies the three files, and the schema it makes is the one Resonance makes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { resonance, require, tempDir, isBun } from './helpers.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const migrationsFolder = path.join(here, 'drizzle', 'amalfa');
const { readMigrationFiles } = require('drizzle-orm/migrator');

// The application's objects (the engine's own resonance_* tables and refinery's ledger left out).
const SCHEMA = "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE tbl_name NOT LIKE 'resonance%' AND tbl_name NOT LIKE 'refinery%' AND name <> 'sqlite_sequence' ORDER BY type, name";
const LEDGER = 'SELECT id, hash, created_at FROM __drizzle_migrations ORDER BY created_at';

function freshResonance() {
  const client = resonance.openSync(path.join(tempDir('resonance-original-'), 'resonance.db'));
  const out = { schema: client.prepare(SCHEMA).raw().all(), ledger: client.prepare(LEDGER).raw().all() };
  client.close();
  return out;
}

test("the original migrations hash to the ledger rows of a fresh Resonance file", () => {
  const files = readMigrationFiles({ migrationsFolder });
  const { ledger } = freshResonance();
  assert.deepEqual(ledger, files.map((m) => [null, m.hash, m.folderMillis]));
  assert.deepEqual(files.map((m) => m.hash), [
    'b548e4cd9d946d39dbb888e94692783cde7099691bf666af54e1b5af60b389fb',
    '7b30e2bf86221fedb429141261731220b2b2616a8bb09d3f5fbadccb55f41b16',
    'b6400314b4a5187a3a058a5d35c3cb6031eadd86fff72403accdc73495d69e78',
  ]);
});

test('drizzle-orm\'s own migrator applies them to the schema Resonance creates (Bun)', { skip: !isBun && 'needs bun:sqlite (a second SQLite client, in memory)' }, async () => {
  const { Database } = await import('bun:sqlite');
  const { drizzle } = require('drizzle-orm/bun-sqlite');
  const { migrate } = require('drizzle-orm/bun-sqlite/migrator');
  const mem = new Database(':memory:');
  migrate(drizzle(mem), { migrationsFolder });
  const theirs = { schema: mem.query(SCHEMA).values(), ledger: mem.query(LEDGER).values() };
  mem.close();
  const ours = freshResonance();
  assert.deepEqual(ours.ledger, theirs.ledger);
  // The ledger's own CREATE TABLE is Drizzle's text, whose indentation differs between drizzle-orm
  // releases: compared without its whitespace.
  const norm = (rows) => rows.map(([type, name, tbl, sql]) => [type, name, tbl, name === '__drizzle_migrations' ? sql.replace(/\s+/g, ' ') : sql]);
  assert.deepEqual(norm(ours.schema), norm(theirs.schema));
});
