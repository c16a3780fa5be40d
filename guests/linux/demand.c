/*
 * demand - demand paging: map N MiB (argv[1], default 256) of anonymous
 * memory and touch it page by page, so that every page's first access is a
 * write fault on a page never touched before. A second pass reads each
 * page back: the written word must hold its value and the page's other end
 * must still read zero (anonymous memory is zero-filled).
 */
#include <sys/mman.h>

#include "glx.h"

static uint64_t page_value(size_t i) { return glx_mix((uint64_t)i); }

int main(int argc, char **argv)
{
    glx_init();
    size_t mib = glx_arg(argc, argv, 1, 256);
    size_t page = glx_page_size();
    size_t len = mib * (size_t)GLX_MIB;
    size_t pages = len / page;
    size_t words = page / sizeof(uint64_t);
    printf("demand %zu MiB, %zu pages of %zu bytes\n", mib, pages, page);

    unsigned char *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (!glx_check(m != MAP_FAILED, "mmap", "mmap failed"))
        return glx_finish();

    /* Pass 1: one aligned word per page, position varying with the page. */
    for (size_t i = 0; i < pages; i++) {
        uint64_t *w = (uint64_t *)(void *)(m + i * page);
        w[i % (words - 1)] = page_value(i);
    }

    /* Pass 2: read back; the last word of each page was never written. */
    size_t bad_value = 0, bad_zero = 0;
    uint64_t sum = GLX_FNV_INIT;
    for (size_t i = 0; i < pages; i++) {
        const uint64_t *w = (const uint64_t *)(void *)(m + i * page);
        uint64_t v = w[i % (words - 1)];
        bad_value += v != page_value(i);
        bad_zero += w[words - 1] != 0;
        sum = glx_fnv1a(sum, &v, sizeof v);
    }
    printf("pages touched %zu\n", pages);
    glx_check(bad_value == 0, "values read back", "%zu pages wrong", bad_value);
    glx_check(bad_zero == 0, "untouched words read zero", "%zu pages not zero",
              bad_zero);
    printf("checksum %016llx\n", (unsigned long long)sum);
    glx_check(munmap(m, len) == 0, "munmap", "munmap failed");
    return glx_finish();
}
