'use strict';
// The package entry: the generated binding (`index.js`) plus two rules napi-rs cannot express.
// 1. An argument of the wrong JS type is rejected by napi-rs before any Rust code runs, with napi's
//    own status as `err.code` (`StringExpected`, `InvalidArg`, …); here it becomes
//    `invalid_argument`, like every other bad argument (design §9), and napi's status stays in
//    `err.napiStatus`. Errors thrown by the function given to `transaction(fn)` pass through untouched.
// 2. A string holding a lone UTF-16 surrogate ('\ud800') has no UTF-8 form: napi-rs would replace it
//    with U+FFFD without a word, so 'x\ud800' and 'x\udc00' would name one node. Such a string, in
//    any argument (ids, node and edge fields, options, meta at any depth), is `invalid_argument`.
const native = require('./index.js');

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
// The nine fields of a string packed by `pack_fields`: a header of 9 × 5 characters (6 bits each,
// '0'-based) holding each field's UTF-16 length plus one (0: null), then the fields.
function unpackFields(s) {
  const f = new Array(9);
  let p = 45;
  for (let i = 0, b = 0; i < 9; i++, b += 5) {
    const v = ((s.charCodeAt(b) - 48) << 24) | ((s.charCodeAt(b + 1) - 48) << 18)
      | ((s.charCodeAt(b + 2) - 48) << 12) | ((s.charCodeAt(b + 3) - 48) << 6) | (s.charCodeAt(b + 4) - 48);
    if (v === 0) {
      f[i] = null;
    } else {
      f[i] = s.slice(p, p + v - 1);
      p += v - 1;
    }
  }
  return f;
}
function getNodeSync(id, withEmbedding) {
  if (withEmbedding) return nativeGetNodeSync.call(this, id, withEmbedding);
  const s = nodePacked.call(this, id);
  if (s === null) return null;
  const f = unpackFields(s);
  return {
    id: f[0], type: f[1], title: f[2], domain: f[3], layer: f[4], hash: f[5], summary: f[6],
    meta: parseMeta(f[7]), date: f[8], embedding: null,
  };
}
Object.defineProperty(proto, 'getNodeSync', {
  ...Object.getOwnPropertyDescriptor(proto, 'getNodeSync'),
  value: wrap(getNodeSync),
});
delete proto.getNodePackedSync;

module.exports = { ...native };
for (const name of ['open', 'openSync', 'generateId']) module.exports[name] = wrap(native[name]);
