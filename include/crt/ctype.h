/*
 * include/crt/ctype.h - character classification, "C" locale (ASCII).
 *
 * Models: the kernel CRT's ctype functions: real functions (drivers may take
 * their address), values 0-127 classified as in the C locale, everything
 * else false and returned unchanged by tolower/toupper.
 * Spec: ARCHITECTURE.md 10.
 * Not modelled: locales, the _ctype table, _isctype.
 */
#ifndef _WDMSIM_CTYPE_H
#define _WDMSIM_CTYPE_H

#include <_wdmsim_crt.h>

int isalpha(int c);
int isupper(int c);
int islower(int c);
int isdigit(int c);
int isxdigit(int c);
int isspace(int c);
int ispunct(int c);
int isalnum(int c);
int isprint(int c);
int isgraph(int c);
int iscntrl(int c);
int isascii(int c);
int tolower(int c);
int toupper(int c);
#define __isascii(c) isascii(c)
#define __toascii(c) ((c)&0x7f)

#endif
