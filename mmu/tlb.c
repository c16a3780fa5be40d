/*
 * tlb.c - the TLB structures: lookup, fill, replacement, invalidation
 * primitives and statistics (see mmuemu/tlb.h). The architectural
 * meaning of each invalidation lives in tlb_ops.c; the hit/miss flow in
 * translate.c.
 */
#include "mmuemu/tlb.h"
#include "tlb_internal.h"

#include <stdlib.h>
#include <string.h>

static const uint8_t class_shift[] = {12, 16, 21, 30, 39, 48};

unsigned tlb_size_class(unsigned shift)
{
    switch (shift) {
    case 12:
        return MMU_TLB_4K;
    case 16:
        return MMU_TLB_64K;
    case 21:
    case 22:
        return MMU_TLB_2M;
    case 30:
        return MMU_TLB_1G;
    case 39:
        return MMU_TLB_512G;
    case 48:
        return MMU_TLB_256T;
    default:
        return 0;
    }
}

static bool pow2(uint32_t v)
{
    return v != 0 && (v & (v - 1)) == 0;
}

static bool array_init(tlb_array *a, const mmu_tlb_array_cfg *c,
                       mmu_tlb_policy policy)
{
    a->cfg = *c;
    if (c->entries == 0)
        return true;
    if (c->ways == 0 || c->entries % c->ways != 0 || c->sizes == 0)
        return false;
    /* Tree-PLRU keeps ways-1 bits per set in a uint64_t. */
    if (policy == MMU_TLB_PLRU && (!pow2(c->ways) || c->ways > 64))
        return false;
    a->sets = c->entries / c->ways;
    a->set_mask = pow2(a->sets) ? a->sets - 1 : 0;
    for (unsigned sh = 12; sh < 64; sh++)
        if (c->sizes & tlb_size_class(sh))
            a->shifts |= UINT64_C(1) << sh;
    a->e = calloc(c->entries, sizeof *a->e);
    a->plru = calloc(a->sets, sizeof *a->plru);
    return a->e != NULL && a->plru != NULL;
}

/* Page shifts a mode can produce, smallest first. */
static unsigned mode_shifts(mmu_paging_mode mode, const uint8_t **out)
{
    static const uint8_t s32[] = {12, 22}, pae[] = {12, 21},
                         x64[] = {12, 21, 30},
                         sv[] = {12, 16, 21, 30, 39, 48};
    switch (mode) {
    case MMU_MODE_X86_32:
    case MMU_MODE_SV32:
        return *out = s32, 2;
    case MMU_MODE_X86_PAE:
        return *out = pae, 2;
    case MMU_MODE_X86_4LEVEL:
    case MMU_MODE_X86_5LEVEL:
        return *out = x64, 3;
    case MMU_MODE_SV39:
        return *out = sv, 4;
    case MMU_MODE_SV48:
        return *out = sv, 5;
    case MMU_MODE_SV57:
        return *out = sv, 6;
    case MMU_MODE_NONE:
    case MMU_MODE_COUNT:
        break;
    }
    return *out = sv, 0;
}

/* The lookup order of a structure in a mode: every array, and in each
 * the sizes of the mode it holds, smallest first. */
static void probes_init(tlb_struct *s)
{
    for (unsigned mode = 0; mode < MMU_MODE_COUNT; mode++) {
        const uint8_t *shifts;
        unsigned ns = mode_shifts((mmu_paging_mode)mode, &shifts), n = 0;
        for (unsigned i = 0; i < MMU_TLB_MAX_ARRAYS; i++) {
            const tlb_array *a = &s->arr[i];
            for (unsigned k = 0; k < ns && a->cfg.entries; k++)
                if ((a->shifts >> shifts[k]) & 1)
                    s->probes[mode][n++] = (tlb_probe){
                        .e = a->e, .plru = a->plru, .ways = a->cfg.ways,
                        .sets = a->sets, .set_mask = a->set_mask,
                        .shift = shifts[k], .pow2 = pow2(a->sets)};
        }
        s->nprobes[mode] = (uint8_t)n;
    }
}

static bool struct_init(tlb_struct *s, const mmu_tlb_array_cfg *c,
                        mmu_tlb_policy policy)
{
    for (unsigned i = 0; i < MMU_TLB_MAX_ARRAYS; i++)
        if (!array_init(&s->arr[i], &c[i], policy))
            return false;
    return true;
}

static uint32_t struct_sizes(const tlb_struct *s)
{
    uint32_t sizes = 0;
    for (unsigned i = 0; i < MMU_TLB_MAX_ARRAYS; i++)
        if (s->arr[i].cfg.entries)
            sizes |= s->arr[i].cfg.sizes;
    return sizes;
}

struct mmu_tlb *mmu_tlb_new(const mmu_tlb_config *cfg)
{
    struct mmu_tlb *t = calloc(1, sizeof *t);
    if (t == NULL)
        return NULL;
    t->cfg = *cfg;
    t->rng = cfg->seed ? cfg->seed : UINT64_C(0x9e3779b97f4a7c15);
    bool ok = struct_init(&t->s[MMU_TLB_ITLB], cfg->itlb, cfg->policy) &&
              struct_init(&t->s[MMU_TLB_DTLB], cfg->dtlb, cfg->policy) &&
              struct_init(&t->s[MMU_TLB_STLB], cfg->stlb, cfg->policy);
    /* Each first-level structure must hold 4 KiB pages (everything can
     * be splintered down to 4 KiB). */
    ok = ok && (struct_sizes(&t->s[MMU_TLB_ITLB]) & MMU_TLB_4K) &&
         (struct_sizes(&t->s[MMU_TLB_DTLB]) & MMU_TLB_4K);
    for (unsigned s = 0; ok && s < 3; s++)
        probes_init(&t->s[s]);
    if (ok && cfg->pwc_entries) {
        t->pwc = calloc((size_t)cfg->pwc_entries * TLB_PWC_LEVELS,
                        sizeof *t->pwc);
        ok = t->pwc != NULL;
    }
    if (!ok) {
        mmu_tlb_free(t);
        return NULL;
    }
    return t;
}

void mmu_tlb_free(struct mmu_tlb *t)
{
    if (t == NULL)
        return;
    for (unsigned s = 0; s < 3; s++)
        for (unsigned i = 0; i < MMU_TLB_MAX_ARRAYS; i++) {
            free(t->s[s].arr[i].e);
            free(t->s[s].arr[i].plru);
        }
    free(t->pwc);
    free(t);
}

const mmu_tlb_config *mmu_tlb_get_config(const struct mmu_tlb *t)
{
    return &t->cfg;
}

const mmu_tlb_stats *mmu_tlb_get_stats(const struct mmu_tlb *t,
                                       unsigned which)
{
    if (which == MMU_TLB_PWC)
        return &t->pwc_stats;
    return which < 3 ? &t->s[which].stats : NULL;
}

void mmu_tlb_reset_stats(struct mmu_tlb *t)
{
    for (unsigned s = 0; s < 3; s++)
        memset(&t->s[s].stats, 0, sizeof t->s[s].stats);
    memset(&t->pwc_stats, 0, sizeof t->pwc_stats);
}

/* ---- replacement ----------------------------------------------------- */

/* Tree PLRU: node n has children 2n+1, 2n+2; bit n = 1 means "the victim
 * is in the right half". Touching a way points every node on its path
 * away from it. */
void tlb_plru_touch(uint64_t *bitsp, unsigned ways, unsigned way)
{
    unsigned node = 0, lo = 0, hi = ways;
    while (hi - lo > 1) {
        unsigned mid = (lo + hi) / 2;
        if (way < mid) {
            *bitsp |= UINT64_C(1) << node; /* victim: right */
            node = 2 * node + 1;
            hi = mid;
        } else {
            *bitsp &= ~(UINT64_C(1) << node);
            node = 2 * node + 2;
            lo = mid;
        }
    }
}

static unsigned plru_victim(uint64_t bitsv, unsigned ways)
{
    unsigned node = 0, lo = 0, hi = ways;
    while (hi - lo > 1) {
        unsigned mid = (lo + hi) / 2;
        if (bitsv & (UINT64_C(1) << node)) {
            node = 2 * node + 2;
            lo = mid;
        } else {
            node = 2 * node + 1;
            hi = mid;
        }
    }
    return lo;
}

static uint64_t xorshift(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

static unsigned victim(struct mmu_tlb *t, tlb_array *a, uint32_t set)
{
    tlb_entry *row = &a->e[set * a->cfg.ways];
    unsigned ways = a->cfg.ways, best = 0;
    for (unsigned w = 0; w < ways; w++)
        if (!row[w].valid)
            return w;
    switch (t->cfg.policy) {
    case MMU_TLB_LRU:
    case MMU_TLB_FIFO:
        for (unsigned w = 1; w < ways; w++)
            if (row[w].stamp < row[best].stamp)
                best = w;
        return best;
    case MMU_TLB_PLRU:
        return plru_victim(a->plru[set], ways);
    case MMU_TLB_RANDOM:
        return (unsigned)(xorshift(&t->rng) % ways);
    }
    return 0;
}

/* ---- lookup and fill ------------------------------------------------- */

bool tlb_struct_present(const struct mmu_tlb *t, unsigned which)
{
    return struct_sizes(&t->s[which]) != 0;
}

/* The array and entry shift for caching a page of `shift` bits: the array
 * holding that size, else fragments of the largest smaller held size. */
static tlb_array *pick_array(tlb_struct *s, unsigned shift, unsigned *eshift)
{
    for (int k = (int)(sizeof class_shift) - 1; k >= 0; k--) {
        unsigned cs = class_shift[k];
        unsigned want = cs == 21 && shift == 22 ? 22 : cs; /* 4M in 2M class */
        if (want > shift)
            continue;
        for (unsigned i = 0; i < MMU_TLB_MAX_ARRAYS; i++) {
            tlb_array *a = &s->arr[i];
            if (a->cfg.entries && (a->cfg.sizes & tlb_size_class(want))) {
                *eshift = want;
                return a;
            }
        }
    }
    return NULL;
}

void tlb_fill(struct mmu_tlb *t, unsigned which, const tlb_entry *proto,
              uint64_t va)
{
    tlb_struct *s = &t->s[which];
    unsigned eshift = 12;
    tlb_array *a = pick_array(s, proto->shift, &eshift);
    if (a == NULL)
        return;
    uint32_t set = tlb_set_of(a, va >> eshift);
    unsigned w = victim(t, a, set);
    tlb_entry *e = &a->e[set * a->cfg.ways + w];
    if (e->valid)
        s->stats.evictions++;
    *e = *proto;
    e->valid = true;
    e->shift = (uint8_t)eshift;
    e->vpn = va >> eshift;
    e->key = tlb_key(e->vpn, eshift);
    e->off_mask = (UINT64_C(1) << eshift) - 1;
    e->pa = proto->pa + (((va >> eshift) << eshift) -
                         ((va >> proto->shift) << proto->shift));
    e->stamp = ++t->clock;
    s->stats.fills++;
    tlb_touch(t, e, &a->plru[set], a->cfg.ways, w);
}

/* ---- invalidation primitives ----------------------------------------- */

typedef bool (*entry_pred)(const tlb_entry *e, const void *arg);

/* Invalidate the entries pred accepts. `counted`: a software invalidation
 * (statistics), else the hardware dropping entries itself. */
static void invalidate_if(struct mmu_tlb *t, entry_pred pred,
                          const void *arg, bool counted)
{
    for (unsigned si = 0; si < 3; si++) {
        tlb_struct *s = &t->s[si];
        if (!tlb_struct_present(t, si))
            continue;
        if (counted)
            s->stats.flushes++;
        for (unsigned i = 0; i < MMU_TLB_MAX_ARRAYS; i++) {
            tlb_array *a = &s->arr[i];
            for (uint32_t k = 0; k < a->cfg.entries; k++) {
                tlb_entry *e = &a->e[k];
                if (e->valid && pred(e, arg)) {
                    e->valid = false;
                    e->key = 0;
                    if (counted)
                        s->stats.invalidated++;
                }
            }
        }
    }
}

typedef struct va_arg {
    uint64_t va;
    uint32_t tag;
    bool globals;
} va_arg;

static bool pred_all(const tlb_entry *e, const void *arg)
{
    (void)e, (void)arg;
    return true;
}

static bool pred_tag(const tlb_entry *e, const void *arg)
{
    uint32_t tag = *(const uint32_t *)arg;
    return !e->global && (tag == MMU_TLB_ANY_TAG || e->tag == tag);
}

bool tlb_entry_covers(const tlb_entry *e, uint64_t va)
{
    /* Every fragment of a splintered page belongs to the translation of
     * the whole page: compare at the page's size, not the fragment's. */
    return (e->vpn << e->shift) >> e->page_shift == va >> e->page_shift;
}

static bool pred_va(const tlb_entry *e, const void *arg)
{
    const va_arg *v = arg;
    if (!tlb_entry_covers(e, v->va))
        return false;
    if (e->global)
        return v->globals;
    return v->tag == MMU_TLB_ANY_TAG || e->tag == v->tag;
}

void mmu_tlb_flush_all(struct mmu_tlb *t)
{
    invalidate_if(t, pred_all, NULL, true);
    tlb_pwc_flush(t, MMU_TLB_ANY_TAG);
}

void mmu_tlb_flush_tag(struct mmu_tlb *t, uint32_t tag)
{
    invalidate_if(t, pred_tag, &tag, true);
    tlb_pwc_flush(t, tag);
}

void mmu_tlb_flush_va(struct mmu_tlb *t, uint64_t va, uint32_t tag,
                      bool globals, bool pwc_all)
{
    va_arg v = {va, tag, globals};
    invalidate_if(t, pred_va, &v, true);
    if (pwc_all)
        tlb_pwc_flush(t, tag);
}

static bool pred_translates(const tlb_entry *e, const void *arg)
{
    const va_arg *v = arg;
    return tlb_entry_covers(e, v->va) && (e->global || e->tag == v->tag);
}

void tlb_drop_va(struct mmu_tlb *t, uint64_t va, uint32_t tag)
{
    va_arg v = {va, tag, true};
    invalidate_if(t, pred_translates, &v, false);
}

/* ---- paging-structure caches ----------------------------------------- */

tlb_pwc_entry *tlb_pwc_slot(struct mmu_tlb *t, unsigned level, unsigned i)
{
    return &t->pwc[(level - 1) * t->cfg.pwc_entries + i];
}

bool tlb_pwc_lookup(struct mmu_tlb *t, uint64_t va, uint32_t tag,
                    const mmu_mode_info *mi, unsigned *level,
                    tlb_pwc_entry *out)
{
    if (t->pwc == NULL)
        return false;
    t->pwc_stats.lookups++;
    /* The deepest cached level skips the most of the walk. */
    for (unsigned l = 1; l < mi->levels && l <= TLB_PWC_LEVELS; l++) {
        uint64_t prefix = va >> mmu_mode_shift(mi, l);
        for (unsigned i = 0; i < t->cfg.pwc_entries; i++) {
            tlb_pwc_entry *p = tlb_pwc_slot(t, l, i);
            if (p->valid && p->prefix == prefix && p->tag == tag) {
                p->stamp = ++t->clock;
                *out = *p;
                *level = l;
                t->pwc_stats.hits++;
                return true;
            }
        }
    }
    t->pwc_stats.misses++;
    return false;
}

void tlb_pwc_fill(struct mmu_tlb *t, unsigned level, const tlb_pwc_entry *p)
{
    if (t->pwc == NULL || level < 1 || level > TLB_PWC_LEVELS)
        return;
    unsigned best = 0;
    for (unsigned i = 0; i < t->cfg.pwc_entries; i++) {
        tlb_pwc_entry *q = tlb_pwc_slot(t, level, i);
        if (q->valid && q->prefix == p->prefix && q->tag == p->tag) {
            best = i;
            break;
        }
        if (!q->valid) {
            best = i;
            break;
        }
        if (q->stamp < tlb_pwc_slot(t, level, best)->stamp)
            best = i;
    }
    tlb_pwc_entry *q = tlb_pwc_slot(t, level, best);
    if (q->valid && !(q->prefix == p->prefix && q->tag == p->tag))
        t->pwc_stats.evictions++;
    *q = *p;
    q->valid = true;
    q->stamp = ++t->clock;
    t->pwc_stats.fills++;
}

void tlb_pwc_drop_va(struct mmu_tlb *t, uint64_t va, uint32_t tag,
                     const mmu_mode_info *mi)
{
    if (t->pwc == NULL)
        return;
    for (unsigned l = 1; l < mi->levels && l <= TLB_PWC_LEVELS; l++) {
        uint64_t prefix = va >> mmu_mode_shift(mi, l);
        for (unsigned i = 0; i < t->cfg.pwc_entries; i++) {
            tlb_pwc_entry *q = tlb_pwc_slot(t, l, i);
            if (q->valid && q->prefix == prefix && q->tag == tag)
                q->valid = false;
        }
    }
}

void tlb_pwc_flush(struct mmu_tlb *t, uint32_t tag)
{
    if (t->pwc == NULL)
        return;
    t->pwc_stats.flushes++;
    for (unsigned l = 1; l <= TLB_PWC_LEVELS; l++)
        for (unsigned i = 0; i < t->cfg.pwc_entries; i++) {
            tlb_pwc_entry *q = tlb_pwc_slot(t, l, i);
            if (q->valid && (tag == MMU_TLB_ANY_TAG || q->tag == tag)) {
                q->valid = false;
                t->pwc_stats.invalidated++;
            }
        }
}
