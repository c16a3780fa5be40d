/*
 * test_x86_canonical.c - canonical-address checks in IA-32e mode (SDM
 * vol. 1 3.3.7.1, vol. 3A 4.5 and 6.15 #GP/#SS).
 *
 * With 4-level paging a linear address must sign-extend from bit 47, with
 * 5-level paging from bit 56. A violation is #GP(0), or #SS(0) for an
 * SS-relative reference (MMU_REQ_STACK); it is never a #PF, so CR2 is not
 * loaded, and it is decided before any paging-structure entry is read:
 * no walk, no A/D, whatever the privilege or access. The model reports it
 * as kind GP/SS with error code 0; mmu_fault.addr may still carry the
 * address for diagnostics, but only a kind of MMU_FAULT_PAGE means CR2.
 */
#include "x86_harness.h"

#define K4 UINT64_C(0x1000)

typedef struct nc_row {
    mmu_paging_mode mode;
    uint64_t va;
    bool canonical;
} nc_row;

static const nc_row rows[] = {
    /* 4-level: bits 63:47 all equal. */
    {MMU_MODE_X86_4LEVEL, 0x0000000000603000, true},
    {MMU_MODE_X86_4LEVEL, 0x00007fffffffffff, true},
    {MMU_MODE_X86_4LEVEL, 0xffff800000000000, true},
    {MMU_MODE_X86_4LEVEL, 0xffffffffffffffff, true},
    {MMU_MODE_X86_4LEVEL, 0x0000800000000000, false},
    {MMU_MODE_X86_4LEVEL, 0xffff7fffffffffff, false},
    {MMU_MODE_X86_4LEVEL, 0x0001000000603000, false},
    {MMU_MODE_X86_4LEVEL, 0xffff000000603000, false},
    {MMU_MODE_X86_4LEVEL, 0x8000000000603000, false},
    {MMU_MODE_X86_4LEVEL, 0x7fffffffffffffff, false},
    {MMU_MODE_X86_4LEVEL, 0x00ff800000000000, false},
    {MMU_MODE_X86_4LEVEL, 0xfffe800000603000, false},
    /* 5-level: bits 63:56 all equal. */
    {MMU_MODE_X86_5LEVEL, 0x0000000000603000, true},
    {MMU_MODE_X86_5LEVEL, 0x0000800000000000, true},
    {MMU_MODE_X86_5LEVEL, 0x00ffffffffffffff, true},
    {MMU_MODE_X86_5LEVEL, 0xff00000000000000, true},
    {MMU_MODE_X86_5LEVEL, 0xffff7fffffffffff, true},
    {MMU_MODE_X86_5LEVEL, 0x0100000000000000, false},
    {MMU_MODE_X86_5LEVEL, 0xfeffffffffffffff, false},
    {MMU_MODE_X86_5LEVEL, 0x0100000000603000, false},
    {MMU_MODE_X86_5LEVEL, 0xfe00000000603000, false},
    {MMU_MODE_X86_5LEVEL, 0x8000000000603000, false},
    {MMU_MODE_X86_5LEVEL, 0x7f00000000603000, false},
};

typedef struct who {
    const char *name;
    unsigned cpl;
    unsigned flags;
} who;

static const who whos[] = {
    {"cpl0", 0, 0},
    {"cpl3", 3, 0},
    {"cpl1 stack", 1, MMU_REQ_STACK},
    {"cpl3 stack", 3, MMU_REQ_STACK},
    {"implicit cpl3", 3, MMU_REQ_IMPLICIT},
    {"cpl0 stack no_ad", 0, MMU_REQ_STACK | MMU_REQ_NO_AD},
    {"cpl3 no_ad", 3, MMU_REQ_NO_AD},
};

typedef struct case_arg {
    const nc_row *row;
    const who *w;
    mmu_access acc;
} case_arg;

static void describe(const void *arg, char *buf, size_t len)
{
    const case_arg *c = arg;
    snprintf(buf, len, "%s va=0x%016llx (%s) %s %s",
             mmu_mode_get(c->row->mode)->name,
             (unsigned long long)c->row->va,
             c->row->canonical ? "canonical" : "non-canonical",
             mmu_access_name(c->acc), c->w->name);
}

/*
 * Every row in its mode, with a 4K page mapped at the low 48 (57) bits of
 * the address, so a model that dropped the high bits would translate.
 */
static void x86_noncanonical_is_gp_or_ss_without_walk(void **state)
{
    (void)state;
    xh_check ck = {0};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const nc_row *r = &rows[i];
        const mmu_mode_info *mi = mmu_mode_get(r->mode);
        uint64_t low = r->va & ((UINT64_C(1) << mi->va_bits) - 1);
        uint64_t page = r->va & ~(K4 - 1);
        tu_machine t;
        xh_path p;
        xh_machine(&t, r->mode);
        /* Map the page the truncated address would hit (canonical
         * addresses get their own page: same translation). */
        xh_map(&p, &t, low & ~(K4 - 1), 0x7000, K4);
        if (r->canonical && page != (low & ~(K4 - 1))) {
            xh_path q;
            xh_map(&q, &t, page, 0x7000, K4);
        }
        uint64_t before[MMU_MAX_LEVELS];
        for (unsigned l = p.leaf; l <= p.top; l++)
            before[l] = xh_get(&p, l);

        for (size_t k = 0; k < sizeof whos / sizeof whos[0]; k++) {
            for (unsigned a = 0; a < 3; a++) {
                const who *w = &whos[k];
                if (a == MMU_FETCH && (w->flags & (MMU_REQ_STACK |
                                                   MMU_REQ_IMPLICIT)))
                    continue; /* not a fetch */
                case_arg c = {r, w, (mmu_access)a};
                mmu_result res;
                mmu_fault flt;
                mmu_walk_stats st0 = t.ctx.stats;
                xh_case_begin(&ck);
                bool ok = xh_translate(&t, r->va, (mmu_access)a, w->cpl,
                                       w->flags, &res, &flt);
                XH_EQ(&ck, describe, &c, "ok", ok, r->canonical);
                if (r->canonical) {
                    if (ok)
                        XH_EQ(&ck, describe, &c, "pa", res.pa,
                              0x7000 | (r->va & (K4 - 1)));
                    continue;
                }
                if (ok)
                    continue;
                bool ss = (w->flags & MMU_REQ_STACK) != 0;
                XH_EQ(&ck, describe, &c, "kind", flt.kind,
                      ss ? MMU_FAULT_SS : MMU_FAULT_GP);
                XH_EQ(&ck, describe, &c, "vector", flt.vector,
                      ss ? X86_VEC_SS : X86_VEC_GP);
                XH_EQ(&ck, describe, &c, "error code", flt.code, 0);
                XH_EQ(&ck, describe, &c, "reason", flt.reason,
                      MMU_WHY_NONCANONICAL);
                XH_EQ(&ck, describe, &c, "fault level", (int64_t)flt.level,
                      -1);
                XH_EQ(&ck, describe, &c, "walk steps", flt.walk.n, 0);
                XH_EQ(&ck, describe, &c, "walks started", t.ctx.stats.walks,
                      st0.walks);
                XH_EQ(&ck, describe, &c, "entries read",
                      t.ctx.stats.walk_reads, st0.walk_reads);
                for (unsigned l = p.leaf; l <= p.top; l++)
                    XH_EQ(&ck, describe, &c, "entry untouched",
                          xh_get(&p, l), before[l]);
            }
        }
        tu_machine_free(&t);
    }
    xh_finish(&ck, "canonical checks");
}

/* The canonical check comes before the walk: a non-canonical address
 * whose low bits are not mapped is still #GP, not #PF. */
static void x86_noncanonical_unmapped_is_gp_not_pf(void **state)
{
    (void)state;
    xh_check ck = {0};
    tu_machine t;
    mmu_result res;
    mmu_fault flt;
    xh_machine(&t, MMU_MODE_X86_4LEVEL);
    xh_case_begin(&ck);
    bool ok = xh_translate(&t, 0x8000000000000000, MMU_WRITE, 3, 0, &res,
                           &flt);
    XH_EQ(&ck, xh_describe_str, "unmapped non-canonical", "ok", ok, false);
    XH_EQ(&ck, xh_describe_str, "unmapped non-canonical", "kind", flt.kind,
          MMU_FAULT_GP);
    XH_EQ(&ck, xh_describe_str, "unmapped non-canonical", "walks started",
          t.ctx.stats.walks, 0);
    /* The canonical neighbour walks and takes #PF with CR2, also for a
     * stack reference (#SS is only for the canonical check). */
    xh_expect_pf(&ck, "unmapped canonical", &t, 0xffff800000000000,
                 MMU_WRITE, 3, 0, X86_PF_W | X86_PF_U, 3);
    xh_expect_pf(&ck, "unmapped canonical stack", &t, 0xffff800000000000,
                 MMU_WRITE, 3, MMU_REQ_STACK, X86_PF_W | X86_PF_U, 3);
    tu_machine_free(&t);
    xh_finish(&ck, "GP before PF");
}

/* Same address, two modes: 0x0000800000000000 is canonical with LA57 and
 * not without it. */
static void x86_la57_widens_the_canonical_range(void **state)
{
    (void)state;
    xh_check ck = {0};
    tu_machine t;
    xh_path p;
    mmu_result res;
    mmu_fault flt;
    xh_machine(&t, MMU_MODE_X86_5LEVEL);
    xh_map(&p, &t, 0x0000800000000000, 0x9000, K4);
    xh_expect_ok(&ck, "5-level: bit 47 set is canonical", &t,
                 0x0000800000000123, MMU_READ, 3, 0, 0x9123, K4, &res);
    tu_machine_free(&t);

    xh_machine(&t, MMU_MODE_X86_4LEVEL);
    xh_case_begin(&ck);
    bool ok = xh_translate(&t, 0x0000800000000123, MMU_READ, 3,
                           MMU_REQ_STACK, &res, &flt);
    XH_EQ(&ck, xh_describe_str, "4-level: bit 47 set", "ok", ok, false);
    XH_EQ(&ck, xh_describe_str, "4-level: bit 47 set", "kind", flt.kind,
          MMU_FAULT_SS);
    tu_machine_free(&t);
    xh_finish(&ck, "LA57 canonical range");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(x86_noncanonical_is_gp_or_ss_without_walk),
        cmocka_unit_test(x86_noncanonical_unmapped_is_gp_not_pf),
        cmocka_unit_test(x86_la57_widens_the_canonical_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
