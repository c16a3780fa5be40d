/*
 * brk_checks - the program break: brk(0) queries, sbrk growth and
 * shrinkage, contents kept across growth, whole pages given back by a
 * shrink reading zero when grown again, and refused requests (below the
 * start of the heap, +1 TiB) leaving the break where it was.
 * Only distances from the break are printed, never addresses.
 * stdout's buffer is static (glx_init), and nothing here calls malloc, so
 * the break moves only when this program moves it.
 */
#include <errno.h>
#include <sys/syscall.h>

#include "glx.h"

/* The raw system call: @return the new break, or the old one on failure. */
static uintptr_t raw_brk(uintptr_t addr)
{
    return (uintptr_t)syscall(SYS_brk, addr);
}

static bool pattern_ok(const unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != (unsigned char)((i * 7 + seed) & 0xff))
            return false;
    return true;
}

static void pattern(unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)((i * 7 + seed) & 0xff);
}

static bool zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0)
            return false;
    return true;
}

int main(void)
{
    glx_init();
    size_t pg = glx_page_size();
    uintptr_t start = raw_brk(0);
    glx_check(start != 0, "brk(0) answers the break", "got 0");
    glx_check((uintptr_t)sbrk(0) == start, "sbrk(0) equals brk(0)", "differ");
    glx_check(raw_brk(0) == start, "brk(0) twice gives the same",
              "break moved");

    /* Page-align the break so that shrinks give back whole pages. */
    if (start % pg != 0)
        sbrk((intptr_t)(pg - start % pg));
    unsigned char *base = sbrk(0);
    glx_check((uintptr_t)base % pg == 0, "break page aligned", "not aligned");

    size_t grow1 = 64 * pg;
    unsigned char *old = sbrk((intptr_t)grow1);
    glx_check(old == base, "sbrk(+64 pages) returns the old break",
              "returned another address");
    glx_check(raw_brk(0) == (uintptr_t)base + grow1,
              "brk(0) after sbrk(+64 pages)", "break off by %td bytes",
              (ptrdiff_t)(raw_brk(0) - ((uintptr_t)base + grow1)));
    glx_check(zero(base, grow1), "new heap pages read zero", "not zero");
    pattern(base, grow1, 1);

    size_t grow2 = 1024 * pg;
    old = sbrk((intptr_t)grow2);
    glx_check(old == base + grow1, "sbrk(+4 MiB) returns the old break",
              "returned another address");
    glx_check(pattern_ok(base, grow1, 1), "contents kept across growth",
              "changed");
    glx_check(zero(base + grow1, grow2), "grown pages read zero", "not zero");
    pattern(base + grow1, grow2, 2);
    size_t top = grow1 + grow2;

    /* Shrink by 32 pages; the rest keeps its contents. */
    sbrk(-(intptr_t)(32 * pg));
    top -= 32 * pg;
    glx_check(raw_brk(0) == (uintptr_t)base + top, "sbrk(-32 pages)",
              "break off by %td bytes",
              (ptrdiff_t)(raw_brk(0) - ((uintptr_t)base + top)));
    glx_check(pattern_ok(base, grow1, 1) &&
                  pattern_ok(base + grow1, top - grow1, 2),
              "contents kept across shrink", "changed");

    /* Grow back: the pages given back come back zero-filled. */
    sbrk((intptr_t)(32 * pg));
    glx_check(zero(base + top, 32 * pg), "regrown pages read zero",
              "old contents visible");
    top += 32 * pg;
    glx_check(raw_brk(0) == (uintptr_t)base + top, "sbrk(+32 pages) again",
              "wrong break");

    /* brk() itself: set an absolute break. */
    glx_check(brk(base + pg * 10) == 0, "brk(base + 10 pages) returns 0",
              "errno %d", errno);
    glx_check(raw_brk(0) == (uintptr_t)base + pg * 10,
              "brk(0) after brk(base + 10 pages)", "wrong break");
    glx_check(pattern_ok(base, 10 * pg, 1), "contents kept by brk()",
              "changed");

    /* Refused requests leave the break unchanged. */
    uintptr_t cur = raw_brk(0);
    glx_check(raw_brk(pg) == cur, "brk below the heap refused", "break moved");
    glx_check(raw_brk(cur + (UINT64_C(1) << 40)) == cur, "brk +1 TiB refused",
              "break moved");
    errno = 0;
    glx_check(sbrk((intptr_t)1 << 40) == (void *)-1 && errno == ENOMEM,
              "sbrk(+1 TiB) fails with ENOMEM", "errno %d", errno);
    glx_check(raw_brk(0) == cur, "break unchanged after refusals",
              "break moved");

    /* Back to where the program started. */
    glx_check(raw_brk(start) == start, "brk back to the start", "refused");
    return glx_finish();
}
