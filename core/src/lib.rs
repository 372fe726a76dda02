//! Resonance: an embedded storage engine for local-first knowledge graphs with embeddings.
//!
//! One SQLite file holds "hollow" nodes (metadata, never document content), typed weighted edges, an
//! audit history and one FAFCAS embedding per node. Every binding (C, Python, Node) calls this crate;
//! none re-implements a rule of it.

pub mod error;
pub mod graph;
pub mod vector;

pub use error::{Error, ErrorKind, Result};
