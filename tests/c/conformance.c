/*
 * The C conformance runner: every case of tests/conformance/cases/ through include/resonance.h
 * (format and op table: tests/conformance/README.md). Prints one line per case and, last,
 * "N passed, M failed". Exit status 0 only when every case passed; a case the runner cannot run
 * (an unknown op) is a failure.
 *
 *   conformance [CASES_DIR]      (default tests/conformance/cases)
 *   RESONANCE_CLI=target/debug/resonance  runs `raw_sql` steps (`resonance sql PATH SQL`)
 *
 * `migrate_app` and `app_migration_status` take their steps from a directory in C
 * (resonance_migrate_app, resonance_app_migration_status): the runner writes a case's steps as
 * NNNN_name.sql files into a fresh folder of the case's directory first (see steps_dir).
 */
#define _XOPEN_SOURCE 700
#define _DEFAULT_SOURCE
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "json.h"
#include "resonance.h"

typedef struct {
    resonance_db *db;
    char dir[PATH_MAX];
    char cli[PATH_MAX];
    /* malloc'd scratch of the current step, freed after it */
    void *scratch[4096];
    size_t nscratch;
} runner;

static void *keep(runner *r, void *p) {
    if (r->nscratch < sizeof r->scratch / sizeof r->scratch[0]) r->scratch[r->nscratch++] = p;
    return p;
}

static void free_scratch(runner *r) {
    for (size_t i = 0; i < r->nscratch; i++) free(r->scratch[i]);
    r->nscratch = 0;
}

/* ---- arguments ---- */

static const jv *arg(const jv *args, const char *key) {
    const jv *v = json_get(args, key);
    return v && v->type != JSON_NULL ? v : NULL;
}
static const char *astr(const jv *args, const char *key) {
    const jv *v = arg(args, key);
    return v && v->type == JSON_STRING ? v->str : NULL;
}
static bool has_num(const jv *args, const char *key) {
    const jv *v = arg(args, key);
    return v && v->type == JSON_NUMBER;
}
static double anum(const jv *args, const char *key, double def) {
    const jv *v = arg(args, key);
    return v && v->type == JSON_NUMBER ? v->number : def;
}
/* The `direction` argument: its RESONANCE_DIRECTION_* value, `def` when absent, and a value the library
 * refuses (RESONANCE_INVALID_ARGUMENT) for an unknown name. */
static uint32_t adirection(const jv *args, uint32_t def) {
    const char *d = astr(args, "direction");
    if (!d) return def;
    if (!strcmp(d, "outgoing")) return RESONANCE_DIRECTION_OUTGOING;
    if (!strcmp(d, "incoming")) return RESONANCE_DIRECTION_INCOMING;
    if (!strcmp(d, "both")) return RESONANCE_DIRECTION_BOTH;
    return UINT32_MAX;
}
static bool abool(const jv *args, const char *key, bool def) {
    const jv *v = arg(args, key);
    return v && v->type == JSON_BOOL ? v->boolean : def;
}
/* A JSON list of numbers as floats (scratch); NULL with *n = 0 for an absent list. */
static float *floats_of(runner *r, const jv *list, size_t *n) {
    *n = 0;
    if (!list || list->type != JSON_ARRAY) return NULL;
    float *f = keep(r, malloc((list->len ? list->len : 1) * sizeof(float)));
    for (size_t i = 0; i < list->len; i++)
        f[i] = list->items[i]->type == JSON_NUMBER ? (float)list->items[i]->number : NAN;
    *n = list->len;
    return f;
}
/* `meta`: a JSON string is raw JSON text; another value is serialised. */
static const char *meta_of(runner *r, const jv *args) {
    const jv *m = arg(args, "meta");
    if (!m) return NULL;
    if (m->type == JSON_STRING) return m->str;
    return keep(r, json_dump(m));
}

static resonance_node_input node_input(runner *r, const jv *a) {
    resonance_node_input n;
    memset(&n, 0, sizeof n);
    n.id = astr(a, "id");
    n.node_type = astr(a, "type");
    n.title = astr(a, "title");
    n.domain = astr(a, "domain");
    n.layer = astr(a, "layer");
    n.hash = astr(a, "hash");
    n.summary = astr(a, "summary");
    n.meta = meta_of(r, a);
    n.date = astr(a, "date");
    size_t len = 0;
    const jv *e = arg(a, "embedding");
    if (e) {
        n.embedding = floats_of(r, e, &len);
        if (!n.embedding) n.embedding = keep(r, malloc(sizeof(float))); /* non-list: an empty vector */
    }
    n.embedding_len = len;
    return n;
}

/* `update_node`: a key present is given (JSON null clears it), an absent key is kept. */
static resonance_node_fields node_fields(runner *r, const jv *a) {
    resonance_node_fields u;
    memset(&u, 0, sizeof u);
#define FIELD(key, name)                                                                       \
    if (json_get(a, key)) {                                                                    \
        u.has_##name = true;                                                                   \
        u.name = astr(a, key);                                                                 \
    }
    FIELD("type", node_type)
    FIELD("title", title)
    FIELD("domain", domain)
    FIELD("layer", layer)
    FIELD("hash", hash)
    FIELD("summary", summary)
    FIELD("date", date)
#undef FIELD
    if (json_get(a, "meta")) {
        u.has_meta = true;
        u.meta = meta_of(r, a); /* NULL for JSON null */
    }
    const jv *e = json_get(a, "embedding");
    if (e) {
        u.has_embedding = true;
        size_t len = 0;
        if (e->type != JSON_NULL) {
            u.embedding = floats_of(r, e, &len);
            if (!u.embedding) u.embedding = keep(r, malloc(sizeof(float)));
        }
        u.embedding_len = len;
    }
    return u;
}

static resonance_edge_input edge_input(const jv *a) {
    resonance_edge_input e;
    memset(&e, 0, sizeof e);
    e.source = astr(a, "source");
    e.target = astr(a, "target");
    e.edge_type = astr(a, "type");
    e.has_confidence = has_num(a, "confidence");
    e.confidence = anum(a, "confidence", 1.0);
    e.has_veracity = has_num(a, "veracity");
    e.veracity = anum(a, "veracity", 1.0);
    e.context_source = astr(a, "context_source");
    return e;
}

static resonance_search_filter search_filter(const jv *a) {
    resonance_search_filter f;
    memset(&f, 0, sizeof f);
    f.has_min_score = has_num(a, "min_score");
    f.min_score = (float)anum(a, "min_score", 0.0);
    f.domain = astr(a, "domain");
    f.node_type = astr(a, "type");
    return f;
}

/* ---- results as JSON ---- */

static jv *parsed_text(const char *text) {
    if (!text) return json_null();
    jv *v = json_parse(text, NULL, NULL);
    return v ? v : json_str(text);
}

static jv *node_value(const resonance_node *n) {
    jv *o = json_obj();
    json_push(o, "id", json_str(n->id));
    json_push(o, "type", json_str(n->node_type));
    json_push(o, "title", json_str(n->title));
    json_push(o, "domain", json_str(n->domain));
    json_push(o, "layer", json_str(n->layer));
    json_push(o, "hash", json_str(n->hash));
    json_push(o, "summary", json_str(n->summary));
    json_push(o, "meta", parsed_text(n->meta));
    json_push(o, "date", json_str(n->date));
    if (n->embedding) {
        jv *e = json_arr();
        for (size_t i = 0; i < n->embedding_len; i++) json_push(e, NULL, json_num(n->embedding[i]));
        json_push(o, "embedding", e);
    }
    return o;
}

static jv *strings_value(const resonance_strings *s) {
    jv *a = json_arr();
    for (size_t i = 0; s && i < s->len; i++) json_push(a, NULL, json_str(s->items[i]));
    return a;
}

static jv *snapshot_value(const resonance_stats_snapshot *s) {
    jv *o = json_obj();
    json_push(o, "nodes", json_num((double)s->nodes));
    json_push(o, "edges", json_num((double)s->edges));
    json_push(o, "vectors", json_num((double)s->vectors));
    json_push(o, "dangling_edges", json_num((double)s->dangling_edges));
    json_push(o, "dimension", s->dimension ? json_num((double)s->dimension) : json_null());
    json_push(o, "history", json_num((double)s->history));
    json_push(o, "label", json_str(s->label));
    json_push(o, "meta", json_str(s->meta));
    return o;
}

static jv *finding_codes(const resonance_stats_finding *f, size_t n) {
    jv *a = json_arr();
    for (size_t i = 0; i < n; i++) json_push(a, NULL, json_str(f[i].code));
    return a;
}

static jv *hits_value(const resonance_hits *h) {
    jv *a = json_arr();
    for (size_t i = 0; i < h->len; i++) {
        jv *o = json_obj();
        json_push(o, "id", json_str(h->items[i].id));
        json_push(o, "score", json_num(h->items[i].score));
        json_push(a, NULL, o);
    }
    return a;
}

static jv *rankings_value(const resonance_rankings *r) {
    jv *o = json_obj();
    for (size_t i = 0; i < r->len; i++) json_push(o, r->items[i].id, json_num(r->items[i].score));
    return o;
}

/* ---- running one op ---- */

static int run_cli_sql(runner *r, const char *path, const char *sql, char **err) {
    fflush(stdout); /* the child must not inherit (and print again) buffered output */
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        *err = strdup("fork failed");
        return -1;
    }
    if (pid == 0) {
        execl(r->cli, r->cli, "sql", "--raw", "--write", "--create", "--script", path, sql, (char *)NULL);
        fprintf(stderr, "cannot run %s: %s\n", r->cli, strerror(errno));
        _exit(127);
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        char msg[PATH_MAX + 64];
        snprintf(msg, sizeof msg, "`%s sql` failed (exit %d)", r->cli, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
        *err = strdup(msg);
        return -1;
    }
    return 0;
}

static char *join(runner *r, const char *rel) {
    char *p = keep(r, malloc(strlen(r->dir) + strlen(rel) + 2));
    sprintf(p, "%s/%s", r->dir, rel);
    return p;
}

/* ---- application SQL (README, "Application SQL") ---- */

/* One SQL value of a case as a resonance_value (text and blob bytes in scratch): null, an integer
 * (a JSON number without fraction or exponent), a real, a string, or {"blob": "<hex>"}. False for a
 * value the suite does not define. */
static bool sql_value_of(runner *r, const jv *v, resonance_value *out) {
    memset(out, 0, sizeof *out);
    switch (v->type) {
        case JSON_NULL: out->kind = RESONANCE_VALUE_NULL; return true;
        case JSON_BOOL: out->kind = RESONANCE_VALUE_INTEGER; out->int64 = v->boolean; return true;
        case JSON_NUMBER:
            if (v->is_int) {
                out->kind = RESONANCE_VALUE_INTEGER;
                out->int64 = v->integer;
            } else {
                out->kind = RESONANCE_VALUE_REAL;
                out->real = v->number;
            }
            return true;
        case JSON_STRING:
            out->kind = RESONANCE_VALUE_TEXT;
            out->text = v->str;
            out->len = v->len;
            return true;
        case JSON_OBJECT: {
            const jv *hex = json_get(v, "blob");
            if (!hex || hex->type != JSON_STRING || hex->len % 2) return false;
            unsigned char *b = keep(r, malloc(hex->len / 2 + 1));
            for (size_t i = 0; i < hex->len / 2; i++) {
                unsigned x;
                if (sscanf(hex->str + 2 * i, "%2x", &x) != 1) return false;
                b[i] = (unsigned char)x;
            }
            out->kind = RESONANCE_VALUE_BLOB;
            out->blob = b;
            out->len = hex->len / 2;
            return true;
        }
        default: return false;
    }
}

/* The `params` argument: a list (positional), an object (named: its keys) or absent (none). False
 * for a value the suite does not define. */
static bool sql_params_of(runner *r, const jv *a, resonance_value **out, size_t *n) {
    const jv *p = arg(a, "params");
    *out = NULL;
    *n = 0;
    if (!p) return true;
    if (p->type != JSON_ARRAY && p->type != JSON_OBJECT) return false;
    resonance_value *v = keep(r, calloc(p->len ? p->len : 1, sizeof *v));
    for (size_t i = 0; i < p->len; i++) {
        if (!sql_value_of(r, p->items[i], &v[i])) return false;
        v[i].name = p->type == JSON_OBJECT ? p->keys[i] : NULL;
    }
    *out = v;
    *n = p->len;
    return true;
}

/* Column `i` of the cursor's current row as the cases expect it (blobs as {"blob": "<hex>"}). */
static jv *sql_cell(resonance_rows *rows, size_t i) {
    size_t len = 0;
    switch (resonance_rows_column_type(rows, i)) {
        case RESONANCE_VALUE_INTEGER: return json_num((double)resonance_rows_int64(rows, i));
        case RESONANCE_VALUE_REAL: return json_num(resonance_rows_double(rows, i));
        case RESONANCE_VALUE_TEXT: {
            const char *t = resonance_rows_text(rows, i, &len);
            return json_strn(t ? t : "", len);
        }
        case RESONANCE_VALUE_BLOB: {
            const uint8_t *b = resonance_rows_blob(rows, i, &len);
            char *hex = malloc(2 * len + 1);
            for (size_t k = 0; k < len; k++) sprintf(hex + 2 * k, "%02x", b[k]);
            hex[2 * len] = 0;
            jv *o = json_obj();
            json_push(o, "blob", json_strn(hex, 2 * len));
            free(hex);
            return o;
        }
        default: return json_null();
    }
}

static jv *sql_columns(resonance_rows *rows) {
    jv *c = json_arr();
    for (size_t i = 0; i < resonance_rows_column_count(rows); i++)
        json_push(c, NULL, json_str(resonance_rows_column_name(rows, i)));
    return c;
}

static jv *sql_row(resonance_rows *rows) {
    jv *v = json_arr();
    for (size_t i = 0; i < resonance_rows_column_count(rows); i++) json_push(v, NULL, sql_cell(rows, i));
    return v;
}

static int write_text_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    int ok = fputs(text, f) >= 0;
    return fclose(f) == 0 && ok ? 0 : -1;
}

/* The `steps` argument of migrate_app / app_migration_status as a directory, because the C ABI takes
 * application migrations from a directory only (resonance_migrate_app): each step becomes
 * NNNN_name.sql in a fresh folder of the case's directory, holding a `-- resonance:destructive` line
 * when it is destructive, then its `up` SQL and a newline (always, so a step's checksum does not
 * depend on whether it has a down section), then, when it has one, a `-- down` line and its `down`
 * SQL. The core reads that back (app_migrate::load_dir) as the same version, name, down and
 * destructive flag; the `up` text gains the newline, the same one every time. NULL with *why set for
 * steps the runner cannot write. */
static const char *steps_dir(runner *r, const jv *a, char **why) {
    static unsigned counter = 0;
    const jv *steps = arg(a, "steps");
    if (!steps || steps->type != JSON_ARRAY) {
        *why = strdup("runner: migrate_app without a steps list");
        return NULL;
    }
    char rel[64];
    snprintf(rel, sizeof rel, "app_steps_%u", ++counter);
    char *dir = join(r, rel);
    if (mkdir(dir, 0700) != 0) {
        *why = strdup("runner: cannot create the steps folder");
        return NULL;
    }
    for (size_t i = 0; i < steps->len; i++) {
        const jv *st = steps->items[i];
        const jv *ver = json_get(st, "version");
        const char *name = astr(st, "name");
        const char *up = astr(st, "up");
        const char *down = astr(st, "down");
        if (!ver || ver->type != JSON_NUMBER || !ver->is_int || ver->integer < 0 || !up ||
            (name && strchr(name, '/'))) {
            *why = strdup("runner: a step the C runner cannot write as a file (version, name or up)");
            return NULL;
        }
        size_t need = strlen(dir) + (name ? strlen(name) : 0) + 48;
        char *path = keep(r, malloc(need));
        snprintf(path, need, "%s/%04lld_%s.sql", dir, ver->integer, name ? name : "");
        size_t tlen = strlen(up) + (down ? strlen(down) : 0) + 64;
        char *text = keep(r, malloc(tlen));
        snprintf(text, tlen, "%s%s\n%s%s", abool(st, "destructive", false) ? "-- resonance:destructive\n" : "", up,
                 down ? "-- down\n" : "", down ? down : "");
        if (write_text_file(path, text) != 0) {
            *why = strdup("runner: cannot write a step file");
            return NULL;
        }
    }
    return dir;
}

/* Runs `op`. Returns the status; on success *out is the value (JSON null when the op returns none);
 * on failure *err is a malloc'd message. The runner's own failures use RESONANCE_INTERNAL with a
 * message starting "runner:". */
static resonance_status run_op(runner *r, const char *op, const jv *a, jv **out, char **err) {
    resonance_status s = RESONANCE_OK;
    char *e = NULL;      /* the error message */
    bool e_mine = false; /* made by the runner (free()) rather than the library */
    *out = NULL;
    resonance_db *db = r->db;

#define CALL(expr) \
    do { s = (expr); if (s != RESONANCE_OK) goto done; } while (0)

    if (!strcmp(op, "open")) {
        if (r->db) {
            CALL(resonance_db_close(r->db, &e));
            resonance_db_free(r->db);
            r->db = NULL;
        }
        const char *rel = astr(a, "path");
        resonance_open_options o;
        memset(&o, 0, sizeof o);
        o.read_only = abool(a, "read_only", false);
        o.no_migrate = !abool(a, "migrate", true);
        o.allow_destructive = abool(a, "allow_destructive", false);
        o.no_backup = !abool(a, "backup", true);
        o.busy_timeout_ms = (uint32_t)anum(a, "busy_timeout_ms", 0);
        o.size = sizeof o; /* the fourth version of the struct: allow_engine_writes and vector_memory are read */
        o.allow_engine_writes = abool(a, "allow_engine_writes", false);
        const char *memory = astr(a, "vector_memory");
        if (memory && !strcmp(memory, "codes")) o.vector_memory = RESONANCE_VECTOR_MEMORY_CODES;
        else if (memory && !strcmp(memory, "matrix")) o.vector_memory = RESONANCE_VECTOR_MEMORY_MATRIX;
        else if (memory) o.vector_memory = 99; /* refused by the library: invalid_argument */
        CALL(resonance_db_open(join(r, rel ? rel : "db.sqlite"), &o, &r->db, &e));
    } else if (!strcmp(op, "close")) {
        CALL(resonance_db_close(db, &e));
    } else if (!strcmp(op, "raw_sql")) {
        const char *rel = astr(a, "path");
        const char *sql = astr(a, "sql");
        if (!sql || run_cli_sql(r, join(r, rel ? rel : "db.sqlite"), sql, &e) != 0) {
            if (!e) e = strdup("raw_sql without sql");
            e_mine = true;
            s = RESONANCE_SQLITE;
            goto done;
        }
    } else if (!strcmp(op, "generate_id")) {
        char *id = NULL;
        CALL(resonance_id_generate(astr(a, "path"), &id, &e));
        *out = json_str(id);
        resonance_string_free(id);
    } else if (!strcmp(op, "upsert_node")) {
        resonance_node_input n = node_input(r, a);
        CALL(resonance_node_upsert(db, &n, &e));
    } else if (!strcmp(op, "upsert_nodes")) {
        const jv *list = arg(a, "nodes");
        size_t len = list && list->type == JSON_ARRAY ? list->len : 0;
        resonance_node_input *ns = keep(r, calloc(len ? len : 1, sizeof *ns));
        for (size_t i = 0; i < len; i++) ns[i] = node_input(r, list->items[i]);
        size_t written = 0;
        CALL(resonance_node_upsert_many(db, ns, len, &written, &e));
        *out = json_num((double)written);
    } else if (!strcmp(op, "get_node")) {
        resonance_node *n = NULL;
        CALL(resonance_node_get(db, astr(a, "id"), abool(a, "with_embedding", false), &n, &e));
        *out = n ? node_value(n) : json_null();
        resonance_node_free(n);
    } else if (!strcmp(op, "list_nodes")) {
        resonance_list_options o;
        memset(&o, 0, sizeof o);
        o.domain = astr(a, "domain");
        o.node_type = astr(a, "type");
        o.has_limit = has_num(a, "limit");
        o.limit = (size_t)anum(a, "limit", 0);
        o.offset = (size_t)anum(a, "offset", 0);
        o.with_embeddings = abool(a, "with_embeddings", false);
        resonance_nodes *ns = NULL;
        CALL(resonance_node_list(db, &o, &ns, &e));
        *out = json_arr();
        for (size_t i = 0; i < ns->len; i++) json_push(*out, NULL, node_value(&ns->items[i]));
        resonance_nodes_free(ns);
    } else if (!strcmp(op, "delete_node")) {
        CALL(resonance_node_delete(db, astr(a, "id"), &e));
    } else if (!strcmp(op, "add_edge")) {
        resonance_edge_input ed = edge_input(a);
        bool added = false;
        CALL(resonance_edge_add(db, &ed, &added, &e));
        *out = json_bool(added);
    } else if (!strcmp(op, "add_edges")) {
        const jv *list = arg(a, "edges");
        size_t len = list && list->type == JSON_ARRAY ? list->len : 0;
        resonance_edge_input *es = keep(r, calloc(len ? len : 1, sizeof *es));
        for (size_t i = 0; i < len; i++) es[i] = edge_input(list->items[i]);
        size_t added = 0;
        CALL(resonance_edge_add_many(db, es, len, &added, &e));
        *out = json_num((double)added);
    } else if (!strcmp(op, "upsert_edge")) {
        resonance_edge_input ed = edge_input(a);
        CALL(resonance_edge_upsert(db, &ed, &e));
    } else if (!strcmp(op, "delete_edge")) {
        CALL(resonance_edge_delete(db, astr(a, "source"), astr(a, "target"), astr(a, "type"), &e));
    } else if (!strcmp(op, "edges_from") || !strcmp(op, "edges_to")) {
        resonance_edges *es = NULL;
        if (!strcmp(op, "edges_from")) CALL(resonance_edge_list_from(db, astr(a, "id"), &es, &e));
        else CALL(resonance_edge_list_to(db, astr(a, "id"), &es, &e));
        *out = json_arr();
        for (size_t i = 0; i < es->len; i++) {
            const resonance_edge *x = &es->items[i];
            jv *o = json_obj();
            json_push(o, "source", json_str(x->source));
            json_push(o, "target", json_str(x->target));
            json_push(o, "type", json_str(x->edge_type));
            json_push(o, "confidence", x->has_confidence ? json_num(x->confidence) : json_null());
            json_push(o, "veracity", x->has_veracity ? json_num(x->veracity) : json_null());
            json_push(o, "context_source", json_str(x->context_source));
            json_push(*out, NULL, o);
        }
        resonance_edges_free(es);
    } else if (!strcmp(op, "update_node")) {
        resonance_node_fields u = node_fields(r, a);
        CALL(resonance_node_update(db, astr(a, "id"), &u, &e));
    } else if (!strcmp(op, "merge_meta")) {
        const jv *p = arg(a, "patch");
        const char *patch = !p ? "null" : p->type == JSON_STRING ? p->str : keep(r, json_dump(p));
        CALL(resonance_node_merge_meta(db, astr(a, "id"), patch, &e));
    } else if (!strcmp(op, "update_meta")) {
        CALL(resonance_node_update_meta(db, astr(a, "id"), meta_of(r, a), &e));
    } else if (!strcmp(op, "history")) {
        resonance_history *h = NULL;
        CALL(resonance_history_get(db, astr(a, "id"), &h, &e));
        *out = json_arr();
        for (size_t i = 0; i < h->len; i++) {
            const resonance_history_entry *x = &h->items[i];
            jv *o = json_obj();
            json_push(o, "entity_type", json_str(x->entity_type));
            json_push(o, "entity_id", json_str(x->entity_id));
            json_push(o, "action", json_str(x->action));
            json_push(o, "old_value", parsed_text(x->old_value));
            json_push(o, "new_value", parsed_text(x->new_value));
            json_push(*out, NULL, o);
        }
        resonance_history_free(h);
    } else if (!strcmp(op, "stats")) {
        resonance_stats st;
        CALL(resonance_db_stats(db, &st, &e));
        *out = json_obj();
        json_push(*out, "nodes", json_num((double)st.nodes));
        json_push(*out, "edges", json_num((double)st.edges));
        json_push(*out, "vectors", json_num((double)st.vectors));
        json_push(*out, "dangling_edges", json_num((double)st.dangling_edges));
        json_push(*out, "dimension", st.dimension ? json_num(st.dimension) : json_null());
        json_push(*out, "history", json_num((double)st.history));
    } else if (!strcmp(op, "record_stats")) {
        resonance_record_stats_options o = resonance_record_stats_options_default();
        o.label = astr(a, "label");
        o.meta_json = astr(a, "meta");
        if (has_num(a, "keep")) o.keep = (uint32_t)anum(a, "keep", 0);
        resonance_stats_history *one = NULL;
        CALL(resonance_db_record_stats(db, &o, &one, &e));
        *out = snapshot_value(&one->items[0]);
        resonance_stats_history_free(one);
    } else if (!strcmp(op, "stats_history")) {
        resonance_stats_history *h = NULL;
        CALL(resonance_db_stats_history(db, (size_t)anum(a, "limit", 100), &h, &e));
        *out = json_arr();
        for (size_t i = 0; i < h->len; i++) json_push(*out, NULL, snapshot_value(&h->items[i]));
        resonance_stats_history_free(h);
    } else if (!strcmp(op, "validate_stats")) {
        resonance_validate_stats_options o = resonance_validate_stats_options_default();
        o.min_edge_density = anum(a, "min_edge_density", o.min_edge_density);
        o.min_embedding_coverage = anum(a, "min_embedding_coverage", o.min_embedding_coverage);
        o.max_shrink_ratio = anum(a, "max_shrink_ratio", o.max_shrink_ratio);
        o.warn_no_growth = abool(a, "warn_no_growth", o.warn_no_growth);
        resonance_stats_validation *v = NULL;
        CALL(resonance_db_validate_stats(db, &o, &v, &e));
        *out = json_obj();
        json_push(*out, "passed", json_bool(v->passed));
        json_push(*out, "errors", finding_codes(v->errors, v->errors_len));
        json_push(*out, "warnings", finding_codes(v->warnings, v->warnings_len));
        resonance_stats_validation_free(v);
    } else if (!strcmp(op, "begin")) {
        CALL(resonance_tx_begin(db, &e));
    } else if (!strcmp(op, "commit")) {
        CALL(resonance_tx_commit(db, &e));
    } else if (!strcmp(op, "rollback")) {
        CALL(resonance_tx_rollback(db, &e));
    } else if (!strcmp(op, "set_embedding")) {
        size_t n;
        const float *v = floats_of(r, arg(a, "vector"), &n);
        CALL(resonance_embedding_set(db, astr(a, "id"), v, n, &e));
    } else if (!strcmp(op, "get_embedding")) {
        resonance_vector *v = NULL;
        CALL(resonance_embedding_get(db, astr(a, "id"), &v, &e));
        if (v) {
            *out = json_arr();
            for (size_t i = 0; i < v->len; i++) json_push(*out, NULL, json_num(v->data[i]));
        } else {
            *out = json_null();
        }
        resonance_vector_free(v);
    } else if (!strcmp(op, "search") || !strcmp(op, "search_like")) {
        resonance_search_filter f = search_filter(a);
        size_t k = (size_t)anum(a, "k", 10);
        resonance_hits *h = NULL;
        if (!strcmp(op, "search")) {
            size_t n;
            const float *q = floats_of(r, arg(a, "vector"), &n);
            CALL(resonance_vector_search(db, q, n, k, &f, &h, &e));
        } else {
            CALL(resonance_vector_search_like(db, astr(a, "id"), k, &f, &h, &e));
        }
        *out = hits_value(h);
        resonance_hits_free(h);
    } else if (!strcmp(op, "search_batch")) {
        resonance_search_filter f = search_filter(a);
        size_t k = (size_t)anum(a, "k", 10);
        const jv *qs = arg(a, "vectors");
        size_t nq = qs && qs->type == JSON_ARRAY ? qs->len : 0;
        size_t dim = nq ? qs->items[0]->len : 0;
        float *flat = keep(r, malloc((nq * dim > 0 ? nq * dim : 1) * sizeof(float)));
        for (size_t i = 0; i < nq; i++) {
            size_t n;
            const float *q = floats_of(r, qs->items[i], &n);
            if (n != dim) {
                e = strdup("queries of different lengths");
                e_mine = true;
                s = RESONANCE_INVALID_ARGUMENT;
                goto done;
            }
            memcpy(flat + i * dim, q, dim * sizeof(float));
        }
        resonance_hits_batch *b = NULL;
        CALL(resonance_vector_search_batch(db, flat, nq, (uint32_t)dim, k, &f, &b, &e));
        *out = json_arr();
        for (size_t i = 0; i < b->len; i++) json_push(*out, NULL, hits_value(&b->items[i]));
        resonance_hits_batch_free(b);
    } else if (!strcmp(op, "health")) {
        resonance_health *h = NULL;
        CALL(resonance_db_health(db, &h, &e));
        *out = json_obj();
        json_push(*out, "journal_mode", json_str(h->journal_mode));
        json_push(*out, "busy_timeout_ms", json_num((double)h->busy_timeout_ms));
        json_push(*out, "foreign_keys", json_bool(h->foreign_keys));
        json_push(*out, "quick_check", json_str(h->quick_check));
        json_push(*out, "schema_shape", json_str(h->schema_shape));
        json_push(*out, "pending", strings_value(&h->pending));
        json_push(*out, "dangling_edges", json_num((double)h->dangling_edges));
        json_push(*out, "vector_count", json_num((double)h->vector_count));
        json_push(*out, "write_probe", json_str(h->write_probe));
        json_push(*out, "content", strings_value(&h->content));
        json_push(*out, "stats_errors", strings_value(&h->stats_errors));
        json_push(*out, "stats_warnings", strings_value(&h->stats_warnings));
        resonance_health_free(h);
    } else if (!strcmp(op, "migrate")) {
        resonance_migrate_options o;
        memset(&o, 0, sizeof o);
        o.dry_run = abool(a, "dry_run", false);
        o.allow_destructive = abool(a, "allow_destructive", false);
        o.no_backup = !abool(a, "backup", true);
        resonance_strings *steps = NULL;
        CALL(resonance_db_migrate(db, &o, &steps, &e));
        *out = json_obj();
        json_push(*out, "steps", strings_value(steps));
        resonance_strings_free(steps);
    } else if (!strcmp(op, "checkpoint")) {
        resonance_checkpoint c;
        CALL(resonance_db_checkpoint(db, astr(a, "mode"), &c, &e));
        *out = json_obj();
        json_push(*out, "busy", json_num((double)c.busy));
        json_push(*out, "log", json_num((double)c.log));
        json_push(*out, "checkpointed", json_num((double)c.checkpointed));
    } else if (!strcmp(op, "neighbors") || !strcmp(op, "successors") || !strcmp(op, "predecessors") ||
               !strcmp(op, "traverse")) {
        resonance_strings *ids = NULL;
        if (!strcmp(op, "neighbors")) CALL(resonance_graph_neighbors(db, astr(a, "id"), &ids, &e));
        else if (!strcmp(op, "successors")) CALL(resonance_graph_successors(db, astr(a, "id"), &ids, &e));
        else if (!strcmp(op, "predecessors")) CALL(resonance_graph_predecessors(db, astr(a, "id"), &ids, &e));
        else {
            resonance_traverse_options o = resonance_traverse_options_default();
            if (has_num(a, "max_depth")) o.max_depth = (size_t)anum(a, "max_depth", 0);
            o.direction = adirection(a, o.direction);
            CALL(resonance_graph_traverse(db, astr(a, "start"), &o, &ids, &e));
        }
        *out = strings_value(ids);
        resonance_strings_free(ids);
    } else if (!strcmp(op, "degree")) {
        size_t d = 0;
        CALL(resonance_graph_degree(db, astr(a, "id"), &d, &e));
        *out = json_num((double)d);
    } else if (!strcmp(op, "shortest_path")) {
        resonance_strings *p = NULL;
        resonance_path_options o = resonance_path_options_default();
        o.direction = adirection(a, o.direction);
        CALL(resonance_graph_shortest_path(db, astr(a, "source"), astr(a, "target"), &o, &p, &e));
        *out = p ? strings_value(p) : json_null();
        resonance_strings_free(p);
    } else if (!strcmp(op, "pagerank") || !strcmp(op, "betweenness")) {
        resonance_rankings *rk = NULL;
        if (!strcmp(op, "pagerank")) {
            resonance_pagerank_options o = resonance_pagerank_options_default();
            o.alpha = anum(a, "alpha", o.alpha);
            o.tolerance = anum(a, "tolerance", o.tolerance);
            o.max_iterations = (size_t)anum(a, "max_iterations", (double)o.max_iterations);
            CALL(resonance_graph_pagerank(db, &o, &rk, &e));
        } else {
            resonance_betweenness_options o = resonance_betweenness_options_default();
            o.normalized = abool(a, "normalized", o.normalized);
            o.sample = (size_t)anum(a, "sample", (double)o.sample);
            o.seed = (uint64_t)anum(a, "seed", (double)o.seed);
            CALL(resonance_graph_betweenness(db, &o, &rk, &e));
        }
        *out = rankings_value(rk);
        resonance_rankings_free(rk);
    } else if (!strcmp(op, "communities")) {
        resonance_communities *c = NULL;
        resonance_community_options o = resonance_community_options_default();
        o.resolution = anum(a, "resolution", o.resolution);
        o.seed = (uint64_t)anum(a, "seed", (double)o.seed);
        CALL(resonance_graph_communities(db, &o, &c, &e));
        jv *part = json_obj();
        for (size_t i = 0; i < c->len; i++) json_push(part, c->items[i].id, json_num((double)c->items[i].community));
        *out = json_obj();
        json_push(*out, "partition", part);
        json_push(*out, "modularity", json_num(c->modularity));
        resonance_communities_free(c);
    } else if (!strcmp(op, "components")) {
        resonance_components *c = NULL;
        CALL(resonance_graph_components(db, &c, &e));
        *out = json_arr();
        for (size_t i = 0; i < c->len; i++) json_push(*out, NULL, strings_value(&c->items[i]));
        resonance_components_free(c);
    } else if (!strcmp(op, "adamic_adar")) {
        double x = 0;
        CALL(resonance_graph_adamic_adar(db, astr(a, "a"), astr(a, "b"), &x, &e));
        *out = json_num(x);
    } else if (!strcmp(op, "link_candidates")) {
        resonance_link_candidates *c = NULL;
        resonance_link_candidate_options o = resonance_link_candidate_options_default();
        o.limit = (size_t)anum(a, "limit", (double)o.limit);
        CALL(resonance_graph_link_candidates(db, &o, &c, &e));
        *out = json_arr();
        for (size_t i = 0; i < c->len; i++) {
            jv *o = json_obj();
            json_push(o, "source", json_str(c->items[i].source));
            json_push(o, "target", json_str(c->items[i].target));
            json_push(o, "score", json_num(c->items[i].score));
            json_push(*out, NULL, o);
        }
        resonance_link_candidates_free(c);
    } else if (!strcmp(op, "pillars")) {
        resonance_pillars *p = NULL;
        resonance_pillar_options o = resonance_pillar_options_default();
        o.limit = (size_t)anum(a, "limit", (double)o.limit);
        CALL(resonance_graph_pillars(db, &o, &p, &e));
        *out = json_arr();
        for (size_t i = 0; i < p->len; i++) {
            jv *o = json_obj();
            json_push(o, "id", json_str(p->items[i].id));
            json_push(o, "pagerank", json_num(p->items[i].pagerank));
            json_push(o, "degree", json_num((double)p->items[i].degree));
            json_push(*out, NULL, o);
        }
        resonance_pillars_free(p);
    } else if (!strcmp(op, "graph_stats")) {
        resonance_graph_stats g;
        CALL(resonance_graph_stats_get(db, &g, &e));
        *out = json_obj();
        json_push(*out, "nodes", json_num((double)g.nodes));
        json_push(*out, "edges", json_num((double)g.edges));
        json_push(*out, "density", json_num(g.density));
        json_push(*out, "skipped_edges", json_num((double)g.skipped_edges));
    } else if (!strcmp(op, "execute") || !strcmp(op, "query") || !strcmp(op, "query_row")) {
        resonance_value *params;
        size_t n;
        if (!sql_params_of(r, a, &params, &n)) {
            *err = strdup("runner: params the suite does not define");
            return RESONANCE_INTERNAL;
        }
        if (!strcmp(op, "execute")) {
            resonance_execute_result res;
            CALL(resonance_execute(db, astr(a, "sql"), params, n, &res, &e));
            *out = json_obj();
            json_push(*out, "changes", json_num((double)res.changes));
            json_push(*out, "last_insert_rowid", json_num((double)res.last_insert_rowid));
        } else {
            resonance_rows *rows = NULL;
            CALL(resonance_query(db, astr(a, "sql"), params, n, &rows, &e));
            if (!strcmp(op, "query")) {
                *out = json_obj();
                json_push(*out, "columns", sql_columns(rows));
                jv *list = json_arr();
                while (resonance_rows_next(rows)) json_push(list, NULL, sql_row(rows));
                json_push(*out, "rows", list);
            } else if (resonance_rows_next(rows)) {
                *out = json_obj();
                json_push(*out, "columns", sql_columns(rows));
                json_push(*out, "values", sql_row(rows));
            }
            resonance_rows_free(rows);
        }
    } else if (!strcmp(op, "execute_batch")) {
        CALL(resonance_execute_batch(db, astr(a, "sql"), &e));
    } else if (!strcmp(op, "migrate_app")) {
        const char *dir = steps_dir(r, a, err);
        if (!dir) return RESONANCE_INTERNAL;
        resonance_app_migrate_options o = resonance_app_migrate_options_default();
        const jv *to = arg(a, "to");
        if (to && to->type == JSON_NUMBER) {
            o.has_to = true;
            o.to = to->is_int ? to->integer : (int64_t)to->number;
        }
        o.dry_run = abool(a, "dry_run", o.dry_run);
        o.allow_destructive = abool(a, "allow_destructive", o.allow_destructive);
        o.no_backup = abool(a, "no_backup", o.no_backup);
        o.accept_changed = abool(a, "accept_changed", o.accept_changed);
        resonance_app_migration_report *rep = NULL;
        CALL(resonance_migrate_app(db, astr(a, "namespace"), dir, &o, &rep, &e));
        *out = json_obj();
        jv *list = json_arr();
        for (size_t i = 0; i < rep->steps_len; i++) {
            jv *st = json_obj();
            json_push(st, "version", json_num((double)rep->steps[i].version));
            json_push(st, "direction",
                      json_str(rep->steps[i].direction == RESONANCE_APP_DIRECTION_DOWN ? "down" : "up"));
            json_push(list, NULL, st);
        }
        json_push(*out, "steps", list);
        resonance_app_migration_report_free(rep);
    } else if (!strcmp(op, "app_migration_status")) {
        const char *dir = steps_dir(r, a, err);
        if (!dir) return RESONANCE_INTERNAL;
        resonance_app_migration_status_report *st = NULL;
        CALL(resonance_app_migration_status(db, astr(a, "namespace"), dir, &st, &e));
        *out = json_obj();
        jv *applied = json_arr();
        for (size_t i = 0; i < st->applied_len; i++) json_push(applied, NULL, json_num((double)st->applied[i].version));
        jv *pending = json_arr();
        for (size_t i = 0; i < st->pending_len; i++) json_push(pending, NULL, json_num((double)st->pending[i].version));
        json_push(*out, "applied", applied);
        json_push(*out, "pending", pending);
        resonance_app_migration_status_free(st);
    } else {
        char msg[256];
        snprintf(msg, sizeof msg, "runner: unknown op %s", op);
        *err = strdup(msg);
        return RESONANCE_INTERNAL;
    }
#undef CALL
done:
    if (s != RESONANCE_OK) {
        json_free(*out);
        *out = NULL;
        /* library messages are freed with resonance_string_free; copy into a malloc'd one */
        *err = strdup(e ? e : "(no message)");
        if (e_mine) free(e);
        else resonance_string_free(e);
        return s;
    }
    if (!*out) *out = json_null();
    return RESONANCE_OK;
}

/* ---- comparison ---- */

static bool matches(const jv *exp, const jv *act, bool unordered) {
    if (exp->type == JSON_NUMBER && act->type == JSON_NUMBER) return fabs(exp->number - act->number) <= 1e-5;
    if (exp->type != act->type) return false;
    switch (exp->type) {
        case JSON_NULL: return true;
        case JSON_BOOL: return exp->boolean == act->boolean;
        case JSON_STRING: return exp->len == act->len && memcmp(exp->str, act->str, exp->len) == 0;
        case JSON_OBJECT:
            for (size_t i = 0; i < exp->len; i++) {
                const jv *av = json_get(act, exp->keys[i]);
                if (!av || !matches(exp->items[i], av, false)) return false;
            }
            return true;
        case JSON_ARRAY: {
            if (exp->len != act->len) return false;
            if (!unordered) {
                for (size_t i = 0; i < exp->len; i++)
                    if (!matches(exp->items[i], act->items[i], false)) return false;
                return true;
            }
            bool *used = calloc(act->len ? act->len : 1, sizeof(bool));
            bool ok = true;
            for (size_t i = 0; i < exp->len && ok; i++) {
                bool found = false;
                for (size_t j = 0; j < act->len && !found; j++)
                    if (!used[j] && matches(exp->items[i], act->items[j], false)) used[j] = found = true;
                ok = found;
            }
            free(used);
            return ok;
        }
        default: return false;
    }
}

/* Exact equality (expect_same_as). */
static bool equal(const jv *a, const jv *b) {
    if (a->type != b->type) return false;
    switch (a->type) {
        case JSON_NULL: return true;
        case JSON_BOOL: return a->boolean == b->boolean;
        case JSON_NUMBER: return a->number == b->number;
        case JSON_STRING: return a->len == b->len && memcmp(a->str, b->str, a->len) == 0;
        case JSON_ARRAY:
        case JSON_OBJECT:
            if (a->len != b->len) return false;
            for (size_t i = 0; i < a->len; i++) {
                if (a->type == JSON_OBJECT && strcmp(a->keys[i], b->keys[i]) != 0) return false;
                if (!equal(a->items[i], b->items[i])) return false;
            }
            return true;
    }
    return false;
}

/* The partition covers exactly the graph's nodes (every node of the database). */
static bool covers_every_node(runner *r, const jv *partition, char **why) {
    resonance_nodes *ns = NULL;
    char *e = NULL;
    if (resonance_node_list(r->db, NULL, &ns, &e) != RESONANCE_OK) {
        *why = strdup(e ? e : "listing nodes failed");
        resonance_string_free(e);
        return false;
    }
    bool ok = partition && partition->type == JSON_OBJECT && partition->len == ns->len;
    for (size_t i = 0; ok && i < ns->len; i++) ok = json_get(partition, ns->items[i].id) != NULL;
    if (!ok) {
        char msg[128];
        snprintf(msg, sizeof msg, "the partition does not cover the %zu nodes exactly", ns->len);
        *why = strdup(msg);
    }
    resonance_nodes_free(ns);
    return ok;
}

/* ---- cases ---- */

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb; (void)flag; (void)ftw;
    return remove(path);
}

static char *truncated_dump(const jv *v) {
    char *s = json_dump(v);
    if (strlen(s) > 400) strcpy(s + 397, "...");
    return s;
}

/* Runs one case file; returns true when it passed (prints the failure otherwise). */
static bool run_case(runner *r, const char *file) {
    char *text = json_read_file(file);
    if (!text) {
        printf("FAIL %s: cannot read\n", file);
        return false;
    }
    const char *perr = NULL;
    size_t off = 0;
    jv *c = json_parse(text, &perr, &off);
    free(text);
    if (!c) {
        printf("FAIL %s: JSON error at byte %zu: %s\n", file, off, perr);
        return false;
    }
    const jv *name = json_get(c, "name");
    const char *cname = name && name->type == JSON_STRING ? name->str : file;
    const jv *steps = json_get(c, "steps");
    strcpy(r->dir, "/tmp/resonance-c-conformance-XXXXXX");
    if (!mkdtemp(r->dir)) {
        printf("FAIL %s: mkdtemp: %s\n", cname, strerror(errno));
        json_free(c);
        return false;
    }
    r->db = NULL;
    bool ok = steps && steps->type == JSON_ARRAY;
    if (!ok) printf("FAIL %s: no steps\n", cname);
    size_t n = ok ? steps->len : 0;
    jv **results = calloc(n ? n : 1, sizeof(jv *));
    for (size_t i = 0; ok && i < n; i++) {
        const jv *step = steps->items[i];
        const jv *opv = json_get(step, "op");
        const char *op = opv && opv->type == JSON_STRING ? opv->str : "?";
        const jv *args = json_get(step, "args");
        jv *empty = NULL;
        if (!args || args->type != JSON_OBJECT) args = empty = json_obj();
        jv *value = NULL;
        char *err = NULL;
        char *why = NULL;
        resonance_status s = run_op(r, op, args, &value, &err);
        const jv *expect_error = json_get(step, "expect_error");
        if (s == RESONANCE_INTERNAL && err && !strncmp(err, "runner:", 7)) {
            why = strdup(err);
        } else if (expect_error) {
            const char *want = expect_error->type == JSON_STRING ? expect_error->str : "?";
            if (s == RESONANCE_OK) {
                char *got = truncated_dump(value);
                why = malloc(strlen(want) + strlen(got) + 64);
                sprintf(why, "expected error %s, got value %s", want, got);
                free(got);
            } else if (strcmp(resonance_status_name(s), want) != 0) {
                why = malloc(strlen(want) + strlen(err) + 64);
                sprintf(why, "expected error %s, got %s (%s)", want, resonance_status_name(s), err);
            }
        } else if (s != RESONANCE_OK) {
            why = malloc(strlen(err) + 64);
            sprintf(why, "unexpected error %s (%s)", resonance_status_name(s), err);
        } else {
            const jv *expect = json_get(step, "expect");
            const jv *unord = json_get(step, "unordered");
            if (expect && !matches(expect, value, unord && unord->type == JSON_BOOL && unord->boolean)) {
                char *es = truncated_dump(expect), *as = truncated_dump(value);
                why = malloc(strlen(es) + strlen(as) + 32);
                sprintf(why, "expected %s, got %s", es, as);
                free(es);
                free(as);
            }
            const jv *minq = json_get(step, "expect_min_modularity");
            if (!why && minq && minq->type == JSON_NUMBER) {
                const jv *q = json_get(value, "modularity");
                if (covers_every_node(r, json_get(value, "partition"), &why)) {
                    if (!q || q->type != JSON_NUMBER || q->number < minq->number - 0.01) {
                        why = malloc(128);
                        snprintf(why, 128, "modularity %g < oracle %g - 0.01", q ? q->number : NAN, minq->number);
                    }
                }
            }
            const jv *same = json_get(step, "expect_same_as");
            if (!why && same && same->type == JSON_NUMBER) {
                size_t j = (size_t)same->number;
                if (j >= i || !results[j] || !equal(results[j], value)) {
                    why = malloc(64);
                    snprintf(why, 64, "differs from step %zu", j);
                }
            }
        }
        if (why) {
            printf("FAIL %s: step %zu (%s): %s\n", cname, i, op, why);
            free(why);
            ok = false;
        }
        results[i] = value ? value : json_null();
        free(err);
        json_free(empty);
        free_scratch(r);
    }
    if (ok) printf("ok   %s\n", cname);
    for (size_t i = 0; i < n; i++) json_free(results[i]);
    free(results);
    if (r->db) {
        resonance_db_free(r->db);
        r->db = NULL;
    }
    nftw(r->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    json_free(c);
    return ok;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "tests/conformance/cases";
    static runner r;
    const char *cli = getenv("RESONANCE_CLI");
    if (!cli || !*cli) cli = "target/debug/resonance";
    if (!realpath(cli, r.cli)) snprintf(r.cli, sizeof r.cli, "%s", cli);

    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "cannot open %s: %s\n", dir, strerror(errno));
        printf("0 passed, 1 failed\n");
        return 1;
    }
    char **files = NULL;
    size_t nfiles = 0;
    struct dirent *ent;
    while ((ent = readdir(d))) {
        size_t l = strlen(ent->d_name);
        if (l < 6 || strcmp(ent->d_name + l - 5, ".json") != 0) continue;
        files = realloc(files, (nfiles + 1) * sizeof *files);
        files[nfiles] = malloc(strlen(dir) + l + 2);
        sprintf(files[nfiles], "%s/%s", dir, ent->d_name);
        nfiles++;
    }
    closedir(d);
    qsort(files, nfiles, sizeof *files, cmp_str);
    size_t passed = 0, failed = 0;
    for (size_t i = 0; i < nfiles; i++) {
        if (run_case(&r, files[i])) passed++;
        else failed++;
        free(files[i]);
    }
    free(files);
    if (nfiles == 0) failed++;
    printf("%zu passed, %zu failed\n", passed, failed);
    return failed ? 1 : 0;
}
