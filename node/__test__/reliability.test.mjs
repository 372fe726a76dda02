// The bad-input matrix: every public function and method of the package entry that takes
// arguments, called with undefined and null in each argument position and in each field of its input
// objects, with arguments of the wrong JS type, degenerate vectors (NaN, ±Infinity, all-zero, empty,
// wrong dimension), out-of-range whole numbers (k, limits, depths, seeds, timeouts), SQL
// metacharacters, NUL, lone surrogates and 1 MB strings, on an open and on a closed handle, in the
// Sync and the Promise forms. Each case is named and gets an `Error` whose `code` is exactly the
// docs/errors.md kind it names, or, when the input is legitimately fine (k > N, an unknown id, null for an
// optional field), the correct result. After each case the process is alive, no transaction is left
// open, and the main database is unchanged: a sha256 of its content, read in a child process by the
// CLI (`resonance sql`), is compared with the one taken before the matrix after every case of a
// writing method and at the end. Inputs that legitimately write go to a second, "scratch" database.
//
// Runs under `node --test` and `bun test`; the last test logs "node bad-input matrix: N cases, …"
// and writes the line to target/reliability-counts/node.txt (bun.txt under Bun).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { resonance, tempDir, cliPath, isBun, repoRoot } from './helpers.mjs';

// ---- the databases -----------------------------------------------------------------------------

const dir = tempDir('resonance-reliability-');
const MAIN = path.join(dir, 'main.sqlite'); // hashed: nothing may change it
const SCRATCH = path.join(dir, 'scratch.sqlite'); // where legitimate writes go
const NEVER = path.join(dir, 'never.sqlite'); // a refused open must not create it
const BLOCKER = path.join(dir, 'a-regular-file');
const ctx = { main: null, scratch: null, closed: null, module: resonance };
let fresh = 0;
const freshPath = (ext = 'sqlite') => path.join(dir, `fresh-${fresh++}.${ext}`);

const V = () => new Float32Array([1, 0, 0, 0]);
const DIM = 4;
const VECTOR_NODES = 3; // a, b, d carry vectors; c does not

function seed(db) {
  db.upsertNode({ id: 'a', type: 'note', title: 'A', meta: { k: 1 }, embedding: [1, 0, 0, 0] });
  db.upsertNode({ id: 'b', type: 'doc', domain: 'persona', embedding: [0, 1, 0, 0] });
  db.upsertNode({ id: 'c', type: 'note' });
  db.upsertNode({ id: 'd', type: 'note', embedding: [0.6, 0.8, 0, 0] });
  db.addEdge({ source: 'a', target: 'b' });
  db.addEdge({ source: 'b', target: 'c', type: 'cites', confidence: 0.5 });
  db.addEdge({ source: 'a', target: 'd' });
}

const QUERIES = ['SELECT * FROM nodes ORDER BY id', 'SELECT * FROM edges ORDER BY 1,2,3', 'SELECT count(*) FROM history'];
let hashChecks = 0;
/** sha256 of the main database's nodes, edges and history count, as the CLI prints them. */
function contentHash(file = MAIN) {
  const h = createHash('sha256');
  for (const q of QUERIES) {
    h.update(q);
    h.update(execFileSync(cliPath(), ['sql', '--raw', '--json', file, q], { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 }));
  }
  hashChecks += 1;
  return h.digest('hex');
}

// ---- the cases ---------------------------------------------------------------------------------

/** Methods whose result is a Promise (their argument errors are thrown at the call; the rest rejects). */
const PROMISE = new Set(['open', 'getNode', 'upsertNodes', 'addEdges', 'stats', 'search', 'searchLike', 'searchBatch',
  'pagerank', 'betweenness', 'communities', 'components', 'linkCandidates', 'pillars', 'health', 'migrate', 'backup', 'vacuum']);
/** Methods that can write: the main database's hash is checked after each of their cases. */
const WRITES = new Set(['open', 'openSync', 'upsertNode', 'upsertNodes', 'deleteNode', 'addEdge', 'addEdges', 'upsertEdge',
  'deleteEdge', 'updateMeta', 'updateMetaJson', 'pruneHistory', 'setEmbedding', 'migrate', 'vacuum', 'transaction', 'begin',
  'commit', 'rollback', 'optimize', 'checkpoint', 'close']);

const cases = [];
const names = new Set();
/**
 * Adds a case: `method` of `on` ('main', 'scratch', 'closed' or 'module') called with `args()`.
 * `expect` is a kind code, or a function checking the result. `coreBug`: a kind the core gives today
 * instead of `expect` (reported, counted apart; the case passes with either).
 */
function add(name, on, method, args, expect, extra = {}) {
  assert.ok(!names.has(name), `duplicate case name ${name}`);
  names.add(name);
  cases.push({ name, on, method, args, expect, ...extra });
}
const ok = (check = () => {}) => check; // a legitimate input: the result is checked instead

/** A short label of a value for case names. */
function show(v) {
  if (v === undefined) return 'undefined';
  if (typeof v === 'string') {
    if (v.length > 40) return `${JSON.stringify(v.slice(0, 8))}…(${v.length} chars)`;
    return JSON.stringify(v).replace(/[\ud800-\udfff]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
  }
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'symbol') return 'a Symbol';
  if (typeof v === 'function') return 'a function';
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (ArrayBuffer.isView(v)) return `${v.constructor.name}(${v.length ?? v.byteLength})`;
  if (v instanceof ArrayBuffer) return `ArrayBuffer(${v.byteLength})`;
  if (v instanceof String) return 'new String("a")';
  try {
    const s = JSON.stringify(v);
    return s.length > 50 ? `${s.slice(0, 47)}…` : s;
  } catch {
    return 'an object';
  }
}

// Values by the kind of argument they are wrong for: [label, factory].
const circular = () => { const o = { a: 1 }; o.self = o; return o; };
const deep = (n) => () => { let o = {}; for (let i = 0; i < n; i++) o = { d: o }; return o; };
const NOT_A_STRING = [
  ['42', () => 42], ['true', () => true], ['{}', () => ({})], ['[]', () => []], ['42n', () => 42n],
  ['a Symbol', () => Symbol('s')], ['new String("a")', () => new String('a')], ['a function', () => () => 'a'],
];
const NOT_AN_OBJECT = [['42', () => 42], ['"x"', () => 'x'], ['true', () => true], ['a function', () => () => ({})], ['42n', () => 42n]];
const NOT_A_VECTOR = [
  ['42', () => 42], ['"text"', () => 'text'], ['true', () => true], ['{}', () => ({})],
  ['Float64Array(4)', () => new Float64Array([1, 0, 0, 0])], ['Int32Array(4)', () => new Int32Array([1, 0, 0, 0])],
  ['Uint8Array(4)', () => new Uint8Array([1, 0, 0, 0])], ['ArrayBuffer(16)', () => new Float32Array([1, 0, 0, 0]).buffer],
  ['DataView(16)', () => new DataView(new Float32Array([1, 0, 0, 0]).buffer)], ['[1,"a",0,0]', () => [1, 'a', 0, 0]],
  ['[true,0,0,0]', () => [true, 0, 0, 0]], ['["1",0,0,0]', () => ['1', 0, 0, 0]], ['[1,,0,0] (sparse)', () => [1, , 0, 0]], // eslint-disable-line no-sparse-arrays
  ['[[1,0,0,0]]', () => [[1, 0, 0, 0]]], ['[null,0,0,0]', () => [null, 0, 0, 0]], ['a function', () => () => 1],
];
const BAD_VECTOR = [
  ['[NaN,0,0,0]', () => new Float32Array([NaN, 0, 0, 0])], ['[0,Infinity,0,0]', () => new Float32Array([0, Infinity, 0, 0])],
  ['[0,0,-Infinity,0]', () => [0, 0, -Infinity, 0]], ['all zero', () => new Float32Array(DIM)], ['[-0,0,0,0]', () => [-0, 0, 0, 0]],
  ['empty Float32Array', () => new Float32Array(0)], ['empty []', () => []], ['[1e-40,0,0,0] (norm ≤ 1e-6)', () => [1e-40, 0, 0, 0]],
  ['[1,NaN,0,0] (number[])', () => [1, NaN, 0, 0]],
];
const WRONG_DIM = [['2 components', () => new Float32Array([1, 0])], ['5 components', () => [1, 0, 0, 0, 0]], ['1 component', () => [1]]];
const NOT_WHOLE = [
  ['-1', () => -1], ['1.5', () => 1.5], ['NaN', () => NaN], ['Infinity', () => Infinity], ['-Infinity', () => -Infinity],
  ['2**53', () => 2 ** 53], ['"3"', () => '3'], ['{}', () => ({})], ['true', () => true],
];
const NOT_A_NUMBER = [['"x"', () => 'x'], ['{}', () => ({})], ['true', () => true], ['42n', () => 42n]];
const NOT_A_BOOL = [['"yes"', () => 'yes'], ['1', () => 1], ['{}', () => ({})]];
const NOTHING = [['undefined', () => undefined], ['null', () => null]];

const METAS = ["'; DROP TABLE nodes; --", '%', '_', "'", '"', '\\', '\u0000', 'a\u0000b', '%a%', "a' OR '1'='1", '*', '[a-z]', '\n', ';'];
const LONE = ['\ud800', '\udc00', 'a\ud800b', '\udc00\ud800', 'x\udfff'];
const BIG = 'x'.repeat(1 << 20);
const BIG_MULTIBYTE = 'é'.repeat(1 << 19); // 1 MB of UTF-8 too

/** A plain-data copy for comparing results (typed arrays become arrays). */
function plain(v) {
  if (ArrayBuffer.isView(v)) return Array.from(v);
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

// -- 1. every argument position of every method: undefined, null and the wrong JS types ----------
//
// Each spec: the method, valid arguments (their call has a known outcome and writes nothing to the
// main database), and the kind of each position. Optional positions take undefined and null as
// "absent": the result must equal the call with the arguments cut before that position.
const SPECS = [
  ['getNodeSync', () => ['a', true], ['id', 'bool?']],
  ['getNode', () => ['a', true], ['id', 'bool?']],
  ['listNodes', () => [{ limit: 2 }], ['opts?']],
  ['deleteNode', () => ['zz-missing'], ['id']],
  ['addEdge', () => [{ source: 'a', target: 'b' }], ['object']], // exists already: returns false
  ['addEdges', () => [[{ source: 'a', target: 'b' }]], ['array']],
  ['upsertEdge', () => [{ source: 'a', target: 'b' }], ['object']],
  ['deleteEdge', () => ['a', 'c', 'zz-type'], ['id', 'id', 'str?']], // a -[related_to]-> c does not exist either
  ['edgesFrom', () => ['a'], ['id']],
  ['edgesTo', () => ['b'], ['id']],
  ['updateMeta', () => ['zz-missing', { k: 2 }], ['id', 'json']],
  ['updateMetaJson', () => ['zz-missing', '{"k":2}'], ['id', 'str?']],
  ['history', () => ['a'], ['id']],
  ['pruneHistory', () => [{ keepLast: 1e6 }], ['object']],
  ['upsertNode', () => [{ id: 'zz-new' }], ['object']],
  ['upsertNodes', () => [[{ id: 'zz-new' }]], ['array']],
  ['setEmbedding', () => ['zz-missing', V()], ['id', 'vector']],
  ['getEmbedding', () => ['a'], ['id']],
  ['search', () => [V(), { k: 2 }], ['vector', 'opts?']],
  ['searchSync', () => [V(), { k: 2 }], ['vector', 'opts?']],
  ['searchLike', () => ['a', { k: 2 }], ['id', 'opts?']],
  ['searchBatch', () => [[V(), V()], { k: 2 }], ['vectors', 'opts?']],
  ['neighbors', () => ['a'], ['id']],
  ['successors', () => ['a'], ['id']],
  ['predecessors', () => ['b'], ['id']],
  ['degree', () => ['a'], ['id']],
  ['traverse', () => ['a', 2, 'both'], ['id', 'whole?', 'str?']],
  ['shortestPath', () => ['a', 'c', 'outgoing'], ['id', 'id', 'str?']],
  ['adamicAdar', () => ['a', 'c'], ['id', 'id']],
  ['pagerank', () => [{ alpha: 0.85 }], ['opts?']],
  ['betweenness', () => [{ normalized: true }], ['opts?']],
  ['communities', () => [{ seed: 1 }], ['opts?']],
  ['linkCandidates', () => [5], ['whole?']],
  ['pillars', () => [5], ['whole?']],
  ['migrate', () => [{ dryRun: true }], ['opts?']],
  ['backup', () => [freshPath('bak')], ['str?']],
  ['checkpoint', () => ['passive'], ['str?']],
  ['transaction', () => [() => 1], ['function']],
];

/** A check that the result equals the one of `method(...refArgs)` on the main database. */
function sameAs(method, refArgs) {
  return async (value) => {
    let want;
    let wantErr;
    try {
      want = await ctx.main[method](...refArgs);
    } catch (e) {
      wantErr = e;
    }
    if (wantErr) throw new Error(`expected the error ${wantErr.code} of the call without the argument, got a result`);
    if (method === 'backup') {
      assert.equal(typeof value, 'string');
      assert.ok(existsSync(value), `backup file ${value}`);
    } else if (method === 'checkpoint') {
      assert.deepEqual(Object.keys(value).sort(), ['busy', 'checkpointed', 'log']);
    } else {
      assert.deepEqual(plain(value), plain(want));
    }
  };
}

for (const [method, validArgs, kinds] of SPECS) {
  kinds.forEach((kind, i) => {
    const at = (label, value, expect, extra) => {
      add(`${method}: argument ${i + 1} ${label}`, 'main', method, () => {
        const a = validArgs();
        a[i] = value();
        return a;
      }, expect, extra);
    };
    const optional = kind.endsWith('?');
    for (const [label, value] of NOTHING) {
      if (!optional) {
        // updateMeta's meta: null is a value (it clears the metadata); undefined is not JSON.
        if (kind === 'json' && label === 'null') at(label, value, 'not_found');
        else at(label, value, 'invalid_argument');
        continue;
      }
      const cut = validArgs().slice(0, i);
      // Where the call without the argument fails (deleteEdge, updateMetaJson of a missing node),
      // absent must fail with the same kind; elsewhere it must give the same result.
      const failing = { deleteEdge: 'not_found', updateMetaJson: 'not_found' }[method];
      at(label, value, failing ?? ok(sameAs(method, cut)));
    }
    const wrong = {
      id: NOT_A_STRING, 'str?': NOT_A_STRING, 'bool?': NOT_A_BOOL, 'opts?': NOT_AN_OBJECT, object: NOT_AN_OBJECT,
      array: [...NOT_AN_OBJECT, ['{}', () => ({})], ['Float32Array(1)', () => new Float32Array(1)], ['[null]', () => [null]],
        ['[42]', () => [42]], ['["x"]', () => ['x']], ['[[]]', () => [[]]]],
      vector: NOT_A_VECTOR,
      vectors: [...NOT_AN_OBJECT, ['{}', () => ({})], ['a flat Float32Array', () => V()], ['[null]', () => [null]],
        ['[42]', () => [42]], ['["x"]', () => ['x']], ['[Float64Array(4)]', () => [new Float64Array(4)]]],
      whole: NOT_WHOLE, 'whole?': NOT_WHOLE,
      json: [['a function', () => () => 1], ['a Symbol', () => Symbol('s')], ['NaN', () => NaN], ['Infinity', () => Infinity],
        ['{f: a function}', () => ({ f() {} })], ['a circular object', circular], ['an object nested 10,000 deep', deep(10000)]],
      function: [...NOT_AN_OBJECT.filter(([l]) => l !== 'a function'), ['{}', () => ({})],
        ['an async function', () => async () => 1], ['a function returning a Promise', () => () => Promise.resolve(1)]],
    }[kind];
    for (const [label, value] of wrong) at(label, value, 'invalid_argument');
  });
}

// -- 2. module functions: open / openSync / generateId ------------------------------------------

for (const fn of ['open', 'openSync']) {
  for (const [label, value] of [...NOTHING, ...NOT_A_STRING]) {
    add(`${fn}: path ${label}`, 'module', fn, () => [value(), {}], 'invalid_argument', { neverCreated: true });
  }
  add(`${fn}: path ""`, 'module', fn, () => [''], 'invalid_argument');
  add(`${fn}: path with NUL`, 'module', fn, () => [path.join(dir, 'x\u0000y.sqlite')], 'invalid_argument');
  add(`${fn}: path under a regular file`, 'module', fn, () => [path.join(BLOCKER, 'sub', 'x.sqlite')], 'io');
  for (const [label, value] of NOT_AN_OBJECT) {
    add(`${fn}: options ${label}`, 'module', fn, () => [NEVER, value()], 'invalid_argument', { neverCreated: true });
    add(`${fn}: options ${label} (main file)`, 'module', fn, () => [MAIN, value()], 'invalid_argument');
  }
  for (const [label, value] of NOTHING) {
    add(`${fn}: options ${label} opens with the defaults`, 'module', fn, () => [freshPath(), value()], ok(async (db) => {
      assert.ok(db instanceof resonance.Database);
      assert.equal(db.readOnly, false);
      db.close();
    }));
  }
  const fields = {
    readOnly: NOT_A_BOOL, migrate: NOT_A_BOOL, allowDestructive: NOT_A_BOOL, backup: NOT_A_BOOL,
    busyTimeoutMs: [...NOT_WHOLE, ['10 (below 1000)', () => 10], ['2**32', () => 2 ** 32]],
    backupRetentionDays: [...NOT_WHOLE, ['2**32', () => 2 ** 32]],
  };
  for (const [field, values] of Object.entries(fields)) {
    for (const [label, value] of values) {
      add(`${fn}: options.${field} ${label}`, 'module', fn, () => [NEVER, { [field]: value() }], 'invalid_argument', { neverCreated: true });
    }
    for (const [label, value] of NOTHING) {
      add(`${fn}: options.${field} ${label} is the default`, 'module', fn, () => [freshPath(), { [field]: value() }], ok((db) => db.close()));
    }
  }
  // A u32 above i32::MAX: rusqlite's busy_timeout panicked on it (after creating the file) before c52b8d2.
  add(`${fn}: options.busyTimeoutMs 3e9 (a u32 above i32::MAX)`, 'module', fn, () => [NEVER, { busyTimeoutMs: 3e9 }],
    'invalid_argument', { neverCreated: true });
  add(`${fn}: options.busyTimeoutMs 3e9 on the main file`, 'module', fn, () => [MAIN, { busyTimeoutMs: 3e9 }], 'invalid_argument');
  add(`${fn}: options.readOnly on a file that does not exist`, 'module', fn, () => [NEVER, { readOnly: true }], 'io', { neverCreated: true });
}
for (const [label, value] of [...NOTHING, ...NOT_A_STRING]) add(`generateId: ${label}`, 'module', 'generateId', () => [value()], 'invalid_argument');
add('generateId: "" is ""', 'module', 'generateId', () => [''], ok((v) => assert.equal(v, '')));
add(`generateId: ${show(BIG)}`, 'module', 'generateId', () => ['./' + BIG + '.md'], ok((v) => assert.equal(v, BIG)));

// -- 3. fields of the input objects ------------------------------------------------------------

const NODE_STRINGS = ['type', 'title', 'domain', 'layer', 'hash', 'summary', 'metaJson', 'date'];
for (const method of ['upsertNode', 'upsertNodes']) {
  const call = (node) => (method === 'upsertNode' ? [node] : [[{ id: 'zz-first' }, node]]);
  const tag = method === 'upsertNode' ? '' : ' (2nd of 2 nodes)';
  const field = (name, label, value, expect) => add(`${method}: node.${name} ${label}${tag}`, 'main', method,
    () => call({ id: 'zz-new', [name]: value() }), expect);
  for (const [label, value] of [...NOTHING, ...NOT_A_STRING]) {
    add(`${method}: node.id ${label}${tag}`, 'main', method, () => call({ id: value(), title: 't' }), 'invalid_argument');
  }
  add(`${method}: node.id ""${tag}`, 'main', method, () => call({ id: '' }), 'invalid_argument');
  add(`${method}: node without id${tag}`, 'main', method, () => call({ title: 'no id' }), 'invalid_argument');
  for (const name of NODE_STRINGS) {
    for (const [label, value] of NOT_A_STRING) field(name, label, value, 'invalid_argument');
  }
  for (const [label, value] of [['"{nope"', () => '{nope'], ['""', () => ''], ['"undefined"', () => 'undefined'],
    ["\"{'a':1}\"", () => "{'a':1}"], ['"{\\"k\\":\\"\\\\ud800\\"}" (an escaped lone surrogate)', () => '{"k":"\\ud800"}']]) {
    field('metaJson', label, value, 'invalid_argument');
  }
  for (const [label, value] of [['a function', () => () => 1], ['a Symbol', () => Symbol('s')], ['NaN', () => NaN],
    ['{f: a function}', () => ({ f() {} })], ['a circular object', circular], ['an object nested 10,000 deep', deep(10000)]]) {
    field('meta', label, value, 'invalid_argument');
  }
  for (const [label, value] of NOT_A_VECTOR) field('embedding', label, value, 'invalid_argument');
  for (const [label, value] of BAD_VECTOR) field('embedding', label, value, 'invalid_vector');
  for (const [label, value] of WRONG_DIM) field('embedding', label, value, 'dimension_mismatch');
}
// All or nothing: a good node before a bad one is not written either (the hash checks it).
add('upsertNodes: a good node then an empty id', 'main', 'upsertNodes', () => [[{ id: 'zz-ok' }, { id: '' }]], 'invalid_argument');
add('upsertNodes: a good vector then a wrong dimension', 'main', 'upsertNodes',
  () => [[{ id: 'zz-ok', embedding: V() }, { id: 'zz-bad', embedding: [1, 0] }]], 'dimension_mismatch');
add('upsertNodes: a good vector then NaN', 'main', 'upsertNodes',
  () => [[{ id: 'zz-ok', embedding: V() }, { id: 'zz-bad', embedding: [NaN, 0, 0, 0] }]], 'invalid_vector');
add('upsertNodes: 1,000 good nodes then null', 'main', 'upsertNodes',
  () => [[...Array.from({ length: 1000 }, (_, i) => ({ id: `zz-${i}` })), null]], 'invalid_argument');
add('upsertNodes: [] writes nothing', 'main', 'upsertNodes', () => [[]], ok((n) => assert.equal(n, 0)));

// Null / undefined for each optional node field is "absent": written (to the scratch database) as NULL
// (domain and layer get their defaults).
for (const name of [...NODE_STRINGS, 'meta', 'embedding']) {
  for (const [label, value] of NOTHING) {
    const id = `null-${name}-${label}`;
    add(`upsertNode (scratch): node.${name} ${label} is absent`, 'scratch', 'upsertNode', () => [{ id, [name]: value() }], ok(() => {
      const n = ctx.scratch.getNodeSync(id, true);
      assert.deepEqual(plain(n), { id, type: null, title: null, domain: 'knowledge', layer: 'experience', hash: null,
        summary: null, meta: null, date: null, embedding: null });
    }));
  }
}

// A node or edge read back (absent fields are null) can be written back as it is.
add('upsertNode (scratch): a node read back by getNodeSync(id, true), written back', 'scratch', 'upsertNode',
  () => [ctx.scratch.getNodeSync('c', true)], ok(() => {
    assert.deepEqual(plain(ctx.scratch.getNodeSync('c', true)), { id: 'c', type: 'note', title: null, domain: 'knowledge',
      layer: 'experience', hash: null, summary: null, meta: null, date: null, embedding: null });
  }));
add('upsertEdge (scratch): an edge read back by edgesFrom, written back', 'scratch', 'upsertEdge',
  () => [{ ...ctx.scratch.edgesFrom('a')[0], contextSource: null }], ok(() => {
    assert.deepEqual(ctx.scratch.edgesFrom('a')[0], { source: 'a', target: 'b', type: 'related_to', confidence: 1, veracity: 1, contextSource: null });
  }));

const EDGE_METHODS = ['addEdge', 'upsertEdge', 'addEdges'];
for (const method of EDGE_METHODS) {
  const call = (edge) => (method === 'addEdges' ? [[{ source: 'a', target: 'c', type: 'zz-first' }, edge]] : [edge]);
  const tag = method === 'addEdges' ? ' (2nd of 2 edges)' : '';
  const field = (name, label, value, expect) => add(`${method}: edge.${name} ${label}${tag}`, 'main', method,
    () => call({ source: 'a', target: 'b', type: 'zz-type', [name]: value() }), expect);
  for (const name of ['source', 'target']) {
    for (const [label, value] of [...NOTHING, ...NOT_A_STRING, ['""', () => '']]) field(name, label, value, 'invalid_argument');
  }
  for (const name of ['type', 'contextSource']) {
    for (const [label, value] of NOT_A_STRING) field(name, label, value, 'invalid_argument');
  }
  field('type', '""', () => '', 'invalid_argument');
  for (const name of ['confidence', 'veracity']) {
    for (const [label, value] of [...NOT_A_NUMBER, ['NaN', () => NaN], ['Infinity', () => Infinity], ['-Infinity', () => -Infinity]]) {
      field(name, label, value, 'invalid_argument');
    }
  }
}
for (const name of ['type', 'confidence', 'veracity', 'contextSource']) {
  for (const [label, value] of NOTHING) {
    const src = `s-${name}-${label}`;
    add(`addEdge (scratch): edge.${name} ${label} is the default`, 'scratch', 'addEdge', () => [{ source: src, target: 'a', [name]: value() }],
      ok((added) => {
        assert.equal(added, true);
        assert.deepEqual(ctx.scratch.edgesFrom(src), [{ source: src, target: 'a', type: 'related_to', confidence: 1, veracity: 1, contextSource: null }]);
      }));
  }
}

// Options objects, field by field.
const SEARCHERS = {
  search: (o) => [V(), o], searchSync: (o) => [V(), o], searchLike: (o) => ['a', o], searchBatch: (o) => [[V()], o],
};
const hitsOf = (method, v) => (method === 'searchBatch' ? v.ids[0] : v.map((h) => h.id));
for (const [method, call] of Object.entries(SEARCHERS)) {
  const opt = (label, o, expect) => add(`${method}: options${label}`, 'main', method, () => call(o()), expect);
  for (const [label, value] of [...NOT_WHOLE, ['42n', () => 42n]]) opt(`.k ${label}`, () => ({ k: value() }), 'invalid_argument');
  for (const [label, value] of [...NOT_WHOLE, ['0', () => 0], ['42n', () => 42n]]) {
    opt(`.threads ${label}`, () => ({ threads: value() }), 'invalid_argument');
  }
  for (const [label, value] of [...NOT_A_NUMBER, ['NaN', () => NaN]]) opt(`.minScore ${label}`, () => ({ minScore: value() }), 'invalid_argument');
  for (const f of ['domain', 'type']) {
    for (const [label, value] of NOT_A_STRING) opt(`.${f} ${label}`, () => ({ [f]: value() }), 'invalid_argument');
  }
  const all = method === 'searchLike' ? VECTOR_NODES - 1 : VECTOR_NODES;
  opt('.k 0 returns nothing', () => ({ k: 0 }), ok((v) => assert.deepEqual(hitsOf(method, v), [])));
  opt(`.k ${VECTOR_NODES + 100} (> N) returns all N`, () => ({ k: VECTOR_NODES + 100, minScore: -1 }),
    ok((v) => assert.equal(hitsOf(method, v).length, all)));
  opt('.k 2**53-1 returns all N', () => ({ k: 2 ** 53 - 1, minScore: -1 }), ok((v) => assert.equal(hitsOf(method, v).length, all)));
  opt('.minScore Infinity returns nothing', () => ({ minScore: Infinity }), ok((v) => assert.deepEqual(hitsOf(method, v), [])));
  opt('.minScore -Infinity returns all N', () => ({ minScore: -Infinity }), ok((v) => assert.equal(hitsOf(method, v).length, all)));
  opt('.threads 1', () => ({ threads: 1, k: 1 }), ok((v) => assert.equal(hitsOf(method, v).length, 1)));
  for (const m of [...METAS, BIG]) {
    opt(`.domain ${show(m)} matches nothing`, () => ({ domain: m, minScore: -1 }), ok((v) => assert.deepEqual(hitsOf(method, v), [])));
    opt(`.type ${show(m)} matches nothing`, () => ({ type: m, minScore: -1 }), ok((v) => assert.deepEqual(hitsOf(method, v), [])));
  }
}
// Vectors, in every method that takes one.
const VECTOR_TAKERS = {
  search: (v) => [v], searchSync: (v) => [v], searchBatch: (v) => [[v]], setEmbedding: (v) => ['a', v],
  upsertNode: (v) => [{ id: 'a', embedding: v }],
};
for (const [method, call] of Object.entries(VECTOR_TAKERS)) {
  for (const [label, value] of BAD_VECTOR) {
    add(`${method}: vector ${label}`, 'main', method, () => call(value()), 'invalid_vector');
  }
  for (const [label, value] of WRONG_DIM) add(`${method}: vector of ${label}`, 'main', method, () => call(value()), 'dimension_mismatch');
}
add('searchBatch: the 2nd of 2 queries NaN', 'main', 'searchBatch', () => [[V(), [NaN, 0, 0, 0]]], 'invalid_vector');
add('searchBatch: queries of 4 and 2 components', 'main', 'searchBatch', () => [[V(), [1, 0]]], 'invalid_argument');
add('searchBatch: [] returns no rows', 'main', 'searchBatch', () => [[]], ok((v) => assert.deepEqual(plain(v), { ids: [], scores: [] })));
for (const method of ['search', 'searchSync']) {
  const same = (label, q) => add(`${method}: ${label} is the Float32Array query`, 'main', method, () => [q(), { minScore: -1 }], ok(async (v) => {
    assert.deepEqual(plain(v), plain(await ctx.main.search(V(), { minScore: -1 })));
  }));
  same('a plain Array [1,0,0,0]', () => [1, 0, 0, 0]);
  same('a Float32Array view at an offset', () => new Float32Array([9, 1, 0, 0, 0, 9]).subarray(1, 5));
  same('an unnormalised [3e38,0,0,0]', () => [3e38, 0, 0, 0]);
}
add('setEmbedding: a node that does not exist, with a NaN vector', 'main', 'setEmbedding', () => ['zz-missing', [NaN, 0, 0, 0]], 'not_found');
add('searchLike: a node without an embedding', 'main', 'searchLike', () => ['c'], 'not_found');

const OPTION_FIELDS = {
  listNodes: { domain: NOT_A_STRING, type: NOT_A_STRING, limit: NOT_WHOLE, offset: NOT_WHOLE, withEmbeddings: NOT_A_BOOL },
  pruneHistory: { olderThanDays: [...NOT_WHOLE, ['2**32', () => 2 ** 32]], keepLast: NOT_WHOLE },
  pagerank: {
    alpha: [...NOT_A_NUMBER, ['NaN', () => NaN], ['-0.1', () => -0.1], ['1.5', () => 1.5], ['Infinity', () => Infinity]],
    tolerance: [...NOT_A_NUMBER, ['NaN', () => NaN], ['-1', () => -1], ['0', () => 0]],
    maxIterations: [...NOT_WHOLE, ['0', () => 0]],
  },
  betweenness: { normalized: NOT_A_BOOL, sample: [...NOT_WHOLE, ['0', () => 0]], seed: NOT_WHOLE },
  communities: {
    resolution: [...NOT_A_NUMBER, ['NaN', () => NaN], ['-1', () => -1], ['Infinity', () => Infinity]],
    seed: NOT_WHOLE,
  },
  migrate: { dryRun: NOT_A_BOOL, allowDestructive: NOT_A_BOOL, backup: NOT_A_BOOL, backupRetentionDays: NOT_WHOLE },
};
for (const [method, fields] of Object.entries(OPTION_FIELDS)) {
  for (const [f, values] of Object.entries(fields)) {
    for (const [label, value] of values) {
      // pruneHistory's other field keeps the call harmless had the bad one been ignored.
      const base = method === 'pruneHistory' ? { keepLast: 1e6 } : method === 'migrate' ? { dryRun: true } : {};
      add(`${method}: options.${f} ${label}`, 'main', method, () => [{ ...base, [f]: value() }], 'invalid_argument');
    }
    if (method === 'pruneHistory') continue; // with a field absent, prune would delete: not on the main file
    for (const [label, value] of NOTHING) {
      const base = method === 'migrate' && f !== 'dryRun' ? { dryRun: true } : {};
      add(`${method}: options.${f} ${label} is the default`, 'main', method, () => [{ ...base, [f]: value() }],
        ok(sameAs(method, [base])));
    }
  }
}
add('pruneHistory: {} deletes nothing', 'main', 'pruneHistory', () => [{}], ok((n) => assert.equal(n, 0)));
add('pruneHistory: keepLast 2**53-1 deletes nothing', 'main', 'pruneHistory', () => [{ keepLast: 2 ** 53 - 1 }], ok((n) => assert.equal(n, 0)));
add('pruneHistory: olderThanDays 4294967295 deletes nothing', 'main', 'pruneHistory', () => [{ olderThanDays: 2 ** 32 - 1 }], ok((n) => assert.equal(n, 0)));
add('listNodes: limit 0 returns nothing', 'main', 'listNodes', () => [{ limit: 0 }], ok((v) => assert.deepEqual(v, [])));
add('listNodes: limit 2**53-1 returns all', 'main', 'listNodes', () => [{ limit: 2 ** 53 - 1 }], ok((v) => assert.equal(v.length, 4)));
add('listNodes: offset past the end returns nothing', 'main', 'listNodes', () => [{ offset: 100 }], ok((v) => assert.deepEqual(v, [])));
for (const m of [...METAS, BIG]) {
  add(`listNodes: domain ${show(m)} matches nothing`, 'main', 'listNodes', () => [{ domain: m }], ok((v) => assert.deepEqual(v, [])));
  add(`listNodes: type ${show(m)} matches nothing`, 'main', 'listNodes', () => [{ type: m }], ok((v) => assert.deepEqual(v, [])));
}
for (const [label, value] of [['0', () => 0], ['2**53-1', () => 2 ** 53 - 1]]) {
  add(`traverse: maxDepth ${label}`, 'main', 'traverse', () => ['a', value()], ok((v) => assert.deepEqual(v, label === '0' ? ['a'] : ['a', 'b', 'd', 'c'])));
}
for (const [label, value] of [['"sideways"', () => 'sideways'], ['""', () => ''], ['"BOTH "', () => 'BOTH ']]) {
  add(`traverse: direction ${label}`, 'main', 'traverse', () => ['a', 2, value()], 'invalid_argument');
  add(`shortestPath: direction ${label}`, 'main', 'shortestPath', () => ['a', 'c', value()], 'invalid_argument');
}
for (const method of ['linkCandidates', 'pillars']) {
  add(`${method}: limit 0 returns nothing`, 'main', method, () => [0], ok((v) => assert.deepEqual(v, [])));
}
for (const [label, value] of [['"sideways"', () => 'sideways'], ['""', () => ''], ...METAS.map((m) => [show(m), () => m])]) {
  add(`checkpoint: mode ${label}`, 'main', 'checkpoint', () => [value()], 'invalid_argument');
}
add('backup: dest is the database itself', 'main', 'backup', () => [MAIN], 'invalid_argument');
add('backup: dest "" (and no stray copy in the working directory)', 'main', 'backup', () => [''], 'invalid_argument', {
  after: () => assert.deepEqual(readdirSync(process.cwd()).filter((f) => f.startsWith('.partial-')), []),
});
add('backup: dest with NUL', 'main', 'backup', () => [path.join(dir, 'b\u0000.bak')], 'invalid_argument');
add('backup: dest under a regular file', 'main', 'backup', () => [path.join(BLOCKER, 'x.bak')], 'io');

// -- 4. ids: SQL metacharacters, NUL, the empty id and 1 MB ---------------------------------------

const ID_READS = [
  ['getNodeSync', (m) => [m], ok((v) => assert.equal(v, null))],
  ['getNode', (m) => [m, true], ok((v) => assert.equal(v, null))],
  ['deleteNode', (m) => [m], 'not_found'],
  ['edgesFrom', (m) => [m], ok((v) => assert.deepEqual(v, []))],
  ['edgesTo', (m) => [m], ok((v) => assert.deepEqual(v, []))],
  ['history', (m) => [m], ok((v) => assert.deepEqual(v, []))],
  ['neighbors', (m) => [m], 'not_found'],
  ['degree', (m) => [m], 'not_found'],
  ['traverse', (m) => [m, 3], 'not_found'],
  ['shortestPath', (m) => ['a', m], 'not_found'],
  ['adamicAdar', (m) => [m, 'a'], 'not_found'],
  ['getEmbedding', (m) => [m], 'not_found'],
  ['setEmbedding', (m) => [m, V()], 'not_found'],
  ['updateMeta', (m) => [m, { k: 3 }], 'not_found'],
  ['updateMetaJson', (m) => [m, '{"k":3}'], 'not_found'],
  ['deleteEdge', (m) => [m, 'b'], 'not_found'],
  ['deleteEdge', (m) => ['a', 'b', m], 'not_found', 'type'],
  ['searchLike', (m) => [m], 'not_found'],
];
for (const m of [...METAS, '', BIG, BIG_MULTIBYTE]) {
  for (const [method, args, expect, which = 'id'] of ID_READS) {
    add(`${method}: ${which} ${show(m)}`, 'main', method, () => args(m), expect);
  }
}

// The same strings written to the scratch database read back exactly, and match only themselves.
for (const m of [...METAS, BIG, BIG_MULTIBYTE, '\ud83d\ude00 (a surrogate pair)', 'é\u0301 ﷽ \u200d']) {
  add(`upsertNode (scratch): id, type, domain and meta ${show(m)} read back`, 'scratch', 'upsertNode',
    () => [{ id: m, type: m, domain: m, title: m, meta: { [m.slice(0, 64)]: m } }], ok(() => {
      const n = ctx.scratch.getNodeSync(m);
      assert.equal(n.id, m);
      assert.equal(n.type, m);
      assert.equal(n.domain, m);
      assert.deepEqual(n.meta, { [m.slice(0, 64)]: m });
      assert.deepEqual(ctx.scratch.listNodes({ domain: m }).map((x) => x.id), [m]);
      assert.deepEqual(ctx.scratch.listNodes({ type: m }).map((x) => x.id), [m]);
    }));
  add(`addEdge (scratch): source, target and type ${show(m)}`, 'scratch', 'addEdge', () => [{ source: m, target: m, type: m, contextSource: m }],
    ok((added) => {
      assert.equal(added, true);
      assert.deepEqual(ctx.scratch.edgesFrom(m), [{ source: m, target: m, type: m, confidence: 1, veracity: 1, contextSource: m }]);
    }));
}

// -- 5. lone surrogates (no UTF-8 form): refused wherever a string goes --------------------------

const LONE_CALLS = [
  ['getNodeSync', (s) => [s]],
  ['getNode', (s) => [s]],
  ['deleteNode', (s) => [s]],
  ['neighbors', (s) => [s]],
  ['history', (s) => [s]],
  ['upsertNode', (s) => [{ id: s }], 'node.id'],
  ['upsertNode', (s) => [{ id: 'zz-new', title: s }], 'node.title'],
  ['upsertNode', (s) => [{ id: 'zz-new', meta: { deep: [{ k: s }] } }], 'node.meta value'],
  ['upsertNode', (s) => [{ id: 'zz-new', meta: { [s]: 1 } }], 'node.meta key'],
  ['upsertNodes', (s) => [[{ id: 'zz-new' }, { id: s }]], 'nodes[1].id'],
  ['addEdge', (s) => [{ source: 'a', target: s }], 'edge.target'],
  ['addEdges', (s) => [[{ source: 'a', target: 'b', type: s }]], 'edges[0].type'],
  ['updateMeta', (s) => ['a', [s]], 'meta'],
  ['updateMetaJson', (s) => ['a', `"${s}"`], 'metaJson'],
  ['deleteEdge', (s) => ['a', 'b', s], 'type'],
  ['search', (s) => [V(), { domain: s }], 'options.domain'],
  ['listNodes', (s) => [{ type: s }], 'options.type'],
  ['backup', (s) => [`${dir}/${s}.bak`], 'dest'], // not path.join: Bun's replaces lone surrogates
];
for (const s of LONE) {
  for (const [method, args, which = 'id'] of LONE_CALLS) {
    add(`${method}: ${which} ${show(s)} (a lone surrogate)`, 'main', method, () => args(s), 'invalid_argument');
  }
  add(`openSync: path ${show(s)} (a lone surrogate)`, 'module', 'openSync', () => [`${dir}/${s}.sqlite`], 'invalid_argument');
  add(`open: path ${show(s)} (a lone surrogate)`, 'module', 'open', () => [`${dir}/${s}.sqlite`], 'invalid_argument');
  add(`generateId: ${show(s)} (a lone surrogate)`, 'module', 'generateId', () => [s], 'invalid_argument');
}

// -- 6. a closed handle: every call is `closed`; close() is idempotent ----------------------------

const CLOSED_CALLS = [
  ...SPECS.map(([method, args]) => [method, args]),
  ...['begin', 'commit', 'rollback', 'optimize', 'vacuum', 'stats', 'statsSync', 'health', 'components', 'graphStats',
    'vectorIndexInfo', 'listNodes', 'pagerank', 'checkpoint'].map((m) => [`${m}`, () => [], '()']),
];
for (const [method, args, label = 'valid arguments'] of CLOSED_CALLS) {
  add(`closed handle: ${method} ${label}`, 'closed', method, args, 'closed');
}
add('closed handle: close() again', 'closed', 'close', () => [], ok((v) => assert.equal(v, undefined)));
add('closed handle: [Symbol.dispose]() again', 'closed', Symbol.dispose, () => [], ok((v) => assert.equal(v, undefined)));

// -- 7. transactions misused ---------------------------------------------------------------------

add('commit: no transaction open', 'main', 'commit', () => [], 'invalid_argument');
add('rollback: no transaction open', 'main', 'rollback', () => [], 'invalid_argument');
add('transaction: fn writes then throws (rolled back, the error is the caller\'s)', 'main', 'transaction', () => [() => {
  ctx.main.upsertNode({ id: 'zz-rolled-back' });
  throw Object.assign(new Error('mine'), { code: 'EMINE' });
}], 'EMINE');
add('transaction: fn writes then returns a Promise (rolled back)', 'main', 'transaction', () => [() => {
  ctx.main.upsertNode({ id: 'zz-rolled-back' });
  return Promise.resolve(1);
}], 'invalid_argument');
add('transaction: fn calls begin() inside', 'main', 'transaction', () => [() => ctx.main.begin()], 'invalid_argument');

// ---- the run -----------------------------------------------------------------------------------

let baseline;
const counts = { cases: 0, errors: 0, results: 0, coreBugs: [] };
const byCode = {};

before(() => {
  writeFileSync(BLOCKER, 'x');
  const main = resonance.openSync(MAIN);
  seed(main);
  ctx.main = main;
  ctx.scratch = resonance.openSync(SCRATCH);
  seed(ctx.scratch);
  ctx.closed = resonance.openSync(MAIN);
  ctx.closed.close();
  baseline = contentHash();
  const nodes = execFileSync(cliPath(), ['sql', '--raw', '--json', MAIN, QUERIES[0]]).toString().trim().split('\n');
  assert.equal(nodes.length, 4, 'the hashed content is the 4 seeded nodes');
});

after(() => {
  ctx.main?.close();
  ctx.scratch?.close();
});

/** Calls the case; returns { value } or { error, via: 'throw' | 'reject' }. */
async function call(c) {
  const recv = ctx[c.on];
  const args = c.args();
  let r;
  try {
    r = recv[c.method](...args);
  } catch (error) {
    return { error, via: 'throw', args };
  }
  const thenable = r !== null && (typeof r === 'object' || typeof r === 'function') && typeof r.then === 'function';
  const promiseForm = PROMISE.has(c.method) && c.method !== 'transaction';
  if (promiseForm !== thenable) return { error: new Error(`${String(c.method)} returned ${thenable ? 'a' : 'no'} Promise`), via: 'form', args };
  if (!thenable) return { value: r, args };
  try {
    return { value: await r, args };
  } catch (error) {
    return { error, via: 'reject', args };
  }
}

describe('bad-input matrix', () => {
  for (const c of cases) {
    test(c.name.replace(/\u0000/g, '\\u0000'), async () => {
      const out = await call(c);
      const writes = WRITES.has(c.method) && (c.on === 'main' || (c.on === 'module' && out.args[0] === MAIN));
      counts.cases += 1;
      if (typeof c.expect === 'function') {
        assert.ok(!out.error, `expected a result, got ${out.error?.code}: ${out.error?.message}`);
        await c.expect(out.value);
        counts.results += 1;
      } else {
        const e = out.error;
        assert.ok(e, `expected an Error with code ${c.expect}, got the result ${show(out.value)}`);
        assert.notEqual(out.via, 'form', e.message);
        assert.ok(e instanceof Error, `expected an Error instance, got ${e}`);
        const coreBug = c.coreBug && e.code === c.coreBug;
        if (coreBug) {
          counts.coreBugs.push(`${c.name}: ${e.code} (expected ${c.expect}): ${e.message.split('\n')[0].slice(0, 160).replace(/\u0000/g, '\\0')}`);
        } else {
          assert.equal(e.code, c.expect, `expected code ${c.expect}, got ${e.code}: ${e.message.slice(0, 300)}`);
        }
        // Argument-type errors (napi's own, kept in napiStatus) are thrown at the call, also by the
        // Promise forms; any other kind a Promise form meets rejects its Promise.
        if (e.napiStatus) assert.equal(out.via, 'throw');
        if (PROMISE.has(c.method) && e.code !== 'invalid_argument') assert.equal(out.via, 'reject', `${e.code} must reject`);
        if (!coreBug) {
          counts.errors += 1;
          byCode[e.code] = (byCode[e.code] ?? 0) + 1;
        }
      }
      // Alive, no transaction left open, nothing created or changed that must not be.
      assert.equal(resonance.generateId('./still/alive.md'), 'still-alive');
      assert.equal(ctx.main.inTransaction, false);
      assert.equal(ctx.scratch.inTransaction, false);
      if (c.neverCreated) assert.ok(!existsSync(NEVER), `${NEVER} was created`);
      c.after?.();
      if (writes) assert.equal(contentHash(), baseline, 'the main database changed');
    }, { timeout: 60_000 });
  }

  test('the main database is unchanged after the whole matrix; the summary line', () => {
    assert.equal(contentHash(), baseline, 'the main database changed');
    assert.ok(counts.cases === cases.length, `${counts.cases} of ${cases.length} cases ran`);
    const runtime = isBun ? `bun ${Bun.version}` : `node ${process.version}`;
    const kinds = Object.entries(byCode).sort((x, y) => y[1] - x[1]).map(([k, n]) => `${k} ${n}`).join(', ');
    assert.equal(counts.errors + counts.results + counts.coreBugs.length, counts.cases);
    const line = `node bad-input matrix: ${counts.cases} cases, ${counts.errors} errors with the exact code (${kinds}), `
      + `${counts.results} legitimate results checked, ${counts.coreBugs.length} with a known core deviation, 0 crashes, `
      + `main database unchanged (${hashChecks} content hashes) (runtime: ${runtime})`;
    console.log(line);
    for (const b of counts.coreBugs) console.log(`  known core deviation: ${b}`);
    const out = path.join(process.env.CARGO_TARGET_DIR || path.join(repoRoot, 'target'), 'reliability-counts');
    mkdirSync(out, { recursive: true });
    writeFileSync(path.join(out, isBun ? 'bun.txt' : 'node.txt'), `${line}\n${counts.coreBugs.map((b) => `  known core deviation: ${b}\n`).join('')}`);
  });
});
