/*
 * run_sched.c - the hosted runner's scheduler: the processes (tasks) that
 * share the one vCPU, switching between them, exec and vfork hand-overs,
 * and the asynchronous signals a task takes when it is about to run.
 *
 * Round robin over runnable tasks: a task runs until it blocks in a system
 * call (it re-issues the call when it runs again), exits, vforks (it waits
 * for its child's exec or exit), or its time slice of guest instructions
 * runs out (mmu_glue_set_slice, only while another task can run). A switch
 * loads the new root the architectural way: MOV CR3 (x86; PCID is hidden
 * from guests, so the model TLB's non-global entries go, as on hardware),
 * CSRW satp with the process's own ASID (RISC-V: other processes' entries
 * stay in the model TLB and are simply not matched).
 *
 * Signals sent by other processes (proc_signal.c) wait in the target's
 * pending set; when the target is about to run they are delivered as
 * Linux's exit-to-user-mode loop does: each deliverable one with a
 * handler gets a frame (the last one's handler runs first). A task blocked
 * in a call is woken: with SA_RESTART and a restartable call the handler
 * returns into the call again (ERESTARTSYS), otherwise the call returns
 * -EINTR first.
 */
#define _POSIX_C_SOURCE 200809L
#include "run_internal.h"

#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RV_REG_SP 2
#define RV_REG_A0 10
#define SA_RESTART UINT64_C(0x10000000)
#define RUN_EINTR  INT64_C(4)

/* ---- the task list ---------------------------------------------------- */

static bool runnable(const run_task *t)
{
    return !t->zombie && !t->vfork_wait;
}

size_t run_runnable_tasks(const run_machine *m)
{
    size_t n = 0;
    for (size_t i = 0; i < m->ntasks; i++)
        n += runnable(&m->tasks[i]);
    return n;
}

/* The vfork child t let go of its parent's memory (exec or exit): the
 * parent runs again. */
static void vfork_release(run_machine *m, run_task *t)
{
    if (t->vfork_parent == NULL)
        return;
    for (size_t i = 0; i < m->ntasks; i++)
        if (m->tasks[i].p == t->vfork_parent)
            m->tasks[i].vfork_wait = false;
    t->vfork_parent = NULL;
}

/* Tasks whose process ended while another ran (killed by a signal it was
 * sent) become zombies. */
static void mark_dead(run_machine *m)
{
    for (size_t i = 0; i < m->ntasks; i++) {
        run_task *t = &m->tasks[i];
        os_proc_exit st;
        os_proc_exit_state(t->p, &st);
        if (st.exited && !t->zombie) {
            t->zombie = true;
            vfork_release(m, t);
            if (t->p == m->root)
                m->root_status = st.status;
        }
    }
}

void run_sweep_reaped(run_machine *m)
{
    for (size_t i = 0; i < m->ntasks;) {
        run_task *t = &m->tasks[i];
        if (i == m->cur || t->p == m->root || !os_proc_reaped(t->p)) {
            i++;
            continue;
        }
        os_proc_destroy(t->p);
        memmove(&m->tasks[i], &m->tasks[i + 1],
                (m->ntasks - i - 1) * sizeof m->tasks[0]);
        m->ntasks--;
        if (m->cur > i)
            m->cur--;
    }
}

/* The running task's registers (pc: where it goes on; UINT64_MAX: where
 * the vCPU is). */
static void save_task(run_machine *m, run_task *t, uint64_t pc)
{
    mmu_glue_user_get_regs(m->g, &t->regs);
    if (pc != UINT64_MAX)
        t->regs.pc = pc;
    if (m->x86) {
        t->tls[0] = mmu_glue_user_tls(m->g, OS_TLS_FS);
        t->tls[1] = mmu_glue_user_tls(m->g, OS_TLS_GS);
    }
}

void run_add_child(run_machine *m, const os_sysret *sr, const mmu_user_call *c)
{
    os_proc *child = sr->child;
    run_task *n = realloc(m->tasks, (m->ntasks + 1) * sizeof *n);
    if (n == NULL) { /* cannot run it: it dies at once */
        os_proc_kill(child, OS_SIGKILL);
        return;
    }
    m->tasks = n;
    run_task *t = &m->tasks[m->ntasks++];
    memset(t, 0, sizeof *t);
    t->p = child;
    save_task(m, t, c->next_pc);
    t->regs.gpr[m->x86 ? MMU_USER_X86_RAX : RV_REG_A0] = 0;
    if (sr->child_sp != 0)
        t->regs.gpr[m->x86 ? MMU_USER_X86_RSP : RV_REG_SP] = sr->child_sp;
    if (sr->flags & OS_SYSRET_VFORK) {
        t->vfork_parent = m->p;
        m->tasks[m->cur].vfork_wait = true;
        m->vfork_pending = true;
    }
}

/* as is about to run with its tag: the model TLB keeps the tag's entries
 * if as was the last space to use it (Linux's MOV CR3 with bit 63 set /
 * satp without a fence), else they go (a MOV CR3 without bit 63 / an
 * SFENCE.VMA for the ASID). Slots may collide: then a flush too many. */
void run_claim_tag(run_machine *m, const os_aspace *as, bool fresh)
{
    mmu_ctx *ctx = mmu_glue_mmu(m->g);
    size_t slot = as->tag % RUN_TAG_SLOTS;
    bool mine = m->tag_owner[slot].tag == as->tag &&
                m->tag_owner[slot].as_id == as->id;
    if (ctx->tlb != NULL && (fresh || !mine)) {
        mmu_tlb_flush_tag(ctx->tlb, as->tag);
        m->tag_flushes++;
    }
    m->tag_owner[slot].tag = as->tag;
    m->tag_owner[slot].as_id = as->id;
}

/* Run tasks[idx] on the vCPU: its root in CR3 / satp the architectural
 * way (Unicorn's TLB flushed; the model TLB as run_claim_tag says), then
 * its registers. */
static void load_task(run_machine *m, size_t idx)
{
    run_task *t = &m->tasks[idx];
    const os_aspace *as = os_proc_aspace(t->p);
    mmu_glue_user_set_root(m->g, os_aspace_root_reg(as));
    run_claim_tag(m, as, false);
    mmu_glue_user_set_regs(m->g, &t->regs);
    if (m->x86) {
        mmu_glue_user_set_tls(m->g, OS_TLS_FS, t->tls[0]);
        mmu_glue_user_set_tls(m->g, OS_TLS_GS, t->tls[1]);
    }
    if (idx != m->cur)
        m->switches++;
    m->cur = idx;
    m->p = t->p;
}

/* The next runnable task after the running one (round robin), the
 * running one if it is the only one, or SIZE_MAX if none is left. */
static size_t next_task(const run_machine *m)
{
    for (size_t k = 1; k <= m->ntasks; k++) {
        size_t i = (m->cur + k) % m->ntasks;
        if (runnable(&m->tasks[i]))
            return i;
    }
    return SIZE_MAX;
}

/* ---- signals ------------------------------------------------------------ */

/* The registers of a task woken from a blocked call by a signal whose
 * handler runs: back into the call after it (restart), or -EINTR. */
static void interrupt_call(run_machine *m, run_task *t, int signo)
{
    os_sigaction sa;
    bool restart = os_proc_sigaction(t->p, signo, &sa) &&
                   (sa.flags & SA_RESTART) &&
                   os_proc_call_restartable(t->p, t->call.nr);
    t->in_call = false;
    os_proc_call_interrupted(t->p);
    if (restart)
        return; /* pc still at the call, its number and arguments intact */
    mmu_user_regs r;
    mmu_glue_user_get_regs(m->g, &r);
    r.gpr[m->x86 ? MMU_USER_X86_RAX : RV_REG_A0] = (uint64_t)-RUN_EINTR;
    r.pc = t->call.next_pc;
    mmu_glue_user_set_regs(m->g, &r);
    m->eintr++;
}

/* Deliver the running task's deliverable signals (it is about to run
 * from where its registers say). @return false if it died of one. */
static bool take_signals(run_machine *m)
{
    run_task *t = &m->tasks[m->cur];
    while (os_proc_signal_pending(m->p)) {
        os_siginfo info;
        int signo = os_proc_next_signal(m->p, &info);
        if (signo == 0)
            break; /* ignored ones dropped, or a default action killed */
        if (t->in_call)
            interrupt_call(m, t, signo);
        memset(&m->sig, 0, sizeof m->sig);
        m->sig.signo = signo;
        m->sig.code = info.code;
        m->sig.sender = true;
        m->sig.pid = info.pid;
        m->sig.uid = info.uid;
        m->sig.status = info.status;
        m->sig.from_call = true;
        m->sig.ev.pc = t->regs.pc;
        m->sig.ev.priv = m->x86 ? 3 : 0;
        run_deliver_or_die(m);
        if (m->exited)
            return false;
    }
    os_proc_exit st;
    os_proc_exit_state(m->p, &st);
    if (st.exited) { /* the default action of a signal it was sent */
        m->exited = true;
        m->status = st.status;
        return false;
    }
    return true;
}

bool run_take_signals(run_machine *m)
{
    return take_signals(m);
}

/* ---- switching ---------------------------------------------------------- */

/* Run the next runnable task after the current one, delivering its
 * signals; tasks that die of them are passed over. @return false when no
 * task is left to run. */
static bool switch_next(run_machine *m)
{
    for (;;) {
        mark_dead(m);
        size_t i = next_task(m);
        if (i == SIZE_MAX)
            return false;
        load_task(m, i);
        bool alive = take_signals(m);
        /* a call still blocked is re-issued by the vCPU from here on */
        m->tasks[m->cur].in_call = false;
        if (alive)
            return true;
        run_task_exited(m);
        if (m->done)
            return false;
    }
}

bool run_switch(run_machine *m)
{
    bool ok = switch_next(m);
    if (!ok)
        m->done = true;
    return ok;
}

void run_preempt(run_machine *m)
{
    m->preemptions++;
    run_progress(m);
    save_task(m, &m->tasks[m->cur], UINT64_MAX);
    run_switch(m);
}

void run_progress(run_machine *m)
{
    for (size_t i = 0; i < m->ntasks; i++)
        m->tasks[i].waiting = false;
}

/* Is every runnable process blocked in a call (none can make progress
 * until a host fd, a deadline or another process's action)? Each has
 * re-issued its call since the last progress (run_progress) and blocked
 * again. */
static bool all_waiting(const run_machine *m)
{
    for (size_t i = 0; i < m->ntasks; i++)
        if (runnable(&m->tasks[i]) && !m->tasks[i].waiting)
            return false;
    return true;
}

/* Every runnable process is blocked: sleep on the host until one of the
 * fds they wait for is ready or the earliest deadline passes (Linux's
 * idle loop). Nothing to wait for at all: they wait for each other. */
static void idle(run_machine *m)
{
    struct pollfd pf[64];
    nfds_t n = 0;
    uint64_t earliest = 0;
    bool more = false;
    for (size_t i = 0; i < m->ntasks; i++) {
        run_task *t = &m->tasks[i];
        if (!runnable(t) || !t->waiting)
            continue;
        os_wait w;
        os_proc_wait_state(t->p, &w);
        for (unsigned k = 0; k < w.nfd; k++) {
            if (n == sizeof pf / sizeof pf[0]) {
                more = true;
                break;
            }
            pf[n++] = (struct pollfd){.fd = w.fd[k], .events = w.events[k]};
        }
        more |= w.more;
        if (w.deadline_ns != 0 && (earliest == 0 || w.deadline_ns < earliest))
            earliest = w.deadline_ns;
    }
    m->idle_waits++;
    if (n == 0 && earliest == 0 && !more) {
        run_deadlock(m);
        return;
    }
    int timeout = -1;
    if (earliest != 0) {
        uint64_t now = os_wait_now_ns();
        uint64_t ms = earliest > now ? (earliest - now + 999999) / 1000000 : 0;
        timeout = ms > 60000 ? 60000 : (int)ms;
    }
    if (more && (timeout < 0 || timeout > 10))
        timeout = 10;
    (void)poll(pf, n, timeout);
}

void run_block_switch(run_machine *m)
{
    run_task *t = &m->tasks[m->cur];
    save_task(m, t, m->call.pc);
    t->in_call = true;
    t->call = m->call;
    if (all_waiting(m)) {
        idle(m);
        if (m->done)
            return;
    }
    run_switch(m); /* the only one: it re-issues the call at once */
}

void run_task_exited(run_machine *m)
{
    run_task *t = &m->tasks[m->cur];
    vfork_release(m, t);
    t->zombie = true;
    t->in_call = false;
    run_progress(m); /* its parent's wait may be over */
    if (t->p == m->root)
        m->root_status = m->status;
    m->exited = false;
    m->status = 0;
    m->pending = RUN_NONE;
    if (run_runnable_tasks(m) == 0)
        m->done = true;
    else
        run_switch(m);
}

/* ---- exec and vfork ----------------------------------------------------- */

/* execve replaced the running task's program: the vCPU enters it as it
 * enters the first program (mmu_glue_user_enter: registers, FS/GS base
 * and FP state as start_thread() leaves them), with the new root; the
 * tag is the process's own, whose entries belonged to the old program. */
static void exec_enter(run_machine *m)
{
    const os_aspace *as = os_proc_aspace(m->p);
    mmu_glue_sync_state(m->g);
    mmu_state st = mmu_glue_mmu(m->g)->st; /* the CPU's, but for the root */
    if (m->x86)
        st.x86.cr3 = os_aspace_root_reg(as);
    else
        st.rv.satp = os_aspace_root_reg(as);
    mmu_glue_user_enter(m->g, &st, m->exec_pc, m->exec_sp);
    run_claim_tag(m, as, true);
    save_task(m, &m->tasks[m->cur], UINT64_MAX);
    vfork_release(m, &m->tasks[m->cur]);
}

bool run_exec_or_vfork(run_machine *m)
{
    if (m->exec_pending) {
        m->exec_pending = false;
        exec_enter(m);
        take_signals(m); /* pending ones survive exec */
        return true;
    }
    if (!m->vfork_pending)
        return false;
    m->vfork_pending = false;
    save_task(m, &m->tasks[m->cur], m->x86 ? UINT64_MAX : m->call.next_pc);
    run_switch(m);
    return true;
}

/* ---- dying -------------------------------------------------------------- */

/* A death worth a report: the first process's, or one the CPU or a fault
 * caused (not a signal another process or a broken pipe sent: Linux says
 * nothing of those, the shell may). */
static bool worth_report(const run_machine *m)
{
    return m->p == m->root || !m->sig.from_call;
}

void run_die(run_machine *m, int signo)
{
    m->sig.signo = signo;
    if (worth_report(m))
        run_report_death(m);
    os_proc_kill(m->p, signo);
    os_proc_exit st;
    os_proc_exit_state(m->p, &st);
    m->exited = true;
    m->status = st.status;
}

void run_deliver_or_die(run_machine *m)
{
    if (m->sig.signo != OS_SIGKILL && run_signal_deliver(m)) {
        m->signals_delivered++;
        return;
    }
    run_die(m, m->sig.signo);
}

void run_deadlock(run_machine *m)
{
    fprintf(m->diag,
            "mmuemu: every process waits for another (a deadlock Linux would "
            "sleep in forever): all killed by SIGKILL\n");
    for (size_t i = 0; i < m->ntasks; i++) {
        run_task *t = &m->tasks[i];
        os_proc_kill(t->p, OS_SIGKILL);
        if (!t->zombie && t->p == m->root)
            m->root_status = 128 + OS_SIGKILL;
        t->zombie = true;
    }
    m->done = true;
}

void run_report_exit_signal(run_machine *m)
{
    if (worth_report(m))
        run_report_death(m);
}
