/*
 * stack_growth - grows the main thread's stack page by page: a recursion
 * of FRAMES frames, each with a 4 KiB array written on entry and checked
 * on the way back, then, at the deepest point, an alloca() of ALLOCA KiB
 * touched from the top down. About 7 MiB in all (argv[1] = frames, default
 * 1536; argv[2] = alloca KiB, default 1024), under the usual 8 MiB
 * RLIMIT_STACK (qemu-user maps a fixed stack of that size).
 */
#include <alloca.h>

#include "glx.h"

#define FRAME 4096

static size_t frames = 1536;
static size_t alloca_bytes = 1024 * 1024;
static size_t bad_bytes;

/* alloca() alloca_bytes and touch them top down, one page at a time. */
static __attribute__((noinline)) uint64_t deepest(void)
{
    size_t pg = glx_page_size();
    /* alloca, not a VLA, is the point here. */
    /* cppcheck-suppress allocaCalled */
    volatile unsigned char *a = alloca(alloca_bytes);
    for (size_t off = alloca_bytes; off >= pg; off -= pg)
        a[off - pg] = (unsigned char)(off / pg);
    uint64_t h = GLX_FNV_INIT;
    for (size_t off = alloca_bytes; off >= pg; off -= pg) {
        unsigned char v = a[off - pg];
        bad_bytes += v != (unsigned char)(off / pg);
        h = glx_fnv1a(h, &v, 1);
    }
    return h;
}

static __attribute__((noinline)) uint64_t recurse(size_t depth)
{
    volatile unsigned char frame[FRAME];
    for (size_t i = 0; i < FRAME; i += 64)
        frame[i] = (unsigned char)(depth * 3 + i);
    uint64_t r = depth + 1 == frames ? deepest() : recurse(depth + 1);
    for (size_t i = 0; i < FRAME; i += 64)
        bad_bytes += frame[i] != (unsigned char)(depth * 3 + i);
    unsigned char v = frame[(depth * 64) % FRAME];
    return glx_fnv1a(r, &v, 1);
}

int main(int argc, char **argv)
{
    glx_init();
    frames = glx_arg(argc, argv, 1, frames);
    alloca_bytes = glx_arg(argc, argv, 2, alloca_bytes / 1024) * 1024;
    if (frames == 0)
        frames = 1;
    printf("recursion %zu frames of %d bytes, alloca %zu KiB\n", frames, FRAME,
           alloca_bytes / 1024);
    uint64_t h = recurse(0);
    glx_check(bad_bytes == 0, "frames and alloca kept their contents",
              "%zu bytes wrong", bad_bytes);
    printf("checksum %016llx\n", (unsigned long long)h);

    /* A second descent reuses the pages the first one faulted in. */
    uint64_t h2 = recurse(0);
    glx_check(h2 == h && bad_bytes == 0, "second descent agrees",
              "checksum %016llx", (unsigned long long)h2);
    return glx_finish();
}
