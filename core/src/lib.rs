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

mod analytics;
pub mod backup;
mod cache;
pub mod connection;
mod db;
mod embeddings;
pub mod error;
pub mod graph;
pub mod health;
mod ids;
pub mod migrate;
pub mod schema;
mod store;
pub mod vector;

pub use cache::VectorSkips;
pub use connection::OpenOptions;
pub use db::Database;
pub use embeddings::{SearchOptions, VectorIndexInfo};
pub use error::{Error, ErrorKind, Result};
pub use graph::{Communities, GraphSnapshot, GraphStats};
pub use health::HealthReport;
pub use ids::generate_id;
pub use migrate::{MigrateOptions, MigrationPlan, MigrationReport};
pub use store::{Checkpoint, Edge, EdgeInput, HistoryEntry, ListOptions, Node, NodeInput, Stats};
pub use vector::matrix::Hit;
