/*
 * json.h: a small recursive-descent JSON parser and serialiser for the C conformance runner.
 * Written for this project; public domain (CC0). Single file: every function is `static`.
 *
 *   jv *v = json_parse(text, &error);   // NULL on a syntax error (error says where)
 *   jv *x = json_get(v, "key");         // NULL when absent
 *   char *s = json_dump(v);             // compact JSON text, free() it
 *   json_free(v);
 *
 * Strings are UTF-8 (\u escapes, surrogate pairs included, are decoded) and NUL-terminated; a string
 * holding U+0000 keeps its full length in `len`. Objects keep their keys in document order.
 */
#ifndef RESONANCE_TEST_JSON_H
#define RESONANCE_TEST_JSON_H

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT } json_type;

typedef struct jv {
    json_type type;
    int boolean;
    double number;
    int is_int;       /* JSON_NUMBER written without fraction or exponent, within int64 */
    long long integer; /* its exact value when is_int */
    char *str;        /* JSON_STRING */
    size_t len;       /* string length in bytes, or number of items */
    struct jv **items; /* JSON_ARRAY and JSON_OBJECT values */
    char **keys;      /* JSON_OBJECT keys */
    size_t cap;
} jv;

static jv *json_new(json_type t) {
    jv *v = (jv *)calloc(1, sizeof(jv));
    if (!v) abort();
    v->type = t;
    return v;
}

static void json_free(jv *v) {
    if (!v) return;
    for (size_t i = 0; i < v->len && v->items; i++) {
        json_free(v->items[i]);
        if (v->keys) free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->str);
    free(v);
}

/* Appends an item (with `key` for objects; the key is copied). */
static void json_push(jv *v, const char *key, jv *item) {
    if (v->len == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 4;
        v->items = (jv **)realloc(v->items, v->cap * sizeof(jv *));
        if (v->type == JSON_OBJECT) v->keys = (char **)realloc(v->keys, v->cap * sizeof(char *));
        if (!v->items || (v->type == JSON_OBJECT && !v->keys)) abort();
    }
    if (v->type == JSON_OBJECT) v->keys[v->len] = strdup(key);
    v->items[v->len++] = item;
}

static jv *json_null(void) { return json_new(JSON_NULL); }
static jv *json_bool(int b) { jv *v = json_new(JSON_BOOL); v->boolean = !!b; return v; }
static jv *json_num(double n) { jv *v = json_new(JSON_NUMBER); v->number = n; return v; }
static jv *json_strn(const char *s, size_t n) {
    jv *v = json_new(JSON_STRING);
    v->str = (char *)malloc(n + 1);
    if (!v->str) abort();
    memcpy(v->str, s, n);
    v->str[n] = 0;
    v->len = n;
    return v;
}
static jv *json_str(const char *s) { return s ? json_strn(s, strlen(s)) : json_null(); }
static jv *json_arr(void) { return json_new(JSON_ARRAY); }
static jv *json_obj(void) { return json_new(JSON_OBJECT); }

static jv *json_get(const jv *v, const char *key) {
    if (!v || v->type != JSON_OBJECT) return NULL;
    for (size_t i = 0; i < v->len; i++)
        if (strcmp(v->keys[i], key) == 0) return v->items[i];
    return NULL;
}

/* ---- parser ---- */

typedef struct {
    const char *p, *end, *start;
    const char *err;
} json_parser;

static void json_ws(json_parser *ps) {
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')) ps->p++;
}

static jv *json_value(json_parser *ps, int depth);

static int json_hex4(json_parser *ps, unsigned *out) {
    if (ps->end - ps->p < 4) return 0;
    unsigned u = 0;
    for (int i = 0; i < 4; i++) {
        char c = ps->p[i];
        u <<= 4;
        if (c >= '0' && c <= '9') u |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') u |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') u |= (unsigned)(c - 'A' + 10);
        else return 0;
    }
    ps->p += 4;
    *out = u;
    return 1;
}

static size_t json_utf8(unsigned cp, char *o) {
    if (cp < 0x80) { o[0] = (char)cp; return 1; }
    if (cp < 0x800) { o[0] = (char)(0xC0 | (cp >> 6)); o[1] = (char)(0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12)); o[1] = (char)(0x80 | ((cp >> 6) & 0x3F)); o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18)); o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Parses a string at ps->p (which points at the opening quote) into a malloc'd buffer. */
static char *json_string_raw(json_parser *ps, size_t *len_out) {
    ps->p++; /* opening quote */
    size_t cap = 16, n = 0;
    char *buf = (char *)malloc(cap);
    if (!buf) abort();
    while (1) {
        if (ps->p >= ps->end) { ps->err = "unterminated string"; free(buf); return NULL; }
        if (cap - n < 8) { cap *= 2; buf = (char *)realloc(buf, cap); if (!buf) abort(); }
        unsigned char c = (unsigned char)*ps->p++;
        if (c == '"') break;
        if (c < 0x20) { ps->err = "control character in string"; free(buf); return NULL; }
        if (c != '\\') { buf[n++] = (char)c; continue; }
        if (ps->p >= ps->end) { ps->err = "bad escape"; free(buf); return NULL; }
        char e = *ps->p++;
        switch (e) {
            case '"': buf[n++] = '"'; break;
            case '\\': buf[n++] = '\\'; break;
            case '/': buf[n++] = '/'; break;
            case 'b': buf[n++] = '\b'; break;
            case 'f': buf[n++] = '\f'; break;
            case 'n': buf[n++] = '\n'; break;
            case 'r': buf[n++] = '\r'; break;
            case 't': buf[n++] = '\t'; break;
            case 'u': {
                unsigned cp;
                if (!json_hex4(ps, &cp)) { ps->err = "bad \\u escape"; free(buf); return NULL; }
                if (cp >= 0xD800 && cp <= 0xDBFF && ps->end - ps->p >= 6 && ps->p[0] == '\\' && ps->p[1] == 'u') {
                    const char *save = ps->p;
                    unsigned lo;
                    ps->p += 2;
                    if (json_hex4(ps, &lo) && lo >= 0xDC00 && lo <= 0xDFFF)
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    else
                        ps->p = save;
                }
                n += json_utf8(cp, buf + n);
                break;
            }
            default: ps->err = "bad escape"; free(buf); return NULL;
        }
    }
    buf[n] = 0;
    *len_out = n;
    return buf;
}

static jv *json_value(json_parser *ps, int depth) {
    if (depth > 200) { ps->err = "nesting too deep"; return NULL; }
    json_ws(ps);
    if (ps->p >= ps->end) { ps->err = "unexpected end"; return NULL; }
    char c = *ps->p;
    if (c == '{' || c == '[') {
        int obj = c == '{';
        jv *v = obj ? json_obj() : json_arr();
        ps->p++;
        json_ws(ps);
        if (ps->p < ps->end && *ps->p == (obj ? '}' : ']')) { ps->p++; return v; }
        while (1) {
            char *key = NULL;
            if (obj) {
                json_ws(ps);
                size_t kl;
                if (ps->p >= ps->end || *ps->p != '"') { ps->err = "expected a key"; json_free(v); return NULL; }
                key = json_string_raw(ps, &kl);
                if (!key) { json_free(v); return NULL; }
                json_ws(ps);
                if (ps->p >= ps->end || *ps->p != ':') { ps->err = "expected ':'"; free(key); json_free(v); return NULL; }
                ps->p++;
            }
            jv *item = json_value(ps, depth + 1);
            if (!item) { free(key); json_free(v); return NULL; }
            json_push(v, key, item);
            free(key);
            json_ws(ps);
            if (ps->p < ps->end && *ps->p == ',') { ps->p++; continue; }
            if (ps->p < ps->end && *ps->p == (obj ? '}' : ']')) { ps->p++; return v; }
            ps->err = obj ? "expected ',' or '}'" : "expected ',' or ']'";
            json_free(v);
            return NULL;
        }
    }
    if (c == '"') {
        size_t n;
        char *s = json_string_raw(ps, &n);
        if (!s) return NULL;
        jv *v = json_new(JSON_STRING);
        v->str = s;
        v->len = n;
        return v;
    }
    if (ps->end - ps->p >= 4 && memcmp(ps->p, "null", 4) == 0) { ps->p += 4; return json_null(); }
    if (ps->end - ps->p >= 4 && memcmp(ps->p, "true", 4) == 0) { ps->p += 4; return json_bool(1); }
    if (ps->end - ps->p >= 5 && memcmp(ps->p, "false", 5) == 0) { ps->p += 5; return json_bool(0); }
    if (c == '-' || (c >= '0' && c <= '9')) {
        char *endp;
        double d = strtod(ps->p, &endp);
        if (endp == ps->p) { ps->err = "bad number"; return NULL; }
        int integral = 1;
        for (const char *q = ps->p; q < endp; q++)
            if (*q == '.' || *q == 'e' || *q == 'E') integral = 0;
        jv *v = json_num(d);
        if (integral) {
            char *iend;
            errno = 0;
            long long i = strtoll(ps->p, &iend, 10);
            if (errno == 0 && iend == endp) {
                v->is_int = 1;
                v->integer = i;
            }
        }
        ps->p = endp;
        return v;
    }
    ps->err = "unexpected character";
    return NULL;
}

/* Parses `text` (NUL-terminated). On error returns NULL and sets *error (static text) and *offset. */
static jv *json_parse(const char *text, const char **error, size_t *offset) {
    json_parser ps = {text, text + strlen(text), text, NULL};
    jv *v = json_value(&ps, 0);
    if (v) {
        json_ws(&ps);
        if (ps.p != ps.end) { ps.err = "trailing characters"; json_free(v); v = NULL; }
    }
    if (!v) {
        if (error) *error = ps.err ? ps.err : "parse error";
        if (offset) *offset = (size_t)(ps.p - ps.start);
    }
    return v;
}

/* ---- serialiser ---- */

typedef struct { char *buf; size_t len, cap; } json_buf;

static void jb_put(json_buf *b, const char *s, size_t n) {
    if (b->len + n + 1 > b->cap) {
        while (b->len + n + 1 > b->cap) b->cap = b->cap ? b->cap * 2 : 64;
        b->buf = (char *)realloc(b->buf, b->cap);
        if (!b->buf) abort();
    }
    memcpy(b->buf + b->len, s, n);
    b->len += n;
    b->buf[b->len] = 0;
}

static void jb_str(json_buf *b, const char *s, size_t n) {
    jb_put(b, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[8];
        if (c == '"') jb_put(b, "\\\"", 2);
        else if (c == '\\') jb_put(b, "\\\\", 2);
        else if (c == '\n') jb_put(b, "\\n", 2);
        else if (c == '\t') jb_put(b, "\\t", 2);
        else if (c == '\r') jb_put(b, "\\r", 2);
        else if (c < 0x20) { snprintf(esc, sizeof esc, "\\u%04x", c); jb_put(b, esc, 6); }
        else jb_put(b, (const char *)&s[i], 1);
    }
    jb_put(b, "\"", 1);
}

static void jb_value(json_buf *b, const jv *v) {
    char num[64];
    switch (v->type) {
        case JSON_NULL: jb_put(b, "null", 4); break;
        case JSON_BOOL: v->boolean ? jb_put(b, "true", 4) : jb_put(b, "false", 5); break;
        case JSON_NUMBER:
            if (!isfinite(v->number)) jb_put(b, "null", 4);
            else if (v->number == floor(v->number) && fabs(v->number) < 1e15)
                jb_put(b, num, (size_t)snprintf(num, sizeof num, "%.0f", v->number));
            else
                jb_put(b, num, (size_t)snprintf(num, sizeof num, "%.17g", v->number));
            break;
        case JSON_STRING: jb_str(b, v->str, v->len); break;
        case JSON_ARRAY:
        case JSON_OBJECT:
            jb_put(b, v->type == JSON_ARRAY ? "[" : "{", 1);
            for (size_t i = 0; i < v->len; i++) {
                if (i) jb_put(b, ",", 1);
                if (v->type == JSON_OBJECT) {
                    jb_str(b, v->keys[i], strlen(v->keys[i]));
                    jb_put(b, ":", 1);
                }
                jb_value(b, v->items[i]);
            }
            jb_put(b, v->type == JSON_ARRAY ? "]" : "}", 1);
            break;
    }
}

/* Compact JSON text of `v`; the caller frees it with free(). */
static char *json_dump(const jv *v) {
    json_buf b = {NULL, 0, 0};
    jb_put(&b, "", 0);
    jb_value(&b, v);
    return b.buf;
}

/* Reads a whole file into a NUL-terminated buffer (free() it); NULL on failure. */
static char *json_read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    char *buf = (char *)malloc(cap);
    if (!buf) abort();
    size_t r;
    while ((r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (cap - n - 1 == 0) { cap *= 2; buf = (char *)realloc(buf, cap); if (!buf) abort(); }
    }
    fclose(f);
    buf[n] = 0;
    return buf;
}

#endif
