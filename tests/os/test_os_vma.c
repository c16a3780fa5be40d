/*
 * test_os_vma.c - the VMA tree against a brute-force page-array model:
 * thousands of random mmap/munmap/mprotect/fault-like operations (splits,
 * merges, VM_ACCOUNT, anon_vma compatibility, MAY-bit refusals and the
 * partial effect of a failing mprotect), every invariant after every
 * operation, lookups, free-range searches top-down and bottom-up with
 * guard gaps and alignment, and logarithmic height on 100,000 VMAs.
 */
#include "os_harness.h"

#define P UINT64_C(4096)
#define BASE UINT64_C(0x10000000)
#define NPAGES 256
#define GUARD (16 * P)

typedef struct page {
    bool mapped;
    uint32_t flags;
    int file;          /* 0: anonymous, else 1 or 2 */
    uint64_t pgoff;    /* bytes: file offset, or the address (anonymous) */
    uint64_t anon;
} page;

typedef struct model {
    os_vmas t;
    page pg[NPAGES];
    os_file *files[3];
    uint64_t next_anon;
    uint64_t rng;
} model;

static uint64_t rnd(model *m)
{
    uint64_t x = m->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return m->rng = x;
}

static uint64_t rnd_below(model *m, uint64_t n)
{
    return rnd(m) % n;
}

static uint64_t addr_of(unsigned i)
{
    return BASE + i * P;
}

static const uint32_t flag_choices[] = {
    OS_VM_READ | OS_VM_MAYALL,
    OS_VM_READ | OS_VM_WRITE | OS_VM_MAYALL | OS_VM_ACCOUNT,
    OS_VM_READ | OS_VM_EXEC | OS_VM_MAYALL,
    OS_VM_MAYALL,
    OS_VM_READ | OS_VM_MAYREAD | OS_VM_MAYEXEC, /* no MAYWRITE */
    OS_VM_READ | OS_VM_WRITE | OS_VM_SHARED | OS_VM_MAYALL | OS_VM_MAYSHARE,
    OS_VM_READ | OS_VM_WRITE | OS_VM_GROWSDOWN | OS_VM_MAYALL |
        OS_VM_ACCOUNT,
};

/* ---- the operations, on both sides ---------------------------------- */

static void op_map(model *m)
{
    unsigned s = (unsigned)rnd_below(m, NPAGES), n = 1 + (unsigned)rnd_below(m, 24);
    if (s + n > NPAGES)
        n = NPAGES - s;
    uint32_t flags = flag_choices[rnd_below(m, 7)];
    int file = (int)rnd_below(m, 3);
    if (flags & OS_VM_SHARED)
        file = 1 + (int)rnd_below(m, 2);
    if (flags & OS_VM_GROWSDOWN)
        file = 0;
    uint64_t off = rnd_below(m, 4) * 8 * P;
    assert_int_equal(os_vmas_remove(&m->t, addr_of(s), addr_of(s + n)), 0);
    os_vma_desc d = {flags, m->files[file], off};
    assert_int_equal(os_vmas_insert(&m->t, addr_of(s), addr_of(s + n), &d,
                                    true, NULL),
                     0);
    for (unsigned i = 0; i < n; i++) {
        page *p = &m->pg[s + i];
        p->mapped = true;
        p->flags = flags;
        p->file = file;
        p->pgoff = file ? off + i * P : addr_of(s + i);
        p->anon = 0;
    }
}

static void op_unmap(model *m)
{
    unsigned s = (unsigned)rnd_below(m, NPAGES), n = 1 + (unsigned)rnd_below(m, 24);
    if (s + n > NPAGES)
        n = NPAGES - s;
    assert_int_equal(os_vmas_remove(&m->t, addr_of(s), addr_of(s + n)), 0);
    for (unsigned i = 0; i < n; i++)
        m->pg[s + i].mapped = false;
}

/* mprotect_fixup()'s flags for one page of the model. */
static uint32_t model_protect(const page *p, uint32_t prot)
{
    uint32_t nf = (p->flags & ~OS_VM_ACCESS) | prot;
    if (nf & OS_VM_WRITE) {
        if (!(p->flags & (OS_VM_ACCOUNT | OS_VM_WRITE | OS_VM_SHARED)))
            nf |= OS_VM_ACCOUNT;
    } else if ((p->flags & OS_VM_ACCOUNT) && !p->file && !p->anon) {
        nf &= ~OS_VM_ACCOUNT;
    }
    return nf;
}

static void op_protect(model *m)
{
    unsigned s = (unsigned)rnd_below(m, NPAGES), n = 1 + (unsigned)rnd_below(m, 24);
    if (s + n > NPAGES)
        n = NPAGES - s;
    while (s + n < NPAGES && !m->pg[s].mapped && rnd_below(m, 4) != 0) {
        s++; /* mostly start inside a mapping: fewer trivial ENOMEMs */
    }
    uint32_t prot = (uint32_t)rnd_below(m, 8);
    uint64_t done;
    int rc = os_vmas_protect(&m->t, addr_of(s), addr_of(s + n), prot, &done);
    int want = 0;
    unsigned i;
    for (i = 0; i < n; i++) {
        page *p = &m->pg[s + i];
        if (!p->mapped) {
            want = -OS_ENOMEM;
            break;
        }
        uint32_t nf = model_protect(p, prot);
        if ((nf & ~(nf >> 4)) & OS_VM_ACCESS) {
            want = -OS_EACCES;
            break;
        }
        p->flags = nf;
    }
    if (rc != want)
        fail_msg("mprotect [%u,+%u) prot %u: got %s want %s", s, n, prot,
                 os_errno_name(rc), os_errno_name(want));
    TU_EQ_HEX("mprotect stopped at", done, addr_of(s + i));
}

static void op_anon(model *m)
{
    unsigned i = (unsigned)rnd_below(m, NPAGES);
    os_vma *v = os_vma_find(&m->t, addr_of(i));
    assert_true((v != NULL) == m->pg[i].mapped);
    if (v == NULL || v->anon_vma != 0)
        return;
    uint64_t id = ++m->next_anon;
    os_vma_set_anon(&m->t, v, id);
    for (uint64_t a = v->start; a < v->end; a += P)
        m->pg[(a - BASE) / P].anon = id;
}

/* ---- comparison ------------------------------------------------------ */

static void compare(model *m)
{
    char err[200];
    int h = os_vmas_check(&m->t, err, sizeof err);
    if (h < 0)
        fail_msg("invariant: %s", err);
    unsigned i = 0;
    for (os_vma *v = m->t.first; v != NULL; v = v->next) {
        assert_true(v->start >= BASE && v->end <= addr_of(NPAGES));
        for (; addr_of(i) < v->start; i++)
            if (m->pg[i].mapped)
                fail_msg("page %u mapped in the model only", i);
        for (; addr_of(i) < v->end; i++) {
            page *p = &m->pg[i];
            if (!p->mapped || p->flags != v->flags ||
                m->files[p->file] != v->file ||
                p->pgoff != v->pgoff + (addr_of(i) - v->start))
                fail_msg("page %u differs from vma [%llx,%llx) flags %x/%x",
                         i, (unsigned long long)v->start,
                         (unsigned long long)v->end, p->flags, v->flags);
            if (p->anon != 0 && p->anon != v->anon_vma)
                fail_msg("page %u anon_vma %llu, vma %llu", i,
                         (unsigned long long)p->anon,
                         (unsigned long long)v->anon_vma);
            p->anon = v->anon_vma; /* adopted from a merge partner */
        }
        if (v->next != NULL && os_vma_mergeable(v, v->next))
            fail_msg("vmas at %llx and %llx should have merged",
                     (unsigned long long)v->start,
                     (unsigned long long)v->next->start);
    }
    for (; i < NPAGES; i++)
        if (m->pg[i].mapped)
            fail_msg("page %u mapped in the model only", i);
}

/* Lookups and hint checks against the page array. */
static void compare_lookups(model *m)
{
    for (unsigned k = 0; k < 16; k++) {
        unsigned i = (unsigned)rnd_below(m, NPAGES);
        uint64_t a = addr_of(i) + rnd_below(m, P);
        os_vma *v = os_vma_find(&m->t, a);
        assert_true((v != NULL) == m->pg[i].mapped);
        os_vma *above = os_vma_find_above(&m->t, a);
        unsigned j = i;
        while (j < NPAGES && !m->pg[j].mapped)
            j++;
        if (j == NPAGES)
            assert_null(above);
        else
            assert_true(above != NULL && above->start <= addr_of(j) &&
                        above->end > addr_of(j));
    }
}

static void random_ops(uint64_t seed, unsigned nops)
{
    model *m = calloc(1, sizeof *m);
    assert_non_null(m);
    m->rng = seed;
    os_vmas_init(&m->t, GUARD, 100000);
    static const uint8_t data[8 * 4096 * 4];
    m->files[1] = os_file_from_buffer(data, sizeof data, "/a", false);
    m->files[2] = os_file_from_buffer(data, sizeof data, "/b", false);
    for (unsigned k = 0; k < nops; k++) {
        switch (rnd_below(m, 8)) {
        case 0:
        case 1:
        case 2:
            op_map(m);
            break;
        case 3:
        case 4:
            op_unmap(m);
            break;
        case 5:
        case 6:
            op_protect(m);
            break;
        default:
            op_anon(m);
            break;
        }
        compare(m);
        compare_lookups(m);
    }
    os_vmas_destroy(&m->t);
    os_file_put(m->files[1]);
    os_file_put(m->files[2]);
    free(m);
}

static void vma_random_ops_match_page_model(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 8; seed++)
        random_ops(seed * UINT64_C(0x9e3779b97f4a7c15), 2500);
}

/* ---- free-range searches --------------------------------------------- */

static uint64_t gap_end_of(const os_vmas *t, const os_vma *v)
{
    return v != NULL ? os_vma_start_gap(t, v) : UINT64_MAX;
}

static bool brute_gap(const os_vmas *t, uint64_t len, uint64_t align,
                      uint64_t lo, uint64_t hi, bool topdown, uint64_t *out)
{
    uint64_t need = len + align - P;
    bool found = false;
    const os_vma *prev = NULL;
    for (const os_vma *v = t->first;; v = v->next) {
        uint64_t s = prev != NULL ? prev->end : 0, e = gap_end_of(t, v);
        if (s < lo)
            s = lo;
        if (e > hi)
            e = hi;
        if (e > s && e - s >= need) {
            uint64_t a = topdown ? (e - len) & ~(align - 1)
                                 : (s + align - 1) & ~(align - 1);
            if (!topdown) {
                *out = a;
                return true;
            }
            *out = a; /* keep the highest */
            found = true;
        }
        if (v == NULL)
            break;
        prev = v;
    }
    return found;
}

static bool brute_free(const os_vmas *t, uint64_t s, uint64_t e)
{
    const os_vma *prev = NULL;
    for (const os_vma *v = t->first; v != NULL; v = v->next) {
        if (v->end > s) {
            if (e > os_vma_start_gap(t, v))
                return false;
            break;
        }
        prev = v;
    }
    return prev == NULL || prev->end <= s;
}

static void vma_gap_searches_match_brute_force(void **state)
{
    (void)state;
    model *m = calloc(1, sizeof *m);
    assert_non_null(m);
    m->rng = 12345;
    os_vmas_init(&m->t, GUARD, 100000);
    for (unsigned round = 0; round < 400; round++) {
        if (rnd_below(m, 3) == 0)
            op_unmap(m);
        else
            op_map(m);
        for (unsigned q = 0; q < 50; q++) {
            uint64_t len = (1 + rnd_below(m, 40)) * P;
            uint64_t align = P << rnd_below(m, 4);
            uint64_t lo = BASE - 8 * P + rnd_below(m, 80) * P;
            uint64_t hi = lo + rnd_below(m, NPAGES + 40) * P;
            uint64_t got = 0, want = 0;
            for (int dir = 0; dir < 2; dir++) {
                bool g = dir ? os_vmas_gap_topdown(&m->t, len, align, lo, hi,
                                                   &got)
                             : os_vmas_gap_bottomup(&m->t, len, align, lo, hi,
                                                    &got);
                bool w = brute_gap(&m->t, len, align, lo, hi, dir != 0, &want);
                if (g != w || (g && got != want))
                    fail_msg("%s len %llx align %llx [%llx,%llx): got %d "
                             "%llx want %d %llx",
                             dir ? "top-down" : "bottom-up",
                             (unsigned long long)len,
                             (unsigned long long)align,
                             (unsigned long long)lo, (unsigned long long)hi,
                             g, (unsigned long long)got, w,
                             (unsigned long long)want);
                if (g && (got % align != 0 || got < lo || got + len > hi ||
                          !brute_free(&m->t, got, got + len)))
                    fail_msg("bad range %llx", (unsigned long long)got);
            }
            uint64_t s = BASE + rnd_below(m, NPAGES) * P;
            uint64_t e = s + (1 + rnd_below(m, 20)) * P;
            assert_int_equal(os_vmas_range_free(&m->t, s, e),
                             brute_free(&m->t, s, e));
        }
    }
    os_vmas_destroy(&m->t);
    free(m);
}

static void vma_stack_guard_gap_is_kept_free(void **state)
{
    (void)state;
    os_vmas t;
    os_vmas_init(&t, GUARD, 100);
    os_vma_desc stack = {OS_VM_READ | OS_VM_WRITE | OS_VM_GROWSDOWN, NULL, 0};
    os_vma_desc plain = {OS_VM_READ, NULL, 0};
    assert_int_equal(os_vmas_insert(&t, 0x800000, 0x810000, &stack, true,
                                    NULL),
                     0);
    uint64_t a;
    assert_true(os_vmas_gap_topdown(&t, 4 * P, P, 0x10000, 0x900000, &a));
    TU_EQ_HEX("above the stack", a, 0x900000 - 4 * P);
    assert_true(os_vmas_gap_topdown(&t, 4 * P, P, 0x10000, 0x808000, &a));
    TU_EQ_HEX("below the guard gap", a, 0x800000 - GUARD - 4 * P);
    assert_false(os_vmas_range_free(&t, 0x800000 - 4 * P, 0x800000));
    assert_true(os_vmas_range_free(&t, 0x800000 - GUARD - 4 * P,
                                   0x800000 - GUARD));
    /* a mapping right below the guard gap does not merge with a stack */
    assert_int_equal(os_vmas_insert(&t, 0x700000, 0x800000, &plain, true,
                                    NULL),
                     0);
    assert_int_equal((int)t.count, 2);
    os_vmas_destroy(&t);
}

static void vma_insert_refuses_overlap_and_limits(void **state)
{
    (void)state;
    os_vmas t;
    os_vmas_init(&t, GUARD, 4);
    os_vma_desc d = {OS_VM_READ | OS_VM_MAYALL, NULL, 0};
    os_vma_desc w = {OS_VM_READ | OS_VM_WRITE | OS_VM_MAYALL, NULL, 0};
    assert_int_equal(os_vmas_insert(&t, 0x10000, 0x20000, &d, true, NULL), 0);
    assert_int_equal(os_vmas_insert(&t, 0x1f000, 0x21000, &d, true, NULL),
                     -OS_EEXIST);
    assert_int_equal(os_vmas_insert(&t, 0x10001, 0x20000, &d, true, NULL),
                     -OS_EINVAL);
    assert_int_equal(os_vmas_insert(&t, 0x30000, 0x30000, &d, true, NULL),
                     -OS_EINVAL);
    assert_int_equal(os_vmas_insert(&t, 0x30000, 0x40000, &w, true, NULL), 0);
    assert_int_equal(os_vmas_insert(&t, 0x50000, 0x60000, &d, true, NULL), 0);
    /* a range joining its neighbour adds nothing */
    assert_int_equal(os_vmas_insert(&t, 0x20000, 0x30000, &d, true, NULL), 0);
    assert_int_equal((int)t.count, 3);
    TU_EQ_HEX("merged end", t.first->end, 0x30000);
    /* Linux's checks: mmap refuses once map_count > max (so max + 1 VMAs
     * can exist), a split once map_count >= max */
    assert_int_equal(os_vmas_insert(&t, 0x70000, 0x80000, &w, true, NULL), 0);
    assert_int_equal(os_vmas_insert(&t, 0x90000, 0xa0000, &d, true, NULL), 0);
    assert_int_equal(os_vmas_insert(&t, 0xb0000, 0xc0000, &w, true, NULL),
                     -OS_ENOMEM);
    assert_int_equal(os_vmas_remove(&t, 0x12000, 0x13000), -OS_ENOMEM);
    uint64_t done;
    assert_int_equal(os_vmas_protect(&t, 0x12000, 0x13000,
                                     OS_VM_WRITE | OS_VM_READ, &done),
                     -OS_ENOMEM);
    /* removing whole VMAs or trimming needs no new node */
    assert_int_equal(os_vmas_remove(&t, 0x90000, 0xa0000), 0);
    assert_int_equal(os_vmas_remove(&t, 0x10000, 0x11000), 0);
    TU_EQ_HEX("trimmed start", t.first->start, 0x11000);
    TU_EQ_HEX("trimmed pgoff", t.first->pgoff, 0x11000);
    os_vmas_destroy(&t);
}

static void vma_height_is_logarithmic(void **state)
{
    (void)state;
    os_vmas t;
    enum { N = 100000 };
    os_vmas_init(&t, GUARD, N + 1);
    os_vma_desc d = {OS_VM_READ, NULL, 0};
    /* ascending inserts: a plain BST would degenerate into a list */
    for (uint64_t i = 0; i < N; i++)
        assert_int_equal(os_vmas_insert(&t, (2 * i + 1) * P, (2 * i + 2) * P,
                                        &d, true, NULL),
                         0);
    char err[200];
    int h = os_vmas_check(&t, err, sizeof err);
    if (h < 0)
        fail_msg("%s", err);
    /* AVL: height < 1.4405 log2(n + 2) - 0.3277 (= 23.6 for 100,000) */
    if (h > 23)
        fail_msg("height %d for %d VMAs", h, N);
    uint64_t rng = 99;
    for (unsigned k = 0; k < N / 2; k++) {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        uint64_t i = rng % N;
        assert_int_equal(os_vmas_remove(&t, (2 * i + 1) * P, (2 * i + 2) * P),
                         0);
    }
    h = os_vmas_check(&t, err, sizeof err);
    if (h < 0)
        fail_msg("%s", err);
    assert_true(h <= 23);
    os_vmas_destroy(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(vma_random_ops_match_page_model),
        cmocka_unit_test(vma_gap_searches_match_brute_force),
        cmocka_unit_test(vma_stack_guard_gap_is_kept_free),
        cmocka_unit_test(vma_insert_refuses_overlap_and_limits),
        cmocka_unit_test(vma_height_is_logarithmic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
