/*
 * src/crt/sort.c - qsort and bsearch.
 *
 * Models: the kernel CRT's qsort/bsearch; the comparison callback is the
 * driver's own function, so it uses the driver's (Windows) convention.
 * Spec: ARCHITECTURE.md 10.
 * Invariants: qsort is a heapsort: O(n log n) worst case, no recursion and
 * no allocation (kernel stacks are small, and there is no malloc). It is not
 * stable, like Microsoft's.
 */
#include <stdlib.h>

static void crt_swap(unsigned char *a, unsigned char *b, size_t size)
{
    while (size--) {
        unsigned char t = *a;
        *a++ = *b;
        *b++ = t;
    }
}

/* Moves the element at `root` down until the subtree below it is a heap. */
static void crt_sift(unsigned char *base, size_t root, size_t count, size_t size,
                     int (*compare)(const void *, const void *))
{
    for (;;) {
        size_t child = 2 * root + 1;
        if (child >= count)
            return;
        if (child + 1 < count && compare(base + child * size, base + (child + 1) * size) < 0)
            child++;
        if (compare(base + root * size, base + child * size) >= 0)
            return;
        crt_swap(base + root * size, base + child * size, size);
        root = child;
    }
}

void qsort(void *base, size_t count, size_t size, int (*compare)(const void *, const void *))
{
    unsigned char *b = base;

    if (count < 2 || size == 0)
        return;
    for (size_t i = count / 2; i-- > 0;)
        crt_sift(b, i, count, size, compare);
    for (size_t n = count - 1; n > 0; n--) {
        crt_swap(b, b + n * size, size);
        crt_sift(b, 0, n, size, compare);
    }
}

void *bsearch(const void *key, const void *base, size_t count, size_t size,
              int (*compare)(const void *, const void *))
{
    const unsigned char *b = base;
    size_t lo = 0, hi = count;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int r = compare(key, b + mid * size);
        if (r == 0)
            return (void *)(b + mid * size);
        if (r < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}
