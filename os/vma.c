/*
 * vma.c - the VMA tree: an AVL tree keyed by start with parent links,
 * threaded by an address-ordered list, each node augmented with the
 * largest free gap in its subtree (see mmuemu/os.h, section 4).
 *
 * The gap "of" a VMA is the free space just below it: from the previous
 * VMA's end (0 for the first) to vm_start_gap(). A node's max_gap is the
 * largest of its own gap and its children's max_gap; a change of a VMA's
 * bounds changes its own gap and its successor's, so both paths to the
 * root are refreshed. Rotations refresh the two nodes they move.
 */
#include "os_internal.h"

#include <stdio.h>
#include <stdlib.h>

static int height(const os_vma *n)
{
    return n != NULL ? n->height : 0;
}

uint64_t os_vma_start_gap(const os_vmas *t, const os_vma *v)
{
    if (!(v->flags & OS_VM_GROWSDOWN))
        return v->start;
    return v->start > t->guard_gap ? v->start - t->guard_gap : 0;
}

uint64_t vma_own_gap(const os_vmas *t, const os_vma *v)
{
    uint64_t lo = v->prev != NULL ? v->prev->end : 0;
    uint64_t hi = os_vma_start_gap(t, v);
    return hi > lo ? hi - lo : 0;
}

static void pull(const os_vmas *t, os_vma *n)
{
    int hl = height(n->left), hr = height(n->right);
    n->height = 1 + (hl > hr ? hl : hr);
    uint64_t g = vma_own_gap(t, n);
    if (n->left != NULL && n->left->max_gap > g)
        g = n->left->max_gap;
    if (n->right != NULL && n->right->max_gap > g)
        g = n->right->max_gap;
    n->max_gap = g;
}

static void replace_child(os_vmas *t, os_vma *parent, os_vma *old,
                          os_vma *new_child)
{
    if (parent == NULL)
        t->root = new_child;
    else if (parent->left == old)
        parent->left = new_child;
    else
        parent->right = new_child;
    if (new_child != NULL)
        new_child->parent = parent;
}

static os_vma *rotate_left(os_vmas *t, os_vma *x)
{
    os_vma *y = x->right;
    x->right = y->left;
    if (y->left != NULL)
        y->left->parent = x;
    replace_child(t, x->parent, x, y);
    y->left = x;
    x->parent = y;
    pull(t, x);
    pull(t, y);
    return y;
}

static os_vma *rotate_right(os_vmas *t, os_vma *x)
{
    os_vma *y = x->left;
    x->left = y->right;
    if (y->right != NULL)
        y->right->parent = x;
    replace_child(t, x->parent, x, y);
    y->right = x;
    x->parent = y;
    pull(t, x);
    pull(t, y);
    return y;
}

/* Refresh and rebalance every node from n up to the root. */
static void rebalance_up(os_vmas *t, os_vma *n)
{
    while (n != NULL) {
        pull(t, n);
        int b = height(n->left) - height(n->right);
        if (b > 1) {
            if (height(n->left->left) < height(n->left->right))
                rotate_left(t, n->left);
            n = rotate_right(t, n);
        } else if (b < -1) {
            if (height(n->right->right) < height(n->right->left))
                rotate_right(t, n->right);
            n = rotate_left(t, n);
        }
        n = n->parent;
    }
}

static void refresh_up(const os_vmas *t, os_vma *n)
{
    for (; n != NULL; n = n->parent)
        pull(t, n);
}

/* v's bounds changed in place (order unchanged): its gap and the next
 * VMA's gap may differ now. */
static void bounds_changed(os_vmas *t, os_vma *v)
{
    refresh_up(t, v);
    if (v->next != NULL)
        refresh_up(t, v->next);
}

void os_vmas_init(os_vmas *t, uint64_t guard_gap, size_t max_count)
{
    t->root = t->first = t->last = NULL;
    t->count = 0;
    t->pages = 0;
    t->guard_gap = guard_gap;
    t->max_count = max_count;
}

void os_vmas_destroy(os_vmas *t)
{
    os_vma *v = t->first;
    while (v != NULL) {
        os_vma *next = v->next;
        os_file_put(v->file);
        free(v);
        v = next;
    }
    os_vmas_init(t, t->guard_gap, t->max_count);
}

void vma_tree_insert(os_vmas *t, os_vma *v)
{
    os_vma *p = NULL, **link = &t->root, *pred = NULL, *succ = NULL;
    while (*link != NULL) {
        p = *link;
        if (v->start < p->start) {
            succ = p;
            link = &p->left;
        } else {
            pred = p;
            link = &p->right;
        }
    }
    v->parent = p;
    v->left = v->right = NULL;
    v->height = 1;
    *link = v;
    v->prev = pred;
    v->next = succ;
    if (pred != NULL)
        pred->next = v;
    else
        t->first = v;
    if (succ != NULL)
        succ->prev = v;
    else
        t->last = v;
    t->count++;
    t->pages += (v->end - v->start) / PAGE;
    rebalance_up(t, v);
    if (succ != NULL)
        refresh_up(t, succ);
}

void vma_tree_remove(os_vmas *t, os_vma *v)
{
    os_vma *succ = v->next, *from;
    if (v->prev != NULL)
        v->prev->next = v->next;
    else
        t->first = v->next;
    if (v->next != NULL)
        v->next->prev = v->prev;
    else
        t->last = v->prev;
    if (v->left != NULL && v->right != NULL) {
        os_vma *s = succ; /* the leftmost node of v's right subtree */
        if (s->parent == v) {
            from = s;
        } else {
            from = s->parent;
            from->left = s->right;
            if (s->right != NULL)
                s->right->parent = from;
            s->right = v->right;
            s->right->parent = s;
        }
        s->left = v->left;
        s->left->parent = s;
        replace_child(t, v->parent, v, s);
    } else {
        os_vma *c = v->left != NULL ? v->left : v->right;
        replace_child(t, v->parent, v, c);
        from = v->parent;
    }
    t->count--;
    t->pages -= (v->end - v->start) / PAGE;
    rebalance_up(t, from);
    if (succ != NULL)
        refresh_up(t, succ);
    v->left = v->right = v->parent = v->prev = v->next = NULL;
}

void os_vma_set_start(os_vmas *t, os_vma *v, uint64_t new_start)
{
    t->pages = t->pages - (v->end - v->start) / PAGE +
               (v->end - new_start) / PAGE;
    if (new_start < v->start)
        v->pgoff -= v->start - new_start;
    else
        v->pgoff += new_start - v->start;
    v->start = new_start;
    bounds_changed(t, v);
}

void os_vma_set_end(os_vmas *t, os_vma *v, uint64_t new_end)
{
    t->pages = t->pages - (v->end - v->start) / PAGE +
               (new_end - v->start) / PAGE;
    v->end = new_end;
    bounds_changed(t, v);
}

os_vma *os_vma_find_above(const os_vmas *t, uint64_t addr)
{
    os_vma *n = t->root, *best = NULL;
    while (n != NULL) {
        if (n->end > addr) {
            best = n;
            if (n->start <= addr)
                return n;
            n = n->left;
        } else {
            n = n->right;
        }
    }
    return best;
}

os_vma *os_vma_find(const os_vmas *t, uint64_t addr)
{
    os_vma *v = os_vma_find_above(t, addr);
    return v != NULL && v->start <= addr ? v : NULL;
}

os_vma *os_vma_intersect(const os_vmas *t, uint64_t start, uint64_t end)
{
    os_vma *v = os_vma_find_above(t, start);
    return v != NULL && v->start < end ? v : NULL;
}

/* ---- invariants --------------------------------------------------- */

typedef struct check_state {
    const os_vmas *t;
    char *err;
    size_t errlen;
    const os_vma *prev;   /* in-order predecessor visited last */
    size_t count;
    uint64_t pages;
} check_state;

static int bad(check_state *c, const os_vma *v, const char *what)
{
    snprintf(c->err, c->errlen, "vma [%llx,%llx): %s",
             v ? (unsigned long long)v->start : 0ULL,
             v ? (unsigned long long)v->end : 0ULL, what);
    return -1;
}

static int check_node(check_state *c, const os_vma *n, const os_vma *parent)
{
    if (n == NULL)
        return 0;
    if (n->parent != parent)
        return bad(c, n, "parent link");
    int hl = check_node(c, n->left, n);
    if (hl < 0)
        return -1;
    if (n->start >= n->end || !page_aligned(n->start) || !page_aligned(n->end))
        return bad(c, n, "empty or unaligned");
    if (n->prev != c->prev || (c->prev != NULL && c->prev->next != n))
        return bad(c, n, "list threading");
    if (c->prev != NULL && c->prev->end > n->start)
        return bad(c, n, "overlap or order");
    c->prev = n;
    c->count++;
    c->pages += (n->end - n->start) / PAGE;
    int hr = check_node(c, n->right, n);
    if (hr < 0)
        return -1;
    if (hl - hr > 1 || hr - hl > 1)
        return bad(c, n, "AVL balance");
    if (n->height != 1 + (hl > hr ? hl : hr))
        return bad(c, n, "height");
    uint64_t g = vma_own_gap(c->t, n);
    if (n->left != NULL && n->left->max_gap > g)
        g = n->left->max_gap;
    if (n->right != NULL && n->right->max_gap > g)
        g = n->right->max_gap;
    if (n->max_gap != g)
        return bad(c, n, "gap augmentation");
    return n->height;
}

int os_vmas_check(const os_vmas *t, char *err, size_t errlen)
{
    check_state c = {t, err, errlen, NULL, 0, 0};
    int h = check_node(&c, t->root, NULL);
    if (h < 0)
        return -1;
    if (c.prev != t->last || (t->first != NULL && t->first->prev != NULL) ||
        (t->root == NULL) != (t->first == NULL))
        return bad(&c, NULL, "list ends");
    if (c.count != t->count || c.pages != t->pages)
        return bad(&c, NULL, "counters");
    return h;
}
