// The package entry's types: those napi-rs generated for the binding (index.d.ts). The entry
// (resonance.js) only re-codes napi's argument-type errors as `invalid_argument`.
export * from './index'
