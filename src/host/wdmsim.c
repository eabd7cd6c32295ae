/*
 * src/host/wdmsim.c - the host API (include/wdmsim/wdmsim.h).
 *
 * Boot order: machine (RAM, PFN) -> ke -> mm -> cm -> ex -> io; shutdown reverses it.
 * Every entry sets the thread's current system so that the WDK routines the
 * driver calls find their machine (src/sys.h), and restores it on return.
 */
#include <stdlib.h>
#include <string.h>

#include <wdm.h>
#include <wdmsim/wdmsim.h>

#include "host/inspect.h"
#include "sys.h"

struct wdmsim {
    struct sys sys;
    struct wdmsim_bugcheck bugcheck;
};

/* For the other host files (app.c): the system behind a handle. */
struct sys *wdmsim_sys(wdmsim *sim);
struct sys *wdmsim_sys(wdmsim *sim)
{
    return &sim->sys;
}

/* Makes sim the running system for the duration of one host API call. */
static struct sys *enter(wdmsim *sim)
{
    struct sys *prev = sys_current;
    sys_current = &sim->sys;
    return prev;
}
static void leave(struct sys *prev)
{
    sys_current = prev;
}

static void copy_error(struct wdmsim_error *err, const struct machine_error *me)
{
    if (err)
        snprintf(err->text, sizeof(err->text), "%s", me->text);
}

int wdmsim_boot(const struct wdmsim_config *cfg, wdmsim **out, struct wdmsim_error *err)
{
    struct machine_config mc;
    struct machine_error me = {{0}};
    if (cfg->machine_path) {
        if (machine_config_load(&mc, cfg->machine_path, &me)) {
            copy_error(err, &me);
            return WDMSIM_EINPUT;
        }
    } else {
        machine_config_default(&mc);
    }
    uint32_t opts;
    unsigned permille;
    char verr[512];
    if (vf_parse_options(cfg->verifier ? cfg->verifier : "standard", &opts, &permille, verr,
                         sizeof(verr))) {
        if (err)
            snprintf(err->text, sizeof(err->text), "%s", verr);
        return WDMSIM_EINPUT;
    }
    char low_res_tag[16];
    if (vf_parse_low_resources_tag(cfg->verifier ? cfg->verifier : "", low_res_tag,
                                   sizeof(low_res_tag), verr, sizeof(verr))) {
        if (err)
            snprintf(err->text, sizeof(err->text), "%s", verr);
        return WDMSIM_EINPUT;
    }
    wdmsim *sim = calloc(1, sizeof(*sim));
    if (!sim) {
        if (err)
            snprintf(err->text, sizeof(err->text), "out of host memory booting the machine");
        return WDMSIM_EINPUT;
    }
    struct sys *sys = &sim->sys;
    struct sys *prev = enter(sim);
    if (machine_create(&sys->machine, &mc, cfg->seed, &me))
        goto fail;
    /* Devices before anything runs: a bad [device] section is an input
     * error (unknown model, overlapping ports, a BAR that does not fit). */
    if (machine_devices_create(&sys->machine, &me)) {
        machine_destroy(&sys->machine);
        goto fail;
    }
    ke_init(&sys->ke, &sys->machine);
    sys->ke.trace.observe = cfg->trace != 0;
    if (mm_init(&sys->mm, &sys->machine, &me)) {
        ke_fini(&sys->ke);
        machine_destroy(&sys->machine);
        goto fail;
    }
    /* --reg wins over the machine config's [registry] reg = FILE. */
    const char *reg = cfg->reg_path ? cfg->reg_path : (mc.reg_file[0] ? mc.reg_file : NULL);
    if (cm_boot(&sys->cm, cfg->hive_path, reg, me.text, sizeof(me.text))) {
        mm_fini(&sys->mm);
        ke_fini(&sys->ke);
        machine_destroy(&sys->machine);
        goto fail;
    }
    if (ex_init(&sys->ex, sys, &me)) {
        mm_fini(&sys->mm);
        ke_fini(&sys->ke);
        machine_destroy(&sys->machine);
        goto fail;
    }
    io_init(&sys->io);
    sys->io.binds = cfg->binds;
    sys->vf.options = opts;
    ex_pool_gates(&sys->ex);
    hal_init(&sys->hal, &sys->machine);
    sys->hal.double_buffer = (opts & vf_opt_double_buffer) != 0;
    sys->hal.own_protect = (opts & vf_opt_dma_ownership) != 0;
    sys->hal.logical_offset = (opts & vf_opt_logical_offset) != 0;
    sys->vf.low_res_permille = permille;
    memcpy(sys->vf.low_res_tag, low_res_tag, sizeof(sys->vf.low_res_tag));
    sys->out = cfg->out ? cfg->out : stdout;
    sys->booted = true;
    leave(prev);
    *out = sim;
    return WDMSIM_OK;
fail:
    leave(prev);
    copy_error(err, &me);
    free(sim);
    return WDMSIM_EINPUT;
}

int wdmsim_load_driver(wdmsim *sim, const char *path, struct wdmsim_error *err)
{
    struct sys *prev = enter(sim);
    struct machine_error me = {{0}};
    struct io_driver *drv;
    int rc;
    if (ke_stopped(&sim->sys.ke)) {
        rc = WDMSIM_STOPPED;
    } else if (io_driver_load(&sim->sys.io, path, &drv, &me)) {
        copy_error(err, &me);
        rc = WDMSIM_EINPUT;
    } else {
        host_break_apply(&sim->sys, drv);
        rc = io_driver_start(drv) ? WDMSIM_STOPPED : WDMSIM_OK;
    }
    leave(prev);
    return rc;
}

int wdmsim_driver_status(wdmsim *sim, const char *service, int32_t *status)
{
    for (struct io_driver *d = sim->sys.io.drivers; d; d = d->next) {
        if (!strcmp(d->service, service)) {
            *status = d->entry_status;
            return WDMSIM_OK;
        }
    }
    return WDMSIM_EINPUT;
}

int wdmsim_unload_drivers(wdmsim *sim)
{
    struct sys *prev = enter(sim);
    int rc = WDMSIM_OK;
    /* Devices go first (STOP, REMOVE), then their drivers. */
    if (!ke_stopped(&sim->sys.ke) && io_pnp_remove_all(&sim->sys.io))
        rc = WDMSIM_STOPPED;
    /* The list is newest first: unload in reverse load order. */
    for (struct io_driver *d = sim->sys.io.drivers; d && rc == WDMSIM_OK; d = d->next)
        if (d->state == io_driver_started || d->state == io_driver_loaded)
            rc = io_driver_unload(d) ? WDMSIM_STOPPED : WDMSIM_OK;
    leave(prev);
    return rc;
}

int wdmsim_call(wdmsim *sim, void (*fn)(void *arg), void *arg)
{
    struct sys *prev = enter(sim);
    int rc = ke_call(&sim->sys.ke, fn, arg) ? WDMSIM_STOPPED : WDMSIM_OK;
    leave(prev);
    return rc;
}

const struct wdmsim_bugcheck *wdmsim_get_bugcheck(wdmsim *sim)
{
    const struct ke_bugcheck *bc = &sim->sys.ke.bugcheck;
    if (!bc->raised)
        return NULL;
    sim->bugcheck.code = bc->code;
    sim->bugcheck.name = vf_bugcheck_name(bc->code);
    memcpy(sim->bugcheck.parameters, bc->param, sizeof(bc->param));
    sim->bugcheck.rule = bc->rule ? bc->rule->id : NULL;
    sim->bugcheck.text = bc->text;
    return &sim->bugcheck;
}

unsigned wdmsim_violations(wdmsim *sim)
{
    return sim->sys.vf.reported;
}

void wdmsim_report_print(wdmsim *sim, FILE *out)
{
    struct sys *prev = enter(sim);
    vf_report_print(&sim->sys, out);
    leave(prev);
}

void wdmsim_report_json(wdmsim *sim, FILE *out, int exit_status)
{
    struct sys *prev = enter(sim);
    vf_report_json(&sim->sys, out, exit_status);
    leave(prev);
}

void wdmsim_pool_usage(wdmsim *sim, FILE *out)
{
    ex_pool_usage_print(&sim->sys.ex, out);
}

void wdmsim_shutdown(wdmsim *sim)
{
    if (!sim)
        return;
    struct sys *prev = enter(sim);
    struct sys *sys = &sim->sys;
    io_irp_fini(&sys->io);
    io_fini(&sys->io);
    mm_iomap_fini(&sys->mm);
    mm_mdl_fini(&sys->mm);
    hal_fini(&sys->hal);
    char cm_err[512];
    if (cm_shutdown(&sys->cm, cm_err, sizeof(cm_err)))
        fprintf(stderr, "wdmsim: registry: %s\n", cm_err);
    ex_fini(&sys->ex); /* before mm_fini: see src/ex/ex.c */
    mm_fini(&sys->mm);
    ke_fini(&sys->ke);
    machine_devices_destroy(&sys->machine);
    machine_destroy(&sys->machine);
    host_break_fini(sys);
    leave(prev);
    free(sim);
}

struct rules_ctx {
    void (*fn)(const struct wdmsim_rule_info *, void *);
    void *ctx;
};

static void each_rule(const struct vf_rule *r, void *arg)
{
    struct rules_ctx *c = arg;
    struct wdmsim_rule_info info = {r->id,
                                    r->code,
                                    r->p1,
                                    r->subcode_in_p4,
                                    r->text,
                                    r->fixture,
                                    vf_option_name(r->option),
                                    r->continues};
    c->fn(&info, c->ctx);
}

void wdmsim_rules(void (*fn)(const struct wdmsim_rule_info *rule, void *ctx), void *ctx)
{
    struct rules_ctx c = {fn, ctx};
    vf_rules_foreach(each_rule, &c);
}

/* ---- devices (src/io/pnp.c, src/io/request.c) ------------------------------------ */

int wdmsim_start_devices(wdmsim *sim)
{
    struct sys *prev = enter(sim);
    int rc =
        ke_stopped(&sim->sys.ke) || io_pnp_start_all(&sim->sys.io) ? WDMSIM_STOPPED : WDMSIM_OK;
    leave(prev);
    return rc;
}

struct device_io_call {
    PDEVICE_OBJECT dev;
    unsigned major;
    uint32_t code;
    const void *in;
    void *out;
    uint32_t in_len, out_len;
    int32_t status;
    uint64_t info;
};

/* The caller's buffers in simulated memory: a host pointer is not an
 * address the simulated machine can describe with an MDL. */
static void device_io_thread(void *arg)
{
    struct device_io_call *c = arg;
    struct sys *sys = sys_get();
    uint64_t ps = sys->mm.page_size;
    uint64_t in_pages = (c->in_len + ps - 1) / ps, out_pages = (c->out_len + ps - 1) / ps;
    uint8_t *in = in_pages ? mm_alloc_pages(&sys->mm, in_pages, UINT64_MAX) : NULL;
    uint8_t *out = out_pages ? mm_alloc_pages(&sys->mm, out_pages, UINT64_MAX) : NULL;
    if ((in_pages && !in) || (out_pages && !out)) {
        c->status = STATUS_INSUFFICIENT_RESOURCES;
    } else {
        if (in)
            memcpy(in, c->in, c->in_len);
        if (out)
            memset(out, 0, c->out_len);
        c->status = io_request(c->dev, (uint8_t)c->major, c->code, in, c->in_len, out, c->out_len,
                               0, &c->info);
        if (out)
            memcpy(c->out, out, c->out_len);
    }
    if (in)
        mm_free_pages(&sys->mm, in, in_pages);
    if (out)
        mm_free_pages(&sys->mm, out, out_pages);
}

int wdmsim_device_io(wdmsim *sim, const char *name, unsigned major, uint32_t code, const void *in,
                     uint32_t in_len, void *out, uint32_t out_len, int32_t *status,
                     uint64_t *information)
{
    struct sys *prev = enter(sim);
    struct device_io_call c = {
        .major = major, .code = code, .in = in, .out = out, .in_len = in_len, .out_len = out_len};
    int rc = WDMSIM_EINPUT;
    c.dev = io_device_by_name(&sim->sys.io, name);
    if (c.dev && !ke_stopped(&sim->sys.ke))
        rc = ke_call(&sim->sys.ke, device_io_thread, &c) ? WDMSIM_STOPPED : WDMSIM_OK;
    else if (ke_stopped(&sim->sys.ke))
        rc = WDMSIM_STOPPED;
    if (status)
        *status = c.status;
    if (information)
        *information = c.info;
    leave(prev);
    return rc;
}

struct wdmsim_dev *wdmsim_device(wdmsim *sim, const char *instance)
{
    for (unsigned i = 0; i < machine_device_count(&sim->sys.machine); i++) {
        struct wdmsim_dev *d = machine_device_at(&sim->sys.machine, i);
        if (!strcmp(machine_device_config_of(d)->name, instance))
            return d;
    }
    return NULL;
}

unsigned wdmsim_device_violations(wdmsim *sim)
{
    return machine_device_violations(&sim->sys.machine);
}
