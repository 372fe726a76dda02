//! FAFCAS vectors: encoding, validation, the SIMD dot-product kernel, bounded top-k and the in-memory
//! matrix that answers exact search without touching SQLite on a warm handle.

pub mod fafcas;
pub mod kernel;
pub mod matrix;
pub mod topk;
