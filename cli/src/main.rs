//! The `resonance` command: inspect, migrate, back up, search and analyse a Resonance database, and a
//! demo on a bundled sample. Human output by default, stable JSON with `--json`.

mod demo;
mod embed;
mod jsonl;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use resonance::{Database, Error, MigrateOptions, OpenOptions, SearchOptions};
use serde_json::{json, Value};

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
        /// How many results.
        #[arg(short, default_value_t = 10)]
        k: usize,
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
    /// Import nodes and edges from JSON lines (all or nothing).
    Import {
        /// The database file.
        path: PathBuf,
        /// The JSONL file.
        file: PathBuf,
    },
    /// Export every node (with its vector) and edge as JSON lines.
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
        query: GraphQuery,
        /// Print JSON.
        #[arg(long, global = true)]
        json: bool,
    },
    /// Run SQL on the file with a plain connection (no migration), printing result rows as JSON lines.
    /// For inspection and tests that play "another program wrote this file".
    Sql {
        /// The database file.
        path: PathBuf,
        /// The SQL (several statements allowed when they return no rows).
        sql: String,
    },
}

#[derive(Subcommand)]
enum GraphQuery {
    /// In- and out-neighbours of a node.
    Neighbors {
        /// Node id.
        id: String,
    },
    /// Breadth-first traversal along out-edges.
    Traverse {
        /// Start node.
        id: String,
        /// Maximum depth.
        #[arg(long, default_value_t = 2)]
        depth: usize,
    },
    /// Shortest directed path.
    Path {
        /// From.
        a: String,
        /// To.
        b: String,
    },
    /// PageRank.
    Pagerank {
        /// How many to show.
        #[arg(long, default_value_t = 10)]
        top: usize,
    },
    /// Betweenness centrality (exact, or sampled from K pivots).
    Betweenness {
        /// How many to show.
        #[arg(long, default_value_t = 10)]
        top: usize,
        /// Sample K pivots (seeded) instead of the exact computation.
        #[arg(long)]
        sample: Option<usize>,
    },
    /// Louvain communities.
    Communities {
        /// Seed (the result is deterministic for a seed).
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
    /// Weakly connected components.
    Components,
    /// Suggested links (two-hop pairs ranked by Adamic-Adar).
    Candidates {
        /// How many to show.
        #[arg(long, default_value_t = 10)]
        top: usize,
    },
    /// Top PageRank nodes with their degree.
    Pillars {
        /// How many to show.
        #[arg(long, default_value_t = 10)]
        top: usize,
    },
    /// Nodes, edges, density, skipped edges.
    Stats,
}

fn fail(e: &Error) -> ExitCode {
    eprintln!("error [{}]: {e}", e.code());
    ExitCode::from(1)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let r = match cli.command {
        Command::Doctor { path, json } => return doctor(&path, json),
        Command::Migrate {
            path,
            dry_run,
            allow_destructive,
            no_backup,
            json,
        } => migrate(&path, dry_run, allow_destructive, !no_backup, json),
        Command::Backup { path, dest } => Database::open(&path).and_then(|db| {
            let p = db.backup(dest.as_deref())?;
            println!("backup written to {} (integrity_check ok)", p.display());
            Ok(())
        }),
        Command::Demo { db } => demo::run(&db),
        Command::Stats { path, json } => stats(&path, json),
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
            let opts = SearchOptions {
                k,
                min_score,
                domain,
                node_type,
                threads: None,
            };
            search(&path, vector_json, vector_file, like, text, &opts, json)
        }
        Command::Import { path, file } => import(&path, &file),
        Command::Export { path, file } => export(&path, &file),
        Command::Graph { path, query, json } => graph(&path, query, json),
        Command::Sql { path, sql } => raw_sql(&path, &sql),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

fn print_json(v: &Value) {
    println!("{}", serde_json::to_string_pretty(v).unwrap_or_default());
}

fn doctor(path: &Path, json_out: bool) -> ExitCode {
    if !path.exists() {
        let e = Error::Io {
            message: format!("{} does not exist", path.display()),
            source: None,
        };
        if json_out {
            print_json(
                &json!({"ok": false, "could_not_open": true, "error": {"code": e.code(), "message": e.to_string()}}),
            );
        }
        eprintln!("error [{}]: {e}", e.code());
        return ExitCode::from(2);
    }
    let db = match Database::open_with(
        path,
        OpenOptions {
            migrate: false,
            ..Default::default()
        },
    ) {
        Ok(db) => db,
        Err(e) => {
            if json_out {
                print_json(
                    &json!({"ok": false, "could_not_open": true, "error": {"code": e.code(), "message": e.to_string()}}),
                );
            }
            eprintln!("error [{}]: {e}", e.code());
            return ExitCode::from(2);
        }
    };
    let report = match db.health() {
        Ok(h) => h,
        Err(e) => return fail(&e),
    };
    let mut problems = report.problems();
    let mut content = Vec::new();
    // The original application's validator checks.
    if report.nodes == 0 {
        content.push("the database has no nodes".to_string());
    } else {
        let coverage = report.vectors.count as f64 / report.nodes as f64;
        if coverage < 0.9 {
            content.push(format!(
                "embedding coverage {:.0}% is below 90%",
                coverage * 100.0
            ));
        }
        let density = report.edges as f64 / report.nodes as f64;
        if density < 0.1 {
            content.push(format!(
                "edge density {density:.3} edges per node is below 0.1"
            ));
        }
    }
    problems.extend(content.iter().cloned());
    let index = db.vector_index_info().ok();
    if json_out {
        print_json(&json!({
            "ok": problems.is_empty(),
            "problems": problems,
            "health": serde_json::to_value(&report).unwrap_or(Value::Null),
            "vector_index": index.map(|i| serde_json::to_value(i).unwrap_or(Value::Null)),
            "warnings": db.warnings(),
        }));
    } else {
        println!("Resonance doctor — {}", report.path);
        println!("  SQLite {} · journal {} · busy_timeout {} ms · synchronous {} · mmap {} · foreign_keys {} · temp_store {}",
            report.sqlite_version, report.journal_mode, report.busy_timeout_ms, report.synchronous, report.mmap_size,
            report.foreign_keys, report.temp_store);
        println!(
            "  quick_check: {} · write probe: {}",
            report.quick_check, report.write_probe
        );
        println!("  schema: {}", report.schema.shape);
        for row in &report.schema.drizzle_ledger {
            println!(
                "    application step {} (created_at {})",
                row.hash,
                row.created_at.unwrap_or(0)
            );
        }
        for m in &report.schema.resonance_applied {
            println!(
                "    Resonance V{} {} applied {}",
                m.version, m.name, m.applied_on
            );
        }
        if report.schema.pending.is_empty() {
            println!("    pending: none");
        } else {
            println!("    pending: {}", report.schema.pending.join(", "));
        }
        println!(
            "  nodes {} · edges {} · dangling edges {}",
            report.nodes, report.edges, report.dangling_edges
        );
        println!(
            "  vectors {} · dimensions {:?} · zero {} · not unit {} · malformed {}",
            report.vectors.count,
            report.vectors.dimensions,
            report.vectors.zero,
            report.vectors.non_normalised,
            report.vectors.malformed
        );
        for w in db.warnings() {
            println!("  warning: {w}");
        }
        if problems.is_empty() {
            println!("  healthy");
        } else {
            for p in &problems {
                println!("  problem: {p}");
            }
        }
    }
    if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn migrate(
    path: &Path,
    dry_run: bool,
    allow_destructive: bool,
    backup: bool,
    json_out: bool,
) -> resonance::Result<()> {
    let report = if dry_run {
        resonance::migrate::dry_run_file(path, &OpenOptions::default())?
    } else {
        let db = Database::open_with(
            path,
            OpenOptions {
                migrate: false,
                ..Default::default()
            },
        )?;
        db.migrate(&MigrateOptions {
            dry_run: false,
            allow_destructive,
            backup,
            backup_retention_days: 7,
        })?
    };
    if json_out {
        print_json(&serde_json::to_value(&report).unwrap_or(Value::Null));
        return Ok(());
    }
    println!("shape before: {}", report.shape_before);
    if report.steps.is_empty() {
        println!("nothing to do: the schema is current");
    }
    for s in &report.steps {
        println!(
            "{} {} — {}{}",
            if report.dry_run { "would run" } else { "ran" },
            s.id,
            s.description,
            if s.destructive { " [destructive]" } else { "" }
        );
        if report.dry_run {
            for q in &s.sql {
                println!("    {}", q.replace('\n', "\n    "));
            }
        }
    }
    if let Some(b) = &report.backup {
        println!("backup: {}", b.display());
    }
    for w in &report.warnings {
        println!("warning: {w}");
    }
    Ok(())
}

fn stats(path: &Path, json_out: bool) -> resonance::Result<()> {
    let db = Database::open(path)?;
    let s = db.stats()?;
    if json_out {
        print_json(&serde_json::to_value(&s).unwrap_or(Value::Null));
    } else {
        println!(
            "nodes {} · edges {} ({} dangling) · vectors {} ({}) · history {}",
            s.nodes,
            s.edges,
            s.dangling_edges,
            s.vectors,
            s.dimension
                .map_or("no dimension yet".into(), |d| format!("{d}-d")),
            s.history
        );
        println!(
            "size on disk {} bytes (database {} + WAL {})",
            s.size_bytes, s.db_bytes, s.wal_bytes
        );
    }
    Ok(())
}

fn read_f32_file(p: &Path) -> resonance::Result<Vec<f32>> {
    let bytes = std::fs::read(p).map_err(|e| Error::io("cannot read", p, e))?;
    resonance::vector::fafcas::decode(&bytes)
}

fn search(
    path: &Path,
    vector_json: Option<String>,
    vector_file: Option<PathBuf>,
    like: Option<String>,
    text: Option<String>,
    opts: &SearchOptions,
    json_out: bool,
) -> resonance::Result<()> {
    let db = Database::open(path)?;
    let hits = if let Some(id) = like {
        db.search_like(&id, opts)?
    } else {
        let q: Vec<f32> = if let Some(j) = vector_json {
            serde_json::from_str(&j)
                .map_err(|e| Error::InvalidArgument(format!("--vector-json: {e}")))?
        } else if let Some(f) = vector_file {
            read_f32_file(&f)?
        } else if let Some(t) = text {
            embed::embed(&t)
        } else {
            return Err(Error::InvalidArgument(
                "give --vector-json, --vector-file, --like or --text".into(),
            ));
        };
        db.search(&q, opts)?
    };
    if json_out {
        print_json(&Value::Array(
            hits.iter()
                .map(|h| json!({"id": h.id, "score": h.score}))
                .collect(),
        ));
    } else {
        for h in &hits {
            let title = db
                .get_node(&h.id)?
                .and_then(|n| n.title)
                .unwrap_or_default();
            println!("{:.4}  {}  {}", h.score, h.id, title);
        }
        if hits.is_empty() {
            println!("no results");
        }
    }
    Ok(())
}

fn bar(len: u64, what: &str) -> indicatif::ProgressBar {
    if std::io::stderr().is_terminal() {
        let b = indicatif::ProgressBar::new(len);
        b.set_message(what.to_string());
        b
    } else {
        indicatif::ProgressBar::hidden()
    }
}

fn import(path: &Path, file: &Path) -> resonance::Result<()> {
    let f = std::fs::File::open(file).map_err(|e| Error::io("cannot open", file, e))?;
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let db = Database::open(path)?;
    let pb = bar(len, "importing");
    let r = jsonl::import(&db, std::io::BufReader::new(f), |n| pb.inc(n));
    pb.finish_and_clear();
    let (n, e) = r.map_err(|e| {
        e.context(format!(
            "import of {} (nothing was imported)",
            file.display()
        ))
    })?;
    println!("imported {n} nodes and {e} edges from {}", file.display());
    Ok(())
}

fn export(path: &Path, file: &Path) -> resonance::Result<()> {
    let db = Database::open(path)?;
    let f = std::fs::File::create(file).map_err(|e| Error::io("cannot create", file, e))?;
    let (n, e) = jsonl::export(&db, std::io::BufWriter::new(f))?;
    println!("exported {n} nodes and {e} edges to {}", file.display());
    Ok(())
}

fn spinner(what: &str) -> indicatif::ProgressBar {
    if std::io::stderr().is_terminal() {
        let s = indicatif::ProgressBar::new_spinner();
        s.set_message(what.to_string());
        s.enable_steady_tick(std::time::Duration::from_millis(100));
        s
    } else {
        indicatif::ProgressBar::hidden()
    }
}

fn ranking(list: Vec<(String, f64)>, top: usize) -> Vec<(String, f64)> {
    let mut l = list;
    l.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    l.truncate(top);
    l
}

fn graph(path: &Path, q: GraphQuery, json_out: bool) -> resonance::Result<()> {
    let db = Database::open(path)?;
    let sp = spinner("loading the graph");
    let g = db.graph()?;
    sp.set_message("computing");
    let (value, human): (Value, String) = match q {
        GraphQuery::Neighbors { id } => {
            let n = g.neighbors(&id)?;
            (json!(n), n.join("\n"))
        }
        GraphQuery::Traverse { id, depth } => {
            let n = g.traverse(&id, depth)?;
            (json!(n), n.join("\n"))
        }
        GraphQuery::Path { a, b } => {
            let p = g.shortest_path(&a, &b)?;
            let h = p.as_ref().map_or("no path".to_string(), |p| p.join(" -> "));
            (json!(p), h)
        }
        GraphQuery::Pagerank { top } => {
            let r = ranking(g.pagerank(0.85, 1e-6, 100)?, top);
            let h = r
                .iter()
                .map(|(id, s)| format!("{s:.6}  {id}"))
                .collect::<Vec<_>>()
                .join("\n");
            (
                json!(r
                    .iter()
                    .map(|(id, s)| json!({"id": id, "score": s}))
                    .collect::<Vec<_>>()),
                h,
            )
        }
        GraphQuery::Betweenness { top, sample } => {
            let r = ranking(g.betweenness(true, sample.map(|k| (k, 0)))?, top);
            let h = r
                .iter()
                .map(|(id, s)| format!("{s:.6}  {id}"))
                .collect::<Vec<_>>()
                .join("\n");
            (
                json!(r
                    .iter()
                    .map(|(id, s)| json!({"id": id, "score": s}))
                    .collect::<Vec<_>>()),
                h,
            )
        }
        GraphQuery::Communities { seed } => {
            let c = g.communities(1.0, seed)?;
            let mut groups: std::collections::BTreeMap<usize, Vec<String>> = Default::default();
            for (id, k) in &c.partition {
                groups.entry(*k).or_default().push(id.clone());
            }
            let h = format!(
                "{} communities, modularity {:.4}\n{}",
                groups.len(),
                c.modularity,
                groups
                    .iter()
                    .map(|(k, ids)| format!(
                        "{k}: {} nodes: {}",
                        ids.len(),
                        ids.iter().take(8).cloned().collect::<Vec<_>>().join(", ")
                    ))
                    .collect::<Vec<_>>()
                    .join("\n")
            );
            (
                json!({"modularity": c.modularity, "partition": c.partition.iter().map(|(id, k)| (id.clone(), json!(k))).collect::<serde_json::Map<_, _>>()}),
                h,
            )
        }
        GraphQuery::Components => {
            let c = g.components();
            let h = c
                .iter()
                .map(|ids| {
                    format!(
                        "{} nodes: {}",
                        ids.len(),
                        ids.iter().take(8).cloned().collect::<Vec<_>>().join(", ")
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            (json!(c), h)
        }
        GraphQuery::Candidates { top } => {
            let c = g.link_candidates(top);
            let h = c
                .iter()
                .map(|(a, b, s)| format!("{s:.4}  {a} — {b}"))
                .collect::<Vec<_>>()
                .join("\n");
            (
                json!(c
                    .iter()
                    .map(|(a, b, s)| json!({"source": a, "target": b, "score": s}))
                    .collect::<Vec<_>>()),
                h,
            )
        }
        GraphQuery::Pillars { top } => {
            let p = g.pillars(top);
            let h = p
                .iter()
                .map(|(id, pr, d)| format!("{pr:.6}  degree {d:>4}  {id}"))
                .collect::<Vec<_>>()
                .join("\n");
            (
                json!(p
                    .iter()
                    .map(|(id, pr, d)| json!({"id": id, "pagerank": pr, "degree": d}))
                    .collect::<Vec<_>>()),
                h,
            )
        }
        GraphQuery::Stats => {
            let s = g.stats();
            (
                json!({"nodes": s.nodes, "edges": s.edges, "density": s.density, "skipped_edges": s.skipped_edges}),
                format!(
                    "nodes {} · edges {} · density {:.6} · skipped (dangling) edges {}",
                    s.nodes, s.edges, s.density, s.skipped_edges
                ),
            )
        }
    };
    sp.finish_and_clear();
    if json_out {
        print_json(&value);
    } else {
        println!("{human}");
    }
    Ok(())
}

fn raw_sql(path: &Path, sql: &str) -> resonance::Result<()> {
    let conn = rusqlite::Connection::open(path)
        .map_err(|e| Error::sqlite(e, format!("opening {}", path.display())))?;
    conn.busy_timeout(std::time::Duration::from_millis(5000))
        .map_err(|e| Error::sqlite(e, "busy_timeout"))?;
    let mut stmt = match conn.prepare(sql) {
        Ok(s) => s,
        Err(_) => {
            // Several statements: run them as a batch.
            return conn
                .execute_batch(sql)
                .map_err(|e| Error::sqlite(e, "running SQL"));
        }
    };
    let n = stmt.column_count();
    if n == 0 {
        drop(stmt);
        return conn
            .execute_batch(sql)
            .map_err(|e| Error::sqlite(e, "running SQL"));
    }
    let names: Vec<String> = stmt.column_names().iter().map(|s| s.to_string()).collect();
    let mut rows = stmt
        .query([])
        .map_err(|e| Error::sqlite(e, "running SQL"))?;
    while let Some(row) = rows.next().map_err(|e| Error::sqlite(e, "running SQL"))? {
        let mut o = serde_json::Map::new();
        for (i, name) in names.iter().enumerate() {
            let v = match row
                .get_ref(i)
                .map_err(|e| Error::sqlite(e, "reading a row"))?
            {
                rusqlite::types::ValueRef::Null => Value::Null,
                rusqlite::types::ValueRef::Integer(x) => json!(x),
                rusqlite::types::ValueRef::Real(x) => json!(x),
                rusqlite::types::ValueRef::Text(t) => json!(String::from_utf8_lossy(t)),
                rusqlite::types::ValueRef::Blob(b) => {
                    json!(b.iter().map(|x| format!("{x:02x}")).collect::<String>())
                }
            };
            o.insert(name.clone(), v);
        }
        println!("{}", Value::Object(o));
    }
    Ok(())
}
