/*
 * mmap_checks - mmap/munmap/mprotect/mremap behaviour, one line per named
 * check: anonymous private and shared mappings, MAP_FIXED over part of a
 * mapping, munmap splitting a mapping, mprotect enforced (writes caught by
 * a SIGSEGV handler that siglongjmps out), mremap grow/shrink/move keeping
 * contents, refused huge sizes and the error cases Linux defines.
 * Only relations between addresses are printed, never addresses.
 * MAP_FIXED_NOREPLACE is not checked: qemu-user 7.2, the reference, treats
 * it as a hint and returns another address instead of EEXIST.
 */
#include <errno.h>
#include <sys/mman.h>

#include "glx.h"

static size_t pg;
static char detail[160];

#define FAIL(...)                                                              \
    do {                                                                       \
        snprintf(detail, sizeof detail, __VA_ARGS__);                          \
        return detail;                                                         \
    } while (0)

static unsigned char *map(size_t pages, int prot, int flags)
{
    void *p = mmap(NULL, pages * pg, prot, flags | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static unsigned char *map_rw(size_t pages)
{
    return map(pages, PROT_READ | PROT_WRITE, MAP_PRIVATE);
}

/* Fill page i of m with the byte (seed + i). */
static void fill(unsigned char *m, size_t pages, unsigned seed)
{
    for (size_t i = 0; i < pages; i++)
        memset(m + i * pg, (int)((seed + i) & 0xff), pg);
}

/* @return the index of the first page not filled as fill() left it, or
 * pages when all match. */
static size_t verify(const unsigned char *m, size_t pages, unsigned seed)
{
    for (size_t i = 0; i < pages; i++)
        for (size_t j = 0; j < pg; j++)
            if (m[i * pg + j] != (unsigned char)((seed + i) & 0xff))
                return i;
    return pages;
}

static bool all_zero(const unsigned char *m, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (m[i] != 0)
            return false;
    return true;
}

static const char *anon_private(void)
{
    unsigned char *m = map_rw(4);
    if (!m)
        FAIL("mmap errno %d", errno);
    if ((uintptr_t)m % pg != 0)
        FAIL("not page aligned");
    if (!all_zero(m, 4 * pg))
        FAIL("not zero filled");
    fill(m, 4, 1);
    if (verify(m, 4, 1) != 4)
        FAIL("contents lost");
    if (munmap(m, 4 * pg) != 0)
        FAIL("munmap errno %d", errno);
    return NULL;
}

static const char *anon_shared(void)
{
    unsigned char *m = map(4, PROT_READ | PROT_WRITE, MAP_SHARED);
    if (!m)
        FAIL("mmap errno %d", errno);
    if (!all_zero(m, 4 * pg))
        FAIL("not zero filled");
    fill(m, 4, 7);
    if (verify(m, 4, 7) != 4)
        FAIL("contents lost");
    if (munmap(m, 4 * pg) != 0)
        FAIL("munmap errno %d", errno);
    return NULL;
}

static const char *prot_none_then_commit(void)
{
    unsigned char *m = map(4, PROT_NONE, MAP_PRIVATE);
    if (!m)
        FAIL("mmap errno %d", errno);
    int r = glx_probe(m + pg, GLX_READ);
    if (r != SEGV_ACCERR)
        FAIL("PROT_NONE read: %s", glx_probe_name(r));
    if (mprotect(m, 2 * pg, PROT_READ | PROT_WRITE) != 0)
        FAIL("mprotect errno %d", errno);
    fill(m, 2, 3);
    if (verify(m, 2, 3) != 2)
        FAIL("contents lost");
    r = glx_probe(m + 2 * pg, GLX_READ);
    if (r != SEGV_ACCERR)
        FAIL("page 2 still PROT_NONE: %s", glx_probe_name(r));
    munmap(m, 4 * pg);
    return NULL;
}

static const char *map_fixed_over_middle(void)
{
    unsigned char *m = map_rw(8);
    if (!m)
        FAIL("mmap errno %d", errno);
    fill(m, 8, 0x40);
    void *p = mmap(m + 2 * pg, 2 * pg, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (p != m + 2 * pg)
        FAIL("MAP_FIXED did not return the address asked for");
    if (!all_zero(m + 2 * pg, 2 * pg))
        FAIL("replaced pages not zero");
    if (verify(m, 2, 0x40) != 2 || verify(m + 4 * pg, 4, 0x44) != 4)
        FAIL("neighbouring pages changed");
    munmap(m, 8 * pg);
    return NULL;
}

static const char *munmap_splits(void)
{
    unsigned char *m = map_rw(5);
    if (!m)
        FAIL("mmap errno %d", errno);
    fill(m, 5, 0x10);
    if (munmap(m + 2 * pg, pg) != 0)
        FAIL("munmap errno %d", errno);
    int r = glx_probe(m + 2 * pg + 5, GLX_READ);
    if (r != SEGV_MAPERR)
        FAIL("hole read: %s", glx_probe_name(r));
    if (verify(m, 2, 0x10) != 2 || verify(m + 3 * pg, 2, 0x13) != 2)
        FAIL("pieces lost contents");
    if (glx_probe(m + pg, GLX_WRITE) != 0 || glx_probe(m + 3 * pg, GLX_WRITE))
        FAIL("pieces not writable");
    if (munmap(m, 5 * pg) != 0) /* spans the hole */
        FAIL("munmap over hole errno %d", errno);
    r = glx_probe(m, GLX_READ);
    if (r != SEGV_MAPERR)
        FAIL("after munmap: %s", glx_probe_name(r));
    return NULL;
}

static const char *mprotect_read_only(void)
{
    unsigned char *m = map_rw(2);
    if (!m)
        FAIL("mmap errno %d", errno);
    fill(m, 2, 0x20);
    if (mprotect(m, pg, PROT_READ) != 0)
        FAIL("mprotect errno %d", errno);
    int r = glx_probe(m + 100, GLX_WRITE);
    if (r != SEGV_ACCERR)
        FAIL("write to read-only page: %s", glx_probe_name(r));
    if ((r = glx_probe(m + 100, GLX_READ)) != 0)
        FAIL("read of read-only page: %s", glx_probe_name(r));
    if ((r = glx_probe(m + pg, GLX_WRITE)) != 0)
        FAIL("write to the other page: %s", glx_probe_name(r));
    if (verify(m, 2, 0x20) != 2)
        FAIL("contents changed");
    if (mprotect(m, pg, PROT_READ | PROT_WRITE) != 0)
        FAIL("mprotect back errno %d", errno);
    if ((r = glx_probe(m + 100, GLX_WRITE)) != 0)
        FAIL("write after mprotect back: %s", glx_probe_name(r));
    munmap(m, 2 * pg);
    return NULL;
}

static const char *mprotect_none(void)
{
    unsigned char *m = map_rw(3);
    if (!m)
        FAIL("mmap errno %d", errno);
    fill(m, 3, 0x30);
    if (mprotect(m + pg, pg, PROT_NONE) != 0)
        FAIL("mprotect errno %d", errno);
    int r = glx_probe(m + pg + 8, GLX_READ);
    if (r != SEGV_ACCERR)
        FAIL("read of PROT_NONE page: %s", glx_probe_name(r));
    if (glx_probe(m, GLX_WRITE) != 0 || glx_probe(m + 2 * pg, GLX_WRITE) != 0)
        FAIL("neighbours lost access");
    if (mprotect(m + pg, pg, PROT_READ) != 0)
        FAIL("mprotect back errno %d", errno);
    if (verify(m, 3, 0x30) != 3)
        FAIL("contents changed");
    munmap(m, 3 * pg);
    return NULL;
}

static const char *mremap_grow(void)
{
    unsigned char *m = map_rw(2);
    if (!m)
        FAIL("mmap errno %d", errno);
    fill(m, 2, 0x50);
    unsigned char *n = mremap(m, 2 * pg, 64 * pg, MREMAP_MAYMOVE);
    if (n == MAP_FAILED)
        FAIL("mremap errno %d", errno);
    if (verify(n, 2, 0x50) != 2)
        FAIL("contents lost");
    if (!all_zero(n + 2 * pg, 62 * pg))
        FAIL("new pages not zero");
    fill(n, 64, 0x60);
    if (verify(n, 64, 0x60) != 64)
        FAIL("grown mapping not writable");
    munmap(n, 64 * pg);
    return NULL;
}

static const char *mremap_shrink(void)
{
    unsigned char *m = map_rw(8);
    if (!m)
        FAIL("mmap errno %d", errno);
    fill(m, 8, 0x70);
    unsigned char *n = mremap(m, 8 * pg, 3 * pg, 0);
    if (n != m)
        FAIL("shrink moved or failed (errno %d)", errno);
    if (verify(m, 3, 0x70) != 3)
        FAIL("contents lost");
    int r = glx_probe(m + 3 * pg, GLX_READ);
    if (r != SEGV_MAPERR)
        FAIL("cut page read: %s", glx_probe_name(r));
    munmap(m, 3 * pg);
    return NULL;
}

static const char *mremap_blocked_then_moves(void)
{
    unsigned char *m = map_rw(3);
    if (!m)
        FAIL("mmap errno %d", errno);
    fill(m, 3, 0x80);
    /* Page 1 belongs to the same mapping: growing page 0 in place is
     * impossible, and without MREMAP_MAYMOVE that is ENOMEM. */
    errno = 0;
    if (mremap(m, pg, 2 * pg, 0) != MAP_FAILED || errno != ENOMEM)
        FAIL("in-place grow: want ENOMEM, got errno %d", errno);
    unsigned char *n = mremap(m, pg, 4 * pg, MREMAP_MAYMOVE);
    if (n == MAP_FAILED)
        FAIL("mremap MAYMOVE errno %d", errno);
    if (n == m)
        FAIL("did not move");
    if (verify(n, 1, 0x80) != 1 || !all_zero(n + pg, 3 * pg))
        FAIL("moved contents wrong");
    int r = glx_probe(m, GLX_READ);
    if (r != SEGV_MAPERR)
        FAIL("old page read: %s", glx_probe_name(r));
    if (verify(m + pg, 2, 0x81) != 2)
        FAIL("rest of the old mapping changed");
    munmap(n, 4 * pg);
    munmap(m + pg, 2 * pg);
    return NULL;
}

static const char *mremap_fixed(void)
{
    unsigned char *src = map_rw(2), *dst = map_rw(4);
    if (!src || !dst)
        FAIL("mmap errno %d", errno);
    fill(src, 2, 0x90);
    fill(dst, 4, 0xa0);
    unsigned char *n =
        mremap(src, 2 * pg, 2 * pg, MREMAP_MAYMOVE | MREMAP_FIXED, dst + pg);
    if (n != dst + pg)
        FAIL("did not land at the address asked for (errno %d)", errno);
    if (verify(dst + pg, 2, 0x90) != 2)
        FAIL("moved contents wrong");
    if (verify(dst, 1, 0xa0) != 1 || verify(dst + 3 * pg, 1, 0xa3) != 1)
        FAIL("target's neighbours changed");
    int r = glx_probe(src, GLX_READ);
    if (r != SEGV_MAPERR)
        FAIL("source read: %s", glx_probe_name(r));
    munmap(dst, 4 * pg);
    return NULL;
}

static const char *huge_refused(void)
{
    errno = 0;
    void *p = mmap(NULL, (size_t)1 << 40, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p != MAP_FAILED || errno != ENOMEM)
        FAIL("1 TiB: want ENOMEM, got errno %d", errno);
    errno = 0;
    p = mmap(NULL, (size_t)1 << 62, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p != MAP_FAILED || errno != ENOMEM)
        FAIL("4 EiB: want ENOMEM, got errno %d", errno);
    return NULL;
}

static const char *munmap_unmapped_ok(void)
{
    unsigned char *m = map_rw(4);
    if (!m)
        FAIL("mmap errno %d", errno);
    if (munmap(m, 4 * pg) != 0)
        FAIL("first munmap errno %d", errno);
    if (munmap(m, 4 * pg) != 0)
        FAIL("munmap of an unmapped range: errno %d", errno);
    return NULL;
}

static const char *einval_cases(void)
{
    errno = 0;
    if (mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) !=
            MAP_FAILED ||
        errno != EINVAL)
        FAIL("mmap length 0: errno %d", errno);
    errno = 0;
    if (mmap(NULL, pg, PROT_READ, MAP_ANONYMOUS, -1, 0) != MAP_FAILED ||
        errno != EINVAL)
        FAIL("mmap neither private nor shared: errno %d", errno);
    unsigned char *m = map_rw(2);
    if (!m)
        FAIL("mmap errno %d", errno);
    errno = 0;
    if (munmap(m + 1, pg) != -1 || errno != EINVAL)
        FAIL("munmap unaligned: errno %d", errno);
    errno = 0;
    if (mprotect(m + 1, pg, PROT_READ) != -1 || errno != EINVAL)
        FAIL("mprotect unaligned: errno %d", errno);
    munmap(m, 2 * pg);
    errno = 0;
    if (mprotect(m, pg, PROT_READ) != -1 || errno != ENOMEM)
        FAIL("mprotect unmapped: want ENOMEM, got errno %d", errno);
    return NULL;
}

static const struct {
    const char *name;
    const char *(*run)(void);
} checks[] = {
    {"anon_private", anon_private},
    {"anon_shared", anon_shared},
    {"prot_none_then_commit", prot_none_then_commit},
    {"map_fixed_over_middle", map_fixed_over_middle},
    {"munmap_splits", munmap_splits},
    {"mprotect_read_only", mprotect_read_only},
    {"mprotect_none", mprotect_none},
    {"mremap_grow", mremap_grow},
    {"mremap_shrink", mremap_shrink},
    {"mremap_blocked_then_moves", mremap_blocked_then_moves},
    {"mremap_fixed", mremap_fixed},
    {"huge_refused", huge_refused},
    {"munmap_unmapped_ok", munmap_unmapped_ok},
    {"einval_cases", einval_cases},
};

int main(void)
{
    glx_init();
    pg = glx_page_size();
    for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++) {
        const char *err = checks[i].run();
        glx_check(err == NULL, checks[i].name, "%s", err ? err : "");
    }
    return glx_finish();
}
