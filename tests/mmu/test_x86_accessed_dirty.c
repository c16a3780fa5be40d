/*
 * test_x86_accessed_dirty.c - x86 accessed and dirty flags (SDM vol. 3A
 * 4.8) as the model writes them to guest memory.
 *
 * Rules checked, in every mode and page size:
 *   - A is set in every paging-structure entry used by a successful walk;
 *     PAE PDPTEs have no A flag and live in registers: never written;
 *   - D is set only in the leaf (PTE, or the PDE/PDPTE mapping a large
 *     page) and only for writes;
 *   - other bits of an entry are preserved (locked read-modify-write);
 *   - a faulting walk writes nothing (the model's contract, stricter than
 *     the SDM which lets upper-level A flags be set), nor does a walk with
 *     MMU_REQ_NO_AD;
 *   - entries whose flags are already set are not rewritten;
 *   - result.dirty / perms W follow the leaf's D;
 *   - an entry changed by "another CPU" between the walk's read and its
 *     A/D update is not overwritten with the stale value (FIDELITY: A/D
 *     atomicity, restart the walk on a mismatch);
 *   - a NO_AD probe reports the leaf as it left it (clean), and through
 *     mmu_translate() with a TLB it must not leave a cached translation
 *     that lets the next real access skip setting A/D.
 */
#include "x86_harness.h"

#include "mmuemu/tlb.h"

#define K4 UINT64_C(0x1000)
#define M2 UINT64_C(0x200000)
#define M4 UINT64_C(0x400000)
#define G1 UINT64_C(0x40000000)
#define RWU (X86_PTE_P | X86_PTE_RW | X86_PTE_US)
#define AD (X86_PTE_A | X86_PTE_D)

typedef struct setup {
    const char *name;
    mmu_paging_mode mode;
    uint64_t size, va, pa, off;
} setup;

static const setup setups[] = {
    {"32-bit 4K", MMU_MODE_X86_32, K4, 0x00c03000, 0x12345000, 0x5a8},
    {"32-bit 4M", MMU_MODE_X86_32, M4, 0x80c00000, 0xfe800000, 0x2a5a8},
    {"PAE 4K", MMU_MODE_X86_PAE, K4, 0xc0603000, 0xabcdef000, 0x5a8},
    {"PAE 2M", MMU_MODE_X86_PAE, M2, 0x80400000, 0x34600000, 0x12345},
    {"4-level 4K", MMU_MODE_X86_4LEVEL, K4, 0x00007f8040603000, 0xabcdef000,
     0x5a8},
    {"4-level 2M", MMU_MODE_X86_4LEVEL, M2, 0x00007f8040600000, 0xabcde00000,
     0x12345},
    {"4-level 1G", MMU_MODE_X86_4LEVEL, G1, 0x00007f8040000000, 0x340000000,
     0x2345678},
    {"5-level 4K", MMU_MODE_X86_5LEVEL, K4, 0xff5ab3c040603000, 0xabcdef000,
     0x5a8},
    {"5-level 2M", MMU_MODE_X86_5LEVEL, M2, 0x00a0123456600000, 0xabcde00000,
     0x1fff8},
    {"5-level 1G", MMU_MODE_X86_5LEVEL, G1, 0x00a0123440000000, 0x340000000,
     0x2345678},
};
#define N_SETUPS (sizeof setups / sizeof setups[0])

static bool pdpte_reg(const xh_path *p, unsigned l)
{
    return p->pae && l == p->top;
}

/* Every entry of the path back to `flags` (A and D clear). */
static void reset(xh_path *p, uint64_t flags)
{
    for (unsigned l = p->leaf; l <= p->top; l++)
        if (!pdpte_reg(p, l))
            xh_set_flags(p, l, flags);
}

static void snapshot(const xh_path *p, uint64_t *v)
{
    for (unsigned l = p->leaf; l <= p->top; l++)
        v[l] = xh_get(p, l);
}

/* Compare the path with `before` plus `a_on` on the entries used (not the
 * PAE PDPTE) and `d_on` on the leaf. */
static void expect_path(xh_check *ck, const char *name, const xh_path *p,
                        const uint64_t *before, uint64_t a_on, uint64_t d_on)
{
    for (unsigned l = p->leaf; l <= p->top; l++) {
        uint64_t want = before[l];
        if (!pdpte_reg(p, l))
            want |= a_on | (l == p->leaf ? d_on : 0);
        char what[40];
        snprintf(what, sizeof what, "%s in memory",
                 xh_level_name(p->mode, l));
        XH_EQ(ck, xh_describe_str, name, what, xh_get(p, l), want);
    }
}

static void x86_ad_set_on_success_per_mode(void **state)
{
    (void)state;
    xh_check ck = {0};
    for (size_t i = 0; i < N_SETUPS; i++) {
        const setup *s = &setups[i];
        tu_machine t;
        xh_path p;
        mmu_result res;
        uint64_t before[MMU_MAX_LEVELS];
        char name[96];
        xh_machine(&t, s->mode);
        xh_map(&p, &t, s->va, s->pa, s->size);
        uint64_t va = s->va + s->off, pa = s->pa + s->off;

        /* A read: A everywhere, no D. */
        reset(&p, RWU);
        snapshot(&p, before);
        snprintf(name, sizeof name, "%s: read", s->name);
        if (xh_expect_ok(&ck, name, &t, va, MMU_READ, 3, 0, pa, s->size,
                         &res)) {
            XH_EQ(&ck, xh_describe_str, name, "dirty", res.dirty, false);
            XH_EQ(&ck, xh_describe_str, name, "perms W",
                  res.perms & MMU_PERM_W, 0);
        }
        expect_path(&ck, name, &p, before, X86_PTE_A, 0);

        /* A fetch: the same. */
        reset(&p, RWU);
        snprintf(name, sizeof name, "%s: fetch", s->name);
        xh_expect_ok(&ck, name, &t, va, MMU_FETCH, 3, 0, pa, s->size, &res);
        expect_path(&ck, name, &p, before, X86_PTE_A, 0);

        /* A write: A everywhere, D in the leaf only. */
        reset(&p, RWU);
        snprintf(name, sizeof name, "%s: write", s->name);
        if (xh_expect_ok(&ck, name, &t, va, MMU_WRITE, 3, 0, pa, s->size,
                         &res)) {
            XH_EQ(&ck, xh_describe_str, name, "dirty", res.dirty, true);
            XH_EQ(&ck, xh_describe_str, name, "perms W",
                  res.perms & MMU_PERM_W, MMU_PERM_W);
        }
        expect_path(&ck, name, &p, before, X86_PTE_A, X86_PTE_D);

        /* A read of the now dirty page: reports dirty and W. */
        snprintf(name, sizeof name, "%s: read after write", s->name);
        if (xh_expect_ok(&ck, name, &t, va, MMU_READ, 3, 0, pa, s->size,
                         &res)) {
            XH_EQ(&ck, xh_describe_str, name, "dirty", res.dirty, true);
            XH_EQ(&ck, xh_describe_str, name, "perms W",
                  res.perms & MMU_PERM_W, MMU_PERM_W);
        }
        expect_path(&ck, name, &p, before, X86_PTE_A, X86_PTE_D);

        /* Supervisor write with WP=0 to a read-only page: D too. */
        reset(&p, X86_PTE_P);
        snapshot(&p, before);
        t.ctx.st.x86.cr0 &= ~X86_CR0_WP;
        snprintf(name, sizeof name, "%s: WP=0 write to read-only", s->name);
        xh_expect_ok(&ck, name, &t, va, MMU_WRITE, 0, 0, pa, s->size, &res);
        expect_path(&ck, name, &p, before, X86_PTE_A, X86_PTE_D);
        tu_machine_free(&t);
    }
    xh_finish(&ck, "A/D on success");
}

/* Ignored bits, G, PWT/PCD and the key bits survive the A/D update. */
static void x86_ad_other_bits_preserved(void **state)
{
    (void)state;
    xh_check ck = {0};
    for (size_t i = 0; i < N_SETUPS; i++) {
        const setup *s = &setups[i];
        tu_machine t;
        xh_path p;
        mmu_result res;
        uint64_t before[MMU_MAX_LEVELS];
        xh_machine(&t, s->mode);
        xh_map(&p, &t, s->va, s->pa, s->size);
        uint64_t extra = X86_PTE_PWT | X86_PTE_PCD | (UINT64_C(7) << 9);
        if (s->mode == MMU_MODE_X86_4LEVEL || s->mode == MMU_MODE_X86_5LEVEL)
            extra |= UINT64_C(0x7ff) << 52; /* ignored / keys (PKE=0) */
        for (unsigned l = p.leaf; l <= p.top; l++)
            if (!pdpte_reg(&p, l))
                xh_set_flags(&p, l, RWU | extra |
                                        (l == p.leaf ? X86_PTE_G : 0));
        snapshot(&p, before);
        xh_expect_ok(&ck, s->name, &t, s->va + s->off, MMU_WRITE, 3, 0,
                     s->pa + s->off, s->size, &res);
        expect_path(&ck, s->name, &p, before, X86_PTE_A, X86_PTE_D);
        tu_machine_free(&t);
    }
    xh_finish(&ck, "other bits preserved");
}

/*
 * Faulting walks write nothing: P=0 at each level, a protection fault at
 * the leaf (user write to read-only, user access to supervisor, SMAP, XD
 * fetch), a reserved bit at each level.
 */
static void x86_ad_nothing_written_on_fault(void **state)
{
    (void)state;
    xh_check ck = {0};
    for (size_t i = 0; i < N_SETUPS; i++) {
        const setup *s = &setups[i];
        tu_machine t;
        xh_path p;
        uint64_t before[MMU_MAX_LEVELS];
        char name[96];
        xh_machine(&t, s->mode);
        xh_map(&p, &t, s->va, s->pa, s->size);
        uint64_t va = s->va + s->off;
        bool nx = s->mode != MMU_MODE_X86_32;

        for (unsigned l = p.leaf; l <= p.top; l++) {
            if (pdpte_reg(&p, l))
                continue;
            reset(&p, RWU);
            xh_set_flags(&p, l, X86_PTE_RW | X86_PTE_US); /* P=0 */
            snapshot(&p, before);
            snprintf(name, sizeof name, "%s: %s not present", s->name,
                     xh_level_name(s->mode, l));
            xh_expect_pf(&ck, name, &t, va, MMU_WRITE, 3, 0,
                         X86_PF_W | X86_PF_U, (int)l);
            expect_path(&ck, name, &p, before, 0, 0);

            /* Reserved: bit 51 with MAXPHYADDR 40 (PSE-36 bit 21 for
             * the 32-bit 4M PDE; 32-bit 4K entries have none). */
            uint64_t rbit = UINT64_C(1) << 51;
            if (s->mode == MMU_MODE_X86_32) {
                if (s->size != M4)
                    continue;
                rbit = UINT64_C(1) << 21;
            }
            reset(&p, RWU);
            xh_set(&p, l, xh_get(&p, l) | rbit);
            snapshot(&p, before);
            t.ctx.st.x86.maxphyaddr = 40;
            snprintf(name, sizeof name, "%s: %s reserved bit", s->name,
                     xh_level_name(s->mode, l));
            xh_expect_pf(&ck, name, &t, va, MMU_READ, 0, 0,
                         X86_PF_P | X86_PF_RSVD, (int)l);
            expect_path(&ck, name, &p, before, 0, 0);
            t.ctx.st.x86.maxphyaddr = 52;
        }

        static const struct {
            const char *what;
            uint64_t leaf;
            mmu_access acc;
            unsigned cpl;
            uint64_t cr4;
            uint32_t code;
        } prot[] = {
            {"user write to read-only", X86_PTE_P | X86_PTE_US, MMU_WRITE, 3,
             0, X86_PF_P | X86_PF_W | X86_PF_U},
            {"user read of supervisor", X86_PTE_P | X86_PTE_RW, MMU_READ, 3,
             0, X86_PF_P | X86_PF_U},
            {"SMAP supervisor write", RWU, MMU_WRITE, 0, X86_CR4_SMAP,
             X86_PF_P | X86_PF_W},
            {"SMEP supervisor fetch", RWU, MMU_FETCH, 0, X86_CR4_SMEP,
             X86_PF_P | X86_PF_I},
            {"XD user fetch", RWU | X86_PTE_NX, MMU_FETCH, 3, 0,
             X86_PF_P | X86_PF_U | X86_PF_I},
        };
        for (size_t k = 0; k < sizeof prot / sizeof prot[0]; k++) {
            if (!nx && (prot[k].leaf & X86_PTE_NX))
                continue;
            reset(&p, RWU);
            xh_set_flags(&p, p.leaf, prot[k].leaf);
            snapshot(&p, before);
            uint64_t cr4 = t.ctx.st.x86.cr4;
            uint64_t efer = t.ctx.st.x86.efer;
            t.ctx.st.x86.cr4 |= prot[k].cr4;
            t.ctx.st.x86.efer |= X86_EFER_NXE;
            uint32_t code = prot[k].code;
            if (s->mode == MMU_MODE_X86_32 && !(prot[k].cr4 & X86_CR4_SMEP))
                code &= ~X86_PF_I; /* 32-bit: I only with SMEP */
            snprintf(name, sizeof name, "%s: %s", s->name, prot[k].what);
            xh_expect_pf(&ck, name, &t, va, prot[k].acc, prot[k].cpl, 0,
                         code, (int)p.leaf);
            expect_path(&ck, name, &p, before, 0, 0);
            t.ctx.st.x86.cr4 = cr4;
            t.ctx.st.x86.efer = efer;
        }
        tu_machine_free(&t);
    }
    xh_finish(&ck, "nothing written on a fault");
}

/* MMU_REQ_NO_AD: same translation, memory untouched, no A/D writes. */
static void x86_ad_probe_writes_nothing(void **state)
{
    (void)state;
    xh_check ck = {0};
    for (size_t i = 0; i < N_SETUPS; i++) {
        const setup *s = &setups[i];
        tu_machine t;
        xh_path p;
        mmu_result res;
        uint64_t before[MMU_MAX_LEVELS];
        xh_machine(&t, s->mode);
        xh_map(&p, &t, s->va, s->pa, s->size);
        reset(&p, RWU);
        snapshot(&p, before);
        uint64_t writes = t.ctx.stats.ad_writes;
        for (unsigned a = 0; a < 3; a++) {
            char name[80];
            snprintf(name, sizeof name, "%s: NO_AD %s", s->name,
                     mmu_access_name((mmu_access)a));
            xh_expect_ok(&ck, name, &t, s->va + s->off, (mmu_access)a, 3,
                         MMU_REQ_NO_AD, s->pa + s->off, s->size, &res);
            expect_path(&ck, name, &p, before, 0, 0);
        }
        XH_EQ(&ck, xh_describe_str, s->name, "stats.ad_writes",
              t.ctx.stats.ad_writes, writes);
        tu_machine_free(&t);
    }
    xh_finish(&ck, "NO_AD probes");
}

/* ---- trace-based checks ------------------------------------------------ */

#define MAX_EVENTS 32

typedef struct trace_log {
    unsigned n;
    struct {
        int write;
        uint64_t pa, value;
    } ev[MAX_EVENTS];
    /* Optional "other CPU": on the first read of `victim`, store
     * `replacement` there. */
    mmu_phys *mem;
    unsigned pte_size;
    uint64_t victim, replacement;
    bool armed, fired;
} trace_log;

static void trace_fn(void *arg, int write, uint64_t pa, uint64_t value)
{
    trace_log *lg = arg;
    if (lg->n < MAX_EVENTS) {
        lg->ev[lg->n].write = write;
        lg->ev[lg->n].pa = pa;
        lg->ev[lg->n].value = value;
        lg->n++;
    }
    if (lg->armed && !lg->fired && !write && pa == lg->victim) {
        lg->fired = true;
        mmu_phys_write_pte(lg->mem, pa, lg->pte_size, lg->replacement);
    }
}

/*
 * The A/D writes go only to entries of the path, the last write to each
 * holds its final value, and entries already carrying their flags are
 * not written at all.
 */
static void x86_ad_writes_only_what_changes(void **state)
{
    (void)state;
    xh_check ck = {0};
    for (size_t i = 0; i < N_SETUPS; i++) {
        const setup *s = &setups[i];
        tu_machine t;
        xh_path p;
        mmu_result res;
        trace_log lg = {0};
        xh_machine(&t, s->mode);
        xh_map(&p, &t, s->va, s->pa, s->size);
        t.ctx.trace = trace_fn;
        t.ctx.trace_arg = &lg;
        reset(&p, RWU);
        xh_expect_ok(&ck, s->name, &t, s->va + s->off, MMU_WRITE, 3, 0,
                     s->pa + s->off, s->size, &res);
        unsigned writes = 0;
        for (unsigned e = 0; e < lg.n; e++) {
            if (!lg.ev[e].write)
                continue;
            writes++;
            bool on_path = false;
            for (unsigned l = p.leaf; l <= p.top; l++)
                if (!pdpte_reg(&p, l) && lg.ev[e].pa == p.addr[l]) {
                    on_path = true;
                    bool last = true;
                    for (unsigned f = e + 1; f < lg.n; f++)
                        if (lg.ev[f].write && lg.ev[f].pa == lg.ev[e].pa)
                            last = false;
                    if (last)
                        XH_EQ(&ck, xh_describe_str, s->name,
                              "traced final value", lg.ev[e].value,
                              xh_get(&p, l));
                }
            XH_EQ(&ck, xh_describe_str, s->name, "A/D write on the path",
                  on_path ? lg.ev[e].pa : ~UINT64_C(0), lg.ev[e].pa);
        }
        XH_EQ(&ck, xh_describe_str, s->name, "some A/D write traced",
              writes != 0, true);

        /* Everything set already: a second write writes nothing. */
        lg.n = 0;
        uint64_t ad0 = t.ctx.stats.ad_writes;
        xh_expect_ok(&ck, s->name, &t, s->va + s->off, MMU_WRITE, 3, 0,
                     s->pa + s->off, s->size, &res);
        unsigned again = 0;
        for (unsigned e = 0; e < lg.n; e++)
            again += lg.ev[e].write != 0;
        XH_EQ(&ck, xh_describe_str, s->name, "writes when A/D already set",
              again, 0);
        XH_EQ(&ck, xh_describe_str, s->name, "stats.ad_writes unchanged",
              t.ctx.stats.ad_writes, ad0);
        tu_machine_free(&t);
    }
    xh_finish(&ck, "A/D writes");
}

/*
 * Another CPU clears R/W in the leaf right after this walk read it (the
 * trace hook fires on the read). A locked A/D update sees the entry
 * changed and must re-walk: the write then faults, and the other CPU's
 * value stays in memory, not the stale value with A/D added.
 */
static void x86_ad_concurrent_change_is_not_clobbered(void **state)
{
    (void)state;
    xh_check ck = {0};
    for (size_t i = 0; i < N_SETUPS; i++) {
        const setup *s = &setups[i];
        tu_machine t;
        xh_path p;
        trace_log lg = {0};
        xh_machine(&t, s->mode);
        xh_map(&p, &t, s->va, s->pa, s->size);
        reset(&p, RWU);
        lg.mem = &t.mem;
        lg.pte_size = p.pte_size;
        lg.victim = p.addr[p.leaf];
        lg.replacement = p.base[p.leaf] | X86_PTE_P | X86_PTE_US;
        lg.armed = true;
        t.ctx.trace = trace_fn;
        t.ctx.trace_arg = &lg;
        char name[96];
        snprintf(name, sizeof name, "%s: leaf made read-only mid-walk",
                 s->name);
        xh_expect_pf(&ck, name, &t, s->va + s->off, MMU_WRITE, 3, 0,
                     X86_PF_P | X86_PF_W | X86_PF_U, (int)p.leaf);
        XH_EQ(&ck, xh_describe_str, name, "trace saw the leaf read",
              lg.fired, true);
        XH_EQ(&ck, xh_describe_str, name, "leaf keeps the other CPU's value",
              xh_get(&p, p.leaf), lg.replacement);
        tu_machine_free(&t);
    }
    xh_finish(&ck, "concurrent change");
}

/*
 * A NO_AD probe leaves the leaf clean, so the result must say so:
 * mmu_result.dirty is "leaf D after this access" (translate.h). A probe
 * that reported dirty=true would let a TLB filled from it serve a later
 * real write without ever setting D (next test).
 */
static void x86_ad_probe_write_reports_leaf_clean(void **state)
{
    (void)state;
    xh_check ck = {0};
    for (size_t i = 0; i < N_SETUPS; i++) {
        const setup *s = &setups[i];
        tu_machine t;
        xh_path p;
        mmu_result res;
        char name[80];
        xh_machine(&t, s->mode);
        xh_map(&p, &t, s->va, s->pa, s->size);
        reset(&p, RWU);
        snprintf(name, sizeof name, "%s: NO_AD write probe", s->name);
        if (xh_expect_ok(&ck, name, &t, s->va + s->off, MMU_WRITE, 3,
                         MMU_REQ_NO_AD, s->pa + s->off, s->size, &res))
            XH_EQ(&ck, xh_describe_str, name, "dirty (leaf D after access)",
                  res.dirty, (xh_get(&p, p.leaf) & X86_PTE_D) != 0);
        tu_machine_free(&t);
    }
    xh_finish(&ck, "NO_AD probe result");
}

/*
 * Through mmu_translate() with a TLB: a NO_AD probe must not leave behind
 * a cached translation that lets the next real access skip the A/D update.
 * SDM 4.8: "Whenever the processor uses a paging-structure entry as part
 * of linear-address translation, it sets the accessed flag"; a write sets
 * D in the leaf; a TLB entry is only ever created by a walk that set A
 * (and D is set before a write completes - 4.10.2.1/4.8).
 */
static void x86_ad_real_access_after_probe_sets_ad_with_tlb(void **state)
{
    (void)state;
    xh_check ck = {0};
    for (size_t i = 0; i < N_SETUPS; i++) {
        const setup *s = &setups[i];
        for (unsigned a = 0; a < 2; a++) {
            mmu_access acc = a ? MMU_WRITE : MMU_READ;
            tu_machine t;
            xh_path p;
            mmu_result res;
            uint64_t before[MMU_MAX_LEVELS];
            char name[96];
            xh_machine(&t, s->mode);
            xh_map(&p, &t, s->va, s->pa, s->size);
            struct mmu_tlb *tlb = mmu_tlb_new(mmu_tlb_preset("generic"));
            assert_non_null(tlb);
            t.ctx.tlb = tlb;
            reset(&p, RWU);
            snapshot(&p, before);
            snprintf(name, sizeof name, "%s: TLB, NO_AD %s probe then %s",
                     s->name, mmu_access_name(acc), mmu_access_name(acc));
            xh_expect_ok(&ck, name, &t, s->va + s->off, acc, 3,
                         MMU_REQ_NO_AD, s->pa + s->off, s->size, &res);
            expect_path(&ck, name, &p, before, 0, 0);
            xh_expect_ok(&ck, name, &t, s->va + s->off, acc, 3, 0,
                         s->pa + s->off, s->size, &res);
            expect_path(&ck, name, &p, before, X86_PTE_A,
                        acc == MMU_WRITE ? X86_PTE_D : 0);
            t.ctx.tlb = NULL;
            mmu_tlb_free(tlb);
            tu_machine_free(&t);
        }
    }
    xh_finish(&ck, "NO_AD probe and the TLB");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(x86_ad_set_on_success_per_mode),
        cmocka_unit_test(x86_ad_other_bits_preserved),
        cmocka_unit_test(x86_ad_nothing_written_on_fault),
        cmocka_unit_test(x86_ad_probe_writes_nothing),
        cmocka_unit_test(x86_ad_writes_only_what_changes),
        cmocka_unit_test(x86_ad_concurrent_change_is_not_clobbered),
        cmocka_unit_test(x86_ad_probe_write_reports_leaf_clean),
        cmocka_unit_test(x86_ad_real_access_after_probe_sets_ad_with_tlb),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
