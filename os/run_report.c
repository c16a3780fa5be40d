/*
 * run_report.c - what the hosted runner tells the user: the report of a
 * process killed by a signal (address, access, the fault handler's
 * reason, the model's walk with each entry decoded, the faulting
 * instruction from Capstone), one trace line per page fault, the
 * statistics at exit, and the report of an emulator failure.
 */
#include "run_internal.h"

#include "mmuemu/riscv_bits.h"
#include "mmuemu/tlb.h"
#include "mmuemu/x86_bits.h"

#include <string.h>

static const char *sig_name(int signo)
{
    static const char *const names[] = {
        NULL,      "SIGHUP",  "SIGINT",    "SIGQUIT", "SIGILL",    "SIGTRAP",
        "SIGABRT", "SIGBUS",  "SIGFPE",    "SIGKILL", "SIGUSR1",   "SIGSEGV",
        "SIGUSR2", "SIGPIPE", "SIGALRM",   "SIGTERM", "SIGSTKFLT", "SIGCHLD",
        "SIGCONT", "SIGSTOP", "SIGTSTP",   "SIGTTIN", "SIGTTOU",   "SIGURG",
        "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH",  "SIGIO",
        "SIGPWR",  "SIGSYS"};
    if (signo > 0 && (size_t)signo < sizeof names / sizeof names[0])
        return names[signo];
    return "a real-time signal";
}

static const char *code_name(int signo, int code)
{
    if (code == OS_SI_KERNEL)
        return "SI_KERNEL";
    if (signo == OS_SIGSEGV)
        return code == OS_SEGV_MAPERR   ? "SEGV_MAPERR"
               : code == OS_SEGV_ACCERR ? "SEGV_ACCERR"
               : code == OS_SEGV_PKUERR ? "SEGV_PKUERR"
                                        : "?";
    if (signo == OS_SIGBUS)
        return code == RUN_BUS_ADRALN ? "BUS_ADRALN" : "BUS_ADRERR";
    if (signo == RUN_SIGILL)
        return code == RUN_ILL_ILLOPC ? "ILL_ILLOPC" : "ILL_ILLOPN";
    if (signo == RUN_SIGFPE)
        return code == RUN_FPE_INTDIV ? "FPE_INTDIV" : "FPE_FLTINV";
    if (signo == RUN_SIGTRAP)
        return "TRAP_BRKPT";
    return "-";
}

static const char *access_word(mmu_access a)
{
    return a == MMU_WRITE ? "write" : a == MMU_FETCH ? "fetch" : "read";
}

/* PTE flags by name, present ones upper case. */
static void pte_flags(bool x86, uint64_t pte, char *s, size_t n)
{
    static const struct {
        uint64_t bit;
        const char *name;
    } fx[] = {{X86_PTE_P, "P"}, {X86_PTE_RW, "RW"}, {X86_PTE_US, "US"},
              {X86_PTE_A, "A"}, {X86_PTE_D, "D"},   {X86_PTE_PS, "PS"},
              {X86_PTE_G, "G"}, {X86_PTE_NX, "NX"}},
      fr[] = {{RV_PTE_V, "V"}, {RV_PTE_R, "R"}, {RV_PTE_W, "W"},
              {RV_PTE_X, "X"}, {RV_PTE_U, "U"}, {RV_PTE_G, "G"},
              {RV_PTE_A, "A"}, {RV_PTE_D, "D"}};
    size_t used = 0;
    s[0] = '\0';
    for (unsigned i = 0; i < 8 && used < n; i++) {
        uint64_t bit = x86 ? fx[i].bit : fr[i].bit;
        if (!(pte & bit))
            continue;
        int w = snprintf(s + used, n - used, "%s%s", used ? " " : "",
                         x86 ? fx[i].name : fr[i].name);
        used += w > 0 ? (size_t)w : 0;
    }
    if (s[0] == '\0')
        snprintf(s, n, "none");
}

static void walk(run_machine *m, const mmu_fault *f)
{
    FILE *o = m->diag;
    if (f->walk.n == 0) {
        fprintf(o, "  walk: none (stopped before the first level)\n");
        return;
    }
    fprintf(o, "  walk (stopped at level %d):\n", f->level);
    for (unsigned i = 0; i < f->walk.n; i++) {
        const mmu_walk_step *s = &f->walk.step[i];
        char fl[64];
        pte_flags(m->x86, s->pte, fl, sizeof fl);
        fprintf(o, "    level %u: entry at pa 0x%llx = 0x%016llx [%s]\n",
                s->level, (unsigned long long)s->addr,
                (unsigned long long)s->pte, fl);
    }
}

void run_report_death(run_machine *m)
{
    const run_signal *s = &m->sig;
    const mmu_glue_event *ev = &s->ev;
    FILE *o = m->diag;
    if (s->signo == RUN_SIGPIPE)
        return; /* as shells do: a pipeline's reader went away */
    fprintf(o, "mmuemu: process killed by %s (signal %d, exit status %d)",
            sig_name(s->signo), s->signo, 128 + s->signo);
    if (s->from_call && s->sender && s->pid != os_proc_pid(m->p)) {
        fprintf(o, ": sent by process %d\n", s->pid);
        return;
    }
    if (s->from_call) {
        fprintf(o,
                ": raised by the process itself (kill, tkill or tgkill; "
                "the system call at pc 0x%llx)\n",
                (unsigned long long)s->ev.pc);
        return;
    }
    if (s->ev.pc == 0 && !s->from_fault) {
        fputc('\n', o);
        return;
    }
    if (s->signo == OS_SIGKILL)
        fprintf(o, ": %s\n", s->fault.why ? s->fault.why : "killed");
    else
        fprintf(o, ": %s, si_addr 0x%llx\n", code_name(s->signo, s->code),
                (unsigned long long)s->addr);
    if (s->from_fault) {
        fprintf(o, "  fault: %s of 0x%llx%s from %s mode at pc 0x%llx: %s\n",
                access_word(ev->access), (unsigned long long)ev->fault.addr,
                ev->addr_exact ? "" : " (page only)",
                ev->priv == (m->x86 ? 3 : 0) ? "user" : "kernel",
                (unsigned long long)ev->pc,
                s->fault.why ? s->fault.why : "(no reason)");
        fprintf(o, "  model: %s, reason %s, %s 0x%x\n",
                mmu_fault_kind_name(ev->fault.kind),
                mmu_fault_reason_name(ev->fault.reason),
                m->x86 ? "error code" : "cause", ev->fault.code);
        walk(m, &ev->fault);
    } else {
        fprintf(o, "  exception: %s %u (code 0x%x) at pc 0x%llx\n",
                m->x86 ? "vector" : "cause",
                m->x86 ? ev->fault.vector : ev->fault.code, ev->fault.code,
                (unsigned long long)ev->pc);
    }
    char insn[160];
    mmu_glue_user_disasm(m->g, ev->pc, insn, sizeof insn);
    fprintf(o, "  instruction: %s\n", insn);
}

/* One line per fault: pid, address, access, where (the user pc, or the
 * system call whose kernel side touched user memory), the verdict. */
static void trace_line(run_machine *m, int pid, uint64_t addr,
                       mmu_access access, const char *where,
                       const os_fault_outcome *out)
{
    fprintf(m->diag, "mmuemu: page fault pid=%d 0x%016llx %-5s %s: ", pid,
            (unsigned long long)addr, access_word(access), where);
    if (out->result == OS_FAULT_HANDLED)
        fprintf(m->diag, "%s\n", os_fault_kind_name(out->kind));
    else
        fprintf(m->diag, "%s (%s)\n", os_fault_result_name(out->result),
                out->why ? out->why : "-");
}

void run_trace_fault(run_machine *m, const mmu_glue_event *ev,
                     const os_fault_outcome *out)
{
    char where[40];
    snprintf(where, sizeof where, "pc 0x%llx", (unsigned long long)ev->pc);
    trace_line(m, os_proc_pid(m->p), ev->fault.addr, ev->access, where, out);
}

void run_trace_kfault(void *arg, const os_proc *p, uint64_t nr,
                      const os_fault_req *rq, const os_fault_outcome *out)
{
    run_machine *m = arg;
    const char *name = os_syscall_name(m->abi, nr);
    char where[64];
    if (nr == OS_NR_LOADER)
        snprintf(where, sizeof where, "in the ELF loader");
    else if (name != NULL)
        snprintf(where, sizeof where, "in %s()", name);
    else
        snprintf(where, sizeof where, "in system call %llu",
                 (unsigned long long)nr);
    trace_line(m, os_proc_pid(p), rq->addr, rq->access, where, out);
}

static void tlb_stats(run_machine *m, const mmu_ctx *ctx)
{
    static const char *const names[] = {"itlb", "dtlb", "stlb", "pwc"};
    if (ctx->tlb == NULL)
        return;
    for (unsigned i = 0; i < MMU_TLB_NSTRUCT; i++) {
        const mmu_tlb_stats *s = mmu_tlb_get_stats(ctx->tlb, i);
        fprintf(m->diag,
                ",\"%s\":{\"lookups\":%llu,\"hits\":%llu,\"misses\":%llu,"
                "\"evictions\":%llu,\"flushes\":%llu,\"invalidated\":%llu}",
                names[i], (unsigned long long)s->lookups,
                (unsigned long long)s->hits, (unsigned long long)s->misses,
                (unsigned long long)s->evictions,
                (unsigned long long)s->flushes,
                (unsigned long long)s->invalidated);
    }
}

void run_print_stats(run_machine *m)
{
    FILE *o = m->diag;
    const os_fault_stats *f = &os_proc_aspace(m->p)->faults;
    const mmu_glue_stats *gs = mmu_glue_get_stats(m->g);
    const mmu_ctx *ctx = mmu_glue_mmu(m->g);
    const os_proc_stats *ps = os_proc_get_stats(m->p);
    uint64_t handled = 0;
    for (unsigned i = 0; i < OS_FAULT_NKINDS; i++)
        handled += f->handled[i];
    fprintf(o,
            "{\"stats\":{\"exit_status\":%d,\"page_faults\":{\"handled\":%llu",
            m->status, (unsigned long long)handled);
    for (unsigned i = 0; i < OS_FAULT_NKINDS; i++)
        fprintf(o, ",\"%s\":%llu", os_fault_kind_name((os_fault_kind)i),
                (unsigned long long)f->handled[i]);
    fprintf(o,
            ",\"maperr\":%llu,\"accerr\":%llu,\"pkuerr\":%llu,\"sigbus\":%llu,"
            "\"oom\":%llu,\"fatal\":%llu,\"stack_pages\":%llu,"
            "\"around_pages\":%llu}",
            (unsigned long long)f->maperr, (unsigned long long)f->accerr,
            (unsigned long long)f->pkuerr, (unsigned long long)f->sigbus,
            (unsigned long long)f->oom, (unsigned long long)f->fatal,
            (unsigned long long)f->stack_pages,
            (unsigned long long)f->around_pages);
    fprintf(o,
            ",\"syscalls\":%llu,\"signals\":%llu,\"sigreturns\":%llu,"
            "\"fills\":%llu,\"fill_faults\":%llu,\"retried\":%llu,"
            "\"unicorn_flushes\":%llu,\"cpu_exceptions\":%llu,"
            "\"inval_hooks\":%llu,\"inval_events\":%llu,"
            "\"walks\":%llu,\"walk_reads\":%llu,"
            "\"ad_writes\":%llu,\"frames_peak\":%llu",
            (unsigned long long)ps->syscalls,
            (unsigned long long)m->signals_delivered,
            (unsigned long long)m->sigreturns, (unsigned long long)gs->fills,
            (unsigned long long)gs->fill_faults,
            (unsigned long long)gs->retried,
            (unsigned long long)gs->unicorn_flushes,
            (unsigned long long)gs->cpu_exceptions,
            (unsigned long long)gs->inval_hooks,
            (unsigned long long)gs->inval_events,
            (unsigned long long)ctx->stats.walks,
            (unsigned long long)ctx->stats.walk_reads,
            (unsigned long long)ctx->stats.ad_writes,
            (unsigned long long)m->frames.st.peak);
    fprintf(o,
            ",\"processes\":%llu,\"switches\":%llu,\"preemptions\":%llu,"
            "\"eintr\":%llu,\"tag_flushes\":%llu,\"idle_waits\":%llu,"
            "\"slice_insns\":%llu",
            (unsigned long long)m->k.forks + 1,
            (unsigned long long)m->switches,
            (unsigned long long)m->preemptions, (unsigned long long)m->eintr,
            (unsigned long long)m->tag_flushes,
            (unsigned long long)m->idle_waits,
            (unsigned long long)mmu_glue_slice_counted(m->g));
    tlb_stats(m, ctx);
    fputs("}}\n", o);
}

static const char *stop_name(mmu_glue_stop s)
{
    switch (s) {
    case MMU_GLUE_STOP_EXIT:
        return "stopped without a reason";
    case MMU_GLUE_STOP_HANDLER:
        return "handler stop without a reason";
    case MMU_GLUE_STOP_TRIPLE:
        return "nested fault";
    case MMU_GLUE_STOP_LIMIT:
        return "instruction limit";
    case MMU_GLUE_STOP_SLICE:
        return "time slice over";
    case MMU_GLUE_STOP_ERROR:
        return "emulation error";
    }
    return "?";
}

void run_report_emulator(run_machine *m, const mmu_glue_result *res)
{
    FILE *o = m->diag;
    fprintf(o, "mmuemu: the emulator stopped: %s", stop_name(res->stop));
    if (res->stop == MMU_GLUE_STOP_ERROR)
        fprintf(o, " (%s)", uc_strerror(res->err));
    fputc('\n', o);
    mmu_user_regs r;
    mmu_glue_user_get_regs(m->g, &r);
    char insn[160];
    mmu_glue_user_disasm(m->g, r.pc, insn, sizeof insn);
    fprintf(o, "  pc 0x%llx: %s\n", (unsigned long long)r.pc, insn);
    if (res->have_last)
        fprintf(o,
                "  last exception: %s, vector %u, code 0x%x, address "
                "0x%llx at pc 0x%llx\n",
                mmu_fault_kind_name(res->last.fault.kind),
                res->last.fault.vector, res->last.fault.code,
                (unsigned long long)res->last.fault.addr,
                (unsigned long long)res->last.pc);
}
