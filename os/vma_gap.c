/*
 * vma_gap.c - free-range searches over the VMA tree (see mmuemu/os.h,
 * section 4): Linux's unmapped_area_topdown() / unmapped_area() walk,
 * guided by each node's max_gap so whole subtrees without a large enough
 * gap are skipped (O(log n) as with the old rb_subtree_gap), and the
 * hint check of generic_get_unmapped_area_topdown().
 *
 * A gap is clipped to [lo, hi); the search asks for len + align - 4 KiB
 * so the aligned address always fits, as info->align_mask does.
 */
#include "os_internal.h"

bool os_vmas_range_free(const os_vmas *t, uint64_t start, uint64_t end)
{
    os_vma *v = os_vma_find_above(t, start);
    if (v != NULL && end > os_vma_start_gap(t, v))
        return false;
    os_vma *prev = v != NULL ? v->prev : t->last;
    return prev == NULL || start >= prev->end;
}

/* ---- free-range searches ------------------------------------------ */

typedef struct gap_query {
    const os_vmas *t;
    uint64_t need, lo, hi; /* need <= hi - lo */
    uint64_t gs, ge;       /* the gap found, clipped to [lo, hi) */
} gap_query;

static bool gap_fits(gap_query *q, const os_vma *n)
{
    uint64_t s = n->prev != NULL ? n->prev->end : 0;
    uint64_t e = os_vma_start_gap(q->t, n);
    if (s < q->lo)
        s = q->lo;
    if (e > q->hi)
        e = q->hi;
    if (e <= s || e - s < q->need)
        return false;
    q->gs = s;
    q->ge = e;
    return true;
}

/* Highest fitting gap in n's subtree: right subtree, own gap, left. The
 * right subtree's gaps start at or above n->end; the left subtree's end
 * at or below n->prev->end. */
static bool search_down(gap_query *q, const os_vma *n)
{
    if (n == NULL || n->max_gap < q->need)
        return false;
    if (n->end <= q->hi - q->need && search_down(q, n->right))
        return true;
    if (gap_fits(q, n))
        return true;
    uint64_t below = n->prev != NULL ? n->prev->end : 0;
    return below >= q->lo + q->need && search_down(q, n->left);
}

/* Lowest fitting gap in n's subtree: left subtree, own gap, right. */
static bool search_up(gap_query *q, const os_vma *n)
{
    if (n == NULL || n->max_gap < q->need)
        return false;
    uint64_t below = n->prev != NULL ? n->prev->end : 0;
    if (below >= q->lo + q->need && search_up(q, n->left))
        return true;
    if (gap_fits(q, n))
        return true;
    return n->end <= q->hi - q->need && search_up(q, n->right);
}

static bool query_init(gap_query *q, const os_vmas *t, uint64_t len,
                       uint64_t align, uint64_t lo, uint64_t hi)
{
    q->t = t;
    q->lo = lo;
    q->hi = hi;
    if (len == 0 || align < PAGE || (align & (align - 1)) != 0)
        return false;
    q->need = len + (align - PAGE);
    return q->need >= len && hi > lo && q->need <= hi - lo;
}

bool os_vmas_gap_topdown(const os_vmas *t, uint64_t len, uint64_t align,
                         uint64_t lo, uint64_t hi, uint64_t *addr)
{
    gap_query q;
    if (!query_init(&q, t, len, align, lo, hi))
        return false;
    uint64_t top = t->last != NULL ? t->last->end : 0;
    if (top <= hi - q.need) { /* the gap above every VMA */
        q.gs = top > lo ? top : lo;
        q.ge = hi;
    } else if (!search_down(&q, t->root)) {
        return false;
    }
    *addr = (q.ge - len) & ~(align - 1);
    return true;
}

bool os_vmas_gap_bottomup(const os_vmas *t, uint64_t len, uint64_t align,
                          uint64_t lo, uint64_t hi, uint64_t *addr)
{
    gap_query q;
    if (!query_init(&q, t, len, align, lo, hi))
        return false;
    if (!search_up(&q, t->root)) {
        uint64_t top = t->last != NULL ? t->last->end : 0;
        if (top > hi - q.need)
            return false;
        q.gs = top > lo ? top : lo;
        q.ge = hi;
    }
    *addr = (q.gs + align - 1) & ~(align - 1);
    return true;
}
