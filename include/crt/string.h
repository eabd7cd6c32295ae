/*
 * include/crt/string.h - the narrow string and memory functions ntoskrnl
 * exports to drivers.
 *
 * Models: the kernel CRT's <string.h>: ms_abi functions (the whole driver is
 * -mabi=ms) implemented in the static archive libwdmsim_crt.a, hidden inside
 * each driver, so the memcpy/memset the compiler emits on its own bind there.
 * Spec: ARCHITECTURE.md 10; spec/ke_rtl_registry.md 6 (Rtl*Memory map here).
 * Invariants: every name declared here has a definition in src/crt.
 * Not modelled: strtok, strerror, strcoll, locale-aware case mapping.
 */
#ifndef _WDMSIM_STRING_H
#define _WDMSIM_STRING_H

#include <_wdmsim_crt.h>
/* Microsoft's <string.h> also declares the wcs* functions; WDK code relies on it. */
#include <wchar.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
void *memchr(const void *s, int c, size_t n);

size_t strlen(const char *s);
size_t strnlen(const char *s, size_t maxlen);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strcpy(char *dst, const char *src);
char *strncpy(char *dst, const char *src, size_t n);
char *strcat(char *dst, const char *src);
char *strncat(char *dst, const char *src, size_t n);
char *strchr(const char *s, int c);
char *strrchr(const char *s, int c);
char *strstr(const char *haystack, const char *needle);
char *strpbrk(const char *s, const char *accept);
size_t strspn(const char *s, const char *accept);
size_t strcspn(const char *s, const char *reject);

/* Microsoft extensions ntoskrnl exports ("C" locale, ASCII folding). */
int _stricmp(const char *a, const char *b);
int _strnicmp(const char *a, const char *b, size_t n);
int _memicmp(const void *a, const void *b, size_t n);
char *_strlwr(char *s);
char *_strupr(char *s);

#endif
