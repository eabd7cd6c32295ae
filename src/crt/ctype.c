/*
 * src/crt/ctype.c - character classification and case mapping, "C" locale.
 *
 * Models: the kernel CRT's ctype functions as real (addressable) functions.
 * Arguments outside 0-127 classify as nothing and map to themselves, where
 * glibc would index a table; EOF (-1) included.
 * Spec: ARCHITECTURE.md 10.
 * Not modelled: locales.
 */
#include <ctype.h>

int isupper(int c)
{
    return c >= 'A' && c <= 'Z';
}

int islower(int c)
{
    return c >= 'a' && c <= 'z';
}

int isalpha(int c)
{
    return isupper(c) || islower(c);
}

int isdigit(int c)
{
    return c >= '0' && c <= '9';
}

int isxdigit(int c)
{
    return isdigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int isspace(int c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

int isalnum(int c)
{
    return isalpha(c) || isdigit(c);
}

int iscntrl(int c)
{
    return (c >= 0 && c < 0x20) || c == 0x7f;
}

int isprint(int c)
{
    return c >= 0x20 && c < 0x7f;
}

int isgraph(int c)
{
    return c > 0x20 && c < 0x7f;
}

int ispunct(int c)
{
    return isgraph(c) && !isalnum(c);
}

int isascii(int c)
{
    return c >= 0 && c < 0x80;
}

int tolower(int c)
{
    return isupper(c) ? c + ('a' - 'A') : c;
}

int toupper(int c)
{
    return islower(c) ? c - ('a' - 'A') : c;
}
