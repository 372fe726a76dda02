// Shared by the test files (run by `node --test` and by `bun test`): the addon, temp dirs, the CLI.
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const require = createRequire(import.meta.url);
/** The package under test: $RESONANCE_NODE_PACKAGE when set (an installed copy such as
 *  node_modules/resonance: scripts/test-dist.sh runs the suite that way), else this checkout's node/. */
export const packageDir = process.env.RESONANCE_NODE_PACKAGE
  ? path.resolve(process.env.RESONANCE_NODE_PACKAGE)
  : path.resolve(here, '..');
/** The addon, loaded through the package entry exactly as users load it. */
export const resonance = require(packageDir);
export const repoRoot = path.resolve(here, '..', '..');
export const isBun = typeof globalThis.Bun !== 'undefined';

const dirs = [];
/** A fresh temporary directory, removed at process exit. */
export function tempDir(prefix = 'resonance-node-') {
  const d = mkdtempSync(path.join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}
process.on('exit', () => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** The `resonance` CLI used by `raw_sql` ($RESONANCE_CLI, else the workspace's debug build). */
export function cliPath() {
  const env = process.env.RESONANCE_CLI;
  if (env) return env;
  const target = process.env.CARGO_TARGET_DIR || path.join(repoRoot, 'target');
  for (const p of [path.join(target, 'debug', 'resonance'), path.join(target, 'release', 'resonance')]) {
    if (existsSync(p)) return p;
  }
  throw new Error('the resonance CLI was not found: build it with `cargo build -p resonance-cli` or set RESONANCE_CLI');
}

/** Asserts that `fn` throws (or its Promise rejects with) an Error whose `code` is `code`. */
export async function expectCode(fn, code, assert) {
  let err;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  assert.ok(err, `expected an error with code ${code}, got none`);
  assert.ok(err instanceof Error, `expected an Error instance, got ${err}`);
  assert.equal(err.code, code, `expected code ${code}, got ${err.code}: ${err.message}`);
  return err;
}
