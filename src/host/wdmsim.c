/*
 * src/host/wdmsim.c - the host API (include/wdmsim/wdmsim.h).
 *
 * Boot order: machine (RAM, PFN) -> ke -> mm -> io; shutdown reverses it.
 * Every entry sets the thread's current system so that the WDK routines the
 * driver calls find their machine (src/sys.h), and restores it on return.
 */
#include <stdlib.h>
#include <string.h>

#include <wdmsim/wdmsim.h>

#include "sys.h"

struct wdmsim {
    struct sys sys;
    struct wdmsim_bugcheck bugcheck;
};

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
    ke_init(&sys->ke, &sys->machine);
    if (mm_init(&sys->mm, &sys->machine, &me)) {
        ke_fini(&sys->ke);
        machine_destroy(&sys->machine);
        goto fail;
    }
    io_init(&sys->io);
    sys->vf.options = opts;
    sys->vf.low_res_permille = permille;
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

void wdmsim_shutdown(wdmsim *sim)
{
    if (!sim)
        return;
    struct sys *prev = enter(sim);
    struct sys *sys = &sim->sys;
    io_fini(&sys->io);
    mm_fini(&sys->mm);
    ke_fini(&sys->ke);
    machine_destroy(&sys->machine);
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
    struct wdmsim_rule_info info = {r->id, r->code, r->p1, r->subcode_in_p4, r->text, r->fixture};
    c->fn(&info, c->ctx);
}

void wdmsim_rules(void (*fn)(const struct wdmsim_rule_info *rule, void *ctx), void *ctx)
{
    struct rules_ctx c = {fn, ctx};
    vf_rules_foreach(each_rule, &c);
}
