/*
 * frames.c - the physical frame allocator (see mmuemu/os.h, section 2).
 *
 * A stack of free frame indices gives O(1) allocation and release; it is
 * filled so the lowest frames come out first, which keeps runs
 * deterministic. Reference counts make COW and the page cache share
 * frames; a frame is zeroed when it is handed out, as Linux's
 * __GFP_ZERO user pages are.
 */
#include "os_internal.h"

#include <stdlib.h>
#include <string.h>

int os_frames_init(os_frames *f, mmu_phys *mem, uint64_t base, uint64_t size)
{
    memset(f, 0, sizeof *f);
    if (!page_aligned(base) || !page_aligned(size) || size == 0 ||
        !mmu_phys_contains(mem, base, size))
        return -OS_EINVAL;
    uint64_t n = size / PAGE;
    if (n > UINT32_MAX)
        return -OS_EINVAL;
    f->ref = calloc((size_t)n, sizeof *f->ref);
    f->kind = calloc((size_t)n, sizeof *f->kind);
    f->free = malloc((size_t)n * sizeof *f->free);
    if (f->ref == NULL || f->kind == NULL || f->free == NULL) {
        os_frames_destroy(f);
        return -OS_ENOMEM;
    }
    f->mem = mem;
    f->base = base;
    f->nframes = n;
    for (uint64_t i = 0; i < n; i++) /* top of the stack: frame 0 */
        f->free[i] = (uint32_t)(n - 1 - i);
    f->nfree = n;
    f->st.total = n;
    f->st.limit = n;
    return 0;
}

void os_frames_destroy(os_frames *f)
{
    free(f->ref);
    free(f->kind);
    free(f->free);
    memset(f, 0, sizeof *f);
}

void os_frames_set_limit(os_frames *f, uint64_t frames)
{
    f->st.limit = (frames == 0 || frames > f->nframes) ? f->nframes : frames;
}

void os_frames_inject_failure(os_frames *f, uint64_t nth)
{
    f->fail_at = nth;
}

static bool index_of(const os_frames *f, uint64_t pa, uint64_t *idx)
{
    if (pa < f->base || !page_aligned(pa))
        return false;
    uint64_t i = (pa - f->base) / PAGE;
    if (i >= f->nframes)
        return false;
    *idx = i;
    return true;
}

bool os_frames_owns(const os_frames *f, uint64_t pa)
{
    uint64_t i;
    return index_of(f, pa, &i);
}

uint8_t *os_frames_ptr(const os_frames *f, uint64_t pa)
{
    return mmu_phys_ptr(f->mem, pa, PAGE);
}

int os_frames_alloc(os_frames *f, os_frame_kind kind, uint64_t *pa)
{
    if (f->fail_at != 0 && --f->fail_at == 0) {
        f->st.failures++;
        return -OS_ENOMEM;
    }
    if (f->nfree == 0 || f->st.in_use >= f->st.limit) {
        f->st.failures++;
        return -OS_ENOMEM;
    }
    uint32_t i = f->free[--f->nfree];
    f->ref[i] = 1;
    f->kind[i] = (uint8_t)kind;
    *pa = f->base + (uint64_t)i * PAGE;
    memset(os_frames_ptr(f, *pa), 0, PAGE);
    f->st.allocs++;
    f->st.by_kind[kind]++;
    if (++f->st.in_use > f->st.peak)
        f->st.peak = f->st.in_use;
    return 0;
}

void os_frames_get(os_frames *f, uint64_t pa)
{
    uint64_t i;
    if (!index_of(f, pa, &i) || f->ref[i] == 0 || f->ref[i] == UINT32_MAX) {
        f->st.errors++;
        return;
    }
    f->ref[i]++;
}

bool os_frames_put(os_frames *f, uint64_t pa)
{
    uint64_t i;
    if (!index_of(f, pa, &i) || f->ref[i] == 0) {
        f->st.errors++;
        return false;
    }
    if (--f->ref[i] != 0)
        return false;
    f->st.by_kind[f->kind[i]]--;
    f->kind[i] = OS_FRAME_FREE;
    f->free[f->nfree++] = (uint32_t)i;
    f->st.in_use--;
    f->st.frees++;
    return true;
}

uint32_t os_frames_refcount(const os_frames *f, uint64_t pa)
{
    uint64_t i;
    return index_of(f, pa, &i) ? f->ref[i] : 0;
}

os_frame_kind os_frames_kind(const os_frames *f, uint64_t pa)
{
    uint64_t i;
    return index_of(f, pa, &i) ? (os_frame_kind)f->kind[i] : OS_FRAME_FREE;
}

bool os_frames_builder_alloc(void *arg, uint64_t *pa)
{
    return os_frames_alloc(arg, OS_FRAME_PGTABLE, pa) == 0;
}
