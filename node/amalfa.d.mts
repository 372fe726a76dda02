// Types of the ESM entry amalfa.mjs.
export * from './amalfa.js'
