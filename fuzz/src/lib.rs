//! The bodies of the fuzz targets, in `targets.rs` so that `core/tests/reliability.rs` replays the
//! committed corpora through exactly the same functions on stable Rust (without cargo-fuzz).

mod targets;

pub use targets::{fafcas, jsonl, ops};
