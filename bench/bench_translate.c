/*
 * bench_translate.c - translations per second through mmu_translate(), on
 * a TLB hit and on a full page walk, for every x86 and RISC-V paging mode.
 *
 * Each mode gets its own guest (4 MiB of RAM at PA 0) with 256 pages of
 * 4 KiB mapped through the page-table builder; the tables are a few KiB
 * and stay in the host's L1/L2. Measured, per mode:
 *   hit   ctx.tlb = the "generic" preset; 8 pages that stay resident in
 *         the L1 DTLB; every timed access must report tlb_hit (counted
 *         per access, and the DTLB statistics must agree; abort
 *         otherwise).
 *   walk  ctx.tlb = NULL, so every access walks; cycling over the 256
 *         pages. A/D bits were set by the warm-up, so a walk writes
 *         nothing (checked: ad_writes must not move, abort otherwise).
 * The reference, measured in the same run with the same loop: a call
 * through the same function type to a TinyEMU-style direct-mapped TLB
 * (one compare, one add) - the floor for a translate call of this shape.
 * Every result is consumed (summed PAs compared with the expected sum).
 *
 * Output: a markdown table of the median over the runs (min and max too),
 * ns per translation, millions of translations per second and the ratio
 * to the reference. Not measured: faults, writes (D updates), large
 * pages, the STLB and paging-structure caches.
 */
#define _POSIX_C_SOURCE 200809L

#include "mmuemu/builder.h"
#include "mmuemu/riscv_bits.h"
#include "mmuemu/tlb.h"
#include "mmuemu/translate.h"
#include "mmuemu/x86_bits.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RAM_SIZE  UINT64_C(0x400000)   /* 4 MiB guest RAM at PA 0 */
#define DATA_PA   UINT64_C(0x100000)   /* mapped pages: 1 MiB from here */
#define TABLES_PA UINT64_C(0x200000)   /* page tables: the top 2 MiB */
#define VA_BASE   UINT64_C(0x40000000) /* canonical in every mode */
#define PAGE      UINT64_C(0x1000)
#define NPAGES    256u            /* walk: cycle over all of them */
#define NHIT      8u              /* hit: stay resident in the DTLB */
#define VA_OFFSET UINT64_C(0x2a8) /* byte offset inside each page */
#define MAX_RUNS  101u

typedef bool (*xlate_fn)(mmu_ctx *m, const mmu_req *req, mmu_result *res,
                         mmu_fault *flt);

typedef struct bench_mode {
    mmu_paging_mode mode;
    const char *label;
} bench_mode;

static const bench_mode modes[] = {
    {MMU_MODE_X86_32, "x86 32-bit"},
    {MMU_MODE_X86_PAE, "x86 PAE"},
    {MMU_MODE_X86_4LEVEL, "x86 4-level"},
    {MMU_MODE_X86_5LEVEL, "x86 5-level"},
    {MMU_MODE_SV32, "Sv32"},
    {MMU_MODE_SV39, "Sv39"},
    {MMU_MODE_SV48, "Sv48"},
    {MMU_MODE_SV57, "Sv57"},
};
#define NMODES (sizeof modes / sizeof modes[0])

enum { KIND_HIT, KIND_WALK, NKINDS };

typedef struct machine {
    mmu_phys mem;
    mmu_bump_alloc alloc;
    mmu_pt pt;
    mmu_ctx ctx;
    struct mmu_tlb *tlb;
    uint8_t priv;        /* x86 CPL 0; RISC-V S-mode */
    uint64_t va[NPAGES]; /* the addresses translated */
    uint64_t pa[NPAGES]; /* what they must translate to */
} machine;

/* One timed loop's outcome. */
typedef struct sample {
    double ns;    /* per translation */
    double reads; /* paging-structure reads per translation */
} sample;

static void die(const char *what, const char *mode)
{
    fprintf(stderr, "bench_translate: %s: %s\n", mode, what);
    exit(1);
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* ---- the reference: a TinyEMU-style direct-mapped TLB ---------------- */

typedef struct ref_entry {
    uint64_t vpn;
    uint64_t addend; /* pa - va */
} ref_entry;

static ref_entry ref_tlb[NPAGES];

static bool ref_translate(mmu_ctx *m, const mmu_req *req, mmu_result *res,
                          mmu_fault *flt)
{
    const ref_entry *e = &ref_tlb[(req->va >> 12) % NPAGES];
    (void)m;
    if (e->vpn != req->va >> 12) {
        flt->kind = MMU_FAULT_PAGE;
        return false;
    }
    res->pa = req->va + e->addend;
    res->tlb_hit = true;
    return true;
}

static void ref_fill(const machine *b)
{
    for (unsigned i = 0; i < NPAGES; i++) {
        ref_entry *e = &ref_tlb[(b->va[i] >> 12) % NPAGES];
        e->vpn = b->va[i] >> 12;
        e->addend = b->pa[i] - b->va[i];
    }
}

/* ---- guests ---------------------------------------------------------- */

static void state_init(machine *b, mmu_paging_mode mode)
{
    mmu_ctx *c = &b->ctx;
    if (mmu_mode_get(mode)->arch == MMU_ARCH_RISCV) {
        mmu_state_init_rv(&c->st, mode == MMU_MODE_SV32 ? 32 : 64);
        c->st.rv.satp = mmu_pt_root_reg(&b->pt);
        /* Svadu: the first access sets A in memory, as x86 does. */
        c->st.rv.ext = MMU_RV_EXT_SVADU;
        c->st.rv.menvcfg = RV_MENVCFG_ADUE;
        b->priv = RV_PRIV_S;
        return;
    }
    mmu_x86_state *x = &c->st.x86;
    mmu_state_init_x86(&c->st);
    x->cr0 = X86_CR0_PE | X86_CR0_PG | X86_CR0_WP;
    x->cr3 = mmu_pt_root_reg(&b->pt);
    x->cr4 = mode == MMU_MODE_X86_32 ? X86_CR4_PSE : X86_CR4_PAE;
    if (mode == MMU_MODE_X86_PAE)
        x->efer = X86_EFER_NXE;
    if (mode == MMU_MODE_X86_4LEVEL || mode == MMU_MODE_X86_5LEVEL)
        x->efer = X86_EFER_LME | X86_EFER_LMA | X86_EFER_NXE;
    if (mode == MMU_MODE_X86_5LEVEL)
        x->cr4 |= X86_CR4_LA57;
    b->priv = 0;
}

/* Map NPAGES pages of 4 KiB, A and D clear (the warm-up sets A). */
static void machine_init(machine *b, const bench_mode *bm)
{
    bool x86 = mmu_mode_get(bm->mode)->arch == MMU_ARCH_X86;
    uint64_t leaf =
        x86 ? X86_PTE_P | X86_PTE_RW : RV_PTE_V | RV_PTE_R | RV_PTE_W;
    uint64_t table = x86 ? X86_PTE_P | X86_PTE_RW : RV_PTE_V;
    mmu_fault f;

    memset(b, 0, sizeof *b);
    b->mem.ram = calloc(1, (size_t)RAM_SIZE);
    if (b->mem.ram == NULL)
        die("out of memory", bm->label);
    b->mem.size = RAM_SIZE;
    b->alloc = (mmu_bump_alloc){&b->mem, TABLES_PA, RAM_SIZE};
    if (mmu_pt_init(&b->pt, &b->mem, bm->mode, mmu_bump_alloc_frame,
                    &b->alloc) != MMU_PT_OK ||
        mmu_pt_map(&b->pt, VA_BASE, DATA_PA, NPAGES * PAGE, PAGE, leaf,
                   table) != MMU_PT_OK)
        die("building the page table failed", bm->label);
    b->ctx.mem = &b->mem;
    state_init(b, bm->mode);
    if (bm->mode == MMU_MODE_X86_PAE &&
        !mmu_x86_load_pdptes(&b->ctx, b->ctx.st.x86.cr3, &f))
        die("loading the PAE PDPTEs failed", bm->label);
    b->tlb = mmu_tlb_new(mmu_tlb_preset("generic"));
    if (b->tlb == NULL)
        die("mmu_tlb_new(generic) failed", bm->label);
    for (unsigned i = 0; i < NPAGES; i++) {
        b->va[i] = VA_BASE + i * PAGE + VA_OFFSET;
        b->pa[i] = DATA_PA + i * PAGE + VA_OFFSET;
    }
}

static void machine_free(machine *b)
{
    mmu_tlb_free(b->tlb);
    free(b->mem.ram);
}

/* ---- timed loops ----------------------------------------------------- */

/* What the loop demands of res.tlb_hit. */
typedef enum expect { EXPECT_ANY, EXPECT_HIT, EXPECT_WALK } expect;

/*
 * Translate va[i % n] for i < iters with fn; every translation must
 * succeed with the expected PA, and hit or walk as `want` says.
 * @return ns per translation.
 */
static double run_loop(machine *b, xlate_fn fn, unsigned n, uint64_t iters,
                       expect want, const char *label)
{
    mmu_req req = {.va = 0, .access = MMU_READ, .priv = b->priv, .flags = 0};
    mmu_result res;
    mmu_fault flt;
    uint64_t sum = 0, want_sum = 0, failed = 0, hits = 0;
    unsigned mask = n - 1u; /* n is a power of two */

    memset(&res, 0, sizeof res);
    double t0 = now_ns();
    for (uint64_t i = 0; i < iters; i++) {
        req.va = b->va[i & mask];
        failed += !fn(&b->ctx, &req, &res, &flt);
        sum += res.pa;
        hits += res.tlb_hit;
    }
    double t1 = now_ns();
    for (unsigned i = 0; i < n; i++)
        want_sum += b->pa[i];
    want_sum *= iters / n;
    if (failed != 0)
        die("a translation faulted", label);
    if (sum != want_sum)
        die("wrong physical addresses", label);
    if (want == EXPECT_HIT && hits != iters)
        die("a timed access missed the TLB", label);
    if (want == EXPECT_WALK && hits != 0)
        die("a timed access was served by a TLB", label);
    return (t1 - t0) / (double)iters;
}

static sample measure_ref(machine *b, uint64_t iters)
{
    /* Through a volatile pointer, so the reference is a real call too. */
    xlate_fn volatile fn = ref_translate;
    sample s = {0, 0};
    run_loop(b, fn, NHIT, NPAGES, EXPECT_HIT, "reference");
    s.ns = run_loop(b, fn, NHIT, iters, EXPECT_HIT, "reference");
    return s;
}

static sample measure_hit(machine *b, uint64_t iters, const char *label)
{
    mmu_ctx *c = &b->ctx;
    sample s = {0, 0};
    c->tlb = b->tlb;
    run_loop(b, mmu_translate, NHIT, NPAGES, EXPECT_ANY, label); /* warm */
    mmu_tlb_reset_stats(b->tlb);
    mmu_walk_stats before = c->stats;
    s.ns = run_loop(b, mmu_translate, NHIT, iters, EXPECT_HIT, label);
    const mmu_tlb_stats *d = mmu_tlb_get_stats(b->tlb, MMU_TLB_DTLB);
    if (d->hits != iters || d->misses != 0 || c->stats.walks != before.walks)
        die("DTLB statistics show misses during the hit loop", label);
    s.reads = (double)(c->stats.walk_reads - before.walk_reads) / (double)iters;
    return s;
}

static sample measure_walk(machine *b, uint64_t iters, const char *label)
{
    mmu_ctx *c = &b->ctx;
    sample s = {0, 0};
    c->tlb = NULL;
    run_loop(b, mmu_translate, NPAGES, NPAGES, EXPECT_WALK, label); /* A */
    mmu_walk_stats before = c->stats;
    s.ns = run_loop(b, mmu_translate, NPAGES, iters, EXPECT_WALK, label);
    if (c->stats.ad_writes != before.ad_writes)
        die("a timed walk wrote A/D bits", label);
    if (c->stats.walks - before.walks != iters)
        die("not every timed access walked", label);
    s.reads = (double)(c->stats.walk_reads - before.walk_reads) / (double)iters;
    return s;
}

/* Walk every page once: the builder left A clear, so this pass must set
 * A in every leaf; afterwards walks are pure reads. */
static void machine_prime(machine *b, const bench_mode *bm)
{
    bool x86 = mmu_mode_get(bm->mode)->arch == MMU_ARCH_X86;
    uint64_t a_bit = x86 ? X86_PTE_A : RV_PTE_A, pte;
    uint64_t writes = b->ctx.stats.ad_writes;

    measure_walk(b, NPAGES, bm->label);
    if (b->ctx.stats.ad_writes == writes)
        die("the first walks set no A bit", bm->label);
    for (unsigned i = 0; i < NPAGES; i++)
        if (mmu_pt_get_entry(&b->pt, b->va[i], 0, &pte) != MMU_PT_OK ||
            !(pte & a_bit))
            die("a leaf has A clear after the first walk", bm->label);
}

/* ---- statistics and report ------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct summary {
    double med, min, max, reads;
} summary;

static summary summarize(const sample *s, unsigned runs)
{
    double v[MAX_RUNS] = {0};
    summary r;
    for (unsigned i = 0; i < runs; i++)
        v[i] = s[i].ns;
    qsort(v, runs, sizeof v[0], cmp_double);
    r.med = runs % 2 ? v[runs / 2] : (v[runs / 2 - 1] + v[runs / 2]) / 2;
    r.min = v[0];
    r.max = v[runs - 1];
    r.reads = s[0].reads;
    return r;
}

static void print_row(const char *mode, const char *kind, summary s, double ref)
{
    printf("| %-11s | %-6s | %9.2f | %8.1f | %7.2f | %7.2f | %9.1f | %5.1fx "
           "|\n",
           mode, kind, s.med, 1e3 / s.med, s.min, s.max, s.reads, s.med / ref);
}

/* ---- options --------------------------------------------------------- */

static const char *const kind_names[NKINDS] = {"hit", "walk"};

typedef struct options {
    unsigned runs;
    uint64_t iters;
    const char *only;  /* mode name (paging_mode.h) or NULL */
    bool kind[NKINDS]; /* which kinds to measure */
} options;

static void usage(int status)
{
    fprintf(status ? stderr : stdout,
            "usage: bench_translate [--runs N] [--iters N] [--quick] "
            "[--mode NAME] [--kind hit|walk]\n"
            "  --runs N   timed repetitions per cell (default 7, max %u)\n"
            "  --iters N  translations per repetition (default 2000000)\n"
            "  --quick    --runs 3 --iters 200000\n"
            "  --mode M   one mode only: 32-bit pae 4-level 5-level sv32 "
            "sv39 sv48 sv57\n"
            "  --kind K   one kind only: hit or walk (for profiling)\n",
            MAX_RUNS);
    exit(status);
}

static uint64_t parse_u64(const char *s)
{
    char *end;
    if (s == NULL || *s < '0' || *s > '9')
        usage(2);
    unsigned long long v = strtoull(s, &end, 10);
    if (*end != '\0' || v == 0)
        usage(2);
    return (uint64_t)v;
}

/* The value of option argv[*i], consumed. */
static const char *value(int argc, char **argv, int *i)
{
    if (*i + 1 >= argc)
        usage(2);
    return argv[++*i];
}

static options parse_args(int argc, char **argv)
{
    options o = {7, 2000000, NULL, {true, true}};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--runs") == 0) {
            o.runs = (unsigned)parse_u64(value(argc, argv, &i));
        } else if (strcmp(a, "--iters") == 0) {
            o.iters = parse_u64(value(argc, argv, &i));
        } else if (strcmp(a, "--quick") == 0) {
            o.runs = 3;
            o.iters = 200000;
        } else if (strcmp(a, "--mode") == 0) {
            o.only = value(argc, argv, &i);
            if (mmu_mode_by_name(o.only) == MMU_MODE_COUNT)
                usage(2);
        } else if (strcmp(a, "--kind") == 0) {
            const char *k = value(argc, argv, &i);
            for (unsigned j = 0; j < NKINDS; j++)
                o.kind[j] = strcmp(k, kind_names[j]) == 0;
            if (!o.kind[KIND_HIT] && !o.kind[KIND_WALK])
                usage(2);
        } else {
            usage(strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0 ? 0 : 2);
        }
    }
    if (o.runs > MAX_RUNS)
        usage(2);
    o.iters = (o.iters + NPAGES - 1) / NPAGES * NPAGES; /* whole cycles */
    return o;
}

static bool selected(const options *o, unsigned m)
{
    return o->only == NULL || mmu_mode_by_name(o->only) == modes[m].mode;
}

/* ---- driver ---------------------------------------------------------- */

static sample results[NMODES][NKINDS][MAX_RUNS];
static sample ref_results[MAX_RUNS];

static const char *verdict(bool ok) { return ok ? "met" : "MISSED"; }

static void report(const options *o)
{
    summary r = summarize(ref_results, o->runs);
    double worst_hit = -1, walk4 = -1;
    const char *worst = "";

    printf("| mode        | kind   | median ns | M xlat/s | min ns  | max ns  "
           "| PTE reads | / ref  |\n"
           "|-------------|--------|----------:|---------:|--------:|--------:"
           "|----------:|-------:|\n");
    print_row("reference", "dm-TLB", r, r.med);
    for (unsigned m = 0; m < NMODES; m++)
        for (unsigned k = 0; k < NKINDS && selected(o, m); k++) {
            if (!o->kind[k])
                continue;
            summary s = summarize(results[m][k], o->runs);
            print_row(modes[m].label, kind_names[k], s, r.med);
            if (k == KIND_HIT && s.med > worst_hit)
                worst_hit = s.med, worst = modes[m].label;
            if (k == KIND_WALK && modes[m].mode == MMU_MODE_X86_4LEVEL)
                walk4 = s.med;
        }
    putchar('\n');
    if (worst_hit >= 0)
        printf("Target TLB hit < 10 ns: slowest median %.2f ns (%s): %s\n",
               worst_hit, worst, verdict(worst_hit < 10));
    if (walk4 >= 0)
        printf("Target x86 4-level walk < 50 ns: median %.2f ns: %s\n", walk4,
               verdict(walk4 < 50));
}

/* One repetition of every selected cell, the reference first. */
static void run_once(const options *o, machine *mach, unsigned r)
{
    ref_results[r] = measure_ref(&mach[0], o->iters);
    for (unsigned m = 0; m < NMODES; m++) {
        if (!selected(o, m))
            continue;
        if (o->kind[KIND_HIT])
            results[m][KIND_HIT][r] =
                measure_hit(&mach[m], o->iters, modes[m].label);
        if (o->kind[KIND_WALK])
            results[m][KIND_WALK][r] =
                measure_walk(&mach[m], o->iters, modes[m].label);
    }
}

int main(int argc, char **argv)
{
    static machine mach[NMODES];
    options o = parse_args(argc, argv);

    for (unsigned m = 0; m < NMODES; m++) {
        machine_init(&mach[m], &modes[m]);
        machine_prime(&mach[m], &modes[m]);
    }
    ref_fill(&mach[0]);
    printf("mmu_translate, 4 KiB pages, reads at CPL0 / S-mode: %llu "
           "translations x %u runs per cell, median shown; hit: %u pages "
           "in the \"generic\" TLB; walk: no TLB, %u pages, tables in "
           "cache; ref: a call to a direct-mapped TLB lookup\n"
           "Checked: PAs (summed), every timed hit served by the DTLB, "
           "every timed walk a full walk that writes no A/D bit\n\n",
           (unsigned long long)o.iters, o.runs, NHIT, NPAGES);
    /* Runs outermost, so that drift on a noisy machine hits every cell. */
    for (unsigned r = 0; r < o.runs; r++)
        run_once(&o, mach, r);
    report(&o);
    for (unsigned m = 0; m < NMODES; m++)
        machine_free(&mach[m]);
    return 0;
}
