// The ESM entry of `resonance/amalfa` (the CommonJS amalfa.js, re-exported by name).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const amalfa = require('./amalfa.js');

export const { ResonanceDB, RawDatabase, RawStatement, VectorEngine, DatabaseFactory, connectToResonance, performHealthCheck } = amalfa;
