/*
 * test_os_aspace.c - address spaces: the kernel half (a supervisor-only,
 * global, non-executable direct map shared by every root), user mappings
 * that translate through mmu_translate(), PTE bits per architecture,
 * mmap placement and errors, munmap, mprotect (PTEs and TLB), brk, and
 * teardown giving every frame back.
 */
#include "os_harness.h"

#include "mmuemu/tlb.h"

static const mmu_paging_mode all_modes[] = {
    MMU_MODE_X86_4LEVEL, MMU_MODE_X86_5LEVEL, MMU_MODE_SV39, MMU_MODE_SV48,
    MMU_MODE_SV57,
};

static bool is_x86(mmu_paging_mode m)
{
    return mmu_mode_get(m)->arch == MMU_ARCH_X86;
}

static bool translate(os_aspace *as, uint64_t va, mmu_access acc, bool user,
                      mmu_result *res, mmu_fault *flt)
{
    mmu_ctx ctx;
    os_aspace_make_ctx(as, &ctx);
    uint8_t priv = is_x86(as->pt.mode) ? (user ? 3 : 0)
                                       : (user ? RV_PRIV_U : RV_PRIV_S);
    mmu_req rq = {.va = va, .access = acc, .priv = priv};
    return mmu_translate(&ctx, &rq, res, flt);
}

/* The direct map reaches every RAM page from supervisor mode in every
 * space, never from user mode, never for fetches. */
static void check_kernel_half(osh *h, os_aspace *as)
{
    mmu_result res;
    mmu_fault flt;
    uint64_t probes[] = {h->mem.base, h->mem.base + 0x123458,
                         h->mem.base + h->mem.size - 8};
    for (unsigned i = 0; i < 3; i++) {
        uint64_t va = os_kernel_direct_va(&h->k, probes[i]);
        if (!translate(as, va, MMU_WRITE, false, &res, &flt))
            fail_msg("kernel write to 0x%llx: %s",
                     (unsigned long long)va, mmu_fault_reason_name(flt.reason));
        TU_EQ_HEX("direct-map PA", res.pa, probes[i]);
        assert_true(res.global);
        assert_false(translate(as, va, MMU_READ, true, &res, &flt));
        assert_int_equal(flt.kind, MMU_FAULT_PAGE);
        assert_false(translate(as, va, MMU_FETCH, false, &res, &flt));
    }
}

static void aspace_kernel_half_shared_and_supervisor_only(void **state)
{
    (void)state;
    for (size_t m = 0; m < sizeof all_modes / sizeof all_modes[0]; m++) {
        osh h;
        osh_init(&h, all_modes[m], 16 * MIB);
        os_aspace a, b;
        osh_aspace(&h, &a);
        osh_aspace(&h, &b);
        assert_true(a.pt.root != b.pt.root);
        check_kernel_half(&h, &a);
        check_kernel_half(&h, &b);
        /* same top-level entry: the lower tables are shared */
        const mmu_mode_info *mi = mmu_mode_get(all_modes[m]);
        uint64_t va = h.layout.page_offset, ea, eb, ek;
        unsigned top = mi->levels - 1u;
        assert_int_equal(mmu_pt_get_entry(&a.pt, va, top, &ea), MMU_PT_OK);
        assert_int_equal(mmu_pt_get_entry(&b.pt, va, top, &eb), MMU_PT_OK);
        assert_int_equal(mmu_pt_get_entry(&h.k.kpt, va, top, &ek), MMU_PT_OK);
        TU_EQ_HEX("top entry a", ea, ek);
        TU_EQ_HEX("top entry b", eb, ek);
        assert_true(ek != 0);
        /* only the root is the space's own */
        TU_EQ_HEX("tables of an empty space", a.nptframes, 1);
        os_aspace_destroy(&a);
        os_aspace_destroy(&b);
        osh_free(&h);
    }
}

static void aspace_direct_map_uses_large_pages(void **state)
{
    (void)state;
    static const mmu_paging_mode modes[] = {MMU_MODE_X86_4LEVEL,
                                            MMU_MODE_SV39};
    for (unsigned m = 0; m < 2; m++) {
        osh h;
        /* 1 GiB + 2 MiB + 12 KiB: one leaf of each size and three 4K */
        osh_init(&h, modes[m], (UINT64_C(1) << 30) + 2 * MIB + 3 * 4096);
        TU_EQ_HEX("1G leaves", h.k.direct_pages[2], 1);
        TU_EQ_HEX("2M leaves", h.k.direct_pages[1], 1);
        TU_EQ_HEX("4K leaves", h.k.direct_pages[0], 3);
        os_aspace as;
        osh_aspace(&h, &as);
        check_kernel_half(&h, &as);
        mmu_result res;
        mmu_fault flt;
        uint64_t va = os_kernel_direct_va(&h.k, h.mem.base + 0x1000);
        assert_true(translate(&as, va, MMU_READ, false, &res, &flt));
        TU_EQ_HEX("page size", res.page_size, UINT64_C(1) << 30);
        os_aspace_destroy(&as);
        osh_free(&h);
    }
}

static void aspace_user_pages_translate_with_linux_bits(void **state)
{
    (void)state;
    for (size_t m = 0; m < sizeof all_modes / sizeof all_modes[0]; m++) {
        bool x86 = is_x86(all_modes[m]);
        osh h;
        osh_init(&h, all_modes[m], 16 * MIB);
        os_aspace as;
        osh_aspace(&h, &as);
        uint64_t a = osh_mmap(&as, 0, 3 * 4096, OS_VM_READ | OS_VM_WRITE, 0);
        TU_EQ_HEX("top-down from mmap_base", a, h.layout.mmap_base - 3 * 4096);
        mmu_ctx ctx;
        os_aspace_make_ctx(&as, &ctx);
        unsigned faults;
        os_fault_outcome o;
        assert_true(osh_access(&as, &ctx, a + 8, MMU_WRITE, &faults, &o));
        assert_int_equal(faults, 1);
        assert_int_equal(o.kind, OS_FAULT_DEMAND_ZERO);
        uint64_t e = os_aspace_pte(&as, a);
        uint64_t want = x86 ? X86_PTE_P | X86_PTE_US | X86_PTE_A |
                                  X86_PTE_RW | X86_PTE_D | X86_PTE_NX
                            : RV_PTE_V | RV_PTE_U | RV_PTE_A | RV_PTE_R |
                                  RV_PTE_W | RV_PTE_D;
        uint64_t mask = x86 ? ~X86_PTE_ADDR_MASK : UINT64_C(0x3ff);
        TU_EQ_HEX("PTE bits", e & mask, want);
        mmu_result res;
        mmu_fault flt;
        assert_true(translate(&as, a + 8, MMU_READ, true, &res, &flt));
        uint64_t frame = x86 ? e & X86_PTE_ADDR_MASK
                             : ((e & RV_PTE_PPN_MASK) >> 10) << 12;
        TU_EQ_HEX("PA", res.pa, frame + 8);
        assert_int_equal(os_frames_kind(&h.frames, frame), OS_FRAME_ANON);
        /* supervisor fetch of a user page never works (SMEP-free x86:
         * NX; RISC-V: S may not execute U pages) */
        assert_false(translate(&as, a, MMU_FETCH, true, &res, &flt));
        TU_EQ_HEX("rss", as.rss, 1);
        os_aspace_destroy(&as);
        osh_free(&h);
    }
}

static void aspace_mmap_placement_and_errors(void **state)
{
    (void)state;
    osh h;
    osh_init(&h, MMU_MODE_X86_4LEVEL, 16 * MIB);
    os_aspace as;
    osh_aspace(&h, &as);
    TU_EQ_HEX("mmap_base", h.layout.mmap_base, 0x7ffff7fff000);
    uint64_t a = osh_mmap(&as, 0, 4096, OS_VM_READ | OS_VM_WRITE, 0);
    uint64_t b = osh_mmap(&as, 0, 8192, OS_VM_READ | OS_VM_WRITE, 0);
    TU_EQ_HEX("first", a, 0x7ffff7ffe000);
    TU_EQ_HEX("second, just below", b, 0x7ffff7ffc000);
    TU_EQ_HEX("adjacent anonymous mappings merge", as.vmas.count, 1);
    uint64_t c = osh_mmap(&as, 0x10000000, 4096, OS_VM_READ, 0);
    TU_EQ_HEX("a free hint is taken", c, 0x10000000);
    uint64_t d = osh_mmap(&as, 0x10000000, 4096, OS_VM_READ, 0);
    TU_EQ_HEX("a taken hint is not", d, 0x7ffff7ffb000);
    os_map_req r = {0x10000000, 4096, OS_VM_READ, OS_MAP_FIXED_NOREPLACE, 0,
                    NULL, 0};
    uint64_t got;
    assert_int_equal(os_aspace_map(&as, &r, &got), -OS_EEXIST);
    r.addr = 0x1000;
    r.flags = OS_MAP_FIXED;
    assert_int_equal(os_aspace_map(&as, &r, &got), -OS_EPERM);
    r.addr = 0x10000001;
    assert_int_equal(os_aspace_map(&as, &r, &got), -OS_EINVAL);
    r.addr = 0x7ffffffff000;
    assert_int_equal(os_aspace_map(&as, &r, &got), -OS_ENOMEM);
    r.addr = 0;
    r.flags = 0;
    r.len = 0;
    assert_int_equal(os_aspace_map(&as, &r, &got), -OS_EINVAL);
    r.len = UINT64_C(1) << 50;
    assert_int_equal(os_aspace_map(&as, &r, &got), -OS_ENOMEM);
    r.len = 4096;
    r.prot = OS_VM_READ | OS_VM_WRITE;
    r.flags = OS_MAP_SHARED;
    r.deny = OS_VM_MAYWRITE; /* a read-only fd */
    assert_int_equal(os_aspace_map(&as, &r, &got), -OS_EACCES);
    /* MAP_FIXED over existing pages replaces them */
    unsigned faults;
    os_fault_outcome o;
    mmu_ctx ctx;
    os_aspace_make_ctx(&as, &ctx);
    assert_true(osh_access(&as, &ctx, b, MMU_WRITE, &faults, &o));
    uint64_t before = h.frames.st.in_use;
    os_map_req fx = {b, 4096, OS_VM_READ, OS_MAP_FIXED, 0, NULL, 0};
    assert_int_equal(os_aspace_map(&as, &fx, &got), 0);
    TU_EQ_HEX("the old page went back", h.frames.st.in_use, before - 1);
    TU_EQ_HEX("and its PTE", os_aspace_pte(&as, b), 0);
    os_aspace_destroy(&as);
    osh_free(&h);
}

typedef struct hook_log {
    mmu_ctx *ctx;
    uint32_t tag;
    unsigned n[4];
    uint64_t last_va, last_len;
} hook_log;

static void log_hook(void *arg, uint64_t va, uint64_t len, os_pte_change c)
{
    hook_log *l = arg;
    l->n[c]++;
    l->last_va = va;
    l->last_len = len;
    if (l->ctx != NULL)
        os_tlb_sync(l->ctx, l->tag, va, len, c);
}

static void aspace_mprotect_rewrites_ptes(void **state)
{
    (void)state;
    for (unsigned m = 0; m < 2; m++) {
        mmu_paging_mode mode = m ? MMU_MODE_SV39 : MMU_MODE_X86_4LEVEL;
        osh h;
        osh_init(&h, mode, 16 * MIB);
        os_aspace as;
        osh_aspace(&h, &as);
        mmu_ctx ctx;
        os_aspace_make_ctx(&as, &ctx);
        ctx.tlb = mmu_tlb_new(mmu_tlb_preset("generic"));
        assert_non_null(ctx.tlb);
        hook_log log = {&ctx, as.tag, {0}, 0, 0};
        os_aspace_set_hook(&as, log_hook, &log);
        uint64_t a = osh_mmap(&as, 0, 4 * 4096, OS_VM_READ | OS_VM_WRITE, 0);
        unsigned faults;
        os_fault_outcome o;
        for (unsigned i = 0; i < 4; i++)
            assert_true(osh_access(&as, &ctx, a + i * 4096, MMU_WRITE,
                                   &faults, &o));
        /* now cached writable in the TLB */
        assert_true(osh_access(&as, &ctx, a + 4096, MMU_WRITE, &faults, &o));
        assert_int_equal(faults, 0);
        assert_int_equal(os_aspace_protect(&as, a + 4096, 2 * 4096,
                                           OS_VM_READ),
                         0);
        assert_int_equal(log.n[OS_PTE_CHANGED], 1);
        TU_EQ_HEX("flushed range", log.last_va, a + 4096);
        TU_EQ_HEX("split in three", as.vmas.count, 3);
        assert_false(osh_access(&as, &ctx, a + 4096, MMU_WRITE, &faults, &o));
        assert_int_equal(o.result, OS_FAULT_SIGNAL);
        assert_int_equal(o.si_code, OS_SEGV_ACCERR);
        /* back to RW: exclusive anonymous pages become writable again
         * without a fault (can_change_pte_writable) and the VMAs merge */
        assert_int_equal(os_aspace_protect(&as, a + 4096, 2 * 4096,
                                           OS_VM_READ | OS_VM_WRITE),
                         0);
        TU_EQ_HEX("merged back", as.vmas.count, 1);
        assert_true(osh_access(&as, &ctx, a + 4096, MMU_WRITE, &faults, &o));
        assert_int_equal(faults, 0);
        /* PROT_NONE keeps the data; access is ACCERR; restore brings it */
        mmu_result res;
        mmu_fault flt;
        assert_true(translate(&as, a + 2 * 4096, MMU_READ, true, &res, &flt));
        uint8_t *host = mmu_phys_ptr(&h.mem, res.pa, 1);
        *host = 0x5a;
        assert_int_equal(os_aspace_protect(&as, a, 4 * 4096, 0), 0);
        assert_false(osh_access(&as, &ctx, a + 2 * 4096, MMU_READ, &faults,
                                &o));
        assert_int_equal(o.si_code, OS_SEGV_ACCERR);
        TU_EQ_HEX("frames kept", as.rss, 4);
        assert_int_equal(os_aspace_protect(&as, a, 4 * 4096, OS_VM_READ), 0);
        assert_true(translate(&as, a + 2 * 4096, MMU_READ, true, &res, &flt));
        assert_int_equal(*(uint8_t *)mmu_phys_ptr(&h.mem, res.pa, 1), 0x5a);
        /* errors */
        assert_int_equal(os_aspace_protect(&as, a + 1, 4096, OS_VM_READ),
                         -OS_EINVAL);
        assert_int_equal(os_aspace_protect(&as, a, 8 * 4096, OS_VM_READ),
                         -OS_ENOMEM);
        assert_int_equal(os_aspace_protect(&as, a, 0, OS_VM_READ), 0);
        mmu_tlb_free(ctx.tlb);
        os_aspace_destroy(&as);
        osh_free(&h);
    }
}

static void aspace_munmap_frees_and_splits(void **state)
{
    (void)state;
    osh h;
    osh_init(&h, MMU_MODE_SV39, 16 * MIB);
    os_aspace as;
    osh_aspace(&h, &as);
    hook_log log = {NULL, 0, {0}, 0, 0};
    os_aspace_set_hook(&as, log_hook, &log);
    uint64_t a = osh_mmap(&as, 0, 8 * 4096, OS_VM_READ | OS_VM_WRITE, 0);
    mmu_ctx ctx;
    os_aspace_make_ctx(&as, &ctx);
    unsigned faults;
    os_fault_outcome o;
    for (unsigned i = 0; i < 8; i++)
        assert_true(osh_access(&as, &ctx, a + i * 4096, MMU_WRITE, &faults,
                               &o));
    uint64_t used = h.frames.st.in_use;
    assert_int_equal(os_aspace_unmap(&as, a + 2 * 4096, 3 * 4096), 0);
    TU_EQ_HEX("frames back", h.frames.st.in_use, used - 3);
    TU_EQ_HEX("two VMAs", as.vmas.count, 2);
    assert_int_equal(log.n[OS_PTE_REMOVED], 1);
    TU_EQ_HEX("rss", as.rss, 5);
    assert_false(osh_access(&as, &ctx, a + 3 * 4096, MMU_READ, &faults, &o));
    assert_int_equal(o.si_code, OS_SEGV_MAPERR);
    assert_int_equal(os_aspace_unmap(&as, a + 1, 4096), -OS_EINVAL);
    assert_int_equal(os_aspace_unmap(&as, a, 0), -OS_EINVAL);
    assert_int_equal(os_aspace_unmap(&as, UINT64_C(1) << 38, 4096),
                     -OS_EINVAL);
    assert_int_equal(os_aspace_unmap(&as, a, 64 * 4096), 0); /* holes ok */
    TU_EQ_HEX("empty", as.vmas.count, 0);
    TU_EQ_HEX("rss after", as.rss, 0);
    os_aspace_destroy(&as);
    osh_free(&h);
}

static void aspace_brk_grows_shrinks_and_stops(void **state)
{
    (void)state;
    osh h;
    osh_init(&h, MMU_MODE_X86_4LEVEL, 16 * MIB);
    os_aspace as;
    osh_aspace(&h, &as);
    as.start_brk = as.brk = 0x600000;
    assert_int_equal(os_aspace_brk(&as, 0), 0x600000);        /* query */
    assert_int_equal(os_aspace_brk(&as, 0x5ff000), 0x600000); /* below */
    assert_int_equal(os_aspace_brk(&as, 0x600010), 0x600010);
    assert_int_equal(os_aspace_brk(&as, 0x623000), 0x623000);
    os_vma *heap = os_vma_find(&as.vmas, 0x600000);
    assert_non_null(heap);
    TU_EQ_HEX("one heap VMA", heap->end, 0x623000);
    TU_EQ_HEX("count", as.vmas.count, 1);
    /* shrinking unmaps */
    assert_int_equal(os_aspace_brk(&as, 0x610000), 0x610000);
    TU_EQ_HEX("shrunk", heap->end, 0x610000);
    /* a mapping above: brk keeps one page below it */
    osh_mmap(&as, 0x700000, 4096, OS_VM_READ, OS_MAP_FIXED);
    assert_int_equal(os_aspace_brk(&as, 0x6ff000), 0x6ff000);
    assert_int_equal(os_aspace_brk(&as, 0x6ff001), 0x6ff000);
    assert_int_equal(os_aspace_brk(&as, 0x800000), 0x6ff000);
    /* back to start_brk: the heap VMA goes */
    assert_int_equal(os_aspace_brk(&as, 0x600000), 0x600000);
    assert_null(os_vma_find(&as.vmas, 0x600000));
    os_aspace_destroy(&as);
    osh_free(&h);
}

static void aspace_tlb_sync_follows_linux_policy(void **state)
{
    (void)state;
    for (unsigned m = 0; m < 2; m++) {
        mmu_paging_mode mode = m ? MMU_MODE_SV39 : MMU_MODE_X86_4LEVEL;
        osh h;
        osh_init(&h, mode, 16 * MIB);
        os_aspace as;
        osh_aspace(&h, &as);
        mmu_ctx ctx;
        os_aspace_make_ctx(&as, &ctx);
        ctx.tlb = mmu_tlb_new(mmu_tlb_preset("generic"));
        uint64_t a = osh_mmap(&as, 0, 4096, OS_VM_READ | OS_VM_WRITE, 0);
        unsigned faults;
        os_fault_outcome o;
        assert_true(osh_access(&as, &ctx, a, MMU_READ, &faults, &o));
        const mmu_tlb_stats *st = mmu_tlb_get_stats(ctx.tlb, MMU_TLB_DTLB);
        uint64_t inval = st->invalidated;
        os_tlb_sync(&ctx, 0, a, 4096, OS_PTE_NEW);
        if (m == 0)
            TU_EQ_HEX("x86: nothing for a new PTE", st->invalidated, inval);
        else
            TU_EQ_HEX("riscv: fenced", st->invalidated, inval + 1);
        assert_true(osh_access(&as, &ctx, a, MMU_READ, &faults, &o));
        inval = st->invalidated;
        os_tlb_sync(&ctx, 0, a, 4096, OS_PTE_CHANGED);
        TU_EQ_HEX("changed: flushed", st->invalidated, inval + 1);
        mmu_tlb_free(ctx.tlb);
        os_aspace_destroy(&as);
        osh_free(&h);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(aspace_kernel_half_shared_and_supervisor_only),
        cmocka_unit_test(aspace_direct_map_uses_large_pages),
        cmocka_unit_test(aspace_user_pages_translate_with_linux_bits),
        cmocka_unit_test(aspace_mmap_placement_and_errors),
        cmocka_unit_test(aspace_mprotect_rewrites_ptes),
        cmocka_unit_test(aspace_munmap_frees_and_splits),
        cmocka_unit_test(aspace_brk_grows_shrinks_and_stops),
        cmocka_unit_test(aspace_tlb_sync_follows_linux_policy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
