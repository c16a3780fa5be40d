/*
 * testutil.c - see testutil.h.
 */
#include "testutil.h"

#include <stdlib.h>

void tu_machine_init(tu_machine *t, mmu_paging_mode mode, uint64_t ram_base,
                     uint64_t ram_size, uint64_t tables_off,
                     uint64_t tables_len)
{
    const mmu_mode_info *mi = mmu_mode_get(mode);
    assert_non_null(mi);
    t->mem.ram = calloc(1, (size_t)ram_size);
    assert_non_null(t->mem.ram);
    t->mem.base = ram_base;
    t->mem.size = ram_size;
    t->alloc.mem = &t->mem;
    t->alloc.next = ram_base + tables_off;
    t->alloc.end = ram_base + tables_off + tables_len;
    assert_int_equal(mmu_pt_init(&t->pt, &t->mem, mode, mmu_bump_alloc_frame,
                                 &t->alloc),
                     MMU_PT_OK);
    t->ctx = (mmu_ctx){0};
    t->ctx.mem = &t->mem;
    if (mi->arch == MMU_ARCH_X86) {
        mmu_x86_state *x = &t->ctx.st.x86;
        mmu_state_init_x86(&t->ctx.st);
        x->cr0 = X86_CR0_PE | X86_CR0_PG | X86_CR0_WP;
        x->cr3 = mmu_pt_root_reg(&t->pt);
        switch (mode) {
        case MMU_MODE_X86_32:
            x->cr4 = X86_CR4_PSE;
            break;
        case MMU_MODE_X86_PAE:
            x->cr4 = X86_CR4_PAE;
            x->efer = X86_EFER_NXE;
            break;
        case MMU_MODE_X86_5LEVEL:
            x->cr4 = X86_CR4_PAE | X86_CR4_LA57;
            x->efer = X86_EFER_LME | X86_EFER_LMA | X86_EFER_NXE;
            break;
        default:
            x->cr4 = X86_CR4_PAE;
            x->efer = X86_EFER_LME | X86_EFER_LMA | X86_EFER_NXE;
            break;
        }
    } else {
        mmu_state_init_rv(&t->ctx.st, mode == MMU_MODE_SV32 ? 32 : 64);
        t->ctx.st.rv.satp = mmu_pt_root_reg(&t->pt);
        t->ctx.st.rv.ext = MMU_RV_EXT_SVNAPOT | MMU_RV_EXT_SVPBMT |
                           MMU_RV_EXT_SVADU;
        t->ctx.st.rv.menvcfg = RV_MENVCFG_ADUE | RV_MENVCFG_PBMTE;
    }
}

void tu_machine_free(tu_machine *t)
{
    free(t->mem.ram);
    t->mem.ram = NULL;
}

void tu_x86_load_pdptes(tu_machine *t)
{
    mmu_fault f;
    assert_true(mmu_x86_load_pdptes(&t->ctx, t->ctx.st.x86.cr3, &f));
}

bool tu_translate(tu_machine *t, uint64_t va, mmu_access acc, unsigned priv,
                  unsigned flags, mmu_result *res, mmu_fault *flt)
{
    mmu_req r = {.va = va, .access = acc, .priv = (uint8_t)priv,
                 .flags = (uint8_t)flags};
    return mmu_translate(&t->ctx, &r, res, flt);
}

uint64_t tu_entry(tu_machine *t, uint64_t va, unsigned level)
{
    uint64_t v = 0;
    assert_int_equal(mmu_pt_get_entry(&t->pt, va, level, &v), MMU_PT_OK);
    return v;
}
