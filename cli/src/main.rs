//! The `resonance` command: inspect, migrate, back up, search and analyse a Resonance database, and a
//! demo on a bundled sample. Human output by default, stable JSON with `--json`.

mod backup;
mod demo;
mod doctor;
mod embed;
mod graph;
mod jsonl;
mod migrate;
mod output;
mod search;
mod sql;
mod stats;
mod transfer;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use resonance::SearchOptions;

#[derive(Parser)]
#[command(
    name = "resonance",
    version,
    about = "Resonance: an embedded SQLite engine for knowledge graphs with embeddings"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Health report: connection settings, quick_check, schema shape and state (applied steps with
    /// dates, pending steps), vectors, edges and content checks. Exit 0 healthy, 1 problems, 2 could not open.
    Doctor {
        /// The database file.
        path: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Bring a database (including one the TypeScript application made) to the current schema.
    Migrate {
        /// The database file.
        path: PathBuf,
        /// List the steps and their SQL; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Run steps marked destructive (they drop or rewrite data).
        #[arg(long)]
        allow_destructive: bool,
        /// Do not back the database up first (not recommended).
        #[arg(long)]
        no_backup: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Online backup, checked with integrity_check: to DEST, or into backups/ beside the database.
    Backup {
        /// The database file.
        path: PathBuf,
        /// Where to write the copy (must not exist).
        dest: Option<PathBuf>,
    },
    /// Build a database from the bundled documentation, search it and analyse its graph.
    Demo {
        /// Where to build it (replaced if it exists).
        #[arg(long, default_value = "demo-out/demo.db")]
        db: PathBuf,
    },
    /// Counts and sizes.
    Stats {
        /// The database file.
        path: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Exact top-k vector search.
    Search {
        /// The database file.
        path: PathBuf,
        /// The query as a JSON array of numbers.
        #[arg(long, conflicts_with_all = ["vector_file", "like", "text"])]
        vector_json: Option<String>,
        /// The query as a file of little-endian float32 (FAFCAS).
        #[arg(long, conflicts_with_all = ["like", "text"])]
        vector_file: Option<PathBuf>,
        /// Use the stored vector of this node (it is left out of the results).
        #[arg(long, conflicts_with = "text")]
        like: Option<String>,
        /// Embed this text with the demo's procedure (for databases the demo built).
        #[arg(long)]
        text: Option<String>,
        /// How many results (default: the library's).
        #[arg(short)]
        k: Option<usize>,
        /// Only this domain.
        #[arg(long)]
        domain: Option<String>,
        /// Only this node type.
        #[arg(long = "type")]
        node_type: Option<String>,
        /// Lowest score returned (default: scores > 0 only).
        #[arg(long)]
        min_score: Option<f32>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Import nodes and edges from JSON lines (all or nothing; the error names the line of the first bad
    /// record). A file `export` wrote is written back row for row, exactly; other files hold one
    /// {"kind":"node",…} or {"kind":"edge",…} record per line, written through the API.
    Import {
        /// The database file.
        path: PathBuf,
        /// The JSONL file.
        file: PathBuf,
    },
    /// Export every node and edge, dangling edges included, as JSON lines that hold every column exactly
    /// as stored (meta as its stored text, JSON or not; embeddings as float arrays or hex blobs). FILE
    /// must not exist.
    Export {
        /// The database file.
        path: PathBuf,
        /// The JSONL file to write.
        file: PathBuf,
    },
    /// Graph analytics on the stored graph.
    Graph {
        /// The database file.
        path: PathBuf,
        #[command(subcommand)]
        query: graph::GraphQuery,
        /// Print JSON.
        #[arg(long, global = true)]
        json: bool,
    },
    /// Run one SQL statement on the file with a plain connection (no migration), printing result rows
    /// as JSON lines. For inspection and tests that play "another program wrote this file". The
    /// connection has trusted_schema off and SQLITE_DBCONFIG_DEFENSIVE on; the file must exist.
    Sql {
        /// The database file (it must exist unless --create is given).
        path: PathBuf,
        /// The SQL: exactly one statement unless --script is given.
        sql: String,
        /// Create the file if it does not exist.
        #[arg(long)]
        create: bool,
        /// Run several statements in order (as a script), printing the rows of each that returns rows.
        #[arg(long)]
        script: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let r = match cli.command {
        Command::Doctor { path, json } => return doctor::doctor(&path, json),
        Command::Migrate {
            path,
            dry_run,
            allow_destructive,
            no_backup,
            json,
        } => migrate::migrate(&path, dry_run, allow_destructive, !no_backup, json),
        Command::Backup { path, dest } => backup::backup(&path, dest.as_deref()),
        Command::Demo { db } => demo::run(&db),
        Command::Stats { path, json } => stats::stats(&path, json),
        Command::Search {
            path,
            vector_json,
            vector_file,
            like,
            text,
            k,
            domain,
            node_type,
            min_score,
            json,
        } => {
            let d = SearchOptions::default();
            let opts = SearchOptions {
                k: k.unwrap_or(d.k),
                min_score,
                domain,
                node_type,
                ..d
            };
            search::search(&path, vector_json, vector_file, like, text, &opts, json)
        }
        Command::Import { path, file } => transfer::import(&path, &file),
        Command::Export { path, file } => transfer::export(&path, &file),
        Command::Graph { path, query, json } => graph::graph(&path, query, json),
        Command::Sql {
            path,
            sql,
            create,
            script,
        } => sql::raw_sql(&path, &sql, create, script),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => output::fail(&e),
    }
}
