/*
 * test_rv_ad.c - step 7 of the translation process: Svade (no Svadu, or
 * menvcfg.ADUE=0: A=0, or D=0 on a store, is a page fault and memory is
 * left alone) against Svadu (ADUE=1: the hardware sets A, and D on a
 * store, only on a walk that succeeds, and only in the leaf). Every case
 * checks the leaf as it reads in memory after the access; the non-leaf
 * entries of the path must read back unchanged.
 */
#include "test_rv_harness.h"

#include <string.h>

#define V RV_PTE_V
#define R RV_PTE_R
#define W RV_PTE_W
#define X RV_PTE_X
#define U RV_PTE_U
#define A RV_PTE_A
#define D RV_PTE_D
#define N RV_PTE_N
#define PS RV_PRIV_S
#define PU RV_PRIV_U
#define NO_SVADU MMU_RV_EXT_SVADU
#define ADUE RV_MENVCFG_ADUE

#define AD(n, md, lv, bits, pv, ext_clr, env_clr, ac, out, set)             \
    {.name = n, .mode = md, .leaf = lv, .leaf_bits = bits, .priv = pv,     \
     .ext_clear = ext_clr, .menvcfg_clear = env_clr, .acc = ac,            \
     .want = out, .want_set = set}

static const rh_one cases[] = {
    /* Svadu (the test machine's default): A on any access, D on stores. */
    AD("sv39_svadu_load_sets_a_only", MMU_MODE_SV39, 0, V | R | W, PS, 0, 0,
       MMU_READ, RH_OK, A),
    AD("sv39_svadu_fetch_sets_a_only", MMU_MODE_SV39, 0, V | X, PS, 0, 0,
       MMU_FETCH, RH_OK, A),
    AD("sv39_svadu_store_sets_a_and_d", MMU_MODE_SV39, 0, V | R | W, PS, 0, 0,
       MMU_WRITE, RH_OK, A | D),
    AD("sv39_svadu_store_with_a_sets_d", MMU_MODE_SV39, 0, V | R | W | A, PS,
       0, 0, MMU_WRITE, RH_OK, D),
    AD("sv39_svadu_store_to_dirty_page_no_write", MMU_MODE_SV39, 0,
       V | R | W | A | D, PS, 0, 0, MMU_WRITE, RH_OK, 0),
    AD("sv39_svadu_load_keeps_d_clear", MMU_MODE_SV39, 0, V | R | W | A, PS,
       0, 0, MMU_READ, RH_OK, 0),
    AD("sv39_svadu_1g_store_sets_a_and_d", MMU_MODE_SV39, 2, V | R | W, PS, 0,
       0, MMU_WRITE, RH_OK, A | D),
    AD("sv32_svadu_4m_store_sets_a_and_d", MMU_MODE_SV32, 1, V | R | W, PS, 0,
       0, MMU_WRITE, RH_OK, A | D),
    AD("sv57_svadu_256t_fetch_sets_a", MMU_MODE_SV57, 4, V | X | U, PU, 0, 0,
       MMU_FETCH, RH_OK, A),
    /* Svadu: a walk that faults writes nothing. */
    AD("sv39_svadu_store_read_only_no_write", MMU_MODE_SV39, 0, V | R, PS, 0,
       0, MMU_WRITE, RH_PF, 0),
    AD("sv39_svadu_user_page_from_s_no_write", MMU_MODE_SV39, 0,
       V | R | W | U, PS, 0, 0, MMU_READ, RH_PF, 0),
    AD("sv39_svadu_supervisor_page_from_u_no_write", MMU_MODE_SV39, 0,
       V | R | W, PU, 0, 0, MMU_WRITE, RH_PF, 0),
    AD("sv39_svadu_fetch_no_x_no_write", MMU_MODE_SV39, 0, V | R | W, PS, 0,
       0, MMU_FETCH, RH_PF, 0),
    AD("sv39_svadu_write_only_encoding_no_write", MMU_MODE_SV39, 0, V | W, PS,
       0, 0, MMU_WRITE, RH_PF, 0),
    AD("sv39_svadu_v0_no_write", MMU_MODE_SV39, 0, R | W | X, PS, 0, 0,
       MMU_READ, RH_PF, 0),
    AD("sv39_svadu_reserved_bit_no_write", MMU_MODE_SV39, 0,
       V | R | W | (UINT64_C(1) << 57), PS, 0, 0, MMU_WRITE, RH_PF, 0),
    AD("sv39_svadu_pbmt3_no_write", MMU_MODE_SV39, 0,
       V | R | W | (UINT64_C(3) << RV_PTE_PBMT_SHIFT), PS, 0, 0, MMU_WRITE,
       RH_PF, 0),
    AD("sv39_svadu_napot_superpage_no_write", MMU_MODE_SV39, 1,
       V | R | W | N, PS, 0, 0, MMU_WRITE, RH_PF, 0),
    /* Svade through menvcfg.ADUE=0. */
    AD("sv39_svade_adue0_load_a_clear_faults", MMU_MODE_SV39, 0, V | R | W,
       PS, 0, ADUE, MMU_READ, RH_PF, 0),
    AD("sv39_svade_adue0_fetch_a_clear_faults", MMU_MODE_SV39, 0, V | X, PS,
       0, ADUE, MMU_FETCH, RH_PF, 0),
    AD("sv39_svade_adue0_store_a_clear_faults", MMU_MODE_SV39, 0,
       V | R | W | D, PS, 0, ADUE, MMU_WRITE, RH_PF, 0),
    AD("sv39_svade_adue0_store_d_clear_faults", MMU_MODE_SV39, 0,
       V | R | W | A, PS, 0, ADUE, MMU_WRITE, RH_PF, 0),
    AD("sv39_svade_adue0_load_d_clear_ok", MMU_MODE_SV39, 0, V | R | W | A,
       PS, 0, ADUE, MMU_READ, RH_OK, 0),
    AD("sv39_svade_adue0_store_dirty_ok", MMU_MODE_SV39, 0,
       V | R | W | A | D, PS, 0, ADUE, MMU_WRITE, RH_OK, 0),
    AD("sv48_svade_adue0_512g_load_a_clear_faults", MMU_MODE_SV48, 3,
       V | R, PS, 0, ADUE, MMU_READ, RH_PF, 0),
    AD("sv32_svade_adue0_store_d_clear_faults", MMU_MODE_SV32, 0,
       V | R | W | A, PS, 0, ADUE, MMU_WRITE, RH_PF, 0),
    /* Svade because Svadu is absent (menvcfg.ADUE then reads as 0). */
    AD("sv39_svade_no_svadu_load_a_clear_faults", MMU_MODE_SV39, 0,
       V | R | W, PS, NO_SVADU, 0, MMU_READ, RH_PF, 0),
    AD("sv39_svade_no_svadu_store_d_clear_faults", MMU_MODE_SV39, 0,
       V | R | W | A, PS, NO_SVADU, 0, MMU_WRITE, RH_PF, 0),
    AD("sv57_svade_no_svadu_fetch_a_clear_faults", MMU_MODE_SV57, 0,
       V | X | U, PU, NO_SVADU, 0, MMU_FETCH, RH_PF, 0),
    AD("sv39_svade_no_svadu_store_dirty_ok", MMU_MODE_SV39, 0,
       V | R | W | A | D, PS, NO_SVADU, 0, MMU_WRITE, RH_OK, 0),
    /* A permission fault outranks the A/D fault: same cause either way. */
    AD("sv39_svade_read_only_store_faults", MMU_MODE_SV39, 0, V | R, PS,
       NO_SVADU, 0, MMU_WRITE, RH_PF, 0),
};

static void named_ad_cases(void **state)
{
    rh_check ck;
    (void)state;
    memset(&ck, 0, sizeof ck);
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++)
        rh_run_one(&ck, &cases[i]);
    rh_report(&ck, "A/D cases");
}

/* ---- sequences ---------------------------------------------------------- */

typedef struct seq_ctx {
    const char *name;
    unsigned step;
} seq_ctx;

static void seq_describe(const void *arg, char *buf, size_t len)
{
    const seq_ctx *s = arg;
    snprintf(buf, len, "%s, access %u", s->name, s->step);
}

/* Svadu: load (sets A), load again (no write), store (sets D), store
 * again (no write); the leaf's value after each. */
static void svadu_load_then_store_sequence(void **state)
{
    static const struct {
        mmu_access acc;
        uint64_t after;   /* leaf flags after the access */
        uint64_t writes;  /* A/D writes so far */
    } steps[] = {
        {MMU_READ, V | R | W | A, 1},
        {MMU_READ, V | R | W | A, 1},
        {MMU_FETCH, V | R | W | A, 1}, /* no X: faults, writes nothing */
        {MMU_WRITE, V | R | W | A | D, 2},
        {MMU_WRITE, V | R | W | A | D, 2},
    };
    const rh_geom *g = rh_geom_of(MMU_MODE_SV39);
    rh_check ck;
    seq_ctx s = {"sv39_svadu_load_then_store_sequence", 0};
    tu_machine t;
    rh_path p;
    uint64_t va = rh_va(g, false);
    (void)state;
    memset(&ck, 0, sizeof ck);
    rh_machine(&t, g);
    rh_build(&p, &t, g, va, 0, rh_pte(RH_DATA_PA, V | R | W), V);
    for (unsigned i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        mmu_result res;
        mmu_fault flt;
        rh_want w;
        uint64_t before = rh_get(&p, 0);
        s.step = i;
        if (steps[i].acc == MMU_FETCH)
            w = rh_want_fault(MMU_FAULT_PAGE, MMU_FETCH, va, before);
        else
            w = rh_want_ok(RH_DATA_PA | (va & 0xfff), 0x1000, 0, false,
                           rh_pte(RH_DATA_PA, steps[i].after));
        bool ok = rh_translate(&t, va, steps[i].acc, PS, &res, &flt);
        rh_case_begin(&ck);
        rh_compare(&ck, seq_describe, &s, &p, &w, ok, &res, &flt);
        RH_EQ(&ck, seq_describe, &s, "A/D writes", t.ctx.stats.ad_writes,
              steps[i].writes);
    }
    tu_machine_free(&t);
    rh_report(&ck, s.name);
}

/* MMU_REQ_NO_AD (a probe) never writes A/D, even under Svadu. */
static void svadu_probe_writes_nothing(void **state)
{
    const rh_geom *g = rh_geom_of(MMU_MODE_SV48);
    rh_check ck;
    seq_ctx s = {"sv48_svadu_probe_writes_nothing", 0};
    tu_machine t;
    rh_path p;
    uint64_t va = rh_va(g, true);
    (void)state;
    memset(&ck, 0, sizeof ck);
    rh_machine(&t, g);
    rh_build(&p, &t, g, va, 0, rh_pte(RH_DATA_PA, V | R | W), V);
    for (unsigned i = 0; i < 2; i++) {
        mmu_result res;
        mmu_fault flt;
        mmu_access acc = i ? MMU_WRITE : MMU_READ;
        rh_want w = rh_want_ok(RH_DATA_PA | (va & 0xfff), 0x1000, 0, false,
                               p.orig[0]);
        s.step = i;
        res = (mmu_result){0};
        bool ok = tu_translate(&t, va, acc, PS, MMU_REQ_NO_AD, &res, &flt);
        rh_case_begin(&ck);
        rh_compare(&ck, seq_describe, &s, &p, &w, ok, &res, &flt);
    }
    tu_machine_free(&t);
    rh_report(&ck, s.name);
}

/* A 64 KiB NAPOT page is 16 identical PTEs; an access updates the one
 * its walk read (a + va.vpn[0] x PTESIZE), which keeps ppn[3:0] = 1000. */
static void svadu_napot_updates_the_entry_walked(void **state)
{
    const rh_geom *g = rh_geom_of(MMU_MODE_SV39);
    uint64_t va = rh_va(g, false) & ~UINT64_C(0xffff);
    uint64_t napot = rh_pte(RH_DATA_PA | 0x8000, V | R | W | N);
    tu_machine t;
    mmu_result res;
    mmu_fault flt;
    (void)state;
    rh_machine(&t, g);
    for (unsigned i = 0; i < 16; i++)
        assert_int_equal(mmu_pt_set_entry(&t.pt, va + i * UINT64_C(0x1000),
                                          0, napot, V),
                         MMU_PT_OK);
    uint64_t target = va + 5 * UINT64_C(0x1000) + 0x123;
    if (!rh_translate(&t, target, MMU_WRITE, PS, &res, &flt))
        fail_msg("sv39_svadu_napot store: cause %u", flt.code);
    TU_EQ_HEX("sv39_svadu_napot pa", res.pa, RH_DATA_PA | (target & 0xffff));
    TU_EQ_HEX("sv39_svadu_napot page_size", res.page_size, 0x10000);
    for (unsigned i = 0; i < 16; i++) {
        char what[64];
        snprintf(what, sizeof what, "sv39_svadu_napot entry %u", i);
        TU_EQ_HEX(what, tu_entry(&t, va + i * UINT64_C(0x1000), 0),
                  i == 5 ? napot | A | D : napot);
    }
    tu_machine_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(named_ad_cases),
        cmocka_unit_test(svadu_load_then_store_sequence),
        cmocka_unit_test(svadu_probe_writes_nothing),
        cmocka_unit_test(svadu_napot_updates_the_entry_walked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
