//! `resonance stats`: counts and sizes, and the stats history (record, print, judge, plot; docs/stats.md).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use resonance::{Database, Error, RecordStatsOptions, StatsSnapshot};
use serde_json::{json, Map, Value};

use crate::output::{fail, print_json};

/// What `resonance stats` was asked for besides the counts.
pub struct What {
    /// Record a snapshot with these options.
    pub record: Option<RecordStatsOptions>,
    /// Print the newest this many snapshots.
    pub history: Option<usize>,
    /// Judge the newest snapshot.
    pub validate: bool,
    /// Draw the newest this many snapshots into this SVG file.
    pub plot: Option<(PathBuf, usize)>,
}

/// Runs `resonance stats` on `path`: 0, 1 when a step fails or the verdict has an error.
pub fn stats(path: &Path, what: &What, json_out: bool) -> ExitCode {
    match run(path, what, json_out) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => fail(&e),
    }
}

fn to_value<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

fn run(path: &Path, what: &What, json_out: bool) -> resonance::Result<bool> {
    let db = Database::open(path)?;
    let plain =
        what.record.is_none() && what.history.is_none() && !what.validate && what.plot.is_none();
    let mut out = Map::new();
    let mut passed = true;
    if plain {
        let s = db.stats()?;
        if json_out {
            print_json(&to_value(&s));
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
        return Ok(true);
    }
    if let Some(opts) = &what.record {
        let s = db.record_stats(opts)?;
        if json_out {
            out.insert("recorded".into(), to_value(&s));
        } else {
            println!("recorded snapshot {}: {}", s.id.unwrap_or(0), line(&s));
        }
    }
    if let Some(limit) = what.history {
        let h = db.stats_history(limit)?;
        if json_out {
            out.insert("history".into(), to_value(&h));
        } else if h.is_empty() {
            println!("no snapshots recorded (resonance stats PATH --record)");
        } else {
            for s in &h {
                println!("{:>5}  {}", s.id.unwrap_or(0), line(s));
            }
        }
    }
    if what.validate {
        let v = db.validate_stats(&Default::default())?;
        passed = v.passed();
        if json_out {
            out.insert(
                "validation".into(),
                json!({"passed": passed, "errors": v.errors, "warnings": v.warnings}),
            );
        } else {
            for f in &v.errors {
                println!("error [{}]: {}", f.code, f.message);
            }
            for f in &v.warnings {
                println!("warning [{}]: {}", f.code, f.message);
            }
            if v.errors.is_empty() && v.warnings.is_empty() {
                println!("stats: no findings");
            }
        }
    }
    if let Some((file, limit)) = &what.plot {
        let mut h = db.stats_history(*limit)?;
        h.reverse();
        plot(&h, file, &show_name(path))?;
        if json_out {
            out.insert(
                "plot".into(),
                json!({"file": file.display().to_string(), "snapshots": h.len()}),
            );
        } else {
            println!("plotted {} snapshots into {}", h.len(), file.display());
        }
    }
    if json_out {
        print_json(&Value::Object(out));
    }
    Ok(passed)
}

fn show_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

fn line(s: &StatsSnapshot) -> String {
    format!(
        "{}  nodes {} · edges {} ({} dangling) · vectors {} · {} bytes{}",
        s.recorded_at,
        s.nodes,
        s.edges,
        s.dangling_edges,
        s.vectors,
        s.db_bytes + s.wal_bytes,
        s.label
            .as_ref()
            .map_or(String::new(), |l| format!(" · {l:?}"))
    )
}

/// One line of the plot: its name, its colour and the count it draws.
type Series = (
    &'static str,
    plotters::style::RGBColor,
    fn(&StatsSnapshot) -> u64,
);

/// Draws nodes, edges and vectors against the snapshot's position in time (oldest left) into an SVG.
fn plot(history: &[StatsSnapshot], file: &Path, title: &str) -> resonance::Result<()> {
    use plotters::prelude::*;
    if history.is_empty() {
        return Err(Error::InvalidArgument(
            "nothing to plot: no snapshots recorded (resonance stats PATH --record)".into(),
        ));
    }
    let draw_err = |e: &dyn std::fmt::Display| Error::Io {
        message: format!("drawing {}: {e}", file.display()),
        source: None,
    };
    let top = history
        .iter()
        .map(|s| s.nodes.max(s.edges).max(s.vectors))
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let n = history.len();
    let root = SVGBackend::new(file, (900, 500)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| draw_err(&e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("{title}: growth over {n} snapshots"),
            ("sans-serif", 22),
        )
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..(n.max(2) - 1) as f64, 0f64..top * 1.05)
        .map_err(|e| draw_err(&e))?;
    let first = history[0].recorded_at.get(..16).unwrap_or("").to_string();
    let last = history[n - 1]
        .recorded_at
        .get(..16)
        .unwrap_or("")
        .to_string();
    chart
        .configure_mesh()
        .x_desc(format!("snapshot ({first} … {last} UTC)"))
        .y_desc("count")
        .x_label_formatter(&|x| format!("{}", x.round() as i64 + 1))
        .y_label_formatter(&|y| format!("{}", y.round() as i64))
        .draw()
        .map_err(|e| draw_err(&e))?;
    let series: [Series; 3] = [
        ("nodes", BLUE, |s| s.nodes),
        ("edges", RED, |s| s.edges),
        ("vectors", GREEN, |s| s.vectors),
    ];
    for (name, color, value) in series {
        chart
            .draw_series(LineSeries::new(
                history
                    .iter()
                    .enumerate()
                    .map(|(i, s)| (i as f64, value(s) as f64)),
                color.stroke_width(2),
            ))
            .map_err(|e| draw_err(&e))?
            .label(name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| draw_err(&e))?;
    root.present().map_err(|e| draw_err(&e))?;
    Ok(())
}
