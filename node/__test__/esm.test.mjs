// The ESM entry (resonance.mjs) exports the API's names, bound to the CommonJS entry's values, and the
// package's version() is its package.json version.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { resonance as cjs, packageDir } from './helpers.mjs';

const esm = await import(pathToFileURL(path.join(packageDir, 'resonance.mjs')).href);

// The names the typed API declares (index.d.ts, and resonance.d.ts for what the package entry adds:
// functions, classes, constants). The CommonJS object also carries napi-rs' internal task classes,
// which are not part of the API.
function declaredNames() {
  return ['index.d.ts', 'resonance.d.ts'].flatMap((f) => {
    const dts = readFileSync(path.join(packageDir, f), 'utf8');
    return [...dts.matchAll(/^export declare (?:function|class|const) ([A-Za-z_$][\w$]*)/gm)].map((m) => m[1]);
  });
}

test('resonance.mjs exports every function, class and constant of index.d.ts and resonance.d.ts, as the CommonJS entry does', () => {
  const declared = [...new Set(declaredNames())].sort();
  const named = Object.keys(esm).filter((k) => k !== 'default').sort();
  assert.ok(declared.includes('open') && declared.includes('version'));
  assert.deepEqual(named, declared);
  for (const k of named) {
    assert.notEqual(cjs[k], undefined, `the CommonJS entry exports ${k}`);
    assert.equal(esm[k], cjs[k], `export ${k}`);
  }
  assert.equal(esm.default, cjs);
});

test('version() is the package.json version', () => {
  const pkg = JSON.parse(readFileSync(path.join(packageDir, 'package.json'), 'utf8'));
  assert.equal(typeof cjs.version, 'function');
  assert.equal(cjs.version(), pkg.version);
});

// The test hook `_testError` (node/src/lib.rs) exists only in an addon built with the `test-hooks`
// cargo feature (`npm run build:test`, run by scripts/test-node.sh); the files the package ships
// never name it, whichever addon they load.
test('the shipped files name no test hook; only a test-hooks build of the addon has one', () => {
  for (const f of ['index.js', 'index.d.ts', 'resonance.js', 'resonance.mjs', 'resonance.d.ts', 'resonance.d.mts']) {
    assert.doesNotMatch(readFileSync(path.join(packageDir, f), 'utf8'), /_testError/, f);
  }
  assert.equal(Object.hasOwn(esm, '_testError'), false);
  if (process.env.RESONANCE_NODE_PACKAGE) {
    // An installed package (scripts/test-dist.sh): its addon is a release build.
    assert.equal(cjs._testError, undefined);
  } else {
    // This checkout: the release build script names no feature, the feature is not a default, and
    // the addon under test is the test build.
    const pkg = JSON.parse(readFileSync(path.join(packageDir, 'package.json'), 'utf8'));
    assert.doesNotMatch(pkg.scripts.build, /features/);
    const cargo = readFileSync(path.join(packageDir, 'Cargo.toml'), 'utf8');
    assert.match(cargo, /^test-hooks = /m);
    assert.doesNotMatch(cargo, /^default = .*test-hooks/m);
    assert.equal(typeof cjs._testError, 'function');
  }
});
