/*
 * The misuse suite: what a careless C program does must give a status, never a crash or a leak —
 * NULL everywhere, invalid UTF-8 in every `const char*`, double frees through the documented free
 * functions, the wrong free function, use after close (RESONANCE_CLOSED) and after free
 * (RESONANCE_INVALID_ARGUMENT). Run under valgrind by scripts/test-c.sh. Prints "N passed, M failed".
 */
#include "check.h" /* first: it sets the feature-test macros */

#include <math.h>
#include <stdint.h>

#define BAD "\xff\xfe not utf-8"
#define EI RESONANCE_INVALID_ARGUMENT

static const float V3[] = {1, 0, 0};

/* Every function that takes a handle, with otherwise valid arguments, must return `want`. */
static void every_handle_call(resonance_db *db, resonance_status want) {
    resonance_node_input n = {.id = "a", .embedding = V3, .embedding_len = 3};
    resonance_edge_input e = {.source = "a", .target = "b"};
    resonance_health *h = NULL;
    resonance_strings *s = NULL;
    resonance_nodes *ns = NULL;
    resonance_node *node = NULL;
    resonance_edges *es = NULL;
    resonance_history *hist = NULL;
    resonance_vector *vec = NULL;
    resonance_hits *hits = NULL;
    resonance_hits_batch *batch = NULL;
    resonance_rankings *rk = NULL;
    resonance_communities *cm = NULL;
    resonance_components *cc = NULL;
    resonance_link_candidates *lc = NULL;
    resonance_pillars *pl = NULL;
    resonance_stats st;
    resonance_graph_stats gs;
    resonance_checkpoint cp;
    char *path = NULL;
    size_t count = 0;
    bool added = false;
    double x = 0;

    EXPECT_STATUS(resonance_db_health(db, &h, &t_err), want);
    EXPECT_STATUS(resonance_db_migrate(db, NULL, &s, &t_err), want);
    EXPECT_STATUS(resonance_db_backup(db, NULL, &path, &t_err), want);
    EXPECT_STATUS(resonance_db_stats(db, &st, &t_err), want);
    EXPECT_STATUS(resonance_db_checkpoint(db, "passive", &cp, &t_err), want);
    EXPECT_STATUS(resonance_db_warnings(db, &s, &t_err), want);
    EXPECT_STATUS(resonance_db_optimize(db, &t_err), want);
    EXPECT_STATUS(resonance_db_vacuum(db, &t_err), want);
    EXPECT_STATUS(resonance_tx_begin(db, &t_err), want);
    EXPECT_STATUS(resonance_tx_commit(db, &t_err), want);
    EXPECT_STATUS(resonance_tx_rollback(db, &t_err), want);
    EXPECT_STATUS(resonance_node_upsert(db, &n, &t_err), want);
    EXPECT_STATUS(resonance_node_upsert_many(db, &n, 1, &count, &t_err), want);
    EXPECT_STATUS(resonance_node_get(db, "a", true, &node, &t_err), want);
    EXPECT_STATUS(resonance_node_list(db, NULL, &ns, &t_err), want);
    EXPECT_STATUS(resonance_node_delete(db, "a", &t_err), want);
    EXPECT_STATUS(resonance_node_update_meta(db, "a", "{}", &t_err), want);
    EXPECT_STATUS(resonance_node_merge_meta(db, "a", "{}", &t_err), want);
    EXPECT_STATUS(resonance_node_update(db, "a", &(resonance_node_fields){.has_title = true}, &t_err), want);
    EXPECT_STATUS(resonance_edge_add(db, &e, &added, &t_err), want);
    EXPECT_STATUS(resonance_edge_add_many(db, &e, 1, &count, &t_err), want);
    EXPECT_STATUS(resonance_edge_upsert(db, &e, &t_err), want);
    EXPECT_STATUS(resonance_edge_delete(db, "a", "b", NULL, &t_err), want);
    EXPECT_STATUS(resonance_edge_list_from(db, "a", &es, &t_err), want);
    EXPECT_STATUS(resonance_edge_list_to(db, "a", &es, &t_err), want);
    EXPECT_STATUS(resonance_history_get(db, "a", &hist, &t_err), want);
    EXPECT_STATUS(resonance_history_prune(db, true, 1, false, 0, &count, &t_err), want);
    EXPECT_STATUS(resonance_embedding_set(db, "a", V3, 3, &t_err), want);
    EXPECT_STATUS(resonance_embedding_get(db, "a", &vec, &t_err), want);
    EXPECT_STATUS(resonance_vector_search(db, V3, 3, 5, NULL, &hits, &t_err), want);
    EXPECT_STATUS(resonance_vector_search_like(db, "a", 5, NULL, &hits, &t_err), want);
    EXPECT_STATUS(resonance_vector_search_batch(db, V3, 1, 3, 5, NULL, &batch, &t_err), want);
    EXPECT_STATUS(resonance_graph_neighbors(db, "a", &s, &t_err), want);
    EXPECT_STATUS(resonance_graph_successors(db, "a", &s, &t_err), want);
    EXPECT_STATUS(resonance_graph_predecessors(db, "a", &s, &t_err), want);
    EXPECT_STATUS(resonance_graph_degree(db, "a", &count, &t_err), want);
    EXPECT_STATUS(resonance_graph_traverse(db, "a", TRAVERSE(2), &s, &t_err), want);
    EXPECT_STATUS(resonance_graph_shortest_path(db, "a", "b", NULL, &s, &t_err), want);
    EXPECT_STATUS(resonance_graph_pagerank(db, PAGERANK(0.85, 1e-6, 100), &rk, &t_err), want);
    EXPECT_STATUS(resonance_graph_betweenness(db, BETWEENNESS(true, 0, 0), &rk, &t_err), want);
    EXPECT_STATUS(resonance_graph_communities(db, COMMUNITIES(1.0, 0), &cm, &t_err), want);
    EXPECT_STATUS(resonance_graph_components(db, &cc, &t_err), want);
    EXPECT_STATUS(resonance_graph_adamic_adar(db, "a", "b", &x, &t_err), want);
    EXPECT_STATUS(resonance_graph_link_candidates(db, LINKS(5), &lc, &t_err), want);
    EXPECT_STATUS(resonance_graph_pillars(db, PILLARS(5), &pl, &t_err), want);
    EXPECT_STATUS(resonance_graph_stats_get(db, &gs, &t_err), want);
    /* failed calls leave their outputs NULL */
    CHECK(!h && !s && !ns && !node && !es && !hist && !vec && !hits && !batch && !rk && !cm && !cc && !lc &&
          !pl && !path);
}

TEST(null_handle_everywhere) {
    every_handle_call(NULL, EI);
    EXPECT_STATUS(resonance_db_close(NULL, &t_err), EI);
    /* err_out is optional on failures too */
    CHECK(resonance_db_close(NULL, NULL) == EI);
    CHECK(resonance_node_delete(NULL, "a", NULL) == EI);
}

TEST(use_after_close_is_closed) {
    resonance_db *db = NULL;
    OK(resonance_db_open(tpath("closed.db"), NULL, &db, &t_err));
    OK(resonance_db_close(db, &t_err));
    every_handle_call(db, RESONANCE_CLOSED);
    OK(resonance_db_close(db, &t_err)); /* close is idempotent */
    resonance_db_free(db);
}

TEST(use_after_free_is_invalid_argument) {
    resonance_db *db = NULL;
    OK(resonance_db_open(tpath("freed.db"), NULL, &db, &t_err));
    resonance_db_free(db);
    /* the handle is a token looked up in a registry: a freed one is refused, never dereferenced */
    resonance_stats st;
    EXPECT_STATUS(resonance_db_stats(db, &st, &t_err), EI);
    EXPECT_STATUS(resonance_db_close(db, &t_err), EI);
    resonance_db_free(db); /* double free of the handle: a no-op */
    resonance_db_free(NULL);
}

TEST(null_required_pointers) {
    resonance_db *db = NULL;
    OK(resonance_db_open(tpath("nulls.db"), NULL, &db, &t_err));
    resonance_db *other = NULL;
    EXPECT_STATUS(resonance_db_open(NULL, NULL, &other, &t_err), EI);
    CHECK(other == NULL);
    EXPECT_STATUS(resonance_db_open(tpath("x.db"), NULL, NULL, &t_err), EI);
    EXPECT_STATUS(resonance_db_open("", NULL, &other, &t_err), EI);
    EXPECT_STATUS(resonance_id_generate(NULL, &(char *){NULL}, &t_err), EI);
    EXPECT_STATUS(resonance_id_generate("a", NULL, &t_err), EI);
    EXPECT_STATUS(resonance_db_health(db, NULL, &t_err), EI);
    EXPECT_STATUS(resonance_db_stats(db, NULL, &t_err), EI);
    EXPECT_STATUS(resonance_db_warnings(db, NULL, &t_err), EI);
    EXPECT_STATUS(resonance_node_upsert(db, NULL, &t_err), EI);
    resonance_node_input no_id = {.title = "t"};
    EXPECT_STATUS(resonance_node_upsert(db, &no_id, &t_err), EI);
    resonance_node_input null_vec = {.id = "a", .embedding = NULL, .embedding_len = 3};
    EXPECT_STATUS(resonance_node_upsert(db, &null_vec, &t_err), EI);
    EXPECT_STATUS(resonance_node_upsert_many(db, NULL, 2, NULL, &t_err), EI);
    size_t n = 99;
    OK(resonance_node_upsert_many(db, NULL, 0, &n, &t_err));
    CHECK(n == 0);
    EXPECT_STATUS(resonance_node_get(db, NULL, false, &(resonance_node *){NULL}, &t_err), EI);
    EXPECT_STATUS(resonance_node_get(db, "a", false, NULL, &t_err), EI);
    EXPECT_STATUS(resonance_node_list(db, NULL, NULL, &t_err), EI);
    EXPECT_STATUS(resonance_node_delete(db, NULL, &t_err), EI);
    EXPECT_STATUS(resonance_node_update_meta(db, NULL, "{}", &t_err), EI);
    EXPECT_STATUS(resonance_node_merge_meta(db, NULL, "{}", &t_err), EI);
    EXPECT_STATUS(resonance_node_merge_meta(db, "a", NULL, &t_err), EI);
    EXPECT_STATUS(resonance_node_update(db, NULL, &(resonance_node_fields){0}, &t_err), EI);
    EXPECT_STATUS(resonance_node_update(db, "a", NULL, &t_err), EI);
    EXPECT_STATUS(resonance_edge_add(db, NULL, NULL, &t_err), EI);
    resonance_edge_input no_target = {.source = "a"};
    EXPECT_STATUS(resonance_edge_add(db, &no_target, NULL, &t_err), EI);
    EXPECT_STATUS(resonance_edge_add_many(db, NULL, 1, NULL, &t_err), EI);
    EXPECT_STATUS(resonance_edge_upsert(db, NULL, &t_err), EI);
    EXPECT_STATUS(resonance_edge_delete(db, NULL, "b", NULL, &t_err), EI);
    EXPECT_STATUS(resonance_edge_delete(db, "a", NULL, NULL, &t_err), EI);
    EXPECT_STATUS(resonance_edge_list_from(db, NULL, &(resonance_edges *){NULL}, &t_err), EI);
    EXPECT_STATUS(resonance_edge_list_to(db, "a", NULL, &t_err), EI);
    EXPECT_STATUS(resonance_history_get(db, NULL, &(resonance_history *){NULL}, &t_err), EI);
    EXPECT_STATUS(resonance_history_get(db, "a", NULL, &t_err), EI);
    EXPECT_STATUS(resonance_embedding_set(db, NULL, V3, 3, &t_err), EI);
    EXPECT_STATUS(resonance_embedding_set(db, "a", NULL, 3, &t_err), EI);
    EXPECT_STATUS(resonance_embedding_get(db, "a", NULL, &t_err), EI);
    EXPECT_STATUS(resonance_vector_search(db, NULL, 3, 5, NULL, &(resonance_hits *){NULL}, &t_err), EI);
    EXPECT_STATUS(resonance_vector_search(db, V3, 3, 5, NULL, NULL, &t_err), EI);
    EXPECT_STATUS(resonance_vector_search_like(db, NULL, 5, NULL, &(resonance_hits *){NULL}, &t_err), EI);
    EXPECT_STATUS(resonance_vector_search_batch(db, NULL, 2, 3, 5, NULL, &(resonance_hits_batch *){NULL}, &t_err),
                  EI);
    EXPECT_STATUS(resonance_vector_search_batch(db, V3, 1, 3, 5, NULL, NULL, &t_err), EI);
    EXPECT_STATUS(resonance_vector_search_batch(db, V3, SIZE_MAX, UINT32_MAX, 5, NULL,
                                                &(resonance_hits_batch *){NULL}, &t_err),
                  EI); /* n * dim overflows */
    EXPECT_STATUS(resonance_graph_neighbors(db, NULL, &(resonance_strings *){NULL}, &t_err), EI);
    EXPECT_STATUS(resonance_graph_successors(db, "a", NULL, &t_err), EI);
    EXPECT_STATUS(resonance_graph_predecessors(db, NULL, NULL, &t_err), EI);
    EXPECT_STATUS(resonance_graph_degree(db, "a", NULL, &t_err), EI);
    EXPECT_STATUS(resonance_graph_traverse(db, NULL, TRAVERSE(1), &(resonance_strings *){NULL}, &t_err), EI);
    EXPECT_STATUS(resonance_graph_shortest_path(db, "a", NULL, NULL, &(resonance_strings *){NULL}, &t_err), EI);
    EXPECT_STATUS(resonance_graph_shortest_path(db, "a", "b", NULL, NULL, &t_err), EI);
    EXPECT_STATUS(resonance_graph_pagerank(db, PAGERANK(0.85, 1e-6, 100), NULL, &t_err), EI);
    EXPECT_STATUS(resonance_graph_pagerank(db, PAGERANK(NAN, 1e-6, 100), &(resonance_rankings *){NULL}, &t_err), EI);
    EXPECT_STATUS(resonance_graph_pagerank(db, PAGERANK(0.85, 1e-6, 0), &(resonance_rankings *){NULL}, &t_err), EI);
    EXPECT_STATUS(resonance_graph_betweenness(db, BETWEENNESS(true, 0, 0), NULL, &t_err), EI);
    EXPECT_STATUS(resonance_graph_communities(db, COMMUNITIES(1.0, 0), NULL, &t_err), EI);
    EXPECT_STATUS(resonance_graph_components(db, NULL, &t_err), EI);
    EXPECT_STATUS(resonance_graph_adamic_adar(db, "a", NULL, &(double){0}, &t_err), EI);
    EXPECT_STATUS(resonance_graph_adamic_adar(db, "a", "b", NULL, &t_err), EI);
    EXPECT_STATUS(resonance_graph_link_candidates(db, LINKS(5), NULL, &t_err), EI);
    EXPECT_STATUS(resonance_graph_pillars(db, PILLARS(5), NULL, &t_err), EI);
    EXPECT_STATUS(resonance_graph_stats_get(db, NULL, &t_err), EI);
    resonance_db_free(db);
}

TEST(invalid_utf8_everywhere) {
    resonance_db *db = NULL;
    EXPECT_STATUS(resonance_db_open(BAD, NULL, &db, &t_err), EI);
    OK(resonance_db_open(tpath("utf8.db"), NULL, &db, &t_err));
    EXPECT_STATUS(resonance_id_generate(BAD, &(char *){NULL}, &t_err), EI);
    const char *ok = "fine";
    for (int field = 0; field < 9; field++) {
        resonance_node_input n = {.id = ok};
        const char **f[] = {&n.id, &n.node_type, &n.title, &n.domain, &n.layer, &n.hash, &n.summary, &n.meta, &n.date};
        *f[field] = BAD;
        EXPECT_STATUS(resonance_node_upsert(db, &n, &t_err), EI);
        EXPECT_STATUS(resonance_node_upsert_many(db, &n, 1, NULL, &t_err), EI);
    }
    for (int field = 0; field < 4; field++) {
        resonance_edge_input e = {.source = ok, .target = ok};
        const char **f[] = {&e.source, &e.target, &e.edge_type, &e.context_source};
        *f[field] = BAD;
        EXPECT_STATUS(resonance_edge_add(db, &e, NULL, &t_err), EI);
        EXPECT_STATUS(resonance_edge_add_many(db, &e, 1, NULL, &t_err), EI);
        EXPECT_STATUS(resonance_edge_upsert(db, &e, &t_err), EI);
    }
    EXPECT_STATUS(resonance_node_get(db, BAD, false, &(resonance_node *){NULL}, &t_err), EI);
    EXPECT_STATUS(resonance_node_delete(db, BAD, &t_err), EI);
    EXPECT_STATUS(resonance_node_update_meta(db, BAD, "{}", &t_err), EI);
    EXPECT_STATUS(resonance_node_update_meta(db, ok, BAD, &t_err), EI);
    EXPECT_STATUS(resonance_node_merge_meta(db, BAD, "{}", &t_err), EI);
    EXPECT_STATUS(resonance_node_merge_meta(db, ok, BAD, &t_err), EI);
    EXPECT_STATUS(resonance_node_update(db, ok, &(resonance_node_fields){.has_title = true, .title = BAD}, &t_err), EI);
    EXPECT_STATUS(resonance_node_update(db, BAD, &(resonance_node_fields){0}, &t_err), EI);
    resonance_list_options lo = {.domain = BAD};
    EXPECT_STATUS(resonance_node_list(db, &lo, &(resonance_nodes *){NULL}, &t_err), EI);
    resonance_list_options lt = {.node_type = BAD};
    EXPECT_STATUS(resonance_node_list(db, &lt, &(resonance_nodes *){NULL}, &t_err), EI);
    EXPECT_STATUS(resonance_edge_delete(db, ok, ok, BAD, &t_err), EI);
    EXPECT_STATUS(resonance_edge_list_from(db, BAD, &(resonance_edges *){NULL}, &t_err), EI);
    EXPECT_STATUS(resonance_edge_list_to(db, BAD, &(resonance_edges *){NULL}, &t_err), EI);
    EXPECT_STATUS(resonance_history_get(db, BAD, &(resonance_history *){NULL}, &t_err), EI);
    EXPECT_STATUS(resonance_embedding_set(db, BAD, V3, 3, &t_err), EI);
    EXPECT_STATUS(resonance_embedding_get(db, BAD, &(resonance_vector *){NULL}, &t_err), EI);
    resonance_search_filter fd = {.domain = BAD}, ft = {.node_type = BAD};
    EXPECT_STATUS(resonance_vector_search(db, V3, 3, 5, &fd, &(resonance_hits *){NULL}, &t_err), EI);
    EXPECT_STATUS(resonance_vector_search(db, V3, 3, 5, &ft, &(resonance_hits *){NULL}, &t_err), EI);
    EXPECT_STATUS(resonance_vector_search_like(db, BAD, 5, NULL, &(resonance_hits *){NULL}, &t_err), EI);
    EXPECT_STATUS(resonance_vector_search_batch(db, V3, 1, 3, 5, &fd, &(resonance_hits_batch *){NULL}, &t_err), EI);
    EXPECT_STATUS(resonance_db_backup(db, BAD, NULL, &t_err), EI);
    EXPECT_STATUS(resonance_db_checkpoint(db, BAD, NULL, &t_err), EI);
    EXPECT_STATUS(resonance_graph_neighbors(db, BAD, &(resonance_strings *){NULL}, &t_err), EI);
    EXPECT_STATUS(resonance_graph_successors(db, BAD, &(resonance_strings *){NULL}, &t_err), EI);
    EXPECT_STATUS(resonance_graph_predecessors(db, BAD, &(resonance_strings *){NULL}, &t_err), EI);
    EXPECT_STATUS(resonance_graph_degree(db, BAD, &(size_t){0}, &t_err), EI);
    EXPECT_STATUS(resonance_graph_traverse(db, BAD, TRAVERSE(1), &(resonance_strings *){NULL}, &t_err), EI);
    EXPECT_STATUS(resonance_graph_shortest_path(db, BAD, ok, NULL, &(resonance_strings *){NULL}, &t_err), EI);
    EXPECT_STATUS(resonance_graph_adamic_adar(db, BAD, ok, &(double){0}, &t_err), EI);
    /* nothing was written */
    resonance_stats st;
    OK(resonance_db_stats(db, &st, &t_err));
    CHECK(st.nodes == 0 && st.edges == 0 && st.history == 0);
    resonance_db_free(db);
}

TEST(double_free_and_wrong_free_are_no_ops) {
    resonance_db *db = NULL;
    OK(resonance_db_open(tpath("frees.db"), NULL, &db, &t_err));
    resonance_node_input ns[2] = {{.id = "a", .embedding = V3, .embedding_len = 3}, {.id = "b", .embedding = V3,
                                                                                     .embedding_len = 3}};
    OK(resonance_node_upsert_many(db, ns, 2, NULL, &t_err));
    resonance_edge_input e = {.source = "a", .target = "b"};
    OK(resonance_edge_add(db, &e, NULL, &t_err));

    /* every free function accepts NULL */
    resonance_string_free(NULL);
    resonance_health_free(NULL);
    resonance_strings_free(NULL);
    resonance_node_free(NULL);
    resonance_nodes_free(NULL);
    resonance_edges_free(NULL);
    resonance_history_free(NULL);
    resonance_vector_free(NULL);
    resonance_hits_free(NULL);
    resonance_hits_batch_free(NULL);
    resonance_rankings_free(NULL);
    resonance_communities_free(NULL);
    resonance_components_free(NULL);
    resonance_link_candidates_free(NULL);
    resonance_pillars_free(NULL);
    resonance_db_free(NULL);

    /* and a second free of the same pointer does nothing */
    char *err = NULL;
    CHECK(resonance_node_delete(db, "zz", &err) == RESONANCE_NOT_FOUND && err);
    resonance_string_free(err);
    resonance_string_free(err);
    char *id = NULL;
    OK(resonance_id_generate("a.md", &id, &t_err));
    resonance_string_free(id);
    resonance_string_free(id);
    resonance_health *h = NULL;
    OK(resonance_db_health(db, &h, &t_err));
    resonance_health_free(h);
    resonance_health_free(h);
    resonance_strings *s = NULL;
    OK(resonance_graph_neighbors(db, "a", &s, &t_err));
    resonance_string_free(s->items[0]); /* an element is not a free-standing string: ignored */
    CHECK(strcmp(s->items[0], "b") == 0);
    resonance_strings_free(s);
    resonance_strings_free(s);
    resonance_node *node = NULL;
    OK(resonance_node_get(db, "a", true, &node, &t_err));
    resonance_node_free(node);
    resonance_node_free(node);
    resonance_nodes *list = NULL;
    OK(resonance_node_list(db, NULL, &list, &t_err));
    resonance_node_free(&list->items[0]); /* an element of a list: ignored */
    resonance_hits_free((resonance_hits *)list); /* the wrong free function: ignored */
    CHECK(list->len == 2 && strcmp(list->items[0].id, "a") == 0);
    resonance_nodes_free(list);
    resonance_nodes_free(list);
    resonance_edges *es = NULL;
    OK(resonance_edge_list_from(db, "a", &es, &t_err));
    resonance_edges_free(es);
    resonance_edges_free(es);
    resonance_history *hist = NULL;
    OK(resonance_history_get(db, "a", &hist, &t_err));
    resonance_history_free(hist);
    resonance_history_free(hist);
    resonance_vector *vec = NULL;
    OK(resonance_embedding_get(db, "a", &vec, &t_err));
    resonance_vector_free(vec);
    resonance_vector_free(vec);
    resonance_hits *hits = NULL;
    OK(resonance_vector_search(db, V3, 3, 5, NULL, &hits, &t_err));
    resonance_hits_free(hits);
    resonance_hits_free(hits);
    resonance_hits_batch *batch = NULL;
    OK(resonance_vector_search_batch(db, V3, 1, 3, 5, NULL, &batch, &t_err));
    resonance_hits_free(&batch->items[0]); /* an element of a batch: ignored */
    resonance_hits_batch_free(batch);
    resonance_hits_batch_free(batch);
    resonance_rankings *rk = NULL;
    OK(resonance_graph_pagerank(db, PAGERANK(0.85, 1e-6, 100), &rk, &t_err));
    resonance_rankings_free(rk);
    resonance_rankings_free(rk);
    resonance_communities *cm = NULL;
    OK(resonance_graph_communities(db, COMMUNITIES(1.0, 0), &cm, &t_err));
    resonance_communities_free(cm);
    resonance_communities_free(cm);
    resonance_components *cc = NULL;
    OK(resonance_graph_components(db, &cc, &t_err));
    resonance_strings_free(&cc->items[0]); /* an element: ignored */
    resonance_components_free(cc);
    resonance_components_free(cc);
    resonance_link_candidates *lc = NULL;
    OK(resonance_graph_link_candidates(db, LINKS(5), &lc, &t_err));
    resonance_link_candidates_free(lc);
    resonance_link_candidates_free(lc);
    resonance_pillars *pl = NULL;
    OK(resonance_graph_pillars(db, PILLARS(5), &pl, &t_err));
    resonance_pillars_free(pl);
    resonance_pillars_free(pl);

    /* results outlive the handle */
    OK(resonance_node_list(db, NULL, &list, &t_err));
    resonance_db_free(db);
    resonance_db_free(db);
    CHECK(list && list->len == 2 && strcmp(list->items[1].id, "b") == 0);
    resonance_nodes_free(list);
}

TEST(err_out_is_reset_on_success) {
    char *err = (char *)"stale";
    char *id = NULL;
    CHECK(resonance_id_generate("x", &id, &err) == RESONANCE_OK && err == NULL);
    resonance_string_free(id);
    CHECK(resonance_id_generate("x", &id, NULL) == RESONANCE_OK); /* err_out NULL */
    resonance_string_free(id);
}

int main(void) {
    t_setup();
    RUN(null_handle_everywhere);
    RUN(use_after_close_is_closed);
    RUN(use_after_free_is_invalid_argument);
    RUN(null_required_pointers);
    RUN(invalid_utf8_everywhere);
    RUN(double_free_and_wrong_free_are_no_ops);
    RUN(err_out_is_reset_on_success);
    DONE();
}
