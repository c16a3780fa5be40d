/*
 * proc_mm.c - a process's address space as Linux's struct mm_struct is
 * held: by pointer, with one reference per process using it (a vfork
 * child shares its parent's until it execs or exits; execve replaces it).
 *
 * The space's PTE hook reports to the process whose system call or page
 * fault runs on it (the owner, set on entry): its model TLB ctx is kept
 * coherent (os_tlb_sync), its call collects OS_SYSRET_TLB_FLUSH, and its
 * config's pte_hook runs. A process letting go of the space stops being
 * the owner; the ctx and hook it left keep serving until the next one.
 */
#include "proc_internal.h"

#include <stdlib.h>

static void mm_pte_hook(void *arg, uint64_t va, uint64_t len,
                        os_pte_change what)
{
    proc_mm *mm = arg;
    if (mm->ctx != NULL && mm->ctx->tlb != NULL)
        os_tlb_sync(mm->ctx, mm->as.tag, va, len, what);
    if (mm->owner != NULL && (what == OS_PTE_CHANGED || what == OS_PTE_REMOVED))
        mm->owner->pending |= OS_SYSRET_TLB_FLUSH;
    if (mm->hook != NULL)
        mm->hook(mm->hook_arg, va, len, what);
}

int proc_mm_new(os_kernel *k, proc_mm **out)
{
    *out = NULL;
    proc_mm *mm = calloc(1, sizeof *mm);
    if (mm == NULL)
        return -OS_ENOMEM;
    int rc = os_aspace_init(&mm->as, k);
    if (rc != 0) {
        free(mm);
        return rc;
    }
    mm->users = 1;
    *out = mm;
    return 0;
}

/* A fault taken by the kernel side of the owner's system call. */
static void mm_fault_hook(void *arg, const os_fault_req *rq,
                          const os_fault_outcome *out)
{
    proc_mm *mm = arg;
    os_proc *p = mm->owner;
    if (rq->user || p == NULL || p->cfg.kfault_trace == NULL)
        return;
    p->cfg.kfault_trace(p->cfg.kfault_trace_arg, p, p->cur_nr, rq, out);
}

void proc_mm_hook_on(proc_mm *mm)
{
    os_aspace_set_hook(&mm->as, mm_pte_hook, mm);
    mm->as.fault_hook = mm_fault_hook;
    mm->as.fault_hook_arg = mm;
}

proc_mm *proc_mm_get(proc_mm *mm)
{
    mm->users++;
    return mm;
}

void proc_mm_put(proc_mm *mm, const os_proc *p)
{
    if (mm == NULL)
        return;
    if (mm->owner == p)
        mm->owner = NULL;
    if (--mm->users > 0)
        return;
    os_aspace_destroy(&mm->as);
    free(mm);
}

void proc_mm_own(os_proc *p)
{
    proc_mm *mm = p->mm;
    if (mm == NULL)
        return;
    mm->owner = p;
    mm->ctx = p->u.ctx;
    mm->hook = p->cfg.pte_hook;
    mm->hook_arg = p->cfg.pte_hook_arg;
}
