/*
 * test_os_frames.c - the frame allocator: order, zeroing, reference
 * counts, kinds, limits and exhaustion, the injection point, misuse
 * counted instead of crashing, and use as the builder's frame source.
 */
#include "os_harness.h"

#define RAM (UINT64_C(64) * 4096)
#define BASE UINT64_C(0x80000000)

typedef struct fx {
    mmu_phys mem;
    os_frames f;
} fx;

static void fx_init(fx *x)
{
    x->mem.base = BASE;
    x->mem.size = RAM;
    x->mem.ram = calloc(1, RAM);
    assert_non_null(x->mem.ram);
    assert_int_equal(os_frames_init(&x->f, &x->mem, BASE, RAM), 0);
}

static void fx_free(fx *x)
{
    os_frames_destroy(&x->f);
    free(x->mem.ram);
}

static void frames_init_rejects_bad_ranges(void **state)
{
    (void)state;
    fx x;
    fx_init(&x);
    os_frames f;
    assert_int_equal(os_frames_init(&f, &x.mem, BASE + 1, 4096), -OS_EINVAL);
    assert_int_equal(os_frames_init(&f, &x.mem, BASE, 100), -OS_EINVAL);
    assert_int_equal(os_frames_init(&f, &x.mem, BASE, RAM + 4096),
                     -OS_EINVAL);
    assert_int_equal(os_frames_init(&f, &x.mem, BASE - 4096, 8192),
                     -OS_EINVAL);
    assert_int_equal(os_frames_init(&f, &x.mem, BASE, 0), -OS_EINVAL);
    fx_free(&x);
}

static void frames_lowest_first_and_zeroed(void **state)
{
    (void)state;
    fx x;
    fx_init(&x);
    uint64_t a, b;
    assert_int_equal(os_frames_alloc(&x.f, OS_FRAME_ANON, &a), 0);
    assert_int_equal(os_frames_alloc(&x.f, OS_FRAME_ANON, &b), 0);
    TU_EQ_HEX("first frame", a, BASE);
    TU_EQ_HEX("second frame", b, BASE + 4096);
    memset(os_frames_ptr(&x.f, a), 0xa5, 4096);
    assert_true(os_frames_put(&x.f, a));
    uint64_t c;
    assert_int_equal(os_frames_alloc(&x.f, OS_FRAME_ANON, &c), 0);
    TU_EQ_HEX("a freed frame comes back first (LIFO)", c, a);
    const uint8_t *p = os_frames_ptr(&x.f, c);
    for (unsigned i = 0; i < 4096; i++)
        if (p[i] != 0)
            fail_msg("byte %u of a reused frame is 0x%x", i, p[i]);
    os_frames_put(&x.f, b);
    os_frames_put(&x.f, c);
    TU_EQ_HEX("in use", x.f.st.in_use, 0);
    TU_EQ_HEX("peak", x.f.st.peak, 2);
    fx_free(&x);
}

static void frames_refcounts_share_and_free_at_zero(void **state)
{
    (void)state;
    fx x;
    fx_init(&x);
    uint64_t a;
    assert_int_equal(os_frames_alloc(&x.f, OS_FRAME_PCACHE, &a), 0);
    assert_int_equal(os_frames_refcount(&x.f, a), 1);
    os_frames_get(&x.f, a);
    os_frames_get(&x.f, a);
    assert_int_equal(os_frames_refcount(&x.f, a), 3);
    assert_int_equal(os_frames_kind(&x.f, a), OS_FRAME_PCACHE);
    TU_EQ_HEX("pcache frames", x.f.st.by_kind[OS_FRAME_PCACHE], 1);
    assert_false(os_frames_put(&x.f, a));
    assert_false(os_frames_put(&x.f, a));
    assert_int_equal(os_frames_refcount(&x.f, a), 1);
    assert_true(os_frames_put(&x.f, a));
    assert_int_equal(os_frames_refcount(&x.f, a), 0);
    assert_int_equal(os_frames_kind(&x.f, a), OS_FRAME_FREE);
    TU_EQ_HEX("pcache frames after", x.f.st.by_kind[OS_FRAME_PCACHE], 0);
    TU_EQ_HEX("errors", x.f.st.errors, 0);
    fx_free(&x);
}

static void frames_exhaustion_is_enomem(void **state)
{
    (void)state;
    fx x;
    fx_init(&x);
    uint64_t pa[64], extra;
    for (unsigned i = 0; i < 64; i++)
        assert_int_equal(os_frames_alloc(&x.f, OS_FRAME_ANON, &pa[i]), 0);
    assert_int_equal(os_frames_alloc(&x.f, OS_FRAME_ANON, &extra),
                     -OS_ENOMEM);
    assert_int_equal(os_frames_alloc(&x.f, OS_FRAME_ANON, &extra),
                     -OS_ENOMEM);
    TU_EQ_HEX("failures", x.f.st.failures, 2);
    os_frames_put(&x.f, pa[17]);
    assert_int_equal(os_frames_alloc(&x.f, OS_FRAME_ANON, &extra), 0);
    TU_EQ_HEX("the one freed", extra, pa[17]);
    for (unsigned i = 0; i < 64; i++)
        os_frames_put(&x.f, i == 17 ? extra : pa[i]);
    TU_EQ_HEX("in use", x.f.st.in_use, 0);
    fx_free(&x);
}

static void frames_limit_caps_use(void **state)
{
    (void)state;
    fx x;
    fx_init(&x);
    os_frames_set_limit(&x.f, 5);
    uint64_t pa[5], extra;
    for (unsigned i = 0; i < 5; i++)
        assert_int_equal(os_frames_alloc(&x.f, OS_FRAME_ANON, &pa[i]), 0);
    assert_int_equal(os_frames_alloc(&x.f, OS_FRAME_ANON, &extra),
                     -OS_ENOMEM);
    os_frames_set_limit(&x.f, 0); /* back to all of RAM */
    TU_EQ_HEX("limit", x.f.st.limit, 64);
    assert_int_equal(os_frames_alloc(&x.f, OS_FRAME_ANON, &extra), 0);
    os_frames_put(&x.f, extra);
    for (unsigned i = 0; i < 5; i++)
        os_frames_put(&x.f, pa[i]);
    fx_free(&x);
}

static void frames_injected_failure_fires_once(void **state)
{
    (void)state;
    fx x;
    fx_init(&x);
    uint64_t pa[4];
    os_frames_inject_failure(&x.f, 3);
    assert_int_equal(os_frames_alloc(&x.f, OS_FRAME_ANON, &pa[0]), 0);
    assert_int_equal(os_frames_alloc(&x.f, OS_FRAME_ANON, &pa[1]), 0);
    assert_int_equal(os_frames_alloc(&x.f, OS_FRAME_ANON, &pa[2]),
                     -OS_ENOMEM);
    assert_int_equal(os_frames_alloc(&x.f, OS_FRAME_ANON, &pa[2]), 0);
    assert_int_equal(os_frames_alloc(&x.f, OS_FRAME_ANON, &pa[3]), 0);
    for (unsigned i = 0; i < 4; i++)
        os_frames_put(&x.f, pa[i]);
    fx_free(&x);
}

static void frames_misuse_is_counted_not_fatal(void **state)
{
    (void)state;
    fx x;
    fx_init(&x);
    uint64_t a;
    assert_int_equal(os_frames_alloc(&x.f, OS_FRAME_ANON, &a), 0);
    assert_true(os_frames_put(&x.f, a));
    assert_false(os_frames_put(&x.f, a));       /* double free */
    os_frames_get(&x.f, a);                     /* get of a free frame */
    os_frames_get(&x.f, BASE + RAM);            /* outside */
    assert_false(os_frames_put(&x.f, BASE + 12)); /* unaligned */
    TU_EQ_HEX("errors", x.f.st.errors, 4);
    assert_false(os_frames_owns(&x.f, BASE - 4096));
    assert_true(os_frames_owns(&x.f, BASE + RAM - 4096));
    fx_free(&x);
}

static void frames_feed_the_builder(void **state)
{
    (void)state;
    fx x;
    fx_init(&x);
    mmu_pt pt;
    assert_int_equal(mmu_pt_init(&pt, &x.mem, MMU_MODE_SV39,
                                 os_frames_builder_alloc, &x.f),
                     MMU_PT_OK);
    assert_int_equal(mmu_pt_map(&pt, 0x10000, BASE + 0x20000, 4096, 4096,
                                RV_PTE_V | RV_PTE_R, RV_PTE_V),
                     MMU_PT_OK);
    TU_EQ_HEX("root + 2 tables", x.f.st.by_kind[OS_FRAME_PGTABLE], 3);
    os_frames_set_limit(&x.f, 3);
    assert_int_equal(mmu_pt_map(&pt, UINT64_C(0x3f00000000), BASE, 4096,
                                4096, RV_PTE_V | RV_PTE_R, RV_PTE_V),
                     MMU_PT_ENOMEM);
    fx_free(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(frames_init_rejects_bad_ranges),
        cmocka_unit_test(frames_lowest_first_and_zeroed),
        cmocka_unit_test(frames_refcounts_share_and_free_at_zero),
        cmocka_unit_test(frames_exhaustion_is_enomem),
        cmocka_unit_test(frames_limit_caps_use),
        cmocka_unit_test(frames_injected_failure_fires_once),
        cmocka_unit_test(frames_misuse_is_counted_not_fatal),
        cmocka_unit_test(frames_feed_the_builder),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
