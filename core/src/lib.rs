//! Resonance: an embedded storage engine for local-first knowledge graphs with embeddings.
//!
//! One SQLite file holds "hollow" nodes (metadata, never document content), typed weighted edges, an
//! audit history and one FAFCAS embedding per node. Every binding (C, Python, Node) calls this crate;
//! none re-implements a rule of it.
//!
//! ```no_run
//! let db = resonance::Database::open("memory/.amalfa/resonance.db")?;
//! println!("{:?}", db.health()?.journal_mode);
//! # Ok::<(), resonance::Error>(())
//! ```

pub mod backup;
mod cache;
pub mod connection;
mod db;
pub mod error;
pub mod graph;
pub mod health;
pub mod migrate;
pub mod schema;
pub mod vector;

pub use connection::OpenOptions;
pub use db::Database;
pub use error::{Error, ErrorKind, Result};
pub use health::HealthReport;
pub use migrate::{MigrateOptions, MigrationPlan, MigrationReport};
