/*
 * test_tlb_repl.c - replacement order of each policy (LRU, tree-PLRU,
 * FIFO, seeded random) in small geometries where the victim can be
 * predicted by hand.
 *
 * Each trace reads 4 KiB pages i = 0, 1, ... (VA 0x400000 + i * 4K, so
 * page i falls in set i mod sets) through a one-structure DTLB and checks
 * every access's hit/miss (mmu_result.tlb_hit), then which pages are
 * resident: residents hit, every other page of the trace misses.
 * Invalid ways are always filled first; tree-PLRU touches a way on fill
 * and on hit; FIFO ignores hits.
 *
 * The expected strings were derived by hand (the 4-way traces step by
 * step in the comments) and cross-checked with a textbook simulation.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmuemu/tlb.h"

#define K4 UINT64_C(0x1000)
#define MiB (UINT64_C(1) << 20)
#define PAGE_VA(i) (UINT64_C(0x400000) + (uint64_t)(i) * K4)
#define PAGE_PA(i) (UINT64_C(0x800000) + (uint64_t)(i) * K4)
#define NPAGES 16

#include "tlb_fixture.h"
}

static mmu_tlb_config geometry(mmu_tlb_policy policy, uint32_t entries,
                               uint32_t ways, uint64_t seed)
{
    mmu_tlb_config c = {
        .name = "test",
        .itlb = {{1, 1, MMU_TLB_4K}},
        .dtlb = {{entries, ways, MMU_TLB_4K}},
        .policy = policy,
        .seed = seed,
    };
    return c;
}

/* x86 4-level machine with pages 0..NPAGES-1 mapped and a fresh TLB. */
static tu_machine *fx_up(fx *f, const mmu_tlb_config *cfg)
{
    tu_machine *t = &f->t;
    if (f->up) {
        mmu_tlb_free(t->ctx.tlb);
        tu_machine_free(t);
        f->up = false;
    }
    tu_machine_init(t, MMU_MODE_X86_4LEVEL, 0, 16 * MiB, 0, MiB);
    f->up = true;
    for (unsigned i = 0; i < NPAGES; i++)
        assert_int_equal(mmu_pt_map(&t->pt, PAGE_VA(i), PAGE_PA(i), K4, K4,
                                    X86_PTE_P | X86_PTE_RW,
                                    X86_PTE_P | X86_PTE_RW),
                         MMU_PT_OK);
    t->ctx.tlb = mmu_tlb_new(cfg);
    assert_non_null(t->ctx.tlb);
    return t;
}

/* Read page i; @return whether the TLB served it. */
static bool touch(tu_machine *t, unsigned i)
{
    mmu_result r;
    mmu_fault f;
    assert_true(tu_translate(t, PAGE_VA(i), MMU_READ, 0, 0, &r, &f));
    TU_EQ_HEX("pa", r.pa, PAGE_PA(i));
    return r.tlb_hit;
}

static unsigned page_of(char c)
{
    return (unsigned)(c <= '9' ? c - '0' : c - 'a' + 10);
}

/* ---- deterministic policies --------------------------------------------- */

typedef struct repl_case {
    const char *name;
    mmu_tlb_policy policy;
    uint32_t entries, ways;
    const char *trace;     /* pages, one hex digit each */
    const char *want;      /* 'h' / 'm' per access */
    const char *resident;  /* pages held afterwards */
} repl_case;

/* The 4-entry fully associative trace 0 1 2 3 0 4 2 5 1 4 3 5 0 2 0:
 *  LRU : 0 hit makes 1 the LRU; 4 evicts 1, 2 hits, 5 evicts 3, 1 evicts
 *        0, 4 hits, 3 evicts 2, 5 hits, 0 evicts 1, 2 evicts 4; 0 hits.
 *  FIFO: the 0 hit changes nothing; 4 evicts 0, 2 hits, 5 evicts 1, 1
 *        evicts 2, 4 3 5 hit, 0 evicts 3, 2 evicts 4; 0 hits.
 *  PLRU: (bits root/left/right; 1 = victim on the right) after the four
 *        fills 000 -> victim way 0; 0 hit -> 110, victim way 2 (page 2,
 *        not LRU page 1); 4 -> way 2, 011 -> victim way 1 (page 1); 2
 *        misses -> way 1, 101 -> way 3 (page 3); 5 -> way 3, 000; 1 ->
 *        way 0 (page 0), 110; 4 hits (way 2) 011; 3 -> way 1 (page 2),
 *        101; 5 hits 000; 0 -> way 0 (page 1), 110; 2 -> way 2 (page 4);
 *        0 hits. */
static const repl_case repl_cases[] = {
    {"lru_fa4", MMU_TLB_LRU, 4, 4, "012304251435020", "mmmmhmhmmhmhmmh",
     "0235"},
    {"fifo_fa4", MMU_TLB_FIFO, 4, 4, "012304251435020", "mmmmhmhmmhhhmmh",
     "0125"},
    {"plru_fa4", MMU_TLB_PLRU, 4, 4, "012304251435020", "mmmmhmmmmhmhmmh",
     "0235"},
    /* 2 sets x 2 ways: even pages never displace odd ones. */
    {"lru_2sets_2ways", MMU_TLB_LRU, 4, 2, "0213413204361", "mmmmmhhhmmhmh",
     "1346"},
    {"fifo_2sets_2ways", MMU_TLB_FIFO, 4, 2, "0213413204361",
     "mmmmmhhhmhhmh", "0136"},
    {"plru_2sets_2ways_is_lru", MMU_TLB_PLRU, 4, 2, "0213413204361",
     "mmmmmhhhmmhmh", "1346"},
    /* 8-way fully associative: a three-level PLRU tree. */
    {"lru_fa8", MMU_TLB_LRU, 8, 8, "01234567081902a30",
     "mmmmmmmmhmmmhmmmh", "012389a7"},
    {"fifo_fa8", MMU_TLB_FIFO, 8, 8, "01234567081902a30",
     "mmmmmmmmhmhmmmmmh", "023678a9"},
    {"plru_fa8", MMU_TLB_PLRU, 8, 8, "01234567081902a30",
     "mmmmmmmmhmhmhhmhh", "0123789a"},
};

static void replacement_trace(void **state)
{
    fx *f = *state;
    const repl_case *c = f->arg;
    mmu_tlb_config cfg = geometry(c->policy, c->entries, c->ways, 0);
    tu_machine *t = fx_up(f, &cfg);
    size_t n = strlen(c->trace);
    uint64_t misses = 0, filled_empty = 0;
    unsigned per_set[NPAGES] = {0};
    uint32_t sets = c->entries / c->ways;

    assert_int_equal(n, strlen(c->want));
    for (size_t k = 0; k < n; k++) {
        unsigned p = page_of(c->trace[k]);
        bool hit = touch(t, p);
        if (hit != (c->want[k] == 'h'))
            fail_msg("%s: access %zu (page %u): got %s want %s", c->name, k,
                     p, hit ? "hit" : "miss",
                     c->want[k] == 'h' ? "hit" : "miss");
        if (!hit) {
            misses++;
            if (per_set[p % sets]++ < c->ways)
                filled_empty++;
        }
    }
    const mmu_tlb_stats *st = mmu_tlb_get_stats(t->ctx.tlb, MMU_TLB_DTLB);
    TU_EQ_HEX("misses", st->misses, misses);
    TU_EQ_HEX("evictions", st->evictions, misses - filled_empty);

    /* Residents hit (no eviction); then every other page misses. */
    for (const char *r = c->resident; *r; r++)
        if (!touch(t, page_of(*r)))
            fail_msg("%s: page %c should be resident", c->name, *r);
    for (const char *p = c->trace; *p; p++) {
        if (strchr(c->resident, *p) != NULL || strchr(p + 1, *p) != NULL)
            continue; /* resident, or checked at its last occurrence */
        if (touch(t, page_of(*p)))
            fail_msg("%s: page %c should have been evicted", c->name, *p);
    }
}

/* An invalidated way is refilled before any valid entry is evicted. */
static void invalidated_way_refilled_first(void **state)
{
    fx *f = *state;
    const mmu_tlb_policy *policy = f->arg;
    mmu_tlb_config cfg = geometry(*policy, 4, 4, 7);
    tu_machine *t = fx_up(f, &cfg);
    for (unsigned i = 0; i < 4; i++)
        assert_false(touch(t, i));
    mmu_x86_invlpg(&t->ctx, PAGE_VA(2));
    assert_false(touch(t, 4));
    TU_EQ_HEX("evictions",
              mmu_tlb_get_stats(t->ctx.tlb, MMU_TLB_DTLB)->evictions, 0);
    assert_true(touch(t, 0));
    assert_true(touch(t, 1));
    assert_true(touch(t, 3));
    assert_true(touch(t, 4));
}

/* ---- seeded random ------------------------------------------------------ */

/* Hit/miss pattern of a fixed 200-access trace over 6 pages. */
static void random_pattern(fx *f, uint32_t entries, uint32_t ways,
                           uint64_t seed, char out[201])
{
    mmu_tlb_config cfg = geometry(MMU_TLB_RANDOM, entries, ways, seed);
    tu_machine *t = fx_up(f, &cfg);
    uint32_t x = 12345;
    for (unsigned k = 0; k < 200; k++) {
        x = x * 1103515245u + 12345u; /* the trace, not the policy */
        out[k] = touch(t, (x >> 16) % 6) ? 'h' : 'm';
    }
    out[200] = '\0';
}

static void random_same_seed_same_sequence(void **state)
{
    fx *f = *state;
    char a[201], b[201];
    random_pattern(f, 4, 4, 0x1234, a);
    random_pattern(f, 4, 4, 0x1234, b);
    assert_string_equal(a, b);
    random_pattern(f, 4, 2, 99, a);
    random_pattern(f, 4, 2, 99, b);
    assert_string_equal(a, b);
}

static void random_seeds_may_differ(void **state)
{
    fx *f = *state;
    char first[201], other[201];
    bool differ = false;
    random_pattern(f, 4, 4, 1, first);
    for (uint64_t seed = 2; seed <= 16 && !differ; seed++) {
        random_pattern(f, 4, 4, seed, other);
        differ = strcmp(first, other) != 0;
    }
    assert_true(differ);
}

/* Random chooses only among the ways of the set, and only once the set
 * is full: odd pages (set 1) survive any amount of even-page traffic. */
static void random_victim_within_set(void **state)
{
    fx *f = *state;
    mmu_tlb_config cfg = geometry(MMU_TLB_RANDOM, 4, 2, 42);
    tu_machine *t = fx_up(f, &cfg);
    assert_false(touch(t, 1));
    assert_false(touch(t, 3));
    for (unsigned k = 0; k < 64; k++)
        (void)touch(t, 2 * (k % 5));
    assert_true(touch(t, 1));
    assert_true(touch(t, 3));
    /* 4 ways of distinct fills never evict. */
    cfg = geometry(MMU_TLB_RANDOM, 4, 4, 42);
    t = fx_up(f, &cfg);
    for (unsigned i = 0; i < 4; i++)
        assert_false(touch(t, i));
    for (unsigned i = 0; i < 4; i++)
        assert_true(touch(t, i));
}

/* ---- main --------------------------------------------------------------- */

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
    static const struct CMUnitTest fixed[] = {
        T(random_same_seed_same_sequence),
        T(random_seeds_may_differ),
        T(random_victim_within_set),
    };
    static const mmu_tlb_policy policies[] = {MMU_TLB_LRU, MMU_TLB_PLRU,
                                              MMU_TLB_FIFO, MMU_TLB_RANDOM};
    static const char *const policy_names[] = {"lru", "plru", "fifo",
                                               "random"};
    enum { NFIXED = sizeof fixed / sizeof fixed[0],
           NREPL = sizeof repl_cases / sizeof repl_cases[0],
           NPOL = sizeof policies / sizeof policies[0] };
    static char names[NPOL][64];
    static struct CMUnitTest tests[NFIXED + NREPL + NPOL];
    size_t n = 0;

    for (size_t i = 0; i < NFIXED; i++)
        tests[n++] = fixed[i];
    for (size_t i = 0; i < NREPL; i++)
        tests[n++] = (struct CMUnitTest){repl_cases[i].name,
                                         replacement_trace, fx_setup,
                                         fx_teardown,
                                         (void *)(uintptr_t)&repl_cases[i]};
    for (size_t i = 0; i < NPOL; i++) {
        snprintf(names[i], sizeof names[i], "invalidated_way_refilled_first/%s",
                 policy_names[i]);
        tests[n++] = (struct CMUnitTest){names[i],
                                         invalidated_way_refilled_first,
                                         fx_setup, fx_teardown,
                                         (void *)(uintptr_t)&policies[i]};
    }
    return _cmocka_run_group_tests("tlb_repl", tests, n, NULL, NULL);
}
