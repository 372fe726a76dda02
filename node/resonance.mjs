// The package's ESM entry (`import { open } from 'resonance'`, selected by the "import" condition of
// package.json's "exports"). The CommonJS entry resonance.js builds its exports at run time, which
// Node's static detection of CommonJS exports cannot see, so the names are listed here once;
// __test__/esm.test.mjs checks that they are exactly the functions, classes and constants that
// index.d.ts declares.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const resonance = require('./resonance.js');

export const {
  Database,
  errorCodes,
  generateId,
  NativeStatement,
  open,
  openSync,
  Statement,
  version,
  __napiBindingTarget,
} = resonance;
export default resonance;
