/*
 * testutil.h - a small guest machine for tests: RAM, a frame allocator,
 * a page table built through the builder and a translation context.
 *
 * cmocka's headers need <stdarg.h>, <stddef.h>, <stdint.h>, <setjmp.h>
 * first; this header includes them in that order.
 */
#ifndef MMUEMU_TESTUTIL_H
#define MMUEMU_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "mmuemu/builder.h"
#include "mmuemu/riscv_bits.h"
#include "mmuemu/translate.h"
#include "mmuemu/x86_bits.h"

typedef struct tu_machine {
    mmu_phys mem;
    mmu_bump_alloc alloc;   /* page-table frames come from here */
    mmu_pt pt;
    mmu_ctx ctx;
} tu_machine;

/*
 * RAM of ram_size bytes at ram_base; page-table frames are taken from
 * [ram_base + tables_off, ram_base + tables_off + tables_len). The
 * context's state is initialised for the mode's architecture and points
 * at the new root (x86: CR0.PG|WP, CR4/EFER for the mode, PDPTEs loaded
 * lazily by tu_x86_sync; RISC-V: satp).
 */
void tu_machine_init(tu_machine *t, mmu_paging_mode mode, uint64_t ram_base,
                     uint64_t ram_size, uint64_t tables_off,
                     uint64_t tables_len);
void tu_machine_free(tu_machine *t);

/* x86: after building PAE tables, load the PDPTE registers (asserts). */
void tu_x86_load_pdptes(tu_machine *t);

/* Translate; returns true on success. */
bool tu_translate(tu_machine *t, uint64_t va, mmu_access acc, unsigned priv,
                  unsigned flags, mmu_result *res, mmu_fault *flt);

/* Read an entry (asserts it exists). */
uint64_t tu_entry(tu_machine *t, uint64_t va, unsigned level);

/* Fail the current test with a message when got != want (hex). */
#define TU_EQ_HEX(what, got, want)                                         \
    do {                                                                   \
        uint64_t g_ = (uint64_t)(got), w_ = (uint64_t)(want);              \
        if (g_ != w_)                                                      \
            fail_msg("%s: got 0x%llx want 0x%llx", (what),                 \
                     (unsigned long long)g_, (unsigned long long)w_);      \
    } while (0)

#endif
