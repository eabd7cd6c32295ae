/*
 * src/rtl/rtl.h - the runtime library: the one printf engine, code page and
 * case mapping, string buffers. The whole interface of src/rtl to the other
 * layers.
 *
 * Models: the kernel's Rtl routines and the formatter behind DbgPrint, the
 * sprintf family and ntstrsafe (spec/ke_rtl_registry.md 5, 6, 8).
 * Invariants: every formatted character goes through one engine
 * (rtl_format), whatever the caller (DbgPrint, the driver CRT, host reports
 * that print driver strings); the engine never writes past a sink's capacity.
 * Not modelled: DBCS code pages, floating-point conversions (docs/rtl.md).
 */
#ifndef WDMSIM_RTL_H
#define WDMSIM_RTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vf_rule;

/* ---- the printf engine (format.c) ----------------------------------------
 * A sink is a buffer of cap units (char or 16-bit WCHAR) that counts every
 * unit produced, stored or not, so a caller learns the full length after a
 * truncated run. The engine never adds a terminator: callers decide (the
 * CRT's _vsnprintf and DbgPrint have different rules). */
enum rtl_sink_kind {
    rtl_sink_narrow, /* char, wide text converted to code page 1252 */
    rtl_sink_wide,   /* uint16_t, narrow text converted from 1252 */
};

struct rtl_sink {
    enum rtl_sink_kind kind;
    void *buf;                    /* char[cap] or uint16_t[cap]; may be NULL when cap is 0 */
    size_t cap;                   /* units buf holds */
    size_t len;                   /* units produced so far; > cap means truncated */
    unsigned unicode_conversions; /* %wZ %ws %wc ... done (dbg.unicode-above-passive) */
};

static inline void rtl_sink_init(struct rtl_sink *s, enum rtl_sink_kind kind, void *buf, size_t cap)
{
    s->kind = kind;
    s->buf = buf;
    s->cap = buf ? cap : 0;
    s->len = 0;
    s->unicode_conversions = 0;
}

/* Stores one unit (converting between 1252 and UTF-16 as the sink needs). */
void rtl_sink_put_narrow(struct rtl_sink *s, char c);
void rtl_sink_put_wide(struct rtl_sink *s, uint16_t w);

/* Formats with Windows' kernel/CRT conventions (docs/rtl.md has the table)
 * from a narrow (rtl_format) or 16-bit wide (rtl_formatw) format string.
 * Consumes arguments from *ap, which the caller started with
 * __builtin_ms_va_start: callers are ms_abi drivers. In a wide format %s and
 * %c are wide and %S and %C narrow (Microsoft's swprintf rule); in a narrow
 * format the reverse. Returns the units produced (= s->len added). Never
 * fails: a bad or unsupported specification is copied to the output. */
size_t rtl_format(struct rtl_sink *s, const char *fmt, __builtin_ms_va_list *ap);
size_t rtl_formatw(struct rtl_sink *s, const uint16_t *fmt, __builtin_ms_va_list *ap);

/* ---- code page 1252 and case mapping (nls.c) ----------------------------- */
uint16_t rtl_cp1252_to_unicode(unsigned char c);
/* The 1252 byte for w, or -1 when w has none (callers use '?'). */
int rtl_unicode_to_cp1252(uint16_t w);
uint16_t rtl_upcase(uint16_t w);
uint16_t rtl_downcase(uint16_t w);

/* ---- string buffers (alloc.c) --------------------------------------------
 * Buffers the Rtl routines allocate for a caller (Allocate = TRUE) and that
 * RtlFree*String releases. Pool with tag 'RtlS' once src/ex exists; until
 * then whole pages from mm, with a small header recording the size. NULL
 * when memory runs out. */
void *rtl_alloc(size_t bytes);
void rtl_free(void *p);

/* ---- verifier rules ------------------------------------------------------
 * Each descriptor sits beside its check (memory.c, dbgprint.c); rules.c
 * lists them for src/vf/catalogue.c. Not static only so that the list can
 * name them. */
extern const struct vf_rule rtl_rule_overlap;
extern const struct vf_rule rtl_rule_dbg_unicode_above_passive;
extern const struct vf_rule *const rtl_vf_rules[];
enum { rtl_vf_rule_count = 2 };

/* ---- statistics ---------------------------------------------------------- */
/* Bytes DbgPrint leaves per call (spec 8); longer text is cut and marked. */
enum { rtl_dbgprint_max = 512 };

#endif
