/*
 * tests/vf/test_catalogue.c - the project standard, checked for the whole
 * catalogue: every verifier rule has a buggy-driver fixture.
 *
 * For every rule wdmsim_rules lists: the id is unique; .fixture is set and
 * names a folder under $WDMSIM_SOURCE that holds a .c file (so
 * tests/fixtures/CMakeLists.txt builds it); the built driver
 * $WDMSIM_FIXTURES/<folder name>.so exists. And `wdmsim rules` prints one
 * line per rule. Every problem is listed before the test fails, so one run
 * shows the whole gap. That each fixture stops with its rule's exact code
 * and parameter 1 is checked by the layer's own tests (docs/verifier.md
 * names them).
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <wdmsim/wdmsim.h>

enum { max_rules = 1024 };

struct audit {
    const char *ids[max_rules];
    unsigned n;
    unsigned problems;
    const char *src, *built;
};

static void problem(struct audit *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(struct audit *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "catalogue: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    a->problems++;
}

static bool has_c_file(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return false;
    bool found = false;
    for (struct dirent *e; !found && (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        found = len > 2 && !strcmp(e->d_name + len - 2, ".c");
    }
    closedir(d);
    return found;
}

static void check_rule(const struct wdmsim_rule_info *r, void *ctx)
{
    struct audit *a = ctx;
    for (unsigned i = 0; i < a->n; i++)
        if (!strcmp(a->ids[i], r->id))
            problem(a, "rule id %s is listed twice", r->id);
    if (a->n < max_rules)
        a->ids[a->n] = r->id;
    a->n++;
    if (!r->fixture || !*r->fixture) {
        problem(a, "rule %s: no fixture", r->id);
        return;
    }
    char path[1024];
    struct stat st;
    snprintf(path, sizeof(path), "%s/%s", a->src, r->fixture);
    if (stat(path, &st) || !S_ISDIR(st.st_mode)) {
        problem(a, "rule %s: fixture '%s' is not a folder (%s)", r->id, r->fixture, path);
        return;
    }
    if (!has_c_file(path)) {
        problem(a, "rule %s: fixture folder %s has no .c file", r->id, r->fixture);
        return;
    }
    const char *name = strrchr(r->fixture, '/');
    name = name ? name + 1 : r->fixture;
    snprintf(path, sizeof(path), "%s/%s.so", a->built, name);
    if (access(path, R_OK))
        problem(a, "rule %s: fixture driver %s was not built", r->id, path);
}

/* Lines `wdmsim rules` prints, header excluded; -1 if it cannot run. */
static int cli_rule_lines(void)
{
    const char *bin = getenv("WDMSIM_BIN");
    char cmd[1100];
    snprintf(cmd, sizeof(cmd), "'%s' rules 2>/dev/null", bin ? bin : "wdmsim");
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    int lines = 0;
    for (int c; (c = fgetc(p)) != EOF;)
        lines += c == '\n';
    return pclose(p) == 0 ? lines - 1 : -1;
}

static void every_rule_has_a_fixture(void **state)
{
    (void)state;
    struct audit a = {.src = getenv("WDMSIM_SOURCE"), .built = getenv("WDMSIM_FIXTURES")};
    if (!a.src || !a.built)
        fail_msg("run under CTest: WDMSIM_SOURCE and WDMSIM_FIXTURES must be set");
    wdmsim_rules(check_rule, &a);
    assert_true(a.n > 0);
    assert_true(a.n <= max_rules);
    if (a.problems)
        fail_msg("%u of %u rules break the fixture standard (listed above)", a.problems, a.n);
}

/* wdmsim-private subcodes (0x57xxxxxx) are ours to number: each (stop
 * code, subcode) pair must name one rule, or a stop cannot be told apart
 * without the rule id. Windows' own codes may be shared where Windows
 * shares them (0xCB, 0xD6, 0xE6/0x26 with the detail in P4). */
struct private_codes {
    unsigned n;
    struct {
        uint32_t code;
        uint64_t p1;
        const char *id;
    } seen[512];
    int clashes;
};

static void check_private(const struct wdmsim_rule_info *r, void *ctx)
{
    struct private_codes *pc = ctx;
    if ((r->p1 & 0xFF000000u) != 0x57000000u)
        return;
    for (unsigned i = 0; i < pc->n; i++) {
        if (pc->seen[i].code == r->code && pc->seen[i].p1 == r->p1) {
            print_message("rules %s and %s share the private code 0x%X/0x%llX\n", pc->seen[i].id,
                          r->id, r->code, (unsigned long long)r->p1);
            pc->clashes++;
        }
    }
    if (pc->n < sizeof(pc->seen) / sizeof(pc->seen[0])) {
        pc->seen[pc->n].code = r->code;
        pc->seen[pc->n].p1 = r->p1;
        pc->seen[pc->n].id = r->id;
        pc->n++;
    }
}

static void private_subcodes_are_unique(void **state)
{
    (void)state;
    static struct private_codes pc;
    pc.n = 0;
    pc.clashes = 0;
    wdmsim_rules(check_private, &pc);
    assert_true(pc.n > 0);
    assert_int_equal(pc.clashes, 0);
}

static void count_rule(const struct wdmsim_rule_info *r, void *ctx)
{
    (void)r;
    ++*(unsigned *)ctx;
}

static void cli_lists_every_rule(void **state)
{
    (void)state;
    unsigned n = 0;
    wdmsim_rules(count_rule, &n);
    assert_int_equal(cli_rule_lines(), (int)n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_rule_has_a_fixture),
        cmocka_unit_test(cli_lists_every_rule),
        cmocka_unit_test(private_subcodes_are_unique),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
