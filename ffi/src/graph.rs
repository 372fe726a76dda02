//! Graph analytics (docs/graph.md) on the handle's cached snapshot. Unknown ids are `RESONANCE_NOT_FOUND`;
//! an empty graph gives empty results.

use std::ffi::c_char;

use resonance::Error;

use crate::options::*;
use crate::types::*;
use crate::{
    arg_str, guard, hand_to_caller, handle, out_ptr, resonance_status, take_back_from_caller,
};

fn hand_strings_to_caller(
    out: *mut *mut resonance_strings,
    f: impl FnOnce() -> Result<Vec<String>, Error>,
) -> Result<(), Error> {
    let out = out_ptr(out, "ids_out")?;
    *out = std::ptr::null_mut();
    let v = f()?;
    *out = hand_to_caller(resonance_strings::from_vec(&v), "strings");
    Ok(())
}

/// The union of `id`'s in- and out-neighbours, ascending, into `*ids_out` (free with
/// `resonance_strings_free`).
///
/// # Safety
/// `db` is NULL or a handle; `id` is a NUL-terminated string; `ids_out` and `err_out` are NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn resonance_graph_neighbors(
    db: *mut resonance_db,
    id: *const c_char,
    ids_out: *mut *mut resonance_strings,
    err_out: *mut *mut c_char,
) -> resonance_status {
    guard!(err_out, {
        hand_strings_to_caller(ids_out, || handle(db)?.neighbors(arg_str(id, "id")?))
    })
}

/// `id`'s out-neighbours, ascending, into `*ids_out` (free with `resonance_strings_free`).
///
/// # Safety
/// As `resonance_graph_neighbors`.
#[no_mangle]
pub unsafe extern "C" fn resonance_graph_successors(
    db: *mut resonance_db,
    id: *const c_char,
    ids_out: *mut *mut resonance_strings,
    err_out: *mut *mut c_char,
) -> resonance_status {
    guard!(err_out, {
        hand_strings_to_caller(ids_out, || handle(db)?.successors(arg_str(id, "id")?))
    })
}

/// `id`'s in-neighbours, ascending, into `*ids_out` (free with `resonance_strings_free`).
///
/// # Safety
/// As `resonance_graph_neighbors`.
#[no_mangle]
pub unsafe extern "C" fn resonance_graph_predecessors(
    db: *mut resonance_db,
    id: *const c_char,
    ids_out: *mut *mut resonance_strings,
    err_out: *mut *mut c_char,
) -> resonance_status {
    guard!(err_out, {
        hand_strings_to_caller(ids_out, || handle(db)?.predecessors(arg_str(id, "id")?))
    })
}

/// `id`'s in- plus out-degree (parallel edges each; a self-loop counts 2) into `*degree_out`.
///
/// # Safety
/// `db` is NULL or a handle; `id` is a NUL-terminated string; `degree_out` and `err_out` are NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn resonance_graph_degree(
    db: *mut resonance_db,
    id: *const c_char,
    degree_out: *mut usize,
    err_out: *mut *mut c_char,
) -> resonance_status {
    guard!(err_out, {
        let out = out_ptr(degree_out, "degree_out")?;
        *out = handle(db)?.degree(arg_str(id, "id")?)?;
        Ok(())
    })
}

/// Breadth-first search from `start` (included) along `options->direction` (outgoing by default) up
/// to `options->max_depth` hops (no limit by default), in visit order, into `*ids_out` (free with
/// `resonance_strings_free`). `options` NULL means the defaults.
///
/// # Safety
/// `db` is NULL or a handle; `start` is a NUL-terminated string; `options` is NULL or follows the
/// size rule; `ids_out` and `err_out` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn resonance_graph_traverse(
    db: *mut resonance_db,
    start: *const c_char,
    options: *const resonance_traverse_options,
    ids_out: *mut *mut resonance_strings,
    err_out: *mut *mut c_char,
) -> resonance_status {
    guard!(err_out, {
        hand_strings_to_caller(ids_out, || {
            // SAFETY: NULL or a struct of the size rule (documented).
            let o = unsafe { read_options(options) }?.to_core()?;
            handle(db)?.traverse(arg_str(start, "start")?, &o)
        })
    })
}

/// The unweighted shortest path from `source` to `target` along `options->direction` (outgoing by
/// default: a directed path) (both ends included; `[source]` when they are equal) into `*path_out`
/// (free with `resonance_strings_free`); `*path_out` is NULL, with `RESONANCE_OK`, when `target` is
/// unreachable. `options` NULL means the defaults.
///
/// # Safety
/// `db` is NULL or a handle; `source` and `target` are NUL-terminated strings; `options` is NULL or
/// follows the size rule; `path_out` and `err_out` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn resonance_graph_shortest_path(
    db: *mut resonance_db,
    source: *const c_char,
    target: *const c_char,
    options: *const resonance_path_options,
    path_out: *mut *mut resonance_strings,
    err_out: *mut *mut c_char,
) -> resonance_status {
    guard!(err_out, {
        let out = out_ptr(path_out, "path_out")?;
        *out = std::ptr::null_mut();
        let s = arg_str(source, "source")?;
        let t = arg_str(target, "target")?;
        // SAFETY: NULL or a struct of the size rule (documented).
        let o = unsafe { read_options(options) }?.to_core()?;
        if let Some(path) = handle(db)?.shortest_path(s, t, &o)? {
            *out = hand_to_caller(resonance_strings::from_vec(&path), "strings");
        }
        Ok(())
    })
}

fn hand_rankings_to_caller(
    out: *mut *mut resonance_rankings,
    f: impl FnOnce() -> Result<Vec<resonance::Ranking>, Error>,
) -> Result<(), Error> {
    let out = out_ptr(out, "rankings_out")?;
    *out = std::ptr::null_mut();
    let v = f()?;
    *out = hand_to_caller(resonance_rankings::from_core(v), "rankings");
    Ok(())
}

/// PageRank (`options`: `alpha` in [0, 1], `tolerance` > 0, `max_iterations` ≥ 1; NULL means the
/// defaults of `resonance_pagerank_options_default()`), one score per node in id order, into
/// `*rankings_out` (free with `resonance_rankings_free`).
///
/// # Safety
/// `db` is NULL or a handle; `options` is NULL or follows the size rule; `rankings_out` and
/// `err_out` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn resonance_graph_pagerank(
    db: *mut resonance_db,
    options: *const resonance_pagerank_options,
    rankings_out: *mut *mut resonance_rankings,
    err_out: *mut *mut c_char,
) -> resonance_status {
    guard!(err_out, {
        hand_rankings_to_caller(rankings_out, || {
            // SAFETY: NULL or a struct of the size rule (documented).
            let o = unsafe { read_options(options) }?.to_core();
            handle(db)?.pagerank(&o)
        })
    })
}

/// Betweenness centrality (Brandes over directed edges; normalised by (N−1)(N−2) when
/// `options->normalized`), exact when `options->sample` is 0, else estimated from `sample` pivots
/// drawn with `options->seed`; one score per node in id order, into `*rankings_out` (free with
/// `resonance_rankings_free`). `options` NULL means the defaults.
///
/// # Safety
/// `db` is NULL or a handle; `options` is NULL or follows the size rule; `rankings_out` and
/// `err_out` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn resonance_graph_betweenness(
    db: *mut resonance_db,
    options: *const resonance_betweenness_options,
    rankings_out: *mut *mut resonance_rankings,
    err_out: *mut *mut c_char,
) -> resonance_status {
    guard!(err_out, {
        hand_rankings_to_caller(rankings_out, || {
            // SAFETY: NULL or a struct of the size rule (documented).
            let o = unsafe { read_options(options) }?.to_core();
            handle(db)?.betweenness(&o)
        })
    })
}

/// Frees a ranking list. NULL (or an already freed list) is a no-op.
#[no_mangle]
pub extern "C" fn resonance_rankings_free(rankings: *mut resonance_rankings) {
    let _ = std::panic::catch_unwind(|| drop(take_back_from_caller(rankings, "rankings")));
}

/// Louvain communities (directed modularity at `options->resolution`; deterministic for a given
/// `options->seed`; NULL means the defaults) into `*communities_out` (free with
/// `resonance_communities_free`).
///
/// # Safety
/// `db` is NULL or a handle; `options` is NULL or follows the size rule; `communities_out` and
/// `err_out` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn resonance_graph_communities(
    db: *mut resonance_db,
    options: *const resonance_community_options,
    communities_out: *mut *mut resonance_communities,
    err_out: *mut *mut c_char,
) -> resonance_status {
    guard!(err_out, {
        let out = out_ptr(communities_out, "communities_out")?;
        *out = std::ptr::null_mut();
        // SAFETY: NULL or a struct of the size rule (documented).
        let o = unsafe { read_options(options) }?.to_core();
        let c = handle(db)?.communities(&o)?;
        let (items, len) = crate::into_array(
            c.partition
                .into_iter()
                .map(|(id, community)| resonance_community_member {
                    id: crate::c_string(&id),
                    community,
                })
                .collect(),
        );
        *out = hand_to_caller(
            resonance_communities {
                items,
                len,
                modularity: c.modularity,
            },
            "communities",
        );
        Ok(())
    })
}

/// Frees a community partition. NULL (or an already freed one) is a no-op.
#[no_mangle]
pub extern "C" fn resonance_communities_free(communities: *mut resonance_communities) {
    let _ = std::panic::catch_unwind(|| drop(take_back_from_caller(communities, "communities")));
}

/// Weakly connected components, largest first, into `*components_out` (free with
/// `resonance_components_free`).
///
/// # Safety
/// `db` is NULL or a handle; `components_out` and `err_out` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn resonance_graph_components(
    db: *mut resonance_db,
    components_out: *mut *mut resonance_components,
    err_out: *mut *mut c_char,
) -> resonance_status {
    guard!(err_out, {
        let out = out_ptr(components_out, "components_out")?;
        *out = std::ptr::null_mut();
        let comps = handle(db)?.components()?;
        let (items, len) = crate::into_array(
            comps
                .iter()
                .map(|c| resonance_strings::from_vec(c))
                .collect(),
        );
        *out = hand_to_caller(resonance_components { items, len }, "components");
        Ok(())
    })
}

/// Frees a component list. NULL (or an already freed list) is a no-op.
#[no_mangle]
pub extern "C" fn resonance_components_free(components: *mut resonance_components) {
    let _ = std::panic::catch_unwind(|| drop(take_back_from_caller(components, "components")));
}

/// The Adamic-Adar index of `a` and `b` (the sum of 1/ln(degree) over shared neighbours) into
/// `*score_out`.
///
/// # Safety
/// `db` is NULL or a handle; `a` and `b` are NUL-terminated strings; `score_out` and `err_out` are
/// NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn resonance_graph_adamic_adar(
    db: *mut resonance_db,
    a: *const c_char,
    b: *const c_char,
    score_out: *mut f64,
    err_out: *mut *mut c_char,
) -> resonance_status {
    guard!(err_out, {
        let out = out_ptr(score_out, "score_out")?;
        *out = handle(db)?.adamic_adar(arg_str(a, "a")?, arg_str(b, "b")?)?;
        Ok(())
    })
}

/// At most `options->limit` two-hop non-adjacent pairs ranked by Adamic-Adar (NULL `options`: the
/// defaults), into `*candidates_out` (free with `resonance_link_candidates_free`).
///
/// # Safety
/// `db` is NULL or a handle; `options` is NULL or follows the size rule; `candidates_out` and
/// `err_out` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn resonance_graph_link_candidates(
    db: *mut resonance_db,
    options: *const resonance_link_candidate_options,
    candidates_out: *mut *mut resonance_link_candidates,
    err_out: *mut *mut c_char,
) -> resonance_status {
    guard!(err_out, {
        let out = out_ptr(candidates_out, "candidates_out")?;
        *out = std::ptr::null_mut();
        // SAFETY: NULL or a struct of the size rule (documented).
        let o = unsafe { read_options(options) }?.to_core();
        let v = handle(db)?.link_candidates(&o)?;
        let (items, len) = crate::into_array(
            v.into_iter()
                .map(|c| resonance_link_candidate {
                    source: crate::c_string(&c.source),
                    target: crate::c_string(&c.target),
                    score: c.score,
                })
                .collect(),
        );
        *out = hand_to_caller(resonance_link_candidates { items, len }, "link_candidates");
        Ok(())
    })
}

/// Frees a link candidate list. NULL (or an already freed list) is a no-op.
#[no_mangle]
pub extern "C" fn resonance_link_candidates_free(candidates: *mut resonance_link_candidates) {
    let _ = std::panic::catch_unwind(|| drop(take_back_from_caller(candidates, "link_candidates")));
}

/// The `options->limit` top PageRank nodes with their degree (NULL `options`: the defaults) into
/// `*pillars_out` (free with `resonance_pillars_free`).
///
/// # Safety
/// `db` is NULL or a handle; `options` is NULL or follows the size rule; `pillars_out` and
/// `err_out` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn resonance_graph_pillars(
    db: *mut resonance_db,
    options: *const resonance_pillar_options,
    pillars_out: *mut *mut resonance_pillars,
    err_out: *mut *mut c_char,
) -> resonance_status {
    guard!(err_out, {
        let out = out_ptr(pillars_out, "pillars_out")?;
        *out = std::ptr::null_mut();
        // SAFETY: NULL or a struct of the size rule (documented).
        let o = unsafe { read_options(options) }?.to_core();
        let v = handle(db)?.pillars(&o)?;
        let (items, len) = crate::into_array(
            v.into_iter()
                .map(|p| resonance_pillar {
                    id: crate::c_string(&p.id),
                    pagerank: p.pagerank,
                    degree: p.degree,
                })
                .collect(),
        );
        *out = hand_to_caller(resonance_pillars { items, len }, "pillars");
        Ok(())
    })
}

/// Frees a pillar list. NULL (or an already freed list) is a no-op.
#[no_mangle]
pub extern "C" fn resonance_pillars_free(pillars: *mut resonance_pillars) {
    let _ = std::panic::catch_unwind(|| drop(take_back_from_caller(pillars, "pillars")));
}

/// Fills `*stats_out` with the graph's nodes, edges, density and skipped (dangling) edges.
///
/// # Safety
/// `db` is NULL or a handle; `stats_out` and `err_out` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn resonance_graph_stats_get(
    db: *mut resonance_db,
    stats_out: *mut resonance_graph_stats,
    err_out: *mut *mut c_char,
) -> resonance_status {
    guard!(err_out, {
        let out = out_ptr(stats_out, "stats_out")?;
        let s = handle(db)?.graph_stats()?;
        *out = resonance_graph_stats {
            nodes: s.nodes as u64,
            edges: s.edges as u64,
            density: s.density,
            skipped_edges: s.skipped_edges as u64,
        };
        Ok(())
    })
}
