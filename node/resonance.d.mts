// Types of the ESM entry resonance.mjs: the same names as the CommonJS entry, plus a default export
// holding all of them.
export * from './resonance.js';
import * as resonance from './resonance.js';
export default resonance;
