/*
 * A tour of libresonance from C: open a database, write nodes with embeddings and edges, search by
 * vector, rank the graph with PageRank, and handle errors.
 *
 * Build (from the repository root):
 *   scripts/build-c.sh
 *   cc examples/c/example.c -o example \
 *      $(PKG_CONFIG_PATH=target/debug/pkgconfig pkg-config --cflags --libs resonance)
 *   ./example [path/to/db.sqlite]
 */
#include <stdio.h>
#include <stdlib.h>

#include "resonance.h"

/* Prints the error of a failed call and frees its message. Returns 1 when the call failed. */
static int failed(const char *what, resonance_status status, char *err) {
    if (status == RESONANCE_OK) return 0;
    fprintf(stderr, "%s failed: %s (%s)\n", what, resonance_status_name(status), err ? err : "");
    resonance_string_free(err);
    return 1;
}

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : "example.db";
    resonance_db *db = NULL;
    char *err = NULL;
    int rc = 1;

    /* 1. Open (creating the file if needed). A zero-initialised options struct means the defaults. */
    resonance_open_options options = {0};
    options.busy_timeout_ms = 2000;
    if (failed("open", resonance_db_open(path, &options, &db, &err), err)) return 1;
    printf("opened %s with libresonance %s\n", path, resonance_version());

    /* 2. Write three nodes with 3-dimensional embeddings in one transaction (all or nothing). */
    const float v_cat[] = {1.0f, 0.1f, 0.0f};
    const float v_dog[] = {0.9f, 0.2f, 0.1f};
    const float v_car[] = {0.0f, 0.1f, 1.0f};
    resonance_node_input nodes[3] = {
        {.id = "cat", .node_type = "animal", .title = "Cat", .meta = "{\"legs\": 4}",
         .embedding = v_cat, .embedding_len = 3},
        {.id = "dog", .node_type = "animal", .title = "Dog", .embedding = v_dog, .embedding_len = 3},
        {.id = "car", .node_type = "machine", .title = "Car", .embedding = v_car, .embedding_len = 3},
    };
    size_t written = 0;
    if (failed("upsert", resonance_node_upsert_many(db, nodes, 3, &written, &err), err)) goto out;
    printf("wrote %zu nodes\n", written);

    /* 3. Edges: type defaults to "related_to", confidence and veracity to 1. */
    resonance_edge_input edges[3] = {
        {.source = "cat", .target = "dog"},
        {.source = "dog", .target = "cat", .edge_type = "chases", .has_confidence = true, .confidence = 0.7},
        {.source = "car", .target = "dog"},
    };
    size_t added = 0;
    if (failed("add edges", resonance_edge_add_many(db, edges, 3, &added, &err), err)) goto out;
    printf("added %zu edges\n", added);

    /* 4. Search: the 2 nodes closest to a query vector (normalised for you). */
    const float query[] = {1.0f, 0.0f, 0.0f};
    resonance_hits *hits = NULL;
    if (failed("search", resonance_vector_search(db, query, 3, 2, NULL, &hits, &err), err)) goto out;
    for (size_t i = 0; i < hits->len; i++)
        printf("hit %zu: %s (score %.3f)\n", i + 1, hits->items[i].id, hits->items[i].score);
    resonance_hits_free(hits);

    /* 5. PageRank over the graph: the library's defaults with a damping factor of our own. Options
     * structs start from their _default() (which sets `size`); NULL means every default. */
    resonance_pagerank_options pr = resonance_pagerank_options_default();
    pr.alpha = 0.9;
    resonance_rankings *ranks = NULL;
    if (failed("pagerank", resonance_graph_pagerank(db, &pr, &ranks, &err), err)) goto out;
    for (size_t i = 0; i < ranks->len; i++)
        printf("pagerank %s = %.4f\n", ranks->items[i].id, ranks->items[i].score);
    resonance_rankings_free(ranks);

    /* 6. Reading a node: NULL (and RESONANCE_OK) when it does not exist. */
    resonance_node *node = NULL;
    if (failed("get", resonance_node_get(db, "cat", false, &node, &err), err)) goto out;
    if (node) printf("cat: title=%s type=%s meta=%s\n", node->title, node->node_type, node->meta);
    resonance_node_free(node);

    /* 7. Errors are statuses with a message: a vector of the wrong dimension... */
    const float wrong[] = {1.0f, 0.0f};
    resonance_status s = resonance_embedding_set(db, "cat", wrong, 2, &err);
    printf("set a 2-d vector: %s: %s\n", resonance_status_name(s), err);
    resonance_string_free(err);
    err = NULL;

    /* ...deleting a missing node... */
    s = resonance_node_delete(db, "unicorn", &err);
    printf("delete unicorn: %s: %s\n", resonance_status_name(s), err);
    resonance_string_free(err);
    err = NULL;

    /* ...and any call after close. */
    if (failed("close", resonance_db_close(db, &err), err)) goto out;
    resonance_stats stats;
    s = resonance_db_stats(db, &stats, NULL); /* err_out is optional */
    printf("stats after close: %s\n", resonance_status_name(s));
    rc = s == RESONANCE_CLOSED ? 0 : 1;

out:
    resonance_db_free(db); /* closes if still open; NULL-safe */
    return rc;
}
