/*
 * fault.c - the page-fault path (see mmuemu/os.h, section 7), in Linux's
 * order:
 *   1. what the hardware said: non-#PF exceptions, reserved bits (a
 *      corrupt table: fatal), protection keys (arch/x86/mm/fault.c);
 *   2. kernel addresses from user space: SEGV_MAPERR;
 *   3. find the VMA, expanding a GROWSDOWN one below within the stack
 *      rlimit and outside the guard gap (lock_mm_and_find_vma,
 *      expand_downwards, acct_stack_growth), else SEGV_MAPERR;
 *   4. access_error() per architecture: SEGV_ACCERR;
 *   5. handle_pte_fault(): an empty PTE is do_anonymous_page (zero page
 *      on reads) or do_read_fault (with fault-around) / do_cow_fault /
 *      do_shared_fault; a write to a read-only PTE is do_wp_page (copy,
 *      or reuse an exclusive anonymous page); anything else is spurious
 *      (A/D set in software, the TLB entry for the address flushed);
 *      step 5 lives in fault_pte.c.
 * Frame exhaustion is OS_FAULT_OOM (pagefault_out_of_memory()).
 */
#include "os_internal.h"

#include "mmuemu/x86_bits.h"

#include <string.h>

_Static_assert(OS_FAULT_SPURIOUS + 1 == OS_FAULT_NKINDS,
               "OS_FAULT_NKINDS must count os_fault_kind");


void fault_give_signal(fault *f, int signo, int code, const char *why)
{
    os_fault_stats *s = &f->as->faults;
    f->out->result = OS_FAULT_SIGNAL;
    f->out->signo = signo;
    f->out->si_code = code;
    f->out->why = why;
    if (signo == OS_SIGBUS)
        s->sigbus++;
    else if (code == OS_SEGV_MAPERR)
        s->maperr++;
    else if (code == OS_SEGV_PKUERR)
        s->pkuerr++;
    else
        s->accerr++;
}

void fault_handled(fault *f, os_fault_kind kind)
{
    f->out->result = OS_FAULT_HANDLED;
    f->out->kind = kind;
    f->as->faults.handled[kind]++;
}

void fault_oom(fault *f)
{
    f->out->result = OS_FAULT_OOM;
    f->out->signo = OS_SIGKILL;
    f->out->why = "out of memory";
    f->as->faults.oom++;
}

void fault_fatal(fault *f, const char *why)
{
    f->out->result = OS_FAULT_FATAL;
    f->out->signo = OS_SIGKILL;
    f->out->why = why;
    f->as->faults.fatal++;
}

/* Step 1: exceptions that are not ordinary page faults. @return true if
 * decided. */
static bool hw_decides(fault *f, const mmu_fault *hw)
{
    switch (hw->kind) {
    case MMU_FAULT_NONE:
    case MMU_FAULT_PAGE:
        break;
    case MMU_FAULT_GP: /* non-canonical: SIGSEGV, SI_KERNEL, address 0 */
        f->out->si_addr = 0;
        fault_give_signal(f, OS_SIGSEGV, OS_SI_KERNEL, "general protection");
        return true;
    case MMU_FAULT_SS:
        f->out->si_addr = 0;
        fault_give_signal(f, OS_SIGBUS, OS_SI_KERNEL, "stack segment");
        return true;
    case MMU_FAULT_ACCESS: /* RISC-V access fault: SEGV_ACCERR */
        fault_give_signal(f, OS_SIGSEGV, OS_SEGV_ACCERR, "access fault");
        return true;
    case MMU_FAULT_BAD_PHYS:
        fault_fatal(f, "page table outside guest RAM");
        return true;
    }
    if (hw->kind == MMU_FAULT_PAGE && f->as->k->arch == MMU_ARCH_X86) {
        if (hw->code & X86_PF_RSVD) {
            fault_fatal(f, "reserved bit in a page table (pgtable_bad)");
            return true;
        }
        if (hw->code & X86_PF_PK) {
            fault_give_signal(f, OS_SIGSEGV, OS_SEGV_PKUERR, "protection key");
            return true;
        }
    }
    return false;
}

/* Step 3: expand_downwards(). */
static bool expand_stack(fault *f, os_vma *v, uint64_t addr)
{
    const os_layout *l = &f->as->k->layout;
    addr = page_down(addr);
    if (addr < l->mmap_min_addr)
        return false;
    const os_vma *prev = v->prev;
    if (prev != NULL && !(prev->flags & OS_VM_GROWSDOWN) &&
        (prev->flags & OS_VM_ACCESS) && addr - prev->end < l->stack_guard_gap)
        return false;
    if (v->end - addr > (l->stack_rlimit & PAGE_MASK))
        return false;
    f->as->faults.stack_pages += (v->start - addr) / PAGE;
    os_vma_set_start(&f->as->vmas, v, addr);
    return true;
}

/* Step 4: access_error() of arch/x86/mm/fault.c and arch/riscv/mm/fault.c.
 * present: the hardware's P bit (x86) or what the PTE says. */
static bool access_error(const fault *f, bool present)
{
    uint32_t vf = f->v->flags;
    if (f->as->k->arch == MMU_ARCH_X86) {
        if (f->write)
            return !(vf & OS_VM_WRITE);
        if (present)
            return true; /* read or fetch, protection violation */
        return !(vf & OS_VM_ACCESS);
    }
    switch (f->rq->access) {
    case MMU_FETCH:
        return !(vf & OS_VM_EXEC);
    case MMU_READ:
        return !(vf & (OS_VM_READ | OS_VM_WRITE));
    case MMU_WRITE:
        return !(vf & OS_VM_WRITE);
    }
    return true;
}

/* x86's P bit: from the hardware's error code, else "the PTE is present
 * and refuses the access". */
static bool hw_present(const fault *f, const os_pte *p)
{
    const mmu_fault *hw = f->rq->hw;
    if (hw != NULL && hw->kind == MMU_FAULT_PAGE &&
        f->as->k->arch == MMU_ARCH_X86)
        return (hw->code & X86_PF_P) != 0;
    return p->present && !os_pte_allows(p, f->rq->access);
}

static void fault_decide(os_aspace *as, const os_fault_req *rq,
                         os_fault_outcome *out);

void os_fault_handle(os_aspace *as, const os_fault_req *rq,
                     os_fault_outcome *out)
{
    fault_decide(as, rq, out);
    if (as->fault_hook != NULL)
        as->fault_hook(as->fault_hook_arg, rq, out);
}

static void fault_decide(os_aspace *as, const os_fault_req *rq,
                         os_fault_outcome *out)
{
    memset(out, 0, sizeof *out);
    out->si_addr = rq->addr;
    fault f = {as, NULL, rq, out, page_down(rq->addr),
               rq->access == MMU_WRITE};
    if (rq->hw != NULL && hw_decides(&f, rq->hw))
        return;
    if (rq->addr >= as->k->layout.task_size) {
        fault_give_signal(&f, OS_SIGSEGV, OS_SEGV_MAPERR, "kernel address");
        return;
    }
    os_vma *v = os_vma_find_above(&as->vmas, rq->addr);
    bool grew = false;
    if (v == NULL || (v->start > rq->addr && !(v->flags & OS_VM_GROWSDOWN))) {
        fault_give_signal(&f, OS_SIGSEGV, OS_SEGV_MAPERR, "no mapping");
        return;
    }
    f.v = v;
    if (v->start > rq->addr) {
        if (!expand_stack(&f, v, rq->addr)) {
            fault_give_signal(&f, OS_SIGSEGV, OS_SEGV_MAPERR,
                        "stack limit or guard gap");
            return;
        }
        grew = true;
    }
    os_pte p;
    os_pte_decode(as_arch(as), as_get_pte(as, f.va), &p);
    if (access_error(&f, hw_present(&f, &p))) {
        fault_give_signal(&f, OS_SIGSEGV, OS_SEGV_ACCERR, "VMA protection");
        return;
    }
    fault_handle_pte(&f, grew);
}

const char *os_fault_kind_name(os_fault_kind k)
{
    switch (k) {
    case OS_FAULT_DEMAND_ZERO:
        return "demand_zero";
    case OS_FAULT_ZERO_PAGE:
        return "zero_page";
    case OS_FAULT_FILE:
        return "file";
    case OS_FAULT_COW:
        return "cow";
    case OS_FAULT_WP_REUSE:
        return "wp_reuse";
    case OS_FAULT_STACK:
        return "stack";
    case OS_FAULT_SPURIOUS:
        return "spurious";
    }
    return "?";
}

const char *os_fault_result_name(os_fault_result r)
{
    switch (r) {
    case OS_FAULT_HANDLED:
        return "handled";
    case OS_FAULT_SIGNAL:
        return "signal";
    case OS_FAULT_OOM:
        return "oom";
    case OS_FAULT_FATAL:
        return "fatal";
    }
    return "?";
}
