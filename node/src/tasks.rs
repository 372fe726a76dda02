//! The heavy calls as `AsyncTask`s: the work runs on the libuv thread pool (never on the event
//! loop), inside a panic guard; the result is converted to JS on the JS thread; a failure rejects the
//! Promise with the same coded `Error` a synchronous call would throw.

use napi::bindgen_prelude::{Env, Task};
use napi_derive::napi;

use crate::error::{guard_js, into_status_error, Code};
use crate::outputs;

type Job<O> = Box<dyn FnOnce() -> crate::error::Result<O> + Send>;

/// One unit of pool work: a closure over owned arguments (copied when the task was created).
pub struct Work<O> {
    job: Option<Job<O>>,
    failure: Option<napi::Error<Code>>,
}

impl<O> Work<O> {
    /// Wraps a job returning a core result: its error is mapped to a coded JS error once, and a panic
    /// becomes `internal`.
    pub fn mapping_core_errors(
        f: impl FnOnce() -> resonance::Result<O> + Send + 'static,
    ) -> Work<O> {
        Work {
            job: Some(Box::new(move || crate::error::guard(f))),
            failure: None,
        }
    }

    /// Wraps a job that produces coded JS errors itself (kept as they are).
    pub fn keeping_coded_errors(
        f: impl FnOnce() -> crate::error::Result<O> + Send + 'static,
    ) -> Work<O> {
        Work {
            job: Some(Box::new(f)),
            failure: None,
        }
    }

    /// A job that fails with `e` without touching any database (a call refused when it was made).
    pub fn failed(e: napi::Error<Code>) -> Work<O> {
        Work {
            job: Some(Box::new(move || Err(e))),
            failure: None,
        }
    }

    fn compute(&mut self) -> napi::Result<O> {
        let job = self
            .job
            .take()
            .ok_or_else(|| napi::Error::from_reason("task computed twice"))?;
        match guard_js(job) {
            Ok(v) => Ok(v),
            Err(e) => {
                let reason = e.reason.clone();
                self.failure = Some(e);
                Err(napi::Error::from_reason(reason))
            }
        }
    }

    fn reject(&mut self, env: &Env, err: napi::Error) -> napi::Error {
        match self.failure.take() {
            Some(e) => into_status_error(env, e),
            None => into_status_error(env, napi::Error::new(Code("internal"), err.reason)),
        }
    }
}

macro_rules! task {
    ($(#[$doc:meta])* $name:ident, $out:ty, $js:ty, |$o:ident| $conv:expr) => {
        $(#[$doc])*
        pub struct $name(pub Work<$out>);

        #[napi]
        impl Task for $name {
            type Output = $out;
            type JsValue = $js;

            fn compute(&mut self) -> napi::Result<Self::Output> {
                self.0.compute()
            }

            fn resolve(&mut self, _env: Env, $o: Self::Output) -> napi::Result<Self::JsValue> {
                Ok($conv)
            }

            fn reject(&mut self, env: Env, err: napi::Error) -> napi::Result<Self::JsValue> {
                Err(self.0.reject(&env, err))
            }
        }
    };
}

task!(
    /// Opens a database (with adoption and migrations).
    OpenTask, std::sync::Arc<resonance::Database>, crate::Database,
    |o| crate::Database::wrap(o)
);
task!(
    /// A count of rows written.
    CountTask, usize, u32, |o| o as u32
);
task!(
    /// Nothing to return.
    UnitTask, (), (), |o| o
);
task!(
    /// A string (a path).
    StringTask, String, String, |o| o
);
task!(
    /// A node or nothing.
    NodeTask, Option<resonance::Node>, Option<outputs::Node>, |o| o.map(outputs::Node::from)
);
task!(
    /// Counts and sizes.
    StatsTask, resonance::Stats, outputs::Stats, |o| outputs::Stats::from(o)
);
task!(
    /// A stats snapshot.
    StatsSnapshotTask, resonance::StatsSnapshot, outputs::StatsSnapshot,
    |o| outputs::StatsSnapshot::from(o)
);
task!(
    /// A stats verdict.
    StatsValidationTask, resonance::StatsValidation, outputs::StatsValidation,
    |o| outputs::StatsValidation::from(o)
);
task!(
    /// Search hits.
    SearchTask, Vec<resonance::Hit>, Vec<outputs::Hit>, |o| outputs::hits(o)
);
task!(
    /// Batch search hits as typed arrays.
    SearchBatchTask, Vec<Vec<resonance::Hit>>, outputs::BatchResult,
    |o| outputs::BatchResult::from_core(o)
);
task!(
    /// The health report.
    HealthTask, resonance::HealthReport, outputs::HealthReport,
    |o| outputs::HealthReport::from(o)
);
task!(
    /// A migration report.
    MigrateTask, resonance::MigrationReport, outputs::MigrationReport,
    |o| outputs::MigrationReport::from(o)
);
task!(
    /// Scores by node id (PageRank, betweenness).
    ScoresTask, Vec<resonance::Ranking>, std::collections::BTreeMap<String, f64>,
    |o| o.into_iter().map(|r| (r.id, r.score)).collect()
);
task!(
    /// Louvain communities.
    CommunitiesTask, resonance::Communities, outputs::Communities,
    |o| outputs::Communities {
        partition: o.partition.into_iter().map(|(id, c)| (id, c as u32)).collect(),
        modularity: o.modularity,
    }
);
task!(
    /// Weakly connected components.
    ComponentsTask, Vec<Vec<String>>, Vec<Vec<String>>, |o| o
);
task!(
    /// Predicted links.
    LinkCandidatesTask, Vec<resonance::LinkCandidate>, Vec<outputs::LinkCandidate>,
    |o| o
        .into_iter()
        .map(|c| outputs::LinkCandidate { source: c.source, target: c.target, score: c.score })
        .collect()
);
task!(
    /// Pillar nodes.
    PillarsTask, Vec<resonance::Pillar>, Vec<outputs::Pillar>,
    |o| o
        .into_iter()
        .map(|p| outputs::Pillar { id: p.id, pagerank: p.pagerank, degree: p.degree as u32 })
        .collect()
);
task!(
    /// A statement's `runAsync`.
    SqlRunTask, crate::sql::RunResult, crate::sql::RunResult, |o| o
);
task!(
    /// A statement's `getAsync`.
    SqlGetTask, Option<crate::sql::RowOut>, Option<crate::sql::RowOut>, |o| o
);
task!(
    /// A statement's `allAsync`.
    SqlAllTask, crate::sql::RowsOut, crate::sql::RowsOut, |o| o
);
task!(
    /// An application migration report.
    AppMigrateTask, resonance::AppMigrationReport, crate::sql::AppMigrationReport,
    |o| crate::sql::AppMigrationReport::from(o)
);
