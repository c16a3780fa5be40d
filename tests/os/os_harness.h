/*
 * os_harness.h - a machine for the OS-model tests: guest RAM, the frame
 * allocator over all of it, the kernel (layout, zero page, kernel half).
 */
#ifndef MMUEMU_TESTS_OS_HARNESS_H
#define MMUEMU_TESTS_OS_HARNESS_H

#include "testutil.h"

#include "mmuemu/os.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIB (UINT64_C(1) << 20)

typedef struct osh {
    mmu_phys mem;
    os_frames frames;
    os_layout layout;
    os_kernel k;
} osh;

static inline uint64_t osh_ram_base(mmu_paging_mode mode)
{
    return mmu_mode_get(mode)->arch == MMU_ARCH_X86 ? 0
                                                    : UINT64_C(0x80000000);
}

static inline void osh_init(osh *h, mmu_paging_mode mode, uint64_t ram_size)
{
    char err[200] = "";
    memset(h, 0, sizeof *h);
    h->mem.base = osh_ram_base(mode);
    h->mem.size = ram_size;
    h->mem.ram = calloc(1, (size_t)ram_size);
    assert_non_null(h->mem.ram);
    assert_int_equal(os_frames_init(&h->frames, &h->mem, h->mem.base,
                                    ram_size),
                     0);
    assert_int_equal(os_layout_init(&h->layout, mode), 0);
    int rc = os_kernel_init(&h->k, &h->mem, &h->frames, &h->layout, err,
                            sizeof err);
    if (rc != 0)
        fail_msg("os_kernel_init: %s (%s)", err, os_errno_name(rc));
}

static inline void osh_free(osh *h)
{
    os_kernel_destroy(&h->k);
    /* everything must have been given back: kernel, spaces, caches */
    TU_EQ_HEX("frames in use at teardown", h->frames.st.in_use, 0);
    TU_EQ_HEX("frame errors", h->frames.st.errors, 0);
    os_frames_destroy(&h->frames);
    free(h->mem.ram);
}

static inline void osh_aspace(osh *h, os_aspace *as)
{
    assert_int_equal(os_aspace_init(as, &h->k), 0);
}

/* Map anonymous memory; asserts success. */
static inline uint64_t osh_mmap(os_aspace *as, uint64_t addr, uint64_t len,
                                uint32_t prot, uint32_t flags)
{
    os_map_req r = {addr, len, prot, flags, 0, NULL, 0};
    uint64_t got = 0;
    int rc = os_aspace_map(as, &r, &got);
    if (rc != 0)
        fail_msg("mmap(0x%llx, 0x%llx): %s", (unsigned long long)addr,
                 (unsigned long long)len, os_errno_name(rc));
    return got;
}

/* Run a fault through the handler (no hardware record). */
static inline os_fault_outcome osh_fault(os_aspace *as, uint64_t va,
                                         mmu_access acc)
{
    os_fault_req rq = {va, acc, true, NULL};
    os_fault_outcome o;
    os_fault_handle(as, &rq, &o);
    return o;
}

/* A user-mode access through the model, faults handled as the glue would
 * (translate, on fault call the handler, retry). @return the outcome of
 * the last fault, result HANDLED with kind SPURIOUS... if none happened:
 * *faults counts them. */
static inline bool osh_access(os_aspace *as, mmu_ctx *ctx, uint64_t va,
                              mmu_access acc, unsigned *faults,
                              os_fault_outcome *last)
{
    uint8_t priv = as->k->arch == MMU_ARCH_X86 ? 3 : RV_PRIV_U;
    *faults = 0;
    for (int i = 0; i < 8; i++) {
        mmu_req rq = {.va = va, .access = acc, .priv = priv};
        mmu_result res;
        mmu_fault flt;
        if (mmu_translate(ctx, &rq, &res, &flt))
            return true;
        os_fault_req fr = {va, acc, true, &flt};
        os_fault_handle(as, &fr, last);
        (*faults)++;
        if (last->result != OS_FAULT_HANDLED)
            return false;
    }
    fail_msg("access to 0x%llx keeps faulting", (unsigned long long)va);
    return false;
}

#endif
