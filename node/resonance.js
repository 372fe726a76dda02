'use strict';
// The package entry: the generated binding (`index.js`) plus one rule napi-rs cannot express. An
// argument of the wrong JS type is rejected by napi-rs before any Rust code runs, with napi's own
// status as `err.code` (`StringExpected`, `InvalidArg`, …); here it becomes `invalid_argument`, like
// every other bad argument (design §9), and napi's status stays in `err.napiStatus`. Errors thrown by
// the function given to `transaction(fn)` pass through untouched.
const native = require('./index.js');

const KINDS = new Set(native.errorCodes());

function recode(e) {
  if (e instanceof Error && !KINDS.has(e.code)) {
    e.napiStatus = e.code;
    e.code = 'invalid_argument';
  }
  return e;
}

// Fixed arity (no exported function takes more than four arguments): rest parameters and `apply` cost
// V8 about a microsecond per call; passing `undefined` for a missing argument is the same as omitting it.
function wrap(fn) {
  const wrapped = function (a, b, c, d) {
    try {
      return fn.call(this, a, b, c, d);
    } catch (e) {
      throw recode(e);
    }
  };
  Object.defineProperty(wrapped, 'name', { value: fn.name });
  return wrapped;
}

const proto = native.Database.prototype;
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

module.exports = { ...native };
for (const name of ['open', 'openSync', 'generateId']) module.exports[name] = wrap(native[name]);
