//! Nodes, edges and the audit history (docs/schema.md).

use std::ffi::c_char;

use resonance::{EdgeInput, Error, NodeInput, NodeUpdate};

use crate::options::{read_options, resonance_list_options};
use crate::types::*;
use crate::{
    arg_floats, arg_slice, arg_str, guard, hand_to_caller, handle, opt_str, opt_string, out_ptr,
    resonance_status, take_back_from_caller, write_opt,
};

fn node_input(n: &resonance_node_input, what: &str) -> Result<NodeInput, Error> {
    let id = arg_str(n.id, &format!("{what}.id"))?.to_string();
    let f = |p, field: &str| opt_string(p, &format!("{what}.{field}"));
    let embedding = if n.embedding.is_null() {
        if n.embedding_len != 0 {
            return Err(Error::InvalidArgument(format!(
                "{what}.embedding is NULL with embedding_len {}",
                n.embedding_len
            )));
        }
        None
    } else {
        Some(arg_floats(n.embedding, n.embedding_len, "embedding")?.to_vec())
    };
    Ok(NodeInput {
        id,
        node_type: f(n.node_type, "node_type")?,
        title: f(n.title, "title")?,
        domain: f(n.domain, "domain")?,
        layer: f(n.layer, "layer")?,
        hash: f(n.hash, "hash")?,
        summary: f(n.summary, "summary")?,
        meta: f(n.meta, "meta")?,
        date: f(n.date, "date")?,
        embedding,
    })
}

fn node_update(u: &resonance_node_fields) -> Result<NodeUpdate, Error> {
    let f = |given: bool, p, field: &str| -> Result<Option<Option<String>>, Error> {
        given
            .then(|| opt_string(p, &format!("update.{field}")))
            .transpose()
    };
    let embedding = if !u.has_embedding {
        None
    } else if u.embedding.is_null() {
        if u.embedding_len != 0 {
            return Err(Error::InvalidArgument(format!(
                "update.embedding is NULL with embedding_len {}",
                u.embedding_len
            )));
        }
        Some(None)
    } else {
        Some(Some(
            arg_floats(u.embedding, u.embedding_len, "embedding")?.to_vec(),
        ))
    };
    Ok(NodeUpdate {
        node_type: f(u.has_node_type, u.node_type, "node_type")?,
        title: f(u.has_title, u.title, "title")?,
        domain: f(u.has_domain, u.domain, "domain")?,
        layer: f(u.has_layer, u.layer, "layer")?,
        hash: f(u.has_hash, u.hash, "hash")?,
        summary: f(u.has_summary, u.summary, "summary")?,
        meta: f(u.has_meta, u.meta, "meta")?,
        date: f(u.has_date, u.date, "date")?,
        embedding,
    })
}

fn edge_input(e: &resonance_edge_input, what: &str) -> Result<EdgeInput, Error> {
    Ok(EdgeInput {
        source: arg_str(e.source, &format!("{what}.source"))?.to_string(),
        target: arg_str(e.target, &format!("{what}.target"))?.to_string(),
        edge_type: opt_string(e.edge_type, &format!("{what}.edge_type"))?,
        confidence: e.has_confidence.then_some(e.confidence),
        veracity: e.has_veracity.then_some(e.veracity),
        context_source: opt_string(e.context_source, &format!("{what}.context_source"))?,
    })
}

/// Writes one node: the whole row (fields left NULL become NULL; domain and layer default), keeping
/// its rowid; validates `meta` (JSON) and the embedding (FAFCAS, the database's dimension); records
/// the history row in the same transaction. The input is only read during the call.
///
/// # Safety
/// `db` is NULL or a handle; `node` is NULL or points to a valid `resonance_node_input` whose
/// strings are NUL-terminated and whose `embedding` holds `embedding_len` floats; `err_out` is NULL
/// or writable.
#[no_mangle]
pub unsafe extern "C" fn resonance_node_upsert(
    db: *mut resonance_db,
    node: *const resonance_node_input,
    err_out: *mut *mut c_char,
) -> resonance_status {
    guard!(err_out, {
        // SAFETY: NULL or valid (documented).
        let n = unsafe { node.as_ref() }
            .ok_or_else(|| Error::InvalidArgument("node is NULL".into()))?;
        let input = node_input(n, "node")?;
        handle(db)?.upsert_node(&input)
    })
}

/// Writes `len` nodes in one transaction (all or nothing; the message names the failing index).
/// `written_out` (may be NULL) receives how many were written.
///
/// # Safety
/// `db` is NULL or a handle; `nodes` points to `len` valid inputs (NULL only when `len` is 0);
/// `written_out` and `err_out` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn resonance_node_upsert_many(
    db: *mut resonance_db,
    nodes: *const resonance_node_input,
    len: usize,
    written_out: *mut usize,
    err_out: *mut *mut c_char,
) -> resonance_status {
    guard!(err_out, {
        write_opt(written_out, 0);
        let inputs = arg_slice(nodes, len, "nodes")?
            .iter()
            .enumerate()
            .map(|(i, n)| node_input(n, &format!("nodes[{i}]")))
            .collect::<Result<Vec<_>, _>>()?;
        let n = handle(db)?.upsert_nodes(&inputs)?;
        write_opt(written_out, n);
        Ok(())
    })
}

/// Reads a node into `*node_out` (free it with `resonance_node_free`); `*node_out` is NULL (and the
/// status `RESONANCE_OK`) when there is no such node. With `with_embedding`, a well-formed stored
/// embedding is included.
///
/// # Safety
/// `db` is NULL or a handle; `id` is a NUL-terminated string; `node_out` and `err_out` are NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn resonance_node_get(
    db: *mut resonance_db,
    id: *const c_char,
    with_embedding: bool,
    node_out: *mut *mut resonance_node,
    err_out: *mut *mut c_char,
) -> resonance_status {
    guard!(err_out, {
        let out = out_ptr(node_out, "node_out")?;
        *out = std::ptr::null_mut();
        let id = arg_str(id, "id")?;
        if let Some(n) = handle(db)?.get_node_with(id, with_embedding)? {
            *out = hand_to_caller(resonance_node::from_core(n), "node");
        }
        Ok(())
    })
}

/// Frees a node from `resonance_node_get`. NULL (or an already freed node) is a no-op. Never pass an
/// element of a `resonance_nodes` list: free the list.
#[no_mangle]
pub extern "C" fn resonance_node_free(node: *mut resonance_node) {
    let _ = std::panic::catch_unwind(|| drop(take_back_from_caller(node, "node")));
}

/// Lists nodes in id order, filtered and paged by `options` (NULL: every node), into `*nodes_out`
/// (free it with `resonance_nodes_free`).
///
/// # Safety
/// `db` is NULL or a handle; `options` is NULL or valid; `nodes_out` and `err_out` are NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn resonance_node_list(
    db: *mut resonance_db,
    options: *const resonance_list_options,
    nodes_out: *mut *mut resonance_nodes,
    err_out: *mut *mut c_char,
) -> resonance_status {
    guard!(err_out, {
        let out = out_ptr(nodes_out, "nodes_out")?;
        *out = std::ptr::null_mut();
        // SAFETY: NULL or a valid struct of at least `size` bytes (documented).
        let opts = unsafe { read_options(options) }?.to_core()?;
        let nodes = handle(db)?.list_nodes(&opts)?;
        let (items, len) =
            crate::into_array(nodes.into_iter().map(resonance_node::from_core).collect());
        *out = hand_to_caller(resonance_nodes { items, len }, "nodes");
        Ok(())
    })
}

/// Frees a node list. NULL (or an already freed list) is a no-op.
#[no_mangle]
pub extern "C" fn resonance_nodes_free(nodes: *mut resonance_nodes) {
    let _ = std::panic::catch_unwind(|| drop(take_back_from_caller(nodes, "nodes")));
}

/// Deletes a node with its edges and its vector, in one transaction (`RESONANCE_NOT_FOUND` when
/// missing).
///
/// # Safety
/// `db` is NULL or a handle; `id` is a NUL-terminated string; `err_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn resonance_node_delete(
    db: *mut resonance_db,
    id: *const c_char,
    err_out: *mut *mut c_char,
) -> resonance_status {
    guard!(err_out, {
        let id = arg_str(id, "id")?;
        handle(db)?.delete_node(id)
    })
}

/// Replaces a node's `meta` with `meta` (JSON text, or NULL to clear it); `RESONANCE_NOT_FOUND` when
/// the node is missing, `RESONANCE_INVALID_ARGUMENT` when `meta` is not JSON.
///
/// # Safety
/// `db` is NULL or a handle; `id` is a NUL-terminated string; `meta` is NULL or one; `err_out` is
/// NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn resonance_node_update_meta(
    db: *mut resonance_db,
    id: *const c_char,
    meta: *const c_char,
    err_out: *mut *mut c_char,
) -> resonance_status {
    guard!(err_out, {
        let id = arg_str(id, "id")?;
        let meta = opt_str(meta, "meta")?;
        handle(db)?.update_meta(id, meta)
    })
}

/// Updates only the fields of node `id` whose `has_` flag is set in `update` (see
/// `resonance_node_fields`), keeping the others and the embedding; `RESONANCE_NOT_FOUND` when the
/// node is missing, `RESONANCE_INVALID_ARGUMENT` for bad `meta`. The history row holds the whole row
/// before and after.
///
/// # Safety
/// `db` is NULL or a handle; `id` is a NUL-terminated string; `update` is NULL or points to a valid
/// `resonance_node_fields` whose given strings are NULL or NUL-terminated and whose `embedding` holds
/// `embedding_len` floats; `err_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn resonance_node_update(
    db: *mut resonance_db,
    id: *const c_char,
    update: *const resonance_node_fields,
    err_out: *mut *mut c_char,
) -> resonance_status {
    guard!(err_out, {
        let id = arg_str(id, "id")?;
        // SAFETY: NULL or valid (documented).
        let u = unsafe { update.as_ref() }
            .ok_or_else(|| Error::InvalidArgument("update is NULL".into()))?;
        let update = node_update(u)?;
        handle(db)?.update_node(id, &update)
    })
}

/// Merges `patch`, a JSON merge patch (RFC 7386, JSON text), into node `id`'s `meta`: an object's
/// keys are set (a `null` value removes its key, nested objects merge); any other value replaces the
/// meta, `null` clears it. `RESONANCE_NOT_FOUND` when the node is missing,
/// `RESONANCE_INVALID_ARGUMENT` when `patch` is not JSON. The history row (`update_meta`) holds the
/// meta before and after.
///
/// # Safety
/// `db` is NULL or a handle; `id` and `patch` are NUL-terminated strings; `err_out` is NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn resonance_node_merge_meta(
    db: *mut resonance_db,
    id: *const c_char,
    patch: *const c_char,
    err_out: *mut *mut c_char,
) -> resonance_status {
    guard!(err_out, {
        let id = arg_str(id, "id")?;
        let patch = arg_str(patch, "patch")?;
        handle(db)?.merge_meta(id, patch)
    })
}

/// Adds an edge, or ignores it when `(source, target, type)` exists. `added_out` (may be NULL)
/// receives whether it was added.
///
/// # Safety
/// `db` is NULL or a handle; `edge` is NULL or valid; `added_out` and `err_out` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn resonance_edge_add(
    db: *mut resonance_db,
    edge: *const resonance_edge_input,
    added_out: *mut bool,
    err_out: *mut *mut c_char,
) -> resonance_status {
    guard!(err_out, {
        write_opt(added_out, false);
        // SAFETY: NULL or valid (documented).
        let e = unsafe { edge.as_ref() }
            .ok_or_else(|| Error::InvalidArgument("edge is NULL".into()))?;
        let added = handle(db)?.add_edge(&edge_input(e, "edge")?)?;
        write_opt(added_out, added);
        Ok(())
    })
}

/// Adds `len` edges in one transaction (existing ones are ignored); `added_out` (may be NULL)
/// receives how many were new.
///
/// # Safety
/// `db` is NULL or a handle; `edges` points to `len` valid inputs (NULL only when `len` is 0);
/// `added_out` and `err_out` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn resonance_edge_add_many(
    db: *mut resonance_db,
    edges: *const resonance_edge_input,
    len: usize,
    added_out: *mut usize,
    err_out: *mut *mut c_char,
) -> resonance_status {
    guard!(err_out, {
        write_opt(added_out, 0);
        let inputs = arg_slice(edges, len, "edges")?
            .iter()
            .enumerate()
            .map(|(i, e)| edge_input(e, &format!("edges[{i}]")))
            .collect::<Result<Vec<_>, _>>()?;
        let n = handle(db)?.add_edges(&inputs)?;
        write_opt(added_out, n);
        Ok(())
    })
}

/// Adds an edge or, when it exists, sets its confidence, veracity and context source.
///
/// # Safety
/// `db` is NULL or a handle; `edge` is NULL or valid; `err_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn resonance_edge_upsert(
    db: *mut resonance_db,
    edge: *const resonance_edge_input,
    err_out: *mut *mut c_char,
) -> resonance_status {
    guard!(err_out, {
        // SAFETY: NULL or valid (documented).
        let e = unsafe { edge.as_ref() }
            .ok_or_else(|| Error::InvalidArgument("edge is NULL".into()))?;
        handle(db)?.upsert_edge(&edge_input(e, "edge")?)
    })
}

/// Deletes the edge `(source, target, edge_type)`; `edge_type` NULL means `"related_to"`.
/// `RESONANCE_NOT_FOUND` when missing.
///
/// # Safety
/// `db` is NULL or a handle; `source` and `target` are NUL-terminated strings; `edge_type` is NULL
/// or one; `err_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn resonance_edge_delete(
    db: *mut resonance_db,
    source: *const c_char,
    target: *const c_char,
    edge_type: *const c_char,
    err_out: *mut *mut c_char,
) -> resonance_status {
    guard!(err_out, {
        let s = arg_str(source, "source")?;
        let t = arg_str(target, "target")?;
        let ty = opt_str(edge_type, "edge_type")?;
        handle(db)?.delete_edge(s, t, ty)
    })
}

fn edges_out(edges: Vec<resonance::Edge>) -> *mut resonance_edges {
    let (items, len) =
        crate::into_array(edges.into_iter().map(resonance_edge::from_core).collect());
    hand_to_caller(resonance_edges { items, len }, "edges")
}

/// The edges out of `id` (ordered by target, then type) into `*edges_out` (free with
/// `resonance_edges_free`); an empty list for an unknown id.
///
/// # Safety
/// `db` is NULL or a handle; `id` is a NUL-terminated string; `edges_out` and `err_out` are NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn resonance_edge_list_from(
    db: *mut resonance_db,
    id: *const c_char,
    edges_out: *mut *mut resonance_edges,
    err_out: *mut *mut c_char,
) -> resonance_status {
    guard!(err_out, {
        let out = out_ptr(edges_out, "edges_out")?;
        *out = std::ptr::null_mut();
        let id = arg_str(id, "id")?;
        *out = self::edges_out(handle(db)?.edges_from(id)?);
        Ok(())
    })
}

/// The edges into `id` (ordered by source, then type) into `*edges_out` (free with
/// `resonance_edges_free`).
///
/// # Safety
/// As `resonance_edge_list_from`.
#[no_mangle]
pub unsafe extern "C" fn resonance_edge_list_to(
    db: *mut resonance_db,
    id: *const c_char,
    edges_out: *mut *mut resonance_edges,
    err_out: *mut *mut c_char,
) -> resonance_status {
    guard!(err_out, {
        let out = out_ptr(edges_out, "edges_out")?;
        *out = std::ptr::null_mut();
        let id = arg_str(id, "id")?;
        *out = self::edges_out(handle(db)?.edges_to(id)?);
        Ok(())
    })
}

/// Frees an edge list. NULL (or an already freed list) is a no-op.
#[no_mangle]
pub extern "C" fn resonance_edges_free(edges: *mut resonance_edges) {
    let _ = std::panic::catch_unwind(|| drop(take_back_from_caller(edges, "edges")));
}

/// The history of an entity (a node id, or `"source|type|target"` for an edge), oldest first, into
/// `*history_out` (free with `resonance_history_free`).
///
/// # Safety
/// `db` is NULL or a handle; `entity_id` is a NUL-terminated string; `history_out` and `err_out`
/// are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn resonance_history_get(
    db: *mut resonance_db,
    entity_id: *const c_char,
    history_out: *mut *mut resonance_history,
    err_out: *mut *mut c_char,
) -> resonance_status {
    guard!(err_out, {
        let out = out_ptr(history_out, "history_out")?;
        *out = std::ptr::null_mut();
        let id = arg_str(entity_id, "entity_id")?;
        let rows = handle(db)?.history(id)?;
        let (items, len) = crate::into_array(
            rows.into_iter()
                .map(|h| resonance_history_entry {
                    id: h.id,
                    entity_type: crate::c_string(&h.entity_type),
                    entity_id: crate::c_string(&h.entity_id),
                    action: crate::c_string(&h.action),
                    old_value: crate::c_opt_string(h.old_value.as_deref()),
                    new_value: crate::c_opt_string(h.new_value.as_deref()),
                    timestamp: crate::c_opt_string(h.timestamp.as_deref()),
                })
                .collect(),
        );
        *out = hand_to_caller(resonance_history { items, len }, "history");
        Ok(())
    })
}

/// Frees a history list. NULL (or an already freed list) is a no-op.
#[no_mangle]
pub extern "C" fn resonance_history_free(history: *mut resonance_history) {
    let _ = std::panic::catch_unwind(|| drop(take_back_from_caller(history, "history")));
}

/// History retention: deletes rows older than `older_than_days` days (when `has_older_than`) and
/// rows beyond the newest `keep_last` (when `has_keep_last`). `deleted_out` (may be NULL) receives
/// how many rows were deleted.
///
/// # Safety
/// `db` is NULL or a handle; `deleted_out` and `err_out` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn resonance_history_prune(
    db: *mut resonance_db,
    has_older_than: bool,
    older_than_days: u32,
    has_keep_last: bool,
    keep_last: u64,
    deleted_out: *mut usize,
    err_out: *mut *mut c_char,
) -> resonance_status {
    guard!(err_out, {
        write_opt(deleted_out, 0);
        let n = handle(db)?.prune_history(
            has_older_than.then_some(older_than_days),
            has_keep_last.then_some(keep_last),
        )?;
        write_opt(deleted_out, n);
        Ok(())
    })
}
