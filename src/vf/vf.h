/*
 * src/vf/vf.h - the verifier: rule catalogue, options, violations, reports.
 *
 * Models: Driver Verifier's checks and bug check reports, made stricter
 * (spec/verifier.md). Each layer declares its rules (struct vf_rule) beside
 * the code they watch and exports them as a list through its own header;
 * catalogue.c names every list. A check calls vf_fire(); when the rule's
 * option is off, that is one flag test.
 */
#ifndef WDMSIM_VF_H
#define WDMSIM_VF_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Verifier options. Bits mirror Driver Verifier's flags where one exists. */
enum vf_option {
    vf_opt_os = 0, /* Windows itself stops: always on */
    vf_opt_special_pool = 0x1,
    vf_opt_irql_checking = 0x2, /* force IRQL checking: trim on raise */
    vf_opt_low_resources = 0x4,
    vf_opt_pool_tracking = 0x8,
    vf_opt_io = 0x10,
    vf_opt_deadlock = 0x20,
    vf_opt_dma = 0x80,
    vf_opt_misc = 0x800,
    vf_opt_ddi = 0x20000,
    vf_opt_code_integrity = 0x2000000,  /* executable pool types (pool.executable) */
    vf_opt_dma_ownership = 0x4000000,   /* DMA: protect buffers the device owns (hal/own.c) */
    vf_opt_logical_offset = 0x8000000,  /* DMA: masters' logical address != physical */
    vf_opt_auto = 0x40000000,           /* DV automatic checks; wdmsim-only checks */
    vf_opt_double_buffer = 0x80000000u, /* DMA: bounce every mapped transfer */
};

#define VF_OPTS_STANDARD                                                                           \
    (vf_opt_auto | vf_opt_pool_tracking | vf_opt_io | vf_opt_deadlock | vf_opt_dma | vf_opt_misc | \
     vf_opt_ddi | vf_opt_dma_ownership)
#define VF_OPTS_ALL                                                                         \
    (VF_OPTS_STANDARD | vf_opt_special_pool | vf_opt_irql_checking | vf_opt_double_buffer | \
     vf_opt_logical_offset)

/* One verifier rule, as spec/verifier.md defines it. */
struct vf_rule {
    const char *id;        /* stable: "area.name" */
    uint32_t code;         /* bug check code */
    uint64_t p1;           /* parameter 1 subcode (for 0xC1: parameter 4) */
    bool subcode_in_p4;    /* 0xC1 SPECIAL_POOL_DETECTED_MEMORY_CORRUPTION */
    const char *params[3]; /* meaning of the other three parameters, in order */
    const char *text;      /* one-line explanation */
    uint32_t option;       /* enum vf_option that enables it */
    bool continues;        /* report and continue instead of stopping */
    const char *fixture;   /* tests/fixtures/... that triggers it */
};

struct vf_rule_list {
    const char *layer;
    const struct vf_rule *const *rules;
    unsigned count;
};

/* Per-machine verifier state. */
struct vf {
    uint32_t options; /* enabled enum vf_option bits */
    unsigned low_res_permille;
    char low_res_tag[16];   /* low-resources-tag=PATTERN ("" = every tag) */
    uint64_t low_res_state; /* seeded PRNG of the injections (lowres.c) */
    bool low_res_seeded;
    uint64_t low_res_injected;
    unsigned reported;                /* continuing violations reported */
    FILE *out;                        /* where continuing reports go (stderr) */
    const struct vf_rule *break_rule; /* --break-on RULE: stops even if it continues */
};

/* Parses "none", "standard", "all", or a comma list of named options
 * ("special-pool", "irql-checking", "dma", "low-resources[=PERMILLE]" ...).
 * Returns 0, or -1 with a message in err naming the bad word. */
int vf_parse_options(const char *list, uint32_t *options, unsigned *low_res_permille, char *err,
                     size_t errlen);

/* Finds "low-resources-tag=PATTERN" in a --verifier list (vf_parse_options
 * accepts and skips it): PATTERN is up to 4 tag characters as tools print
 * them, '*' matches the rest and '?' one character. Returns 0 (tag "" when
 * absent) or -1 with err. */
int vf_parse_low_resources_tag(const char *list, char *tag, size_t len, char *err, size_t errlen);

/* The --verifier word of one enum vf_option bit, as `wdmsim rules --long`
 * prints it: "os" (Windows itself: always on), "auto" (every option list
 * but none turns it on), or the option's name; "?" for an unknown bit. */
const char *vf_option_name(uint32_t option);

/* Low-resources simulation (lowres.c): true when this call of routine by
 * the driver code at caller should fail. Only driver callers are failed,
 * only with the option on, and only for tags the filter matches (tag 0 =
 * routine without a tag). Each injection is logged with its call site. */
struct sys;
bool vf_low_resources_fail(struct sys *sys, const char *routine, uint32_t tag, void *caller);

/* Rule lookup over every layer's list. */
const struct vf_rule *vf_rule_find(const char *id);
void vf_rules_foreach(void (*fn)(const struct vf_rule *rule, void *ctx), void *ctx);
unsigned vf_rule_count(void);

static inline bool vf_on(const struct vf *vf, const struct vf_rule *rule)
{
    return rule->option == vf_opt_os || (vf->options & rule->option);
}

/* A driver broke a rule. P1 (or P4) comes from the rule; a, b, c fill the
 * other three parameters in order. Stops the machine (does not return)
 * unless the rule continues or is off; then returns. */
void vf_fire(const struct vf_rule *rule, uint64_t a, uint64_t b, uint64_t c, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Stop code names and the generic meaning of their parameters. */
const char *vf_bugcheck_name(uint32_t code);
const char *vf_bugcheck_param_meaning(uint32_t code, unsigned index /* 0..3 */);

/* Host backtraces, symbolized with libdw (file:line where debug info is). */
int vf_backtrace_capture(void **frames, int max, int skip);
void vf_backtrace_print(FILE *out, void *const *frames, int n);
/* Describes one captured frame (a return address) as "function (file:line)" or "module+0xoff". */
void vf_backtrace_describe(void *pc, char *buf, size_t len);

/* Reports (report.c): the debugger-style analysis of a stopped machine, and
 * the same as JSON with run statistics (bugcheck null when none). Both must
 * be made before the machine is shut down (driver symbols). */
struct sys;
void vf_report_print(struct sys *sys, FILE *out);
void vf_report_json(struct sys *sys, FILE *out, int exit_status);
#endif
