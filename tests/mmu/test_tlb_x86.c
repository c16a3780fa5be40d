/*
 * test_tlb_x86.c - the x86 TLB rules (Intel SDM vol. 3A 4.10): what each
 * invalidating operation removes, staleness, PCIDs, global pages, the D
 * re-walk and CR0.WP judged at hit time.
 *
 * Method: page-table entries are changed with raw writes to guest memory
 * (what the CLI's `poke` does: the TLB never snoops them), then each
 * translation is probed: a surviving entry hits and returns the OLD PA, a
 * dropped one misses, walks and returns the NEW PA.
 *
 * The invalidation table runs under three TLB geometries: a fully
 * associative one-level TLB, the "generic" preset (with an STLB, so a
 * flush that forgets the second level shows as a stale hit) and the
 * generic preset with paging-structure caches.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmuemu/tlb.h"

#define K4 UINT64_C(0x1000)
#define M2 UINT64_C(0x200000)
#define MiB (UINT64_C(1) << 20)

#define TABLE (X86_PTE_P | X86_PTE_RW | X86_PTE_US)
#define LEAF (X86_PTE_P | X86_PTE_RW)
/* CR4.OSFXSR (bit 9): a CR4 bit with no bearing on translation. */
#define CR4_OSFXSR (UINT64_C(1) << 9)

/* Linear addresses of the probes and their old/new frames. */
#define VA_A UINT64_C(0x400000)
#define VA_B UINT64_C(0x401000)
#define VA_G UINT64_C(0x600000)
#define PA_A_OLD UINT64_C(0x800000)
#define PA_A_NEW UINT64_C(0x900000)
#define PA_B_OLD UINT64_C(0x801000)
#define PA_B_NEW UINT64_C(0x901000)
#define PA_G_OLD UINT64_C(0x802000)
#define PA_G_NEW UINT64_C(0x902000)
#define PA_A_OTHER_OLD UINT64_C(0x803000)
#define PA_A_OTHER_NEW UINT64_C(0x903000)
/* Non-canonical in 4-level paging (bit 47 set, 63:48 clear). */
#define NONCANON (VA_A | (UINT64_C(1) << 47))

#define MAIN_PCID UINT64_C(0)
#define OTHER_PCID UINT64_C(5)

/* ---- fixture ------------------------------------------------------------ */

#include "tlb_fixture.h"
}

/* 16 MiB of RAM at 0, page tables in the first 2 MiB. */
static tu_machine *fx_up(fx *f, mmu_paging_mode mode,
                         const mmu_tlb_config *cfg)
{
    tu_machine_init(&f->t, mode, 0, 16 * MiB, 0, 2 * MiB);
    f->up = true;
    f->t.ctx.tlb = mmu_tlb_new(cfg);
    assert_non_null(f->t.ctx.tlb);
    return &f->t;
}

/* A fully associative one-level TLB, no STLB. */
static const mmu_tlb_config cfg_fa = {
    .name = "fa16",
    .itlb = {{8, 8, MMU_TLB_4K}},
    .dtlb = {{16, 16, MMU_TLB_4K}, {4, 4, MMU_TLB_2M}, {2, 2, MMU_TLB_1G}},
    .policy = MMU_TLB_LRU,
};

/* Only 4 KiB arrays: large pages are splintered. */
static const mmu_tlb_config cfg_4k_only = {
    .name = "4k-only",
    .itlb = {{8, 8, MMU_TLB_4K}},
    .dtlb = {{16, 16, MMU_TLB_4K}},
    .policy = MMU_TLB_LRU,
};

/* A 4-entry DTLB, to evict on purpose. */
static const mmu_tlb_config cfg_tiny = {
    .name = "tiny",
    .itlb = {{4, 4, MMU_TLB_4K}},
    .dtlb = {{4, 4, MMU_TLB_4K}},
    .policy = MMU_TLB_LRU,
};

static mmu_tlb_config cfg_pwc; /* generic + paging-structure caches */

/* ---- helpers ------------------------------------------------------------ */

static void map(mmu_pt *pt, uint64_t va, uint64_t pa, uint64_t size,
                uint64_t leaf)
{
    assert_int_equal(mmu_pt_map(pt, va, pa, size, size, leaf, TABLE),
                     MMU_PT_OK);
}

/* Raw write of the entry at `level` for va: no invalidation. */
static void poke(mmu_pt *pt, uint64_t va, unsigned level, uint64_t pa,
                 uint64_t flags)
{
    uint64_t addr;
    assert_int_equal(mmu_pt_entry_addr(pt, va, level, &addr), MMU_PT_OK);
    assert_true(mmu_phys_write_pte(pt->mem, addr,
                                   mmu_mode_get(pt->mode)->pte_size,
                                   mmu_pt_make_leaf(pt, level, pa, flags)));
}

static uint64_t peek(mmu_pt *pt, uint64_t va, unsigned level)
{
    uint64_t v = 0;
    assert_int_equal(mmu_pt_get_entry(pt, va, level, &v), MMU_PT_OK);
    return v;
}

enum { MISS = 0, HIT = 1 };

/* The access succeeds with `pa`, from the TLB (HIT) or a walk (MISS). */
static void expect_pa(tu_machine *t, const char *what, uint64_t va,
                      mmu_access acc, unsigned cpl, int hit, uint64_t pa)
{
    mmu_result r;
    mmu_fault f;
    if (!tu_translate(t, va, acc, cpl, 0, &r, &f))
        fail_msg("%s: %s va 0x%llx faulted: %s/%s code 0x%x, want %s 0x%llx",
                 what, mmu_access_name(acc), (unsigned long long)va,
                 mmu_fault_kind_name(f.kind), mmu_fault_reason_name(f.reason),
                 f.code, hit ? "hit" : "miss", (unsigned long long)pa);
    if (r.pa != pa || r.tlb_hit != (hit == HIT))
        fail_msg("%s: %s va 0x%llx: got pa 0x%llx (%s) want 0x%llx (%s)",
                 what, mmu_access_name(acc), (unsigned long long)va,
                 (unsigned long long)r.pa, r.tlb_hit ? "hit" : "miss",
                 (unsigned long long)pa, hit ? "hit" : "miss");
}

static void expect_pf(tu_machine *t, const char *what, uint64_t va,
                      mmu_access acc, unsigned cpl, uint32_t code)
{
    mmu_result r;
    mmu_fault f;
    if (tu_translate(t, va, acc, cpl, 0, &r, &f))
        fail_msg("%s: %s va 0x%llx gave pa 0x%llx (%s), want #PF 0x%x",
                 what, mmu_access_name(acc), (unsigned long long)va,
                 (unsigned long long)r.pa, r.tlb_hit ? "hit" : "miss", code);
    if (f.kind != MMU_FAULT_PAGE || f.code != code)
        fail_msg("%s: %s va 0x%llx: got %s code 0x%x want #PF 0x%x", what,
                 mmu_access_name(acc), (unsigned long long)va,
                 mmu_fault_kind_name(f.kind), f.code, code);
    TU_EQ_HEX(what, f.addr, va);
}

static void write_cr3(tu_machine *t, uint64_t v)
{
    mmu_fault f;
    assert_true(mmu_x86_write_cr3(&t->ctx, v, &f));
}

static void write_cr4(tu_machine *t, uint64_t v)
{
    mmu_fault f;
    assert_true(mmu_x86_write_cr4(&t->ctx, v, &f));
}

/* Switch to `pcid` of the fixture's root without invalidating. */
static void use_pcid(tu_machine *t, uint64_t pcid)
{
    write_cr3(t, mmu_pt_root_reg(&t->pt) | pcid | X86_CR3_NOFLUSH);
}

static uint64_t total_flushes(const tu_machine *t)
{
    uint64_t n = 0;
    for (unsigned s = 0; s < MMU_TLB_NSTRUCT; s++)
        n += mmu_tlb_get_stats(t->ctx.tlb, s)->flushes;
    return n;
}

/* ---- the invalidation table --------------------------------------------- */

typedef enum fate { KEEP, DROP, NA } fate;

typedef enum op_kind {
    OP_INVLPG,    /* a = linear address, b = the TLB's mmu_invlpg_scope */
    OP_CR3,       /* CR3 = root | a */
    OP_INVPCID,   /* type a, PCID b, address va */
    OP_CR0_XOR,   /* CR0 ^= a */
    OP_CR4_XOR,   /* CR4 ^= a */
    OP_EFER_XOR,  /* EFER ^= a */
    OP_PG_CYCLE,  /* CR0.PG 1 -> 0 -> 1 */
} op_kind;

typedef struct inv_case {
    const char *name;
    bool pcide, pge;      /* CR4 at setup */
    op_kind op;
    uint64_t a, b, va;
    bool gp;              /* the operation must raise #GP (no change) */
    bool untouched;       /* the operation must not invalidate anything */
    /* A, B and G (a G=1 page) under PCID 0; A under PCID 5, which runs
     * a second root mapping A elsewhere (PA_A_OTHER_*). */
    fate a_main, b_main, g_main, a_other;
} inv_case;

#define INVLPG(va_) OP_INVLPG, (va_), MMU_INVLPG_ALL_PCIDS, 0
/* INVLPG with the TLB configured for the SDM's minimum. */
#define INVLPG_CUR(va_) OP_INVLPG, (va_), MMU_INVLPG_CURRENT_PCID, 0
#define CR3(v_) OP_CR3, (v_), 0, 0
#define INVPCID(type_, pcid_, va_) OP_INVPCID, (type_), (pcid_), (va_)
#define CR0X(bits_) OP_CR0_XOR, (bits_), 0, 0
#define CR4X(bits_) OP_CR4_XOR, (bits_), 0, 0
#define EFERX(bits_) OP_EFER_XOR, (bits_), 0, 0
#define PG_CYCLE OP_PG_CYCLE, 0, 0, 0
#define ST_OK false, false /* gp, untouched */
#define ST_NOP false, true
#define ST_GP true, true
#define ALL_KEEP KEEP, KEEP, KEEP, KEEP
#define ALL_DROP DROP, DROP, DROP, DROP

static const inv_case inv_cases[] = {
    /* INVLPG (SDM 4.10.4.1): by default the page's entries in every PCID,
     * global ones included; with MMU_INVLPG_CURRENT_PCID (the SDM's
     * minimum) the current PCID's and the global ones, other PCIDs'
     * entries for the page surviving; a non-canonical address is a NOP. */
    {"invlpg_drops_page_in_every_pcid", true, true, INVLPG(VA_A), ST_OK,
     DROP, KEEP, KEEP, DROP},
    {"invlpg_current_pcid_keeps_other_pcids", true, true, INVLPG_CUR(VA_A),
     ST_OK, DROP, KEEP, KEEP, KEEP},
    {"invlpg_drops_global_page", true, true, INVLPG(VA_G), ST_OK,
     KEEP, KEEP, DROP, KEEP},
    {"invlpg_current_pcid_drops_global_page", true, true, INVLPG_CUR(VA_G),
     ST_OK, KEEP, KEEP, DROP, KEEP},
    {"invlpg_current_pcid_pcide0_drops_page", false, false, INVLPG_CUR(VA_A),
     ST_OK, DROP, KEEP, KEEP, NA},
    {"invlpg_pcide0_drops_page", false, false, INVLPG(VA_A), ST_OK,
     DROP, KEEP, KEEP, NA},
    {"invlpg_pcide0_drops_global_page", false, true, INVLPG(VA_G), ST_OK,
     KEEP, KEEP, DROP, NA},
    {"invlpg_noncanonical_bit47_is_nop", true, true, INVLPG(NONCANON), ST_NOP,
     ALL_KEEP},
    {"invlpg_noncanonical_high_bits_is_nop", true, true,
     INVLPG(VA_A | UINT64_C(0xffff000000000000)), ST_NOP, ALL_KEEP},

    /* MOV CR3: non-global entries of the new PCID (PCID 0 without
     * PCIDE), even for an unchanged value; none with bit 63 under PCIDE;
     * bit 63 without PCIDE in IA-32e mode is a reserved bit: #GP. */
    {"cr3_pcide0_flushes_nonglobal", false, true, CR3(0), ST_OK,
     DROP, DROP, KEEP, NA},
    {"cr3_pcide0_pge0_g_bit_not_global", false, false, CR3(0), ST_OK,
     DROP, DROP, DROP, NA},
    {"cr3_pcide0_bit63_gp", false, true, CR3(X86_CR3_NOFLUSH), ST_GP,
     KEEP, KEEP, KEEP, NA},
    {"cr3_pcide1_same_pcid_flushes_it", true, true, CR3(MAIN_PCID), ST_OK,
     DROP, DROP, KEEP, KEEP},
    {"cr3_pcide1_new_pcid_flushes_only_new", true, true, CR3(OTHER_PCID),
     ST_OK, KEEP, KEEP, KEEP, DROP},
    {"cr3_pcide1_bit63_no_flush", true, true,
     CR3(MAIN_PCID | X86_CR3_NOFLUSH), ST_NOP, ALL_KEEP},
    {"cr3_pcide1_bit63_new_pcid_no_flush", true, true,
     CR3(OTHER_PCID | X86_CR3_NOFLUSH), ST_NOP, ALL_KEEP},
    {"cr3_pcide1_pge0_g_bit_not_global", true, false, CR3(MAIN_PCID), ST_OK,
     DROP, DROP, DROP, KEEP},

    /* INVPCID (SDM vol. 2 INVPCID, 4.10.4.1). */
    {"invpcid0_drops_address_in_pcid", true, true, INVPCID(0, MAIN_PCID,
     VA_A), ST_OK, DROP, KEEP, KEEP, KEEP},
    {"invpcid0_drops_address_in_other_pcid", true, true, INVPCID(0,
     OTHER_PCID, VA_A), ST_OK, KEEP, KEEP, KEEP, DROP},
    {"invpcid0_spares_global", true, true, INVPCID(0, MAIN_PCID, VA_G), ST_OK,
     ALL_KEEP},
    {"invpcid0_pcide0_pcid0", false, true, INVPCID(0, 0, VA_A), ST_OK,
     DROP, KEEP, KEEP, NA},
    {"invpcid1_drops_pcid_nonglobal", true, true, INVPCID(1, MAIN_PCID, 0),
     ST_OK, DROP, DROP, KEEP, KEEP},
    {"invpcid1_drops_other_pcid", true, true, INVPCID(1, OTHER_PCID, 0), ST_OK,
     KEEP, KEEP, KEEP, DROP},
    {"invpcid1_ignores_noncanonical_address", true, true, INVPCID(1,
     MAIN_PCID, NONCANON), ST_OK, DROP, DROP, KEEP, KEEP},
    {"invpcid2_drops_all_incl_global", true, true, INVPCID(2, 0, 0), ST_OK,
     ALL_DROP},
    {"invpcid2_pcide0_ignores_pcid", false, true, INVPCID(2, OTHER_PCID, 0),
     ST_OK, DROP, DROP, DROP, NA},
    {"invpcid3_drops_all_but_global", true, true, INVPCID(3, 0, 0), ST_OK,
     DROP, DROP, KEEP, DROP},
    {"invpcid3_pcide0", false, true, INVPCID(3, 0, 0), ST_OK,
     DROP, DROP, KEEP, NA},
    {"invpcid_type4_gp", true, true, INVPCID(4, 0, 0), ST_GP, ALL_KEEP},
    {"invpcid0_descriptor_bits_63_12_gp", true, true, INVPCID(0, 0x1000,
     VA_A), ST_GP, ALL_KEEP},
    {"invpcid1_descriptor_bits_63_12_gp", true, true, INVPCID(1, 0x1000, 0),
     ST_GP, ALL_KEEP},
    {"invpcid2_descriptor_bits_63_12_gp", true, true, INVPCID(2, 0x1000, 0),
     ST_GP, ALL_KEEP},
    {"invpcid3_descriptor_bits_63_12_gp", true, true, INVPCID(3, 0x1000, 0),
     ST_GP, ALL_KEEP},
    {"invpcid0_noncanonical_gp", true, true, INVPCID(0, MAIN_PCID,
     NONCANON), ST_GP, ALL_KEEP},
    {"invpcid0_pcide0_nonzero_pcid_gp", false, true, INVPCID(0, OTHER_PCID,
     VA_A), ST_GP, KEEP, KEEP, KEEP, NA},
    {"invpcid1_pcide0_nonzero_pcid_gp", false, true, INVPCID(1, OTHER_PCID,
     0), ST_GP, KEEP, KEEP, KEEP, NA},

    /* MOV CR4: PGE changes and PCIDE 1->0 flush everything; PAE, PSE,
     * SMEP, SMAP, PKE changes flush everything here (tlb_ops.c, as
     * Bochs/QEMU); LA57 cannot change in IA-32e mode. */
    {"cr4_pge_clear_flushes_all", true, true, CR4X(X86_CR4_PGE), ST_OK,
     ALL_DROP},
    {"cr4_pge_set_flushes_all", true, false, CR4X(X86_CR4_PGE), ST_OK,
     ALL_DROP},
    {"cr4_pcide_clear_flushes_all", true, true, CR4X(X86_CR4_PCIDE), ST_OK,
     DROP, DROP, DROP, NA},
    {"cr4_pcide_set_flushes_nothing", false, true, CR4X(X86_CR4_PCIDE), ST_NOP,
     KEEP, KEEP, KEEP, NA},
    {"cr4_pse_change_flushes_all", true, true, CR4X(X86_CR4_PSE), ST_OK,
     ALL_DROP},
    {"cr4_smep_change_flushes_all", true, true, CR4X(X86_CR4_SMEP), ST_OK,
     ALL_DROP},
    {"cr4_smap_change_flushes_all", true, true, CR4X(X86_CR4_SMAP), ST_OK,
     ALL_DROP},
    {"cr4_pke_change_flushes_all", true, true, CR4X(X86_CR4_PKE), ST_OK,
     ALL_DROP},
    {"cr4_la57_change_in_ia32e_gp", true, true, CR4X(X86_CR4_LA57), ST_GP,
     ALL_KEEP},
    {"cr4_same_value_flushes_nothing", true, true, CR4X(0), ST_NOP, ALL_KEEP},
    {"cr4_unrelated_bit_flushes_nothing", true, true, CR4X(CR4_OSFXSR), ST_NOP,
     ALL_KEEP},

    /* EFER.NXE changes flush (the XD decode of cached entries). */
    {"efer_nxe_change_flushes_all", true, true, EFERX(X86_EFER_NXE), ST_OK,
     ALL_DROP},
    {"efer_same_value_flushes_nothing", true, true, EFERX(0), ST_NOP,
     ALL_KEEP},

    /* MOV CR0: only PG 1->0 flushes (everything, globals included);
     * clearing PG with PCIDE=1 is #GP; WP does not flush. */
    {"cr0_pg_clear_flushes_all", false, true, PG_CYCLE, ST_OK,
     DROP, DROP, DROP, NA},
    {"cr0_pg_clear_with_pcide_gp", true, true, PG_CYCLE, ST_GP, ALL_KEEP},
    {"cr0_wp_change_flushes_nothing", true, true, CR0X(X86_CR0_WP), ST_NOP,
     ALL_KEEP},
    {"cr0_same_value_flushes_nothing", true, true, CR0X(0), ST_NOP, ALL_KEEP},
};

#define N_INV (sizeof inv_cases / sizeof inv_cases[0])

typedef struct inv_run {
    const inv_case *c;
    const mmu_tlb_config *cfg;
    char name[112];
} inv_run;

static bool run_op(tu_machine *t, const inv_case *c, mmu_fault *flt)
{
    mmu_ctx *m = &t->ctx;
    mmu_x86_state *x = &m->st.x86;
    uint64_t cr0 = x->cr0;
    switch (c->op) {
    case OP_INVLPG:
        mmu_x86_invlpg(m, c->a);
        return true;
    case OP_CR3:
        return mmu_x86_write_cr3(m, mmu_pt_root_reg(&t->pt) | c->a, flt);
    case OP_INVPCID:
        return mmu_x86_invpcid(m, (unsigned)c->a, c->b, c->va, flt);
    case OP_CR0_XOR:
        return mmu_x86_write_cr0(m, x->cr0 ^ c->a, flt);
    case OP_CR4_XOR:
        return mmu_x86_write_cr4(m, x->cr4 ^ c->a, flt);
    case OP_EFER_XOR:
        return mmu_x86_write_efer(m, x->efer ^ c->a, flt);
    case OP_PG_CYCLE:
        return mmu_x86_write_cr0(m, cr0 & ~X86_CR0_PG, flt) &&
               mmu_x86_write_cr0(m, cr0, flt);
    }
    return false;
}

static void probe(tu_machine *t, const char *name, const char *what,
                  uint64_t va, fate want, uint64_t old_pa, uint64_t new_pa)
{
    char label[160];
    snprintf(label, sizeof label, "%s: %s %s", name, what,
             want == KEEP ? "kept" : "dropped");
    if (want == KEEP)
        expect_pa(t, label, va, MMU_READ, 0, HIT, old_pa);
    else if (want == DROP)
        expect_pa(t, label, va, MMU_READ, 0, MISS, new_pa);
}

/*
 * Setup: A, B (4K, non-global) and G (4K, G=1) cached under PCID 0; with
 * PCIDE, A also cached under PCID 5 through a second root whose A maps
 * elsewhere. All four leaf entries are then rewritten in memory; before
 * the operation every probe is a stale hit.
 */
static void invalidation_case(void **state)
{
    fx *f = *state;
    const inv_run *run = f->arg;
    const inv_case *c = run->c;
    mmu_tlb_config cfg = *run->cfg;
    if (c->op == OP_INVLPG)
        cfg.invlpg = (mmu_invlpg_scope)c->b;
    tu_machine *t = fx_up(f, MMU_MODE_X86_4LEVEL, &cfg);
    mmu_pt other;

    map(&t->pt, VA_A, PA_A_OLD, K4, LEAF);
    map(&t->pt, VA_B, PA_B_OLD, K4, LEAF);
    map(&t->pt, VA_G, PA_G_OLD, K4, LEAF | X86_PTE_G);
    assert_int_equal(mmu_pt_init(&other, &t->mem, MMU_MODE_X86_4LEVEL,
                                 mmu_bump_alloc_frame, &t->alloc),
                     MMU_PT_OK);
    map(&other, VA_A, PA_A_OTHER_OLD, K4, LEAF);
    t->ctx.st.x86.cr4 |= (c->pcide ? X86_CR4_PCIDE : 0) |
                         (c->pge ? X86_CR4_PGE : 0);

    expect_pa(t, "fill A", VA_A, MMU_READ, 0, MISS, PA_A_OLD);
    expect_pa(t, "fill B", VA_B, MMU_READ, 0, MISS, PA_B_OLD);
    expect_pa(t, "fill G", VA_G, MMU_READ, 0, MISS, PA_G_OLD);
    if (c->pcide) {
        write_cr3(t, mmu_pt_root_reg(&other) | OTHER_PCID);
        expect_pa(t, "fill A pcid 5", VA_A, MMU_READ, 0, MISS,
                  PA_A_OTHER_OLD);
        use_pcid(t, MAIN_PCID);
    }
    poke(&t->pt, VA_A, 0, PA_A_NEW, LEAF);
    poke(&t->pt, VA_B, 0, PA_B_NEW, LEAF);
    poke(&t->pt, VA_G, 0, PA_G_NEW, LEAF | X86_PTE_G);
    poke(&other, VA_A, 0, PA_A_OTHER_NEW, LEAF);
    expect_pa(t, "stale A", VA_A, MMU_READ, 0, HIT, PA_A_OLD);
    expect_pa(t, "stale B", VA_B, MMU_READ, 0, HIT, PA_B_OLD);
    expect_pa(t, "stale G", VA_G, MMU_READ, 0, HIT, PA_G_OLD);

    mmu_x86_state before = t->ctx.st.x86;
    uint64_t flushes = total_flushes(t);
    mmu_fault flt;
    memset(&flt, 0, sizeof flt);
    bool ok = run_op(t, c, &flt);
    if (c->gp) {
        if (ok || flt.kind != MMU_FAULT_GP || flt.vector != X86_VEC_GP)
            fail_msg("%s: want #ST_GP, got %s (%s)", run->name,
                     ok ? "success" : "fault",
                     mmu_fault_kind_name(flt.kind));
        TU_EQ_HEX("cr0 unchanged", t->ctx.st.x86.cr0, before.cr0);
        TU_EQ_HEX("cr3 unchanged", t->ctx.st.x86.cr3, before.cr3);
        TU_EQ_HEX("cr4 unchanged", t->ctx.st.x86.cr4, before.cr4);
        TU_EQ_HEX("efer unchanged", t->ctx.st.x86.efer, before.efer);
    } else if (!ok) {
        fail_msg("%s: operation failed: %s", run->name,
                 mmu_fault_kind_name(flt.kind));
    }
    if (c->untouched)
        TU_EQ_HEX(run->name, total_flushes(t), flushes);

    /* Probes run in the main address space, then PCID 5. */
    if (c->op == OP_CR3 && (t->ctx.st.x86.cr4 & X86_CR4_PCIDE))
        use_pcid(t, MAIN_PCID);
    probe(t, run->name, "A", VA_A, c->a_main, PA_A_OLD, PA_A_NEW);
    probe(t, run->name, "B", VA_B, c->b_main, PA_B_OLD, PA_B_NEW);
    probe(t, run->name, "G", VA_G, c->g_main, PA_G_OLD, PA_G_NEW);
    if (c->a_other != NA) {
        assert_true(t->ctx.st.x86.cr4 & X86_CR4_PCIDE);
        write_cr3(t, mmu_pt_root_reg(&other) | OTHER_PCID | X86_CR3_NOFLUSH);
        probe(t, run->name, "A in pcid 5", VA_A, c->a_other, PA_A_OTHER_OLD,
              PA_A_OTHER_NEW);
    }
}

/* ---- INVLPG and large pages --------------------------------------------- */

/* A 2 MiB page cached as one entry: INVLPG of any address inside it. */
static void invlpg_large_page_any_address(void **state)
{
    fx *f = *state;
    tu_machine *t = fx_up(f, MMU_MODE_X86_4LEVEL, &cfg_fa);
    uint64_t va = 4 * M2, old_pa = 6 * M2, new_pa = 7 * M2;
    map(&t->pt, va, old_pa, M2, LEAF);
    expect_pa(t, "fill", va + 0x3000, MMU_READ, 0, MISS, old_pa + 0x3000);
    poke(&t->pt, va, 1, new_pa, LEAF);
    expect_pa(t, "stale", va + 0x5000, MMU_READ, 0, HIT, old_pa + 0x5000);
    mmu_x86_invlpg(&t->ctx, va + 0x1ff000);
    expect_pa(t, "after invlpg", va + 0x5000, MMU_READ, 0, MISS,
              new_pa + 0x5000);
}

/*
 * SDM vol. 3A 4.10.4.1 (4.10.3.1 in older editions): a processor may cache a
 * large page as several 4 KiB entries; "The INVLPG instruction and page
 * faults provide the same assurances that they provide when a single TLB
 * entry is used: they invalidate all TLB entries corresponding to the
 * translation specified by the paging structures." INVLPG of one 4 KiB
 * part of a splintered 2 MiB page must drop the other fragments too.
 */
static void invlpg_splintered_large_page_drops_all_fragments(void **state)
{
    fx *f = *state;
    tu_machine *t = fx_up(f, MMU_MODE_X86_4LEVEL, &cfg_4k_only);
    uint64_t va = 4 * M2, old_pa = 6 * M2, new_pa = 7 * M2;
    map(&t->pt, va, old_pa, M2, LEAF);
    expect_pa(t, "fill fragment 3", va + 0x3000, MMU_READ, 0, MISS,
              old_pa + 0x3000);
    expect_pa(t, "fill fragment 5", va + 0x5000, MMU_READ, 0, MISS,
              old_pa + 0x5000);
    poke(&t->pt, va, 1, new_pa, LEAF);
    expect_pa(t, "stale fragment 5", va + 0x5000, MMU_READ, 0, HIT,
              old_pa + 0x5000);
    mmu_x86_invlpg(&t->ctx, va + 0x3000);
    expect_pa(t, "fragment 3 after invlpg", va + 0x3000, MMU_READ, 0, MISS,
              new_pa + 0x3000);
    expect_pa(t, "fragment 5 after invlpg of fragment 3", va + 0x5000,
              MMU_READ, 0, MISS, new_pa + 0x5000);
}

/* Same SDM sentence, for the page fault: a #PF caused by one stale
 * fragment drops every entry of that translation, so the sibling
 * fragment does not fault spuriously a second time. */
static void pf_on_splintered_page_drops_all_fragments(void **state)
{
    fx *f = *state;
    tu_machine *t = fx_up(f, MMU_MODE_X86_4LEVEL, &cfg_4k_only);
    uint64_t va = 4 * M2, pa = 6 * M2;
    map(&t->pt, va, pa, M2, X86_PTE_P | X86_PTE_D);
    expect_pa(t, "fill fragment 1", va + 0x1000, MMU_READ, 0, MISS,
              pa + 0x1000);
    expect_pa(t, "fill fragment 2", va + 0x2000, MMU_READ, 0, MISS,
              pa + 0x2000);
    poke(&t->pt, va, 1, pa, X86_PTE_P | X86_PTE_RW | X86_PTE_D);
    expect_pf(t, "spurious fault, fragment 1", va + 0x1000, MMU_WRITE, 0,
              X86_PF_P | X86_PF_W);
    expect_pa(t, "fragment 2 after the #PF", va + 0x2000, MMU_WRITE, 0,
              MISS, pa + 0x2000);
}

/* ---- staleness ---------------------------------------------------------- */

static void stale_hit_returns_old_pa_miss_sees_new(void **state)
{
    fx *f = *state;
    tu_machine *t = fx_up(f, MMU_MODE_X86_4LEVEL, &cfg_tiny);
    map(&t->pt, VA_A, PA_A_OLD, K4, LEAF);
    map(&t->pt, VA_B, PA_B_OLD, K4, LEAF);
    for (unsigned i = 0; i < 4; i++)
        map(&t->pt, 0x500000 + i * K4, 0xa00000 + i * K4, K4, LEAF);
    expect_pa(t, "fill A", VA_A, MMU_READ, 0, MISS, PA_A_OLD);

    /* A becomes not present, B moves: no invalidation. */
    poke(&t->pt, VA_A, 0, 0, 0);
    assert_int_equal(peek(&t->pt, VA_A, 0), 0);
    poke(&t->pt, VA_B, 0, PA_B_NEW, LEAF);
    expect_pa(t, "stale hit on a not-present PTE", VA_A, MMU_READ, 0, HIT,
              PA_A_OLD);
    expect_pa(t, "stale hit again", VA_A + 0x123, MMU_READ, 0, HIT,
              PA_A_OLD + 0x123);
    expect_pa(t, "other address misses, sees the new PTE", VA_B, MMU_READ,
              0, MISS, PA_B_NEW);

    /* Four more pages through the 4-entry DTLB evict A. */
    for (unsigned i = 0; i < 4; i++)
        expect_pa(t, "evicting", 0x500000 + i * K4, MMU_READ, 0, MISS,
                  0xa00000 + i * K4);
    expect_pf(t, "after eviction the walk sees P=0", VA_A, MMU_READ, 0, 0);
    TU_EQ_HEX("evictions",
              mmu_tlb_get_stats(t->ctx.tlb, MMU_TLB_DTLB)->evictions, 2);
}

/* Relaxing rights without invalidation: one spurious #PF from the
 * stale entry (no walk), which drops it; the retry walks and succeeds. */
typedef struct relax_case {
    const char *name;
    uint64_t before, after;  /* leaf flags */
    mmu_access fill_acc, acc;
    unsigned cpl;
    uint32_t code;
} relax_case;

static const relax_case relax_cases[] = {
    {"relax_rw_spurious_write_fault", X86_PTE_P,
     X86_PTE_P | X86_PTE_RW, MMU_READ, MMU_WRITE, 0, X86_PF_P | X86_PF_W},
    {"relax_us_spurious_user_fault", X86_PTE_P | X86_PTE_RW,
     X86_PTE_P | X86_PTE_RW | X86_PTE_US, MMU_READ, MMU_READ, 3,
     X86_PF_P | X86_PF_U},
    /* The read fills DTLB and STLB; the fetch misses the ITLB and hits
     * the STLB entry that still says XD. */
    {"relax_nx_spurious_fetch_fault_via_stlb",
     X86_PTE_P | X86_PTE_RW | X86_PTE_NX, X86_PTE_P | X86_PTE_RW,
     MMU_READ, MMU_FETCH, 0, X86_PF_P | X86_PF_I},
};

static void relax_rights(void **state)
{
    fx *f = *state;
    const relax_case *c = f->arg;
    tu_machine *t = fx_up(f, MMU_MODE_X86_4LEVEL, mmu_tlb_preset("generic"));
    map(&t->pt, VA_A, PA_A_OLD, K4, c->before);
    expect_pa(t, c->name, VA_A, c->fill_acc, 0, MISS, PA_A_OLD);
    poke(&t->pt, VA_A, 0, PA_A_OLD, c->after);
    uint64_t walks = t->ctx.stats.walks;
    expect_pf(t, c->name, VA_A, c->acc, c->cpl, c->code);
    TU_EQ_HEX("spurious fault without a walk", t->ctx.stats.walks, walks);
    expect_pa(t, c->name, VA_A, c->acc, c->cpl, MISS, PA_A_OLD);
    TU_EQ_HEX("retry walked", t->ctx.stats.walks, walks + 1);
    expect_pa(t, c->name, VA_A, c->acc, c->cpl, HIT, PA_A_OLD);
}

/* ---- CR0.WP: no flush, effective at the next hit ------------------------ */

static void cr0_wp_judged_at_hit(void **state)
{
    fx *f = *state;
    tu_machine *t = fx_up(f, MMU_MODE_X86_4LEVEL, &cfg_fa);
    mmu_fault flt;
    uint64_t cr0 = t->ctx.st.x86.cr0;
    /* Read-only page, D already set so the entry may serve writes. */
    map(&t->pt, VA_A, PA_A_OLD, K4, X86_PTE_P | X86_PTE_A | X86_PTE_D);
    assert_true(cr0 & X86_CR0_WP);

    expect_pa(t, "WP=1 read fills", VA_A, MMU_READ, 0, MISS, PA_A_OLD);
    assert_true(mmu_x86_write_cr0(&t->ctx, cr0 & ~X86_CR0_WP, &flt));
    uint64_t walks = t->ctx.stats.walks;
    expect_pa(t, "WP=0 supervisor write hits", VA_A, MMU_WRITE, 0, HIT,
              PA_A_OLD);
    assert_true(mmu_x86_write_cr0(&t->ctx, cr0, &flt));
    expect_pa(t, "WP=1 read still hits", VA_A, MMU_READ, 0, HIT, PA_A_OLD);
    expect_pf(t, "WP=1 write faults from the cached entry", VA_A, MMU_WRITE,
              0, X86_PF_P | X86_PF_W);
    TU_EQ_HEX("no walk for any of it", t->ctx.stats.walks, walks);
    TU_EQ_HEX("WP changes invalidated nothing",
              mmu_tlb_get_stats(t->ctx.tlb, MMU_TLB_DTLB)->invalidated, 0);
    assert_true(mmu_x86_write_cr0(&t->ctx, cr0 & ~X86_CR0_WP, &flt));
    expect_pa(t, "WP=0 write walks again", VA_A, MMU_WRITE, 0, MISS,
              PA_A_OLD);
}

/* WRPKRU and RFLAGS.AC do not touch the TLB either: the cached rights
 * are judged against them at the next hit (SDM 4.6). */
static void pkru_and_ac_judged_at_hit(void **state)
{
    fx *f = *state;
    tu_machine *t = fx_up(f, MMU_MODE_X86_4LEVEL, &cfg_fa);
    uint64_t key1 = UINT64_C(1) << X86_PTE_PKEY_SHIFT;
    map(&t->pt, VA_A, PA_A_OLD, K4, LEAF | X86_PTE_US | key1);
    write_cr4(t, t->ctx.st.x86.cr4 | X86_CR4_PKE | X86_CR4_SMAP);
    t->ctx.st.x86.rflags |= X86_RFLAGS_AC;

    expect_pa(t, "user read fills", VA_A, MMU_READ, 3, MISS, PA_A_OLD);
    expect_pa(t, "supervisor read with AC=1", VA_A, MMU_READ, 0, HIT,
              PA_A_OLD);
    uint64_t walks = t->ctx.stats.walks;
    t->ctx.st.x86.pkru = X86_PKRU_AD(1);
    expect_pf(t, "PKRU.AD1 judged at hit", VA_A, MMU_READ, 3,
              X86_PF_P | X86_PF_U | X86_PF_PK);
    t->ctx.st.x86.pkru = 0;
    expect_pa(t, "refill", VA_A, MMU_READ, 3, MISS, PA_A_OLD);
    walks++;
    t->ctx.st.x86.rflags &= ~X86_RFLAGS_AC;
    expect_pf(t, "AC=0: SMAP judged at hit", VA_A, MMU_READ, 0, X86_PF_P);
    TU_EQ_HEX("faults came from the TLB", t->ctx.stats.walks, walks);
}

/* mmu_translate() keeps what it derives from the state (mode, PCID,
 * canonical width, the control bits rights are judged under) across
 * calls: state written directly, without an operation, must still take
 * effect at the next translation. */
static void direct_state_writes_take_effect(void **state)
{
    fx *f = *state;
    tu_machine *t = fx_up(f, MMU_MODE_X86_4LEVEL, &cfg_fa);
    mmu_x86_state *x = &t->ctx.st.x86;
    mmu_result r;
    mmu_fault flt;
    uint64_t root = mmu_pt_root_reg(&t->pt);
    map(&t->pt, VA_A, PA_A_OLD, K4, X86_PTE_P | X86_PTE_A | X86_PTE_D);
    x->cr4 |= X86_CR4_PCIDE;
    expect_pa(t, "fill pcid 0", VA_A, MMU_READ, 0, MISS, PA_A_OLD);
    expect_pa(t, "hit pcid 0", VA_A, MMU_READ, 0, HIT, PA_A_OLD);
    x->cr3 = root | OTHER_PCID;
    expect_pa(t, "pcid 5: its own entry", VA_A, MMU_READ, 0, MISS, PA_A_OLD);
    x->cr3 = root;
    expect_pa(t, "pcid 0 again", VA_A, MMU_READ, 0, HIT, PA_A_OLD);
    /* CR0.WP written directly: a supervisor write to the read-only page. */
    x->cr0 &= ~X86_CR0_WP;
    expect_pa(t, "WP=0 write hits", VA_A, MMU_WRITE, 0, HIT, PA_A_OLD);
    x->cr0 |= X86_CR0_WP;
    expect_pf(t, "WP=1 write faults", VA_A, MMU_WRITE, 0,
              X86_PF_P | X86_PF_W);
    expect_pa(t, "refill", VA_A, MMU_READ, 0, MISS, PA_A_OLD);
    /* Canonical form is checked before the TLB, at every access. */
    assert_false(tu_translate(t, NONCANON, MMU_READ, 0, 0, &r, &flt));
    assert_int_equal(flt.kind, MMU_FAULT_GP);
    /* PG cleared directly: untranslated, the entry left alone. */
    x->cr0 &= ~X86_CR0_PG;
    assert_true(tu_translate(t, VA_A, MMU_READ, 0, 0, &r, &flt));
    assert_false(r.tlb_hit);
    TU_EQ_HEX("paging off", r.pa, VA_A);
    x->cr0 |= X86_CR0_PG;
    expect_pa(t, "paging on again", VA_A, MMU_READ, 0, HIT, PA_A_OLD);
    /* The architecture switched under the same context. */
    mmu_state_init_rv(&t->ctx.st, 64);
    assert_true(tu_translate(t, VA_A, MMU_READ, RV_PRIV_S, 0, &r, &flt));
    assert_false(r.tlb_hit);
    TU_EQ_HEX("RISC-V Bare", r.pa, VA_A);
}

/* ---- PCIDs and global pages --------------------------------------------- */

static void pcid_isolation_both_cached(void **state)
{
    fx *f = *state;
    tu_machine *t = fx_up(f, MMU_MODE_X86_4LEVEL, mmu_tlb_preset("generic"));
    mmu_pt other;
    assert_int_equal(mmu_pt_init(&other, &t->mem, MMU_MODE_X86_4LEVEL,
                                 mmu_bump_alloc_frame, &t->alloc),
                     MMU_PT_OK);
    map(&t->pt, VA_A, PA_A_OLD, K4, LEAF);
    map(&other, VA_A, PA_A_OTHER_OLD, K4, LEAF);
    uint64_t r1 = mmu_pt_root_reg(&t->pt) | 1, r2 = mmu_pt_root_reg(&other) | 2;
    t->ctx.st.x86.cr4 |= X86_CR4_PCIDE;

    write_cr3(t, r1);
    expect_pa(t, "pcid 1 fill", VA_A, MMU_READ, 0, MISS, PA_A_OLD);
    write_cr3(t, r2);
    expect_pa(t, "pcid 2 fill", VA_A, MMU_READ, 0, MISS, PA_A_OTHER_OLD);
    for (unsigned i = 0; i < 3; i++) {
        write_cr3(t, r1 | X86_CR3_NOFLUSH);
        expect_pa(t, "pcid 1 hit", VA_A, MMU_READ, 0, HIT, PA_A_OLD);
        write_cr3(t, r2 | X86_CR3_NOFLUSH);
        expect_pa(t, "pcid 2 hit", VA_A, MMU_READ, 0, HIT, PA_A_OTHER_OLD);
    }
    /* Bit 63 is not stored in CR3 (SDM MOV CR3). */
    TU_EQ_HEX("cr3", t->ctx.st.x86.cr3, r2);
    /* Same PCID, same VA, other root, no flush: the stale PCID-2 entry
     * keeps answering (software must flush when reusing a PCID). */
    write_cr3(t, mmu_pt_root_reg(&t->pt) | 2 | X86_CR3_NOFLUSH);
    expect_pa(t, "reused pcid 2 stale", VA_A, MMU_READ, 0, HIT,
              PA_A_OTHER_OLD);
}

static void global_page_shared_across_pcids_with_pge(void **state)
{
    fx *f = *state;
    tu_machine *t = fx_up(f, MMU_MODE_X86_4LEVEL, &cfg_fa);
    mmu_result r;
    mmu_fault flt;
    uint64_t root = mmu_pt_root_reg(&t->pt);
    map(&t->pt, VA_G, PA_G_OLD, K4, LEAF | X86_PTE_G);
    t->ctx.st.x86.cr4 |= X86_CR4_PCIDE | X86_CR4_PGE;
    write_cr3(t, root | 1);
    expect_pa(t, "fill in pcid 1", VA_G, MMU_READ, 0, MISS, PA_G_OLD);
    poke(&t->pt, VA_G, 0, PA_G_NEW, LEAF | X86_PTE_G);
    write_cr3(t, root | 2); /* flushes PCID 2's non-global entries */
    assert_true(tu_translate(t, VA_G, MMU_READ, 0, 0, &r, &flt));
    assert_true(r.tlb_hit && r.global);
    TU_EQ_HEX("global entry from pcid 1 serves pcid 2", r.pa, PA_G_OLD);
}

static void g_bit_without_pge_is_not_global(void **state)
{
    fx *f = *state;
    tu_machine *t = fx_up(f, MMU_MODE_X86_4LEVEL, &cfg_fa);
    uint64_t root = mmu_pt_root_reg(&t->pt);
    map(&t->pt, VA_G, PA_G_OLD, K4, LEAF | X86_PTE_G);
    t->ctx.st.x86.cr4 |= X86_CR4_PCIDE;
    write_cr3(t, root | 1);
    expect_pa(t, "fill in pcid 1", VA_G, MMU_READ, 0, MISS, PA_G_OLD);
    poke(&t->pt, VA_G, 0, PA_G_NEW, LEAF | X86_PTE_G);
    write_cr3(t, root | 2 | X86_CR3_NOFLUSH);
    expect_pa(t, "pcid 2 misses", VA_G, MMU_READ, 0, MISS, PA_G_NEW);
    write_cr3(t, root | 1 | X86_CR3_NOFLUSH);
    expect_pa(t, "pcid 1 still stale", VA_G, MMU_READ, 0, HIT, PA_G_OLD);
}

/* G is defined only in the leaf; in a non-leaf entry it is ignored. */
static void g_bit_in_nonleaf_ignored(void **state)
{
    fx *f = *state;
    tu_machine *t = fx_up(f, MMU_MODE_X86_4LEVEL, &cfg_fa);
    uint64_t va = UINT64_C(0x8000000000); /* a fresh PML4 slot */
    mmu_fault flt;
    assert_int_equal(mmu_pt_map(&t->pt, va, PA_A_OLD, K4, K4, LEAF,
                                TABLE | X86_PTE_G),
                     MMU_PT_OK);
    t->ctx.st.x86.cr4 |= X86_CR4_PGE;
    expect_pa(t, "fill", va, MMU_READ, 0, MISS, PA_A_OLD);
    poke(&t->pt, va, 0, PA_A_NEW, LEAF);
    assert_true(mmu_x86_write_cr3(&t->ctx, t->ctx.st.x86.cr3, &flt));
    expect_pa(t, "MOV CR3 dropped it", va, MMU_READ, 0, MISS, PA_A_NEW);
}

/* ---- D re-walk ---------------------------------------------------------- */

static void read_then_write_rewalks_and_sets_d(void **state)
{
    fx *f = *state;
    tu_machine *t = fx_up(f, MMU_MODE_X86_4LEVEL, mmu_tlb_preset("generic"));
    map(&t->pt, VA_A, PA_A_OLD, K4, LEAF);
    expect_pa(t, "read", VA_A, MMU_READ, 0, MISS, PA_A_OLD);
    TU_EQ_HEX("walks after read", t->ctx.stats.walks, 1);
    uint64_t pte = peek(&t->pt, VA_A, 0);
    assert_true(pte & X86_PTE_A);
    assert_false(pte & X86_PTE_D);
    expect_pa(t, "read again", VA_A, MMU_READ, 0, HIT, PA_A_OLD);
    TU_EQ_HEX("walks after hit", t->ctx.stats.walks, 1);
    expect_pa(t, "write walks", VA_A, MMU_WRITE, 0, MISS, PA_A_OLD);
    TU_EQ_HEX("walks after write", t->ctx.stats.walks, 2);
    assert_true(peek(&t->pt, VA_A, 0) & X86_PTE_D);
    expect_pa(t, "write again hits", VA_A, MMU_WRITE, 0, HIT, PA_A_OLD);
    expect_pa(t, "read hits", VA_A, MMU_READ, 0, HIT, PA_A_OLD);
    TU_EQ_HEX("walks at the end", t->ctx.stats.walks, 2);
}

/* The re-walk sees the PTE as it is now: made read-only meanwhile, the
 * write faults (the walk's fault, not a stale one). */
static void read_then_write_rewalk_sees_read_only(void **state)
{
    fx *f = *state;
    tu_machine *t = fx_up(f, MMU_MODE_X86_4LEVEL, &cfg_fa);
    map(&t->pt, VA_A, PA_A_OLD, K4, LEAF);
    expect_pa(t, "read", VA_A, MMU_READ, 0, MISS, PA_A_OLD);
    poke(&t->pt, VA_A, 0, PA_A_OLD, X86_PTE_P | X86_PTE_A);
    expect_pf(t, "write", VA_A, MMU_WRITE, 0, X86_PF_P | X86_PF_W);
    TU_EQ_HEX("the write walked", t->ctx.stats.walks, 2);
    assert_false(peek(&t->pt, VA_A, 0) & X86_PTE_D);
}

/* ---- CR4.PAE and CR0.PG outside IA-32e mode ----------------------------- */

/* PAE paging: clearing CR4.PAE (to 32-bit paging) flushes; setting it
 * again reloads the PDPTEs; the old translation is gone. */
static void cr4_pae_change_flushes(void **state)
{
    fx *f = *state;
    tu_machine *t = fx_up(f, MMU_MODE_X86_PAE, &cfg_fa);
    uint64_t va = UINT64_C(0xc0001000);
    map(&t->pt, va, PA_A_OLD, K4, LEAF);
    tu_x86_load_pdptes(t);
    expect_pa(t, "fill", va, MMU_READ, 0, MISS, PA_A_OLD);
    expect_pa(t, "hit", va, MMU_READ, 0, HIT, PA_A_OLD);
    poke(&t->pt, va, 0, PA_A_NEW, LEAF);
    uint64_t cr4 = t->ctx.st.x86.cr4;
    write_cr4(t, cr4 & ~X86_CR4_PAE);
    TU_EQ_HEX("invalidated by PAE 1->0",
              mmu_tlb_get_stats(t->ctx.tlb, MMU_TLB_DTLB)->invalidated, 1);
    write_cr4(t, cr4);
    expect_pa(t, "after PAE 1->0->1", va, MMU_READ, 0, MISS, PA_A_NEW);
}

/* 32-bit paging: CR0.PG 1->0 flushes global entries too. */
static void cr0_pg_clear_flushes_globals_32bit(void **state)
{
    fx *f = *state;
    tu_machine *t = fx_up(f, MMU_MODE_X86_32, &cfg_fa);
    mmu_fault flt;
    uint64_t va = UINT64_C(0x40001000), cr0 = t->ctx.st.x86.cr0;
    map(&t->pt, va, PA_A_OLD, K4, LEAF | X86_PTE_G);
    write_cr4(t, t->ctx.st.x86.cr4 | X86_CR4_PGE);
    expect_pa(t, "fill", va, MMU_READ, 0, MISS, PA_A_OLD);
    poke(&t->pt, va, 0, PA_A_NEW, LEAF | X86_PTE_G);
    write_cr3(t, t->ctx.st.x86.cr3);
    expect_pa(t, "global survives MOV CR3", va, MMU_READ, 0, HIT, PA_A_OLD);
    assert_true(mmu_x86_write_cr0(&t->ctx, cr0 & ~X86_CR0_PG, &flt));
    expect_pa(t, "paging off: identity", va, MMU_READ, 0, MISS, va);
    assert_true(mmu_x86_write_cr0(&t->ctx, cr0, &flt));
    expect_pa(t, "PG 1->0->1 dropped it", va, MMU_READ, 0, MISS, PA_A_NEW);
}

/* ---- the paging-structure caches and #PF (SDM 4.10.4.1) ----------------- */

/*
 * SDM 4.10.4.1: "a page-fault exception resulting from an attempt to use
 * a linear address will invalidate any PML4-cache, PDPTE-cache, and
 * PDE-cache entries that would be used for that linear address", so the
 * fault does not recur when memory no longer causes it. Here the PDE is
 * moved to a new page table (in which the address is mapped) without
 * INVLPG; the first access may fault through the stale PDE-cache entry,
 * the retry must walk from CR3 and succeed.
 */
static void pf_invalidates_paging_structure_caches(void **state)
{
    fx *f = *state;
    mmu_tlb_config cfg = cfg_fa;
    cfg.pwc_entries = 4;
    tu_machine *t = fx_up(f, MMU_MODE_X86_4LEVEL, &cfg);
    uint64_t va5 = VA_A + 5 * K4, pt2, pde_addr;
    map(&t->pt, VA_A, PA_A_OLD, K4, LEAF);
    expect_pa(t, "fill (caches the PDE)", VA_A, MMU_READ, 0, MISS, PA_A_OLD);

    assert_true(mmu_bump_alloc_frame(&t->alloc, &pt2));
    assert_true(mmu_phys_write64(&t->mem, pt2 + 5 * 8, PA_B_NEW | LEAF));
    assert_int_equal(mmu_pt_entry_addr(&t->pt, VA_A, 1, &pde_addr),
                     MMU_PT_OK);
    assert_true(mmu_phys_write64(&t->mem, pde_addr, pt2 | TABLE));

    mmu_result r;
    mmu_fault flt;
    if (!tu_translate(t, va5, MMU_READ, 0, 0, &r, &flt))
        assert_int_equal(flt.reason, MMU_WHY_NOT_PRESENT); /* stale PDE */
    expect_pa(t, "retry after the #PF walks the new PDE", va5, MMU_READ, 0,
              MISS, PA_B_NEW);
}

/* ---- main --------------------------------------------------------------- */

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
    static const struct CMUnitTest fixed[] = {
        T(invlpg_large_page_any_address),
        T(invlpg_splintered_large_page_drops_all_fragments),
        T(pf_on_splintered_page_drops_all_fragments),
        T(stale_hit_returns_old_pa_miss_sees_new),
        T(cr0_wp_judged_at_hit),
        T(pkru_and_ac_judged_at_hit),
        T(direct_state_writes_take_effect),
        T(pcid_isolation_both_cached),
        T(global_page_shared_across_pcids_with_pge),
        T(g_bit_without_pge_is_not_global),
        T(g_bit_in_nonleaf_ignored),
        T(read_then_write_rewalks_and_sets_d),
        T(read_then_write_rewalk_sees_read_only),
        T(cr4_pae_change_flushes),
        T(cr0_pg_clear_flushes_globals_32bit),
        T(pf_invalidates_paging_structure_caches),
    };
    enum { NFIXED = sizeof fixed / sizeof fixed[0],
           NRELAX = sizeof relax_cases / sizeof relax_cases[0],
           NCFG = 3 };
    static inv_run runs[NCFG * N_INV];
    static struct CMUnitTest tests[NFIXED + NRELAX + NCFG * N_INV];
    size_t n = 0;

    cfg_pwc = *mmu_tlb_preset("generic");
    cfg_pwc.name = "generic+pwc";
    cfg_pwc.pwc_entries = 4;
    const mmu_tlb_config *cfgs[NCFG] = {&cfg_fa, mmu_tlb_preset("generic"),
                                        &cfg_pwc};

    for (size_t i = 0; i < NFIXED; i++)
        tests[n++] = fixed[i];
    for (size_t i = 0; i < NRELAX; i++)
        tests[n++] = (struct CMUnitTest){relax_cases[i].name, relax_rights,
                                         fx_setup, fx_teardown,
                                         (void *)(uintptr_t)&relax_cases[i]};
    for (size_t k = 0; k < NCFG; k++)
        for (size_t i = 0; i < N_INV; i++) {
            inv_run *run = &runs[k * N_INV + i];
            run->c = &inv_cases[i];
            run->cfg = cfgs[k];
            snprintf(run->name, sizeof run->name, "%s/%s", inv_cases[i].name,
                     cfgs[k]->name);
            tests[n++] = (struct CMUnitTest){run->name, invalidation_case,
                                             fx_setup, fx_teardown, run};
        }
    return _cmocka_run_group_tests("tlb_x86", tests, n, NULL, NULL);
}
