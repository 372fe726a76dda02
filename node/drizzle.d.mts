// Types of the ESM entry drizzle.mjs.
export * from './drizzle.js'
