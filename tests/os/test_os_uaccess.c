/*
 * test_os_uaccess.c - copy_to_user and friends through the model: pages
 * faulted in on the way, -EFAULT with the bytes done so far, read-only
 * and unmapped targets, addresses past TASK_SIZE, strncpy_from_user's
 * return values, clear_user, -ENOMEM when frames run out, and a context
 * with a model TLB.
 */
#include "os_harness.h"

#include "mmuemu/tlb.h"

#define PG UINT64_C(4096)

static const mmu_paging_mode modes[] = {MMU_MODE_X86_4LEVEL, MMU_MODE_SV39};

typedef struct fx {
    osh h;
    os_aspace as;
    os_uaccess u;
} fx;

static void fx_init(fx *f, mmu_paging_mode mode)
{
    osh_init(&f->h, mode, 16 * MIB);
    osh_aspace(&f->h, &f->as);
    os_uaccess_init(&f->u, &f->as, NULL);
}

static void fx_free(fx *f)
{
    os_aspace_destroy(&f->as);
    osh_free(&f->h);
}

static void uaccess_copies_fault_pages_in(void **state)
{
    (void)state;
    for (unsigned m = 0; m < 2; m++) {
        fx *f = calloc(1, sizeof *f);
        fx_init(f, modes[m]);
        uint64_t a = osh_mmap(&f->as, 0, 3 * PG, OS_VM_READ | OS_VM_WRITE, 0);
        char src[6000], back[6000];
        for (unsigned i = 0; i < sizeof src; i++)
            src[i] = (char)(i * 7);
        assert_int_equal(os_copy_to_user(&f->u, a + 1000, src, sizeof src), 0);
        TU_EQ_HEX("done", f->u.done, sizeof src);
        TU_EQ_HEX("two pages faulted in", f->as.rss, 2);
        TU_EQ_HEX("demand zero", f->as.faults.handled[OS_FAULT_DEMAND_ZERO], 2);
        assert_int_equal(os_copy_from_user(&f->u, back, a + 1000, sizeof back),
                         0);
        assert_memory_equal(src, back, sizeof src);
        assert_int_equal(os_clear_user(&f->u, a + 1000, 10), 0);
        assert_int_equal(os_copy_from_user(&f->u, back, a + 1000, 12), 0);
        assert_int_equal(back[9], 0);
        assert_int_equal(back[10], src[10]);
        /* the writer callback is copy_to_user */
        assert_int_equal(os_uaccess_write_cb(&f->u, a, "xy", 2), 0);
        assert_int_equal(os_copy_from_user(&f->u, back, a, 2), 0);
        assert_memory_equal(back, "xy", 2);
        fx_free(f);
        free(f);
    }
}

static void uaccess_efault_reports_progress(void **state)
{
    (void)state;
    for (unsigned m = 0; m < 2; m++) {
        fx *f = calloc(1, sizeof *f);
        fx_init(f, modes[m]);
        uint64_t a = osh_mmap(&f->as, 0x20000000, PG, OS_VM_READ | OS_VM_WRITE,
                              OS_MAP_FIXED);
        static char buf[3 * 4096];
        assert_int_equal(os_copy_to_user(&f->u, a + 100, buf, 2 * PG),
                         -OS_EFAULT);
        TU_EQ_HEX("bytes before the hole", f->u.done, PG - 100);
        assert_int_equal(f->u.last.result, OS_FAULT_SIGNAL);
        assert_int_equal(f->u.last.si_code, OS_SEGV_MAPERR);
        /* read-only: reading is fine (zero page), writing is EFAULT */
        uint64_t r = osh_mmap(&f->as, 0, PG, OS_VM_READ, 0);
        assert_int_equal(os_copy_from_user(&f->u, buf, r, 16), 0);
        assert_int_equal(os_copy_to_user(&f->u, r, buf, 1), -OS_EFAULT);
        assert_int_equal(f->u.last.si_code, OS_SEGV_ACCERR);
        /* access_ok: past TASK_SIZE or wrapping */
        uint64_t ts = f->h.layout.task_size;
        assert_int_equal(os_copy_from_user(&f->u, buf, ts - 8, 16),
                         -OS_EFAULT);
        TU_EQ_HEX("nothing copied", f->u.done, 0);
        assert_int_equal(os_copy_from_user(&f->u, buf, UINT64_MAX - 4, 8),
                         -OS_EFAULT);
        assert_int_equal(os_copy_to_user(&f->u, f->h.layout.page_offset, buf,
                                         1),
                         -OS_EFAULT);
        /* zero length is fine anywhere below TASK_SIZE */
        assert_int_equal(os_copy_to_user(&f->u, 0x1000, buf, 0), 0);
        fx_free(f);
        free(f);
    }
}

static void uaccess_strncpy_from_user_semantics(void **state)
{
    (void)state;
    fx *f = calloc(1, sizeof *f);
    fx_init(f, MMU_MODE_X86_4LEVEL);
    uint64_t a = osh_mmap(&f->as, 0x30000000, 2 * PG, OS_VM_READ | OS_VM_WRITE,
                          OS_MAP_FIXED);
    char out[64];
    assert_int_equal(os_copy_to_user(&f->u, a, "hello", 6), 0);
    assert_int_equal(os_strncpy_from_user(&f->u, out, a, sizeof out), 5);
    assert_string_equal(out, "hello");
    assert_int_equal(os_strncpy_from_user(&f->u, out, a, 3), 3);
    assert_int_equal(os_strncpy_from_user(&f->u, out, a, 0), 0);
    /* a string running into unmapped memory */
    uint64_t end = a + 2 * PG - 4;
    assert_int_equal(os_copy_to_user(&f->u, end, "abcd", 4), 0);
    assert_int_equal(os_strncpy_from_user(&f->u, out, end, sizeof out),
                     -OS_EFAULT);
    /* ... unless n stops first */
    assert_int_equal(os_strncpy_from_user(&f->u, out, end, 4), 4);
    /* a string crossing a page boundary */
    assert_int_equal(os_copy_to_user(&f->u, a + PG - 3, "xyzzy", 6), 0);
    assert_int_equal(os_strncpy_from_user(&f->u, out, a + PG - 3, sizeof out),
                     5);
    assert_string_equal(out, "xyzzy");
    assert_int_equal(os_strncpy_from_user(&f->u, out, f->h.layout.task_size,
                                          8),
                     -OS_EFAULT);
    fx_free(f);
    free(f);
}

static void uaccess_enomem_when_frames_run_out(void **state)
{
    (void)state;
    fx *f = calloc(1, sizeof *f);
    fx_init(f, MMU_MODE_SV39);
    uint64_t a = osh_mmap(&f->as, 0, 4 * PG, OS_VM_READ | OS_VM_WRITE, 0);
    assert_int_equal(os_copy_to_user(&f->u, a, "x", 1), 0);
    os_frames_set_limit(&f->h.frames, f->h.frames.st.in_use);
    assert_int_equal(os_copy_to_user(&f->u, a + PG, "x", 1), -OS_ENOMEM);
    assert_int_equal(f->u.last.result, OS_FAULT_OOM);
    fx_free(f);
    free(f);
}

static void uaccess_with_a_model_tlb(void **state)
{
    (void)state;
    for (unsigned m = 0; m < 2; m++) {
        fx *f = calloc(1, sizeof *f);
        fx_init(f, modes[m]);
        mmu_ctx ctx;
        os_aspace_make_ctx(&f->as, &ctx);
        ctx.tlb = mmu_tlb_new(mmu_tlb_preset("generic"));
        os_uaccess u;
        os_uaccess_init(&u, &f->as, &ctx);
        uint64_t a = osh_mmap(&f->as, 0, 2 * PG, OS_VM_READ | OS_VM_WRITE, 0);
        char b[8];
        /* read (zero page, cached read-only), then write (COW): the stale
         * read-only entry must not make the write fail */
        assert_int_equal(os_copy_from_user(&u, b, a, 8), 0);
        assert_int_equal(os_copy_to_user(&u, a, "12345678", 8), 0);
        assert_int_equal(os_copy_from_user(&u, b, a, 8), 0);
        assert_memory_equal(b, "12345678", 8);
        mmu_tlb_free(ctx.tlb);
        fx_free(f);
        free(f);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(uaccess_copies_fault_pages_in),
        cmocka_unit_test(uaccess_efault_reports_progress),
        cmocka_unit_test(uaccess_strncpy_from_user_semantics),
        cmocka_unit_test(uaccess_enomem_when_frames_run_out),
        cmocka_unit_test(uaccess_with_a_model_tlb),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
