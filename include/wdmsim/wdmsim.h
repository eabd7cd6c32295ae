/*
 * include/wdmsim/wdmsim.h - the host API: boot a simulated machine, load
 * drivers into it, run them, read what happened.
 *
 * Everything here runs on the host side (sysv, glibc). One machine is used
 * by one host thread at a time. Every call that runs driver code returns
 * WDMSIM_STOPPED if the machine stopped on a bug check during it; the
 * machine then runs nothing more, and the report describes the stop.
 */
#ifndef WDMSIM_WDMSIM_H
#define WDMSIM_WDMSIM_H

#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WDMSIM_API __attribute__((visibility("default")))

typedef struct wdmsim wdmsim;

enum wdmsim_status {
    WDMSIM_OK = 0,
    WDMSIM_STOPPED = 1, /* a bug check stopped the machine */
    WDMSIM_EINPUT = 2,  /* bad argument, config or driver file: see the error text */
};

struct wdmsim_error {
    char text[512];
};

struct wdmsim_config {
    const char *machine_path; /* INI machine config; NULL = the default machine */
    uint64_t seed;            /* every random choice derives from it */
    const char *verifier;     /* --verifier list; NULL = "standard" */
    FILE *out;                /* DbgPrint output; NULL = stdout */
    const char *reg_path;     /* .reg file imported at boot (after the hive); NULL = none */
    const char *hive_path;    /* SYSTEM hive file (regf): loaded at boot if it exists,
                                 written at ZwFlushKey and shutdown; NULL = not persisted */
    const char *const *binds; /* "MODEL=SERVICE" (--bind), NULL-terminated; NULL = none */
    int trace;                /* keep the event trace for wdmsim_trace_write (--trace) */
};

struct wdmsim_bugcheck {
    uint32_t code;
    const char *name;
    uint64_t parameters[4];
    const char *rule; /* rule id, or NULL when the driver called KeBugCheckEx */
    const char *text;
};

/* Boots a machine. WDMSIM_OK, or WDMSIM_EINPUT with err naming file, line
 * and problem (nothing is left allocated). */
WDMSIM_API int wdmsim_boot(const struct wdmsim_config *cfg, wdmsim **out, struct wdmsim_error *err);
/* Loads a driver and calls its DriverEntry. WDMSIM_OK (DriverEntry ran: see
 * wdmsim_driver_status), WDMSIM_STOPPED, or WDMSIM_EINPUT with err. */
WDMSIM_API int wdmsim_load_driver(wdmsim *sim, const char *path, struct wdmsim_error *err);
/* NTSTATUS DriverEntry returned for the service (file name without .so). */
WDMSIM_API int wdmsim_driver_status(wdmsim *sim, const char *service, int32_t *status);
/* Calls DriverUnload of every started driver, last loaded first. */
WDMSIM_API int wdmsim_unload_drivers(wdmsim *sim);
/* Runs host code fn(arg) as kernel code on processor 0 at PASSIVE_LEVEL, so
 * that tests may call WDK routines directly. WDMSIM_OK or WDMSIM_STOPPED. */
WDMSIM_API int wdmsim_call(wdmsim *sim, void (*fn)(void *arg), void *arg);
/* The stop, or NULL when the machine has not stopped. Valid until shutdown. */
WDMSIM_API const struct wdmsim_bugcheck *wdmsim_get_bugcheck(wdmsim *sim);
/* Violations reported without stopping (report-and-continue rules). */
WDMSIM_API unsigned wdmsim_violations(wdmsim *sim);
/* The debugger-style report (nothing if no stop) and the JSON report. */
WDMSIM_API void wdmsim_report_print(wdmsim *sim, FILE *out);
WDMSIM_API void wdmsim_report_json(wdmsim *sim, FILE *out, int exit_status);
/* poolmon-style table of pool use by tag: Tag, Type, Allocs, Frees, Diff,
 * Bytes (the bytes the blocks occupy, headers and page rounding included). */
WDMSIM_API void wdmsim_pool_usage(wdmsim *sim, FILE *out);
/* Frees the machine and unmaps every driver image. */
WDMSIM_API void wdmsim_shutdown(wdmsim *sim);

/* ---- seeing inside (docs/inspect.md, docs/trace.md) ------------------------------
 * Runs one WinDbg-style command ("!pool ADDR", "!vtop ADDR", "dt _MDL ADDR",
 * "db ADDR L20" ...) on the machine, stopped or between calls, and prints
 * the answer to out. Runs no driver code and changes nothing. WDMSIM_OK, or
 * WDMSIM_EINPUT for an unknown command or bad argument (the message is
 * printed to out). "help" lists the commands. */
WDMSIM_API int wdmsim_inspect(wdmsim *sim, const char *cmd, FILE *out);
/* Where to stop (wdmsim run --break-on): "BUGCHECK" (any stop), a rule id
 * (that rule; a report-and-continue rule then stops too), or
 * "DRIVER!Function" (a breakpoint: the machine stops with bug check 0x1E
 * KMODE_EXCEPTION_NOT_HANDLED, P1 0x80000003, P2 the address, when the
 * function is first entered; set before the driver is loaded). WDMSIM_OK
 * or WDMSIM_EINPUT with err (unknown rule). */
WDMSIM_API int wdmsim_break_on(wdmsim *sim, const char *spec, struct wdmsim_error *err);
/* True when the machine's stop is what spec names (same spellings). */
WDMSIM_API int wdmsim_break_matches(wdmsim *sim, const char *spec);
/* Writes the run so far as a Chrome/Perfetto trace-event JSON file (the
 * machine booted with config trace set). WDMSIM_OK, or WDMSIM_EINPUT when
 * tracing was off. */
WDMSIM_API int wdmsim_trace_write(wdmsim *sim, FILE *out);
/* Drawings (docs/draw.md). wdmsim_draw_record starts the transfer log that
 * drawings read: the last 256 DMA transfers (MapTransfer or list build to
 * flush or put: pages, frames, map registers, elements, bounce copies) and
 * the buffers of the last 64 requests the I/O manager built. Call it after
 * wdmsim_boot, before the drivers run; off, the log costs nothing.
 * WDMSIM_OK or WDMSIM_EINPUT (out of memory). wdmsim_draw writes a
 * self-contained HTML page (inline SVG, no script) drawing DMA transfer
 * `transfer` (1 = the first mapped, as the trace numbers them) and/or
 * request `irp` (1 = the first built); 0 = not that one. WDMSIM_OK, or
 * WDMSIM_EINPUT with err (log off, number not recorded). */
WDMSIM_API int wdmsim_draw_record(wdmsim *sim);
WDMSIM_API int wdmsim_draw(wdmsim *sim, unsigned transfer, unsigned irp, FILE *out,
                           struct wdmsim_error *err);

/* Registry files without a machine (`wdmsim reg`). A registry is built
 * from the SYSTEM hive file (hive_path, may be NULL or not yet exist) and a
 * .reg file (reg_path, may be NULL), then:
 * - import: writes the result to hive_path atomically (hive_path required);
 * - export: prints the subtree at key ("HKLM\SYSTEM" style, NULL = HKLM\SYSTEM)
 *   as .reg text, version 4 (REGEDIT4) or 5;
 * - query: prints the key's values (value NULL) or one value, reg.exe style.
 * WDMSIM_OK, or WDMSIM_EINPUT with err (file, line and problem; or the key
 * or value that does not exist). */
WDMSIM_API int wdmsim_reg_import(const char *hive_path, const char *reg_path,
                                 struct wdmsim_error *err);
WDMSIM_API int wdmsim_reg_export(const char *hive_path, const char *reg_path, const char *key,
                                 int version, FILE *out, struct wdmsim_error *err);
WDMSIM_API int wdmsim_reg_query(const char *hive_path, const char *reg_path, const char *key,
                                const char *value, FILE *out, struct wdmsim_error *err);

/* Verifier rules, for `wdmsim rules`. */
struct wdmsim_rule_info {
    const char *id;
    uint32_t code;
    uint64_t p1;
    int subcode_in_p4;
    const char *text;
    const char *fixture;
    const char *option; /* the --verifier word that enables it ("os": always) */
    int continues;      /* reports and continues instead of stopping */
};
WDMSIM_API void wdmsim_rules(void (*fn)(const struct wdmsim_rule_info *rule, void *ctx), void *ctx);

/* ---- devices --------------------------------------------------------------------
 * After the drivers are loaded: enumerate the machine's devices, AddDevice
 * and IRP_MN_START_DEVICE for each bound one (config driver = or a bind).
 * wdmsim_unload_drivers sends STOP and REMOVE first. */
WDMSIM_API int wdmsim_start_devices(wdmsim *sim);
/* One request as the I/O manager builds it for a caller in kernel mode:
 * major 3 (read: out), 4 (write: in) or 14 (device control: code, in, out).
 * name: "\\.\\X" (symbolic link) or "\\Device\\X". The buffers are copied
 * into simulated memory and back. WDMSIM_OK (status, information filled),
 * WDMSIM_STOPPED, or WDMSIM_EINPUT (no such device). */
WDMSIM_API int wdmsim_device_io(wdmsim *sim, const char *name, unsigned major, uint32_t code,
                                const void *in, uint32_t in_len, void *out, uint32_t out_len,
                                int32_t *status, uint64_t *information);
/* Runs an app (include/wdmsim/win32.h: a shared object whose exported
 * `int main(int argc, char **argv)` is built as a Windows x64 app) in a
 * process of its own, with argv[0] = path and argv[1..argc] = argv; call it
 * after wdmsim_start_devices. Its printf output goes to the config's out.
 * WDMSIM_OK with *exit_code (main's value, exit()'s, or 0xC0000005 when the
 * app's own code faulted), WDMSIM_STOPPED (a bug check during the run), or
 * WDMSIM_EINPUT with err (no such image, no main). */
WDMSIM_API int wdmsim_run_app(wdmsim *sim, const char *path, int argc, char **argv, int *exit_code,
                              struct wdmsim_error *err);
/* A device instance by its config name, for the models' test hooks
 * (include/wdmsim/device.h, devices/<model>.h); NULL when none. */
WDMSIM_API struct wdmsim_dev *wdmsim_device(wdmsim *sim, const char *instance);
/* Violations the device models reported (devices/README.md 8). */
WDMSIM_API unsigned wdmsim_device_violations(wdmsim *sim);

/* ---- the run in numbers (wdmsim run's summary; docs/samples.md) -----------------
 * Counters since boot; reading them changes nothing. Valid after a stop and
 * after wdmsim_unload_drivers (until shutdown). */
struct wdmsim_stats {
    uint64_t virtual_ns;                     /* the machine's virtual clock */
    uint64_t dma_to_device, dma_from_device; /* bytes the bus moved for devices (bus
                                               masters and the 8237) */
    unsigned dma_adapters;                   /* IoGetDmaAdapter successes */
    uint64_t sg_lists, sg_elements;          /* scatter/gather lists built, their elements */
    uint64_t bounce_bytes;                   /* copied into or out of bounce buffers */
    unsigned map_register_high_water;        /* most registers one adapter had at once */
    unsigned map_register_count;             /* how many that adapter had */
    uint64_t irps_completed, irps_failed, irps_cancelled;
    uint64_t reads, writes; /* successful IRP_MJ_READ / IRP_MJ_WRITE */
    uint64_t read_bytes, written_bytes;
    unsigned violations, device_violations; /* wdmsim_violations, wdmsim_device_violations */
};
WDMSIM_API void wdmsim_get_stats(wdmsim *sim, struct wdmsim_stats *out);

/* What the caller ran, for the summary's first lines. */
struct wdmsim_run_info {
    const char *machine; /* config path; NULL = the built-in default */
    uint64_t seed;
    const char *verifier;       /* NULL = "standard" */
    const char *const *drivers; /* driver paths, NULL-terminated */
    const char *app;            /* NULL = no app */
    int app_ran, app_exit;      /* main's value when app_ran */
};
/* A short, plain-words report of the run: what ran, DMA (bytes moved, S/G
 * elements, bounce bytes, map-register high-water mark), IRPs, the
 * verifier's verdict, pool use by tag. Call it after the drivers unloaded
 * (or after a stop) so that the pool lines show what was left behind. */
WDMSIM_API void wdmsim_summary_print(wdmsim *sim, const struct wdmsim_run_info *run, FILE *out);

#ifdef __cplusplus
}
#endif
#endif
