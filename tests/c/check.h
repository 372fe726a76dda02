/*
 * check.h: the tiny test harness of the C suites. TEST(name) defines a test, RUN(name) runs it;
 * CHECK(cond) records a failure (and the test goes on); EXPECT_STATUS(call, status) checks a call's
 * status and frees its message. main() ends with DONE(), which prints "N passed, M failed" (tests)
 * as the last line and returns the exit status.
 */
#ifndef RESONANCE_TEST_CHECK_H
#define RESONANCE_TEST_CHECK_H

#define _XOPEN_SOURCE 700
#define _DEFAULT_SOURCE
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "resonance.h"

static int t_failed_checks = 0;
static int t_passed = 0, t_failed = 0;
static const char *t_current = "";

#define CHECK(cond)                                                                 \
    do {                                                                            \
        if (!(cond)) {                                                              \
            printf("  FAIL %s:%d in %s: %s\n", __FILE__, __LINE__, t_current, #cond); \
            t_failed_checks++;                                                      \
        }                                                                           \
    } while (0)

/* Runs `call` (which must take `&t_err` as its err_out), checks its status, and that a message was
 * given exactly when it failed; frees the message. */
static char *t_err = NULL;
#define EXPECT_STATUS(call, want)                                                              \
    do {                                                                                       \
        t_err = (char *)0x1; /* the library must reset it */                                   \
        resonance_status t_s = (call);                                                         \
        if (t_s != (want)) {                                                                   \
            printf("  FAIL %s:%d in %s: %s returned %s, expected %s (%s)\n", __FILE__, __LINE__, \
                   t_current, #call, resonance_status_name(t_s), resonance_status_name(want),  \
                   t_s != RESONANCE_OK && t_err != (char *)0x1 && t_err ? t_err : "");         \
            t_failed_checks++;                                                                 \
        } else if ((t_s == RESONANCE_OK) != (t_err == NULL)) {                                 \
            printf("  FAIL %s:%d in %s: err_out not %s\n", __FILE__, __LINE__, t_current,      \
                   t_s == RESONANCE_OK ? "cleared" : "set");                                   \
            t_failed_checks++;                                                                 \
        }                                                                                      \
        if (t_err != (char *)0x1) resonance_string_free(t_err);                                \
        t_err = NULL;                                                                          \
    } while (0)

#define OK(call) EXPECT_STATUS(call, RESONANCE_OK)

#define TEST(name) static void name(void)
#define RUN(name)                                                   \
    do {                                                            \
        t_current = #name;                                          \
        int before = t_failed_checks;                               \
        name();                                                     \
        if (t_failed_checks == before) {                            \
            t_passed++;                                             \
            printf("ok   %s\n", #name);                             \
        } else {                                                    \
            t_failed++;                                             \
            printf("FAIL %s\n", #name);                             \
        }                                                           \
    } while (0)
#define DONE()                                           \
    do {                                                 \
        printf("%d passed, %d failed\n", t_passed, t_failed); \
        return t_failed ? 1 : 0;                         \
    } while (0)

/* A fresh temporary directory for the whole run, removed at exit. */
static char t_dir[64];
static int t_rm(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb; (void)flag; (void)ftw;
    return remove(p);
}
static void t_cleanup(void) {
    if (t_dir[0]) nftw(t_dir, t_rm, 16, FTW_DEPTH | FTW_PHYS);
}
static void t_setup(void) {
    strcpy(t_dir, "/tmp/resonance-c-test-XXXXXX");
    if (!mkdtemp(t_dir)) {
        perror("mkdtemp");
        exit(2);
    }
    atexit(t_cleanup);
}
/* A path inside the temporary directory (static buffer rotation: up to 8 live at once). */
static inline const char *tpath(const char *name) {
    static char bufs[8][PATH_MAX];
    static int i = 0;
    char *b = bufs[i++ % 8];
    snprintf(b, PATH_MAX, "%s/%s", t_dir, name);
    return b;
}

/* Runs `$RESONANCE_CLI sql --raw --write --create --script PATH SQL` (another program writing the file, as the sqlite3
 * shell would: the file is created if missing, several statements run in order); returns its exit status. */
static inline int t_sql(const char *path, const char *sql) {
    const char *cli = getenv("RESONANCE_CLI");
    if (!cli || !*cli) cli = "target/debug/resonance";
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        execl(cli, cli, "sql", "--raw", "--write", "--create", "--script", path, sql, (char *)NULL);
        fprintf(stderr, "cannot run %s: %s\n", cli, strerror(errno));
        _exit(127);
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Option structs of the size rule, from the library's defaults with the given fields changed; the
 * macros give a pointer to a compound literal (valid for the enclosing block). */
static inline resonance_traverse_options traverse_opts(size_t max_depth, uint32_t direction) {
    resonance_traverse_options o = resonance_traverse_options_default();
    o.max_depth = max_depth;
    o.direction = direction;
    return o;
}
#define TRAVERSE(depth) ((resonance_traverse_options[]){traverse_opts((depth), RESONANCE_DIRECTION_OUTGOING)})
static inline resonance_pagerank_options pagerank_opts(double alpha, double tolerance, size_t max_iterations) {
    resonance_pagerank_options o = resonance_pagerank_options_default();
    o.alpha = alpha;
    o.tolerance = tolerance;
    o.max_iterations = max_iterations;
    return o;
}
#define PAGERANK(a, t, i) ((resonance_pagerank_options[]){pagerank_opts((a), (t), (i))})
static inline resonance_betweenness_options betweenness_opts(bool normalized, size_t sample, uint64_t seed) {
    resonance_betweenness_options o = resonance_betweenness_options_default();
    o.normalized = normalized;
    o.sample = sample;
    o.seed = seed;
    return o;
}
#define BETWEENNESS(n, k, seed) ((resonance_betweenness_options[]){betweenness_opts((n), (k), (seed))})
static inline resonance_community_options community_opts(double resolution, uint64_t seed) {
    resonance_community_options o = resonance_community_options_default();
    o.resolution = resolution;
    o.seed = seed;
    return o;
}
#define COMMUNITIES(r, seed) ((resonance_community_options[]){community_opts((r), (seed))})
static inline resonance_link_candidate_options link_opts(size_t limit) {
    resonance_link_candidate_options o = resonance_link_candidate_options_default();
    o.limit = limit;
    return o;
}
#define LINKS(limit) ((resonance_link_candidate_options[]){link_opts(limit)})
static inline resonance_pillar_options pillar_opts(size_t limit) {
    resonance_pillar_options o = resonance_pillar_options_default();
    o.limit = limit;
    return o;
}
#define PILLARS(limit) ((resonance_pillar_options[]){pillar_opts(limit)})

#endif
