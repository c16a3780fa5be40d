/*
 * run_linux.c - the hosted Linux runner (see mmuemu/hosted.h): the
 * machine (glue, frames, kernel half, process), the run loop, and the
 * routing of what stops the vCPU: system calls to os_syscall, page faults
 * to os_proc_handle_fault, everything else to a signal.
 *
 * The run loop: mmu_glue_run until it stops; a handled page fault never
 * leaves it (the handler answers RETRY). A RISC-V ECALL stops it (the
 * handler answers STOP and the call runs here; the guest resumes after
 * the ECALL); an x86 SYSCALL runs inside its hook and stops the vCPU only
 * when the guest cannot simply go on (exit, rt_sigreturn, a PTE that lost
 * rights, a new FS base). Signals are delivered or kill (run_signal.c).
 */
#define _DEFAULT_SOURCE /* realpath */
#include "run_internal.h"

#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_RAM   (UINT64_C(1) << 30)
#define RV_RAM_BASE   UINT64_C(0x80000000)
#define X86_RAM_BASE  UINT64_C(0)
#define ELF_EM_X86_64 62
#define ELF_EM_RISCV  243

/* ---- the ELF's architecture ------------------------------------------- */

bool os_hosted_sniff(const char *path, mmu_glue_isa *isa, char *err,
                     size_t errlen)
{
    unsigned char h[20];
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        snprintf(err, errlen, "is a directory");
        return false;
    }
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, errlen, "cannot open: %s", strerror(errno));
        return false;
    }
    size_t n = fread(h, 1, sizeof h, f);
    fclose(f);
    if (n < sizeof h || memcmp(h,
                               "\x7f"
                               "ELF",
                               4) != 0) {
        snprintf(err, errlen, "not an ELF file");
        return false;
    }
    unsigned machine = h[18] | (unsigned)h[19] << 8;
    if (h[4] != 2 || h[5] != 1) {
        snprintf(err, errlen,
                 "not a 64-bit little-endian ELF "
                 "(class %u, data %u)",
                 h[4], h[5]);
        return false;
    }
    if (machine == ELF_EM_X86_64)
        *isa = MMU_GLUE_X86_64;
    else if (machine == ELF_EM_RISCV)
        *isa = MMU_GLUE_RV64;
    else {
        snprintf(err, errlen,
                 "ELF machine %u is neither x86-64 (62) nor "
                 "RISC-V (243)",
                 machine);
        return false;
    }
    return true;
}

/* ---- callbacks of the process ----------------------------------------- */

/* A PTE lost rights or went away: Unicorn's TLB may still hold it (the
 * process already fenced the model TLB, see linux.h). */
static void pte_hook(void *arg, uint64_t va, uint64_t len, os_pte_change what)
{
    run_machine *m = arg;
    (void)va, (void)len;
    if (what == OS_PTE_CHANGED || what == OS_PTE_REMOVED) {
        mmu_glue_host_changed(m->g);
        m->flush_pending = true;
    }
}

static int set_tls(void *arg, int which, uint64_t base)
{
    run_machine *m = arg;
    mmu_glue_user_set_tls(m->g, which, base);
    return 0;
}

static int get_tls(void *arg, int which, uint64_t *base)
{
    run_machine *m = arg;
    *base = mmu_glue_user_tls(m->g, which);
    return 0;
}

static void report_line(void *arg, const char *msg)
{
    run_machine *m = arg;
    fprintf(m->diag, "mmuemu: %s\n", msg);
}

/* ---- system calls ------------------------------------------------------ */

static void resume_at(run_machine *m, uint64_t pc);

static uint64_t sigreturn_nr(const run_machine *m)
{
    return m->x86 ? RUN_X86_RT_SIGRETURN : RUN_RV_RT_SIGRETURN;
}

static void ended(run_machine *m)
{
    os_proc_exit st;
    os_proc_exit_state(m->p, &st);
    if (st.exited) {
        m->exited = true;
        m->status = st.status;
    }
}

/* Run c (not rt_sigreturn) and set its result. @return the flags. */
static uint32_t run_call(run_machine *m, const mmu_user_call *c)
{
    m->repeats = 0; /* the guest made progress */
    m->call_signal = false;
    os_sysret sr;
    memset(&sr, 0, sizeof sr);
    /* Alone, a call that would block blocks on the host (and a wait for a
     * signal nobody can send ends the process); with another process to
     * run it reports BLOCKED and the scheduler runs that one. */
    os_proc_set_may_block(m->p, run_runnable_tasks(m) > 1);
    os_syscall(m->p, c->nr, c->arg, &sr);
    if (sr.flags & OS_SYSRET_BLOCKED) {
        m->tasks[m->cur].waiting = true;
        return sr.flags;
    }
    run_progress(m);
    run_sweep_reaped(m);
    if (sr.flags & OS_SYSRET_EXITED) {
        m->exited = true;
        m->status = sr.exit_status;
        os_proc_exit st;
        os_proc_exit_state(m->p, &st);
        if (st.signo != 0) { /* the default action of a raised signal */
            memset(&m->sig, 0, sizeof m->sig);
            m->sig.signo = st.signo;
            m->sig.from_call = true;
            m->sig.ev.pc = c->pc;
            run_report_exit_signal(m);
        }
        return sr.flags;
    }
    if (sr.flags & OS_SYSRET_EXEC) { /* no result: a new program */
        m->exec_pending = true;
        m->exec_pc = sr.entry_pc;
        m->exec_sp = sr.entry_sp;
        return sr.flags;
    }
    mmu_glue_user_set_result(m->g, c, (uint64_t)sr.ret);
    if (sr.flags & OS_SYSRET_FORK)
        run_add_child(m, &sr, c);
    m->call_signal = (sr.flags & OS_SYSRET_SIGNAL) != 0;
    return sr.flags;
}

/* x86: inside SYSCALL. @return true to go on. */
static bool x86_call(mmu_glue *g, const mmu_user_call *c, void *arg)
{
    run_machine *m = arg;
    (void)g;
    m->call = *c;
    if (c->nr == sigreturn_nr(m)) {
        m->pending = RUN_CALL;
        m->call_done = false;
        return false;
    }
    m->flush_pending = false;
    uint32_t fl = run_call(m, c);
    /* Unicorn's TLB must not outlive a PTE that lost rights or changed
     * frame (munmap, mprotect, and a copy-on-write done by the kernel side
     * of the call): the run loop flushes it before the vCPU goes on. */
    if (!m->flush_pending &&
        !(fl & (OS_SYSRET_EXITED | OS_SYSRET_TLB_FLUSH | OS_SYSRET_TLS |
                OS_SYSRET_SIGNAL | OS_SYSRET_BLOCKED | OS_SYSRET_EXEC |
                OS_SYSRET_VFORK)))
        return true;
    m->pending = RUN_CALL;
    m->call_done = true;
    m->hook_stops++;
    return false;
}

/* ---- exceptions -------------------------------------------------------- */

static void raise_sig(run_machine *m, const mmu_glue_event *ev, int signo,
                      int code, uint64_t addr)
{
    memset(&m->sig, 0, sizeof m->sig);
    m->sig.signo = signo;
    m->sig.code = code;
    m->sig.addr = addr;
    m->sig.ev = *ev;
    m->pending = RUN_SIGNAL;
}

/* x86 exceptions as arch/x86/kernel/traps.c turns them into signals. */
static void x86_cpu_signal(run_machine *m, const mmu_glue_event *ev)
{
    switch (ev->fault.vector) {
    case 0: /* #DE */
        raise_sig(m, ev, RUN_SIGFPE, RUN_FPE_INTDIV, ev->pc);
        return;
    case 1: /* #DB */
    case 3: /* #BP: SI_KERNEL */
        raise_sig(m, ev, RUN_SIGTRAP, OS_SI_KERNEL, 0);
        return;
    case 6: /* #UD */
        raise_sig(m, ev, RUN_SIGILL, RUN_ILL_ILLOPN, ev->pc);
        return;
    case 16: /* #MF */
    case 19: /* #XM */
        raise_sig(m, ev, RUN_SIGFPE, RUN_FPE_FLTINV, ev->pc);
        return;
    case 17: /* #AC */
        raise_sig(m, ev, OS_SIGBUS, RUN_BUS_ADRALN, ev->fault.addr);
        return;
    case 12: /* #SS */
        raise_sig(m, ev, OS_SIGBUS, OS_SI_KERNEL, 0);
        return;
    default: /* #GP and the rest: SIGSEGV, SI_KERNEL, address 0 */
        raise_sig(m, ev, OS_SIGSEGV, OS_SI_KERNEL, 0);
        return;
    }
}

/* RISC-V causes as arch/riscv/kernel/traps.c turns them into signals. */
static void rv_cpu_signal(run_machine *m, const mmu_glue_event *ev)
{
    switch (ev->fault.code) {
    case 2: /* illegal instruction */
        raise_sig(m, ev, RUN_SIGILL, RUN_ILL_ILLOPC, ev->pc);
        return;
    case 3: /* breakpoint */
        raise_sig(m, ev, RUN_SIGTRAP, RUN_TRAP_BRKPT, ev->pc);
        return;
    case 0: /* misaligned fetch, load, store */
    case 4:
    case 6:
        raise_sig(m, ev, OS_SIGBUS, RUN_BUS_ADRALN, ev->fault.addr);
        return;
    default: /* access faults, and ECALLs from above U (none here) */
        raise_sig(m, ev, OS_SIGSEGV, OS_SEGV_ACCERR, ev->fault.addr);
        return;
    }
}

static mmu_glue_action page_fault(run_machine *m, const mmu_glue_event *ev)
{
    os_fault_outcome out;
    memset(&out, 0, sizeof out);
    os_fault_result r =
        os_proc_handle_fault(m->p, ev->fault.addr, ev->access,
                             ev->priv == (m->x86 ? 3 : 0), &ev->fault, &out);
    if (m->cfg->trace_faults)
        run_trace_fault(m, ev, &out);
    /* A handled fault that comes straight back, again and again, is a
     * model or OS bug: end the process rather than spin. */
    bool same =
        ev->pc == m->last_fault_pc && ev->fault.addr == m->last_fault_addr;
    m->repeats = same ? m->repeats + 1 : 0;
    m->last_fault_pc = ev->pc;
    m->last_fault_addr = ev->fault.addr;
    if (r == OS_FAULT_HANDLED && m->repeats < RUN_MAX_REPEATS)
        return MMU_GLUE_RETRY;
    if (r == OS_FAULT_HANDLED) {
        out.result = OS_FAULT_FATAL;
        out.why = "the same fault keeps coming back after being handled";
        os_proc_kill(m->p, OS_SIGKILL);
        r = OS_FAULT_FATAL;
    }
    if (r == OS_FAULT_SIGNAL)
        raise_sig(m, ev, out.signo, out.si_code, out.si_addr);
    else
        raise_sig(m, ev, OS_SIGKILL, 0, ev->fault.addr);
    m->sig.fault = out;
    m->sig.from_fault = true;
    return MMU_GLUE_STOP;
}

static mmu_glue_action handler(mmu_glue *g, const mmu_glue_event *ev, void *arg)
{
    run_machine *m = arg;
    if (ev->source == MMU_GLUE_FROM_MODEL ||
        (ev->fault.kind == MMU_FAULT_PAGE && m->x86))
        return page_fault(m, ev);
    if (mmu_glue_user_call(g, ev, &m->call)) {
        m->pending = RUN_CALL;
        m->call_done = false;
        return MMU_GLUE_STOP;
    }
    if (m->x86)
        x86_cpu_signal(m, ev);
    else
        rv_cpu_signal(m, ev);
    return MMU_GLUE_STOP;
}

/* ---- the machine ------------------------------------------------------- */

static bool inside(const char *dir, const char *path, const char **rest)
{
    size_t n = strlen(dir);
    if (strcmp(dir, "/") == 0) {
        *rest = path;
        return true;
    }
    if (strncmp(dir, path, n) != 0 || (path[n] != '/' && path[n] != '\0'))
        return false;
    *rest = path[n] ? path + n : "/";
    return true;
}

/* The guest's view of the executable and of the working directory: the
 * host paths relative to the sysroot when inside it. */
typedef struct run_paths {
    char root[PATH_MAX], exe[PATH_MAX], cwd[PATH_MAX];
    const char *exe_guest, *cwd_guest;
} run_paths;

static void guest_paths(const os_hosted_config *cfg, run_paths *rp)
{
    const char *sysroot = cfg->sysroot ? cfg->sysroot : "/";
    rp->exe_guest = NULL;
    rp->cwd_guest = "/";
    if (realpath(sysroot, rp->root) == NULL)
        return;
    if (realpath(cfg->elf_path, rp->exe) != NULL &&
        !inside(rp->root, rp->exe, &rp->exe_guest))
        rp->exe_guest = NULL;
    if (getcwd(rp->cwd, sizeof rp->cwd) != NULL &&
        !inside(rp->root, rp->cwd, &rp->cwd_guest))
        rp->cwd_guest = "/";
}

static int setup(run_machine *m, char *err, size_t errlen)
{
    const os_hosted_config *cfg = m->cfg;
    mmu_glue_config gc = {
        .isa = cfg->isa,
        .ram_base = m->x86 ? X86_RAM_BASE : RV_RAM_BASE,
        .ram_size = cfg->ram_size ? cfg->ram_size : DEFAULT_RAM,
        .tlb = cfg->tlb,
        .cpu_model = -1,
    };
    char why[200];
    m->g = mmu_glue_new(&gc, why, sizeof why);
    if (m->g == NULL) {
        snprintf(err, errlen, "cannot create the vCPU: %s", why);
        return OS_HOSTED_EXIT_EMULATOR;
    }
    mmu_phys *mem = mmu_glue_mem(m->g);
    os_layout lay;
    if (os_frames_init(&m->frames, mem, mem->base, mem->size) != 0 ||
        os_layout_init(&lay, m->x86 ? MMU_MODE_X86_4LEVEL : MMU_MODE_SV39) !=
            0) {
        snprintf(err, errlen, "cannot set up guest RAM");
        return OS_HOSTED_EXIT_EMULATOR;
    }
    m->frames_ok = true;
    if (os_kernel_init(&m->k, mem, &m->frames, &lay, why, sizeof why) != 0) {
        snprintf(err, errlen, "kernel half: %s", why);
        return OS_HOSTED_EXIT_EMULATOR;
    }
    m->kernel_ok = true;
    uint64_t desc_pa = 0;
    if (m->x86 && os_frames_alloc(&m->frames, OS_FRAME_PGTABLE, &desc_pa)) {
        snprintf(err, errlen, "no frame for the GDT");
        return OS_HOSTED_EXIT_EMULATOR;
    }
    if (!mmu_glue_user_init(m->g, desc_pa, os_kernel_direct_va(&m->k, desc_pa),
                            x86_call, m, why, sizeof why)) {
        snprintf(err, errlen, "user mode: %s", why);
        return OS_HOSTED_EXIT_EMULATOR;
    }
    return 0;
}

static int create_process(run_machine *m, char *err, size_t errlen)
{
    const os_hosted_config *cfg = m->cfg;
    run_paths rp;
    guest_paths(cfg, &rp);
    os_proc_config pc;
    os_proc_config_default(&pc);
    pc.abi = m->abi;
    pc.sysroot = cfg->sysroot ? cfg->sysroot : "/";
    pc.sysroot_writable = cfg->writable;
    pc.cwd = rp.cwd_guest;
    pc.argv = cfg->argv;
    pc.envp = cfg->envp;
    pc.exe_guest_path = rp.exe_guest;
    pc.uid = (uint32_t)getuid();
    pc.gid = (uint32_t)getgid();
    pc.deterministic = cfg->deterministic;
    pc.random_seed = cfg->deterministic ? 0 : (uint64_t)getpid() * 2654435761u;
    pc.arch = (os_arch_ops){.arg = m, .set_tls = set_tls, .get_tls = get_tls};
    pc.pte_hook = pte_hook;
    pc.pte_hook_arg = m;
    pc.report = report_line;
    pc.report_arg = m;
    if (cfg->trace_faults) {
        pc.kfault_trace = run_trace_kfault;
        pc.kfault_trace_arg = m;
    }
    mmu_ctx *ctx = mmu_glue_mmu(m->g);
    os_proc_entry entry;
    char why[256];
    int rc = os_proc_create(&pc, &m->k, ctx, cfg->elf_path, &m->p, &entry, why,
                            sizeof why);
    if (rc != 0) {
        snprintf(err, errlen, "%s", why);
        return rc == -OS_ENOEXEC || rc == -OS_ENOENT || rc == -OS_EACCES ||
                       rc == -OS_EIO || rc == -OS_E2BIG
                   ? OS_HOSTED_EXIT_BAD_INPUT
                   : OS_HOSTED_EXIT_EMULATOR;
    }
    m->tasks = calloc(1, sizeof *m->tasks);
    if (m->tasks == NULL) {
        snprintf(err, errlen, "out of memory");
        return OS_HOSTED_EXIT_EMULATOR;
    }
    m->tasks[0].p = m->p;
    m->ntasks = 1;
    m->root = m->p;
    m->root_status = 0;
    run_claim_tag(m, os_proc_aspace(m->p), true);
    mmu_glue_user_enter(m->g, &entry.mmu, entry.pc, entry.sp);
    mmu_glue_set_handler(m->g, handler, m);
    return 0;
}

static void teardown(run_machine *m)
{
    for (size_t i = 0; i < m->ntasks; i++)
        if (m->tasks[i].p != m->root)
            os_proc_destroy(m->tasks[i].p);
    free(m->tasks);
    if (m->root != NULL)
        os_proc_destroy(m->root);
    else if (m->p != NULL)
        os_proc_destroy(m->p);
    if (m->kernel_ok)
        os_kernel_destroy(&m->k);
    if (m->frames_ok)
        os_frames_destroy(&m->frames);
    mmu_glue_free(m->g);
}

/* ---- the run loop ------------------------------------------------------ */

/* Move the vCPU to pc (RISC-V: past the ECALL). */
static void resume_at(run_machine *m, uint64_t pc)
{
    mmu_user_regs r;
    mmu_glue_user_get_regs(m->g, &r);
    r.pc = pc;
    mmu_glue_user_set_regs(m->g, &r);
}

/* A system call stop: run or finish the call, then whatever it asked
 * for (a switch, an exec, a vfork, signals to deliver). */
static void settle_call(run_machine *m)
{
    if (m->call.nr == sigreturn_nr(m) && !m->call_done) {
        m->sigreturns++;
        if (!run_sigreturn(m)) {
            memset(&m->sig, 0, sizeof m->sig);
            m->sig.signo = OS_SIGSEGV;
            m->sig.code = OS_SI_KERNEL;
            run_die(m, OS_SIGSEGV);
            return;
        }
        /* the restored mask may unblock a pending signal */
        run_take_signals(m);
        return;
    }
    if (!m->call_done)
        run_call(m, &m->call);
    if (m->tasks[m->cur].waiting) { /* the call would block */
        run_block_switch(m);
        return;
    }
    if (m->exited)
        return;
    if (!m->x86) /* the vCPU goes on after the ECALL */
        resume_at(m, m->call.next_pc);
    if (run_exec_or_vfork(m))
        return;
    if (m->call_signal) {
        m->call_signal = false;
        m->tasks[m->cur].regs.pc = m->call.next_pc;
        run_take_signals(m);
    }
}

/* What the stop asked for. */
static void settle(run_machine *m)
{
    run_pending what = m->pending;
    m->pending = RUN_NONE;
    switch (what) {
    case RUN_CALL:
        settle_call(m);
        return;
    case RUN_SIGNAL:
        ended(m);
        if (m->exited) { /* the fault handler already killed it (OOM) */
            os_proc_exit st;
            os_proc_exit_state(m->p, &st);
            if (st.signo != 0)
                m->sig.signo = st.signo;
            run_report_death(m);
            return;
        }
        run_deliver_or_die(m);
        return;
    case RUN_RESUME:
    case RUN_NONE:
        return;
    }
}

/* The time slice while another task can run; none while one runs alone
 * (the slice hook is not even installed until a second task exists). */
static void set_slice(run_machine *m)
{
    uint64_t slice = m->cfg->slice ? m->cfg->slice : RUN_DEFAULT_SLICE;
    if (run_runnable_tasks(m) > 1 || m->slice_on) {
        m->slice_on = true;
        mmu_glue_set_slice(m->g, run_runnable_tasks(m) > 1 ? slice : 0);
    }
}

static int run_loop(run_machine *m)
{
    for (;;) {
        set_slice(m);
        mmu_glue_result res;
        mmu_glue_run(m->g, UINT64_MAX, 0, &res);
        if (res.stop == MMU_GLUE_STOP_SLICE) {
            run_preempt(m);
        } else {
            bool ours = (res.stop == MMU_GLUE_STOP_EXIT ||
                         res.stop == MMU_GLUE_STOP_HANDLER) &&
                        m->pending != RUN_NONE;
            if (!ours) {
                run_report_emulator(m, &res);
                return OS_HOSTED_EXIT_EMULATOR;
            }
            settle(m);
        }
        if (m->exited)
            run_task_exited(m);
        if (m->done) {
            m->p = m->root; /* the statistics are the first process's */
            m->status = m->root_status;
            return m->root_status;
        }
    }
}

int os_hosted_run(const os_hosted_config *cfg, char *err, size_t errlen)
{
    run_machine m;
    memset(&m, 0, sizeof m);
    m.cfg = cfg;
    m.diag = cfg->diag ? cfg->diag : stderr;
    if (cfg->isa != MMU_GLUE_X86_64 && cfg->isa != MMU_GLUE_RV64) {
        snprintf(err, errlen,
                 "only riscv64 and x86_64 Linux programs run "
                 "hosted");
        return OS_HOSTED_EXIT_BAD_INPUT;
    }
    /* A guest writing to a pipe nobody reads gets EPIPE and its own
     * SIGPIPE from the syscall layer; the host process must not die of
     * it instead. */
    run_ignore_sigpipe();
    m.x86 = cfg->isa == MMU_GLUE_X86_64;
    m.abi = m.x86 ? OS_ABI_X86_64 : OS_ABI_RISCV64;
    int rc = setup(&m, err, errlen);
    if (rc == 0)
        rc = create_process(&m, err, errlen);
    if (rc == 0) {
        rc = run_loop(&m);
        if (cfg->stats)
            run_print_stats(&m);
    }
    teardown(&m);
    return rc;
}
