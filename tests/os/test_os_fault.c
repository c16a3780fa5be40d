/*
 * test_os_fault.c - the page-fault path, driven as the glue drives it
 * (translate, fault record, handler, retry) on x86 4-level and Sv39:
 * zero page and demand zero, COW after fork with reference counts, file
 * pages with fault-around and private copies, SIGBUS past EOF, shared
 * memory across fork, stack growth against the rlimit and the guard
 * gap, every SIGSEGV kind, hardware-decided faults, Svade A/D faults,
 * and OOM.
 */
#include "os_harness.h"

#define PG UINT64_C(4096)

typedef struct fx {
    osh h;
    os_aspace as;
    mmu_ctx ctx;
    bool x86;
} fx;

static void fx_init(fx *f, mmu_paging_mode mode)
{
    osh_init(&f->h, mode, 16 * MIB);
    osh_aspace(&f->h, &f->as);
    os_aspace_make_ctx(&f->as, &f->ctx);
    f->x86 = mode == MMU_MODE_X86_4LEVEL;
}

static void fx_free(fx *f)
{
    os_aspace_destroy(&f->as);
    osh_free(&f->h);
}

static const mmu_paging_mode modes[] = {MMU_MODE_X86_4LEVEL, MMU_MODE_SV39};
#define FOR_MODES(f)                                                        \
    for (unsigned mi_ = 0; mi_ < 2; mi_++)                                   \
        for (fx f##_s, *f = (fx_init(&f##_s, modes[mi_]), &f##_s); f != NULL; \
             fx_free(f), f = NULL)

/* One access; @return true when it completed. */
static bool acc(fx *f, os_aspace *as, mmu_ctx *ctx, uint64_t va,
                mmu_access a, unsigned *faults, os_fault_outcome *o)
{
    (void)f;
    return osh_access(as, ctx, va, a, faults, o);
}

static uint8_t *host(fx *f, os_aspace *as, uint64_t va)
{
    mmu_ctx c;
    os_aspace_make_ctx(as, &c);
    mmu_req rq = {.va = va, .access = MMU_READ, .priv = f->x86 ? 3 : 0,
                  .flags = MMU_REQ_NO_AD};
    mmu_result res;
    mmu_fault flt;
    if (!mmu_translate(&c, &rq, &res, &flt))
        return NULL;
    return mmu_phys_ptr(&f->h.mem, res.pa, 1);
}

static uint64_t pte_pa(fx *f, os_aspace *as, uint64_t va)
{
    uint64_t e = os_aspace_pte(as, va);
    return f->x86 ? e & X86_PTE_ADDR_MASK
                  : ((e & RV_PTE_PPN_MASK) >> RV_PTE_PPN_SHIFT) << 12;
}

static void fault_read_maps_zero_page_then_write_copies(void **state)
{
    (void)state;
    FOR_MODES(f)
    {
        uint64_t a = osh_mmap(&f->as, 0, 4 * PG, OS_VM_READ | OS_VM_WRITE, 0);
        unsigned n;
        os_fault_outcome o;
        uint64_t used = f->h.frames.st.in_use;
        assert_true(acc(f, &f->as, &f->ctx, a, MMU_READ, &n, &o));
        assert_int_equal(o.kind, OS_FAULT_ZERO_PAGE);
        TU_EQ_HEX("the zero page", pte_pa(f, &f->as, a), f->h.k.zero_pa);
        TU_EQ_HEX("no frame spent (tables aside)", f->as.rss, 0);
        assert_true(acc(f, &f->as, &f->ctx, a, MMU_WRITE, &n, &o));
        assert_int_equal(n, 1);
        assert_int_equal(o.kind, OS_FAULT_COW);
        assert_true(pte_pa(f, &f->as, a) != f->h.k.zero_pa);
        TU_EQ_HEX("rss", f->as.rss, 1);
        /* a first write is demand zero directly */
        assert_true(acc(f, &f->as, &f->ctx, a + PG, MMU_WRITE, &n, &o));
        assert_int_equal(o.kind, OS_FAULT_DEMAND_ZERO);
        assert_true(f->h.frames.st.in_use > used);
        TU_EQ_HEX("counted", f->as.faults.handled[OS_FAULT_ZERO_PAGE], 1);
        /* without the zero page, reads allocate */
        f->h.k.layout.zero_page = false;
        assert_true(acc(f, &f->as, &f->ctx, a + 2 * PG, MMU_READ, &n, &o));
        assert_int_equal(o.kind, OS_FAULT_DEMAND_ZERO);
        assert_true(acc(f, &f->as, &f->ctx, a + 2 * PG, MMU_WRITE, &n, &o));
        assert_int_equal(n, 0); /* mapped writable and dirty already */
    }
}

static void fault_cow_after_fork_copies_then_reuses(void **state)
{
    (void)state;
    FOR_MODES(f)
    {
        uint64_t a = osh_mmap(&f->as, 0, 2 * PG, OS_VM_READ | OS_VM_WRITE, 0);
        unsigned n;
        os_fault_outcome o;
        assert_true(acc(f, &f->as, &f->ctx, a, MMU_WRITE, &n, &o));
        *host(f, &f->as, a) = 0x11;
        uint64_t frame = pte_pa(f, &f->as, a);
        os_aspace child;
        osh_aspace(&f->h, &child);
        assert_int_equal(os_aspace_fork(&child, &f->as), 0);
        TU_EQ_HEX("shared after fork", pte_pa(f, &child, a), frame);
        assert_int_equal(os_frames_refcount(&f->h.frames, frame), 2);
        mmu_ctx cctx;
        os_aspace_make_ctx(&child, &cctx);
        /* child reads: x86 sets A in hardware, Svade faults on A=0 */
        assert_true(acc(f, &child, &cctx, a, MMU_READ, &n, &o));
        assert_int_equal(n, f->x86 ? 0u : 1u);
        if (!f->x86)
            assert_int_equal(o.kind, OS_FAULT_SPURIOUS);
        assert_int_equal(*host(f, &child, a), 0x11);
        /* child writes: copy */
        assert_true(acc(f, &child, &cctx, a, MMU_WRITE, &n, &o));
        assert_int_equal(o.kind, OS_FAULT_COW);
        *host(f, &child, a) = 0x22;
        assert_true(pte_pa(f, &child, a) != frame);
        assert_int_equal(os_frames_refcount(&f->h.frames, frame), 1);
        assert_int_equal(*host(f, &f->as, a), 0x11);
        /* parent writes: sole owner now, reuse without copying */
        uint64_t used = f->h.frames.st.in_use;
        assert_true(acc(f, &f->as, &f->ctx, a, MMU_WRITE, &n, &o));
        assert_int_equal(n, 1);
        assert_int_equal(o.kind, OS_FAULT_WP_REUSE);
        TU_EQ_HEX("same frame", pte_pa(f, &f->as, a), frame);
        TU_EQ_HEX("nothing allocated", f->h.frames.st.in_use, used);
        /* the untouched second page was never copied into the child */
        TU_EQ_HEX("child rss", child.rss, 1);
        os_aspace_destroy(&child);
    }
}

static void fault_file_pages_fault_around_and_copy(void **state)
{
    (void)state;
    static uint8_t img[40 * 4096 + 100];
    for (size_t i = 0; i < sizeof img; i++)
        img[i] = (uint8_t)(i / 4096 + 1);
    FOR_MODES(f)
    {
        os_file *file = os_file_from_buffer(img, sizeof img, "/f", false);
        /* 48 pages of mapping over 41 pages of file */
        os_map_req r = {0, 48 * PG, OS_VM_READ | OS_VM_WRITE, 0, 0, file, 0};
        uint64_t a;
        assert_int_equal(os_aspace_map(&f->as, &r, &a), 0);
        unsigned n;
        os_fault_outcome o;
        assert_true(acc(f, &f->as, &f->ctx, a + 5 * PG, MMU_READ, &n, &o));
        assert_int_equal(o.kind, OS_FAULT_FILE);
        assert_int_equal(*host(f, &f->as, a + 5 * PG), 6);
        /* fault-around: the aligned 16-page window is mapped */
        if ((a & (16 * PG - 1)) == 0)
            TU_EQ_HEX("around", f->as.faults.around_pages, 15);
        assert_true(f->as.faults.around_pages > 0);
        assert_true(acc(f, &f->as, &f->ctx, a + 6 * PG, MMU_READ, &n, &o));
        assert_int_equal(n, 0);
        /* private: read-only PTE over the page cache, copy on write */
        uint64_t cache = pte_pa(f, &f->as, a + 5 * PG);
        assert_int_equal(os_frames_kind(&f->h.frames, cache), OS_FRAME_PCACHE);
        assert_true(acc(f, &f->as, &f->ctx, a + 5 * PG, MMU_WRITE, &n, &o));
        assert_int_equal(o.kind, OS_FAULT_COW);
        *host(f, &f->as, a + 5 * PG) = 0xee;
        assert_int_equal(*(uint8_t *)os_frames_ptr(&f->h.frames, cache), 6);
        assert_int_equal(img[5 * 4096], 6);
        /* first touch by a write: a private copy straight away */
        assert_true(acc(f, &f->as, &f->ctx, a + 30 * PG, MMU_WRITE, &n, &o));
        assert_int_equal(o.kind, OS_FAULT_FILE);
        assert_int_equal(*host(f, &f->as, a + 30 * PG), 31);
        /* the last, partial page: the rest reads as zero */
        assert_true(acc(f, &f->as, &f->ctx, a + 40 * PG + 99, MMU_READ, &n,
                        &o));
        assert_int_equal(*host(f, &f->as, a + 40 * PG + 99), 41);
        assert_int_equal(*host(f, &f->as, a + 40 * PG + 100), 0);
        /* past EOF: SIGBUS */
        assert_false(acc(f, &f->as, &f->ctx, a + 42 * PG, MMU_READ, &n, &o));
        assert_int_equal(o.signo, OS_SIGBUS);
        assert_int_equal(o.si_code, OS_BUS_ADRERR);
        os_file_put(file); /* the VMA keeps it */
    }
}

static void fault_shared_memory_is_shared_across_fork(void **state)
{
    (void)state;
    FOR_MODES(f)
    {
        uint64_t a = osh_mmap(&f->as, 0, 2 * PG, OS_VM_READ | OS_VM_WRITE,
                              OS_MAP_SHARED);
        unsigned n;
        os_fault_outcome o;
        os_aspace child;
        osh_aspace(&f->h, &child);
        assert_int_equal(os_aspace_fork(&child, &f->as), 0);
        mmu_ctx cctx;
        os_aspace_make_ctx(&child, &cctx);
        assert_true(acc(f, &f->as, &f->ctx, a, MMU_WRITE, &n, &o));
        *host(f, &f->as, a) = 0x77;
        assert_true(acc(f, &child, &cctx, a, MMU_READ, &n, &o));
        assert_int_equal(*host(f, &child, a), 0x77);
        TU_EQ_HEX("one frame", pte_pa(f, &child, a), pte_pa(f, &f->as, a));
        /* a read fault maps shared memory writable but clean: the first
         * write sets D (hardware on x86, a Svade fault on RISC-V) */
        assert_true(acc(f, &child, &cctx, a + PG, MMU_READ, &n, &o));
        assert_true(acc(f, &child, &cctx, a + PG, MMU_WRITE, &n, &o));
        assert_int_equal(n, f->x86 ? 0u : 1u);
        if (!f->x86)
            assert_int_equal(o.kind, OS_FAULT_SPURIOUS);
        os_aspace_destroy(&child);
    }
}

static uint64_t make_stack(fx *f, uint64_t top, uint64_t len)
{
    os_map_req r = {top - len, len, OS_VM_READ | OS_VM_WRITE,
                    OS_MAP_FIXED | OS_MAP_GROWSDOWN, 0, NULL, 0};
    uint64_t a;
    assert_int_equal(os_aspace_map(&f->as, &r, &a), 0);
    return a;
}

static void fault_stack_grows_within_rlimit_and_guard_gap(void **state)
{
    (void)state;
    FOR_MODES(f)
    {
        uint64_t top = f->h.layout.stack_top, rl = f->h.layout.stack_rlimit;
        uint64_t s = make_stack(f, top, 0x21000);
        unsigned n;
        os_fault_outcome o;
        assert_true(acc(f, &f->as, &f->ctx, s - 3 * PG + 8, MMU_WRITE, &n,
                        &o));
        assert_int_equal(o.kind, OS_FAULT_STACK);
        os_vma *v = os_vma_find(&f->as.vmas, top - PG);
        TU_EQ_HEX("grown", v->start, s - 3 * PG);
        TU_EQ_HEX("grown pages", f->as.faults.stack_pages, 3);
        /* the whole rlimit, not a byte more */
        assert_true(acc(f, &f->as, &f->ctx, top - rl, MMU_READ, &n, &o));
        TU_EQ_HEX("at the limit", v->start, top - rl);
        assert_false(acc(f, &f->as, &f->ctx, top - rl - 8, MMU_WRITE, &n,
                         &o));
        assert_int_equal(o.si_code, OS_SEGV_MAPERR);
        /* another mapping below: growth stops a guard gap above it */
        os_aspace_unmap(&f->as, top - rl, rl - 0x21000);
        TU_EQ_HEX("shrunk back", v->start, top - 0x21000);
        uint64_t gap = f->h.layout.stack_guard_gap, lo = top - 0x21000;
        osh_mmap(&f->as, lo - gap - 16 * PG, 8 * PG, OS_VM_READ,
                 OS_MAP_FIXED);
        uint64_t mend = lo - gap - 8 * PG;
        assert_true(acc(f, &f->as, &f->ctx, mend + gap, MMU_WRITE, &n, &o));
        assert_false(acc(f, &f->as, &f->ctx, mend + gap - 8, MMU_WRITE, &n,
                         &o));
        assert_int_equal(o.si_code, OS_SEGV_MAPERR);
        TU_EQ_HEX("maperr counted", f->as.faults.maperr, 2);
    }
}

static void fault_signals_by_kind(void **state)
{
    (void)state;
    FOR_MODES(f)
    {
        unsigned n;
        os_fault_outcome o;
        /* nothing mapped, and the NULL page */
        assert_false(acc(f, &f->as, &f->ctx, 0x12345000, MMU_READ, &n, &o));
        assert_int_equal(o.signo, OS_SIGSEGV);
        assert_int_equal(o.si_code, OS_SEGV_MAPERR);
        TU_EQ_HEX("si_addr", o.si_addr, 0x12345000);
        assert_false(acc(f, &f->as, &f->ctx, 0, MMU_READ, &n, &o));
        assert_int_equal(o.si_code, OS_SEGV_MAPERR);
        /* the kernel half from user mode */
        o = osh_fault(&f->as, f->h.layout.page_offset, MMU_READ);
        assert_int_equal(o.si_code, OS_SEGV_MAPERR);
        /* write to read-only, fetch from non-executable */
        uint64_t r = osh_mmap(&f->as, 0, PG, OS_VM_READ, 0);
        assert_false(acc(f, &f->as, &f->ctx, r, MMU_WRITE, &n, &o));
        assert_int_equal(o.si_code, OS_SEGV_ACCERR);
        uint64_t w = osh_mmap(&f->as, 0, PG, OS_VM_READ | OS_VM_WRITE, 0);
        assert_false(acc(f, &f->as, &f->ctx, w, MMU_FETCH, &n, &o));
        assert_int_equal(o.si_code, OS_SEGV_ACCERR);
        /* x86 maps the page first (access_error lets a not-present fetch
         * through), then refuses the NX page; RISC-V refuses at once */
        assert_int_equal(n, f->x86 ? 2u : 1u);
        /* PROT_NONE */
        uint64_t z = osh_mmap(&f->as, 0, PG, 0, 0);
        assert_false(acc(f, &f->as, &f->ctx, z, MMU_READ, &n, &o));
        assert_int_equal(o.si_code, OS_SEGV_ACCERR);
        /* executable mapping: fetch works */
        uint64_t x = osh_mmap(&f->as, 0, PG, OS_VM_READ | OS_VM_EXEC, 0);
        assert_true(acc(f, &f->as, &f->ctx, x, MMU_FETCH, &n, &o));
        TU_EQ_HEX("accerr counted", f->as.faults.accerr, 3);
    }
}

static void fault_hardware_records_decide_first(void **state)
{
    (void)state;
    fx fs, *f = &fs;
    fx_init(f, MMU_MODE_X86_4LEVEL);
    os_fault_outcome o;
    mmu_fault hw = {.kind = MMU_FAULT_GP, .vector = X86_VEC_GP};
    os_fault_req rq = {UINT64_C(0x8000000000000000), MMU_READ, true, &hw};
    os_fault_handle(&f->as, &rq, &o);
    assert_int_equal(o.signo, OS_SIGSEGV);
    assert_int_equal(o.si_code, OS_SI_KERNEL);
    TU_EQ_HEX("si_addr", o.si_addr, 0);
    hw = (mmu_fault){.kind = MMU_FAULT_PAGE, .code = X86_PF_P | X86_PF_RSVD};
    rq.addr = 0x400000;
    os_fault_handle(&f->as, &rq, &o);
    assert_int_equal(o.result, OS_FAULT_FATAL);
    hw.code = X86_PF_P | X86_PF_PK | X86_PF_U;
    os_fault_handle(&f->as, &rq, &o);
    assert_int_equal(o.si_code, OS_SEGV_PKUERR);
    hw = (mmu_fault){.kind = MMU_FAULT_SS};
    os_fault_handle(&f->as, &rq, &o);
    assert_int_equal(o.signo, OS_SIGBUS);
    fx_free(f);
    fx_init(f, MMU_MODE_SV39);
    hw = (mmu_fault){.kind = MMU_FAULT_ACCESS, .code = RV_CAUSE_LOAD_ACCESS};
    os_fault_handle(&f->as, &rq, &o);
    assert_int_equal(o.signo, OS_SIGSEGV);
    assert_int_equal(o.si_code, OS_SEGV_ACCERR);
    fx_free(f);
}

static void fault_spurious_when_the_pte_already_allows(void **state)
{
    (void)state;
    FOR_MODES(f)
    {
        uint64_t a = osh_mmap(&f->as, 0, PG, OS_VM_READ | OS_VM_WRITE, 0);
        unsigned n;
        os_fault_outcome o;
        assert_true(acc(f, &f->as, &f->ctx, a, MMU_WRITE, &n, &o));
        /* a stale fault record (another CPU fixed it first) */
        o = osh_fault(&f->as, a, MMU_WRITE);
        assert_int_equal(o.result, OS_FAULT_HANDLED);
        assert_int_equal(o.kind, OS_FAULT_SPURIOUS);
    }
}

static void fault_out_of_memory_is_oom(void **state)
{
    (void)state;
    FOR_MODES(f)
    {
        uint64_t a = osh_mmap(&f->as, 0, 8 * PG, OS_VM_READ | OS_VM_WRITE, 0);
        unsigned n;
        os_fault_outcome o;
        assert_true(acc(f, &f->as, &f->ctx, a, MMU_WRITE, &n, &o));
        os_frames_set_limit(&f->h.frames, f->h.frames.st.in_use);
        assert_false(acc(f, &f->as, &f->ctx, a + PG, MMU_WRITE, &n, &o));
        assert_int_equal(o.result, OS_FAULT_OOM);
        TU_EQ_HEX("oom counted", f->as.faults.oom, 1);
        /* reads still work: the zero page costs nothing */
        assert_true(acc(f, &f->as, &f->ctx, a + 2 * PG, MMU_READ, &n, &o));
        /* a region needing new page tables */
        uint64_t far = osh_mmap(&f->as, 0x40000000, PG, OS_VM_READ, 0);
        assert_false(acc(f, &f->as, &f->ctx, far, MMU_READ, &n, &o));
        assert_int_equal(o.result, OS_FAULT_OOM);
        /* the injection point too */
        os_frames_set_limit(&f->h.frames, 0);
        os_frames_inject_failure(&f->h.frames, 1);
        assert_false(acc(f, &f->as, &f->ctx, a + 3 * PG, MMU_WRITE, &n, &o));
        assert_int_equal(o.result, OS_FAULT_OOM);
        assert_true(acc(f, &f->as, &f->ctx, a + 3 * PG, MMU_WRITE, &n, &o));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fault_read_maps_zero_page_then_write_copies),
        cmocka_unit_test(fault_cow_after_fork_copies_then_reuses),
        cmocka_unit_test(fault_file_pages_fault_around_and_copy),
        cmocka_unit_test(fault_shared_memory_is_shared_across_fork),
        cmocka_unit_test(fault_stack_grows_within_rlimit_and_guard_gap),
        cmocka_unit_test(fault_signals_by_kind),
        cmocka_unit_test(fault_hardware_records_decide_first),
        cmocka_unit_test(fault_spurious_when_the_pte_already_allows),
        cmocka_unit_test(fault_out_of_memory_is_oom),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
