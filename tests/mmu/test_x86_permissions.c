/*
 * test_x86_permissions.c - x86 access rights (SDM vol. 3A 4.6) and the
 * #PF error code (4.7), checked exhaustively against x86_oracle.h.
 *
 * The combinatorial test walks every combination of U/S, R/W and XD in
 * two paging-structure levels x CR0.WP x CR4.SMEP x CR4.SMAP x RFLAGS.AC
 * x IA32_EFER.NXE x access (read/write/fetch) x privilege (CPL 0..3 and
 * implicit supervisor accesses at CPL 0 and 3), in 32-bit, PAE, 4-level
 * and 5-level paging with 4K and large pages. Each access runs twice:
 * first as an MMU_REQ_NO_AD probe (same verdict, memory untouched), then
 * for real. For each it checks the verdict, the error code, CR2, the
 * level, PA, page size, perms and the A/D bits left in memory.
 *
 * XD with NXE=0 is a reserved bit (SDM table 4-11 and following), so
 * those combinations expect #PF with RSVD from the top-most entry with
 * XD set. Implicit supervisor accesses are data accesses only: fetches
 * are not combined with MMU_REQ_IMPLICIT.
 */
#include "x86_harness.h"
#include "x86_oracle.h"

#define CTL_WP   (1u << 0)
#define CTL_SMEP (1u << 1)
#define CTL_SMAP (1u << 2)
#define CTL_AC   (1u << 3)
#define CTL_NXE  (1u << 4)
#define CTL_ALL  32u

typedef struct priv_kind {
    const char *name;
    unsigned cpl;
    bool implicit;
} priv_kind;

static const priv_kind kinds[] = {
    {"cpl0", 0, false},         {"cpl1", 1, false},
    {"cpl2", 2, false},         {"cpl3", 3, false},
    {"implicit@cpl0", 0, true}, {"implicit@cpl3", 3, true},
};
#define N_KINDS (sizeof kinds / sizeof kinds[0])

static const mmu_access accesses[] = {MMU_READ, MMU_WRITE, MMU_FETCH};

static xo_ctl ctl_from(mmu_paging_mode mode, unsigned bits)
{
    xo_ctl c = {.mode = mode,
                .wp = (bits & CTL_WP) != 0,
                .smep = (bits & CTL_SMEP) != 0,
                .smap = (bits & CTL_SMAP) != 0,
                .ac = (bits & CTL_AC) != 0,
                .nxe = (bits & CTL_NXE) != 0};
    return c;
}

static void ctl_str(unsigned bits, char *buf, size_t len)
{
    snprintf(buf, len, "WP=%u SMEP=%u SMAP=%u AC=%u NXE=%u",
             (bits & CTL_WP) != 0, (bits & CTL_SMEP) != 0,
             (bits & CTL_SMAP) != 0, (bits & CTL_AC) != 0,
             (bits & CTL_NXE) != 0);
}

/* ---- one case: entries, controls, access; expected from the oracle -- */

typedef struct perm_case {
    const char *label;
    xh_path *path;
    uint64_t va;        /* requested address (with page offset) */
    uint64_t pa;        /* expected PA */
    uint64_t flags[MMU_MAX_LEVELS]; /* P/RW/US/NX per level */
    unsigned ctl;
    mmu_access acc;
    const priv_kind *who;
    unsigned req_flags; /* MMU_REQ_NO_AD or 0 */
} perm_case;

static void describe_case(const void *arg, char *buf, size_t len)
{
    const perm_case *pc = arg;
    const xh_path *p = pc->path;
    char ctl[64], ent[160] = "";
    size_t n = 0;
    ctl_str(pc->ctl, ctl, sizeof ctl);
    for (unsigned l = p->top + 1; l-- > p->leaf;) {
        uint64_t f = pc->flags[l];
        int k = snprintf(ent + n, sizeof ent - n, "%s%s:%c%c%c%c",
                         n ? " " : "", xh_level_name(p->mode, l),
                         (f & X86_PTE_P) ? 'P' : '-',
                         (f & X86_PTE_US) ? 'U' : 'S',
                         (f & X86_PTE_RW) ? 'W' : 'R',
                         (f & X86_PTE_NX) ? 'X' : '-');
        if (k < 0 || (size_t)k >= sizeof ent - n)
            break;
        n += (size_t)k;
    }
    snprintf(buf, len, "%s va=0x%llx %s | %s | %s %s%s", pc->label,
             (unsigned long long)pc->va, ent, ctl, mmu_access_name(pc->acc),
             pc->who->name,
             (pc->req_flags & MMU_REQ_NO_AD) ? " NO_AD" : "");
}

/* The entry value the test writes at `level` (PAE PDPTE: untouched). */
static bool writes_level(const xh_path *p, unsigned l)
{
    return !(p->pae && l == p->top);
}

/*
 * Run one case against the model and compare with the oracle.
 * @return true if the model agreed.
 */
static bool run_case(xh_check *ck, const perm_case *pc)
{
    xh_path *p = pc->path;
    xo_ctl c = ctl_from(p->mode, pc->ctl);
    xo_who w = {pc->acc, pc->who->cpl, pc->who->implicit};
    bool noad = (pc->req_flags & MMU_REQ_NO_AD) != 0;

    xh_case_begin(ck);
    for (unsigned l = p->leaf; l <= p->top; l++)
        if (writes_level(p, l))
            xh_set_flags(p, l, pc->flags[l]);
    xo_apply(&c, &p->t->ctx.st.x86);

    /* Fold the entries into the oracle's summary, root first. */
    xo_page pg = {.user_addr = true, .writable = true};
    int rsvd_level = -1;
    for (unsigned l = p->top + 1; l-- > p->leaf;) {
        uint64_t f = pc->flags[l];
        if (!writes_level(p, l))
            continue; /* PAE PDPTE: no R/W, U/S, XD */
        if ((f & X86_PTE_NX) && !c.nxe && rsvd_level < 0)
            rsvd_level = (int)l;
        pg.user_addr &= (f & X86_PTE_US) != 0;
        pg.writable &= (f & X86_PTE_RW) != 0;
        pg.xd |= (f & X86_PTE_NX) != 0;
    }
    bool want_ok = rsvd_level < 0 && xo_allowed(&c, &w, &pg);

    mmu_result res;
    mmu_fault flt;
    unsigned rflags = pc->req_flags |
                      (pc->who->implicit ? MMU_REQ_IMPLICIT : 0u);
    bool ok = xh_translate(p->t, pc->va, pc->acc, pc->who->cpl, rflags,
                           &res, &flt);

    XH_EQ(ck, describe_case, pc, "ok", ok, want_ok);
    if (ok && want_ok) {
        /* The leaf starts clean: a write makes it dirty unless it is a
         * probe (MMU_REQ_NO_AD writes nothing). */
        bool dirty = pc->acc == MMU_WRITE && !noad;
        XH_EQ(ck, describe_case, pc, "pa", res.pa, pc->pa);
        XH_EQ(ck, describe_case, pc, "page_size", res.page_size,
              UINT64_C(1) << mmu_mode_shift(mmu_mode_get(p->mode), p->leaf));
        XH_EQ(ck, describe_case, pc, "level", res.level, p->leaf);
        XH_EQ(ck, describe_case, pc, "mode", res.mode, p->mode);
        XH_EQ(ck, describe_case, pc, "perms", res.perms,
              xo_perms(&c, &w, &pg, dirty));
        XH_EQ(ck, describe_case, pc, "global", res.global, 0);
        XH_EQ(ck, describe_case, pc, "pkey", res.pkey, 0);
        XH_EQ(ck, describe_case, pc, "walk steps", res.walk.n,
              p->top - p->leaf + 1u);
        XH_EQ(ck, describe_case, pc, "dirty", res.dirty, dirty);
    } else if (!ok && !want_ok) {
        xo_pf_kind kind = rsvd_level >= 0 ? XO_RESERVED : XO_PROTECTION;
        XH_EQ(ck, describe_case, pc, "fault kind", flt.kind, MMU_FAULT_PAGE);
        XH_EQ(ck, describe_case, pc, "vector", flt.vector, X86_VEC_PF);
        XH_EQ(ck, describe_case, pc, "error code", flt.code,
              xo_pf_code(&c, &w, kind, &pg));
        XH_EQ(ck, describe_case, pc, "cr2", flt.addr, pc->va);
        XH_EQ(ck, describe_case, pc, "fault level", (int64_t)flt.level,
              (int64_t)(rsvd_level >= 0 ? rsvd_level : (int)p->leaf));
    }

    /* A in every entry used, D in the leaf for writes; nothing written on
     * a fault or with NO_AD; the PAE PDPTE in memory is never written. */
    for (unsigned l = p->leaf; l <= p->top; l++) {
        uint64_t want = p->base[l] | pc->flags[l];
        if (!writes_level(p, l)) {
            want = p->base[l] | X86_PTE_P;
        } else if (ok && !noad) {
            want |= X86_PTE_A;
            if (l == p->leaf && pc->acc == MMU_WRITE)
                want |= X86_PTE_D;
        }
        char what[32];
        snprintf(what, sizeof what, "%s in memory",
                 xh_level_name(p->mode, l));
        XH_EQ(ck, describe_case, pc, what, xh_get(p, l), want);
    }
    return !ck->case_bad;
}

/* ---- the combinatorial sweep ----------------------------------------- */

typedef struct perm_variant {
    const char *name;
    mmu_paging_mode mode;
    uint64_t va, pa, page_size, off;
    int vary[2]; /* levels whose U/S, R/W, XD are varied (-1: none) */
} perm_variant;

static const perm_variant variants[] = {
    {"32-bit 4K PDE+PTE", MMU_MODE_X86_32, 0x00c03000, 0x12345000,
     0x1000, 0x5a8, {1, 0}},
    {"32-bit 4M PDE", MMU_MODE_X86_32, 0x80c00000, 0xfe800000, 0x400000,
     0x2a5a8, {1, -1}},
    {"PAE 4K PDE+PTE", MMU_MODE_X86_PAE, 0xc0603000, 0xabcdef000, 0x1000,
     0x5a8, {1, 0}},
    {"PAE 2M PDE", MMU_MODE_X86_PAE, 0x80400000, 0x1234600000, 0x200000,
     0x12345, {1, -1}},
    {"4-level 4K PDE+PTE", MMU_MODE_X86_4LEVEL, 0x00007f8040603000,
     0xabcdef000, 0x1000, 0x5a8, {1, 0}},
    {"4-level 4K PML4E+PTE (upper half)", MMU_MODE_X86_4LEVEL,
     0xffff800040201000, 0x12345000, 0x1000, 0xff8, {3, 0}},
    {"4-level 2M PDPTE+PDE", MMU_MODE_X86_4LEVEL, 0x00007f8040600000,
     0xabcde00000, 0x200000, 0x12345, {2, 1}},
    {"4-level 1G PML4E+PDPTE", MMU_MODE_X86_4LEVEL, 0x00007f8040000000,
     0x12340000000, 0x40000000, 0x2345678, {3, 2}},
    {"5-level 4K PML5E+PTE", MMU_MODE_X86_5LEVEL, 0xff5ab3c040603000,
     0xabcdef0123000, 0x1000, 0x5a8, {4, 0}},
    {"5-level 2M PML4E+PDE", MMU_MODE_X86_5LEVEL, 0x00a0123456600000,
     0xabcde00000, 0x200000, 0x1fff8, {3, 1}},
};

/* @return false if any case mismatched (reported already). */
static bool sweep_variant(const perm_variant *v)
{
    tu_machine t;
    xh_path p;
    xh_check ck = {0};
    xh_machine(&t, v->mode);
    xh_map(&p, &t, v->va, v->pa, v->page_size);

    unsigned nvary = v->vary[1] < 0 ? 1 : 2;
    unsigned bpl = v->mode == MMU_MODE_X86_32 ? 2 : 3; /* no XD in 32-bit */
    unsigned combos = 1u << (nvary * bpl);
    for (unsigned combo = 0; combo < combos; combo++) {
        perm_case pc = {.label = v->name, .path = &p, .va = v->va + v->off,
                        .pa = v->pa + v->off};
        for (unsigned l = p.leaf; l <= p.top; l++)
            pc.flags[l] = writes_level(&p, l)
                              ? X86_PTE_P | X86_PTE_RW | X86_PTE_US
                              : X86_PTE_P;
        for (unsigned j = 0; j < nvary; j++) {
            unsigned b = (combo >> (j * bpl)) & ((1u << bpl) - 1u);
            pc.flags[v->vary[j]] = X86_PTE_P |
                                   ((b & 1u) ? X86_PTE_US : 0) |
                                   ((b & 2u) ? X86_PTE_RW : 0) |
                                   ((b & 4u) ? X86_PTE_NX : 0);
        }
        for (unsigned ctl = 0; ctl < CTL_ALL; ctl++) {
            pc.ctl = ctl;
            for (unsigned k = 0; k < N_KINDS; k++) {
                for (unsigned a = 0; a < 3; a++) {
                    if (kinds[k].implicit && accesses[a] == MMU_FETCH)
                        continue;
                    pc.who = &kinds[k];
                    pc.acc = accesses[a];
                    pc.req_flags = MMU_REQ_NO_AD;
                    run_case(&ck, &pc);
                    pc.req_flags = 0;
                    run_case(&ck, &pc);
                }
            }
        }
    }
    tu_machine_free(&t);
    return xh_report(&ck, v->name);
}

static void x86_rights_every_combination(void **state)
{
    (void)state;
    unsigned bad = 0;
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++)
        bad += !sweep_variant(&variants[i]);
    if (bad != 0)
        fail_msg("%u paging variants mismatched the oracle", bad);
}

/*
 * P=0 at each level in turn: error code without P, with W/U/I as the
 * access dictates; nothing written; the walk stops at that level. For
 * PAE the not-present PDPTE is loaded into the registers first.
 */
static void x86_not_present_every_level(void **state)
{
    (void)state;
    xh_check ck = {0};
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++) {
        const perm_variant *v = &variants[i];
        tu_machine t;
        xh_path p;
        xh_machine(&t, v->mode);
        xh_map(&p, &t, v->va, v->pa, v->page_size);
        for (unsigned np = p.leaf; np <= p.top; np++) {
            perm_case pc = {.label = v->name, .path = &p,
                            .va = v->va + v->off};
            for (unsigned l = p.leaf; l <= p.top; l++) {
                /* A PAE PDPTE has no R/W, U/S (reserved bits 2:1). */
                pc.flags[l] = (writes_level(&p, l)
                                   ? X86_PTE_RW | X86_PTE_US
                                   : 0) |
                              (l == np ? 0 : X86_PTE_P);
                xh_set_flags(&p, l, pc.flags[l]);
            }
            if (p.pae)
                tu_x86_load_pdptes(&t);
            for (unsigned ctl = 0; ctl < CTL_ALL; ctl++) {
                xo_ctl c = ctl_from(v->mode, ctl);
                pc.ctl = ctl;
                for (unsigned k = 0; k < N_KINDS; k++) {
                    for (unsigned a = 0; a < 3; a++) {
                        if (kinds[k].implicit && accesses[a] == MMU_FETCH)
                            continue;
                        xo_who w = {accesses[a], kinds[k].cpl,
                                    kinds[k].implicit};
                        mmu_result res;
                        mmu_fault flt;
                        pc.who = &kinds[k];
                        pc.acc = accesses[a];
                        xh_case_begin(&ck);
                        xo_apply(&c, &t.ctx.st.x86);
                        bool ok = xh_translate(
                            &t, pc.va, pc.acc, kinds[k].cpl,
                            kinds[k].implicit ? MMU_REQ_IMPLICIT : 0u, &res,
                            &flt);
                        XH_EQ(&ck, describe_case, &pc, "ok", ok, false);
                        if (ok)
                            continue;
                        XH_EQ(&ck, describe_case, &pc, "fault kind",
                              flt.kind, MMU_FAULT_PAGE);
                        XH_EQ(&ck, describe_case, &pc, "error code",
                              flt.code,
                              xo_pf_code(&c, &w, XO_NOT_PRESENT, NULL));
                        XH_EQ(&ck, describe_case, &pc, "cr2", flt.addr,
                              pc.va);
                        XH_EQ(&ck, describe_case, &pc, "fault level",
                              (int64_t)flt.level, (int64_t)np);
                        /* The fault's walk ends with the P=0 entry. */
                        XH_EQ(&ck, describe_case, &pc, "fault walk steps",
                              flt.walk.n, p.top - np + 1u);
                        if (flt.walk.n > 0 && flt.walk.n <= MMU_MAX_LEVELS)
                            XH_EQ(&ck, describe_case, &pc,
                                  "fault walk last entry",
                                  flt.walk.step[flt.walk.n - 1].pte,
                                  p.base[np] | pc.flags[np]);
                        for (unsigned l = p.leaf; l <= p.top; l++)
                            if (writes_level(&p, l) || l == np)
                                XH_EQ(&ck, describe_case, &pc,
                                      "entry in memory", xh_get(&p, l),
                                      p.base[l] | pc.flags[l]);
                    }
                }
            }
        }
        tu_machine_free(&t);
    }
    xh_finish(&ck, "not-present at every level");
}

/* ---- named cases, for reading ---------------------------------------- */

#define RW X86_PTE_RW
#define US X86_PTE_US
#define NX X86_PTE_NX

typedef struct named_case {
    const char *name;
    mmu_paging_mode mode;
    uint64_t pde, pte; /* R/W, U/S, XD of the PDE and the PTE (P added) */
    unsigned ctl;
    mmu_access acc;
    unsigned cpl;
    bool implicit;
    bool ok;
    uint32_t code;     /* error code when !ok */
} named_case;

#define C4 MMU_MODE_X86_4LEVEL
#define C32 MMU_MODE_X86_32
#define CPAE MMU_MODE_X86_PAE
#define PF_P X86_PF_P
#define PF_W X86_PF_W
#define PF_U X86_PF_U
#define PF_I X86_PF_I
#define PF_RSVD X86_PF_RSVD

static const named_case named[] = {
    /* CR0.WP */
    {"x86_wp0_supervisor_writes_readonly_user_page", C4, US, US, CTL_NXE,
     MMU_WRITE, 0, false, true, 0},
    {"x86_wp0_supervisor_writes_readonly_supervisor_page", C4, 0, 0, 0,
     MMU_WRITE, 0, false, true, 0},
    {"x86_wp1_supervisor_write_to_readonly_page_faults", C4, RW, 0, CTL_WP,
     MMU_WRITE, 0, false, false, PF_P | PF_W},
    {"x86_wp0_user_write_to_readonly_page_still_faults", C4, RW | US, US, 0,
     MMU_WRITE, 3, false, false, PF_P | PF_W | PF_U},
    {"x86_readonly_pde_overrides_writable_pte", C4, US, RW | US, CTL_WP,
     MMU_WRITE, 3, false, false, PF_P | PF_W | PF_U},
    {"x86_supervisor_pde_overrides_user_pte", C4, RW, RW | US, 0, MMU_READ,
     3, false, false, PF_P | PF_U},
    {"x86_user_reads_user_page", C4, US, US, CTL_WP, MMU_READ, 3, false,
     true, 0},
    {"x86_cpl1_and_cpl2_are_supervisor", C4, RW, RW, CTL_WP, MMU_WRITE, 2,
     false, true, 0},
    /* XD */
    {"x86_xd_in_pde_blocks_fetch_from_executable_pte", C4, RW | US | NX,
     RW | US, CTL_NXE, MMU_FETCH, 3, false, false, PF_P | PF_U | PF_I},
    {"x86_xd_with_nxe0_is_a_reserved_bit", C4, RW | US, RW | US | NX, 0,
     MMU_READ, 3, false, false, PF_P | PF_U | PF_RSVD},
    {"x86_xd_reserved_fetch_reports_no_I_without_nxe_or_smep", C4,
     RW | US | NX, RW | US, 0, MMU_FETCH, 0, false, false, PF_P | PF_RSVD},
    {"x86_pae_fetch_fault_without_nxe_has_no_I", CPAE, RW, RW, 0, MMU_FETCH,
     3, false, false, PF_P | PF_U},
    {"x86_32bit_fetch_fault_without_smep_has_no_I", C32, RW, RW, CTL_NXE,
     MMU_FETCH, 3, false, false, PF_P | PF_U},
    {"x86_32bit_fetch_fault_with_smep_has_I", C32, RW | US, RW | US,
     CTL_SMEP, MMU_FETCH, 0, false, false, PF_P | PF_I},
    /* SMEP */
    {"x86_smep_blocks_supervisor_fetch_from_user_page", C4, RW | US,
     RW | US, CTL_SMEP | CTL_NXE, MMU_FETCH, 0, false, false, PF_P | PF_I},
    {"x86_smep_allows_fetch_if_any_level_is_supervisor", C4, RW, RW | US,
     CTL_SMEP | CTL_NXE, MMU_FETCH, 0, false, true, 0},
    {"x86_smep_ignores_data_reads", C4, US, US, CTL_SMEP | CTL_WP,
     MMU_READ, 0, false, true, 0},
    {"x86_smep_fault_even_with_wp0_and_ac", C4, RW | US, RW | US,
     CTL_SMEP | CTL_AC, MMU_FETCH, 1, false, false, PF_P | PF_I},
    /* SMAP */
    {"x86_smap_blocks_supervisor_read_of_user_page", C4, RW | US, RW | US,
     CTL_SMAP, MMU_READ, 0, false, false, PF_P},
    {"x86_smap_ac1_allows_explicit_supervisor_write", C4, RW | US, RW | US,
     CTL_SMAP | CTL_AC | CTL_WP, MMU_WRITE, 0, false, true, 0},
    {"x86_smap_ac1_wp1_readonly_user_page_still_faults", C4, US, US,
     CTL_SMAP | CTL_AC | CTL_WP, MMU_WRITE, 0, false, false, PF_P | PF_W},
    {"x86_smap_ac1_wp0_writes_readonly_user_page", C4, US, US,
     CTL_SMAP | CTL_AC, MMU_WRITE, 0, false, true, 0},
    {"x86_smap_ac_ignored_for_implicit_access_at_cpl0", C4, RW | US,
     RW | US, CTL_SMAP | CTL_AC, MMU_READ, 0, true, false, PF_P},
    {"x86_smap_implicit_access_at_cpl3_reports_supervisor", C4, RW | US,
     RW | US, CTL_SMAP | CTL_AC, MMU_WRITE, 3, true, false, PF_P | PF_W},
    {"x86_smap_does_not_apply_to_fetches", C4, RW | US, RW | US, CTL_SMAP,
     MMU_FETCH, 0, false, true, 0},
    {"x86_smap_user_access_unaffected", C4, RW | US, RW | US, CTL_SMAP,
     MMU_WRITE, 3, false, true, 0},
    /* implicit supervisor accesses */
    {"x86_implicit_at_cpl3_reads_supervisor_page", C4, RW, 0, CTL_WP,
     MMU_READ, 3, true, true, 0},
    {"x86_implicit_at_cpl3_wp0_writes_readonly_page", C32, 0, 0, 0,
     MMU_WRITE, 3, true, true, 0},
    {"x86_implicit_at_cpl3_wp1_readonly_fault_has_no_U", CPAE, RW, 0,
     CTL_WP, MMU_WRITE, 3, true, false, PF_P | PF_W},
};

static void x86_named_cases(void **state)
{
    (void)state;
    xh_check ck = {0};
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
        const named_case *nc = &named[i];
        tu_machine t;
        xh_path p;
        uint64_t va = nc->mode == C4 ? 0x00007f8040603000 : 0xc0603000;
        xh_machine(&t, nc->mode);
        xh_map(&p, &t, va, 0x12345000, 0x1000);
        priv_kind who = {nc->name, nc->cpl, nc->implicit};
        perm_case pc = {.label = nc->name, .path = &p, .va = va + 0x10,
                        .pa = 0x12345010, .ctl = nc->ctl, .acc = nc->acc,
                        .who = &who};
        for (unsigned l = p.leaf; l <= p.top; l++)
            pc.flags[l] = X86_PTE_P | X86_PTE_RW | X86_PTE_US;
        pc.flags[1] = X86_PTE_P | nc->pde;
        pc.flags[0] = X86_PTE_P | nc->pte;

        /* The oracle must agree with the hand-written expectation... */
        xo_ctl c = ctl_from(nc->mode, nc->ctl);
        xo_who w = {nc->acc, nc->cpl, nc->implicit};
        xo_page pg = {.user_addr = (nc->pde & nc->pte & US) != 0,
                      .writable = (nc->pde & nc->pte & RW) != 0,
                      .xd = ((nc->pde | nc->pte) & NX) != 0};
        bool rsvd = nc->mode != C32 && !c.nxe && pg.xd;
        bool oracle_ok = !rsvd && xo_allowed(&c, &w, &pg);
        /* ...and the model with the oracle (A/D, perms, code, ...). */
        run_case(&ck, &pc);
        XH_EQ(&ck, describe_case, &pc, "oracle ok", oracle_ok, nc->ok);
        if (!nc->ok)
            XH_EQ(&ck, describe_case, &pc, "oracle code",
                  xo_pf_code(&c, &w, rsvd ? XO_RESERVED : XO_PROTECTION,
                             &pg),
                  nc->code);
        tu_machine_free(&t);
    }
    xh_finish(&ck, "named cases");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(x86_named_cases),
        cmocka_unit_test(x86_not_present_every_level),
        cmocka_unit_test(x86_rights_every_combination),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
