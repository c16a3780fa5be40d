/*
 * test_tlb_stats.c - TLB statistics against hand-counted traces, walk
 * lengths per mode, the STLB hit path, large pages splintered into the
 * sizes an array holds, the paging-structure caches (walk length, stale
 * upper levels, what INVLPG / MOV CR3 / SFENCE.VMA do to them), the
 * named presets and geometry validation.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmuemu/tlb.h"

#define K4 UINT64_C(0x1000)
#define K64 UINT64_C(0x10000)
#define M2 UINT64_C(0x200000)
#define M4 UINT64_C(0x400000)
#define G1 UINT64_C(0x40000000)
#define MiB (UINT64_C(1) << 20)
#define RV_RAM UINT64_C(0x80000000)

#define X_TABLE (X86_PTE_P | X86_PTE_RW)
#define X_LEAF (X86_PTE_P | X86_PTE_RW)
#define R_TABLE RV_PTE_V
#define R_LEAF (RV_PTE_V | RV_PTE_R | RV_PTE_W | RV_PTE_X | RV_PTE_A | \
                RV_PTE_D)

#include "tlb_fixture.h"
}

static bool is_rv(mmu_paging_mode mode)
{
    return mmu_mode_get(mode)->arch == MMU_ARCH_RISCV;
}

/* 16 MiB of RAM (x86 at 0, RISC-V at 2 GiB), tables in the first 2 MiB. */
static tu_machine *fx_up(fx *f, mmu_paging_mode mode,
                         const mmu_tlb_config *cfg)
{
    tu_machine_init(&f->t, mode, is_rv(mode) ? RV_RAM : 0, 16 * MiB, 0,
                    2 * MiB);
    f->up = true;
    f->t.ctx.tlb = mmu_tlb_new(cfg);
    assert_non_null(f->t.ctx.tlb);
    return &f->t;
}

static void map(tu_machine *t, uint64_t va, uint64_t pa, uint64_t size)
{
    bool rv = is_rv(t->pt.mode);
    assert_int_equal(mmu_pt_map(&t->pt, va, pa, size, size,
                                rv ? R_LEAF : X_LEAF,
                                rv ? R_TABLE : X_TABLE),
                     MMU_PT_OK);
}

enum { MISS = 0, HIT = 1 };

static void expect_pa(tu_machine *t, const char *what, uint64_t va,
                      mmu_access acc, int hit, uint64_t pa)
{
    mmu_result r;
    mmu_fault f;
    unsigned priv = is_rv(t->pt.mode) ? RV_PRIV_S : 0;
    if (!tu_translate(t, va, acc, priv, 0, &r, &f))
        fail_msg("%s: %s va 0x%llx faulted: %s/%s", what, mmu_access_name(acc),
                 (unsigned long long)va, mmu_fault_kind_name(f.kind),
                 mmu_fault_reason_name(f.reason));
    if (r.pa != pa || r.tlb_hit != (hit == HIT))
        fail_msg("%s: %s va 0x%llx: got pa 0x%llx (%s) want 0x%llx (%s)",
                 what, mmu_access_name(acc), (unsigned long long)va,
                 (unsigned long long)r.pa, r.tlb_hit ? "hit" : "miss",
                 (unsigned long long)pa, hit ? "hit" : "miss");
}

static void expect_stats(const tu_machine *t, unsigned which,
                         const char *name, mmu_tlb_stats want)
{
    const mmu_tlb_stats *g = mmu_tlb_get_stats(t->ctx.tlb, which);
    char w[64];
#define STAT(field)                                                        \
    snprintf(w, sizeof w, "%s " #field, name);                             \
    TU_EQ_HEX(w, g->field, want.field)
    STAT(lookups);
    STAT(hits);
    STAT(misses);
    STAT(fills);
    STAT(evictions);
    STAT(flushes);
    STAT(invalidated);
#undef STAT
}

/* ---- a hand-counted trace ----------------------------------------------- */

/*
 * ITLB 2 FA, DTLB 4 FA, STLB 8 entries 2-way (set = vpn mod 4), LRU;
 * 4-level paging, pages P0..P4 = 0x400000 + i*4K (STLB sets 0 1 2 3 0),
 * tables without A, leaves RW without A/D.
 *
 *   step            ITLB      DTLB             STLB       walk  A/D writes
 *   1 r P0          -         miss, fill       miss, fill  4    4 (A x4)
 *   2 r P0          -         hit              -           -    -
 *   3 r P1          -         miss, fill       miss, fill  4    1
 *   4 x P0          miss,fill -                hit         -    -
 *   5 x P0          hit       -                -           -    -
 *   6 r P2 P3 P4    -         3 miss, 3 fill,  3 miss,     12   3
 *                             P4 evicts P0     3 fill
 *   7 r P0          -         miss, refill     hit         -    -
 *                             evicts P1 (LRU)
 *   8 invlpg P0     1 inval   1 inval          1 inval     -    -
 *   9 w P2          -         hit, D=0: drop   (dropped)   4    1 (D)
 *                             + walk + fill    fill
 */
static void stats_hand_counted_trace(void **state)
{
    fx *f = *state;
    static const mmu_tlb_config cfg = {
        .name = "trace",
        .itlb = {{2, 2, MMU_TLB_4K}},
        .dtlb = {{4, 4, MMU_TLB_4K}},
        .stlb = {{8, 2, MMU_TLB_4K}},
        .policy = MMU_TLB_LRU,
    };
    tu_machine *t = fx_up(f, MMU_MODE_X86_4LEVEL, &cfg);
    uint64_t p[5];
    for (unsigned i = 0; i < 5; i++) {
        p[i] = UINT64_C(0x400000) + i * K4;
        map(t, p[i], UINT64_C(0x800000) + i * K4, K4);
    }
    mmu_tlb_reset_stats(t->ctx.tlb);

    expect_pa(t, "1", p[0], MMU_READ, MISS, 0x800000);
    expect_pa(t, "2", p[0], MMU_READ, HIT, 0x800000);
    expect_pa(t, "3", p[1], MMU_READ, MISS, 0x801000);
    expect_pa(t, "4 (STLB hit)", p[0], MMU_FETCH, HIT, 0x800000);
    expect_pa(t, "5", p[0], MMU_FETCH, HIT, 0x800000);
    for (unsigned i = 2; i < 5; i++)
        expect_pa(t, "6", p[i], MMU_READ, MISS, 0x800000 + i * K4);
    expect_pa(t, "7 (STLB hit)", p[0], MMU_READ, HIT, 0x800000);
    mmu_x86_invlpg(&t->ctx, p[0]);
    expect_pa(t, "9 (D re-walk)", p[2], MMU_WRITE, MISS, 0x802000);

    expect_stats(t, MMU_TLB_ITLB, "itlb",
                 (mmu_tlb_stats){.lookups = 2, .hits = 1, .misses = 1,
                                 .fills = 1, .evictions = 0, .flushes = 1,
                                 .invalidated = 1});
    expect_stats(t, MMU_TLB_DTLB, "dtlb",
                 (mmu_tlb_stats){.lookups = 8, .hits = 2, .misses = 6,
                                 .fills = 7, .evictions = 2, .flushes = 1,
                                 .invalidated = 1});
    expect_stats(t, MMU_TLB_STLB, "stlb",
                 (mmu_tlb_stats){.lookups = 7, .hits = 2, .misses = 5,
                                 .fills = 6, .evictions = 0, .flushes = 1,
                                 .invalidated = 1});
    expect_stats(t, MMU_TLB_PWC, "pwc (absent)", (mmu_tlb_stats){0});
    TU_EQ_HEX("walks", t->ctx.stats.walks, 6);
    TU_EQ_HEX("walk_reads", t->ctx.stats.walk_reads, 24);
    TU_EQ_HEX("ad_writes", t->ctx.stats.ad_writes, 9);
    TU_EQ_HEX("faults", t->ctx.stats.faults, 0);
    /* P1 was evicted from the DTLB at step 7 but the STLB still has it. */
    expect_pa(t, "P1 from the STLB", p[1], MMU_READ, HIT, 0x801000);
    TU_EQ_HEX("walks", t->ctx.stats.walks, 6);

    mmu_tlb_reset_stats(t->ctx.tlb);
    expect_stats(t, MMU_TLB_DTLB, "dtlb after reset", (mmu_tlb_stats){0});
}

/* ---- walk length per mode ----------------------------------------------- */

typedef struct walk_case {
    const char *name;
    mmu_paging_mode mode;
    uint64_t va, pa, size;
    uint64_t reads;          /* entries read by one walk */
} walk_case;

static const walk_case walk_cases[] = {
    {"walk_reads_32bit_4k", MMU_MODE_X86_32, 0x40001000, 0x801000, K4, 2},
    {"walk_reads_32bit_4m", MMU_MODE_X86_32, 0x40000000, 0xc00000, M4, 1},
    /* PAE: the PDPTE comes from the registers, not memory. */
    {"walk_reads_pae_4k", MMU_MODE_X86_PAE, 0xc0001000, 0x801000, K4, 2},
    {"walk_reads_pae_2m", MMU_MODE_X86_PAE, 0xc0200000, 0xc00000, M2, 1},
    {"walk_reads_4level_4k", MMU_MODE_X86_4LEVEL,
     UINT64_C(0xffff800000001000), 0x801000, K4, 4},
    {"walk_reads_4level_2m", MMU_MODE_X86_4LEVEL,
     UINT64_C(0xffff800000200000), 0xc00000, M2, 3},
    {"walk_reads_4level_1g", MMU_MODE_X86_4LEVEL,
     UINT64_C(0xffff800040000000), G1, G1, 2},
    {"walk_reads_5level_4k", MMU_MODE_X86_5LEVEL,
     UINT64_C(0xff00000000001000), 0x801000, K4, 5},
    {"walk_reads_sv32_4k", MMU_MODE_SV32, 0x40001000, RV_RAM + 0x801000, K4,
     2},
    {"walk_reads_sv32_4m", MMU_MODE_SV32, 0x40000000, RV_RAM + 0xc00000, M4,
     1},
    {"walk_reads_sv39_4k", MMU_MODE_SV39, UINT64_C(0xffffffc000001000),
     RV_RAM + 0x801000, K4, 3},
    {"walk_reads_sv39_2m", MMU_MODE_SV39, UINT64_C(0xffffffc000200000),
     RV_RAM + 0xc00000, M2, 2},
    {"walk_reads_sv39_1g", MMU_MODE_SV39, UINT64_C(0xffffffc040000000),
     RV_RAM, G1, 1},
    {"walk_reads_sv48_4k", MMU_MODE_SV48, UINT64_C(0x00007f0000001000),
     RV_RAM + 0x801000, K4, 4},
    {"walk_reads_sv57_4k", MMU_MODE_SV57, UINT64_C(0x00ff000000001000),
     RV_RAM + 0x801000, K4, 5},
};

static void walk_reads_per_mode(void **state)
{
    fx *f = *state;
    const walk_case *c = f->arg;
    tu_machine *t = fx_up(f, c->mode, mmu_tlb_preset("generic"));
    map(t, c->va, c->pa, c->size);
    if (c->mode == MMU_MODE_X86_PAE)
        tu_x86_load_pdptes(t);
    expect_pa(t, c->name, c->va + 0x10, MMU_READ, MISS, c->pa + 0x10);
    TU_EQ_HEX("walks", t->ctx.stats.walks, 1);
    TU_EQ_HEX("walk_reads", t->ctx.stats.walk_reads, c->reads);
    expect_pa(t, c->name, c->va + c->size - 8, MMU_READ, HIT,
              c->pa + c->size - 8);
    TU_EQ_HEX("no reads on a hit", t->ctx.stats.walk_reads, c->reads);
}

/* ---- STLB --------------------------------------------------------------- */

static void stlb_hit_refills_l1(void **state)
{
    fx *f = *state;
    static const mmu_tlb_config cfg = {
        .name = "stlb",
        .itlb = {{2, 2, MMU_TLB_4K}},
        .dtlb = {{2, 2, MMU_TLB_4K}},
        .stlb = {{16, 16, MMU_TLB_4K | MMU_TLB_2M}},
        .policy = MMU_TLB_LRU,
    };
    tu_machine *t = fx_up(f, MMU_MODE_X86_4LEVEL, &cfg);
    for (unsigned i = 0; i < 3; i++)
        map(t, 0x400000 + i * K4, 0x800000 + i * K4, K4);
    for (unsigned i = 0; i < 3; i++)
        expect_pa(t, "fill", 0x400000 + i * K4, MMU_READ, MISS,
                  0x800000 + i * K4);
    /* P0 left the 2-entry DTLB; the STLB serves it without a walk. */
    expect_pa(t, "STLB hit", 0x400000, MMU_READ, HIT, 0x800000);
    TU_EQ_HEX("walks", t->ctx.stats.walks, 3);
    TU_EQ_HEX("stlb hits", mmu_tlb_get_stats(t->ctx.tlb, MMU_TLB_STLB)->hits,
              1);
    uint64_t l1_hits = mmu_tlb_get_stats(t->ctx.tlb, MMU_TLB_DTLB)->hits;
    expect_pa(t, "refilled into the DTLB", 0x400000, MMU_READ, HIT, 0x800000);
    TU_EQ_HEX("dtlb hit", mmu_tlb_get_stats(t->ctx.tlb, MMU_TLB_DTLB)->hits,
              l1_hits + 1);

    /* A stale STLB-only entry is dropped by INVLPG too. */
    uint64_t pte_addr;
    assert_int_equal(mmu_pt_entry_addr(&t->pt, 0x401000, 0, &pte_addr),
                     MMU_PT_OK);
    assert_true(mmu_phys_write64(&t->mem, pte_addr, 0x901000 | X_LEAF));
    expect_pa(t, "stale from the STLB", 0x401000, MMU_READ, HIT, 0x801000);
    mmu_x86_invlpg(&t->ctx, 0x401000);
    expect_pa(t, "after invlpg", 0x401000, MMU_READ, MISS, 0x901000);
}

/* ---- splintering -------------------------------------------------------- */

typedef struct splinter_case {
    const char *name;
    mmu_paging_mode mode;
    uint32_t dtlb_sizes;      /* the DTLB's arrays hold these sizes */
    uint64_t va, pa, size;
    uint64_t entry;           /* size of the entries cached for it */
} splinter_case;

static const splinter_case splinter_cases[] = {
    {"splinter_x86_2m_into_4k", MMU_MODE_X86_4LEVEL, MMU_TLB_4K, 4 * M2,
     6 * M2, M2, K4},
    {"x86_2m_held_whole", MMU_MODE_X86_4LEVEL, MMU_TLB_4K | MMU_TLB_2M,
     4 * M2, 6 * M2, M2, M2},
    {"splinter_x86_1g_into_2m", MMU_MODE_X86_4LEVEL,
     MMU_TLB_4K | MMU_TLB_2M, G1, G1, G1, M2},
    {"splinter_x86_1g_into_4k", MMU_MODE_X86_4LEVEL, MMU_TLB_4K, G1, G1, G1,
     K4},
    {"x86_32bit_4m_held_by_2m_class", MMU_MODE_X86_32,
     MMU_TLB_4K | MMU_TLB_2M, 0x40000000, 0xc00000, M4, M4},
    {"splinter_x86_32bit_4m_into_4k", MMU_MODE_X86_32, MMU_TLB_4K,
     0x40000000, 0xc00000, M4, K4},
    {"splinter_sv39_1g_into_2m", MMU_MODE_SV39, MMU_TLB_4K | MMU_TLB_2M, G1,
     RV_RAM, G1, M2},
    {"splinter_sv39_2m_into_64k", MMU_MODE_SV39, MMU_TLB_4K | MMU_TLB_64K,
     4 * M2, RV_RAM + 4 * M2, M2, K64},
    {"splinter_sv39_napot_64k_into_4k", MMU_MODE_SV39, MMU_TLB_4K, 4 * M2,
     RV_RAM + 4 * M2, K64, K4},
    {"sv39_napot_64k_held_whole", MMU_MODE_SV39, MMU_TLB_4K | MMU_TLB_64K,
     4 * M2, RV_RAM + 4 * M2, K64, K64},
};

static void splinter(void **state)
{
    fx *f = *state;
    const splinter_case *c = f->arg;
    mmu_tlb_config cfg = {
        .name = "splinter",
        .itlb = {{4, 4, MMU_TLB_4K}},
        .dtlb = {{8, 8, MMU_TLB_4K}},
        .policy = MMU_TLB_LRU,
    };
    uint32_t large = c->dtlb_sizes & ~MMU_TLB_4K;
    if (large)
        cfg.dtlb[1] = (mmu_tlb_array_cfg){4, 4, large};
    tu_machine *t = fx_up(f, c->mode, &cfg);
    mmu_result r;
    mmu_fault flt;
    map(t, c->va, c->pa, c->size);
    bool whole = c->entry == c->size;
    uint64_t first = whole ? 0 : c->entry; /* the entry touched first */
    unsigned priv = is_rv(c->mode) ? RV_PRIV_S : 0;

    assert_true(tu_translate(t, c->va + first + 0x123, MMU_READ, priv, 0, &r,
                             &flt));
    assert_false(r.tlb_hit);
    TU_EQ_HEX(c->name, r.page_size, c->size);
    TU_EQ_HEX(c->name, r.pa, c->pa + first + 0x123);
    /* The last byte of the same entry: a hit reporting the page's size. */
    uint64_t last = first + c->entry - 1;
    assert_true(tu_translate(t, c->va + last, MMU_READ, priv, 0, &r, &flt));
    assert_true(r.tlb_hit);
    TU_EQ_HEX(c->name, r.page_size, c->size);
    TU_EQ_HEX(c->name, r.pa, c->pa + last);
    /* The start of the page: a hit when held whole, else another
     * fragment, filled by a walk. */
    uint64_t walks = t->ctx.stats.walks;
    expect_pa(t, c->name, c->va + 0x40, MMU_READ, whole ? HIT : MISS,
              c->pa + 0x40);
    TU_EQ_HEX("walks", t->ctx.stats.walks, walks + (whole ? 0 : 1));
}

/* ---- paging-structure caches -------------------------------------------- */

static mmu_tlb_config pwc_config(uint32_t entries)
{
    mmu_tlb_config c = {
        .name = "pwc",
        .itlb = {{8, 8, MMU_TLB_4K}},
        .dtlb = {{16, 16, MMU_TLB_4K}},
        .policy = MMU_TLB_LRU,
        .pwc_entries = entries,
    };
    return c;
}

/* 4-level: a cached PDE leaves 1 read, a cached PDPTE 2, a PML4E 3. */
static void pwc_shortens_walks_x86(void **state)
{
    fx *f = *state;
    mmu_tlb_config cfg = pwc_config(4);
    tu_machine *t = fx_up(f, MMU_MODE_X86_4LEVEL, &cfg);
    static const struct {
        uint64_t va;
        uint64_t reads;
    } steps[] = {
        {0x400000, 4},   /* nothing cached */
        {0x401000, 1},   /* same 2 MiB: PDE cached */
        {0x600000, 2},   /* same 1 GiB: PDPTE cached */
        {0x40000000, 3}, /* same 512 GiB: PML4E cached */
        {0x40001000, 1},
    };
    for (unsigned i = 0; i < 5; i++)
        map(t, steps[i].va, 0x800000 + i * K4, K4);
    uint64_t before = 0;
    for (unsigned i = 0; i < 5; i++) {
        expect_pa(t, "walk", steps[i].va, MMU_READ, MISS, 0x800000 + i * K4);
        TU_EQ_HEX("walk_reads", t->ctx.stats.walk_reads - before,
                  steps[i].reads);
        before = t->ctx.stats.walk_reads;
    }
    /* fills: 3 (PML4E PDPTE PDE) + 0 + 1 (PDE) + 2 (PDPTE PDE) + 0. */
    expect_stats(t, MMU_TLB_PWC, "pwc",
                 (mmu_tlb_stats){.lookups = 5, .hits = 4, .misses = 1,
                                 .fills = 6, .evictions = 0, .flushes = 0,
                                 .invalidated = 0});
}

/* Each level holds pwc_entries; the least recently used one goes. */
static void pwc_evicts_lru_per_level(void **state)
{
    fx *f = *state;
    mmu_tlb_config cfg = pwc_config(4);
    tu_machine *t = fx_up(f, MMU_MODE_X86_4LEVEL, &cfg);
    for (unsigned i = 0; i < 5; i++) {
        map(t, (i + 1) * M2, 0x800000 + i * K4, K4);
        map(t, (i + 1) * M2 + K4, 0x900000 + i * K4, K4);
    }
    for (unsigned i = 0; i < 5; i++)
        expect_pa(t, "fill", (i + 1) * M2, MMU_READ, MISS, 0x800000 + i * K4);
    TU_EQ_HEX("walk_reads", t->ctx.stats.walk_reads, 4 + 4 * 2);
    TU_EQ_HEX("pwc evictions",
              mmu_tlb_get_stats(t->ctx.tlb, MMU_TLB_PWC)->evictions, 1);
    uint64_t before = t->ctx.stats.walk_reads;
    expect_pa(t, "region 0: its PDE was evicted", M2 + K4, MMU_READ, MISS,
              0x900000);
    TU_EQ_HEX("2 reads", t->ctx.stats.walk_reads - before, 2);
    before = t->ctx.stats.walk_reads;
    expect_pa(t, "region 4: PDE cached", 5 * M2 + K4, MMU_READ, MISS,
              0x900000 + 4 * K4);
    TU_EQ_HEX("1 read", t->ctx.stats.walk_reads - before, 1);
}

/*
 * x86: a PDE moved to another page table without invalidation stays
 * stale in the PDE cache for addresses not in the TLB; INVLPG of ANY
 * address drops all paging-structure-cache entries of the PCID (SDM
 * 4.10.4.1) but not the other addresses' TLB entries; MOV CR3 drops them
 * too.
 */
static void pwc_stale_pde_until_invlpg_or_cr3(void **state)
{
    fx *f = *state;
    mmu_tlb_config cfg = pwc_config(4);
    tu_machine *t = fx_up(f, MMU_MODE_X86_4LEVEL, &cfg);
    uint64_t base = 0x400000, pt2, pt1, pde_addr, before;
    mmu_fault flt;
    for (unsigned i = 0; i < 5; i++)
        map(t, base + i * K4, 0x800000 + i * K4, K4);
    assert_true(mmu_bump_alloc_frame(&t->alloc, &pt2));
    for (unsigned i = 0; i < 5; i++)
        assert_true(mmu_phys_write64(&t->mem, pt2 + 8 * i,
                                     (0x900000 + i * K4) | X_LEAF));
    assert_int_equal(mmu_pt_entry_addr(&t->pt, base, 1, &pde_addr),
                     MMU_PT_OK);
    assert_true(mmu_phys_read64(&t->mem, pde_addr, &pt1));

    expect_pa(t, "P0 fill", base, MMU_READ, MISS, 0x800000);
    assert_true(mmu_phys_write64(&t->mem, pde_addr, pt2 | X_TABLE));
    before = t->ctx.stats.walk_reads;
    expect_pa(t, "P2 through the stale PDE cache", base + 2 * K4, MMU_READ,
              MISS, 0x802000);
    TU_EQ_HEX("1 read", t->ctx.stats.walk_reads - before, 1);

    mmu_x86_invlpg(&t->ctx, 0x7000000); /* an unrelated address */
    expect_pa(t, "P0's TLB entry survives", base, MMU_READ, HIT, 0x800000);
    before = t->ctx.stats.walk_reads;
    expect_pa(t, "P3 walks from CR3", base + 3 * K4, MMU_READ, MISS,
              0x903000);
    TU_EQ_HEX("4 reads", t->ctx.stats.walk_reads - before, 4);

    /* Move the PDE back: the cache (now PT2) is stale again. */
    assert_true(mmu_phys_write64(&t->mem, pde_addr, pt1));
    expect_pa(t, "P4 through the stale cache", base + 4 * K4, MMU_READ, MISS,
              0x904000);
    assert_true(mmu_x86_write_cr3(&t->ctx, t->ctx.st.x86.cr3, &flt));
    expect_pa(t, "P4 after MOV CR3", base + 4 * K4, MMU_READ, MISS,
              0x804000);
    expect_pa(t, "P1 after MOV CR3", base + 1 * K4, MMU_READ, MISS,
              0x801000);
}

/*
 * RISC-V: SFENCE.VMA with rs1 != x0 "orders only reads and writes made
 * to leaf page table entries": a cached non-leaf entry may stay, so the
 * re-walk after the fence still goes through the old level-0 table.
 * rs1 = x0 orders every level: rs2 = ASID drops that ASID's non-leaf
 * entries, x0,x0 all of them.
 */
static void pwc_sfence_va_keeps_nonleaf_rv(void **state)
{
    fx *f = *state;
    mmu_tlb_config cfg = pwc_config(4);
    tu_machine *t = fx_up(f, MMU_MODE_SV39, &cfg);
    uint64_t va = 0x400000, pt2, l1_addr, l1_old, before;
    uint64_t old0 = RV_RAM + 0x800000, old1 = RV_RAM + 0x801000;
    uint64_t new0 = RV_RAM + 0x900000, new1 = RV_RAM + 0x901000;
    map(t, va, old0, K4);
    map(t, va + K4, old1, K4);
    assert_true(mmu_bump_alloc_frame(&t->alloc, &pt2));
    assert_true(mmu_phys_write64(&t->mem, pt2,
                                 mmu_pt_make_leaf(&t->pt, 0, new0, R_LEAF)));
    assert_true(mmu_phys_write64(&t->mem, pt2 + 8,
                                 mmu_pt_make_leaf(&t->pt, 0, new1, R_LEAF)));
    assert_int_equal(mmu_pt_entry_addr(&t->pt, va, 1, &l1_addr), MMU_PT_OK);
    assert_true(mmu_phys_read64(&t->mem, l1_addr, &l1_old));

    expect_pa(t, "fill", va, MMU_READ, MISS, old0);
    TU_EQ_HEX("3 reads", t->ctx.stats.walk_reads, 3);
    expect_pa(t, "second page", va + K4, MMU_READ, MISS, old1);
    TU_EQ_HEX("1 read (non-leaf cached)", t->ctx.stats.walk_reads, 4);

    assert_true(mmu_phys_write64(&t->mem, l1_addr,
                                 ((pt2 >> 12) << RV_PTE_PPN_SHIFT) |
                                     RV_PTE_V));
    mmu_rv_sfence_vma(&t->ctx, true, va, false, 0);
    before = t->ctx.stats.walk_reads;
    expect_pa(t, "sfence va,x0: leaf dropped, non-leaf kept", va, MMU_READ,
              MISS, old0);
    TU_EQ_HEX("1 read", t->ctx.stats.walk_reads - before, 1);
    mmu_rv_sfence_vma(&t->ctx, true, va, true, 0);
    expect_pa(t, "sfence va,asid: the same", va, MMU_READ, MISS, old0);
    mmu_rv_sfence_vma(&t->ctx, false, 0, true, 0);
    before = t->ctx.stats.walk_reads;
    expect_pa(t, "sfence x0,asid: every level", va, MMU_READ, MISS, new0);
    TU_EQ_HEX("3 reads", t->ctx.stats.walk_reads - before, 3);

    /* Back to the old table: the cached non-leaf entry (PT2) is stale. */
    assert_true(mmu_phys_write64(&t->mem, l1_addr, l1_old));
    mmu_rv_sfence_vma(&t->ctx, true, va + K4, false, 0);
    expect_pa(t, "stale non-leaf", va + K4, MMU_READ, MISS, new1);
    mmu_rv_sfence_vma(&t->ctx, false, 0, true, 7); /* another ASID */
    mmu_rv_sfence_vma(&t->ctx, true, va + K4, false, 0);
    expect_pa(t, "another ASID's fence keeps it", va + K4, MMU_READ, MISS,
              new1);
    mmu_rv_sfence_vma(&t->ctx, false, 0, false, 0);
    expect_pa(t, "sfence x0,x0", va + K4, MMU_READ, MISS, old1);
}

/* ---- presets and geometry ----------------------------------------------- */

static void preset_builds(void **state)
{
    fx *f = *state;
    const char *name = f->arg;
    const mmu_tlb_config *cfg = mmu_tlb_preset(name);
    assert_non_null(cfg);
    assert_string_equal(cfg->name, name);
    assert_non_null(cfg->source);
    tu_machine *t = fx_up(f, MMU_MODE_X86_4LEVEL, cfg);
    assert_string_equal(mmu_tlb_get_config(t->ctx.tlb)->name, name);
    map(t, 0x400000, 0x800000, K4);
    map(t, 4 * M2, 6 * M2, M2);
    expect_pa(t, name, 0x400000, MMU_READ, MISS, 0x800000);
    expect_pa(t, name, 0x400008, MMU_READ, HIT, 0x800008);
    expect_pa(t, name, 4 * M2 + 0x1000, MMU_READ, MISS, 6 * M2 + 0x1000);
    expect_pa(t, name, 4 * M2 + 0x1008, MMU_READ, HIT, 6 * M2 + 0x1008);
    /* The ITLB misses; with an STLB the data read's entry serves it. */
    expect_pa(t, name, 0x400000, MMU_FETCH, cfg->stlb[0].entries ? HIT : MISS,
              0x800000);
    expect_pa(t, name, 0x400000, MMU_FETCH, HIT, 0x800000);
}

static void unknown_preset_is_null(void **state)
{
    (void)state;
    assert_null(mmu_tlb_preset("no-such-core"));
    assert_null(mmu_tlb_preset(""));
}

typedef struct geo_case {
    const char *name;
    mmu_tlb_config cfg;
    bool ok;
} geo_case;

#define L1_4K {{8, 8, MMU_TLB_4K}}

static const geo_case geo_cases[] = {
    {"geometry_ways_not_dividing_entries",
     {.itlb = L1_4K, .dtlb = {{6, 4, MMU_TLB_4K}}}, false},
    {"geometry_plru_3_ways", {.itlb = L1_4K, .dtlb = {{6, 3, MMU_TLB_4K}},
                              .policy = MMU_TLB_PLRU}, false},
    {"geometry_lru_3_ways_ok", {.itlb = L1_4K, .dtlb = {{6, 3, MMU_TLB_4K}},
                                .policy = MMU_TLB_LRU}, true},
    {"geometry_plru_4_ways_ok", {.itlb = L1_4K, .dtlb = {{8, 4, MMU_TLB_4K}},
                                 .policy = MMU_TLB_PLRU}, true},
    {"geometry_stlb_plru_3_ways", {.itlb = L1_4K, .dtlb = L1_4K,
                                   .stlb = {{12, 3, MMU_TLB_4K}},
                                   .policy = MMU_TLB_PLRU}, false},
    {"geometry_stlb_ways_not_dividing", {.itlb = L1_4K, .dtlb = L1_4K,
                                         .stlb = {{10, 4, MMU_TLB_4K}}},
     false},
    {"geometry_no_4k_array_in_dtlb",
     {.itlb = L1_4K, .dtlb = {{16, 4, MMU_TLB_2M}}}, false},
    {"geometry_no_4k_array_in_itlb",
     {.itlb = {{8, 8, MMU_TLB_2M}}, .dtlb = L1_4K}, false},
    {"geometry_no_dtlb_at_all", {.itlb = L1_4K}, false},
    {"geometry_zero_ways", {.itlb = L1_4K, .dtlb = {{4, 0, MMU_TLB_4K}}},
     false},
    {"geometry_array_without_sizes",
     {.itlb = L1_4K, .dtlb = {{4, 4, MMU_TLB_4K}, {4, 4, 0}}}, false},
    {"geometry_4k_in_second_array_ok",
     {.itlb = L1_4K, .dtlb = {{4, 4, MMU_TLB_2M}, {16, 4, MMU_TLB_4K}}},
     true},
    /* tlb.h lists the reasons for NULL; a large fully associative array
     * is not one of them. */
    {"geometry_fully_associative_128_lru_ok",
     {.itlb = L1_4K, .dtlb = {{128, 128, MMU_TLB_4K}}}, true},
};

static void geometry_validation(void **state)
{
    fx *f = *state;
    const geo_case *c = f->arg;
    struct mmu_tlb *tlb = mmu_tlb_new(&c->cfg);
    bool ok = tlb != NULL;
    mmu_tlb_free(tlb);
    if (ok != c->ok)
        fail_msg("%s: mmu_tlb_new %s, want %s", c->name,
                 ok ? "built it" : "returned NULL",
                 c->ok ? "a TLB" : "NULL");
}

/* ---- main --------------------------------------------------------------- */

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static struct CMUnitTest tests[64];
static size_t ntests;

static void add(const char *name, CMUnitTestFunction fn, const void *arg)
{
    if (ntests >= COUNT(tests))
        abort();
    tests[ntests++] = (struct CMUnitTest){name, fn, fx_setup, fx_teardown,
                                          (void *)(uintptr_t)arg};
}

int main(void)
{
    static const struct CMUnitTest fixed[] = {
        T(stats_hand_counted_trace),
        T(stlb_hit_refills_l1),
        T(pwc_shortens_walks_x86),
        T(pwc_evicts_lru_per_level),
        T(pwc_stale_pde_until_invlpg_or_cr3),
        T(pwc_sfence_va_keeps_nonleaf_rv),
        T(unknown_preset_is_null),
    };
    static char preset_names[8][64];
    for (size_t i = 0; i < COUNT(fixed); i++)
        tests[ntests++] = fixed[i];
    for (size_t i = 0; i < COUNT(walk_cases); i++)
        add(walk_cases[i].name, walk_reads_per_mode, &walk_cases[i]);
    for (size_t i = 0; i < COUNT(splinter_cases); i++)
        add(splinter_cases[i].name, splinter, &splinter_cases[i]);
    const char *const *names = mmu_tlb_preset_names();
    for (size_t i = 0; names[i] != NULL && i < COUNT(preset_names); i++) {
        snprintf(preset_names[i], sizeof preset_names[i], "preset_%s_builds",
                 names[i]);
        add(preset_names[i], preset_builds, names[i]);
    }
    for (size_t i = 0; i < COUNT(geo_cases); i++)
        add(geo_cases[i].name, geometry_validation, &geo_cases[i]);
    return _cmocka_run_group_tests("tlb_stats", tests, ntests, NULL, NULL);
}
