/*
 * tests/host/test_draw.c - wdmsim_draw and the transfer log: the page of a
 * known run carries the run's own numbers (the frames and logical address
 * the fixture printed, the pages it bounced), the request pages show each
 * I/O method as the I/O manager built it, bad numbers and a log that is
 * off are refused, the log leaves the run unchanged, and the pages render
 * in headless Chromium (tests/host/draw_render.py).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <wdm.h>

#include <wdmsim/wdmsim.h>

#include "host/draw.h"
#include "host/inspect.h"
#include "support/fixture.h"
#include "sys.h"

struct run {
    wdmsim *sim;
    char *out;
    size_t out_len;
    FILE *outf;
};

static void boot(struct run *r, uint64_t seed, const char *machine, int record)
{
    memset(r, 0, sizeof(*r));
    r->outf = open_memstream(&r->out, &r->out_len);
    struct wdmsim_config cfg = {.seed = seed, .machine_path = machine, .out = r->outf};
    struct wdmsim_error err;
    if (wdmsim_boot(&cfg, &r->sim, &err) != WDMSIM_OK)
        fail_msg("boot: %s", err.text);
    if (record)
        assert_int_equal(wdmsim_draw_record(r->sim), WDMSIM_OK);
}

static void done(struct run *r)
{
    wdmsim_shutdown(r->sim);
    fclose(r->outf);
    free(r->out);
}

/* The page as a string (caller frees); NULL when wdmsim_draw refused. */
static char *page(wdmsim *sim, unsigned transfer, unsigned irp, struct wdmsim_error *err)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    int rc = wdmsim_draw(sim, transfer, irp, f, err);
    fclose(f);
    if (rc != WDMSIM_OK) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* Value of "key=HEX" in the fixture's INSP line. */
static uint64_t insp_value(const char *out, const char *key)
{
    const char *line = strstr(out, "INSP ");
    assert_non_null(line);
    char k[32];
    snprintf(k, sizeof(k), " %s=", key);
    const char *p = strstr(line, k);
    if (!p)
        fail_msg("no %s in %s", key, line);
    return strtoull(p + strlen(k), NULL, 16);
}

static void expect(const char *html, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void expect(const char *html, const char *fmt, ...)
{
    char s[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s, sizeof(s), fmt, ap);
    va_end(ap);
    if (!strstr(html, s))
        fail_msg("the page lacks '%s'", s);
}

static unsigned count(const char *html, const char *s)
{
    unsigned n = 0;
    for (const char *p = strstr(html, s); p; p = strstr(p + 1, s))
        n++;
    return n;
}

/* inspect_known: transfer 3 is MapTransfer of the 'Ibuf' block's first
 * page, device->memory, on a 32-bit adapter; the frame is above 4 GiB, so
 * it bounces and the logical address is the bounce frame's. */
static void t_transfer_numbers(void **state)
{
    (void)state;
    struct run r;
    boot(&r, 5, NULL, 1);
    struct wdmsim_error err;
    assert_int_equal(wdmsim_load_driver(r.sim, fixture_path("inspect_known"), &err),
                     WDMSIM_STOPPED);
    fflush(r.outf);
    uint64_t big = insp_value(r.out, "big"), bigpa = insp_value(r.out, "bigpa");
    uint64_t logical = insp_value(r.out, "logical");
    assert_true(bigpa >= (1ULL << 32)); /* the case the bounce exists for */

    char *html = page(r.sim, 3, 0, &err);
    assert_non_null(html);
    expect(html, "data-transfer=\"3\"");
    expect(html, "data-va=\"0x%lx\"", (unsigned long)big);
    expect(html, "data-pa=\"0x%lx\"", (unsigned long)bigpa);
    expect(html, "data-frame=\"0x%lx\"", (unsigned long)(bigpa >> 12));
    expect(html, "data-logical=\"0x%lx\"", (unsigned long)logical);
    expect(html, "data-bounce=\"1\"");
    expect(html, "PA 0x%lx", (unsigned long)bigpa); /* printed as text too */
    expect(html, "logical 0x%lx", (unsigned long)logical);
    assert_null(strstr(html, "<script"));
    assert_null(strstr(html, "src="));
    free(html);

    /* Transfer 2: the S/G list of both pages, device->memory, put: both
     * pages bounced and 8192 bytes copied back; the MDL's second page. */
    html = page(r.sim, 2, 0, &err);
    assert_non_null(html);
    expect(html, "data-pages=\"2\"");
    assert_int_equal(count(html, "data-bounce=\"1\""), 2);
    expect(html, "data-va=\"0x%lx\"", (unsigned long)(big + 4096));
    expect(html, "0 bytes in (at map), 8192 bytes back");
    expect(html, "S/G elements (logical)");
    free(html);

    /* Transfer 1: memory->device: copied in at map time. */
    html = page(r.sim, 1, 0, &err);
    assert_non_null(html);
    expect(html, "4096 bytes in (at map), 0 bytes back");
    free(html);

    /* Refusals: a number never recorded, nothing asked. */
    assert_null(page(r.sim, 4, 0, &err));
    assert_non_null(strstr(err.text, "transfer 4 was not recorded"));
    assert_null(page(r.sim, 0, 0, &err));
    assert_null(page(r.sim, 0, 1, &err));

    /* The inspector's view of the same log. */
    char *txt = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&txt, &len);
    assert_int_equal(wdmsim_inspect(r.sim, "!xfer", f), WDMSIM_OK);
    assert_int_equal(wdmsim_inspect(r.sim, "!xfer 3", f), WDMSIM_OK);
    assert_int_equal(wdmsim_inspect(r.sim, "!xfer 9", f), WDMSIM_EINPUT);
    assert_int_equal(wdmsim_inspect(r.sim, "!draw 3", f), WDMSIM_EINPUT);
    fclose(f);
    assert_non_null(strstr(txt, "3 transfers"));
    char frame[64];
    snprintf(frame, sizeof(frame), "frame %lx -> reg", (unsigned long)(bigpa >> 12));
    assert_non_null(strstr(txt, frame));
    free(txt);
    done(&r);
}

static void t_log_off(void **state)
{
    (void)state;
    struct run r;
    boot(&r, 5, NULL, 0);
    struct wdmsim_error err;
    wdmsim_load_driver(r.sim, fixture_path("inspect_known"), &err);
    assert_null(page(r.sim, 1, 0, &err));
    assert_non_null(strstr(err.text, "log is off"));
    char *txt = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&txt, &len);
    assert_int_equal(wdmsim_inspect(r.sim, "!xfer", f), WDMSIM_EINPUT);
    fclose(f);
    free(txt);
    done(&r);
}

/* The log only copies: the fixture prints the same line with and without
 * it (frames, logical addresses, everything chosen by the seed). */
static void t_same_run(void **state)
{
    (void)state;
    struct run a, b;
    struct wdmsim_error err;
    boot(&a, 9, NULL, 0);
    boot(&b, 9, NULL, 1);
    wdmsim_load_driver(a.sim, fixture_path("inspect_known"), &err);
    wdmsim_load_driver(b.sim, fixture_path("inspect_known"), &err);
    fflush(a.outf);
    fflush(b.outf);
    assert_int_equal(insp_value(a.out, "bigpa"), insp_value(b.out, "bigpa"));
    assert_int_equal(insp_value(a.out, "logical"), insp_value(b.out, "logical"));
    assert_int_equal(insp_value(a.out, "commonlogical"), insp_value(b.out, "commonlogical"));
    done(&a);
    done(&b);
}

/* The requests of the piofifo app: one of each method. */
static const char *drivers_dir(void)
{
    static char dir[1024];
    const char *bin = getenv("WDMSIM_BIN");
    assert_non_null(bin);
    snprintf(dir, sizeof(dir), "%s", bin);
    char *slash = strrchr(dir, '/');
    assert_non_null(slash);
    snprintf(slash, sizeof(dir) - (size_t)(slash - dir), "/drivers");
    return dir;
}

static void t_requests(void **state)
{
    (void)state;
    char drv[1200], app[1200], machine[1200];
    snprintf(drv, sizeof(drv), "%s/piofifo.so", drivers_dir());
    snprintf(app, sizeof(app), "%s/piofifo_app.so", drivers_dir());
    snprintf(machine, sizeof(machine), "%s/machines/default.ini", getenv("WDMSIM_SOURCE"));
    if (access(drv, R_OK) || access(app, R_OK))
        skip();
    struct run r;
    boot(&r, 1, machine, 1);
    struct wdmsim_error err;
    assert_int_equal(wdmsim_load_driver(r.sim, drv, &err), WDMSIM_OK);
    assert_int_equal(wdmsim_start_devices(r.sim), WDMSIM_OK);
    int code = -1;
    assert_int_equal(wdmsim_run_app(r.sim, app, 0, NULL, &code, &err), WDMSIM_OK);
    assert_int_equal(code, 0);
    struct hal_xferlog *l = wdmsim_sys(r.sim)->hal.xlog;
    assert_true(l->ionext >= 3);
    bool seen[4] = {0};
    for (unsigned s = 1; s <= l->ionext; s++) {
        const struct hal_iobuf *b = hal_xferlog_get_io(&wdmsim_sys(r.sim)->hal, s);
        assert_non_null(b);
        char *html = page(r.sim, 0, s, &err);
        assert_non_null(html);
        expect(html, "data-request=\"%u\"", s);
        seen[b->method] = true;
        if (b->method == hal_io_buffered && b->sysbuf.npages) {
            /* SystemBuffer is on frames of its own, not the caller's. */
            expect(html, "data-method=\"buffered\"");
            expect(html, "SystemBuffer VA 0x%lx", (unsigned long)(b->sysbuf.va & ~(uint64_t)4095));
            expect(html, "data-area=\"s\" data-va=\"0x%lx\" data-frame=\"0x%lx\"",
                   (unsigned long)b->sysbuf.page[0].va, (unsigned long)b->sysbuf.page[0].frame);
        }
        if (b->method == hal_io_direct && b->mdl) {
            /* Each MDL entry names the frame under the caller's page. */
            const struct hal_iobuf_area *ar = b->out.length ? &b->out : &b->in;
            for (unsigned k = 0; k < b->mdl_npages && k < ar->npages; k++) {
                assert_int_equal(b->mdl_frames[k], ar->page[k].frame);
                expect(html, "MDL PFN[%u] = 0x%lx", k, (unsigned long)b->mdl_frames[k]);
            }
        }
        if (b->method == hal_io_neither && b->out.length)
            expect(html, "UserBuffer = 0x%lx", (unsigned long)b->out.va);
        free(html);
    }
    assert_true(seen[hal_io_buffered] && seen[hal_io_direct] && seen[hal_io_neither]);

    /* !iobuf lists the same records: one line each, with its IRP,
     * method, SystemBuffer and MDL, and the count at the end. */
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_int_equal(wdmsim_inspect(r.sim, "!iobuf", f), WDMSIM_OK);
    fclose(f);
    char tail[64];
    snprintf(tail, sizeof(tail), "%u requests\n", l->ionext);
    assert_non_null(strstr(text, tail));
    unsigned first = l->ionext > l->iocap ? l->ionext - l->iocap + 1 : 1;
    for (unsigned s = first; s <= l->ionext; s++) {
        const struct hal_iobuf *b = hal_xferlog_get_io(&wdmsim_sys(r.sim)->hal, s);
        char line[160];
        snprintf(line, sizeof(line), "%5u %s %-21s %-8s %s %s", b->seq, INSP_ADDR(b->irp),
                 draw_major_name(b->major), draw_method_name(b->method), INSP_ADDR(b->sysbuf.va),
                 INSP_ADDR(b->mdl));
        if (!strstr(text, line))
            fail_msg("!iobuf lacks the line for request %u: '%s'", s, line);
    }
    free(text);
    done(&r);
}

/* wdmsim draw as a user types it, then the page in headless Chromium. */
static void t_render(void **state)
{
    (void)state;
    const char *bin = getenv("WDMSIM_BIN"), *src = getenv("WDMSIM_SOURCE");
    assert_non_null(bin);
    assert_non_null(src);
    char path[] = "/tmp/wdmsim-draw-XXXXXX.html";
    int fd = mkstemps(path, 5);
    assert_true(fd >= 0);
    close(fd);
    char cmd[4096];
    snprintf(cmd, sizeof(cmd),
             "%s draw --transfer 3 --out %s --seed 5 %s/inspect_known.so >%s.out 2>&1", bin, path,
             getenv("WDMSIM_FIXTURES"), path);
    int st = system(cmd);
    /* The fixture stops the machine: exit status 1, and the page is written. */
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 1);
    snprintf(cmd, sizeof(cmd), "%s.out", path);
    FILE *f = fopen(cmd, "r");
    assert_non_null(f);
    char out[16384];
    size_t n = fread(out, 1, sizeof(out) - 1, f);
    out[n] = 0;
    fclose(f);
    unlink(cmd);
    uint64_t logical = insp_value(out, "logical"), bigpa = insp_value(out, "bigpa");
    snprintf(cmd, sizeof(cmd),
             "python3 %s/tests/host/draw_render.py %s 'DMA transfer 3' 'PA 0x%lx' "
             "'logical 0x%lx'",
             src, path, (unsigned long)bigpa, (unsigned long)logical);
    st = system(cmd);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 77) {
        unlink(path);
        skip();
    }
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("draw_render failed (page kept at %s): %s", path, cmd);
    unlink(path);

    /* Bad numbers are refused before anything runs. */
    snprintf(cmd, sizeof(cmd),
             "%s draw --transfer x --out /dev/null %s/inspect_known.so 2>/dev/null", bin,
             getenv("WDMSIM_FIXTURES"));
    st = system(cmd);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 2);
    snprintf(cmd, sizeof(cmd), "%s run --draw /dev/null %s/inspect_known.so 2>/dev/null", bin,
             getenv("WDMSIM_FIXTURES"));
    st = system(cmd);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_transfer_numbers), cmocka_unit_test(t_log_off),
        cmocka_unit_test(t_same_run),         cmocka_unit_test(t_requests),
        cmocka_unit_test(t_render),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
