/*
 * src/rtl/crt_bridge.c - the sprintf family behind the driver CRT archive.
 *
 * Models: the Microsoft CRT's _vsnprintf, _vsnwprintf, vsprintf and
 * vswprintf return rules over the one engine (format.c).
 * Spec: spec/ke_rtl_registry.md 8; src/rtl/crt_bridge.h has the contracts.
 * Invariants: never stores more than count units; unbounded forms always
 * terminate.
 * Not modelled: the CRT's invalid-parameter handler (a NULL format prints
 * "(null)"; NULL buffer with a nonzero count returns -1).
 */
#include <limits.h>

#include <wdm.h>

#include "rtl/crt_bridge.h"
#include "rtl/rtl.h"

static int bounded_result(struct rtl_sink *s, size_t count)
{
    if (s->len > count)
        return -1;
    if (s->len < count) {
        if (s->kind == rtl_sink_narrow)
            ((char *)s->buf)[s->len] = 0;
        else
            ((uint16_t *)s->buf)[s->len] = 0;
    }
    return s->len > INT_MAX ? INT_MAX : (int)s->len;
}

RTL_CRT_BRIDGE_API int rtl_crt_vsnprintf(char *buf, size_t count, const char *fmt,
                                         __builtin_ms_va_list ap)
{
    struct rtl_sink s;
    if (!buf && count)
        return -1;
    rtl_sink_init(&s, rtl_sink_narrow, buf, count);
    rtl_format(&s, fmt, &ap);
    if (!buf)
        return s.len > INT_MAX ? INT_MAX : (int)s.len;
    return bounded_result(&s, count);
}

RTL_CRT_BRIDGE_API int rtl_crt_vsnwprintf(unsigned short *buf, size_t count,
                                          const unsigned short *fmt, __builtin_ms_va_list ap)
{
    struct rtl_sink s;
    if (!buf && count)
        return -1;
    rtl_sink_init(&s, rtl_sink_wide, buf, count);
    rtl_formatw(&s, fmt, &ap);
    if (!buf)
        return s.len > INT_MAX ? INT_MAX : (int)s.len;
    return bounded_result(&s, count);
}

/* The caller promised room: the capacity is "everything", the sink still
 * counts, and the terminator goes right after the text. */
RTL_CRT_BRIDGE_API int rtl_crt_vsprintf(char *buf, const char *fmt, __builtin_ms_va_list ap)
{
    struct rtl_sink s;
    if (!buf)
        return -1;
    rtl_sink_init(&s, rtl_sink_narrow, buf, SIZE_MAX / 2);
    rtl_format(&s, fmt, &ap);
    buf[s.len] = 0;
    return s.len > INT_MAX ? INT_MAX : (int)s.len;
}

RTL_CRT_BRIDGE_API int rtl_crt_vswprintf(unsigned short *buf, const unsigned short *fmt,
                                         __builtin_ms_va_list ap)
{
    struct rtl_sink s;
    if (!buf)
        return -1;
    rtl_sink_init(&s, rtl_sink_wide, buf, SIZE_MAX / 4);
    rtl_formatw(&s, fmt, &ap);
    buf[s.len] = 0;
    return s.len > INT_MAX ? INT_MAX : (int)s.len;
}

RTL_CRT_BRIDGE_API size_t rtl_crt_vsnwprintf_counted(unsigned short *buf, size_t count,
                                                     const unsigned short *fmt,
                                                     __builtin_ms_va_list ap)
{
    struct rtl_sink s;
    rtl_sink_init(&s, rtl_sink_wide, buf, count);
    rtl_formatw(&s, fmt, &ap);
    return s.len;
}
