/*
 * The C API suite: every exported function of include/resonance.h used as documented, and every error
 * kind that a C program can provoke (RESONANCE_DESTRUCTIVE_REFUSED cannot be: no migration of this
 * version is destructive). Fixtures written "by another program" go through `$RESONANCE_CLI sql`.
 * Prints "N passed, M failed" (tests) last.
 */
#include "check.h" /* first: it sets the feature-test macros */
#include "resonance_test_hooks.h" /* resonance_debug_panic: the library is built with test-hooks */

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

static resonance_db *open_db(const char *name) {
    resonance_db *db = NULL;
    OK(resonance_db_open(tpath(name), NULL, &db, &t_err));
    CHECK(db != NULL);
    return db;
}

static bool streq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

TEST(version_and_status_names) {
    CHECK(strlen(resonance_version()) > 0);
    static const char *names[] = {"ok", "invalid_argument", "invalid_vector", "dimension_mismatch", "not_found",
                                  "busy", "readonly", "corrupt", "not_a_database", "constraint", "schema_unknown",
                                  "schema_too_new", "migration_failed", "destructive_refused", "closed", "io",
                                  "sqlite", "internal", "interrupted"};
    for (int i = 0; i <= RESONANCE_INTERRUPTED; i++) CHECK(streq(resonance_status_name(i), names[i]));
    CHECK(RESONANCE_OK == 0 && RESONANCE_INVALID_ARGUMENT == 1 && RESONANCE_INTERNAL == 17);
    CHECK(RESONANCE_INTERRUPTED == 18);
    CHECK(streq(resonance_status_name(19), "unknown"));
    CHECK(streq(resonance_status_name(-1), "unknown"));
}

TEST(id_generate) {
    char *id = NULL;
    OK(resonance_id_generate("./docs/README.md", &id, &t_err));
    CHECK(streq(id, "docs-readme"));
    resonance_string_free(id);
    OK(resonance_id_generate("docs/My Note.MD", &id, &t_err));
    CHECK(streq(id, "docs-my-note-md"));
    resonance_string_free(id);
    OK(resonance_id_generate("\xc3\x9c" "ber/\xc3\xb1.md", &id, &t_err));
    CHECK(streq(id, "ber"));
    resonance_string_free(id);
}

TEST(open_options_and_warnings) {
    resonance_db *db = NULL;
    resonance_open_options o = {0};
    o.no_migrate = true;
    OK(resonance_db_open(tpath("nomigrate.db"), &o, &db, &t_err));
    resonance_strings *w = NULL;
    OK(resonance_db_warnings(db, &w, &t_err));
    CHECK(w && w->len >= 1); /* pending steps */
    resonance_strings_free(w);
    resonance_strings *steps = NULL;
    resonance_migrate_options mo = {0};
    mo.dry_run = true;
    OK(resonance_db_migrate(db, &mo, &steps, &t_err));
    CHECK(steps && steps->len >= 1);
    resonance_strings_free(steps);
    OK(resonance_db_migrate(db, NULL, &steps, &t_err)); /* apply */
    CHECK(steps && steps->len >= 1);
    resonance_strings_free(steps);
    OK(resonance_db_migrate(db, &mo, &steps, &t_err));
    CHECK(steps && steps->len == 0);
    resonance_strings_free(steps);
    OK(resonance_db_close(db, &t_err));
    OK(resonance_db_close(db, &t_err)); /* idempotent */
    resonance_db_free(db);

    o.no_migrate = false;
    o.busy_timeout_ms = 500; /* below the floor of 1000 */
    db = (resonance_db *)0x1;
    EXPECT_STATUS(resonance_db_open(tpath("x.db"), &o, &db, &t_err), RESONANCE_INVALID_ARGUMENT);
    CHECK(db == NULL);
}

/* The size rule of the option structs whose zero value means the defaults: size 0 (a zero-initialised
 * struct, as above) reads as the first version; *_default() sets size; a newer program's unknown
 * field is refused; a size between 0 and the first version is refused. */
TEST(zero_default_options_can_grow) {
    resonance_open_options od = resonance_open_options_default();
    CHECK(od.size == sizeof od && !od.read_only && !od.no_migrate && od.busy_timeout_ms == 0 &&
          od.backup_retention_days == 0 && od.open_timeout_ms == 0);
    resonance_migrate_options md = resonance_migrate_options_default();
    CHECK(md.size == sizeof md && !md.dry_run && md.backup_retention_days == 0);
    resonance_search_filter fd = resonance_search_filter_default();
    CHECK(fd.size == sizeof fd && !fd.has_min_score && fd.domain == NULL && fd.threads == 0);
    resonance_list_options ld = resonance_list_options_default();
    CHECK(ld.size == sizeof ld && !ld.has_limit && ld.domain == NULL && !ld.with_embeddings);

    resonance_db *db = NULL;
    od.open_timeout_ms = 30000; /* a field of this version, read because size covers it */
    OK(resonance_db_open(tpath("grow.db"), &od, &db, &t_err));
    resonance_node_input n = {.id = "a", .title = "A"};
    OK(resonance_node_upsert(db, &n, &t_err));
    resonance_nodes *ns = NULL;
    ld.has_limit = true;
    ld.limit = 1;
    OK(resonance_node_list(db, &ld, &ns, &t_err));
    CHECK(ns && ns->len == 1);
    resonance_nodes_free(ns);

    /* a program built against a newer header that sets a field this library does not know */
    struct {
        resonance_list_options base;
        uint64_t extra;
    } newer = {resonance_list_options_default(), 0};
    newer.base.size = (uint32_t)sizeof newer;
    OK(resonance_node_list(db, &newer.base, &ns, &t_err)); /* the unknown tail is zero: fine */
    CHECK(ns && ns->len == 1);
    resonance_nodes_free(ns);
    newer.extra = 1;
    ns = (resonance_nodes *)0x1;
    EXPECT_STATUS(resonance_node_list(db, &newer.base, &ns, &t_err), RESONANCE_INVALID_ARGUMENT);
    CHECK(ns == NULL);

    resonance_migrate_options mo = resonance_migrate_options_default();
    mo.size = 4; /* neither 0 nor a version */
    resonance_strings *steps = NULL;
    EXPECT_STATUS(resonance_db_migrate(db, &mo, &steps, &t_err), RESONANCE_INVALID_ARGUMENT);
    resonance_search_filter f = resonance_search_filter_default();
    f.size = 4;
    resonance_hits *hits = NULL;
    float q[3] = {1, 0, 0};
    EXPECT_STATUS(resonance_vector_search(db, q, 3, 1, &f, &hits, &t_err), RESONANCE_INVALID_ARGUMENT);
    CHECK(hits == NULL);
    OK(resonance_db_close(db, &t_err));
    resonance_db_free(db);

    /* an open option out of range is still the core's check */
    od = resonance_open_options_default();
    od.size = 2;
    db = (resonance_db *)0x1;
    EXPECT_STATUS(resonance_db_open(tpath("grow2.db"), &od, &db, &t_err), RESONANCE_INVALID_ARGUMENT);
    CHECK(db == NULL);
}

TEST(nodes) {
    resonance_db *db = open_db("nodes.db");
    const float v[] = {3.0f, 4.0f};
    resonance_node_input n = {.id = "a", .node_type = "note", .title = "A", .domain = "work", .layer = "l1",
                              .hash = "h", .summary = "s", .meta = "{\"k\": [1, 2]}", .date = "2024-01-01",
                              .embedding = v, .embedding_len = 2};
    OK(resonance_node_upsert(db, &n, &t_err));
    resonance_node *got = NULL;
    OK(resonance_node_get(db, "a", true, &got, &t_err));
    CHECK(got && streq(got->id, "a") && streq(got->node_type, "note") && streq(got->title, "A"));
    CHECK(got && streq(got->domain, "work") && streq(got->layer, "l1") && streq(got->hash, "h"));
    CHECK(got && streq(got->summary, "s") && streq(got->date, "2024-01-01") && got->meta != NULL);
    CHECK(got && got->embedding_len == 2 && fabsf(got->embedding[0] - 0.6f) < 1e-6f);
    resonance_node_free(got);
    OK(resonance_node_get(db, "a", false, &got, &t_err));
    CHECK(got && got->embedding == NULL && got->embedding_len == 0);
    resonance_node_free(got);
    OK(resonance_node_get(db, "missing", false, &got, &t_err));
    CHECK(got == NULL);

    resonance_node_input many[3] = {{.id = "b", .node_type = "task"}, {.id = "c", .node_type = "note"},
                                    {.id = "d"}};
    size_t written = 0;
    OK(resonance_node_upsert_many(db, many, 3, &written, &t_err));
    CHECK(written == 3);
    OK(resonance_node_get(db, "d", false, &got, &t_err));
    CHECK(got && streq(got->domain, "knowledge") && streq(got->layer, "experience") && got->node_type == NULL);
    resonance_node_free(got);

    resonance_nodes *list = NULL;
    OK(resonance_node_list(db, NULL, &list, &t_err));
    CHECK(list && list->len == 4 && streq(list->items[0].id, "a") && streq(list->items[3].id, "d"));
    resonance_nodes_free(list);
    resonance_list_options lo = {.node_type = "note", .with_embeddings = true};
    OK(resonance_node_list(db, &lo, &list, &t_err));
    CHECK(list && list->len == 2 && list->items[0].embedding_len == 2 && list->items[1].embedding == NULL);
    resonance_nodes_free(list);
    resonance_list_options page = {.has_limit = true, .limit = 2, .offset = 1};
    OK(resonance_node_list(db, &page, &list, &t_err));
    CHECK(list && list->len == 2 && streq(list->items[0].id, "b"));
    resonance_nodes_free(list);
    resonance_list_options dom = {.domain = "work"};
    OK(resonance_node_list(db, &dom, &list, &t_err));
    CHECK(list && list->len == 1);
    resonance_nodes_free(list);

    OK(resonance_node_update_meta(db, "b", "{\"x\": 1}", &t_err));
    OK(resonance_node_get(db, "b", false, &got, &t_err));
    CHECK(got && streq(got->meta, "{\"x\": 1}"));
    resonance_node_free(got);
    OK(resonance_node_update_meta(db, "b", NULL, &t_err));
    /* merge patch (RFC 7386): keys set, a null removes its key */
    OK(resonance_node_update_meta(db, "b", "{\"x\":1,\"y\":{\"z\":2}}", &t_err));
    OK(resonance_node_merge_meta(db, "b", "{\"x\":null,\"y\":{\"w\":3}}", &t_err));
    OK(resonance_node_get(db, "b", false, &got, &t_err));
    CHECK(got && streq(got->meta, "{\"y\":{\"w\":3,\"z\":2}}"));
    resonance_node_free(got);
    EXPECT_STATUS(resonance_node_merge_meta(db, "b", "{oops", &t_err), RESONANCE_INVALID_ARGUMENT);
    EXPECT_STATUS(resonance_node_merge_meta(db, "zz", "{}", &t_err), RESONANCE_NOT_FOUND);
    OK(resonance_node_update_meta(db, "b", NULL, &t_err));
    /* partial update: only the fields flagged change; the embedding is kept */
    resonance_node_fields rename = {.has_title = true, .title = "renamed", .has_node_type = true, .node_type = NULL};
    OK(resonance_node_update(db, "a", &rename, &t_err));
    OK(resonance_node_get(db, "a", true, &got, &t_err));
    CHECK(got && streq(got->title, "renamed") && got->node_type == NULL && got->embedding_len == 2);
    resonance_node_free(got);
    resonance_node_fields nothing = {0};
    EXPECT_STATUS(resonance_node_update(db, "zz", &nothing, &t_err), RESONANCE_NOT_FOUND);
    resonance_node_fields bad_meta = {.has_meta = true, .meta = "{oops"};
    EXPECT_STATUS(resonance_node_update(db, "a", &bad_meta, &t_err), RESONANCE_INVALID_ARGUMENT);
    EXPECT_STATUS(resonance_node_update(db, "a", NULL, &t_err), RESONANCE_INVALID_ARGUMENT);
    EXPECT_STATUS(resonance_node_update_meta(db, "b", "{not json", &t_err), RESONANCE_INVALID_ARGUMENT);
    EXPECT_STATUS(resonance_node_update_meta(db, "zz", "{}", &t_err), RESONANCE_NOT_FOUND);
    resonance_node_input bad = {.id = "e", .meta = "{oops"};
    EXPECT_STATUS(resonance_node_upsert(db, &bad, &t_err), RESONANCE_INVALID_ARGUMENT);
    resonance_node_input empty = {.id = ""};
    EXPECT_STATUS(resonance_node_upsert(db, &empty, &t_err), RESONANCE_INVALID_ARGUMENT);
    /* all or nothing */
    resonance_node_input two[2] = {{.id = "f"}, {.id = "g", .meta = "{oops"}};
    EXPECT_STATUS(resonance_node_upsert_many(db, two, 2, &written, &t_err), RESONANCE_INVALID_ARGUMENT);
    CHECK(written == 0);
    OK(resonance_node_get(db, "f", false, &got, &t_err));
    CHECK(got == NULL);

    OK(resonance_node_delete(db, "d", &t_err));
    EXPECT_STATUS(resonance_node_delete(db, "d", &t_err), RESONANCE_NOT_FOUND);
    resonance_db_free(db);
}

TEST(edges_and_history) {
    resonance_db *db = open_db("edges.db");
    resonance_node_input ns[2] = {{.id = "a"}, {.id = "b"}};
    OK(resonance_node_upsert_many(db, ns, 2, NULL, &t_err));
    resonance_edge_input e = {.source = "a", .target = "b"};
    bool added = false;
    OK(resonance_edge_add(db, &e, &added, &t_err));
    CHECK(added);
    OK(resonance_edge_add(db, &e, &added, &t_err));
    CHECK(!added);
    resonance_edge_input more[2] = {
        {.source = "a", .target = "c", .edge_type = "cites", .has_confidence = true, .confidence = 0.5,
         .has_veracity = true, .veracity = 0.25, .context_source = "docs/a.md"},
        {.source = "b", .target = "a"}};
    size_t n = 0;
    OK(resonance_edge_add_many(db, more, 2, &n, &t_err));
    CHECK(n == 2);
    resonance_edge_input up = {.source = "a", .target = "b", .has_confidence = true, .confidence = 0.9};
    OK(resonance_edge_upsert(db, &up, &t_err));
    resonance_edge_input nan_conf = {.source = "a", .target = "b", .has_confidence = true, .confidence = NAN};
    EXPECT_STATUS(resonance_edge_upsert(db, &nan_conf, &t_err), RESONANCE_INVALID_ARGUMENT);

    resonance_edges *es = NULL;
    OK(resonance_edge_list_from(db, "a", &es, &t_err));
    CHECK(es && es->len == 2);
    if (es && es->len == 2) {
        CHECK(streq(es->items[0].target, "b") && streq(es->items[0].edge_type, "related_to"));
        CHECK(es->items[0].has_confidence && fabs(es->items[0].confidence - 0.9) < 1e-12);
        CHECK(streq(es->items[1].edge_type, "cites") && fabs(es->items[1].veracity - 0.25) < 1e-12);
        CHECK(streq(es->items[1].context_source, "docs/a.md") && es->items[0].context_source == NULL);
    }
    resonance_edges_free(es);
    OK(resonance_edge_list_to(db, "a", &es, &t_err));
    CHECK(es && es->len == 1 && streq(es->items[0].source, "b"));
    resonance_edges_free(es);
    OK(resonance_edge_list_from(db, "nobody", &es, &t_err));
    CHECK(es && es->len == 0 && es->items == NULL);
    resonance_edges_free(es);

    OK(resonance_edge_delete(db, "a", "c", "cites", &t_err));
    EXPECT_STATUS(resonance_edge_delete(db, "a", "c", "cites", &t_err), RESONANCE_NOT_FOUND);
    OK(resonance_edge_delete(db, "b", "a", NULL, &t_err)); /* NULL type: related_to */

    resonance_history *h = NULL;
    OK(resonance_history_get(db, "a", &h, &t_err));
    CHECK(h && h->len == 1 && streq(h->items[0].action, "insert") && streq(h->items[0].entity_type, "node"));
    CHECK(h && h->len == 1 && h->items[0].old_value == NULL && h->items[0].new_value && h->items[0].timestamp);
    resonance_history_free(h);
    OK(resonance_history_get(db, "a|related_to|b", &h, &t_err));
    CHECK(h && h->len == 2 && streq(h->items[1].action, "update") && h->items[0].id < h->items[1].id);
    resonance_history_free(h);
    size_t deleted = 0;
    OK(resonance_history_prune(db, false, 0, true, 2, &deleted, &t_err));
    CHECK(deleted > 0);
    resonance_stats st;
    OK(resonance_db_stats(db, &st, &t_err));
    CHECK(st.history == 2 && st.nodes == 2 && st.edges == 1);
    OK(resonance_history_prune(db, true, 30, false, 0, NULL, &t_err));
    resonance_db_free(db);
}

TEST(vectors_and_search) {
    resonance_db *db = open_db("vectors.db");
    const float a[] = {1, 0, 0}, b[] = {0.8f, 0.6f, 0}, c[] = {0, 0, 1};
    resonance_node_input ns[3] = {{.id = "a", .node_type = "note", .domain = "d1", .embedding = a, .embedding_len = 3},
                                  {.id = "b", .node_type = "task", .domain = "d1", .embedding = b, .embedding_len = 3},
                                  {.id = "c", .node_type = "note", .domain = "d2"}};
    OK(resonance_node_upsert_many(db, ns, 3, NULL, &t_err));
    OK(resonance_embedding_set(db, "c", c, 3, &t_err));
    resonance_vector *v = NULL;
    OK(resonance_embedding_get(db, "b", &v, &t_err));
    CHECK(v && v->len == 3 && fabsf(v->data[1] - 0.6f) < 1e-6f);
    resonance_vector_free(v);
    resonance_node_input plain = {.id = "p"};
    OK(resonance_node_upsert(db, &plain, &t_err));
    OK(resonance_embedding_get(db, "p", &v, &t_err));
    CHECK(v == NULL);
    EXPECT_STATUS(resonance_embedding_get(db, "nope", &v, &t_err), RESONANCE_NOT_FOUND);
    EXPECT_STATUS(resonance_embedding_set(db, "nope", a, 3, &t_err), RESONANCE_NOT_FOUND);
    const float nan3[] = {1, NAN, 0}, zero3[] = {0, 0, 0}, two[] = {1, 0};
    EXPECT_STATUS(resonance_embedding_set(db, "a", nan3, 3, &t_err), RESONANCE_INVALID_VECTOR);
    EXPECT_STATUS(resonance_embedding_set(db, "a", zero3, 3, &t_err), RESONANCE_INVALID_VECTOR);
    EXPECT_STATUS(resonance_embedding_set(db, "a", NULL, 0, &t_err), RESONANCE_INVALID_VECTOR);
    EXPECT_STATUS(resonance_embedding_set(db, "a", two, 2, &t_err), RESONANCE_DIMENSION_MISMATCH);

    const float q[] = {1, 0.1f, 0};
    resonance_hits *h = NULL;
    OK(resonance_vector_search(db, q, 3, 10, NULL, &h, &t_err));
    CHECK(h && h->len == 2 && streq(h->items[0].id, "a") && streq(h->items[1].id, "b"));
    CHECK(h && h->len == 2 && h->items[0].score > h->items[1].score);
    resonance_hits_free(h);
    resonance_search_filter f = {.has_min_score = true, .min_score = -1.0f};
    OK(resonance_vector_search(db, q, 3, 10, &f, &h, &t_err));
    CHECK(h && h->len == 3 && streq(h->items[2].id, "c"));
    resonance_hits_free(h);
    resonance_search_filter by_type = {.node_type = "task", .threads = 1};
    OK(resonance_vector_search(db, q, 3, 10, &by_type, &h, &t_err));
    CHECK(h && h->len == 1 && streq(h->items[0].id, "b"));
    resonance_hits_free(h);
    resonance_search_filter by_domain = {.domain = "d2", .has_min_score = true, .min_score = -1.0f};
    OK(resonance_vector_search(db, q, 3, 10, &by_domain, &h, &t_err));
    CHECK(h && h->len == 1 && streq(h->items[0].id, "c"));
    resonance_hits_free(h);
    OK(resonance_vector_search(db, q, 3, 0, NULL, &h, &t_err));
    CHECK(h && h->len == 0 && h->items == NULL);
    resonance_hits_free(h);
    EXPECT_STATUS(resonance_vector_search(db, two, 2, 5, NULL, &h, &t_err), RESONANCE_DIMENSION_MISMATCH);
    CHECK(h == NULL);
    EXPECT_STATUS(resonance_vector_search(db, nan3, 3, 5, NULL, &h, &t_err), RESONANCE_INVALID_VECTOR);

    OK(resonance_vector_search_like(db, "a", 5, NULL, &h, &t_err));
    CHECK(h && h->len == 1 && streq(h->items[0].id, "b"));
    resonance_hits_free(h);
    EXPECT_STATUS(resonance_vector_search_like(db, "p", 5, NULL, &h, &t_err), RESONANCE_NOT_FOUND);
    EXPECT_STATUS(resonance_vector_search_like(db, "nope", 5, NULL, &h, &t_err), RESONANCE_NOT_FOUND);

    const float qs[] = {1, 0, 0, 0, 0, 1};
    resonance_hits_batch *batch = NULL;
    OK(resonance_vector_search_batch(db, qs, 2, 3, 1, NULL, &batch, &t_err));
    CHECK(batch && batch->len == 2 && batch->items[0].len == 1 && streq(batch->items[0].items[0].id, "a"));
    CHECK(batch && batch->len == 2 && batch->items[1].len == 1 && streq(batch->items[1].items[0].id, "c"));
    resonance_hits_batch_free(batch);
    OK(resonance_vector_search_batch(db, NULL, 0, 3, 1, NULL, &batch, &t_err));
    CHECK(batch && batch->len == 0);
    resonance_hits_batch_free(batch);
    const float qs2[] = {1, 0, 0, 1, 1, 1}; /* 3 queries of dimension 2 */
    EXPECT_STATUS(resonance_vector_search_batch(db, qs2, 3, 2, 1, NULL, &batch, &t_err),
                  RESONANCE_DIMENSION_MISMATCH);
    CHECK(batch == NULL);

    resonance_stats st;
    OK(resonance_db_stats(db, &st, &t_err));
    CHECK(st.vectors == 3 && st.dimension == 3 && st.nodes == 4);
    resonance_db_free(db);
}

TEST(graph_analytics) {
    resonance_db *db = open_db("graph.db");
    resonance_node_input ns[5] = {{.id = "a"}, {.id = "b"}, {.id = "c"}, {.id = "d"}, {.id = "solo"}};
    OK(resonance_node_upsert_many(db, ns, 5, NULL, &t_err));
    resonance_edge_input es[5] = {{.source = "a", .target = "b"}, {.source = "b", .target = "c"},
                                  {.source = "a", .target = "c"}, {.source = "c", .target = "d"},
                                  {.source = "d", .target = "ghost"}};
    OK(resonance_edge_add_many(db, es, 5, NULL, &t_err));

    resonance_strings *ids = NULL;
    OK(resonance_graph_neighbors(db, "b", &ids, &t_err));
    CHECK(ids && ids->len == 2 && streq(ids->items[0], "a") && streq(ids->items[1], "c"));
    resonance_strings_free(ids);
    OK(resonance_graph_successors(db, "a", &ids, &t_err));
    CHECK(ids && ids->len == 2);
    resonance_strings_free(ids);
    OK(resonance_graph_predecessors(db, "c", &ids, &t_err));
    CHECK(ids && ids->len == 2 && streq(ids->items[0], "a"));
    resonance_strings_free(ids);
    EXPECT_STATUS(resonance_graph_neighbors(db, "ghost", &ids, &t_err), RESONANCE_NOT_FOUND);
    CHECK(ids == NULL);
    size_t deg = 0;
    OK(resonance_graph_degree(db, "c", &deg, &t_err));
    CHECK(deg == 3);
    OK(resonance_graph_traverse(db, "a", TRAVERSE(1), &ids, &t_err));
    CHECK(ids && ids->len == 3 && streq(ids->items[0], "a"));
    resonance_strings_free(ids);
    OK(resonance_graph_shortest_path(db, "a", "d", NULL, &ids, &t_err));
    CHECK(ids && ids->len == 3 && streq(ids->items[1], "c"));
    resonance_strings_free(ids);
    OK(resonance_graph_shortest_path(db, "d", "a", NULL, &ids, &t_err));
    CHECK(ids == NULL);
    OK(resonance_graph_shortest_path(db, "a", "a", NULL, &ids, &t_err));
    CHECK(ids && ids->len == 1);
    resonance_strings_free(ids);

    /* direction: against the edges, and both ways */
    resonance_path_options po = resonance_path_options_default();
    CHECK(po.size == sizeof po && po.direction == RESONANCE_DIRECTION_OUTGOING);
    po.direction = RESONANCE_DIRECTION_INCOMING;
    OK(resonance_graph_shortest_path(db, "d", "a", &po, &ids, &t_err));
    CHECK(ids && ids->len == 3 && streq(ids->items[0], "d") && streq(ids->items[1], "c") &&
          streq(ids->items[2], "a"));
    resonance_strings_free(ids);
    po.direction = RESONANCE_DIRECTION_BOTH;
    OK(resonance_graph_shortest_path(db, "b", "d", &po, &ids, &t_err));
    CHECK(ids && ids->len == 3 && streq(ids->items[1], "c"));
    resonance_strings_free(ids);
    po.direction = 9;
    EXPECT_STATUS(resonance_graph_shortest_path(db, "b", "d", &po, &ids, &t_err), RESONANCE_INVALID_ARGUMENT);
    CHECK(ids == NULL);
    resonance_traverse_options to = resonance_traverse_options_default();
    CHECK(to.size == sizeof to && to.max_depth == SIZE_MAX && to.direction == RESONANCE_DIRECTION_OUTGOING);
    OK(resonance_graph_traverse(db, "d", &to, &ids, &t_err)); /* d's only out-edge is dangling */
    CHECK(ids && ids->len == 1);
    resonance_strings_free(ids);
    to.direction = RESONANCE_DIRECTION_INCOMING;
    OK(resonance_graph_traverse(db, "d", &to, &ids, &t_err));
    CHECK(ids && ids->len == 4 && streq(ids->items[1], "c") && streq(ids->items[2], "a") &&
          streq(ids->items[3], "b"));
    resonance_strings_free(ids);
    OK(resonance_graph_traverse(db, "a", NULL, &ids, &t_err)); /* NULL: defaults, no depth limit */
    CHECK(ids && ids->len == 4);
    resonance_strings_free(ids);

    /* every *_default() sets `size` and the library's defaults */
    resonance_pagerank_options pd = resonance_pagerank_options_default();
    CHECK(pd.size == sizeof pd && pd.alpha == 0.85 && pd.tolerance == 1e-6 && pd.max_iterations == 100);
    resonance_betweenness_options bd = resonance_betweenness_options_default();
    CHECK(bd.size == sizeof bd && bd.normalized && bd.sample == 0 && bd.seed == 0);
    resonance_community_options cd = resonance_community_options_default();
    CHECK(cd.size == sizeof cd && cd.resolution == 1.0 && cd.seed == 0);
    resonance_link_candidate_options ld = resonance_link_candidate_options_default();
    CHECK(ld.size == sizeof ld && ld.limit == 10);
    resonance_pillar_options pld = resonance_pillar_options_default();
    CHECK(pld.size == sizeof pld && pld.limit == 10);

    /* the size rule: a program built against the first version of the struct (before `direction`)
     * still works, the missing field keeps its default; a size below the first version is refused */
    resonance_traverse_options old = resonance_traverse_options_default();
    old.size = (uint32_t)offsetof(resonance_traverse_options, direction);
    old.max_depth = 1;
    old.direction = RESONANCE_DIRECTION_BOTH; /* past `size`: not read */
    OK(resonance_graph_traverse(db, "c", &old, &ids, &t_err));
    CHECK(ids && ids->len == 2 && streq(ids->items[1], "d"));
    resonance_strings_free(ids);
    old.size = 0;
    EXPECT_STATUS(resonance_graph_traverse(db, "c", &old, &ids, &t_err), RESONANCE_INVALID_ARGUMENT);
    CHECK(ids == NULL);
    old.size = 4;
    EXPECT_STATUS(resonance_graph_traverse(db, "c", &old, &ids, &t_err), RESONANCE_INVALID_ARGUMENT);
    /* a newer, larger struct: accepted while the fields this library does not know are zero */
    struct {
        resonance_pagerank_options base;
        uint64_t newer_field;
    } newer = {resonance_pagerank_options_default(), 0};
    newer.base.size = sizeof newer;
    resonance_rankings *nr = NULL;
    OK(resonance_graph_pagerank(db, &newer.base, &nr, &t_err));
    CHECK(nr && nr->len == 5);
    resonance_rankings_free(nr);
    nr = NULL;
    newer.newer_field = 1;
    EXPECT_STATUS(resonance_graph_pagerank(db, &newer.base, &nr, &t_err), RESONANCE_INVALID_ARGUMENT);
    CHECK(nr == NULL);

    resonance_rankings *r = NULL;
    OK(resonance_graph_pagerank(db, NULL, &r, &t_err));
    double sum = 0;
    for (size_t i = 0; r && i < r->len; i++) sum += r->items[i].score;
    CHECK(r && r->len == 5 && fabs(sum - 1.0) < 1e-6 && streq(r->items[0].id, "a"));
    resonance_rankings_free(r);
    EXPECT_STATUS(resonance_graph_pagerank(db, PAGERANK(1.5, 1e-6, 100), &r, &t_err), RESONANCE_INVALID_ARGUMENT);
    OK(resonance_graph_betweenness(db, BETWEENNESS(true, 0, 0), &r, &t_err));
    CHECK(r && r->len == 5);
    resonance_rankings_free(r);
    OK(resonance_graph_betweenness(db, BETWEENNESS(false, 2, 7), &r, &t_err));
    CHECK(r && r->len == 5);
    resonance_rankings_free(r);

    resonance_communities *cm = NULL;
    OK(resonance_graph_communities(db, COMMUNITIES(1.0, 0), &cm, &t_err));
    CHECK(cm && cm->len == 5 && cm->modularity >= -0.5 && cm->modularity <= 1.0);
    resonance_communities_free(cm);
    resonance_components *comps = NULL;
    OK(resonance_graph_components(db, &comps, &t_err));
    CHECK(comps && comps->len == 2 && comps->items[0].len == 4 && comps->items[1].len == 1);
    resonance_components_free(comps);
    double aa = -1;
    OK(resonance_graph_adamic_adar(db, "a", "c", &aa, &t_err));
    CHECK(aa > 0);
    resonance_link_candidates *lc = NULL;
    OK(resonance_graph_link_candidates(db, LINKS(10), &lc, &t_err));
    CHECK(lc && lc->len >= 1 && lc->items[0].score > 0);
    resonance_link_candidates_free(lc);
    resonance_pillars *p = NULL;
    OK(resonance_graph_pillars(db, PILLARS(2), &p, &t_err));
    CHECK(p && p->len == 2 && p->items[0].pagerank >= p->items[1].pagerank && p->items[0].degree > 0);
    resonance_pillars_free(p);
    resonance_graph_stats gs;
    OK(resonance_graph_stats_get(db, &gs, &t_err));
    CHECK(gs.nodes == 5 && gs.edges == 4 && gs.skipped_edges == 1 && fabs(gs.density - 4.0 / 20.0) < 1e-12);
    resonance_db_free(db);

    /* an empty graph gives empty results, never an error */
    db = open_db("empty_graph.db");
    OK(resonance_graph_pagerank(db, PAGERANK(0.85, 1e-6, 100), &r, &t_err));
    CHECK(r && r->len == 0);
    resonance_rankings_free(r);
    OK(resonance_graph_components(db, &comps, &t_err));
    CHECK(comps && comps->len == 0);
    resonance_components_free(comps);
    resonance_db_free(db);
}

TEST(maintenance) {
    resonance_db *db = open_db("maint.db");
    resonance_node_input n = {.id = "a"};
    OK(resonance_node_upsert(db, &n, &t_err));
    resonance_health *h = NULL;
    OK(resonance_db_health(db, &h, &t_err));
    CHECK(h && streq(h->journal_mode, "wal") && h->busy_timeout_ms == 5000 && h->foreign_keys);
    CHECK(h && streq(h->quick_check, "ok") && streq(h->schema_shape, "current") && h->pending.len == 0);
    CHECK(h && streq(h->write_probe, "ok") && h->nodes == 1 && h->schema_problem == NULL && !h->read_only);
    CHECK(h && h->sqlite_version && h->path && h->problems.len == 0 && h->dimensions_len == 0);
    resonance_health_free(h);

    char *path = NULL;
    OK(resonance_db_backup(db, NULL, &path, &t_err));
    CHECK(path && strstr(path, "backups") != NULL && access(path, F_OK) == 0);
    resonance_string_free(path);
    OK(resonance_db_backup(db, tpath("copy.db"), &path, &t_err));
    CHECK(streq(path, tpath("copy.db")) && access(tpath("copy.db"), F_OK) == 0);
    resonance_string_free(path);
    OK(resonance_db_backup(db, tpath("copy2.db"), NULL, &t_err));

    resonance_checkpoint cp = {-1, -1, -1};
    OK(resonance_db_checkpoint(db, NULL, &cp, &t_err));
    CHECK(cp.busy == 0);
    OK(resonance_db_checkpoint(db, "truncate", NULL, &t_err));
    EXPECT_STATUS(resonance_db_checkpoint(db, "sideways", &cp, &t_err), RESONANCE_INVALID_ARGUMENT);
    OK(resonance_db_optimize(db, &t_err));
    OK(resonance_db_vacuum(db, &t_err));
    resonance_stats st;
    OK(resonance_db_stats(db, &st, &t_err));
    CHECK(st.nodes == 1 && st.dimension == 0 && st.db_bytes > 0 && st.size_bytes >= st.db_bytes);

    /* the backup is a working database */
    resonance_db *copy = open_db("copy.db");
    resonance_node *got = NULL;
    OK(resonance_node_get(copy, "a", false, &got, &t_err));
    CHECK(got != NULL);
    resonance_node_free(got);
    resonance_db_free(copy);
    resonance_db_free(db);
}

TEST(transactions) {
    resonance_db *db = open_db("tx.db");
    resonance_node_input a = {.id = "a"}, b = {.id = "b"};
    OK(resonance_tx_begin(db, &t_err));
    EXPECT_STATUS(resonance_tx_begin(db, &t_err), RESONANCE_INVALID_ARGUMENT);
    OK(resonance_node_upsert(db, &a, &t_err));
    EXPECT_STATUS(resonance_db_vacuum(db, &t_err), RESONANCE_INVALID_ARGUMENT);
    OK(resonance_tx_rollback(db, &t_err));
    resonance_node *got = NULL;
    OK(resonance_node_get(db, "a", false, &got, &t_err));
    CHECK(got == NULL);
    OK(resonance_tx_begin(db, &t_err));
    OK(resonance_node_upsert(db, &b, &t_err));
    OK(resonance_tx_commit(db, &t_err));
    OK(resonance_node_get(db, "b", false, &got, &t_err));
    CHECK(got != NULL);
    resonance_node_free(got);
    EXPECT_STATUS(resonance_tx_commit(db, &t_err), RESONANCE_INVALID_ARGUMENT);
    EXPECT_STATUS(resonance_tx_rollback(db, &t_err), RESONANCE_INVALID_ARGUMENT);
    /* close rolls an open transaction back */
    OK(resonance_tx_begin(db, &t_err));
    OK(resonance_node_upsert(db, &a, &t_err));
    OK(resonance_db_close(db, &t_err));
    resonance_db_free(db);
    db = open_db("tx.db");
    OK(resonance_node_get(db, "a", false, &got, &t_err));
    CHECK(got == NULL);
    resonance_db_free(db);
}

/* ---- every error kind ---- */

TEST(error_busy) {
    resonance_db *a = open_db("busy.db");
    resonance_open_options o = {.busy_timeout_ms = 1000};
    resonance_db *b = NULL;
    OK(resonance_db_open(tpath("busy.db"), &o, &b, &t_err));
    OK(resonance_tx_begin(a, &t_err));
    resonance_node_input n = {.id = "x"};
    EXPECT_STATUS(resonance_node_upsert(b, &n, &t_err), RESONANCE_BUSY);
    OK(resonance_tx_rollback(a, &t_err));
    OK(resonance_node_upsert(b, &n, &t_err));
    resonance_db_free(a);
    resonance_db_free(b);
}

TEST(error_readonly) {
    resonance_db *db = open_db("ro.db");
    resonance_db_free(db);
    resonance_open_options o = {.read_only = true};
    OK(resonance_db_open(tpath("ro.db"), &o, &db, &t_err));
    resonance_node_input n = {.id = "x"};
    EXPECT_STATUS(resonance_node_upsert(db, &n, &t_err), RESONANCE_READONLY);
    EXPECT_STATUS(resonance_tx_begin(db, &t_err), RESONANCE_READONLY);
    resonance_health *h = NULL;
    OK(resonance_db_health(db, &h, &t_err));
    CHECK(h && h->read_only && strncmp(h->write_probe, "skipped", 7) == 0);
    resonance_health_free(h);
    resonance_db_free(db);
    /* a read-only handle on a file that does not exist: an I/O error naming it */
    EXPECT_STATUS(resonance_db_open(tpath("ro-missing.db"), &o, &db, &t_err), RESONANCE_IO);
}

static void write_file(const char *path, const char *bytes, size_t n, long offset) {
    FILE *f = fopen(path, offset < 0 ? "wb" : "r+b");
    CHECK(f != NULL);
    if (!f) return;
    if (offset > 0) fseek(f, offset, SEEK_SET);
    fwrite(bytes, 1, n, f);
    fclose(f);
}

TEST(error_not_a_database_and_corrupt) {
    char junk[512];
    memset(junk, 'z', sizeof junk);
    write_file(tpath("junk.db"), junk, sizeof junk, -1);
    resonance_db *db = NULL;
    EXPECT_STATUS(resonance_db_open(tpath("junk.db"), NULL, &db, &t_err), RESONANCE_NOT_A_DATABASE);
    CHECK(db == NULL);

    db = open_db("corrupt.db");
    OK(resonance_db_checkpoint(db, "truncate", NULL, &t_err));
    resonance_db_free(db);
    /* drop what close wrote to the WAL since, so page 1 is read from the main file */
    remove(tpath("corrupt.db-wal"));
    remove(tpath("corrupt.db-shm"));
    char garbage[3996];
    memset(garbage, 0x55, sizeof garbage);
    write_file(tpath("corrupt.db"), garbage, sizeof garbage, 100); /* page 1 after the header */
    EXPECT_STATUS(resonance_db_open(tpath("corrupt.db"), NULL, &db, &t_err), RESONANCE_CORRUPT);
    CHECK(db == NULL);
}

TEST(error_schema_unknown_too_new_migration_failed) {
    resonance_db *db = NULL;
    CHECK(t_sql(tpath("foreign.db"), "CREATE TABLE foo(x)") == 0);
    EXPECT_STATUS(resonance_db_open(tpath("foreign.db"), NULL, &db, &t_err), RESONANCE_SCHEMA_UNKNOWN);

    db = open_db("future.db");
    resonance_db_free(db);
    CHECK(t_sql(tpath("future.db"), "INSERT INTO resonance_schema_history(version, name, applied_on, checksum) "
                                    "VALUES (99, 'future', '2030-01-01T00:00:00Z', '0')") == 0);
    EXPECT_STATUS(resonance_db_open(tpath("future.db"), NULL, &db, &t_err), RESONANCE_SCHEMA_TOO_NEW);

    db = open_db("migfail.db");
    resonance_db_free(db);
    CHECK(t_sql(tpath("migfail.db"), "DROP TABLE resonance_schema_history; DROP TABLE resonance_meta; "
                                     "CREATE VIEW resonance_meta AS SELECT 1 AS key, 2 AS value;") == 0);
    EXPECT_STATUS(resonance_db_open(tpath("migfail.db"), NULL, &db, &t_err), RESONANCE_MIGRATION_FAILED);
    CHECK(db == NULL);
}

TEST(error_constraint_and_sqlite) {
    resonance_db *db = open_db("trig.db");
    /* A trigger another program plants never fires for the engine's writes (docs/architecture.md,
       Adoption): the edge is added. */
    CHECK(t_sql(tpath("trig.db"),
                "CREATE TRIGGER no_edges BEFORE INSERT ON edges BEGIN SELECT RAISE(ABORT, 'no edges'); END;") == 0);
    resonance_edge_input e = {.source = "a", .target = "b"};
    OK(resonance_edge_add(db, &e, NULL, &t_err));
    /* A unique index another program added: constraint. */
    CHECK(t_sql(tpath("trig.db"), "DROP TRIGGER no_edges; CREATE UNIQUE INDEX one_title ON nodes(title);") == 0);
    resonance_node_input n1 = {.id = "n1", .title = "same"};
    resonance_node_input n2 = {.id = "n2", .title = "same"};
    OK(resonance_node_upsert(db, &n1, &t_err));
    EXPECT_STATUS(resonance_node_upsert(db, &n2, &t_err), RESONANCE_CONSTRAINT);
    /* An index whose expression fails on this row (json() of text that is not JSON): sqlite. */
    CHECK(t_sql(tpath("trig.db"), "DROP INDEX one_title; CREATE INDEX json_title ON nodes(json(title)) WHERE id = 'n3';") == 0);
    resonance_node_input n3 = {.id = "n3", .title = "not json"};
    EXPECT_STATUS(resonance_node_upsert(db, &n3, &t_err), RESONANCE_SQLITE);
    resonance_db_free(db);
}

TEST(error_io_closed_internal) {
    write_file(tpath("plainfile"), "x", 1, -1);
    resonance_db *db = NULL;
    EXPECT_STATUS(resonance_db_open(tpath("plainfile/sub/db.sqlite"), NULL, &db, &t_err), RESONANCE_IO);
    db = open_db("closed.db");
    OK(resonance_db_close(db, &t_err));
    resonance_stats st;
    EXPECT_STATUS(resonance_db_stats(db, &st, &t_err), RESONANCE_CLOSED);
    resonance_db_free(db);
    EXPECT_STATUS(resonance_debug_panic(&t_err), RESONANCE_INTERNAL);
    CHECK(resonance_debug_panic(NULL) == RESONANCE_INTERNAL);
}

/* ---- one handle shared by threads ---- */

static resonance_db *shared_db;

static void *worker(void *arg) {
    long k = (long)arg;
    char id[32];
    for (int i = 0; i < 20; i++) {
        snprintf(id, sizeof id, "t%ld-%d", k, i);
        float v[4] = {(float)k + 1, (float)i + 1, 1, 0};
        resonance_node_input n = {.id = id, .embedding = v, .embedding_len = 4};
        if (resonance_node_upsert(shared_db, &n, NULL) != RESONANCE_OK) return (void *)1;
        resonance_hits *h = NULL;
        if (resonance_vector_search(shared_db, v, 4, 3, NULL, &h, NULL) != RESONANCE_OK || h->len == 0)
            return (void *)1;
        resonance_hits_free(h);
    }
    return NULL;
}

TEST(threads_share_a_handle) {
    shared_db = open_db("threads.db");
    pthread_t th[4];
    for (long i = 0; i < 4; i++) pthread_create(&th[i], NULL, worker, (void *)i);
    for (int i = 0; i < 4; i++) {
        void *r = NULL;
        pthread_join(th[i], &r);
        CHECK(r == NULL);
    }
    resonance_stats st;
    OK(resonance_db_stats(shared_db, &st, &t_err));
    CHECK(st.nodes == 80 && st.vectors == 80);
    resonance_db_free(shared_db);
}

/* A long call on one thread, resonance_interrupt from another: the call returns
 * RESONANCE_INTERRUPTED and the handle keeps working. */
static resonance_db *long_db = NULL;
static volatile int long_done = 0;
static resonance_status long_status = RESONANCE_OK;

static void *long_call(void *arg) {
    (void)arg;
    resonance_rankings *r = NULL;
    long_status = resonance_graph_betweenness(long_db, BETWEENNESS(true, 0, 0), &r, NULL);
    resonance_rankings_free(r);
    __atomic_store_n(&long_done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

TEST(interrupt_from_another_thread) {
    long_db = open_db("interrupt.db");
    /* 3000 nodes, 10 out-edges each: exact betweenness runs for minutes under valgrind. */
    enum { N = 3000, PER = 10 };
    static char ids[N][8];
    static resonance_node_input ns[N];
    static resonance_edge_input es[N * PER];
    for (int i = 0; i < N; i++) {
        snprintf(ids[i], sizeof ids[i], "n%04d", i);
        ns[i] = (resonance_node_input){.id = ids[i]};
    }
    for (int i = 0; i < N; i++)
        for (int k = 0; k < PER; k++)
            es[i * PER + k] = (resonance_edge_input){.source = ids[i], .target = ids[(i * 31 + k * k * 97 + k + 1) % N]};
    OK(resonance_node_upsert_many(long_db, ns, N, NULL, &t_err));
    OK(resonance_edge_add_many(long_db, es, N * PER, NULL, &t_err));

    pthread_t th;
    CHECK(pthread_create(&th, NULL, long_call, NULL) == 0);
    usleep(300 * 1000);
    /* An interrupt stops only what runs now: repeat until the call has returned (the first one
     * may come before the call began on a slow machine). */
    double first = now_ms(), last = first;
    while (!__atomic_load_n(&long_done, __ATOMIC_SEQ_CST)) {
        last = now_ms();
        OK(resonance_interrupt(long_db, &t_err));
        usleep(20 * 1000);
    }
    pthread_join(th, NULL);
    printf("  betweenness stopped %.0f ms after the first interrupt (%.0f ms after the last)\n",
           now_ms() - first, now_ms() - last);
    CHECK(long_status == RESONANCE_INTERRUPTED);
    /* The handle works afterwards, also for a graph call. */
    resonance_stats st;
    OK(resonance_db_stats(long_db, &st, &t_err));
    CHECK(st.nodes == N);
    resonance_graph_stats gs;
    OK(resonance_graph_stats_get(long_db, &gs, &t_err));
    CHECK(gs.nodes == N);
    /* Nothing runs: a no-op, and so on a closed handle. */
    OK(resonance_interrupt(long_db, &t_err));
    OK(resonance_db_close(long_db, &t_err));
    OK(resonance_interrupt(long_db, &t_err));
    resonance_db_free(long_db);
}


/* Application SQL: execute / execute_batch / query with both parameter styles, every value type
 * through the cursor, the authorizer's refusals, a read-only handle and the open options' second
 * version (allow_engine_writes, statement_cache_size), also read from a first-version struct. */
TEST(application_sql) {
    resonance_open_options o = resonance_open_options_default();
    o.statement_cache_size = 8;
    resonance_db *db = NULL;
    OK(resonance_db_open(tpath("sql.db"), &o, &db, &t_err));
    OK(resonance_execute_batch(db,
                               "CREATE TABLE t(id INTEGER PRIMARY KEY, v);"
                               "CREATE TABLE n(id INTEGER PRIMARY KEY, name TEXT)",
                               &t_err));
    static const uint8_t blob[] = {0, 1, 255};
    resonance_value vals[] = {
        {.kind = RESONANCE_VALUE_NULL},
        {.kind = RESONANCE_VALUE_INTEGER, .int64 = INT64_MIN},
        {.kind = RESONANCE_VALUE_INTEGER, .int64 = INT64_MAX},
        {.kind = RESONANCE_VALUE_REAL, .real = -0.0},
        {.kind = RESONANCE_VALUE_REAL, .real = 1.5},
        {.kind = RESONANCE_VALUE_TEXT, .text = "", .len = 0},
        {.kind = RESONANCE_VALUE_TEXT, .text = "a\0b \xc3\xa9", .len = 6},
        {.kind = RESONANCE_VALUE_BLOB, .blob = blob, .len = 3},
        {.kind = RESONANCE_VALUE_BLOB, .blob = NULL, .len = 0},
    };
    size_t nv = sizeof vals / sizeof vals[0];
    resonance_execute_result r = {0};
    for (size_t i = 0; i < nv; i++) {
        OK(resonance_execute(db, "INSERT INTO t(v) VALUES (?)", &vals[i], 1, &r, &t_err));
        CHECK(r.changes == 1 && r.last_insert_rowid == (int64_t)i + 1);
    }
    resonance_rows *rows = NULL;
    OK(resonance_query(db, "SELECT v, typeof(v) AS ty FROM t ORDER BY id", NULL, 0, &rows, &t_err));
    CHECK(rows && resonance_rows_column_count(rows) == 2);
    CHECK(strcmp(resonance_rows_column_name(rows, 0), "v") == 0);
    CHECK(strcmp(resonance_rows_column_name(rows, 1), "ty") == 0);
    CHECK(resonance_rows_column_name(rows, 2) == NULL);
    CHECK(resonance_rows_column_type(rows, 0) == RESONANCE_VALUE_NULL); /* before the first row */
    size_t len = 99;
    for (size_t i = 0; i < nv; i++) {
        CHECK(resonance_rows_next(rows));
        uint32_t ty = resonance_rows_column_type(rows, 0);
        CHECK(ty == (vals[i].kind == RESONANCE_VALUE_BLOB && vals[i].len == 0 ? RESONANCE_VALUE_BLOB : vals[i].kind));
        switch (vals[i].kind) {
        case RESONANCE_VALUE_INTEGER:
            CHECK(resonance_rows_int64(rows, 0) == vals[i].int64);
            CHECK(resonance_rows_double(rows, 0) == (double)vals[i].int64);
            break;
        case RESONANCE_VALUE_REAL:
            CHECK(resonance_rows_double(rows, 0) == vals[i].real);
            CHECK(signbit(resonance_rows_double(rows, 0)) == signbit(vals[i].real));
            CHECK(resonance_rows_int64(rows, 0) == (int64_t)vals[i].real);
            break;
        case RESONANCE_VALUE_TEXT: {
            const char *t = resonance_rows_text(rows, 0, &len);
            CHECK(t && len == vals[i].len && memcmp(t, vals[i].text, len) == 0 && t[len] == '\0');
            CHECK(resonance_rows_blob(rows, 0, &len) == NULL && len == 0);
            break;
        }
        case RESONANCE_VALUE_BLOB: {
            const uint8_t *b = resonance_rows_blob(rows, 0, &len);
            CHECK(len == vals[i].len && (len == 0 ? b == NULL : memcmp(b, blob, len) == 0));
            CHECK(resonance_rows_text(rows, 0, NULL) == NULL);
            break;
        }
        default:
            CHECK(resonance_rows_text(rows, 0, &len) == NULL && len == 0);
            CHECK(resonance_rows_int64(rows, 0) == 0 && resonance_rows_double(rows, 0) == 0.0);
        }
        CHECK(resonance_rows_column_type(rows, 1) == RESONANCE_VALUE_TEXT);
        CHECK(resonance_rows_column_type(rows, 7) == RESONANCE_VALUE_NULL);
    }
    CHECK(!resonance_rows_next(rows));
    CHECK(!resonance_rows_next(rows));
    CHECK(resonance_rows_column_type(rows, 0) == RESONANCE_VALUE_NULL);
    resonance_rows_free(rows);
    resonance_rows_free(rows); /* a second free is a no-op */
    resonance_rows_free(NULL);
    /* a NULL or freed cursor reads as empty, never a crash */
    CHECK(!resonance_rows_next(rows) && resonance_rows_column_count(rows) == 0);
    CHECK(!resonance_rows_next(NULL) && resonance_rows_column_count(NULL) == 0);
    CHECK(resonance_rows_column_name(NULL, 0) == NULL && resonance_rows_column_type(NULL, 0) == RESONANCE_VALUE_NULL);
    CHECK(resonance_rows_int64(NULL, 0) == 0 && resonance_rows_double(NULL, 0) == 0.0);
    CHECK(resonance_rows_text(NULL, 0, &len) == NULL && len == 0 && resonance_rows_blob(NULL, 0, NULL) == NULL);

    /* named parameters, with and without the prefix */
    resonance_value named[] = {
        {.kind = RESONANCE_VALUE_INTEGER, .int64 = 7, .name = ":id"},
        {.kind = RESONANCE_VALUE_TEXT, .text = "seven", .len = 5, .name = "name"},
    };
    OK(resonance_execute(db, "INSERT INTO n(id, name) VALUES (:id, @name)", named, 2, NULL, &t_err));
    OK(resonance_query(db, "SELECT name FROM n WHERE id = $id", named, 1, &rows, &t_err));
    CHECK(resonance_rows_next(rows));
    CHECK(strcmp(resonance_rows_text(rows, 0, NULL), "seven") == 0);
    CHECK(!resonance_rows_next(rows));
    resonance_rows_free(rows);
    OK(resonance_query(db, "SELECT * FROM n WHERE id = 99", NULL, 0, &rows, &t_err));
    CHECK(rows && !resonance_rows_next(rows) && resonance_rows_column_count(rows) == 2);
    resonance_rows_free(rows);

    /* refusals: invalid_argument, nothing changed */
    const char *refused[] = {"DROP TABLE nodes", "INSERT INTO nodes(id) VALUES ('x')",
                             "ATTACH DATABASE ':memory:' AS m", "PRAGMA journal_mode=DELETE", "BEGIN",
                             "SELECT 1; SELECT 2"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        EXPECT_STATUS(resonance_execute(db, refused[i], NULL, 0, NULL, &t_err), RESONANCE_INVALID_ARGUMENT);
        rows = (resonance_rows *)0x1;
        EXPECT_STATUS(resonance_query(db, refused[i], NULL, 0, &rows, &t_err), RESONANCE_INVALID_ARGUMENT);
        CHECK(rows == NULL);
    }
    EXPECT_STATUS(resonance_execute_batch(db, "INSERT INTO n(name) VALUES ('x'); DROP TABLE nodes", &t_err),
                  RESONANCE_INVALID_ARGUMENT);
    OK(resonance_query(db, "SELECT count(*) FROM n", NULL, 0, &rows, &t_err));
    CHECK(resonance_rows_next(rows) && resonance_rows_int64(rows, 0) == 1);
    resonance_rows_free(rows);
    /* a constraint, a bad kind, a mix of named and positional values */
    EXPECT_STATUS(resonance_execute(db, "INSERT INTO n(id) VALUES (:id)", named, 1, NULL, &t_err), RESONANCE_CONSTRAINT);
    resonance_value bad = {.kind = 9};
    EXPECT_STATUS(resonance_execute(db, "SELECT ?", &bad, 1, NULL, &t_err), RESONANCE_INVALID_ARGUMENT);
    resonance_value mix[] = {{.kind = RESONANCE_VALUE_NULL}, {.kind = RESONANCE_VALUE_NULL, .name = "a"}};
    EXPECT_STATUS(resonance_execute(db, "SELECT ?, :a", mix, 2, NULL, &t_err), RESONANCE_INVALID_ARGUMENT);
    /* inside an explicit transaction, rolled back with it */
    OK(resonance_tx_begin(db, &t_err));
    OK(resonance_execute(db, "DELETE FROM n", NULL, 0, &r, &t_err));
    CHECK(r.changes == 1);
    OK(resonance_tx_rollback(db, &t_err));
    OK(resonance_query(db, "SELECT count(*) FROM n", NULL, 0, &rows, &t_err));
    CHECK(resonance_rows_next(rows) && resonance_rows_int64(rows, 0) == 1);
    resonance_rows_free(rows);
    OK(resonance_db_close(db, &t_err));
    EXPECT_STATUS(resonance_execute(db, "SELECT 1", NULL, 0, NULL, &t_err), RESONANCE_CLOSED);
    resonance_db_free(db);

    /* read-only: reads work, writes are readonly */
    resonance_open_options ro = resonance_open_options_default();
    ro.read_only = true;
    OK(resonance_db_open(tpath("sql.db"), &ro, &db, &t_err));
    EXPECT_STATUS(resonance_execute(db, "INSERT INTO n(name) VALUES ('y')", NULL, 0, NULL, &t_err), RESONANCE_READONLY);
    OK(resonance_query(db, "SELECT count(*) FROM n", NULL, 0, &rows, &t_err));
    CHECK(resonance_rows_next(rows) && resonance_rows_int64(rows, 0) == 1);
    resonance_rows_free(rows);
    resonance_db_free(db);

    /* allow_engine_writes, and a first-version struct (size 20) that keeps it off */
    resonance_open_options aw = resonance_open_options_default();
    aw.allow_engine_writes = true;
    OK(resonance_db_open(tpath("sql.db"), &aw, &db, &t_err));
    resonance_node_input nd = {.id = "a", .title = "A"};
    OK(resonance_node_upsert(db, &nd, &t_err));
    OK(resonance_execute(db, "UPDATE nodes SET title = 'raw' WHERE id = 'a'", NULL, 0, &r, &t_err));
    CHECK(r.changes == 1);
    resonance_node *node = NULL;
    OK(resonance_node_get(db, "a", false, &node, &t_err));
    CHECK(node && node->title && strcmp(node->title, "raw") == 0);
    resonance_node_free(node);
    resonance_db_free(db);
    resonance_open_options v1 = resonance_open_options_default();
    v1.allow_engine_writes = true; /* past the first version's size: not read */
    v1.size = 20;
    OK(resonance_db_open(tpath("sql.db"), &v1, &db, &t_err));
    EXPECT_STATUS(resonance_execute(db, "UPDATE nodes SET title = 'x'", NULL, 0, NULL, &t_err), RESONANCE_INVALID_ARGUMENT);
    resonance_db_free(db);
}

/* resonance_interrupt stops a query that never ends; the handle works after it. */
static resonance_db *sql_db;
static int sql_done = 0;
static resonance_status sql_status;
static void *endless_query(void *arg) {
    (void)arg;
    resonance_rows *rows = (resonance_rows *)0x1;
    sql_status = resonance_query(sql_db,
                                 "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
                                 "SELECT count(*) FROM c",
                                 NULL, 0, &rows, NULL);
    if (rows != NULL) sql_status = RESONANCE_INTERNAL; /* must be NULL on failure */
    __atomic_store_n(&sql_done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}
TEST(application_sql_interrupt) {
    OK(resonance_db_open(tpath("sql_interrupt.db"), NULL, &sql_db, &t_err));
    pthread_t th;
    CHECK(pthread_create(&th, NULL, endless_query, NULL) == 0);
    usleep(200 * 1000);
    while (!__atomic_load_n(&sql_done, __ATOMIC_SEQ_CST)) {
        OK(resonance_interrupt(sql_db, &t_err));
        usleep(20 * 1000);
    }
    pthread_join(th, NULL);
    CHECK(sql_status == RESONANCE_INTERRUPTED);
    resonance_rows *rows = NULL;
    OK(resonance_query(sql_db, "SELECT 1 + 1", NULL, 0, &rows, &t_err));
    CHECK(resonance_rows_next(rows) && resonance_rows_int64(rows, 0) == 2);
    resonance_rows_free(rows);
    resonance_db_free(sql_db);
}

/* Writes `text` to `name` inside the directory `dir` (a path from tpath). */
static void write_step(const char *dir, const char *name, const char *text) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f) return;
    fputs(text, f);
    fclose(f);
}

static int64_t count_of(resonance_db *db, const char *sql) {
    resonance_rows *rows = NULL;
    int64_t n = -1;
    OK(resonance_query(db, sql, NULL, 0, &rows, &t_err));
    if (resonance_rows_next(rows)) n = resonance_rows_int64(rows, 0);
    resonance_rows_free(rows);
    return n;
}

/* Application migrations from a directory: the options' defaults, a dry run, the report (steps,
 * directions, SQL, destructive flags, backup), the status, the destructive gate (a declared step and
 * a down step), drift (schema_too_new) and accepting it, and an unreadable directory. */
TEST(application_migrations) {
    resonance_app_migrate_options d = resonance_app_migrate_options_default();
    CHECK(d.size == sizeof d && !d.has_to && !d.dry_run && !d.allow_destructive && !d.no_backup &&
          !d.accept_changed);
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", tpath("app_migrations"));
    CHECK(mkdir(dir, 0700) == 0);
    write_step(dir, "0001_notes.sql", "CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT);\n-- down\nDROP TABLE notes;\n");
    write_step(dir, "0002_tags.sql", "CREATE TABLE tags(note INTEGER, tag TEXT);\n-- down\nDROP TABLE tags;\n");
    write_step(dir, "notes.txt", "not a step");
    resonance_db *db = open_db("app.db");

    resonance_app_migration_status_report *st = NULL;
    OK(resonance_app_migration_status(db, "app", dir, &st, &t_err));
    CHECK(st && streq(st->namespace_name, "app") && st->applied_len == 0 && st->applied == NULL);
    CHECK(st && st->pending_len == 2 && st->pending[0].version == 1 && streq(st->pending[0].name, "notes"));
    CHECK(st && st->pending_len == 2 && st->pending[1].version == 2 && streq(st->pending[1].name, "tags"));
    resonance_app_migration_status_free(st);

    /* a dry run changes nothing */
    resonance_app_migrate_options o = resonance_app_migrate_options_default();
    o.dry_run = true;
    resonance_app_migration_report *rep = NULL;
    OK(resonance_migrate_app(db, "app", dir, &o, &rep, &t_err));
    CHECK(rep && rep->dry_run && rep->steps_len == 2 && rep->backup == NULL && streq(rep->namespace_name, "app"));
    CHECK(rep && rep->steps_len == 2 && rep->steps[0].direction == RESONANCE_APP_DIRECTION_UP &&
          strstr(rep->steps[0].sql, "CREATE TABLE notes") != NULL && !rep->steps[0].destructive);
    resonance_app_migration_report_free(rep);
    CHECK(count_of(db, "SELECT count(*) FROM sqlite_master WHERE name IN ('notes', 'tags')") == 0);

    /* applied, with a backup by default (NULL options: the defaults) */
    rep = NULL;
    OK(resonance_migrate_app(db, "app", dir, NULL, &rep, &t_err));
    CHECK(rep && !rep->dry_run && rep->steps_len == 2 && rep->steps[1].version == 2 && streq(rep->steps[1].name, "tags"));
    CHECK(rep && rep->backup != NULL && access(rep->backup, F_OK) == 0);
    CHECK(rep && rep->accepted_changes_len == 0 && rep->accepted_changes == NULL);
    resonance_app_migration_report_free(rep);
    resonance_app_migration_report_free(NULL); /* NULL is a no-op */
    CHECK(count_of(db, "SELECT count(*) FROM sqlite_master WHERE name IN ('notes', 'tags')") == 2);
    st = NULL;
    OK(resonance_app_migration_status(db, "app", dir, &st, &t_err));
    CHECK(st && st->applied_len == 2 && st->pending_len == 0 && st->pending == NULL);
    CHECK(st && st->applied_len == 2 && strlen(st->applied[0].checksum) == 64 && st->applied[0].applied_at &&
          streq(st->applied[1].name, "tags"));
    resonance_app_migration_status_free(st);
    resonance_app_migration_status_free(NULL);

    /* nothing left: an empty report; report_out may be NULL */
    OK(resonance_migrate_app(db, "app", dir, NULL, NULL, &t_err));

    /* down to version 1: a down step is destructive */
    o = resonance_app_migrate_options_default();
    o.has_to = true;
    o.to = 1;
    o.no_backup = true;
    rep = NULL;
    EXPECT_STATUS(resonance_migrate_app(db, "app", dir, &o, &rep, &t_err), RESONANCE_DESTRUCTIVE_REFUSED);
    CHECK(rep == NULL);
    o.allow_destructive = true;
    OK(resonance_migrate_app(db, "app", dir, &o, &rep, &t_err));
    CHECK(rep && rep->steps_len == 1 && rep->steps[0].version == 2 &&
          rep->steps[0].direction == RESONANCE_APP_DIRECTION_DOWN && rep->steps[0].destructive && rep->backup == NULL);
    CHECK(rep && rep->steps_len == 1 && streq(rep->steps[0].sql, "DROP TABLE tags;\n"));
    resonance_app_migration_report_free(rep);
    CHECK(count_of(db, "SELECT count(*) FROM sqlite_master WHERE name = 'tags'") == 0);

    /* a declared destructive step is refused unless allowed */
    write_step(dir, "0003_drop_notes.sql", "-- resonance:destructive\nDROP TABLE notes;\n");
    o = resonance_app_migrate_options_default();
    o.no_backup = true;
    EXPECT_STATUS(resonance_migrate_app(db, "app", dir, &o, NULL, &t_err), RESONANCE_DESTRUCTIVE_REFUSED);
    CHECK(count_of(db, "SELECT count(*) FROM sqlite_master WHERE name IN ('notes', 'tags')") == 1);
    o.allow_destructive = true;
    rep = NULL;
    OK(resonance_migrate_app(db, "app", dir, &o, &rep, &t_err));
    CHECK(rep && rep->steps_len == 2 && rep->steps[1].version == 3 && rep->steps[1].destructive);
    resonance_app_migration_report_free(rep);

    /* drift: a changed applied step is schema_too_new until accepted */
    write_step(dir, "0001_notes.sql", "CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT, more TEXT);\n");
    o = resonance_app_migrate_options_default();
    o.no_backup = true;
    EXPECT_STATUS(resonance_migrate_app(db, "app", dir, &o, NULL, &t_err), RESONANCE_SCHEMA_TOO_NEW);
    o.accept_changed = true;
    rep = NULL;
    OK(resonance_migrate_app(db, "app", dir, &o, &rep, &t_err));
    CHECK(rep && rep->steps_len == 0 && rep->accepted_changes_len == 1 && rep->accepted_changes[0] == 1);
    resonance_app_migration_report_free(rep);

    /* the engine's tables stay out of reach: the step fails and nothing of it is kept */
    char evil[PATH_MAX];
    snprintf(evil, sizeof evil, "%s", tpath("app_evil"));
    CHECK(mkdir(evil, 0700) == 0);
    write_step(evil, "0001_evil.sql", "CREATE TABLE ok(x); DROP TABLE nodes;\n");
    EXPECT_STATUS(resonance_migrate_app(db, "evil", evil, &o, NULL, &t_err), RESONANCE_MIGRATION_FAILED);
    CHECK(count_of(db, "SELECT count(*) FROM sqlite_master WHERE name = 'ok'") == 0);

    /* a directory that cannot be read; an options struct too small */
    EXPECT_STATUS(resonance_migrate_app(db, "app", tpath("no_such_dir"), NULL, NULL, &t_err), RESONANCE_IO);
    st = (resonance_app_migration_status_report *)0x1;
    EXPECT_STATUS(resonance_app_migration_status(db, "app", tpath("no_such_dir"), &st, &t_err), RESONANCE_IO);
    CHECK(st == NULL);
    o.size = 4;
    EXPECT_STATUS(resonance_migrate_app(db, "app", dir, &o, NULL, &t_err), RESONANCE_INVALID_ARGUMENT);
    /* not inside an explicit transaction */
    OK(resonance_tx_begin(db, &t_err));
    EXPECT_STATUS(resonance_migrate_app(db, "app", dir, NULL, NULL, &t_err), RESONANCE_INVALID_ARGUMENT);
    OK(resonance_tx_rollback(db, &t_err));
    OK(resonance_db_close(db, &t_err));
    resonance_db_free(db);
}

TEST(stats_history) {
    resonance_db *db = open_db("stats.db");
    /* Nothing recorded: the live counts are judged. */
    resonance_stats_validation *v = NULL;
    OK(resonance_db_validate_stats(db, NULL, &v, &t_err));
    CHECK(v && !v->passed && v->errors_len == 1 && streq(v->errors[0].code, "empty_database"));
    CHECK(v && v->has_snapshot && v->snapshot.id == 0 && !v->has_previous);
    resonance_stats_validation_free(v);
    resonance_node_input n = {.id = "a"};
    OK(resonance_node_upsert(db, &n, &t_err));
    resonance_record_stats_options o = resonance_record_stats_options_default();
    CHECK(o.keep == 100);
    o.label = "first";
    o.meta_json = "{\"run\": 1}";
    resonance_stats_history *one = NULL;
    OK(resonance_db_record_stats(db, &o, &one, &t_err));
    CHECK(one && one->len == 1 && one->items[0].nodes == 1 && streq(one->items[0].label, "first"));
    CHECK(one && streq(one->items[0].meta, "{\"run\": 1}") && one->items[0].recorded_at[0] != 0);
    resonance_stats_history_free(one);
    OK(resonance_db_record_stats(db, NULL, NULL, &t_err));
    resonance_validate_stats_options vo = resonance_validate_stats_options_default();
    CHECK(vo.max_shrink_ratio == 0.1 && vo.warn_no_growth);
    OK(resonance_db_validate_stats(db, &vo, &v, &t_err));
    CHECK(v && v->passed && v->has_previous && v->warnings_len >= 1);
    bool no_growth = false;
    for (size_t i = 0; v && i < v->warnings_len; i++) no_growth |= streq(v->warnings[i].code, "no_growth");
    CHECK(no_growth);
    resonance_stats_validation_free(v);
    /* Bad input: typed, nothing written. */
    o.meta_json = "{not json";
    EXPECT_STATUS(resonance_db_record_stats(db, &o, NULL, &t_err), RESONANCE_INVALID_ARGUMENT);
    o.meta_json = NULL;
    o.keep = 0;
    EXPECT_STATUS(resonance_db_record_stats(db, &o, NULL, &t_err), RESONANCE_INVALID_ARGUMENT);
    vo.min_embedding_coverage = 2.0;
    v = NULL;
    EXPECT_STATUS(resonance_db_validate_stats(db, &vo, &v, &t_err), RESONANCE_INVALID_ARGUMENT);
    CHECK(v == NULL);
    resonance_stats_history *h = NULL;
    OK(resonance_db_stats_history(db, 10, &h, &t_err));
    CHECK(h && h->len == 2 && streq(h->items[1].label, "first") && h->items[0].label == NULL);
    resonance_stats_history_free(h);
    resonance_stats_history_free(NULL);
    resonance_stats_validation_free(NULL);
    resonance_health *hr = NULL;
    OK(resonance_db_health(db, &hr, &t_err));
    CHECK(hr && hr->stats_warnings.len >= 1 && !hr->external_replicator && !hr->litestream_seen);
    resonance_health_free(hr);
    resonance_db_free(db);
    /* A handle declaring an external replicator refuses a truncate checkpoint. */
    resonance_open_options oo = resonance_open_options_default();
    oo.external_replicator = true;
    OK(resonance_db_open(tpath("stats.db"), &oo, &db, &t_err));
    resonance_checkpoint cp;
    EXPECT_STATUS(resonance_db_checkpoint(db, "truncate", &cp, &t_err), RESONANCE_INVALID_ARGUMENT);
    OK(resonance_db_checkpoint(db, "passive", &cp, &t_err));
    resonance_db_free(db);
}

int main(void) {
    t_setup();
    RUN(version_and_status_names);
    RUN(id_generate);
    RUN(open_options_and_warnings);
    RUN(zero_default_options_can_grow);
    RUN(nodes);
    RUN(edges_and_history);
    RUN(vectors_and_search);
    RUN(graph_analytics);
    RUN(maintenance);
    RUN(transactions);
    RUN(error_busy);
    RUN(error_readonly);
    RUN(error_not_a_database_and_corrupt);
    RUN(error_schema_unknown_too_new_migration_failed);
    RUN(error_constraint_and_sqlite);
    RUN(error_io_closed_internal);
    RUN(threads_share_a_handle);
    RUN(interrupt_from_another_thread);
    RUN(application_sql);
    RUN(application_sql_interrupt);
    RUN(application_migrations);
    RUN(stats_history);
    DONE();
}
