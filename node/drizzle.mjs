// The ESM entry of `resonance/drizzle` (the CommonJS drizzle.js, re-exported by name).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const driver = require('./drizzle.js');

export const { drizzle, migrate } = driver;
