//! The small frozen result classes: `Node`, `Edge`, `Hit`, `HistoryEntry`, `Stats`, `Checkpoint`,
//! `GraphStats`, `Communities`, `HealthReport`, `MigrationReport`. Each is built from the engine's
//! value while the GIL is held and never changes afterwards.
//!
//! Every one pickles (`__reduce__`: its class and the values it holds, so it crosses
//! `multiprocessing` and caches) and compares by value. Hashing by value is given where every field
//! is immutable: `Hit` (a `NamedTuple`) and `Edge`. `Node` (its `meta` is a parsed dict, its
//! `embedding` a numpy array), `HistoryEntry` (parsed JSON values) and the records (dicts of fields)
//! are unhashable, like the dicts and arrays they hold.

use std::sync::OnceLock;

use numpy::{IntoPyArray, PyArray1};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList, PyTuple, PyType};

use crate::convert::{json_text_to_py, json_to_py};

fn opt_repr(v: &Option<String>) -> String {
    match v {
        Some(s) => format!("{s:?}"),
        None => "None".into(),
    }
}

/// A float or `None`, as Python prints it (not Rust's `Some(0.5)`).
fn opt_float_repr(v: Option<f64>) -> String {
    match v {
        Some(x) if x.is_nan() => "nan".into(),
        Some(x) if x.is_infinite() => if x > 0.0 { "inf" } else { "-inf" }.into(),
        Some(x) => format!("{x:?}"),
        None => "None".into(),
    }
}

/// A stored node. `meta` is parsed from its JSON text on first access (and cached); `meta_json` is
/// the text as stored.
#[pyclass(frozen, module = "resonance", name = "Node")]
pub struct Node {
    #[pyo3(get)]
    id: String,
    #[pyo3(get, name = "type")]
    node_type: Option<String>,
    #[pyo3(get)]
    title: Option<String>,
    #[pyo3(get)]
    domain: Option<String>,
    #[pyo3(get)]
    layer: Option<String>,
    #[pyo3(get)]
    hash: Option<String>,
    #[pyo3(get)]
    summary: Option<String>,
    #[pyo3(get)]
    meta_json: Option<String>,
    #[pyo3(get)]
    date: Option<String>,
    #[pyo3(get)]
    embedding: Option<Py<PyArray1<f32>>>,
    meta: OnceLock<Py<PyAny>>,
}

impl Node {
    /// Converts an engine node (its embedding becomes a numpy array, moved without a copy).
    pub fn new(py: Python<'_>, n: resonance::Node) -> Node {
        Node {
            embedding: n.embedding.map(|e| e.into_pyarray(py).unbind()),
            id: n.id,
            node_type: n.node_type,
            title: n.title,
            domain: n.domain,
            layer: n.layer,
            hash: n.hash,
            summary: n.summary,
            meta_json: n.meta,
            date: n.date,
            meta: OnceLock::new(),
        }
    }
}

#[pymethods]
impl Node {
    /// Rebuilds a node from its fields (what pickling stores); `embedding` is a float32 vector.
    #[new]
    #[pyo3(signature = (id, r#type=None, title=None, domain=None, layer=None, hash=None, summary=None, meta_json=None, date=None, embedding=None))]
    fn py_new(
        py: Python<'_>,
        #[pyo3(from_py_with = crate::args::string)] id: String,
        #[pyo3(from_py_with = crate::args::opt_string)] r#type: Option<String>,
        #[pyo3(from_py_with = crate::args::opt_string)] title: Option<String>,
        #[pyo3(from_py_with = crate::args::opt_string)] domain: Option<String>,
        #[pyo3(from_py_with = crate::args::opt_string)] layer: Option<String>,
        #[pyo3(from_py_with = crate::args::opt_string)] hash: Option<String>,
        #[pyo3(from_py_with = crate::args::opt_string)] summary: Option<String>,
        #[pyo3(from_py_with = crate::args::opt_string)] meta_json: Option<String>,
        #[pyo3(from_py_with = crate::args::opt_string)] date: Option<String>,
        embedding: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Node> {
        let embedding = match embedding.filter(|e| !e.is_none()) {
            Some(e) => Some(crate::convert::vector(e, "embedding")?.as_slice().to_vec()),
            None => None,
        };
        Ok(Node::new(
            py,
            resonance::Node {
                id,
                node_type: r#type,
                title,
                domain,
                layer,
                hash,
                summary,
                meta: meta_json,
                date,
                embedding,
            },
        ))
    }

    /// Pickling: the class and the stored fields (`meta` as its JSON text).
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        let py = slf.py();
        let n = slf.get();
        let args = (
            &n.id,
            &n.node_type,
            &n.title,
            &n.domain,
            &n.layer,
            &n.hash,
            &n.summary,
            &n.meta_json,
            &n.date,
            n.embedding.as_ref().map(|e| e.clone_ref(py)),
        )
            .into_pyobject(py)?;
        PyTuple::new(py, [slf.get_type().into_any(), args.into_any()])
    }

    /// `meta` parsed from JSON (a dict for the usual object; `None` when absent).
    #[getter]
    fn meta(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        if let Some(m) = self.meta.get() {
            return Ok(m.clone_ref(py));
        }
        let v = json_text_to_py(py, self.meta_json.as_deref())?.unbind();
        Ok(self.meta.get_or_init(|| v).clone_ref(py))
    }

    /// The node as a plain dict (`meta` parsed; `embedding` present when it was read).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("id", &self.id)?;
        d.set_item("type", &self.node_type)?;
        d.set_item("title", &self.title)?;
        d.set_item("domain", &self.domain)?;
        d.set_item("layer", &self.layer)?;
        d.set_item("hash", &self.hash)?;
        d.set_item("summary", &self.summary)?;
        d.set_item("meta", self.meta(py)?)?;
        d.set_item("date", &self.date)?;
        if let Some(e) = &self.embedding {
            d.set_item("embedding", e.clone_ref(py))?;
        }
        Ok(d)
    }

    fn __repr__(&self) -> String {
        format!(
            "Node(id={:?}, type={}, title={}, domain={}, layer={}, meta={})",
            self.id,
            opt_repr(&self.node_type),
            opt_repr(&self.title),
            opt_repr(&self.domain),
            opt_repr(&self.layer),
            opt_repr(&self.meta_json)
        )
    }

    fn __eq__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<bool> {
        let Ok(o) = other.cast::<Node>() else {
            return Ok(false);
        };
        let o = o.get();
        let same = self.id == o.id
            && self.node_type == o.node_type
            && self.title == o.title
            && self.domain == o.domain
            && self.layer == o.layer
            && self.hash == o.hash
            && self.summary == o.summary
            && self.date == o.date
            && self.meta(py)?.bind(py).eq(o.meta(py)?)?;
        if !same {
            return Ok(false);
        }
        match (&self.embedding, &o.embedding) {
            (None, None) => Ok(true),
            (Some(a), Some(b)) => {
                let np = py.import("numpy")?;
                np.getattr("array_equal")?
                    .call1((a.bind(py), b.bind(py)))?
                    .extract()
            }
            _ => Ok(false),
        }
    }
}

/// An edge.
#[pyclass(frozen, module = "resonance", name = "Edge", eq)]
#[derive(PartialEq)]
pub struct Edge {
    #[pyo3(get)]
    source: String,
    #[pyo3(get)]
    target: String,
    #[pyo3(get, name = "type")]
    edge_type: String,
    #[pyo3(get)]
    confidence: Option<f64>,
    #[pyo3(get)]
    veracity: Option<f64>,
    #[pyo3(get)]
    context_source: Option<String>,
}

impl Edge {
    /// The fields as a tuple, in the constructor's order.
    fn fields<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        (
            &self.source,
            &self.target,
            &self.edge_type,
            self.confidence,
            self.veracity,
            &self.context_source,
        )
            .into_pyobject(py)
    }
}

impl From<resonance::Edge> for Edge {
    fn from(e: resonance::Edge) -> Edge {
        Edge {
            source: e.source,
            target: e.target,
            edge_type: e.edge_type,
            confidence: e.confidence,
            veracity: e.veracity,
            context_source: e.context_source,
        }
    }
}

#[pymethods]
impl Edge {
    /// Builds an edge value (what pickling stores); writes go through `Database.add_edge`.
    #[new]
    #[pyo3(signature = (source, target, r#type, confidence=None, veracity=None, context_source=None))]
    fn py_new(
        #[pyo3(from_py_with = crate::args::string)] source: String,
        #[pyo3(from_py_with = crate::args::string)] target: String,
        #[pyo3(from_py_with = crate::args::string)] r#type: String,
        #[pyo3(from_py_with = crate::args::opt_float)] confidence: Option<f64>,
        #[pyo3(from_py_with = crate::args::opt_float)] veracity: Option<f64>,
        #[pyo3(from_py_with = crate::args::opt_string)] context_source: Option<String>,
    ) -> Edge {
        Edge {
            source,
            target,
            edge_type: r#type,
            confidence,
            veracity,
            context_source,
        }
    }

    /// Pickling: the class and the fields.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        let py = slf.py();
        PyTuple::new(
            py,
            [slf.get_type().into_any(), slf.get().fields(py)?.into_any()],
        )
    }

    /// By value: the hash of the tuple of its fields (equal edges hash alike).
    fn __hash__(&self, py: Python<'_>) -> PyResult<isize> {
        self.fields(py)?.hash()
    }

    /// The edge as a plain dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("source", &self.source)?;
        d.set_item("target", &self.target)?;
        d.set_item("type", &self.edge_type)?;
        d.set_item("confidence", self.confidence)?;
        d.set_item("veracity", self.veracity)?;
        d.set_item("context_source", &self.context_source)?;
        Ok(d)
    }

    fn __repr__(&self) -> String {
        format!(
            "Edge(source={:?}, target={:?}, type={:?}, confidence={}, veracity={}, context_source={})",
            self.source,
            self.target,
            self.edge_type,
            opt_float_repr(self.confidence),
            opt_float_repr(self.veracity),
            opt_repr(&self.context_source)
        )
    }
}

/// The Python source of `Hit`: a `typing.NamedTuple`, so `for id, score in hits` is typed (`str`,
/// `float`) under a type checker, and a hit indexes, compares, hashes and pickles as a 2-tuple.
/// `Hit(id, score)` checks its arguments like every other call (`InvalidArgumentError`); results are
/// built with `_make`, which skips the check.
const HIT_SOURCE: &std::ffi::CStr = c"from typing import NamedTuple


class _HitPair(NamedTuple):
    id: str
    score: float


class Hit(_HitPair):
    \"\"\"One search result: a node id and its score (the cosine with the query).

    A typed pair (a ``NamedTuple``): ``id, score = hit``, ``hit[0]``, ``hit.score``. Compares, hashes
    and pickles by value, like the tuple ``(id, score)``.
    \"\"\"

    __slots__ = ()

    def __new__(_cls, id, score):
        return _HitPair.__new__(_cls, *_hit_args(id, score))


Hit.__module__ = 'resonance'
_HitPair.__module__ = 'resonance._hit'
";

/// The checked arguments of `Hit(id, score)`.
#[pyfunction]
fn _hit_args(
    #[pyo3(from_py_with = crate::args::string)] id: String,
    #[pyo3(from_py_with = crate::args::float32)] score: f32,
) -> (String, f32) {
    (id, score)
}

static HIT: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// The `Hit` class (made once, from [`HIT_SOURCE`]).
pub fn hit_type(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    HIT.get_or_try_init(py, || {
        let m = PyModule::from_code(py, HIT_SOURCE, c"resonance/_hit.py", c"resonance._hit")?;
        m.add_function(wrap_pyfunction!(_hit_args, &m)?)?;
        Ok::<_, PyErr>(m.getattr("Hit")?.cast_into::<PyType>()?.unbind())
    })
    .map(|t| t.bind(py))
}

/// Engine hits as `Hit` pairs.
pub fn hits(py: Python<'_>, v: Vec<resonance::Hit>) -> PyResult<Vec<Bound<'_, PyAny>>> {
    let make = hit_type(py)?.getattr("_make")?;
    v.into_iter()
        .map(|h| make.call1(((h.id, h.score),)))
        .collect()
}

/// A suggested edge: two nodes two hops apart and not adjacent, with their Adamic-Adar index.
/// Unpacks as `source, target, score = candidate`.
#[pyclass(frozen, module = "resonance", name = "LinkCandidate", eq)]
#[derive(PartialEq)]
pub struct LinkCandidate {
    #[pyo3(get)]
    source: String,
    #[pyo3(get)]
    target: String,
    #[pyo3(get)]
    score: f64,
}

impl From<resonance::LinkCandidate> for LinkCandidate {
    fn from(c: resonance::LinkCandidate) -> LinkCandidate {
        LinkCandidate {
            source: c.source,
            target: c.target,
            score: c.score,
        }
    }
}

#[pymethods]
impl LinkCandidate {
    fn __repr__(&self) -> String {
        format!(
            "LinkCandidate(source={:?}, target={:?}, score={})",
            self.source, self.target, self.score
        )
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        (self.source.clone(), self.target.clone(), self.score)
            .into_pyobject(py)?
            .into_any()
            .try_iter()
            .map(|i| i.into_any())
    }

    fn __len__(&self) -> usize {
        3
    }
}

/// A pillar: one of the nodes of highest PageRank, with its degree. Unpacks as
/// `id, pagerank, degree = pillar`.
#[pyclass(frozen, module = "resonance", name = "Pillar", eq)]
#[derive(PartialEq)]
pub struct Pillar {
    #[pyo3(get)]
    id: String,
    #[pyo3(get)]
    pagerank: f64,
    #[pyo3(get)]
    degree: usize,
}

impl From<resonance::Pillar> for Pillar {
    fn from(p: resonance::Pillar) -> Pillar {
        Pillar {
            id: p.id,
            pagerank: p.pagerank,
            degree: p.degree,
        }
    }
}

#[pymethods]
impl Pillar {
    fn __repr__(&self) -> String {
        format!(
            "Pillar(id={:?}, pagerank={}, degree={})",
            self.id, self.pagerank, self.degree
        )
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        (self.id.clone(), self.pagerank, self.degree)
            .into_pyobject(py)?
            .into_any()
            .try_iter()
            .map(|i| i.into_any())
    }

    fn __len__(&self) -> usize {
        3
    }
}

/// A history row; `old_value`/`new_value` are parsed from their compact JSON.
#[pyclass(frozen, module = "resonance", name = "HistoryEntry")]
pub struct HistoryEntry {
    #[pyo3(get)]
    id: i64,
    #[pyo3(get)]
    entity_type: String,
    #[pyo3(get)]
    entity_id: String,
    #[pyo3(get)]
    action: String,
    #[pyo3(get)]
    old_value: Py<PyAny>,
    #[pyo3(get)]
    new_value: Py<PyAny>,
    #[pyo3(get)]
    timestamp: Option<String>,
}

impl HistoryEntry {
    /// The fields as a tuple, in the constructor's order.
    fn fields<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        (
            self.id,
            &self.entity_type,
            &self.entity_id,
            &self.action,
            self.old_value.clone_ref(py),
            self.new_value.clone_ref(py),
            &self.timestamp,
        )
            .into_pyobject(py)
    }

    /// Converts an engine history row.
    pub fn new(py: Python<'_>, h: resonance::HistoryEntry) -> PyResult<HistoryEntry> {
        Ok(HistoryEntry {
            old_value: json_text_to_py(py, h.old_value.as_deref())?.unbind(),
            new_value: json_text_to_py(py, h.new_value.as_deref())?.unbind(),
            id: h.id,
            entity_type: h.entity_type,
            entity_id: h.entity_id,
            action: h.action,
            timestamp: h.timestamp,
        })
    }
}

#[pymethods]
impl HistoryEntry {
    /// Rebuilds a history row from its fields (what pickling stores).
    #[new]
    #[pyo3(signature = (id, entity_type, entity_id, action, old_value, new_value, timestamp))]
    fn py_new(
        id: i64,
        #[pyo3(from_py_with = crate::args::string)] entity_type: String,
        #[pyo3(from_py_with = crate::args::string)] entity_id: String,
        #[pyo3(from_py_with = crate::args::string)] action: String,
        old_value: Py<PyAny>,
        new_value: Py<PyAny>,
        #[pyo3(from_py_with = crate::args::opt_string)] timestamp: Option<String>,
    ) -> HistoryEntry {
        HistoryEntry {
            id,
            entity_type,
            entity_id,
            action,
            old_value,
            new_value,
            timestamp,
        }
    }

    /// Pickling: the class and the fields.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        let py = slf.py();
        PyTuple::new(
            py,
            [slf.get_type().into_any(), slf.get().fields(py)?.into_any()],
        )
    }

    fn __eq__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<bool> {
        match other.cast::<HistoryEntry>() {
            Ok(o) => self.fields(py)?.eq(o.get().fields(py)?),
            Err(_) => Ok(false),
        }
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "HistoryEntry(id={}, entity_type={:?}, entity_id={:?}, action={:?}, old_value={}, new_value={}, timestamp={})",
            self.id,
            self.entity_type,
            self.entity_id,
            self.action,
            self.old_value.bind(py),
            self.new_value.bind(py),
            opt_repr(&self.timestamp)
        )
    }
}

/// Generates a frozen record class from a serialisable engine value: its fields become attributes
/// (via a dict built once), with `to_dict()` and a readable `repr`.
macro_rules! record {
    ($(#[$doc:meta])* $name:ident, $pyname:literal) => {
        $(#[$doc])*
        #[pyclass(frozen, module = "resonance", name = $pyname)]
        pub struct $name {
            fields: Py<PyDict>,
        }

        impl $name {
            /// Wraps a dict of fields.
            pub fn from_dict(d: Bound<'_, PyDict>) -> $name {
                $name { fields: d.unbind() }
            }
        }

        #[pymethods]
        impl $name {
            /// Rebuilds the record from a dict of its fields (`to_dict()`; what pickling stores).
            #[new]
            fn py_new(fields: &Bound<'_, PyDict>) -> PyResult<$name> {
                Ok($name::from_dict(fields.copy()?))
            }

            /// Pickling: the class and a copy of the fields.
            fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
                let py = slf.py();
                let args = PyTuple::new(py, [slf.get().fields.bind(py).copy()?])?;
                PyTuple::new(py, [slf.get_type().into_any(), args.into_any()])
            }

            fn __getattr__(&self, py: Python<'_>, name: &str) -> PyResult<Py<PyAny>> {
                match self.fields.bind(py).get_item(name)? {
                    Some(v) => Ok(v.unbind()),
                    None => Err(pyo3::exceptions::PyAttributeError::new_err(format!(
                        concat!("'", $pyname, "' object has no attribute '{}'"),
                        name
                    ))),
                }
            }

            fn __dir__(&self, py: Python<'_>) -> PyResult<Vec<String>> {
                let mut names: Vec<String> = self.fields.bind(py).keys().extract()?;
                names.push("to_dict".into());
                Ok(names)
            }

            /// The fields as a new plain dict.
            fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
                self.fields.bind(py).copy()
            }

            fn __eq__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<bool> {
                match other.cast::<$name>() {
                    Ok(o) => self.fields.bind(py).eq(o.get().fields.bind(py)),
                    Err(_) => Ok(false),
                }
            }

            fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
                let mut parts = Vec::new();
                for (k, v) in self.fields.bind(py).iter() {
                    parts.push(format!("{}={}", k, v.repr()?));
                }
                Ok(format!(concat!($pyname, "({})"), parts.join(", ")))
            }
        }
    };
}

record!(
    /// Counts and sizes: `nodes`, `edges`, `vectors`, `dangling_edges`, `dimension`, `history`,
    /// `db_bytes`, `wal_bytes`, `size_bytes`.
    Stats,
    "Stats"
);
record!(
    /// One snapshot of the stats history (docs/stats.md): `id`, `recorded_at`, `nodes`, `edges`,
    /// `vectors`, `dangling_edges`, `dimension`, `history`, `db_bytes`, `wal_bytes`, `label`, `meta`.
    StatsSnapshot,
    "StatsSnapshot"
);
record!(
    /// The stats verdict (docs/stats.md): `errors` and `warnings` (dicts with `code` and `message`),
    /// `snapshot` and `previous` (dicts of a snapshot's fields, or None), `passed`.
    StatsValidation,
    "StatsValidation"
);
record!(
    /// SQLite's answer to a checkpoint: `busy`, `log`, `checkpointed`.
    Checkpoint,
    "Checkpoint"
);
record!(
    /// `nodes`, `edges`, `density`, `skipped_edges`.
    GraphStats,
    "GraphStats"
);
record!(
    /// `partition` (dict id → community number) and `modularity`.
    Communities,
    "Communities"
);
record!(
    /// The health report of docs/connections.md (see the stubs for the fields); `problems` lists what is wrong.
    HealthReport,
    "HealthReport"
);
record!(
    /// What a migration did or, for a dry run, would do: `shape_before`, `steps` (dicts with `id`,
    /// `kind`, `description`, `sql`, `destructive`), `dry_run`, `backup`, `warnings`.
    MigrationReport,
    "MigrationReport"
);
record!(
    /// What `db.migrate_app` did or, for a dry run, would do: `namespace`, `dry_run`, `steps` (dicts
    /// with `version`, `name`, `direction` `'up'`/`'down'`, `sql`, `destructive`), `backup` (a path
    /// str or None), `accepted_changes` (versions whose changed text was accepted).
    AppMigrationReport,
    "AppMigrationReport"
);
record!(
    /// Applied and pending application steps of one namespace: `namespace`, `applied` (dicts with
    /// `version`, `name`, `checksum`, `applied_at`), `pending` (dicts with `version`, `name`).
    AppMigrationStatus,
    "AppMigrationStatus"
);

/// A dict of the fields of a serialisable value.
pub fn serde_dict<'py, T: serde::Serialize>(
    py: Python<'py>,
    v: &T,
) -> PyResult<Bound<'py, PyDict>> {
    let value = serde_json::to_value(v)
        .map_err(|e| crate::errors::new_err(resonance::ErrorKind::Internal, e.to_string()))?;
    Ok(json_to_py(py, &value)?.cast_into::<PyDict>()?)
}

/// `Stats` from the engine's stats.
pub fn stats(py: Python<'_>, s: &resonance::Stats) -> PyResult<Stats> {
    Ok(Stats::from_dict(serde_dict(py, s)?))
}

/// `StatsSnapshot` from the engine's.
pub fn stats_snapshot(py: Python<'_>, s: &resonance::StatsSnapshot) -> PyResult<StatsSnapshot> {
    Ok(StatsSnapshot::from_dict(serde_dict(py, s)?))
}

/// `StatsValidation` from the engine's: its serialised fields plus `passed`.
pub fn stats_validation(
    py: Python<'_>,
    v: &resonance::StatsValidation,
) -> PyResult<StatsValidation> {
    let d = serde_dict(py, v)?;
    d.set_item("passed", v.passed())?;
    Ok(StatsValidation::from_dict(d))
}

/// `Checkpoint` from the engine's.
pub fn checkpoint(py: Python<'_>, c: &resonance::Checkpoint) -> PyResult<Checkpoint> {
    Ok(Checkpoint::from_dict(serde_dict(py, c)?))
}

/// `GraphStats` from the engine's.
pub fn graph_stats(py: Python<'_>, g: &resonance::GraphStats) -> PyResult<GraphStats> {
    let d = PyDict::new(py);
    d.set_item("nodes", g.nodes)?;
    d.set_item("edges", g.edges)?;
    d.set_item("density", g.density)?;
    d.set_item("skipped_edges", g.skipped_edges)?;
    Ok(GraphStats::from_dict(d))
}

/// `Communities` from the engine's.
pub fn communities(py: Python<'_>, c: &resonance::Communities) -> PyResult<Communities> {
    let d = PyDict::new(py);
    let p = PyDict::new(py);
    for (id, c) in &c.partition {
        p.set_item(id, c)?;
    }
    d.set_item("partition", p)?;
    d.set_item("modularity", c.modularity)?;
    Ok(Communities::from_dict(d))
}

/// `HealthReport` from the engine's: its serialised fields plus `problems`.
pub fn health(py: Python<'_>, h: &resonance::HealthReport) -> PyResult<HealthReport> {
    let d = serde_dict(py, h)?;
    d.set_item("problems", PyList::new(py, h.problems())?)?;
    Ok(HealthReport::from_dict(d))
}

/// `MigrationReport` from the engine's.
pub fn migration(py: Python<'_>, r: &resonance::MigrationReport) -> PyResult<MigrationReport> {
    Ok(MigrationReport::from_dict(serde_dict(py, r)?))
}

/// A ranking (PageRank, betweenness) as a dict of node id → score, in id order.
pub fn ranking<'py>(py: Python<'py>, v: Vec<resonance::Ranking>) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for r in v {
        d.set_item(r.id, r.score)?;
    }
    Ok(d)
}
