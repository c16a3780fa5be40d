/*
 * test_tlb_rv.c - the RISC-V TLB rules (privileged spec, "Supervisor
 * Memory-Management Fence Instruction" and satp): the four SFENCE.VMA
 * forms, ASIDs, global mappings, satp writes (no flush, WARL), staleness,
 * Svade/Svadu with a cached clean entry.
 *
 * Method as in test_tlb_x86.c: leaf PTEs are rewritten in memory without
 * a fence, then each translation is probed; a surviving entry hits with
 * the OLD PA, a dropped one walks and returns the NEW PA. Sv39, S-mode.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmuemu/tlb.h"

#define K4 UINT64_C(0x1000)
#define M2 UINT64_C(0x200000)
#define MiB (UINT64_C(1) << 20)
#define RAM UINT64_C(0x80000000)

#define TABLE RV_PTE_V
#define LEAF (RV_PTE_V | RV_PTE_R | RV_PTE_W | RV_PTE_A | RV_PTE_D)

#define VA_A UINT64_C(0x400000)
#define VA_B UINT64_C(0x401000)
#define VA_G UINT64_C(0x600000)
#define PA_A_OLD (RAM + UINT64_C(0x800000))
#define PA_A_NEW (RAM + UINT64_C(0x900000))
#define PA_B_OLD (RAM + UINT64_C(0x801000))
#define PA_B_NEW (RAM + UINT64_C(0x901000))
#define PA_G_OLD (RAM + UINT64_C(0x802000))
#define PA_G_NEW (RAM + UINT64_C(0x902000))
#define PA_A2_OLD (RAM + UINT64_C(0x803000))
#define PA_A2_NEW (RAM + UINT64_C(0x903000))
/* Not a valid Sv39 address: bits 63:39 differ from bit 38. */
#define NONCANON (VA_A | (UINT64_C(1) << 40))

#define S RV_PRIV_S

/* ---- fixture ------------------------------------------------------------ */

#include "tlb_fixture.h"
}

static tu_machine *fx_up(fx *f, const mmu_tlb_config *cfg)
{
    tu_machine_init(&f->t, MMU_MODE_SV39, RAM, 16 * MiB, 0, 2 * MiB);
    f->up = true;
    f->t.ctx.tlb = mmu_tlb_new(cfg);
    assert_non_null(f->t.ctx.tlb);
    return &f->t;
}

static const mmu_tlb_config cfg_fa = {
    .name = "fa16",
    .itlb = {{8, 8, MMU_TLB_4K}},
    .dtlb = {{16, 16, MMU_TLB_4K}, {4, 4, MMU_TLB_2M}, {2, 2, MMU_TLB_1G}},
    .policy = MMU_TLB_LRU,
};

static const mmu_tlb_config cfg_4k_only = {
    .name = "4k-only",
    .itlb = {{8, 8, MMU_TLB_4K}},
    .dtlb = {{16, 16, MMU_TLB_4K}},
    .policy = MMU_TLB_LRU,
};

static const mmu_tlb_config cfg_tiny = {
    .name = "tiny",
    .itlb = {{4, 4, MMU_TLB_4K}},
    .dtlb = {{4, 4, MMU_TLB_4K}},
    .policy = MMU_TLB_LRU,
};

static mmu_tlb_config cfg_pwc;

/* ---- helpers ------------------------------------------------------------ */

static void map(mmu_pt *pt, uint64_t va, uint64_t pa, uint64_t size,
                uint64_t leaf, uint64_t table)
{
    assert_int_equal(mmu_pt_map(pt, va, pa, size, size, leaf, table),
                     MMU_PT_OK);
}

static void poke(mmu_pt *pt, uint64_t va, unsigned level, uint64_t pa,
                 uint64_t flags)
{
    uint64_t addr;
    assert_int_equal(mmu_pt_entry_addr(pt, va, level, &addr), MMU_PT_OK);
    assert_true(mmu_phys_write_pte(pt->mem, addr, 8,
                                   mmu_pt_make_leaf(pt, level, pa, flags)));
}

static uint64_t peek(mmu_pt *pt, uint64_t va, unsigned level)
{
    uint64_t v = 0;
    assert_int_equal(mmu_pt_get_entry(pt, va, level, &v), MMU_PT_OK);
    return v;
}

static uint64_t satp_of(mmu_pt *pt, uint64_t asid)
{
    return mmu_pt_root_reg(pt) | (asid << RV64_SATP_ASID_SHIFT);
}

static void set_satp(tu_machine *t, uint64_t v)
{
    assert_true(mmu_rv_write_satp(&t->ctx, v));
}

enum { MISS = 0, HIT = 1 };

static void expect_pa(tu_machine *t, const char *what, uint64_t va,
                      mmu_access acc, unsigned priv, int hit, uint64_t pa)
{
    mmu_result r;
    mmu_fault f;
    if (!tu_translate(t, va, acc, priv, 0, &r, &f))
        fail_msg("%s: %s va 0x%llx faulted: %s/%s cause %u, want %s 0x%llx",
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
                      mmu_access acc, unsigned priv, uint32_t cause,
                      mmu_fault_reason why)
{
    mmu_result r;
    mmu_fault f;
    if (tu_translate(t, va, acc, priv, 0, &r, &f))
        fail_msg("%s: %s va 0x%llx gave pa 0x%llx (%s), want cause %u",
                 what, mmu_access_name(acc), (unsigned long long)va,
                 (unsigned long long)r.pa, r.tlb_hit ? "hit" : "miss", cause);
    if (f.kind != MMU_FAULT_PAGE || f.code != cause || f.reason != why)
        fail_msg("%s: got %s/%s cause %u want page fault %s cause %u", what,
                 mmu_fault_kind_name(f.kind), mmu_fault_reason_name(f.reason),
                 f.code, mmu_fault_reason_name(why), cause);
    TU_EQ_HEX(what, f.addr, va);
}

static uint64_t total_flushes(const tu_machine *t)
{
    uint64_t n = 0;
    for (unsigned s = 0; s < MMU_TLB_NSTRUCT; s++)
        n += mmu_tlb_get_stats(t->ctx.tlb, s)->flushes;
    return n;
}

/* ---- the fence table ---------------------------------------------------- */

typedef enum fate { KEEP, DROP } fate;

typedef enum op_kind {
    OP_SFENCE,        /* SFENCE.VMA rs1, rs2 */
    OP_SATP_SWITCH,   /* satp to ASID 2 and back to ASID 1 */
    OP_SATP_BAD_MODE, /* satp write with an unsupported MODE */
} op_kind;

typedef struct fence_case {
    const char *name;
    op_kind op;
    bool has_va;          /* rs1 != x0 */
    uint64_t va;
    bool has_asid;        /* rs2 != x0 */
    uint64_t asid;
    bool untouched;       /* nothing may be invalidated */
    /* A, B and the global page G under ASID 1; A under ASID 2 (its own
     * root, A mapped elsewhere). */
    fate a1, b1, g, a2;
} fence_case;

#define X0 false, 0
#define RS1(v) true, (v)
#define RS2(v) true, (v)

static const fence_case fence_cases[] = {
    /* rs1=x0, rs2=x0: everything, global mappings included. */
    {"sfence_x0_x0_flushes_all", OP_SFENCE, X0, X0, false,
     DROP, DROP, DROP, DROP},
    /* rs1=x0, rs2=asid: that address space, except global mappings. */
    {"sfence_x0_asid1_flushes_asid1_nonglobal", OP_SFENCE, X0, RS2(1),
     false, DROP, DROP, KEEP, KEEP},
    {"sfence_x0_asid2_flushes_asid2_nonglobal", OP_SFENCE, X0, RS2(2),
     false, KEEP, KEEP, KEEP, DROP},
    /* rs1=va, rs2=x0: that VA in every address space, global included. */
    {"sfence_va_x0_flushes_va_all_asids", OP_SFENCE, RS1(VA_A), X0, false,
     DROP, KEEP, KEEP, DROP},
    {"sfence_va_x0_flushes_global_va", OP_SFENCE, RS1(VA_G), X0, false,
     KEEP, KEEP, DROP, KEEP},
    {"sfence_va_x0_offset_in_page", OP_SFENCE, RS1(VA_A + 0xabc), X0, false,
     DROP, KEEP, KEEP, DROP},
    /* rs1=va, rs2=asid: that VA in that address space, except global. */
    {"sfence_va_asid1_flushes_va_in_asid1", OP_SFENCE, RS1(VA_A), RS2(1),
     false, DROP, KEEP, KEEP, KEEP},
    {"sfence_va_asid2_flushes_va_in_asid2", OP_SFENCE, RS1(VA_A), RS2(2),
     false, KEEP, KEEP, KEEP, DROP},
    {"sfence_va_asid1_spares_global", OP_SFENCE, RS1(VA_G), RS2(1), false,
     KEEP, KEEP, KEEP, KEEP},
    /* x0 is register identity: a register holding 0 is not x0. */
    {"sfence_rs2_value0_is_asid0_not_x0", OP_SFENCE, X0, RS2(0), false,
     KEEP, KEEP, KEEP, KEEP},
    {"sfence_rs1_value0_is_va0_not_x0", OP_SFENCE, RS1(0), X0, false,
     KEEP, KEEP, KEEP, KEEP},
    /* rs2 bits above ASIDMAX are ignored. */
    {"sfence_asid_high_bits_ignored", OP_SFENCE, X0,
     RS2(1 | (UINT64_C(1) << 16)), false, DROP, DROP, KEEP, KEEP},
    /* A non-canonical rs1: no effect at all. */
    {"sfence_noncanonical_va_x0_is_nop", OP_SFENCE, RS1(NONCANON), X0, true,
     KEEP, KEEP, KEEP, KEEP},
    {"sfence_noncanonical_va_asid_is_nop", OP_SFENCE, RS1(NONCANON), RS2(1),
     true, KEEP, KEEP, KEEP, KEEP},
    /* satp writes flush nothing; an unsupported MODE is ignored. */
    {"satp_switch_and_back_flushes_nothing", OP_SATP_SWITCH, X0, X0, true,
     KEEP, KEEP, KEEP, KEEP},
    {"satp_unsupported_mode_ignored", OP_SATP_BAD_MODE, X0, X0, true,
     KEEP, KEEP, KEEP, KEEP},
};

#define N_FENCE (sizeof fence_cases / sizeof fence_cases[0])

typedef struct fence_run {
    const fence_case *c;
    const mmu_tlb_config *cfg;
    char name[112];
} fence_run;

static void probe(tu_machine *t, const char *name, const char *what,
                  uint64_t va, fate want, uint64_t old_pa, uint64_t new_pa)
{
    char label[160];
    snprintf(label, sizeof label, "%s: %s %s", name, what,
             want == KEEP ? "kept" : "dropped");
    expect_pa(t, label, va, MMU_READ, S, want == KEEP ? HIT : MISS,
              want == KEEP ? old_pa : new_pa);
}

static void fence_case_run(void **state)
{
    fx *f = *state;
    const fence_run *run = f->arg;
    const fence_case *c = run->c;
    tu_machine *t = fx_up(f, run->cfg);
    mmu_pt t2;
    assert_int_equal(mmu_pt_init(&t2, &t->mem, MMU_MODE_SV39,
                                 mmu_bump_alloc_frame, &t->alloc),
                     MMU_PT_OK);
    map(&t->pt, VA_A, PA_A_OLD, K4, LEAF, TABLE);
    map(&t->pt, VA_B, PA_B_OLD, K4, LEAF, TABLE);
    map(&t->pt, VA_G, PA_G_OLD, K4, LEAF | RV_PTE_G, TABLE);
    map(&t2, VA_A, PA_A2_OLD, K4, LEAF, TABLE);
    map(&t2, VA_G, PA_G_OLD, K4, LEAF | RV_PTE_G, TABLE);
    uint64_t satp1 = satp_of(&t->pt, 1), satp2 = satp_of(&t2, 2);

    set_satp(t, satp1);
    expect_pa(t, "fill A", VA_A, MMU_READ, S, MISS, PA_A_OLD);
    expect_pa(t, "fill B", VA_B, MMU_READ, S, MISS, PA_B_OLD);
    expect_pa(t, "fill G", VA_G, MMU_READ, S, MISS, PA_G_OLD);
    set_satp(t, satp2);
    expect_pa(t, "fill A asid 2", VA_A, MMU_READ, S, MISS, PA_A2_OLD);
    expect_pa(t, "global G hits in asid 2", VA_G, MMU_READ, S, HIT,
              PA_G_OLD);
    poke(&t->pt, VA_A, 0, PA_A_NEW, LEAF);
    poke(&t->pt, VA_B, 0, PA_B_NEW, LEAF);
    poke(&t->pt, VA_G, 0, PA_G_NEW, LEAF | RV_PTE_G);
    poke(&t2, VA_A, 0, PA_A2_NEW, LEAF);
    poke(&t2, VA_G, 0, PA_G_NEW, LEAF | RV_PTE_G);
    set_satp(t, satp1);
    expect_pa(t, "stale A", VA_A, MMU_READ, S, HIT, PA_A_OLD);
    expect_pa(t, "stale B", VA_B, MMU_READ, S, HIT, PA_B_OLD);
    expect_pa(t, "stale G", VA_G, MMU_READ, S, HIT, PA_G_OLD);

    uint64_t flushes = total_flushes(t);
    switch (c->op) {
    case OP_SFENCE:
        mmu_rv_sfence_vma(&t->ctx, c->has_va, c->va, c->has_asid, c->asid);
        break;
    case OP_SATP_SWITCH:
        set_satp(t, satp2);
        set_satp(t, satp1);
        break;
    case OP_SATP_BAD_MODE:
        /* MODE 5 is reserved; the write leaves satp as it was. */
        assert_false(mmu_rv_write_satp(&t->ctx,
                                       (UINT64_C(5) << RV64_SATP_MODE_SHIFT) |
                                           satp2));
        TU_EQ_HEX("satp unchanged", t->ctx.st.rv.satp, satp1);
        break;
    }
    if (c->untouched)
        TU_EQ_HEX(run->name, total_flushes(t), flushes);

    probe(t, run->name, "A asid 1", VA_A, c->a1, PA_A_OLD, PA_A_NEW);
    probe(t, run->name, "B asid 1", VA_B, c->b1, PA_B_OLD, PA_B_NEW);
    probe(t, run->name, "G", VA_G, c->g, PA_G_OLD, PA_G_NEW);
    set_satp(t, satp2);
    probe(t, run->name, "A asid 2", VA_A, c->a2, PA_A2_OLD, PA_A2_NEW);
}

/* ---- ASIDs and global mappings ------------------------------------------ */

static void asid_isolation_both_cached(void **state)
{
    fx *f = *state;
    tu_machine *t = fx_up(f, mmu_tlb_preset("generic"));
    mmu_pt t2;
    assert_int_equal(mmu_pt_init(&t2, &t->mem, MMU_MODE_SV39,
                                 mmu_bump_alloc_frame, &t->alloc),
                     MMU_PT_OK);
    map(&t->pt, VA_A, PA_A_OLD, K4, LEAF, TABLE);
    map(&t2, VA_A, PA_A2_OLD, K4, LEAF, TABLE);
    uint64_t s1 = satp_of(&t->pt, 1), s2 = satp_of(&t2, 2);
    set_satp(t, s1);
    expect_pa(t, "asid 1 fill", VA_A, MMU_READ, S, MISS, PA_A_OLD);
    set_satp(t, s2);
    expect_pa(t, "asid 2 fill (a new ASID misses)", VA_A, MMU_READ, S, MISS,
              PA_A2_OLD);
    for (unsigned i = 0; i < 3; i++) {
        set_satp(t, s1);
        expect_pa(t, "asid 1 hit", VA_A, MMU_READ, S, HIT, PA_A_OLD);
        set_satp(t, s2);
        expect_pa(t, "asid 2 hit", VA_A, MMU_READ, S, HIT, PA_A2_OLD);
    }
    TU_EQ_HEX("satp writes flushed nothing", total_flushes(t), 0);
}

/* G in a non-leaf entry makes every mapping below it global: it answers
 * in an address space whose own tables do not map it at all, and
 * survives an ASID fence. */
static void global_nonleaf_makes_mapping_global(void **state)
{
    fx *f = *state;
    tu_machine *t = fx_up(f, &cfg_fa);
    mmu_pt t2;
    mmu_result r;
    mmu_fault flt;
    uint64_t va = UINT64_C(0x40000000); /* a fresh root slot */
    assert_int_equal(mmu_pt_init(&t2, &t->mem, MMU_MODE_SV39,
                                 mmu_bump_alloc_frame, &t->alloc),
                     MMU_PT_OK);
    map(&t->pt, va, PA_A_OLD, K4, LEAF, TABLE | RV_PTE_G);
    assert_false(peek(&t->pt, va, 0) & RV_PTE_G);
    set_satp(t, satp_of(&t->pt, 1));
    assert_true(tu_translate(t, va, MMU_READ, S, 0, &r, &flt));
    assert_true(r.global);
    set_satp(t, satp_of(&t2, 2));
    expect_pa(t, "global entry in asid 2", va, MMU_READ, S, HIT, PA_A_OLD);
    mmu_rv_sfence_vma(&t->ctx, false, 0, true, 1);
    mmu_rv_sfence_vma(&t->ctx, false, 0, true, 2);
    expect_pa(t, "survives ASID fences", va, MMU_READ, S, HIT, PA_A_OLD);
    mmu_rv_sfence_vma(&t->ctx, false, 0, false, 0);
    expect_pf(t, "after sfence x0,x0 asid 2's own tables", va, MMU_READ, S,
              RV_CAUSE_LOAD_PAGE, MMU_WHY_NOT_PRESENT);
}

/* ---- staleness ---------------------------------------------------------- */

static void stale_hit_returns_old_pa_miss_sees_new(void **state)
{
    fx *f = *state;
    tu_machine *t = fx_up(f, &cfg_tiny);
    map(&t->pt, VA_A, PA_A_OLD, K4, LEAF, TABLE);
    map(&t->pt, VA_B, PA_B_OLD, K4, LEAF, TABLE);
    for (unsigned i = 0; i < 4; i++)
        map(&t->pt, 0x500000 + i * K4, RAM + 0xa00000 + i * K4, K4, LEAF,
            TABLE);
    expect_pa(t, "fill A", VA_A, MMU_READ, S, MISS, PA_A_OLD);
    poke(&t->pt, VA_A, 0, 0, 0); /* V=0 */
    assert_int_equal(peek(&t->pt, VA_A, 0), 0);
    poke(&t->pt, VA_B, 0, PA_B_NEW, LEAF);
    expect_pa(t, "stale hit on an invalid PTE", VA_A + 8, MMU_READ, S, HIT,
              PA_A_OLD + 8);
    expect_pa(t, "other address misses, sees the new PTE", VA_B, MMU_READ,
              S, MISS, PA_B_NEW);
    for (unsigned i = 0; i < 4; i++)
        expect_pa(t, "evicting", 0x500000 + i * K4, MMU_READ, S, MISS,
                  RAM + 0xa00000 + i * K4);
    expect_pf(t, "after eviction the walk sees V=0", VA_A, MMU_READ, S,
              RV_CAUSE_LOAD_PAGE, MMU_WHY_NOT_PRESENT);
}

typedef struct relax_case {
    const char *name;
    uint64_t before, after;
    mmu_access acc;
    unsigned priv;
    uint32_t cause;
    mmu_fault_reason why;
} relax_case;

static const relax_case relax_cases[] = {
    {"rv_relax_w_spurious_store_fault", RV_PTE_V | RV_PTE_R | RV_PTE_A |
     RV_PTE_D, LEAF, MMU_WRITE, S, RV_CAUSE_STORE_PAGE, MMU_WHY_READ_ONLY},
    {"rv_relax_u_spurious_user_fault", LEAF, LEAF | RV_PTE_U, MMU_READ,
     RV_PRIV_U, RV_CAUSE_LOAD_PAGE, MMU_WHY_USER_TO_SUPERVISOR},
};

static void relax_rights(void **state)
{
    fx *f = *state;
    const relax_case *c = f->arg;
    tu_machine *t = fx_up(f, mmu_tlb_preset("generic"));
    map(&t->pt, VA_A, PA_A_OLD, K4, c->before, TABLE);
    expect_pa(t, c->name, VA_A, MMU_READ, S, MISS, PA_A_OLD);
    poke(&t->pt, VA_A, 0, PA_A_OLD, c->after);
    uint64_t walks = t->ctx.stats.walks;
    expect_pf(t, c->name, VA_A, c->acc, c->priv, c->cause, c->why);
    TU_EQ_HEX("spurious fault without a walk", t->ctx.stats.walks, walks);
    expect_pa(t, c->name, VA_A, c->acc, c->priv, MISS, PA_A_OLD);
    TU_EQ_HEX("retry walked", t->ctx.stats.walks, walks + 1);
    expect_pa(t, c->name, VA_A, c->acc, c->priv, HIT, PA_A_OLD);
}

/* ---- Svade / Svadu with a clean cached entry ---------------------------- */

static void svade_clean_cached_entry_store_faults(void **state)
{
    fx *f = *state;
    tu_machine *t = fx_up(f, &cfg_fa);
    t->ctx.st.rv.menvcfg &= ~RV_MENVCFG_ADUE;
    uint64_t leaf = RV_PTE_V | RV_PTE_R | RV_PTE_W | RV_PTE_A;
    map(&t->pt, VA_A, PA_A_OLD, K4, leaf, TABLE);
    expect_pa(t, "read fills", VA_A, MMU_READ, S, MISS, PA_A_OLD);
    expect_pa(t, "read hits", VA_A, MMU_READ, S, HIT, PA_A_OLD);
    expect_pf(t, "store walks again, D=0: page fault", VA_A, MMU_WRITE, S,
              RV_CAUSE_STORE_PAGE, MMU_WHY_DIRTY_CLEAR);
    TU_EQ_HEX("the store walked", t->ctx.stats.walks, 2);
    TU_EQ_HEX("PTE untouched", peek(&t->pt, VA_A, 0),
              mmu_pt_make_leaf(&t->pt, 0, PA_A_OLD, leaf));
    /* Software sets D; the cached clean entry is gone, the store walks. */
    poke(&t->pt, VA_A, 0, PA_A_OLD, leaf | RV_PTE_D);
    expect_pa(t, "store after D set", VA_A, MMU_WRITE, S, MISS, PA_A_OLD);
    expect_pa(t, "store hits", VA_A, MMU_WRITE, S, HIT, PA_A_OLD);
}

static void svadu_store_rewalks_and_sets_d(void **state)
{
    fx *f = *state;
    tu_machine *t = fx_up(f, &cfg_fa);
    assert_true(t->ctx.st.rv.menvcfg & RV_MENVCFG_ADUE);
    map(&t->pt, VA_A, PA_A_OLD, K4, RV_PTE_V | RV_PTE_R | RV_PTE_W, TABLE);
    expect_pa(t, "read", VA_A, MMU_READ, S, MISS, PA_A_OLD);
    uint64_t pte = peek(&t->pt, VA_A, 0);
    assert_true(pte & RV_PTE_A);
    assert_false(pte & RV_PTE_D);
    expect_pa(t, "store walks", VA_A, MMU_WRITE, S, MISS, PA_A_OLD);
    TU_EQ_HEX("walks", t->ctx.stats.walks, 2);
    assert_true(peek(&t->pt, VA_A, 0) & RV_PTE_D);
    expect_pa(t, "store hits", VA_A, MMU_WRITE, S, HIT, PA_A_OLD);
    TU_EQ_HEX("walks at the end", t->ctx.stats.walks, 2);
}

/* SUM and MXR changes need no fence: the cached R/W/X/U bits are judged
 * against mstatus at every hit. */
static void sum_mxr_judged_at_hit(void **state)
{
    fx *f = *state;
    tu_machine *t = fx_up(f, &cfg_fa);
    map(&t->pt, VA_A, PA_A_OLD, K4, LEAF | RV_PTE_U, TABLE);
    map(&t->pt, VA_B, PA_B_OLD, K4, RV_PTE_V | RV_PTE_X | RV_PTE_A, TABLE);
    t->ctx.st.rv.mstatus |= RV_MSTATUS_SUM | RV_MSTATUS_MXR;
    expect_pa(t, "SUM=1 fill", VA_A, MMU_READ, S, MISS, PA_A_OLD);
    expect_pa(t, "MXR=1 fill", VA_B, MMU_READ, S, MISS, PA_B_OLD);
    uint64_t walks = t->ctx.stats.walks;
    t->ctx.st.rv.mstatus &= ~(RV_MSTATUS_SUM | RV_MSTATUS_MXR);
    expect_pf(t, "SUM=0 at hit", VA_A, MMU_READ, S, RV_CAUSE_LOAD_PAGE,
              MMU_WHY_SUPERVISOR_TO_USER);
    expect_pf(t, "MXR=0 at hit", VA_B, MMU_READ, S, RV_CAUSE_LOAD_PAGE,
              MMU_WHY_NOT_READABLE);
    TU_EQ_HEX("faults came from the TLB", t->ctx.stats.walks, walks);
    TU_EQ_HEX("no fence counted", total_flushes(t), 0);
}

/* mmu_translate() keeps what it derives from the state (mode, ASID,
 * MPRV, address width) across calls: state written directly, without an
 * operation, must still take effect at the next translation. */
static void direct_state_writes_take_effect(void **state)
{
    fx *f = *state;
    tu_machine *t = fx_up(f, &cfg_fa);
    mmu_result r;
    mmu_fault flt;
    uint64_t satp = satp_of(&t->pt, 0);
    map(&t->pt, VA_A, PA_A_OLD, K4, LEAF, TABLE);
    t->ctx.st.rv.satp = satp;
    expect_pa(t, "fill asid 0", VA_A, MMU_READ, S, MISS, PA_A_OLD);
    expect_pa(t, "hit asid 0", VA_A, MMU_READ, S, HIT, PA_A_OLD);
    t->ctx.st.rv.satp = satp_of(&t->pt, 7);
    expect_pa(t, "asid 7: its own entry", VA_A, MMU_READ, S, MISS, PA_A_OLD);
    t->ctx.st.rv.satp = satp;
    expect_pa(t, "asid 0 again", VA_A, MMU_READ, S, HIT, PA_A_OLD);
    expect_pf(t, "non-canonical after a hit", NONCANON, MMU_READ, S,
              RV_CAUSE_LOAD_PAGE, MMU_WHY_NONCANONICAL);
    /* M-mode: untranslated, unless MPRV with MPP = S (loads/stores). */
    assert_true(tu_translate(t, VA_A, MMU_READ, RV_PRIV_M, 0, &r, &flt));
    assert_false(r.tlb_hit);
    TU_EQ_HEX("M load untranslated", r.pa, VA_A);
    t->ctx.st.rv.mstatus |= RV_MSTATUS_MPRV |
                            ((uint64_t)S << RV_MSTATUS_MPP_SHIFT);
    expect_pa(t, "MPRV+MPP=S load hits", VA_A, MMU_READ, RV_PRIV_M, HIT,
              PA_A_OLD);
    assert_true(tu_translate(t, VA_A, MMU_FETCH, RV_PRIV_M, 0, &r, &flt));
    TU_EQ_HEX("MPRV leaves M fetches untranslated", r.pa, VA_A);
    t->ctx.st.rv.mstatus |= RV_MSTATUS_MPP;
    assert_true(tu_translate(t, VA_A, MMU_READ, RV_PRIV_M, 0, &r, &flt));
    TU_EQ_HEX("MPRV+MPP=M load untranslated", r.pa, VA_A);
    /* Bare: untranslated even with the entry cached. */
    t->ctx.st.rv.satp = 0;
    assert_true(tu_translate(t, VA_A, MMU_READ, S, 0, &r, &flt));
    assert_false(r.tlb_hit);
    TU_EQ_HEX("Bare untranslated", r.pa, VA_A);
    t->ctx.st.rv.satp = satp;
    expect_pa(t, "Sv39 again", VA_A, MMU_READ, S, HIT, PA_A_OLD);
}

/* ---- superpages --------------------------------------------------------- */

/* A megapage cached whole: a fence with any address inside drops it. */
static void sfence_va_inside_megapage(void **state)
{
    fx *f = *state;
    tu_machine *t = fx_up(f, &cfg_fa);
    uint64_t va = 4 * M2, old_pa = RAM + 4 * M2, new_pa = RAM + 5 * M2;
    map(&t->pt, va, old_pa, M2, LEAF, TABLE);
    expect_pa(t, "fill", va + 0x3000, MMU_READ, S, MISS, old_pa + 0x3000);
    poke(&t->pt, va, 1, new_pa, LEAF);
    expect_pa(t, "stale", va + 0x7000, MMU_READ, S, HIT, old_pa + 0x7000);
    mmu_rv_sfence_vma(&t->ctx, true, va + 0x1ff000, false, 0);
    expect_pa(t, "after fence", va + 0x7000, MMU_READ, S, MISS,
              new_pa + 0x7000);
}

/*
 * Privileged spec, SFENCE.VMA with rs1 != x0: "The fence also invalidates
 * all address-translation cache entries that contain leaf page table
 * entries corresponding to the virtual address in rs1". Every 4 KiB
 * fragment of a splintered megapage holds that one leaf PTE, so a fence
 * on one address of the megapage must drop all of them.
 */
static void sfence_va_splintered_megapage_drops_all_fragments(void **state)
{
    fx *f = *state;
    tu_machine *t = fx_up(f, &cfg_4k_only);
    uint64_t va = 4 * M2, old_pa = RAM + 4 * M2, new_pa = RAM + 5 * M2;
    map(&t->pt, va, old_pa, M2, LEAF, TABLE);
    expect_pa(t, "fill fragment 3", va + 0x3000, MMU_READ, S, MISS,
              old_pa + 0x3000);
    expect_pa(t, "fill fragment 5", va + 0x5000, MMU_READ, S, MISS,
              old_pa + 0x5000);
    poke(&t->pt, va, 1, new_pa, LEAF);
    mmu_rv_sfence_vma(&t->ctx, true, va + 0x3000, false, 0);
    expect_pa(t, "fragment 3 after the fence", va + 0x3000, MMU_READ, S,
              MISS, new_pa + 0x3000);
    expect_pa(t, "fragment 5 after a fence on fragment 3", va + 0x5000,
              MMU_READ, S, MISS, new_pa + 0x5000);
}

/* ---- main --------------------------------------------------------------- */

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
    static const struct CMUnitTest fixed[] = {
        T(asid_isolation_both_cached),
        T(global_nonleaf_makes_mapping_global),
        T(stale_hit_returns_old_pa_miss_sees_new),
        T(svade_clean_cached_entry_store_faults),
        T(svadu_store_rewalks_and_sets_d),
        T(sum_mxr_judged_at_hit),
        T(direct_state_writes_take_effect),
        T(sfence_va_inside_megapage),
        T(sfence_va_splintered_megapage_drops_all_fragments),
    };
    enum { NFIXED = sizeof fixed / sizeof fixed[0],
           NRELAX = sizeof relax_cases / sizeof relax_cases[0],
           NCFG = 3 };
    static fence_run runs[NCFG * N_FENCE];
    static struct CMUnitTest tests[NFIXED + NRELAX + NCFG * N_FENCE];
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
        for (size_t i = 0; i < N_FENCE; i++) {
            fence_run *run = &runs[k * N_FENCE + i];
            run->c = &fence_cases[i];
            run->cfg = cfgs[k];
            snprintf(run->name, sizeof run->name, "%s/%s",
                     fence_cases[i].name, cfgs[k]->name);
            tests[n++] = (struct CMUnitTest){run->name, fence_case_run,
                                             fx_setup, fx_teardown, run};
        }
    return _cmocka_run_group_tests("tlb_rv", tests, n, NULL, NULL);
}
