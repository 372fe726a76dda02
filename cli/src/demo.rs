//! `resonance demo`: builds a knowledge graph from the project's own documentation (bundled into the
//! binary), embeds each section with the deterministic procedure of `embed`, links sections, then runs
//! searches and graph analytics and prints a readable report.

use std::path::Path;

use resonance::{Database, EdgeInput, NodeInput, OpenOptions, Result, SearchOptions};

use crate::embed;

/// The bundled sample: the project's own documents (path, text).
pub const SAMPLE: &[(&str, &str)] = &[
    ("README.md", include_str!("../../README.md")),
    (
        "docs/architecture.md",
        include_str!("../../docs/architecture.md"),
    ),
    (
        "tests/conformance/README.md",
        include_str!("../../tests/conformance/README.md"),
    ),
];

/// A section of a markdown document.
pub struct Section {
    /// Node id (`generate_id` of `file#heading`).
    pub id: String,
    /// The file it comes from.
    pub file: &'static str,
    /// The heading.
    pub title: String,
    /// The text under the heading.
    pub body: String,
    /// 1-based line of the heading.
    pub line: usize,
}

/// Splits the sample into sections at `#` headings.
pub fn sections() -> Vec<Section> {
    let mut out: Vec<Section> = Vec::new();
    for (file, text) in SAMPLE {
        let mut current: Option<Section> = None;
        let mut in_code = false;
        for (i, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("```") {
                in_code = !in_code;
            }
            if !in_code && line.starts_with('#') {
                if let Some(s) = current.take() {
                    out.push(s);
                }
                let title = line.trim_start_matches('#').trim().to_string();
                let id = resonance::generate_id(&format!("{file}/{title}"));
                current = Some(Section {
                    id,
                    file,
                    title,
                    body: String::new(),
                    line: i + 1,
                });
            } else if let Some(s) = current.as_mut() {
                s.body.push_str(line);
                s.body.push('\n');
            }
        }
        out.extend(current);
    }
    // Ids must be unique: suffix repeats.
    let mut seen = std::collections::HashMap::new();
    for s in &mut out {
        let n = seen.entry(s.id.clone()).or_insert(0);
        *n += 1;
        if *n > 1 {
            s.id = format!("{}-{}", s.id, n);
        }
    }
    out
}

/// Paragraphs of a section body; each row of a table and each list item is a block of its own.
fn blocks(body: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for line in body.lines() {
        let t = line.trim_start();
        let own = t.starts_with('|')
            || t.starts_with("- ")
            || t.chars().next().is_some_and(|c| c.is_ascii_digit());
        if line.trim().is_empty() || own || t.starts_with("|---") {
            if !cur.trim().is_empty() {
                out.push(cur.trim().to_string());
            }
            cur.clear();
            if own && !t.starts_with("|---") {
                cur.push_str(t);
            }
            continue;
        }
        cur.push(' ');
        cur.push_str(t);
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

fn summary(body: &str) -> String {
    let text: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    let end = text
        .find(". ")
        .map(|i| i + 1)
        .unwrap_or(text.len())
        .min(160);
    let mut cut = end;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    text[..cut].to_string()
}

/// Runs the demo into `db_path` (replaced if it exists) and prints the report.
pub fn run(db_path: &Path) -> Result<()> {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = db_path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
    let db = Database::open_with(db_path, OpenOptions::default())?;
    let secs = sections();
    println!(
        "Resonance demo — the project's own documentation ({} documents, {} sections)",
        SAMPLE.len(),
        secs.len()
    );
    println!("database: {}\n", db_path.display());

    let t = std::time::Instant::now();
    let nodes: Vec<NodeInput> = secs
        .iter()
        .map(|s| NodeInput {
            id: s.id.clone(),
            node_type: Some("section".into()),
            title: Some(s.title.clone()),
            domain: Some("docs".into()),
            layer: Some("reference".into()),
            summary: Some(summary(&s.body)),
            meta: Some(serde_json::json!({"file": s.file, "line": s.line}).to_string()),
            embedding: {
                let v = embed::embed(&format!("{} {}", s.title, s.body));
                v.iter().any(|x| *x != 0.0).then_some(v)
            },
            ..Default::default()
        })
        .collect();
    db.upsert_nodes(&nodes)?;
    // Paragraphs: each block of text under a heading, part of its section.
    let mut edges = Vec::new();
    let mut paragraphs = Vec::new();
    for s in &secs {
        for (i, block) in blocks(&s.body)
            .into_iter()
            .filter(|b| embed::tokens(b).len() >= 6)
            .enumerate()
        {
            let id = format!("{}-p{}", s.id, i + 1);
            let title: String = block
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .chars()
                .take(70)
                .collect();
            paragraphs.push(NodeInput {
                id: id.clone(),
                node_type: Some("paragraph".into()),
                title: Some(title),
                domain: Some("docs".into()),
                layer: Some("reference".into()),
                summary: Some(summary(&block)),
                meta: Some(serde_json::json!({"file": s.file, "section": s.title}).to_string()),
                embedding: Some(embed::embed(&format!("{} {block}", s.title))),
                ..Default::default()
            });
            edges.push(EdgeInput {
                edge_type: Some("part_of".into()),
                ..EdgeInput::new(&id, &s.id)
            });
        }
    }
    db.upsert_nodes(&paragraphs)?;
    // Structure: each section follows the previous one of its file.
    for w in secs.windows(2) {
        if w[0].file == w[1].file {
            edges.push(EdgeInput {
                edge_type: Some("follows".into()),
                ..EdgeInput::new(&w[1].id, &w[0].id)
            });
        }
    }
    db.add_edges(&edges)?;
    // Meaning: link each section to its two nearest neighbours by embedding.
    let mut similar = Vec::new();
    for s in &secs {
        let opts = SearchOptions {
            k: 2,
            min_score: Some(0.2),
            node_type: Some("section".into()),
            ..Default::default()
        };
        let Ok(hits) = db.search_like(&s.id, &opts) else {
            continue;
        };
        for h in hits {
            similar.push(EdgeInput {
                edge_type: Some("similar_to".into()),
                confidence: Some(f64::from(h.score)),
                ..EdgeInput::new(&s.id, &h.id)
            });
        }
    }
    db.add_edges(&similar)?;
    let st = db.stats()?;
    println!(
        "built in {:.0} ms: {} nodes, {} vectors ({}-d), {} edges ({} part_of/follows, {} similar_to)\n",
        t.elapsed().as_secs_f64() * 1000.0,
        st.nodes,
        st.vectors,
        st.dimension.unwrap_or(0),
        st.edges,
        edges.len(),
        similar.len()
    );

    for q in [
        "how are migrations made safe",
        "read-only handles and WAL",
        "exact vector search top-k speed",
    ] {
        println!("search: \"{q}\"");
        let opts = SearchOptions {
            k: 3,
            node_type: Some("paragraph".into()),
            ..Default::default()
        };
        let hits = db.search(&embed::embed(q), &opts)?;
        for h in hits {
            let title = db
                .get_node(&h.id)?
                .and_then(|n| n.title)
                .unwrap_or_default();
            println!("  {:.3}  {}  ({})", h.score, title, h.id);
        }
        println!();
    }
    println!("pillars (top PageRank):");
    let mut five = resonance::PillarOptions::default();
    five.limit = 5;
    for resonance::Pillar {
        id,
        pagerank: pr,
        degree: deg,
    } in db.pillars(&five)?
    {
        let title = db.get_node(&id)?.and_then(|n| n.title).unwrap_or_default();
        println!("  {pr:.4}  degree {deg:>2}  {title}");
    }
    let mut seeded = resonance::CommunityOptions::default();
    seeded.seed = 42;
    let comm = db.communities(&seeded)?;
    let n_comm = comm
        .partition
        .iter()
        .map(|(_, c)| *c)
        .max()
        .map_or(0, |m| m + 1);
    let comps = db.components()?;
    println!(
        "\ncommunities: {n_comm} (modularity {:.3}); weakly connected components: {}",
        comm.modularity,
        comps.len()
    );
    let mut one = resonance::LinkCandidateOptions::default();
    one.limit = 1;
    if let Some(resonance::LinkCandidate {
        source: a,
        target: b,
        score,
    }) = db.link_candidates(&one)?.into_iter().next()
    {
        println!("suggested link: {a} — {b} (Adamic-Adar {score:.3})");
    }
    let h = db.health()?;
    println!(
        "\nhealth: journal {} · quick_check {} · schema {} · {} problem(s)",
        h.journal_mode,
        h.quick_check,
        h.schema.shape,
        h.problems().len()
    );
    db.close()?;
    println!("\nTry: resonance doctor {0} · resonance graph {0} pillars · resonance search {0} --like <id>", db_path.display());
    Ok(())
}
