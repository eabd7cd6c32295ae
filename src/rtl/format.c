/*
 * src/rtl/format.c - the one printf engine: DbgPrint, the driver CRT's
 * sprintf family and ntstrsafe all format here.
 *
 * Models: the conversions of the Windows kernel's and the Microsoft CRT's
 * formatter, LLP64: %ld is 32-bit, %I64d / %lld / %Id 64-bit, %p sixteen
 * upper-case hex digits, %wZ / %Z counted strings, %ws / %S 16-bit strings.
 * In a wide format %s and %c are wide and %S / %C narrow (Microsoft's
 * swprintf rule); in a narrow format the reverse.
 * Spec: spec/ke_rtl_registry.md 8; docs/rtl.md (full table and decisions).
 * Invariants: reads exactly one argument slot per conversion and one per *,
 * so a refused conversion (%n, floating point) leaves the next ones right;
 * never stores past the sink's capacity.
 * Not modelled: floating point (%e %f %g %a print their specification
 * literally, the argument is skipped), %n (refused: printed literally,
 * nothing written through the pointer), positional arguments (%1$d).
 */
#include <wdm.h>

#include "rtl/rtl.h"

/* ---- sink ---------------------------------------------------------------- */

void rtl_sink_put_narrow(struct rtl_sink *s, char c)
{
    if (s->len < s->cap) {
        if (s->kind == rtl_sink_narrow)
            ((char *)s->buf)[s->len] = c;
        else
            ((uint16_t *)s->buf)[s->len] = rtl_cp1252_to_unicode((unsigned char)c);
    }
    s->len++;
}

void rtl_sink_put_wide(struct rtl_sink *s, uint16_t w)
{
    if (s->len < s->cap) {
        if (s->kind == rtl_sink_wide) {
            ((uint16_t *)s->buf)[s->len] = w;
        } else {
            int c = rtl_unicode_to_cp1252(w);
            ((char *)s->buf)[s->len] = c < 0 ? '?' : (char)c;
        }
    }
    s->len++;
}

static void put_repeat(struct rtl_sink *s, char c, size_t n)
{
    while (n--)
        rtl_sink_put_narrow(s, c);
}

/* ---- the format string, narrow or wide ------------------------------------ */

struct fmt_src {
    const void *p;
    bool wide;
};

static unsigned fmt_at(const struct fmt_src *f, size_t i)
{
    return f->wide ? ((const uint16_t *)f->p)[i] : ((const unsigned char *)f->p)[i];
}

static void put_fmt_unit(struct rtl_sink *s, const struct fmt_src *f, size_t i)
{
    if (f->wide)
        rtl_sink_put_wide(s, (uint16_t)fmt_at(f, i));
    else
        rtl_sink_put_narrow(s, (char)fmt_at(f, i));
}

/* ---- one conversion specification ---------------------------------------- */

enum fmt_len {
    len_default,
    len_hh,
    len_h,   /* short integer; narrow string or character */
    len_l,   /* 32-bit integer (LLP64); wide string or character */
    len_ll,  /* 64-bit */
    len_w,   /* wide string or character */
    len_ptr, /* I, z, t, j: pointer-sized, 64-bit */
    len_32,  /* I32 */
    len_64,  /* I64 */
};

struct fmt_spec {
    bool left, plus, space, alt, zero;
    size_t width;
    long prec; /* -1: none */
    enum fmt_len len;
    unsigned conv;
};

/* Caps a width or precision so a hostile format cannot overflow the count. */
enum { fmt_max_field = 1 << 24 };

static size_t parse_number(const struct fmt_src *f, size_t *i)
{
    size_t n = 0;
    unsigned c;
    while ((c = fmt_at(f, *i)) >= '0' && c <= '9') {
        if (n < fmt_max_field)
            n = n * 10 + (c - '0');
        (*i)++;
    }
    return n < fmt_max_field ? n : fmt_max_field;
}

/* Parses from just after '%'; returns false when the string ends first. */
static bool parse_spec(const struct fmt_src *f, size_t *i, struct fmt_spec *sp,
                       __builtin_ms_va_list *ap)
{
    unsigned c;
    *sp = (struct fmt_spec){.prec = -1};
    for (;; (*i)++) {
        c = fmt_at(f, *i);
        if (c == '-')
            sp->left = true;
        else if (c == '+')
            sp->plus = true;
        else if (c == ' ')
            sp->space = true;
        else if (c == '#')
            sp->alt = true;
        else if (c == '0')
            sp->zero = true;
        else
            break;
    }
    if (fmt_at(f, *i) == '*') {
        int w = __builtin_va_arg(*ap, int);
        (*i)++;
        if (w < 0) {
            sp->left = true;
            w = w == INT32_MIN ? INT32_MAX : -w;
        }
        sp->width = (size_t)w < fmt_max_field ? (size_t)w : fmt_max_field;
    } else {
        sp->width = parse_number(f, i);
    }
    if (fmt_at(f, *i) == '.') {
        (*i)++;
        if (fmt_at(f, *i) == '*') {
            int p = __builtin_va_arg(*ap, int);
            (*i)++;
            sp->prec = p < 0 ? -1 : (p < fmt_max_field ? p : fmt_max_field);
        } else {
            sp->prec = (long)parse_number(f, i);
        }
    }
    c = fmt_at(f, *i);
    if (c == 'h') {
        (*i)++;
        sp->len = len_h;
        if (fmt_at(f, *i) == 'h') {
            (*i)++;
            sp->len = len_hh;
        }
    } else if (c == 'l') {
        (*i)++;
        sp->len = len_l;
        if (fmt_at(f, *i) == 'l') {
            (*i)++;
            sp->len = len_ll;
        }
    } else if (c == 'w') {
        (*i)++;
        sp->len = len_w;
    } else if (c == 'I') {
        (*i)++;
        sp->len = len_ptr;
        if (fmt_at(f, *i) == '6' && fmt_at(f, *i + 1) == '4') {
            *i += 2;
            sp->len = len_64;
        } else if (fmt_at(f, *i) == '3' && fmt_at(f, *i + 1) == '2') {
            *i += 2;
            sp->len = len_32;
        }
    } else if (c == 'z' || c == 't' || c == 'j') {
        (*i)++;
        sp->len = len_ptr;
    }
    sp->conv = fmt_at(f, *i);
    if (sp->conv == 0)
        return false;
    (*i)++;
    return true;
}

/* ---- integers ------------------------------------------------------------- */

static void put_integer(struct rtl_sink *s, const struct fmt_spec *sp, uint64_t mag, bool negative,
                        unsigned base, bool upper)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char buf[24]; /* 64-bit octal is 22 digits */
    size_t n = 0;
    char prefix[2];
    size_t npre = 0;
    bool is_signed = sp->conv == 'd' || sp->conv == 'i';

    if (!(mag == 0 && sp->prec == 0)) {
        do {
            buf[n++] = digits[mag % base];
            mag /= base;
        } while (mag);
    }
    if (is_signed) {
        if (negative)
            prefix[npre++] = '-';
        else if (sp->plus)
            prefix[npre++] = '+';
        else if (sp->space)
            prefix[npre++] = ' ';
    }
    if (sp->alt && base == 16 && n > 0 && !(n == 1 && buf[0] == '0')) {
        prefix[npre++] = '0';
        prefix[npre++] = upper ? 'X' : 'x';
    }
    size_t ndig = n;
    if (sp->prec >= 0 && (size_t)sp->prec > ndig)
        ndig = (size_t)sp->prec;
    /* '#' with o: the result starts with a 0 (adds one digit only if needed). */
    if (sp->alt && base == 8 && (ndig == n) && (n == 0 || buf[n - 1] != '0'))
        ndig++;
    size_t body = npre + ndig;
    size_t pad = sp->width > body ? sp->width - body : 0;
    bool zero_pad = sp->zero && !sp->left && sp->prec < 0;

    if (!sp->left && !zero_pad)
        put_repeat(s, ' ', pad);
    for (size_t k = 0; k < npre; k++)
        rtl_sink_put_narrow(s, prefix[k]);
    if (zero_pad)
        put_repeat(s, '0', pad);
    put_repeat(s, '0', ndig - n);
    while (n)
        rtl_sink_put_narrow(s, buf[--n]);
    if (sp->left)
        put_repeat(s, ' ', pad);
}

static unsigned integer_bits(enum fmt_len len)
{
    switch (len) {
    case len_hh:
        return 8;
    case len_h:
        return 16;
    case len_ll:
    case len_ptr:
    case len_64:
        return 64;
    default: /* none, l, w, I32: LLP64 long is 32-bit */
        return 32;
    }
}

static void conv_integer(struct rtl_sink *s, struct fmt_spec *sp, __builtin_ms_va_list *ap)
{
    unsigned bits = integer_bits(sp->len);
    /* Every integer argument occupies one 8-byte slot in the ms_abi list. */
    uint64_t mask = bits < 64 ? (1ull << bits) - 1 : ~0ull;
    uint64_t raw = __builtin_va_arg(*ap, uint64_t) & mask;
    bool negative = false;
    unsigned base = 10;
    bool upper = false;

    switch (sp->conv) {
    case 'd':
    case 'i':
        if (raw >> (bits - 1) & 1) {
            negative = true;
            raw = (0 - raw) & mask; /* magnitude; INT_MIN's is 2^(bits-1) */
        }
        break;
    case 'o':
        base = 8;
        break;
    case 'x':
        base = 16;
        break;
    case 'X':
        base = 16;
        upper = true;
        break;
    default: /* 'u' */
        break;
    }
    put_integer(s, sp, raw, negative, base, upper);
}

/* ---- strings and characters ----------------------------------------------- */

static void put_padded_text(struct rtl_sink *s, const struct fmt_spec *sp, const void *text,
                            size_t n, bool wide)
{
    size_t pad = sp->width > n ? sp->width - n : 0;
    /* Microsoft's formatter pads strings with zeros too when asked. */
    char padc = sp->zero && !sp->left ? '0' : ' ';
    if (!sp->left)
        put_repeat(s, padc, pad);
    for (size_t k = 0; k < n; k++) {
        if (wide)
            rtl_sink_put_wide(s, ((const uint16_t *)text)[k]);
        else
            rtl_sink_put_narrow(s, ((const char *)text)[k]);
    }
    if (sp->left)
        put_repeat(s, ' ', pad);
}

static size_t limit(const struct fmt_spec *sp, size_t n)
{
    return sp->prec >= 0 && (size_t)sp->prec < n ? (size_t)sp->prec : n;
}

static void put_null(struct rtl_sink *s, const struct fmt_spec *sp)
{
    put_padded_text(s, sp, "(null)", limit(sp, 6), false);
}

/* Does this string or character conversion take a wide argument? The length
 * modifier decides; without one, the format's own width (Microsoft's rule:
 * %s in swprintf is wide), inverted for the upper-case letter. */
static bool arg_is_wide(const struct fmt_spec *sp, bool fmt_wide)
{
    if (sp->len == len_h || sp->len == len_hh)
        return false;
    if (sp->len == len_l || sp->len == len_w)
        return true;
    bool upper = sp->conv == 'S' || sp->conv == 'C';
    return fmt_wide != upper;
}

static void conv_string(struct rtl_sink *s, const struct fmt_spec *sp, bool wide,
                        __builtin_ms_va_list *ap)
{
    const void *p = __builtin_va_arg(*ap, const void *);
    if (!p) {
        put_null(s, sp);
        return;
    }
    size_t n = 0;
    size_t max = sp->prec >= 0 ? (size_t)sp->prec : SIZE_MAX;
    /* Stop at the precision: the string need not be terminated then. */
    if (wide)
        while (n < max && ((const uint16_t *)p)[n])
            n++;
    else
        while (n < max && ((const char *)p)[n])
            n++;
    put_padded_text(s, sp, p, n, wide);
}

static void conv_counted(struct rtl_sink *s, const struct fmt_spec *sp, bool wide,
                         __builtin_ms_va_list *ap)
{
    const void *p = __builtin_va_arg(*ap, const void *);
    if (wide) {
        const UNICODE_STRING *u = p;
        if (!u || !u->Buffer) {
            put_null(s, sp);
            return;
        }
        put_padded_text(s, sp, u->Buffer, limit(sp, u->Length / sizeof(WCHAR)), true);
    } else {
        const STRING *a = p;
        if (!a || !a->Buffer) {
            put_null(s, sp);
            return;
        }
        put_padded_text(s, sp, a->Buffer, limit(sp, a->Length), false);
    }
}

static void conv_char(struct rtl_sink *s, const struct fmt_spec *sp, bool wide,
                      __builtin_ms_va_list *ap)
{
    uint64_t raw = __builtin_va_arg(*ap, uint64_t);
    struct fmt_spec one = *sp;
    one.prec = -1;
    if (wide) {
        uint16_t w = (uint16_t)raw;
        put_padded_text(s, &one, &w, 1, true);
    } else {
        char c = (char)raw;
        put_padded_text(s, &one, &c, 1, false);
    }
}

/* ---- the engine ----------------------------------------------------------- */

static void put_raw(struct rtl_sink *s, const struct fmt_src *f, size_t from, size_t to)
{
    for (size_t k = from; k < to; k++)
        put_fmt_unit(s, f, k);
}

static size_t format(struct rtl_sink *s, const struct fmt_src *f, __builtin_ms_va_list *ap)
{
    size_t start_len = s->len;
    size_t i = 0;
    unsigned c;

    if (!f->p) {
        put_padded_text(s, &(struct fmt_spec){.prec = -1}, "(null)", 6, false);
        return s->len - start_len;
    }
    while ((c = fmt_at(f, i)) != 0) {
        if (c != '%') {
            put_fmt_unit(s, f, i++);
            continue;
        }
        size_t start = i++;
        struct fmt_spec sp;
        if (!parse_spec(f, &i, &sp, ap)) {
            put_raw(s, f, start, i); /* a lone trailing '%...' */
            break;
        }
        switch (sp.conv) {
        case '%':
            rtl_sink_put_narrow(s, '%');
            break;
        case 'd':
        case 'i':
        case 'u':
        case 'o':
        case 'x':
        case 'X':
            conv_integer(s, &sp, ap);
            break;
        case 'p':
            /* Pointer: always 64 bits as 16 upper-case hex digits. */
            sp.len = len_64;
            sp.conv = 'X';
            if (sp.prec < 0)
                sp.prec = 16;
            sp.zero = false;
            conv_integer(s, &sp, ap);
            break;
        case 's':
        case 'S':
        case 'c':
        case 'C':
        case 'Z': {
            bool wide = arg_is_wide(&sp, f->wide);
            /* Counted for DbgPrint: converting Unicode may touch paged NLS
             * tables on Windows, hence its PASSIVE-only rule. */
            if (wide != f->wide)
                s->unicode_conversions++;
            if (sp.conv == 'Z')
                conv_counted(s, &sp, wide, ap);
            else if (sp.conv == 'c' || sp.conv == 'C')
                conv_char(s, &sp, wide, ap);
            else
                conv_string(s, &sp, wide, ap);
            break;
        }
        case 'n':
            /* Refused, as the Microsoft CRT does by default: writing
             * through a format argument is a classic exploit. */
            (void)__builtin_va_arg(*ap, void *);
            put_raw(s, f, start, i);
            break;
        case 'e':
        case 'E':
        case 'f':
        case 'F':
        case 'g':
        case 'G':
        case 'a':
        case 'A':
            /* No floating point in the kernel formatter: skip the slot. */
            (void)__builtin_va_arg(*ap, uint64_t);
            put_raw(s, f, start, i);
            break;
        default:
            put_raw(s, f, start, i);
            break;
        }
    }
    return s->len - start_len;
}

size_t rtl_format(struct rtl_sink *s, const char *fmt, __builtin_ms_va_list *ap)
{
    struct fmt_src f = {fmt, false};
    return format(s, &f, ap);
}

size_t rtl_formatw(struct rtl_sink *s, const uint16_t *fmt, __builtin_ms_va_list *ap)
{
    struct fmt_src f = {fmt, true};
    return format(s, &f, ap);
}
