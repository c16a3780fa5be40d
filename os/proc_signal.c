/*
 * proc_signal.c - signals between processes (kernel/signal.c, exit.c):
 * generation (kill, SIGPIPE, SIGCHLD at a child's exit), the pending set,
 * and what the runner takes off it when the process is about to run.
 *
 * Linux's rules kept here: a signal whose action is to ignore it, and
 * that is not blocked, is dropped when it is sent; a blocked one stays
 * pending (standard signals do not queue: one of each); SIGKILL, and a
 * signal whose default action terminates, kill the target at once when it
 * is not blocked (complete_signal's fatal path), even while it sleeps in
 * a system call; everything else waits until the target next returns to
 * user mode, where the runner delivers it to the handler. Stop signals
 * and SIGCONT have nobody to stop for (no job control): their default is
 * to ignore them. A child's exit sends its parent SIGCHLD with the exit
 * code; with SIGCHLD ignored (or SA_NOCLDWAIT) the child is reaped at
 * once, as Linux does, and wait then finds no child.
 */
#include "proc_internal.h"

#include <string.h>

#define L_SIGKILL      9
#define L_SIGCHLD      17
#define L_SIG_DFL      0
#define L_SIG_IGN      1
#define L_SA_NOCLDWAIT 2u
#define L_CLD_EXITED   1
#define L_CLD_KILLED   2

static uint64_t sigbit(int sig)
{
    return UINT64_C(1) << (sig - 1);
}

bool proc_sig_default_ignored(int sig)
{
    switch (sig) {
    case 17: /* SIGCHLD */
    case 18: /* SIGCONT */
    case 19: /* SIGSTOP */
    case 20: /* SIGTSTP */
    case 21: /* SIGTTIN */
    case 22: /* SIGTTOU */
    case 23: /* SIGURG */
    case 28: /* SIGWINCH */
        return true;
    default:
        return false;
    }
}

static bool ignored(const os_proc *t, int sig)
{
    uint64_t h = t->sig[sig - 1].handler;
    return h == L_SIG_IGN || (h == L_SIG_DFL && proc_sig_default_ignored(sig));
}

static bool fatal_default(const os_proc *t, int sig)
{
    return sig == L_SIGKILL ||
           (t->sig[sig - 1].handler == L_SIG_DFL &&
            !proc_sig_default_ignored(sig) && !(t->sigmask & sigbit(sig)));
}

/* ---- the process registry ------------------------------------------ */

void proc_register(os_proc *p)
{
    p->next_proc = p->k->procs;
    p->k->procs = p;
}

void proc_unregister(os_proc *p)
{
    for (os_proc **pp = &p->k->procs; *pp != NULL; pp = &(*pp)->next_proc)
        if (*pp == p) {
            *pp = p->next_proc;
            return;
        }
}

os_proc *proc_find(os_kernel *k, int pid)
{
    for (os_proc *q = k->procs; q != NULL; q = q->next_proc)
        if (q->pid == pid && !q->reaped)
            return q;
    return NULL;
}

/* ---- generation ---------------------------------------------------- */

int proc_send(os_proc *t, int sig, const os_siginfo *info)
{
    if (sig < 1 || sig > L_NSIG)
        return -OS_EINVAL;
    if (t->exit.exited)
        return 0; /* a zombie takes nothing (but exists for kill) */
    bool blocked = sig != L_SIGKILL && (t->sigmask & sigbit(sig));
    if (!blocked && ignored(t, sig))
        return 0;
    if (fatal_default(t, sig)) {
        proc_exit(t, 128 + sig, sig, NULL);
        return 0;
    }
    if (!(t->sigpending & sigbit(sig))) { /* standard signals do not queue */
        t->sigpending |= sigbit(sig);
        t->siginfo[sig - 1] = *info;
        t->siginfo[sig - 1].signo = sig;
    }
    return 0;
}

void proc_raise(os_proc *p, int sig, os_sysret *out)
{
    os_siginfo info = {.signo = sig,
                       .code = OS_SI_USER,
                       .pid = p->pid,
                       .uid = p->cfg.uid};
    proc_send(p, sig, &info);
    if (p->exit.exited && out != NULL) {
        out->flags |= OS_SYSRET_EXITED;
        out->exit_status = p->exit.status;
    }
}

/* The parent learns that child ended (do_notify_parent). */
void proc_notify_parent(os_proc *child)
{
    os_proc *parent = child->parent;
    if (parent == NULL) { /* an orphan: init reaps it */
        child->reaped = true;
        return;
    }
    const os_sigaction *sa = &parent->sig[L_SIGCHLD - 1];
    if (sa->handler == L_SIG_IGN || (sa->flags & L_SA_NOCLDWAIT)) {
        proc_unlink(child); /* reaped at once: wait finds no child */
        child->reaped = true;
        if (sa->handler == L_SIG_IGN)
            return;
    }
    os_siginfo info = {
        .signo = L_SIGCHLD,
        .code = child->exit.signo ? L_CLD_KILLED : L_CLD_EXITED,
        .pid = child->pid,
        .uid = child->cfg.uid,
        .status = child->exit.signo ? child->exit.signo
                                    : child->exit.status & 0xff,
    };
    proc_send(parent, L_SIGCHLD, &info);
}

/* ---- delivery ------------------------------------------------------ */

static uint64_t deliverable(const os_proc *p)
{
    return p->sigpending & ~p->sigmask;
}

bool os_proc_signal_pending(const os_proc *p)
{
    return !p->exit.exited && deliverable(p) != 0;
}

int os_proc_next_signal(os_proc *p, os_siginfo *info)
{
    while (!p->exit.exited && deliverable(p) != 0) {
        uint64_t set = deliverable(p);
        int sig = __builtin_ctzll(set) + 1;
        p->sigpending &= ~sigbit(sig);
        *info = p->siginfo[sig - 1];
        if (ignored(p, sig)) /* the action changed since it was sent */
            continue;
        if (p->sig[sig - 1].handler == L_SIG_DFL) {
            proc_exit(p, 128 + sig, sig, NULL);
            return 0;
        }
        return sig;
    }
    return 0;
}

uint64_t os_proc_pending_signals(const os_proc *p)
{
    return p->sigpending;
}

void proc_wait_with_mask(os_proc *p, uint64_t set)
{
    if (!p->has_saved_mask) {
        p->saved_mask = p->sigmask;
        p->has_saved_mask = true;
    }
    p->sigmask = set & ~L_SIG_UNBLOCKABLE;
}

uint64_t os_proc_take_saved_mask(os_proc *p)
{
    if (!p->has_saved_mask)
        return p->sigmask;
    p->has_saved_mask = false;
    return p->saved_mask;
}

void os_proc_restore_saved_mask(os_proc *p)
{
    if (p->has_saved_mask) {
        p->sigmask = p->saved_mask;
        p->has_saved_mask = false;
    }
}

void os_proc_call_interrupted(os_proc *p)
{
    p->sleep_deadline = 0; /* the next sleep or poll starts afresh */
    p->pollw.active = false;
}

uint64_t os_proc_sigpage(const os_proc *p)
{
    return p->mm != NULL ? p->mm->sigpage : 0;
}

void os_proc_set_sigpage(os_proc *p, uint64_t va)
{
    if (p->mm != NULL)
        p->mm->sigpage = va;
}

/* Calls a handler interrupts for good (-EINTR even with SA_RESTART):
 * Linux's ERESTARTNOHAND and ERESTART_RESTARTBLOCK ones, among the calls
 * that can block here. */
bool os_proc_call_restartable(const os_proc *p, uint64_t nr)
{
    static const sys_fn never[] = {sys_rt_sigsuspend, sys_pause,
                                   sys_nanosleep,     sys_clock_nanosleep,
                                   sys_poll,          sys_ppoll};
    const sys_entry *e = sys_lookup(p, nr);
    if (e == NULL)
        return false;
    for (size_t i = 0; i < sizeof never / sizeof never[0]; i++)
        if (e->fn == never[i])
            return false;
    return true;
}
