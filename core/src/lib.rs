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
pub mod app_migrate;
mod authorizer;
pub mod backup;
mod cache;
pub mod cancel;
pub mod connection;
mod db;
mod embeddings;
pub mod error;
pub(crate) mod fork;
pub mod graph;
pub mod health;
mod ids;
pub mod migrate;
mod pool;
pub mod schema;
mod sql;
pub mod stats_history;
mod store;
mod triggers;
pub mod vector;

pub use app_migrate::{
    AppDirection, AppMigrateOptions, AppMigration, AppMigrationReport, AppMigrationSet,
    AppMigrationStatus, AppPlannedStep, AppliedStep,
};
pub use cache::VectorSkips;
pub use cancel::CancelToken;
pub use connection::{OpenOptions, VectorMemory};
pub use db::Database;
pub use embeddings::{SearchOptions, VectorIndexInfo};
pub use error::{Error, ErrorKind, Result};
pub use graph::{
    BetweennessOptions, Communities, CommunityOptions, Direction, GraphSnapshot, GraphStats,
    LinkCandidate, LinkCandidateOptions, PageRankOptions, PathOptions, Pillar, PillarOptions,
    Ranking, TraverseOptions,
};
pub use health::HealthReport;
pub use ids::generate_id;
pub use migrate::{MigrateOptions, MigrationPlan, MigrationReport};
pub use sql::{
    ColumnInfo, ExecuteResult, Params, PreparedRows, PreparedRun, PreparedSql, Row, Rows,
    SqlBinder, SqlCell, SqlRow, SqlStats, StatementInfo, Value,
};
pub use stats_history::{
    RecordStatsOptions, StatsFinding, StatsSnapshot, StatsValidation, StatsValidationOptions,
};
pub use store::{
    json_merge_patch, parse_stored_json, Checkpoint, CheckpointMode, Edge, EdgeInput, HistoryEntry,
    ListOptions, Node, NodeInput, NodeUpdate, Stats,
};
pub use vector::matrix::Hit;
