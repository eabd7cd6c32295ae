/*
 * tools/wdmsim/main.c - the wdmsim command.
 *
 *   wdmsim run [--machine FILE.ini] [--seed N] [--verifier LIST]
 *              [--report-json FILE] DRIVER.so...
 *   wdmsim run ... [--reg FILE.reg] [--hive FILE.hiv] DRIVER.so...
 *   wdmsim run ... [--inspect] [--cmd CMD]... [--break-on WHAT]... [--trace FILE.json]
 *   wdmsim run ... --app APP.so DRIVER.so... [-- ARGS...]
 *   wdmsim run ... [--summary | --no-summary]  (on by default with --app)
 *   wdmsim run ... --draw FILE.html --draw-transfer N | --draw-irp N (draw.c)
 *   wdmsim draw --transfer N [--irp N] --out FILE.html [run options] DRIVER.so...
 *   wdmsim reg import|export|query ... (reg.c)
 *   wdmsim rules
 *
 * Exit status: 0 the run was clean (and the app, if any, returned 0); 1 a
 * bug check, a verifier violation, a failed DriverEntry or an app that
 * returned non-zero; 2 bad arguments or input (the message names the
 * file, the line and the problem).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <wdmsim/wdmsim.h>

#include "draw.h"
#include "inspect.h"
#include "reg.h"

enum { exit_clean = 0, exit_failed = 1, exit_input = 2 };

static void usage(FILE *out)
{
    fputs("usage: wdmsim run [--machine FILE.ini] [--seed N|random] [--verifier LIST]\n"
          "                  [--report-json FILE] [--pool-usage] [--app APP.so]\n"
          "                  DRIVER.so... [-- ARGS...]\n"
          "       wdmsim reg import|export|query ... (wdmsim reg --help)\n"
          "       wdmsim draw --transfer N [--irp N] --out FILE.html [run options] DRIVER.so...\n"
          "       wdmsim rules [--long]\n"
          "       wdmsim --help\n"
          "\n"
          "run     boot the machine, load each driver (DriverEntry), unload them all\n"
          "        (DriverUnload), shut down. DbgPrint output goes to standard output,\n"
          "        a bug check report to standard error.\n"
          "rules   list every verifier rule: id, stop code, parameter 1, explanation;\n"
          "        --long: tab-separated, with option, action and fixture\n"
          "\n"
          "--verifier LIST  comma-separated: none, standard (default), all, special-pool,\n"
          "                 irql-checking, low-resources[=PERMILLE], pool-tracking, io,\n"
          "                 deadlock, dma, misc, ddi, double-buffer\n"
          "--pool-usage     print pool use by tag (poolmon columns) at the end\n"
          "--app APP.so     once the devices have started, run the app (its main gets\n"
          "                 APP.so and ARGS) in a user process; its output is ours\n"
          "--summary        print a short report at the end: what ran, DMA bytes, S/G\n"
          "                 elements, bounce bytes, map registers, IRPs, the verifier's\n"
          "                 verdict, pool use (default with --app; --no-summary: off)\n"
          "--bind MODEL=SERVICE  serve every device of MODEL with driver SERVICE (the\n"
          "                 driver file name without .so), overriding the config's driver =\n"
          "--reg FILE.reg   import the .reg file into the registry at boot\n"
          "--hive FILE.hiv  the SYSTEM hive: loaded at boot if it exists, written at\n"
          "                 ZwFlushKey and shutdown (atomically)\n"
          "--inspect        a kd> prompt (docs/inspect.md) at the stop, or at the end of the\n"
          "                 run before the drivers unload\n"
          "--cmd 'CMD'      run an inspector command there and print it (repeatable)\n"
          "--break-on WHAT  inspect at this stop only: BUGCHECK, a rule id, or\n"
          "                 DRIVER!Function (stops when the function is first entered)\n"
          "--trace FILE     write a Chrome/Perfetto trace of the run (docs/trace.md)\n"
          "--draw FILE.html with --draw-transfer N (the Nth DMA transfer, as !xfer lists them)\n"
          "                 and/or --draw-irp N (the Nth request): an HTML drawing of its\n"
          "                 address spaces (docs/draw.md)\n"
          "exit status: 0 clean, 1 bug check or violation, 2 bad arguments or input\n",
          out);
}

static int parse_seed(const char *s, uint64_t *seed)
{
    if (!strcmp(s, "random")) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        *seed = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20);
        return 0;
    }
    char *end;
    *seed = strtoull(s, &end, 0);
    return (*s && !*end) ? 0 : -1;
}

static int cmd_run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"machine", required_argument, NULL, 'm'},
        {"seed", required_argument, NULL, 's'},
        {"verifier", required_argument, NULL, 'v'},
        {"report-json", required_argument, NULL, 'j'},
        {"reg", required_argument, NULL, 'R'},
        {"hive", required_argument, NULL, 'H'},
        {"pool-usage", no_argument, NULL, 'P'},
        {"bind", required_argument, NULL, 'B'},
        {"app", required_argument, NULL, 'A'},
        {"inspect", no_argument, NULL, 'I'},
        {"cmd", required_argument, NULL, 'C'},
        {"break-on", required_argument, NULL, 'K'},
        {"trace", required_argument, NULL, 'T'},
        {"summary", no_argument, NULL, 'S'},
        {"no-summary", no_argument, NULL, 'N'},
        {"draw", required_argument, NULL, 'D'},
        {"draw-transfer", required_argument, NULL, 'X'},
        {"draw-irp", required_argument, NULL, 'Q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct wdmsim_config cfg = {.seed = 1};
    const char *json_path = NULL;
    const char *app = NULL;
    int pool_usage = 0;
    int summary = -1; /* -1: with --app */
    /* Everything after "--" belongs to the app. */
    int app_argc = 0;
    char **app_argv = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--")) {
            app_argc = argc - i - 1;
            app_argv = argv + i + 1;
            argc = i;
            break;
        }
    }
    const char *binds[65] = {0};
    unsigned nbinds = 0;
    const char *cmds[64], *breaks[16], *trace_path = NULL;
    unsigned ncmds = 0, nbreaks = 0;
    int inspect = 0;
    const char *draw_path = NULL;
    unsigned draw_xfer = 0, draw_irp = 0;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:s:v:j:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm':
            cfg.machine_path = optarg;
            break;
        case 's':
            if (parse_seed(optarg, &cfg.seed)) {
                fprintf(stderr, "wdmsim: --seed %s: expected a number or 'random'\n", optarg);
                return exit_input;
            }
            break;
        case 'v':
            cfg.verifier = optarg;
            break;
        case 'j':
            json_path = optarg;
            break;
        case 'R':
            cfg.reg_path = optarg;
            break;
        case 'H':
            cfg.hive_path = optarg;
            break;
        case 'P':
            pool_usage = 1;
            break;
        case 'A':
            app = optarg;
            break;
        case 'B':
            if (!strchr(optarg, '=') || nbinds == 64) {
                fprintf(stderr, "wdmsim: --bind %s: expected MODEL=SERVICE (at most 64)\n", optarg);
                return exit_input;
            }
            binds[nbinds++] = optarg;
            break;
        case 'I':
            inspect = 1;
            break;
        case 'C':
            if (ncmds == 64) {
                fprintf(stderr, "wdmsim: --cmd: at most 64\n");
                return exit_input;
            }
            cmds[ncmds++] = optarg;
            break;
        case 'K':
            if (nbreaks == 16) {
                fprintf(stderr, "wdmsim: --break-on: at most 16\n");
                return exit_input;
            }
            breaks[nbreaks++] = optarg;
            break;
        case 'T':
            trace_path = optarg;
            break;
        case 'S':
            summary = 1;
            break;
        case 'N':
            summary = 0;
            break;
        case 'D':
            draw_path = optarg;
            break;
        case 'X':
            if (tool_draw_number("--draw-transfer", optarg, &draw_xfer))
                return exit_input;
            break;
        case 'Q':
            if (tool_draw_number("--draw-irp", optarg, &draw_irp))
                return exit_input;
            break;
        case 'h':
            usage(stdout);
            return exit_clean;
        default:
            usage(stderr);
            return exit_input;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "wdmsim run: no driver given\n");
        usage(stderr);
        return exit_input;
    }
    if (!draw_path != !(draw_xfer || draw_irp)) {
        fprintf(stderr, "wdmsim: --draw FILE goes with --draw-transfer N and/or --draw-irp N\n");
        return exit_input;
    }
    FILE *json = NULL;
    if (json_path && !(json = fopen(json_path, "w"))) {
        perror(json_path);
        return exit_input;
    }

    cfg.binds = binds;
    cfg.trace = trace_path != NULL;
    wdmsim *sim;
    struct wdmsim_error err = {{0}};
    if (wdmsim_boot(&cfg, &sim, &err) != WDMSIM_OK) {
        fprintf(stderr, "wdmsim: %s\n", err.text);
        if (json)
            fclose(json);
        return exit_input;
    }
    /* The transfer log, for --draw and the inspector's !xfer / !draw. */
    if ((draw_path || inspect || ncmds || nbreaks) && wdmsim_draw_record(sim) != WDMSIM_OK)
        fprintf(stderr, "wdmsim: no memory for the transfer log; drawings are off\n");
    for (unsigned i = 0; i < nbreaks; i++) {
        if (wdmsim_break_on(sim, breaks[i], &err) != WDMSIM_OK) {
            fprintf(stderr, "wdmsim: %s\n", err.text);
            wdmsim_shutdown(sim);
            if (json)
                fclose(json);
            return exit_input;
        }
    }
    /* The inspector: at the end of the run (drivers still loaded) with
     * --inspect, or --cmd alone; at a stop with those, or when the stop is
     * one --break-on names. A prompt with --inspect, or --break-on alone. */
    int interactive = inspect || (nbreaks && !ncmds);
    int at_end = inspect || (ncmds && !nbreaks), inspected = 0;
    unsigned cmd_failures = 0;
    int status = exit_clean;
    int rc = WDMSIM_OK;
    for (int i = optind; i < argc && rc == WDMSIM_OK; i++) {
        rc = wdmsim_load_driver(sim, argv[i], &err);
        if (rc == WDMSIM_EINPUT) {
            fprintf(stderr, "wdmsim: %s\n", err.text);
            status = exit_input;
        }
    }
    if (rc == WDMSIM_OK) {
        for (int i = optind; i < argc; i++) {
            char service[128];
            const char *base = strrchr(argv[i], '/');
            snprintf(service, sizeof(service), "%s", base ? base + 1 : argv[i]);
            char *dot = strstr(service, ".so");
            if (dot && !dot[3])
                *dot = 0;
            int32_t st;
            if (wdmsim_driver_status(sim, service, &st) == WDMSIM_OK && st < 0) {
                fprintf(stderr, "wdmsim: DriverEntry of %s returned 0x%08X\n", service,
                        (unsigned)st);
                status = exit_failed;
            }
        }
    }
    /* PnP: devices start once every driver is loaded (AddDevice, START). */
    if (rc == WDMSIM_OK && status != exit_input)
        rc = wdmsim_start_devices(sim);
    int app_ran = 0, app_status = 0;
    if (app && rc == WDMSIM_OK && status != exit_input) {
        rc = wdmsim_run_app(sim, app, app_argc, app_argv, &app_status, &err);
        app_ran = rc == WDMSIM_OK;
        if (rc == WDMSIM_EINPUT) {
            fprintf(stderr, "wdmsim: %s\n", err.text);
            status = exit_input;
        } else if (rc == WDMSIM_OK && app_status != 0) {
            fprintf(stderr, "wdmsim: app %s returned %d (0x%08X)\n", app, app_status,
                    (unsigned)app_status);
            status = exit_failed;
        }
    }
    if (rc == WDMSIM_OK && status != exit_input && at_end) {
        cmd_failures +=
            tool_inspect(sim, cmds, ncmds, interactive, "end of the run (drivers still loaded)");
        inspected = 1;
    }
    if (rc != WDMSIM_STOPPED && status != exit_input)
        rc = wdmsim_unload_drivers(sim);
    if (pool_usage)
        wdmsim_pool_usage(sim, stdout);
    if (summary < 0)
        summary = app != NULL;
    if (summary && status != exit_input) {
        const char *drivers[65] = {0};
        for (int i = optind, k = 0; i < argc && k < 64; i++, k++)
            drivers[k] = argv[i];
        struct wdmsim_run_info info = {.machine = cfg.machine_path,
                                       .seed = cfg.seed,
                                       .verifier = cfg.verifier,
                                       .drivers = drivers,
                                       .app = app,
                                       .app_ran = app_ran,
                                       .app_exit = app_status};
        fflush(stdout);
        wdmsim_summary_print(sim, &info, stdout);
    }
    fflush(stdout);
    if (rc == WDMSIM_STOPPED) {
        wdmsim_report_print(sim, stderr);
        status = exit_failed;
        int matched = 0;
        for (unsigned i = 0; i < nbreaks && !matched; i++)
            matched = wdmsim_break_matches(sim, breaks[i]);
        if (!inspected && (matched || (!nbreaks && (inspect || ncmds)))) {
            fflush(stderr);
            cmd_failures += tool_inspect(sim, cmds, ncmds, interactive, "the machine stopped");
        }
    }
    if (trace_path) {
        FILE *tf = fopen(trace_path, "w");
        if (!tf || wdmsim_trace_write(sim, tf) != WDMSIM_OK) {
            perror(trace_path);
            status = exit_input;
        }
        if (tf)
            fclose(tf);
    }
    if (draw_path && tool_draw_write(sim, draw_path, draw_xfer, draw_irp))
        status = exit_input;
    if (cmd_failures && status == exit_clean)
        status = exit_input;
    if (wdmsim_device_violations(sim) && status == exit_clean)
        status = exit_failed;
    if (wdmsim_violations(sim) && status == exit_clean)
        status = exit_failed;
    if (json) {
        wdmsim_report_json(sim, json, status);
        fclose(json);
    }
    wdmsim_shutdown(sim);
    return status;
}

static void print_rule(const struct wdmsim_rule_info *r, void *ctx)
{
    (void)ctx;
    printf("%-34s 0x%-4X %s0x%-9" PRIX64 " %s\n", r->id, r->code,
           r->subcode_in_p4 ? "P4=" : "P1=", r->p1, r->text);
}

/* --long: one tab-separated line per rule, for scripts (scripts/gen-rule-table.sh). */
static void print_rule_long(const struct wdmsim_rule_info *r, void *ctx)
{
    (void)ctx;
    printf("%s\t0x%X\t%s0x%" PRIX64 "\t%s\t%s\t%s\t%s\n", r->id, r->code,
           r->subcode_in_p4 ? "P4=" : "P1=", r->p1, r->option, r->continues ? "continue" : "stop",
           r->fixture ? r->fixture : "-", r->text);
}

static int cmd_rules(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "--long")) {
        printf("RULE\tSTOP\tSUBCODE\tOPTION\tACTION\tFIXTURE\tEXPLANATION\n");
        wdmsim_rules(print_rule_long, NULL);
        return exit_clean;
    }
    if (argc > 1) {
        fprintf(stderr, "wdmsim rules: unknown argument '%s' (--long)\n", argv[1]);
        return exit_input;
    }
    printf("%-34s %-6s %-12s %s\n", "RULE", "STOP", "SUBCODE", "EXPLANATION");
    wdmsim_rules(print_rule, NULL);
    return exit_clean;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return exit_input;
    }
    if (!strcmp(argv[1], "run"))
        return cmd_run(argc - 1, argv + 1);
    if (!strcmp(argv[1], "draw")) {
        char **v = tool_draw_argv(argc - 1, argv + 1);
        if (!v) {
            perror("wdmsim draw");
            return exit_input;
        }
        int rc = cmd_run(argc - 1, v);
        free(v);
        return rc;
    }
    if (!strcmp(argv[1], "reg"))
        return cmd_reg(argc - 1, argv + 1);
    if (!strcmp(argv[1], "rules"))
        return cmd_rules(argc - 1, argv + 1);
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return exit_clean;
    }
    fprintf(stderr, "wdmsim: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return exit_input;
}
