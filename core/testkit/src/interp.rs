//! The conformance ops over [`resonance::Database`]: one `match` from op name to API call and from its
//! result to the JSON value the cases expect (the op table of `tests/conformance/README.md`).

use std::path::{Path, PathBuf};

use resonance::{AppDirection, AppMigrateOptions, AppMigration, Params, Value as SqlValue};
use resonance::{
    BetweennessOptions, CheckpointMode, CommunityOptions, Database, Direction, EdgeInput, Error,
    LinkCandidateOptions, ListOptions, MigrateOptions, NodeInput, NodeUpdate, OpenOptions,
    PageRankOptions, PathOptions, PillarOptions, Ranking, SearchOptions, TraverseOptions,
};
use serde_json::{json, Map, Value};

/// Who is driving the interpreter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The conformance runner: case paths as given, no size caps, `raw_sql` through a plain SQLite
    /// connection, an unknown op is an error.
    Conformance,
    /// The fuzz target: only the paths `db.sqlite` and `other.sqlite`, sizes capped so one input stays
    /// fast, `raw_sql` skipped, an unknown op ignored, `migrate` a dry run unless told otherwise.
    Fuzz,
}

/// A case's state: its folder and the current handle.
pub struct Interpreter {
    dir: PathBuf,
    mode: Mode,
    db: Option<Database>,
}

fn snapshot_json(s: &resonance::StatsSnapshot) -> Value {
    json!({"nodes": s.nodes, "edges": s.edges, "vectors": s.vectors,
        "dangling_edges": s.dangling_edges, "dimension": s.dimension, "history": s.history,
        "label": s.label, "meta": s.meta})
}

fn codes(f: &[resonance::StatsFinding]) -> Vec<&str> {
    f.iter().map(|f| f.code.as_str()).collect()
}

fn s(a: &Map<String, Value>, k: &str) -> Option<String> {
    a.get(k).and_then(Value::as_str).map(str::to_string)
}

fn req(a: &Map<String, Value>, k: &str) -> Result<String, Error> {
    s(a, k).ok_or_else(|| Error::InvalidArgument(format!("case argument `{k}` missing")))
}

fn f64_of(a: &Map<String, Value>, k: &str) -> Option<f64> {
    a.get(k).and_then(Value::as_f64)
}

fn usize_of(a: &Map<String, Value>, k: &str) -> Option<usize> {
    a.get(k).and_then(Value::as_u64).map(|v| v as usize)
}

fn bool_of(a: &Map<String, Value>, k: &str) -> Option<bool> {
    a.get(k).and_then(Value::as_bool)
}

/// A `meta` argument: a JSON string is raw JSON text (so invalid JSON can be tested); any other value
/// is serialised first.
fn meta_text(v: Option<&Value>) -> Option<String> {
    match v {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => Some(other.to_string()),
    }
}

fn parsed(text: &Option<String>) -> Value {
    text.as_ref()
        .map(|t| serde_json::from_str(t).unwrap_or(Value::String(t.clone())))
        .unwrap_or(Value::Null)
}

fn node_value(n: &resonance::Node) -> Value {
    let mut v = json!({"id": n.id, "type": n.node_type, "title": n.title, "domain": n.domain,
        "layer": n.layer, "hash": n.hash, "summary": n.summary, "meta": n.meta.as_ref().map(|_| parsed(&n.meta)),
        "date": n.date});
    if let Some(e) = &n.embedding {
        v["embedding"] = json!(e);
    }
    v
}

fn hits(h: &[resonance::Hit]) -> Value {
    Value::Array(
        h.iter()
            .map(|h| json!({"id": h.id, "score": h.score}))
            .collect(),
    )
}

fn scores(list: Vec<Ranking>) -> Value {
    Value::Object(list.into_iter().map(|r| (r.id, json!(r.score))).collect())
}

impl Interpreter {
    /// An interpreter whose case files live in `dir`.
    pub fn new(dir: &Path, mode: Mode) -> Interpreter {
        Interpreter {
            dir: dir.to_path_buf(),
            mode,
            db: None,
        }
    }

    /// The current handle, or `invalid_argument` when no `open` ran yet.
    pub fn db(&self) -> Result<&Database, Error> {
        self.db
            .as_ref()
            .ok_or_else(|| Error::InvalidArgument("no database is open in this case".into()))
    }

    /// Takes the current handle out (the fuzz target checks it against a fresh one at the end).
    pub fn take_db(&mut self) -> Option<Database> {
        self.db.take()
    }

    /// `n`, capped at `fuzz_max` in [`Mode::Fuzz`].
    fn cap(&self, n: usize, fuzz_max: usize) -> usize {
        match self.mode {
            Mode::Conformance => n,
            Mode::Fuzz => n.min(fuzz_max),
        }
    }

    fn path(&self, a: &Map<String, Value>) -> PathBuf {
        let name = s(a, "path").unwrap_or_else(|| "db.sqlite".into());
        match self.mode {
            Mode::Conformance => self.dir.join(name),
            Mode::Fuzz if name == "other.sqlite" => self.dir.join(name),
            Mode::Fuzz => self.dir.join("db.sqlite"),
        }
    }

    fn floats(&self, v: Option<&Value>) -> Vec<f32> {
        v.and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .take(self.cap(a.len(), 4096))
                    .map(|x| x.as_f64().unwrap_or(f64::NAN) as f32)
                    .collect()
            })
            .unwrap_or_default()
    }

    fn node_input(&self, a: &Map<String, Value>) -> Result<NodeInput, Error> {
        Ok(NodeInput {
            id: req(a, "id")?,
            node_type: s(a, "type"),
            title: s(a, "title"),
            domain: s(a, "domain"),
            layer: s(a, "layer"),
            hash: s(a, "hash"),
            summary: s(a, "summary"),
            meta: meta_text(a.get("meta")),
            date: s(a, "date"),
            embedding: a
                .get("embedding")
                .filter(|v| !v.is_null())
                .map(|v| self.floats(Some(v))),
        })
    }

    /// A `NodeUpdate` from the keys present in `a` (a key given as `null` clears its field).
    fn node_update(&self, a: &Map<String, Value>) -> NodeUpdate {
        let text = |k: &str| a.get(k).map(|v| v.as_str().map(str::to_string));
        NodeUpdate {
            node_type: text("type"),
            title: text("title"),
            domain: text("domain"),
            layer: text("layer"),
            hash: text("hash"),
            summary: text("summary"),
            meta: a.get("meta").map(|v| meta_text(Some(v))),
            date: text("date"),
            embedding: a
                .get("embedding")
                .map(|v| (!v.is_null()).then(|| self.floats(Some(v)))),
        }
    }

    fn list<T>(
        &self,
        a: &Map<String, Value>,
        key: &str,
        each: impl Fn(&Map<String, Value>) -> Result<T, Error>,
    ) -> Result<Vec<T>, Error> {
        let items = a.get(key).and_then(Value::as_array);
        let empty = Map::new();
        items
            .map(|v| {
                v.iter()
                    .take(self.cap(v.len(), 256))
                    .map(|x| each(x.as_object().unwrap_or(&empty)))
                    .collect()
            })
            .unwrap_or_else(|| Ok(Vec::new()))
    }

    fn search_opts(&self, a: &Map<String, Value>) -> SearchOptions {
        let d = SearchOptions::default();
        SearchOptions {
            k: self.cap(usize_of(a, "k").unwrap_or(d.k), 1000),
            min_score: f64_of(a, "min_score").map(|x| x as f32),
            domain: s(a, "domain"),
            node_type: s(a, "type"),
            threads: None,
        }
    }

    /// Runs one op with its arguments and returns its value as the cases expect it.
    pub fn run(&mut self, op: &str, a: &Map<String, Value>) -> Result<Value, Error> {
        Ok(match op {
            "open" => {
                if let Some(old) = self.db.take() {
                    old.close()?;
                }
                let d = OpenOptions::default();
                let opts = OpenOptions {
                    read_only: bool_of(a, "read_only").unwrap_or(d.read_only),
                    migrate: bool_of(a, "migrate").unwrap_or(d.migrate),
                    allow_destructive: bool_of(a, "allow_destructive").unwrap_or(d.allow_destructive),
                    backup: bool_of(a, "backup").unwrap_or(d.backup),
                    busy_timeout_ms: a
                        .get("busy_timeout_ms")
                        .and_then(Value::as_u64)
                        .map_or(d.busy_timeout_ms, |v| self.cap(v as usize, 10_000) as u32),
                    allow_engine_writes: bool_of(a, "allow_engine_writes")
                        .unwrap_or(d.allow_engine_writes),
                    vector_memory: match a.get("vector_memory").and_then(Value::as_str) {
                        Some(m) => m.parse()?,
                        None => d.vector_memory,
                    },
                    ..d
                };
                self.db = Some(Database::open_with(self.path(a), opts)?);
                Value::Null
            }
            "close" => {
                self.db()?.close()?;
                Value::Null
            }
            "raw_sql" => {
                if self.mode == Mode::Fuzz {
                    return Ok(Value::Null);
                }
                // Another program writing the file: a plain SQLite connection.
                let c = rusqlite::Connection::open(self.path(a))
                    .map_err(|e| Error::sqlite(e, "raw_sql"))?;
                c.execute_batch(&req(a, "sql")?)
                    .map_err(|e| Error::sqlite(e, "raw_sql"))?;
                Value::Null
            }
            "generate_id" => json!(resonance::generate_id(&req(a, "path")?)),
            "upsert_node" => {
                self.db()?.upsert_node(&self.node_input(a)?)?;
                Value::Null
            }
            "upsert_nodes" => {
                let inputs = self.list(a, "nodes", |n| self.node_input(n))?;
                json!(self.db()?.upsert_nodes(&inputs)?)
            }
            "get_node" => self
                .db()?
                .get_node_with(&req(a, "id")?, bool_of(a, "with_embedding").unwrap_or(false))?
                .map_or(Value::Null, |n| node_value(&n)),
            "list_nodes" => {
                let o = ListOptions {
                    domain: s(a, "domain"),
                    node_type: s(a, "type"),
                    limit: usize_of(a, "limit"),
                    offset: usize_of(a, "offset").unwrap_or(0),
                    with_embeddings: bool_of(a, "with_embeddings").unwrap_or(false),
                };
                Value::Array(self.db()?.list_nodes(&o)?.iter().map(node_value).collect())
            }
            "delete_node" => {
                self.db()?.delete_node(&req(a, "id")?)?;
                Value::Null
            }
            "add_edge" => json!(self.db()?.add_edge(&edge_input(a)?)?),
            "add_edges" => {
                let inputs = self.list(a, "edges", edge_input)?;
                json!(self.db()?.add_edges(&inputs)?)
            }
            "upsert_edge" => {
                self.db()?.upsert_edge(&edge_input(a)?)?;
                Value::Null
            }
            "delete_edge" => {
                let t = s(a, "type");
                self.db()?
                    .delete_edge(&req(a, "source")?, &req(a, "target")?, t.as_deref())?;
                Value::Null
            }
            "edges_from" | "edges_to" => {
                let id = req(a, "id")?;
                let edges = if op == "edges_from" {
                    self.db()?.edges_from(&id)?
                } else {
                    self.db()?.edges_to(&id)?
                };
                serde_json::to_value(edges).unwrap_or(Value::Null)
            }
            "update_meta" => {
                self.db()?
                    .update_meta(&req(a, "id")?, meta_text(a.get("meta")).as_deref())?;
                Value::Null
            }
            "update_node" => {
                self.db()?
                    .update_node(&req(a, "id")?, &self.node_update(a))?;
                Value::Null
            }
            "merge_meta" => {
                let patch = meta_text(a.get("patch")).unwrap_or_else(|| "null".into());
                self.db()?.merge_meta(&req(a, "id")?, &patch)?;
                Value::Null
            }
            "history" => Value::Array(
                self.db()?
                    .history(&req(a, "id")?)?
                    .iter()
                    .map(|h| {
                        json!({"entity_type": h.entity_type, "entity_id": h.entity_id, "action": h.action,
                            "old_value": parsed(&h.old_value), "new_value": parsed(&h.new_value)})
                    })
                    .collect(),
            ),
            "stats" => {
                let st = self.db()?.stats()?;
                json!({"nodes": st.nodes, "edges": st.edges, "vectors": st.vectors,
                    "dangling_edges": st.dangling_edges, "dimension": st.dimension, "history": st.history})
            }
            "record_stats" => {
                let d = resonance::RecordStatsOptions::default();
                let o = resonance::RecordStatsOptions {
                    label: s(a, "label"),
                    meta: s(a, "meta"),
                    keep: match a.get("keep").and_then(Value::as_u64) {
                        Some(k) => u32::try_from(k).unwrap_or(u32::MAX),
                        None => d.keep,
                    },
                };
                snapshot_json(&self.db()?.record_stats(&o)?)
            }
            "stats_history" => Value::Array(
                self.db()?
                    .stats_history(usize_of(a, "limit").unwrap_or(100))?
                    .iter()
                    .map(snapshot_json)
                    .collect(),
            ),
            "validate_stats" => {
                let d = resonance::StatsValidationOptions::default();
                let o = resonance::StatsValidationOptions {
                    min_edge_density: f64_of(a, "min_edge_density").unwrap_or(d.min_edge_density),
                    min_embedding_coverage: f64_of(a, "min_embedding_coverage")
                        .unwrap_or(d.min_embedding_coverage),
                    max_shrink_ratio: f64_of(a, "max_shrink_ratio").unwrap_or(d.max_shrink_ratio),
                    warn_no_growth: bool_of(a, "warn_no_growth").unwrap_or(d.warn_no_growth),
                };
                let v = self.db()?.validate_stats(&o)?;
                json!({"passed": v.passed(), "errors": codes(&v.errors), "warnings": codes(&v.warnings)})
            }
            "begin" => {
                self.db()?.begin()?;
                Value::Null
            }
            "commit" => {
                self.db()?.commit()?;
                Value::Null
            }
            "rollback" => {
                self.db()?.rollback()?;
                Value::Null
            }
            "set_embedding" => {
                let v = self.floats(a.get("vector"));
                self.db()?.set_embedding(&req(a, "id")?, &v)?;
                Value::Null
            }
            "get_embedding" => json!(self.db()?.get_embedding(&req(a, "id")?)?),
            "search" => {
                let v = self.floats(a.get("vector"));
                hits(&self.db()?.search(&v, &self.search_opts(a))?)
            }
            "search_like" => hits(&self.db()?.search_like(&req(a, "id")?, &self.search_opts(a))?),
            "search_batch" => {
                let qs: Vec<Vec<f32>> = a
                    .get("vectors")
                    .and_then(Value::as_array)
                    .map(|v| {
                        v.iter()
                            .take(self.cap(v.len(), 64))
                            .map(|q| self.floats(Some(q)))
                            .collect()
                    })
                    .unwrap_or_default();
                let dim = qs.first().map_or(0, Vec::len);
                if qs.iter().any(|q| q.len() != dim) {
                    return Err(Error::InvalidArgument(
                        "queries of different lengths".into(),
                    ));
                }
                let flat: Vec<f32> = qs.concat();
                Value::Array(
                    self.db()?
                        .search_batch(&flat, qs.len(), &self.search_opts(a))?
                        .iter()
                        .map(|h| hits(h))
                        .collect(),
                )
            }
            "health" => {
                let h = self.db()?.health()?;
                json!({"journal_mode": h.journal_mode, "busy_timeout_ms": h.busy_timeout_ms,
                    "foreign_keys": h.foreign_keys, "quick_check": h.quick_check,
                    "schema_shape": h.schema.shape, "pending": h.schema.pending,
                    "dangling_edges": h.dangling_edges, "vector_count": h.vectors.count,
                    "write_probe": h.write_probe, "content": h.content,
                    "stats_errors": codes(&h.stats.errors), "stats_warnings": codes(&h.stats.warnings)})
            }
            "migrate" => {
                let o = MigrateOptions {
                    dry_run: bool_of(a, "dry_run").unwrap_or(self.mode == Mode::Fuzz),
                    allow_destructive: bool_of(a, "allow_destructive").unwrap_or(false)
                        && self.mode == Mode::Conformance,
                    backup: bool_of(a, "backup").unwrap_or(MigrateOptions::default().backup),
                    backup_retention_days: None,
                };
                let r = self.db()?.migrate(&o)?;
                json!({"steps": r.steps.iter().map(|s| s.id.clone()).collect::<Vec<_>>()})
            }
            "checkpoint" => {
                let mode = match s(a, "mode") {
                    Some(m) => m.parse()?,
                    None => CheckpointMode::default(),
                };
                let c = self.db()?.checkpoint(mode)?;
                json!({"busy": c.busy, "log": c.log, "checkpointed": c.checkpointed})
            }
            "neighbors" => json!(self.db()?.neighbors(&req(a, "id")?)?),
            "successors" => json!(self.db()?.successors(&req(a, "id")?)?),
            "predecessors" => json!(self.db()?.predecessors(&req(a, "id")?)?),
            "degree" => json!(self.db()?.degree(&req(a, "id")?)?),
            "traverse" => {
                let mut o = TraverseOptions::default();
                o.max_depth = self.cap(usize_of(a, "max_depth").unwrap_or(o.max_depth), 16);
                o.direction = direction(a)?;
                json!(self.db()?.traverse(&req(a, "start")?, &o)?)
            }
            "shortest_path" => {
                let mut o = PathOptions::default();
                o.direction = direction(a)?;
                json!(self
                    .db()?
                    .shortest_path(&req(a, "source")?, &req(a, "target")?, &o)?)
            }
            "pagerank" => {
                let mut o = PageRankOptions::default();
                o.alpha = f64_of(a, "alpha").unwrap_or(o.alpha);
                o.tolerance = f64_of(a, "tolerance").unwrap_or(o.tolerance);
                o.max_iterations = self.cap(
                    usize_of(a, "max_iterations").unwrap_or(o.max_iterations),
                    1000,
                );
                scores(self.db()?.pagerank(&o)?)
            }
            "betweenness" => {
                let mut o = BetweennessOptions::default();
                o.normalized = bool_of(a, "normalized").unwrap_or(o.normalized);
                o.sample = usize_of(a, "sample");
                o.seed = a.get("seed").and_then(Value::as_u64).unwrap_or(o.seed);
                scores(self.db()?.betweenness(&o)?)
            }
            "communities" => {
                let mut o = CommunityOptions::default();
                o.resolution = f64_of(a, "resolution").unwrap_or(o.resolution);
                o.seed = a.get("seed").and_then(Value::as_u64).unwrap_or(o.seed);
                let c = self.db()?.communities(&o)?;
                json!({"partition": c.partition.into_iter().map(|(k, v)| (k, json!(v))).collect::<Map<_, _>>(),
                    "modularity": c.modularity})
            }
            "components" => json!(self.db()?.components()?),
            "adamic_adar" => json!(self.db()?.adamic_adar(&req(a, "a")?, &req(a, "b")?)?),
            "link_candidates" => {
                let mut o = LinkCandidateOptions::default();
                o.limit = self.cap(usize_of(a, "limit").unwrap_or(o.limit), 1000);
                json!(self.db()?.link_candidates(&o)?)
            }
            "pillars" => {
                let mut o = PillarOptions::default();
                o.limit = self.cap(usize_of(a, "limit").unwrap_or(o.limit), 1000);
                json!(self.db()?.pillars(&o)?)
            }
            "graph_stats" => {
                let g = self.db()?.graph_stats()?;
                json!({"nodes": g.nodes, "edges": g.edges, "density": g.density,
                    "skipped_edges": g.skipped_edges})
            }
            "execute" => {
                let r = self.db()?.execute(&req(a, "sql")?, &sql_params(a)?)?;
                json!({"changes": r.changes, "last_insert_rowid": r.last_insert_rowid})
            }
            "query" => {
                let r = self.db()?.query(&req(a, "sql")?, &sql_params(a)?)?;
                json!({"columns": r.columns, "rows": r.rows.iter().map(|row| row.iter().map(sql_value_json).collect::<Vec<_>>()).collect::<Vec<_>>()})
            }
            "query_row" => match self.db()?.query_row(&req(a, "sql")?, &sql_params(a)?)? {
                None => Value::Null,
                Some(r) => {
                    json!({"columns": r.columns, "values": r.values.iter().map(sql_value_json).collect::<Vec<_>>()})
                }
            },
            "execute_batch" => {
                self.db()?.execute_batch(&req(a, "sql")?)?;
                Value::Null
            }
            "migrate_app" => {
                let d = AppMigrateOptions::default();
                let opts = AppMigrateOptions {
                    to: a.get("to").and_then(Value::as_i64).or(d.to),
                    dry_run: bool_of(a, "dry_run").unwrap_or(d.dry_run),
                    allow_destructive: bool_of(a, "allow_destructive")
                        .unwrap_or(d.allow_destructive),
                    no_backup: bool_of(a, "no_backup").unwrap_or(d.no_backup),
                    accept_changed: bool_of(a, "accept_changed").unwrap_or(d.accept_changed),
                };
                let r = self
                    .db()?
                    .migrate_app(&req(a, "namespace")?, &app_steps(a)?, &opts)?;
                json!({"steps": r.steps.iter().map(|s| json!({"version": s.version, "direction": match s.direction {
                    AppDirection::Up => "up",
                    AppDirection::Down => "down",
                }})).collect::<Vec<_>>()})
            }
            "app_migration_status" => {
                let st = self
                    .db()?
                    .app_migration_status(&req(a, "namespace")?, &app_steps(a)?)?;
                json!({"applied": st.applied.iter().map(|s| s.version).collect::<Vec<_>>(),
                    "pending": st.pending.iter().map(|p| p.0).collect::<Vec<_>>()})
            }
            _ if self.mode == Mode::Fuzz => Value::Null,
            other => {
                return Err(Error::Internal(format!(
                    "the Rust interpreter does not know op {other:?}"
                )))
            }
        })
    }
}

/// The `direction` argument of `traverse` and `shortest_path` (absent: the core's default).
fn direction(a: &Map<String, Value>) -> Result<Direction, Error> {
    match s(a, "direction") {
        Some(d) => d.parse(),
        None => Ok(Direction::default()),
    }
}

/// One SQL value from a case: `null`, an integer, a number with a fraction or exponent (a real),
/// a string, or `{"blob": "<hex>"}`.
fn sql_value(v: &Value) -> Result<SqlValue, Error> {
    Ok(match v {
        Value::Null => SqlValue::Null,
        Value::Bool(b) => SqlValue::Integer(i64::from(*b)),
        Value::Number(n) => match n.as_i64() {
            Some(i) => SqlValue::Integer(i),
            None => SqlValue::Real(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => SqlValue::Text(s.clone()),
        Value::Object(o) => match o.get("blob").and_then(Value::as_str) {
            Some(hex) => SqlValue::Blob(
                (0..hex.len() / 2)
                    .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16))
                    .collect::<Result<_, _>>()
                    .map_err(|_| Error::InvalidArgument(format!("bad blob hex {hex:?}")))?,
            ),
            None => return Err(Error::InvalidArgument(format!("bad SQL value {v}"))),
        },
        Value::Array(_) => return Err(Error::InvalidArgument(format!("bad SQL value {v}"))),
    })
}

/// A SQL value as the cases expect it (blobs as `{"blob": "<hex>"}`).
fn sql_value_json(v: &SqlValue) -> Value {
    match v {
        SqlValue::Null => Value::Null,
        SqlValue::Integer(i) => json!(i),
        SqlValue::Real(f) => json!(f),
        SqlValue::Text(s) => json!(s),
        SqlValue::Blob(b) => {
            json!({"blob": b.iter().map(|x| format!("{x:02x}")).collect::<String>()})
        }
    }
}

/// The `params` argument: a list (positional) or an object (named); absent means none.
fn sql_params(a: &Map<String, Value>) -> Result<Params, Error> {
    Ok(match a.get("params") {
        None | Some(Value::Null) => Params::default(),
        Some(Value::Array(l)) => {
            Params::Positional(l.iter().map(sql_value).collect::<Result<_, _>>()?)
        }
        Some(Value::Object(o)) => Params::Named(
            o.iter()
                .map(|(k, v)| Ok((k.clone(), sql_value(v)?)))
                .collect::<Result<_, Error>>()?,
        ),
        Some(other) => return Err(Error::InvalidArgument(format!("bad params {other}"))),
    })
}

/// The `steps` argument of the application migration ops.
fn app_steps(a: &Map<String, Value>) -> Result<Vec<AppMigration>, Error> {
    let Some(Value::Array(list)) = a.get("steps") else {
        return Err(Error::InvalidArgument(
            "case argument `steps` missing".into(),
        ));
    };
    list.iter()
        .map(|v| {
            let o = v
                .as_object()
                .ok_or_else(|| Error::InvalidArgument("a step must be an object".into()))?;
            Ok(AppMigration {
                version: o.get("version").and_then(Value::as_i64).unwrap_or(0),
                name: s(o, "name").unwrap_or_default(),
                up: req(o, "up")?,
                down: s(o, "down"),
                destructive: bool_of(o, "destructive").unwrap_or(false),
            })
        })
        .collect()
}

fn edge_input(a: &Map<String, Value>) -> Result<EdgeInput, Error> {
    Ok(EdgeInput {
        source: req(a, "source")?,
        target: req(a, "target")?,
        edge_type: s(a, "type"),
        confidence: f64_of(a, "confidence"),
        veracity: f64_of(a, "veracity"),
        context_source: s(a, "context_source"),
    })
}
