/*
 * vma_range.c - range operations on the VMA set as Linux's mmap, munmap
 * and mprotect do them (mm/vma.c): splits at the range edges, merges of
 * compatible neighbours afterwards (is_mergeable_vma and
 * is_mergeable_anon_vma: same flags, same file, contiguous offsets,
 * compatible anon_vma), VM_ACCOUNT as mprotect_fixup() sets and drops it,
 * vm.max_map_count.
 */
#include "os_internal.h"

#include <stdlib.h>
#include <string.h>

bool os_vma_mergeable(const os_vma *a, const os_vma *b)
{
    return a->end == b->start && a->flags == b->flags &&
           a->file == b->file &&
           a->pgoff + (a->end - a->start) == b->pgoff &&
           (a->anon_vma == 0 || b->anon_vma == 0 ||
            a->anon_vma == b->anon_vma);
}

void os_vma_set_anon(os_vmas *t, os_vma *v, uint64_t anon_vma)
{
    (void)t;
    v->anon_vma = anon_vma;
}

/* a (just below b) takes b over. */
static void absorb(os_vmas *t, os_vma *a, os_vma *b)
{
    uint64_t end = b->end;
    if (a->anon_vma == 0)
        a->anon_vma = b->anon_vma;
    vma_tree_remove(t, b);
    os_file_put(b->file);
    free(b);
    os_vma_set_end(t, a, end);
}

static os_vma *merge_around(os_vmas *t, os_vma *v)
{
    if (v->prev != NULL && os_vma_mergeable(v->prev, v)) {
        os_vma *p = v->prev;
        absorb(t, p, v);
        v = p;
    }
    if (v->next != NULL && os_vma_mergeable(v, v->next))
        absorb(t, v, v->next);
    return v;
}

/* Split v at addr; @return the new upper part, NULL without memory or
 * past max_count (v unchanged then). */
static os_vma *split_at(os_vmas *t, os_vma *v, uint64_t addr)
{
    if (t->count >= t->max_count)
        return NULL;
    os_vma *n = malloc(sizeof *n);
    if (n == NULL)
        return NULL;
    *n = *v;
    n->start = addr;
    n->pgoff = v->pgoff + (addr - v->start);
    os_file_get(n->file);
    os_vma_set_end(t, v, addr);
    vma_tree_insert(t, n);
    return n;
}

static bool range_ok(uint64_t start, uint64_t end)
{
    return start < end && page_aligned(start) && page_aligned(end);
}

int os_vmas_insert(os_vmas *t, uint64_t start, uint64_t end,
                   const os_vma_desc *d, bool merge, os_vma **out)
{
    if (!range_ok(start, end))
        return -OS_EINVAL;
    if (os_vma_intersect(t, start, end) != NULL)
        return -OS_EEXIST;
    if (t->count > t->max_count) /* do_mmap(): map_count > max */
        return -OS_ENOMEM;
    os_vma *v = calloc(1, sizeof *v);
    if (v == NULL)
        return -OS_ENOMEM;
    v->start = start;
    v->end = end;
    v->flags = d->flags;
    v->file = os_file_get(d->file);
    v->pgoff = d->file != NULL ? d->pgoff : start;
    vma_tree_insert(t, v);
    if (merge)
        v = merge_around(t, v);
    if (out != NULL)
        *out = v;
    return 0;
}

int os_vmas_remove(os_vmas *t, uint64_t start, uint64_t end)
{
    if (!range_ok(start, end))
        return -OS_EINVAL;
    os_vma *v = os_vma_find_above(t, start);
    if (v != NULL && v->start < start && v->end > end) {
        /* A hole in the middle of one VMA: the only case that adds one. */
        os_vma *upper = split_at(t, v, end);
        if (upper == NULL)
            return -OS_ENOMEM;
        os_vma_set_end(t, v, start);
        return 0;
    }
    while (v != NULL && v->start < end) {
        os_vma *next = v->next;
        if (v->start < start) {
            os_vma_set_end(t, v, start);
        } else if (v->end > end) {
            os_vma_set_start(t, v, end);
        } else {
            vma_tree_remove(t, v);
            os_file_put(v->file);
            free(v);
        }
        v = next;
    }
    return 0;
}

/* mprotect_fixup()'s new flags, VM_ACCOUNT included. */
static uint32_t protect_flags(const os_vma *v, uint32_t prot)
{
    uint32_t old = v->flags, nf = (old & ~OS_VM_ACCESS) | prot;
    if (nf & OS_VM_WRITE) {
        if (!(old & (OS_VM_ACCOUNT | OS_VM_WRITE | OS_VM_SHARED)))
            nf |= OS_VM_ACCOUNT;
    } else if ((old & OS_VM_ACCOUNT) && v->file == NULL && v->anon_vma == 0) {
        nf &= ~OS_VM_ACCOUNT;
    }
    return nf;
}

/* Give [pos, end) of v the flags nf. @return the VMA holding pos now. */
static os_vma *change_part(os_vmas *t, os_vma *v, uint64_t pos, uint64_t end,
                           uint32_t nf, int *rc)
{
    if (v->start < pos) {
        os_vma *upper = split_at(t, v, pos);
        if (upper == NULL) {
            *rc = -OS_ENOMEM;
            return v;
        }
        v = upper;
    }
    if (v->end > end && split_at(t, v, end) == NULL) {
        *rc = -OS_ENOMEM;
        return v;
    }
    v->flags = nf;
    return merge_around(t, v);
}

int os_vmas_protect(os_vmas *t, uint64_t start, uint64_t end, uint32_t prot,
                    uint64_t *done)
{
    *done = start;
    if (!range_ok(start, end) || (prot & ~OS_VM_ACCESS) != 0)
        return -OS_EINVAL;
    os_vma *v = os_vma_find_above(t, start);
    uint64_t pos = start;
    for (;;) {
        if (v == NULL || v->start > pos)
            return -OS_ENOMEM;
        uint32_t nf = protect_flags(v, prot);
        if ((nf & ~(nf >> 4)) & OS_VM_ACCESS)
            return -OS_EACCES; /* a right its MAY bits withhold */
        if (nf != v->flags) {
            int rc = 0;
            v = change_part(t, v, pos, end, nf, &rc);
            if (rc != 0)
                return rc;
        }
        pos = v->end < end ? v->end : end;
        *done = pos;
        if (pos >= end)
            return 0;
        v = v->next;
    }
}
