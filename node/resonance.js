'use strict';
// The package entry: the generated binding (`index.js`) plus two rules napi-rs cannot express.
// 1. An argument of the wrong JS type is rejected by napi-rs before any Rust code runs, with napi's
//    own status as `err.code` (`StringExpected`, `InvalidArg`, …); here it becomes
//    `invalid_argument`, like every other bad argument (docs/errors.md), and napi's status stays in
//    `err.napiStatus`. Errors thrown by the function given to `transaction(fn)` pass through untouched.
// 2. Node metadata (`meta` of upsertNode / upsertNodes / upsertNodesSync / updateNode, the value of
//    updateMeta, the patch of mergeMeta) is
//    turned into JSON text here, by JSON.stringify (so a Date is stored as its ISO string, a toJSON
//    method is honoured), and passed on as `metaJson`. A value JSON.stringify would drop or write as
//    something else without a word is refused with `invalid_argument` instead: a Map, Set, WeakMap or
//    WeakSet (written as `{}`), a BigInt, a function or a Symbol, NaN and ±Infinity (written as
//    `null`), undefined in an array, a circular structure. An undefined property is omitted, as
//    JSON.stringify omits it.
// 3. A string holding a lone UTF-16 surrogate ('\ud800') has no UTF-8 form: napi-rs would replace it
//    with U+FFFD without a word, so 'x\ud800' and 'x\udc00' would name one node. Such a string, in
//    any argument (ids, node and edge fields, options, meta at any depth), is `invalid_argument`.
const native = require('./load.js'); // index.js, with an error naming a missing platform package

const KINDS = new Set(native.errorCodes());

function recode(e) {
  if (e instanceof Error && !KINDS.has(e.code)) {
    e.napiStatus = e.code;
    e.code = 'invalid_argument';
  }
  return e;
}

const wellFormed = typeof ''.isWellFormed === 'function'
  ? (s) => s.isWellFormed()
  : (s) => !/\p{Cs}/u.test(s); // with the u flag, only a lone surrogate is a code point of category Cs

// Where in `v` a string with a lone surrogate is ('' for `v` itself), or undefined. Typed arrays are
// skipped; the depth cap only bounds the walk (napi-rs refuses values nested that deep anyway).
function loneSurrogate(v, depth) {
  if (typeof v === 'string') return wellFormed(v) ? undefined : '';
  if (typeof v !== 'object' || v === null || depth > 160 || ArrayBuffer.isView(v)) return undefined;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (typeof x === 'number') continue;
      const at = loneSurrogate(x, depth + 1);
      if (at !== undefined) return `[${i}]${at}`;
    }
    return undefined;
  }
  for (const k in v) {
    if (!wellFormed(k)) return `[${JSON.stringify(k)}] (the key)`;
    const at = loneSurrogate(v[k], depth + 1);
    if (at !== undefined) return `.${k}${at}`;
  }
  return undefined;
}

// Throws `invalid_argument` when argument number `n` of `name` holds a string with a lone surrogate.
function checkStrings(name, n, a) {
  if (typeof a !== 'string' && (typeof a !== 'object' || a === null)) return;
  const at = loneSurrogate(a, 0);
  if (at !== undefined) {
    const e = new TypeError(`${name}: argument ${n}${at} holds a lone UTF-16 surrogate, which has no UTF-8 form`);
    e.code = 'invalid_argument';
    throw e;
  }
}

function metaError(msg) {
  const e = new TypeError(msg);
  e.code = 'invalid_argument';
  return e;
}

const at = (key) => (key === '' ? '' : ` at key ${JSON.stringify(key)}`);

// The JSON.stringify replacer behind rule 2: it sees each value after its toJSON ran.
function metaReplacer(key, v) {
  switch (typeof v) {
    case 'number':
      if (!Number.isFinite(v)) throw metaError(`meta: ${v}${at(key)} has no JSON form (JSON.stringify would write null)`);
      return v;
    case 'bigint':
      throw metaError(`meta: a BigInt${at(key)} has no JSON form; convert it to a string or a number first`);
    case 'function':
    case 'symbol':
      throw metaError(`meta: a ${typeof v}${at(key)} has no JSON form`);
    case 'undefined':
      if (Array.isArray(this)) throw metaError(`meta: undefined${at(key)} in an array has no JSON form (JSON.stringify would write null)`);
      return v;
    case 'object':
      if (v instanceof Map || v instanceof Set || v instanceof WeakMap || v instanceof WeakSet) {
        const kind = v instanceof Map ? 'Map' : v instanceof Set ? 'Set' : v instanceof WeakMap ? 'WeakMap' : 'WeakSet';
        throw metaError(`meta: a ${kind}${at(key)} would be stored as {} by JSON.stringify; convert it first (Object.fromEntries, Array.from)`);
      }
      return v;
    default:
      return v;
  }
}

// The JSON text of a meta value (rule 2); `undefined` only for `undefined` itself.
function metaJson(v) {
  if (v === undefined) return undefined;
  try {
    return JSON.stringify(v, metaReplacer);
  } catch (e) {
    if (e.code === 'invalid_argument') throw e;
    // A circular structure (TypeError) or one nested past the engine's stack (RangeError).
    throw metaError(`meta has no JSON form (a circular structure, or nested too deep): ${e.message}`);
  }
}

// A node whose `meta` is replaced by its JSON text (rule 2); nodes without meta, or with `metaJson`
// (which wins), pass unchanged.
function withMetaJson(node) {
  if (typeof node !== 'object' || node === null || node.meta === undefined || node.meta === null) return node;
  if (node.metaJson !== undefined && node.metaJson !== null) return node;
  // Own properties over the caller's object: its other fields are read through the prototype chain.
  return Object.create(node, {
    meta: { value: undefined, enumerable: true },
    metaJson: { value: metaJson(node.meta), enumerable: true },
  });
}

// Fixed arity (no exported function takes more than four arguments): rest parameters and `apply` cost
// V8 about a microsecond per call; passing `undefined` for a missing argument is the same as omitting it.
function wrap(fn) {
  const name = fn.name;
  const wrapped = function (a, b, c, d) {
    try {
      checkStrings(name, 1, a);
      checkStrings(name, 2, b);
      checkStrings(name, 3, c);
      checkStrings(name, 4, d);
      return fn.call(this, a, b, c, d);
    } catch (e) {
      throw recode(e);
    }
  };
  Object.defineProperty(wrapped, 'name', { value: fn.name });
  return wrapped;
}

const proto = native.Database.prototype;
// The raw native point reads, before the loop below wraps them (getNodeSync is rebuilt further down).
const nodePacked = proto.getNodePackedSync;
const nativeGetNodeSync = proto.getNodeSync;

// Rule 2 on the native calls that take meta values, before the loop below wraps them: so rule 3 is
// checked on the value as given (its JSON text would carry a lone surrogate as an escape) and a
// refusal passes through rule 1 like any other error.
const nativeUpdateMetaJson = proto.updateMetaJson;
const nativeMergeMetaJson = proto.mergeMetaJson;
for (const name of ['upsertNode', 'upsertNodes', 'upsertNodesSync', 'updateMeta', 'updateNode', 'mergeMeta', 'recordStats', 'recordStatsSync']) {
  const method = proto[name];
  const value = {
    upsertNode(node) {
      return method.call(this, withMetaJson(node));
    },
    upsertNodes(nodes, options) {
      const converted = Array.isArray(nodes) && nodes.some((n) => n?.meta != null) ? nodes.map(withMetaJson) : nodes;
      return options === undefined ? method.call(this, converted) : method.call(this, converted, options);
    },
    updateMeta(id, meta) {
      if (meta === undefined) return method.call(this, id, meta); // refused by the native call
      return nativeUpdateMetaJson.call(this, id, meta === null ? null : metaJson(meta));
    },
    updateNode(id, fields) {
      // `meta: null` clears the metadata (natively that is `metaJson: null`); `metaJson` wins.
      if (typeof fields !== 'object' || fields === null || fields.meta === undefined) return method.call(this, id, fields);
      if (fields.metaJson !== undefined) return method.call(this, id, fields);
      return method.call(this, id, Object.create(fields, {
        meta: { value: undefined, enumerable: true },
        metaJson: { value: fields.meta === null ? null : metaJson(fields.meta), enumerable: true },
      }));
    },
    recordStats(options) {
      // `meta` (any JSON value) becomes `metaJson`, which wins when both are given.
      if (typeof options !== 'object' || options === null || options.meta == null || options.metaJson !== undefined) {
        return method.call(this, options);
      }
      return method.call(this, Object.create(options, {
        meta: { value: undefined, enumerable: true },
        metaJson: { value: metaJson(options.meta), enumerable: true },
      }));
    },
    mergeMeta(id, patch) {
      if (patch === undefined) return method.call(this, id, patch); // refused by the native call
      return nativeMergeMetaJson.call(this, id, patch === null ? 'null' : metaJson(patch));
    },
  }[{ upsertNodesSync: 'upsertNodes', recordStatsSync: 'recordStats' }[name] ?? name];
  Object.defineProperty(value, 'name', { value: name });
  Object.defineProperty(proto, name, { ...Object.getOwnPropertyDescriptor(proto, name), value });
}

// Rule 4: the `signal` option of the long Promise calls (an AbortSignal). An already-aborted signal
// rejects the Promise with `interrupted` at once, without running anything; otherwise the call runs
// under a native cancel token (armed on the handle just for this call) that the signal's abort event
// cancels, so the running work stops and the Promise rejects with `interrupted`.
const cancelToken = native._cancel;
const arm = proto._arm;
const disarm = proto._disarm;
delete proto._arm;
delete proto._disarm;
const SIGNAL_CALLS = {
  search: 1, searchLike: 1, searchBatch: 1, pagerank: 0, betweenness: 0, communities: 0, components: 0,
  linkCandidates: 1, pillars: 1, upsertNodes: 1, addEdges: 1, migrate: 0, backup: 1,
};
function abortedError(name, signal) {
  const r = signal.reason;
  const why = r === undefined ? '' : ` (${r instanceof Error ? r.message : String(r)})`;
  const e = new Error(`interrupted: ${name}() was not started: its signal was already aborted${why}`);
  e.code = 'interrupted';
  return e;
}
for (const [name, at] of Object.entries(SIGNAL_CALLS)) {
  const method = proto[name];
  const value = function (a, b, c, d) {
    const opts = at === 0 ? a : b;
    const signal = typeof opts === 'object' && opts !== null ? opts.signal : undefined;
    if (signal === undefined || signal === null) return method.call(this, a, b, c, d);
    if (typeof signal !== 'object' || typeof signal.aborted !== 'boolean' || typeof signal.addEventListener !== 'function') {
      throw recode(new TypeError(`${name}(): options.signal must be an AbortSignal`));
    }
    if (signal.aborted) return Promise.reject(abortedError(name, signal));
    const token = arm.call(this);
    const onAbort = () => cancelToken(token);
    signal.addEventListener('abort', onAbort, { once: true });
    let p;
    try {
      p = method.call(this, a, b, c, d);
    } catch (e) {
      signal.removeEventListener('abort', onAbort);
      throw e;
    } finally {
      disarm.call(this);
    }
    const done = () => signal.removeEventListener('abort', onAbort);
    p.then(done, done);
    return p;
  };
  Object.defineProperty(value, 'name', { value: name });
  Object.defineProperty(proto, name, { ...Object.getOwnPropertyDescriptor(proto, name), value });
}

for (const name of Object.getOwnPropertyNames(proto)) {
  const d = Object.getOwnPropertyDescriptor(proto, name);
  if (name === 'constructor' || typeof d.value !== 'function') continue;
  if (name === 'transaction') {
    const transaction = d.value;
    d.value = function transaction_(fn) {
      if (typeof fn !== 'function') {
        throw recode(new TypeError(`transaction(fn): fn must be a function, got ${fn === null ? 'null' : typeof fn}`));
      }
      return transaction.call(this, fn);
    };
    Object.defineProperty(d.value, 'name', { value: 'transaction' });
  } else {
    d.value = wrap(d.value);
  }
  Object.defineProperty(proto, name, d);
}

// getNodeSync without the embedding (the common point read): the text columns cross N-API packed in
// one string (`pack_fields` in src/lib.rs) and the object is built here, `meta` parsed by JSON.parse
// (text that is not JSON stays text, as in the native conversion); the native method stays for
// `withEmbedding`.
function parseMeta(m) {
  if (m === null) return null;
  try {
    return JSON.parse(m);
  } catch {
    return m;
  }
}
// A node packed by the addon's `pack_fields`, read by the layout the addon states once
// (`_packedNodeLayout`: the field names in order, the header's characters per field and bits per
// character): a header holding each field's UTF-16 length plus one (0: null), as '0'-based
// characters, most significant first, then the fields. `meta` is parsed as `parseMeta` does.
const PACKED = native._packedNodeLayout();
const PACKED_HEADER = PACKED.fields.length * PACKED.headerWidth;
function unpackNode(s) {
  const node = {};
  const { fields, headerWidth, bitsPerChar } = PACKED;
  let p = PACKED_HEADER;
  for (let i = 0, b = 0; i < fields.length; i++) {
    let v = 0;
    for (let j = 0; j < headerWidth; j++, b++) v = (v << bitsPerChar) | (s.charCodeAt(b) - 48);
    let f = null;
    if (v !== 0) {
      f = s.slice(p, p + v - 1);
      p += v - 1;
    }
    node[fields[i]] = fields[i] === 'meta' ? parseMeta(f) : f;
  }
  node.embedding = null;
  return node;
}
function getNodeSync(id, withEmbedding) {
  if (withEmbedding) return nativeGetNodeSync.call(this, id, withEmbedding);
  const s = nodePacked.call(this, id);
  return s === null ? null : unpackNode(s);
}
Object.defineProperty(proto, 'getNodeSync', {
  ...Object.getOwnPropertyDescriptor(proto, 'getNodeSync'),
  value: wrap(getNodeSync),
});
delete proto.getNodePackedSync;

// Rule 5: application SQL (docs/sql.md) in better-sqlite3's shape. `db.prepare(sql)` compiles the
// statement at once (errors are thrown now) and returns a `Statement` over the addon's
// `NativeStatement`. A run crosses N-API once. `run`/`get` with positional parameters take the fast
// path below (fast.rs); otherwise the parameters go in as one array (positional) or one plain object
// (named), and a row comes back as an array of values. Either way the row is turned into an object
// here, by the column names the statement keeps (the addon sends new names only when they change,
// after a `SELECT *` was recompiled over an altered table). Rows are read at once: `iterate()` walks
// an array `all()` read.
const nativePrepare = proto._prepare;
delete proto._prepare;
const nativeExec = proto.exec;
// The fast `run`/`get` of a statement (node/src/fast.rs): two functions made for it, called with
// the positional parameters as their own arguments, and a buffer shared with them (Float64Array
// slots; the layout is fast.rs's). Before a call the Statement writes each parameter's kind, and a
// number's value (which then never crosses N-API); `run` reports changes and lastInsertRowid
// there, `get` its row's numbers (returning only its other values).
const nativeFast = native.NativeStatement.prototype._fast;
delete native.NativeStatement.prototype._fast;
const FAST_MAX = 32; // parameters
const FAST_MAX_COLUMNS = 64;
const OUT_CHANGES = 0;
const OUT_ROWID = 1;
const OUT_ROWID_I64 = 2;
const OUT_ROWID_BIG = 3;
const OUT_SAFE = 4;
const OUT_ROW = 5;
const OUT_COLUMNS = 6;
const OUT_EXTRA = 7;
const OUT_PARAM_KIND = 8;
const OUT_PARAM_NUM = OUT_PARAM_KIND + FAST_MAX;
const OUT_COL_KIND = OUT_PARAM_NUM + FAST_MAX;
const OUT_COL_NUM = OUT_COL_KIND + FAST_MAX_COLUMNS;
const OUT_TEXT = OUT_COL_NUM + FAST_MAX_COLUMNS;
const P_OTHER = 0;
const P_NUMBER = 1;
const P_NULL = 2;
const P_STRING = 3;
const C_NUMBER = 1;
const C_NULL = 2;
const C_TEXT = 3;

// Under Bun, `run`/`get` with numbers, strings and nulls call the addon through bun:ffi instead
// (node/src/bun.rs: the same code as the fast functions, the arguments passed differently; an N-API
// call costs hundreds of nanoseconds under Bun, a bun:ffi call a few): `dlopen` on the addon already
// loaded, the statement named by a key the addon gives; the strings go as UTF-8 in one shared byte
// buffer, and a row's text comes back in it. A failure is thrown by the statement's N-API `err`.
// `RESONANCE_BUN_FFI=0` turns it off. Internals, not API.
const FFI_FAILED = 0;
const FFI_DONE = 1;
const FFI_REST = 2;
let bunFfi = null;
if (typeof Bun !== 'undefined' && process.env.RESONANCE_BUN_FFI !== '0') {
  try {
    const { dlopen, FFIType, ptr } = require('bun:ffi');
    const mod = Object.values(require.cache).find((m) => m && typeof m.id === 'string' && m.id.endsWith('.node')
      && m.exports && m.exports.NativeStatement === native.NativeStatement);
    if (mod !== undefined) {
      const sig = { args: [FFIType.u32, FFIType.u32, FFIType.u32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 };
      const lib = dlopen(mod.id, { resonance_bun_run: sig, resonance_bun_get: sig });
      const grow = (n) => {
        const b = Buffer.alloc(Math.max(n, 2 * bunFfi.bytes.length));
        bunFfi.bytes.copy(b);
        bunFfi.bytes = b;
        bunFfi.ptr = ptr(b);
      };
      const bytes = Buffer.alloc(1 << 16);
      bunFfi = { run: lib.symbols.resonance_bun_run, get: lib.symbols.resonance_bun_get, bytes, ptr: ptr(bytes), grow };
    }
  } catch {
    bunFfi = null;
  }
}

function argError(msg) {
  const e = new TypeError(msg);
  e.code = 'invalid_argument';
  return e;
}

function isPlainObject(a) {
  if (typeof a !== 'object' || a === null || Array.isArray(a) || ArrayBuffer.isView(a)) return false;
  const p = Object.getPrototypeOf(a);
  return p === Object.prototype || p === null;
}

// Throws `invalid_argument` for a string parameter holding a lone surrogate (rule 3).
function checkParam(v, where) {
  if (typeof v === 'string' && !wellFormed(v)) {
    throw argError(`SQL parameter ${where} holds a lone UTF-16 surrogate, which has no UTF-8 form`);
  }
}

// The parameters of one call as the addon takes them: one array or one plain object as the only
// argument is the parameter list (named, for an object); otherwise the arguments are the positional
// values.
function collect(args) {
  let p = args;
  if (args.length === 1) {
    const a = args[0];
    if (Array.isArray(a)) p = a;
    else if (isPlainObject(a)) {
      for (const k in a) {
        if (!wellFormed(k)) throw argError(`SQL parameter name ${JSON.stringify(k)} holds a lone UTF-16 surrogate`);
        checkParam(a[k], k);
      }
      return a;
    }
  }
  for (let i = 0; i < p.length; i++) checkParam(p[i], i + 1);
  return p;
}

// A function turning a row's values into its object, for one list of column names: one object
// literal (an object of one shape, built without the generic keyed stores a loop would make). The
// names are quoted as JSON string literals; `__proto__` is a computed key, so that it is an own
// property as every other name, never the prototype. A later duplicate name wins, as it does in
// better-sqlite3.
const makers = new Map();
function rowMaker(cols) {
  const key = JSON.stringify(cols);
  let make = makers.get(key);
  if (make === undefined) {
    const fields = cols.map((c, i) => `${c === '__proto__' ? '["__proto__"]' : JSON.stringify(c)}: v[${i}]`);
    make = new Function('v', `return { ${fields.join(', ')} };`); // eslint-disable-line no-new-func
    if (makers.size < 1024) makers.set(key, make);
  }
  return make;
}

const OBJECT = 0;
const PLUCK = 1;
const RAW = 2;

class Statement {
  #n;
  #db;
  #source;
  #info;
  #cols;
  #make;
  #mode = OBJECT;
  #safe = false;
  #bound = undefined;
  #run; // the fast functions
  #get;
  #err;
  #rest;
  #slot = -1; // the key of the bun:ffi functions (-1: none)
  #gen = 0;
  #ffi = -1; // the byte length of the strings of the positional parameters for bun:ffi (-1: N-API)
  #f; // the buffer they share (see OUT_*)
  #i; // the same as 64-bit integers

  constructor(db, n, source) {
    this.#db = db;
    this.#n = n;
    this.#source = source;
    this.#info = n.info();
    this.#cols = this.#info.columns.map((c) => c.name);
    this.#make = rowMaker(this.#cols);
    const [run, get, err, rest, buffer, slot, gen] = nativeFast.call(n, bunFfi !== null);
    this.#run = run;
    this.#get = get;
    this.#err = err;
    this.#rest = rest;
    if (slot !== undefined) {
      this.#slot = slot;
      this.#gen = gen;
    }
    this.#f = new Float64Array(buffer);
    this.#i = new BigInt64Array(buffer);
  }

  /** The SQL text. */
  get source() { return this.#source; }
  /** Whether the statement returns rows (`get`, `all`, `iterate` need it). */
  get reader() { return this.#info.reader; }
  /** Whether the statement only reads. */
  get readonly() { return this.#info.readonly; }
  /** The handle it was prepared on. */
  get database() { return this.#db; }

  #params(args) {
    if (this.#bound !== undefined) {
      if (args.length !== 0) throw argError('this statement has bound parameters (bind()): call it without parameters');
      return this.#bound;
    }
    return collect(args);
  }

  #reading(name) {
    if (!this.#info.reader) throw argError(`${name}() is for statements that return rows; use run() for ${JSON.stringify(this.#source)}`);
  }

  #shape(v) {
    if (this.#mode === PLUCK) return v[0];
    if (this.#mode === RAW) return v;
    return this.#make(v);
  }

  #row(r) {
    if (r === null) return undefined;
    if (!Array.isArray(r)) {
      this.#cols = r.columns;
      this.#make = rowMaker(r.columns);
      r = r.values;
    }
    return this.#shape(r);
  }

  #rows(r) {
    if (!Array.isArray(r)) {
      this.#cols = r.columns;
      this.#make = rowMaker(r.columns);
      r = r.rows;
    }
    if (this.#mode === RAW) return r;
    for (let i = 0; i < r.length; i++) r[i] = this.#shape(r[i]);
    return r;
  }

  // The positional parameters of a call for the fast functions, or undefined when the call takes
  // the general path (named parameters, an object bound with bind(), too many values).
  #positional(args) {
    let p = args;
    if (this.#bound !== undefined) {
      if (args.length !== 0) throw argError('this statement has bound parameters (bind()): call it without parameters');
      p = this.#bound;
      if (!Array.isArray(p)) return undefined;
    } else if (args.length === 1) {
      const a = args[0];
      if (Array.isArray(a)) p = a;
      else if (isPlainObject(a)) return undefined;
    }
    if (p.length > FAST_MAX) return undefined;
    const f = this.#f;
    let ffi = this.#slot < 0 ? -1 : 0;
    for (let i = 0; i < p.length; i++) {
      const v = p[i];
      const t = typeof v;
      if (t === 'number') {
        f[OUT_PARAM_KIND + i] = P_NUMBER;
        f[OUT_PARAM_NUM + i] = v;
      } else if (t === 'string') {
        if (!wellFormed(v)) throw argError(`SQL parameter ${i + 1} holds a lone UTF-16 surrogate, which has no UTF-8 form`);
        f[OUT_PARAM_KIND + i] = P_STRING;
        if (ffi >= 0) {
          // Its UTF-8 (at most 3 bytes a UTF-16 unit) after the previous strings; its length in
          // the number's slot.
          if (ffi + 3 * v.length > bunFfi.bytes.length) bunFfi.grow(ffi + 3 * v.length);
          const n = bunFfi.bytes.utf8Write(v, ffi);
          f[OUT_PARAM_NUM + i] = n;
          ffi += n;
        }
      } else if (v === null || v === undefined) {
        f[OUT_PARAM_KIND + i] = P_NULL;
      } else {
        f[OUT_PARAM_KIND + i] = P_OTHER;
        ffi = -1;
      }
    }
    this.#ffi = ffi;
    return p;
  }

  // The row of a fast get: its numbers from the buffer, its text sliced from the one string of
  // its text columns, its other values from `r` (`[text, ...values]` when it has some); the
  // general path's shape when the column names changed.
  #fastRow(r) {
    const f = this.#f;
    const row = f[OUT_ROW];
    if (row === 0) return null;
    if (row === 2) return r;
    const n = f[OUT_COLUMNS] | 0;
    if (n > FAST_MAX_COLUMNS) return r;
    const v = new Array(n);
    const plain = f[OUT_EXTRA] === 0;
    const text = plain ? r : r[0];
    for (let i = 0, k = 1, at = 0; i < n; i++) {
      const kind = f[OUT_COL_KIND + i];
      if (kind === C_NUMBER) v[i] = f[OUT_COL_NUM + i];
      else if (kind === C_TEXT) {
        const end = at + (f[OUT_COL_NUM + i] | 0); // an int32 (slice is slower with doubles under Bun)
        v[i] = text.slice(at, end);
        at = end;
      } else if (kind === C_NULL) v[i] = null;
      else v[i] = r[k++];
    }
    return v;
  }

  // Throws a bun:ffi call's failure (the error the statement kept, as its N-API function throws it).
  #ffiFailed(s) {
    if (s === FFI_FAILED) this.#err();
    const e = new Error('resonance: a bun:ffi statement call found no statement');
    e.code = 'internal';
    throw e;
  }

  /** Runs the statement: `{ changes, lastInsertRowid }`. */
  run(...args) {
    try {
      const p = this.#positional(args);
      if (p === undefined) {
        const r = this.#n.run(this.#params(args), this.#safe);
        return { changes: r[0], lastInsertRowid: r[1] };
      }
      if (this.#ffi < 0) this.#run(...p);
      else {
        const s = bunFfi.run(this.#slot, this.#gen, p.length, bunFfi.ptr, bunFfi.bytes.length);
        if (s !== FFI_DONE) this.#ffiFailed(s);
      }
      const f = this.#f;
      return { changes: f[OUT_CHANGES], lastInsertRowid: f[OUT_ROWID_BIG] !== 0 ? this.#i[OUT_ROWID_I64] : f[OUT_ROWID] };
    } catch (e) {
      throw recode(e);
    }
  }

  /** The first row (an object; its first value with `pluck()`, an array with `raw()`), or undefined. */
  get(...args) {
    try {
      this.#reading('get');
      const p = this.#positional(args);
      if (p === undefined) return this.#row(this.#n.get(this.#params(args), this.#safe));
      if (this.#ffi < 0) return this.#row(this.#fastRow(this.#get(...p)));
      const s = bunFfi.get(this.#slot, this.#gen, p.length, bunFfi.ptr, bunFfi.bytes.length);
      let r;
      if (s === FFI_DONE) r = this.#f[OUT_ROW] === 0 ? null : bunFfi.bytes.utf8Slice(0, this.#f[OUT_TEXT]);
      else if (s === FFI_REST) r = this.#rest();
      else this.#ffiFailed(s);
      return this.#row(this.#fastRow(r));
    } catch (e) {
      throw recode(e);
    }
  }

  /** Every row. */
  all(...args) {
    try {
      this.#reading('all');
      return this.#rows(this.#n.all(this.#params(args), this.#safe));
    } catch (e) {
      throw recode(e);
    }
  }

  /** The rows, one at a time (read at once, like `all()`). */
  iterate(...args) {
    return this.all(...args)[Symbol.iterator]();
  }

  /** `run` on the thread pool: a Promise. */
  runAsync(...args) {
    try {
      return this.#n.runAsync(this.#params(args), this.#safe);
    } catch (e) {
      throw recode(e);
    }
  }

  /** `get` on the thread pool: a Promise. */
  getAsync(...args) {
    let p;
    try {
      this.#reading('getAsync');
      p = this.#n.getAsync(this.#params(args), this.#safe);
    } catch (e) {
      throw recode(e);
    }
    return p.then((r) => this.#row(r));
  }

  /** `all` on the thread pool: a Promise. */
  allAsync(...args) {
    let p;
    try {
      this.#reading('allAsync');
      p = this.#n.allAsync(this.#params(args), this.#safe);
    } catch (e) {
      throw recode(e);
    }
    return p.then((r) => this.#rows(r));
  }

  /** Rows as their first column's value (`pluck(false)`: back to objects). */
  pluck(toggle = true) {
    this.#reading('pluck');
    if (toggle) this.#mode = PLUCK;
    else if (this.#mode === PLUCK) this.#mode = OBJECT;
    return this;
  }

  /** Rows as arrays of values (`raw(false)`: back to objects). */
  raw(toggle = true) {
    this.#reading('raw');
    if (toggle) this.#mode = RAW;
    else if (this.#mode === RAW) this.#mode = OBJECT;
    return this;
  }

  /** INTEGERs as bigints (and `lastInsertRowid` too); `safeIntegers(false)`: numbers again. */
  safeIntegers(toggle = true) {
    this.#safe = Boolean(toggle);
    this.#f[OUT_SAFE] = this.#safe ? 1 : 0;
    return this;
  }

  /** Binds parameters for good: later calls take none. */
  bind(...args) {
    if (this.#bound !== undefined) throw argError('bind(): this statement\'s parameters are already bound');
    const p = collect(args);
    this.#bound = Array.isArray(p) ? Object.freeze([...p]) : Object.freeze({ ...p });
    return this;
  }

  /** The result columns: `{ name, column, table, database, type }` (better-sqlite3's shape). */
  columns() {
    try {
      this.#reading('columns');
    } catch (e) {
      throw recode(e);
    }
    return this.#info.columns.map((c) => ({ ...c }));
  }
}
Object.defineProperty(Statement.prototype, Symbol.toStringTag, { value: 'Statement' });

Object.defineProperty(proto, 'prepare', {
  value: function prepare(sql) {
    try {
      checkStrings('prepare', 1, sql);
      return new Statement(this, nativePrepare.call(this, sql), sql);
    } catch (e) {
      throw recode(e);
    }
  },
  writable: true,
  configurable: true,
});
Object.defineProperty(proto, 'exec', {
  value: function exec(script) {
    try {
      checkStrings('exec', 1, script);
      nativeExec.call(this, script);
    } catch (e) {
      throw recode(e);
    }
    return this;
  },
  writable: true,
  configurable: true,
});

module.exports = { ...native };
delete module.exports._cancel;
delete module.exports._packedNodeLayout;
for (const name of ['open', 'openSync', 'generateId']) module.exports[name] = wrap(native[name]);
module.exports.Statement = Statement;
