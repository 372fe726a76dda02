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
        /// Open as an application replicated by Litestream does (`external_replicator`).
        #[arg(long)]
        external_replicator: bool,
    },
    /// Bring a database (including one the TypeScript application made) to the current schema; with
    /// --app, apply an application's own migrations (a directory of NNNN_name.sql files) instead.
    Migrate {
        /// The database file.
        path: PathBuf,
        /// A directory of application migrations (NNNN_name.sql; a `-- down` line starts the down
        /// section, `-- resonance:destructive` declares a step destructive).
        #[arg(long, requires = "namespace")]
        app: Option<PathBuf>,
        /// The application's namespace in the ledger (with --app).
        #[arg(long, requires = "app")]
        namespace: Option<String>,
        /// The target version (with --app): below the newest applied step, run down sections.
        #[arg(long, requires = "app", allow_negative_numbers = false)]
        to: Option<i64>,
        /// Accept the changed text of an applied step and record its new checksum (with --app).
        #[arg(long, requires = "app")]
        accept_changed: bool,
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
    /// The engine's and the applications' migration steps: applied (with time and checksum) and
    /// pending.
    Migrations {
        /// The database file.
        path: PathBuf,
        /// A directory of application migrations, to list its pending steps too.
        #[arg(long, requires = "namespace")]
        app: Option<PathBuf>,
        /// The namespace of --app.
        #[arg(long, requires = "app")]
        namespace: Option<String>,
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
    /// Counts and sizes; with --record, --history, --validate or --plot, the stats history
    /// (docs/stats.md).
    Stats {
        /// The database file.
        path: PathBuf,
        /// Record a snapshot in the history (keeping the newest --keep).
        #[arg(long)]
        record: bool,
        /// The snapshot's label (with --record).
        #[arg(long, requires = "record")]
        label: Option<String>,
        /// JSON text stored with the snapshot (with --record).
        #[arg(long, requires = "record")]
        meta: Option<String>,
        /// How many newest snapshots to keep (with --record; default: the library's, 100).
        #[arg(long, requires = "record")]
        keep: Option<u32>,
        /// Print the history, newest first.
        #[arg(long)]
        history: bool,
        /// How many snapshots --history prints and --plot draws.
        #[arg(long, default_value_t = 100)]
        limit: usize,
        /// Judge the newest snapshot against the one before (exit 1 on an error finding).
        #[arg(long)]
        validate: bool,
        /// Draw nodes, edges and vectors over time into this SVG file.
        #[arg(long, value_name = "FILE.svg")]
        plot: Option<PathBuf>,
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
        /// What the handle keeps in memory for the search: `matrix` (the f32 rows) or `codes` (only
        /// the int8 codes; the same results; default: the library's).
        #[arg(long, value_parser = ["matrix", "codes"])]
        vector_memory: Option<String>,
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
    /// Run one SQL statement on the file through the engine, with its rules for application SQL
    /// (docs/sql.md: the engine's tables are read-only, no ATTACH, no transaction statements, no
    /// PRAGMA that changes the connection), printing the rows. The file must exist unless --create.
    /// With --raw: a plain connection instead (no migration; trusted_schema off,
    /// SQLITE_DBCONFIG_DEFENSIVE on), read-only unless --write — for inspection, and for tests that
    /// play "another program wrote this file".
    Sql {
        /// The database file (it must exist unless --create is given).
        path: PathBuf,
        /// The SQL: exactly one statement unless --script is given.
        sql: String,
        /// A parameter value, in order (repeat the flag). `null`, `int:5`, `real:1.5`, `text:abc`,
        /// `blob:00ff` (hex) or plain text (`abc`; `text:null` for the text "null"); named:
        /// `:id=int:5` (also @id=, $id=). Not with --script or --raw.
        #[arg(long = "param", value_name = "VALUE", allow_hyphen_values = true)]
        params: Vec<String>,
        /// Print one JSON object per row and line (blobs as hex strings) instead of a tab-separated
        /// table with a header line.
        #[arg(long)]
        json: bool,
        /// Create the file if it does not exist (a new Resonance database; with --raw, an empty file).
        #[arg(long)]
        create: bool,
        /// Run several statements in order (as a script): through the engine as one unit, printing
        /// nothing; with --raw, each in turn, printing the rows of each that returns rows.
        #[arg(long)]
        script: bool,
        /// A plain connection instead of the engine (read-only unless --write).
        #[arg(long)]
        raw: bool,
        /// With --raw: let the plain connection write (as another program would).
        #[arg(long, requires = "raw")]
        write: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Progress goes to stderr on a terminal only, and never with --json (docs/architecture.md).
    output::set_quiet(std::env::args_os().any(|a| a == "--json"));
    let r = match cli.command {
        Command::Doctor {
            path,
            external_replicator,
            json,
        } => return doctor::doctor(&path, external_replicator, json),
        Command::Migrate {
            path,
            app: Some(dir),
            namespace: Some(namespace),
            to,
            accept_changed,
            dry_run,
            allow_destructive,
            no_backup,
            json,
        } => migrate::migrate_app(
            &path,
            &dir,
            &namespace,
            &resonance::AppMigrateOptions {
                to,
                dry_run,
                allow_destructive,
                no_backup,
                accept_changed,
            },
            json,
        ),
        Command::Migrate {
            path,
            dry_run,
            allow_destructive,
            no_backup,
            json,
            ..
        } => migrate::migrate(&path, dry_run, allow_destructive, !no_backup, json),
        Command::Migrations {
            path,
            app,
            namespace,
            json,
        } => migrate::migrations(&path, app.as_deref().zip(namespace.as_deref()), json),
        Command::Backup { path, dest } => backup::backup(&path, dest.as_deref()),
        Command::Demo { db } => demo::run(&db),
        Command::Stats {
            path,
            record,
            label,
            meta,
            keep,
            history,
            limit,
            validate,
            plot,
            json,
        } => {
            let d = resonance::RecordStatsOptions::default();
            let what = stats::What {
                record: record.then(|| resonance::RecordStatsOptions {
                    label,
                    meta,
                    keep: keep.unwrap_or(d.keep),
                }),
                history: history.then_some(limit),
                validate,
                plot: plot.map(|p| (p, limit)),
            };
            return stats::stats(&path, &what, json);
        }
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
            vector_memory,
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
            search::search(
                &path,
                search::Query {
                    vector_json,
                    vector_file,
                    like,
                    text,
                },
                vector_memory.as_deref(),
                &opts,
                json,
            )
        }
        Command::Import { path, file } => transfer::import(&path, &file),
        Command::Export { path, file } => transfer::export(&path, &file),
        Command::Graph { path, query, json } => graph::graph(&path, query, json),
        Command::Sql {
            path,
            sql,
            params,
            json,
            create,
            script,
            raw,
            write,
        } => {
            let format = if json {
                sql::Format::Json
            } else {
                sql::Format::Table
            };
            if raw {
                if params.is_empty() {
                    sql::raw_sql(&path, &sql, create, script, write, format)
                } else {
                    Err(resonance::Error::InvalidArgument(
                        "--param is not available with --raw".into(),
                    ))
                }
            } else {
                sql::params(&params)
                    .and_then(|p| sql::engine_sql(&path, &sql, &p, create, script, format))
            }
        }
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => output::fail(&e),
    }
}
